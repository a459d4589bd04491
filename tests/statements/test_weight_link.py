"""Private weights (issue 16): inference proofs against a hashed registered
commitment (`statements.inference.weights_link`).

* an honest proof verifies and reports the weights hidden;
* a catalogue of attacks by a malicious prover that commits whatever it
  likes in its advice commitment (weights, digests, salt) and may even have
  registered a root computed over a message that is not the honest one;
* the weight-recovery attack: pooled over many proofs, the claims on the
  weights pin them down when the registered commitment is the plain one
  (opened in every proof) and determine nothing when it is the hashed one.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.circuit import encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.errors import ZkauditError
from zkaudit.hash import commitment as hc
from zkaudit.hash.merkle import merkle_root
from zkaudit.layers.tensor import num_vars
from zkaudit.statements.inference import prover as inference_prover
from zkaudit.statements.inference import weights_link as wl
from zkaudit.statements.inference.commitment import hashed_weight_commitment, weight_layouts
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.inference.weights_link_prover import LinkWitness
from zkaudit.statements.verify import verify_proof

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "adversarial"))
from small_circuits import instance, mlp_clip  # noqa: E402

SALT = (123456789, 987654321)


@pytest.fixture(scope="module")
def model():
    circuit, weights, x = instance(mlp_clip, seed=3)
    com, salt = hashed_weight_commitment(circuit, weights, SALT)
    return circuit, weights, x, com.to_bytes()


def _verify(circuit, proof, com):
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)


def test_honest_proof_verifies_and_hides_the_weights(model):
    circuit, weights, x, com = model
    # mlp_clip's bias has range [-3000, 3000]: 13-bit digits, 4 to an element, beside int8 tensors
    assert [t.per_element for t in weight_layouts(circuit)] == [7, 4, 7]
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    verdict = _verify(circuit, proof, com)
    assert verdict.valid, verdict.reason
    assert verdict.privacy["weights_hidden"] is True
    assert verdict.privacy["hidden"][0] == "the weights"
    from zkaudit.cli.verify import privacy_lines

    assert "  weights     hidden (registered Poseidon2 commitment, unlimited proofs)" in privacy_lines(verdict.privacy)
    assert "weight_evaluations_revealed" not in verdict.privacy
    # the same proof is not accepted for another model's root, nor for the plain commitment
    other, _ = hashed_weight_commitment(circuit, weights)
    assert not _verify(circuit, proof, other.to_bytes()).valid
    assert not _verify(circuit, proof, commit_weights(circuit, weights)[0].to_bytes()).valid


def test_a_v1_registered_commitment_still_proves_and_verifies(model):
    circuit, weights, x, _ = model
    layouts = hc.in_scheme(weight_layouts(circuit), hc.SCHEME_V1)
    assert [t.per_element for t in layouts] == [7, 3, 7]  # the bias in whole bytes, as v1 packs it
    v1, _ = hc.commit_weights(layouts, [np.asarray(weights[t.name], dtype=np.int64) for t in layouts], SALT)
    com = v1.to_bytes()
    assert com.startswith(b"ZKAW/p2gl8-tree-v1\x00")
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    verdict = _verify(circuit, proof, com)
    assert verdict.valid, verdict.reason
    assert verdict.privacy["weight_commitment_scheme"] == "p2gl8-tree-v1"
    # the v2 root of the same weights and salt is another record: the proof is not about it
    v2 = hashed_weight_commitment(circuit, weights, SALT)[0].to_bytes()
    assert v2 != com and not _verify(circuit, proof, v2).valid
    assert _verify(circuit, prove(circuit, weights, x, weight_commitment=v2, weight_salt=SALT), v2).valid


def test_trees_past_the_block_size_run_the_layered_gkr(model, monkeypatch):
    """The partial rounds run as one block up to `BLOCK_SLOTS_UP_TO` slots
    (the S-box table committed), the layered GKR past it: both sides read
    the same public choice, both verify, and a proof of one kind is not
    accepted where the other is due."""
    circuit, weights, x, com = model
    plan = wl.LinkPlan.of(circuit, com)
    assert plan.blocked and wl.SBOX in plan.table_vars()
    assert not wl.LinkPlan.of(circuit, com, block_partial_rounds=False).blocked
    blocked = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.setattr(wl, "BLOCK_SLOTS_UP_TO", 2 * plan.num_leaves - 1)
    layered_plan = wl.LinkPlan.of(circuit, com)
    assert not layered_plan.blocked and wl.SBOX not in layered_plan.table_vars()
    layered = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    assert _verify(circuit, layered, com).valid
    assert not _verify(circuit, blocked, com).valid
    monkeypatch.setattr(wl, "BLOCK_SLOTS_UP_TO", 2 * plan.num_leaves)
    assert _verify(circuit, blocked, com).valid and not _verify(circuit, layered, com).valid


def test_honest_prover_refuses_what_it_cannot_prove(model):
    circuit, weights, x, com = model
    with pytest.raises(ZkauditError, match="salt"):
        prove(circuit, weights, x, weight_commitment=com)
    with pytest.raises(hc.WeightOpeningMismatch):
        prove(circuit, weights, x, weight_commitment=com, weight_salt=(SALT[0], SALT[1] + 1))
    with pytest.raises(ZkauditError, match="zero-knowledge"):
        prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT, zero_knowledge=False)


def test_a_commitment_for_other_tensors_is_refused(model):
    circuit, weights, x, com = model
    record = hc.WeightCommitment.from_bytes(com)
    for changed in (dataclasses.replace(record, n_weights=record.n_weights + 1),
                    dataclasses.replace(record, layout_digest=bytes(32))):
        verdict = _verify(circuit, prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT),
                          changed.to_bytes())
        assert not verdict.valid


# ------------------------------------------------------------------ attacks


def _honest_message(circuit, weights, salt=SALT) -> np.ndarray:
    layouts = weight_layouts(circuit)
    return hc.message(layouts, [np.asarray(weights[t.name]) for t in layouts], salt)


def _forged(monkeypatch, circuit, registered: bytes, msg, salt=SALT, edit_digests=None):
    """Make the prover commit the tree of `msg` (and `salt` in its salt
    table) whatever the registered root, optionally editing the digest table."""
    plan = wl.LinkPlan.of(circuit, registered)
    witness = LinkWitness.from_message(plan, msg, salt)
    if edit_digests is not None:
        edit_digests(witness)
        witness.states[1:plan.num_leaves] = witness.digests.reshape(-1, 4)[2:].reshape(plan.num_leaves - 1, 8)
    monkeypatch.setattr(inference_prover, "_link", lambda *a, **k: (plan, witness))


def _registered_over(circuit, msg) -> bytes:
    """A record with the circuit's honest count and layout whose root is the
    tree of `msg`: what a vendor registers when it hashes something else."""
    layouts = weight_layouts(circuit)
    record = hc.WeightCommitment(hc.SCHEME_ID, merkle_root(msg), sum(t.size for t in layouts),
                                 hc.layout_digest(layouts))
    return record.to_bytes()


def _one_weight_changed(weights):
    w1 = np.array(weights["w1"])
    w1[2, 1] = w1[2, 1] + 1 if w1[2, 1] < 127 else w1[2, 1] - 1
    return Weights({**{k: weights[k] for k in weights}, "w1": w1})


def _attack_other_weights_own_tree(circuit, weights, com):
    """Proves with W' (one weight changed) and the honest tree of W': its root is not the registered one."""
    other = _one_weight_changed(weights)
    return other, com, _honest_message(circuit, other), SALT, None


def _attack_other_weights_registered_tree(circuit, weights, com):
    """Proves with W' but commits the registered tree of W: the leaves are not W'."""
    return _one_weight_changed(weights), com, _honest_message(circuit, weights), SALT, None


def _attack_other_weights_root_overwritten(circuit, weights, com):
    """The tree of W' with its root slot overwritten by the registered root."""
    other = _one_weight_changed(weights)
    root = np.array(hc.WeightCommitment.from_bytes(com).root, dtype=np.uint64)

    def edit(w):
        w.digests.reshape(-1, 4)[1] = root
    return other, com, _honest_message(circuit, other), SALT, edit


def _attack_salt_table_differs(circuit, weights, com):
    """The registered tree, but another salt in the salt table."""
    return weights, com, _honest_message(circuit, weights), (SALT[0], SALT[1] + 5), None


def _attack_registered_over_another_header(circuit, weights, com):
    """The vendor registered the root of a message whose header names another count."""
    msg = _honest_message(circuit, weights)
    msg[hc.SALT_LEN + 2] += np.uint64(1)
    return weights, _registered_over(circuit, msg), msg, SALT, None


def _attack_registered_over_another_packing(circuit, weights, com):
    """... over a message whose first two weights are packed in swapped digits."""
    layouts = weight_layouts(circuit)
    values = [np.asarray(weights[t.name]) for t in layouts]
    swapped = values[0].copy().reshape(-1)
    swapped[[0, 1]] = swapped[[1, 0]]
    if swapped[0] == swapped[1]:
        swapped[0] = swapped[0] + 1 if swapped[0] < 127 else swapped[0] - 1
    msg = hc.message(layouts, [swapped.reshape(values[0].shape)] + values[1:], SALT)
    return weights, _registered_over(circuit, msg), msg, SALT, None


def _attack_registered_over_a_longer_message(circuit, weights, com):
    """... over the honest message with a trailing non-zero element in the tree's zero padding."""
    msg = _honest_message(circuit, weights)
    plan = wl.LinkPlan.of(circuit, com)
    if msg.shape[0] == plan.num_leaves * 7:
        pytest.skip("no padding left in the last leaf")
    longer = np.concatenate([msg, np.array([5], dtype=np.uint64)])
    return weights, _registered_over(circuit, longer), longer, SALT, None


def _attack_dummy_slot_digest(circuit, weights, com):
    """The honest tree with slot 0's digest (the dummy permutation's output) changed."""
    def edit(w):
        w.digests.reshape(-1, 4)[0, 0] += np.uint64(1)
    return weights, com, _honest_message(circuit, weights), SALT, edit


def _attack_padding_leaf_digest(circuit, weights, com):
    """The honest tree with the digest of the last (zero-padding) leaf changed."""
    def edit(w):
        w.digests.reshape(-1, 4)[-1, 2] += np.uint64(1)
    return weights, com, _honest_message(circuit, weights), SALT, edit


ATTACKS = [_attack_other_weights_own_tree, _attack_other_weights_registered_tree,
           _attack_other_weights_root_overwritten, _attack_salt_table_differs,
           _attack_registered_over_another_header, _attack_registered_over_another_packing,
           _attack_registered_over_a_longer_message, _attack_dummy_slot_digest, _attack_padding_leaf_digest]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda f: f.__name__.removeprefix("_attack_"))
def test_attack_is_rejected(model, monkeypatch, attack):
    circuit, weights, x, com = model
    used, registered, msg, salt, edit = attack(circuit, weights, com)
    _forged(monkeypatch, circuit, registered, msg, salt, edit)
    proof = prove(circuit, used, x, weight_commitment=registered, weight_salt=salt)
    verdict = _verify(circuit, proof, registered)
    assert not verdict.valid, f"{attack.__name__} was accepted"
    assert verdict.reason


@pytest.mark.parametrize("choice", ["always", "never"])
def test_combining_the_weights_claims_is_the_provers_choice(model, monkeypatch, choice):
    """Claims on each weight tensor and on D may be combined before the
    opening (`zk.worth_combining` picks by cost); either choice verifies,
    and the proof says which (a flipped flag is rejected)."""
    from zkaudit.statements.inference import zk as izk

    circuit, weights, x, com = model
    monkeypatch.setattr(izk, "worth_combining", lambda k, *a: choice == "always" and k >= 2)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    verdict = _verify(circuit, proof, com)
    assert verdict.valid, verdict.reason
    assert verdict.privacy["weights_hidden"] is True


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda f: f.__name__.removeprefix("_attack_"))
def test_attack_is_rejected_with_the_claims_combined(model, monkeypatch, attack):
    """The catalogue again, every weight tensor's and D's claims combined."""
    from zkaudit.statements.inference import zk as izk

    circuit, weights, x, com = model
    used, registered, msg, salt, edit = attack(circuit, weights, com)
    _forged(monkeypatch, circuit, registered, msg, salt, edit)
    monkeypatch.setattr(izk, "worth_combining", lambda k, *a: k >= 2)
    proof = prove(circuit, used, x, weight_commitment=registered, weight_salt=salt)
    monkeypatch.undo()
    verdict = _verify(circuit, proof, registered)
    assert not verdict.valid, f"{attack.__name__} was accepted"
    assert verdict.reason


@pytest.mark.parametrize("table", ["w1", wl.DIGESTS])
def test_a_combination_that_drops_a_claim_is_rejected(model, monkeypatch, table):
    """A prover that combines all but one claim on a table (the dropped one,
    D's output claim or the link's claim on a weight, would then go
    unchecked): the verifier combines the claims it derived itself."""
    from zkaudit.statements.inference import zk as izk

    circuit, weights, x, com = model
    real = izk.repad_target

    def dropping(claims, transcript):
        if claims and claims[0].tensor == table and len(claims) > 1:
            claims = claims[1:]
        return real(claims, transcript)

    monkeypatch.setattr(izk, "worth_combining", lambda k, *a: k >= 2)
    monkeypatch.setattr(izk, "repad_target", dropping)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid
    assert verdict.reason


def test_byte_tampering_in_the_link_section_is_rejected(model):
    circuit, weights, x, com = model
    proof = bytearray(prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT))
    rng = np.random.default_rng(5)
    for pos in rng.choice(len(proof) - 64, size=12, replace=False) + 64:
        bad = bytearray(proof)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        assert not _verify(circuit, bytes(bad), com).valid


# ----------------------------------------------------- weight recovery


def _weight_claims(circuit, weights, proof, registered: bytes, table_index: int, *, hidden: bool):
    """The claims an honest verifier confirms on the commitment holding the
    weights: the registered one (plain), or the proof's advice commitment
    (`hidden`: the weights are table `table_index` there)."""
    from zkaudit.pcs.claim import Claim
    from zkaudit.statements.inference import verifier as inference_verifier

    seen = []
    real = inference_verifier.pcs_verify

    def spy(com, claims, opening, transcript, params):
        real(com, claims, opening, transcript, params)
        for c in claims:
            if isinstance(c, Claim):
                if not hidden and c.poly_index == table_index and com.to_bytes() == registered:
                    seen.append(c)
            elif hidden and any(t == table_index for t, _, _ in c.evals):
                seen.append(c)

    inference_verifier.pcs_verify = spy
    try:
        assert _verify(circuit, proof, registered).valid
    finally:
        inference_verifier.pcs_verify = real
    return seen


def test_pooled_claims_recover_plain_weights_and_nothing_of_hashed_ones():
    """10x more proofs than the weight tensor has rows. Against the plain
    registered commitment each proof reveals an evaluation of w in the
    clear, and the pooled evaluations give w exactly; against the hashed one
    every claim on w carries a fresh pad of that proof's bank, and the pooled
    equations leave every entry of w free."""
    from test_zk_attacks import _recover

    from small_circuits import chain
    from zkaudit.circuit import Node, TensorSpec

    x = TensorSpec("x", (1, 2), -128, 127, 0.1, 0)
    w = TensorSpec("w", (2, 4), -127, 127)
    circuit = chain("recover", [x], [w], [Node.make("mm", "MatMul", ["x", "w"], "y", a_zero_point=0,
                                                    b_zero_point=0)], ["y"])
    rng = np.random.default_rng(8)
    weights = Weights({"w": rng.integers(-127, 128, (2, 4))})
    size = 1 << num_vars((2, 4))
    proofs = 10 * 2
    plain_com = commit_weights(circuit, weights)[0].to_bytes()
    hashed_com = hashed_weight_commitment(circuit, weights, SALT)[0].to_bytes()
    plain_claims, hashed_claims = [], []
    for _ in range(proofs):
        sample = {"x": rng.integers(-128, 128, (1, 2))}
        plain_claims += _weight_claims(circuit, weights, prove(circuit, weights, sample, weight_commitment=plain_com),
                                       plain_com, 0, hidden=False)
        hashed = prove(circuit, weights, sample, weight_commitment=hashed_com, weight_salt=SALT)
        hashed_claims += _weight_claims(circuit, weights, hashed, hashed_com, _advice_count(circuit),
                                        hidden=True)
    got = _recover(plain_claims, 0, size, pads=False)
    assert got is not None and got[:8] == np.asarray(weights["w"]).ravel().tolist(), "the attack fails on plain"
    assert hashed_claims and _recover(hashed_claims, _advice_count(circuit), size, pads=True) is None


def _advice_count(circuit) -> int:
    """Index of the first weight table in a hashed proof's advice commitment."""
    from zkaudit.layers.dispatch_verifier import advice_shapes
    from zkaudit.statements.inference import committed_range

    advice = advice_shapes(circuit.nodes, circuit.specs())
    advice.update(committed_range.plan(circuit, committed_inputs=False).advice_shapes())
    return len(advice)


# ----------------------------------- the malicious-prover sweep, hashed


class _HashedAttack:
    """The malicious-prover harness (`tests/adversarial`) with the weights
    behind a hashed commitment: the forger registers the root of whatever
    real weights it proves with (packed without the range check, so a
    weight outside its range overflows into the next digit, as a forger
    would hash it) and the same salt; padding is not hashed."""

    @staticmethod
    def make(builder):
        from malicious_prover import Attack, Outcome

        class HashedAttack(Attack):
            def run(self, w):
                from zkaudit.hash.merkle import merkle_root
                from zkaudit.statements.inference.prover import prove_witness

                reference = self.reference(w)
                circuit = w.circuit
                layouts = weight_layouts(circuit)
                body = []
                for t in layouts:
                    v = np.asarray(w.real(t.name), dtype=np.int64).reshape(-1)
                    k, b = t.per_element, t.digit_bits
                    digits = np.zeros(t.num_elements * k, dtype=object)
                    digits[: v.size] = [int(x) - t.lo for x in v]
                    body += [sum(int(digits[e * k + u]) << (b * u) for u in range(k)) % hc.P if not t.raw
                             else int(digits[e]) + t.lo for e in range(t.num_elements)]
                head = list(SALT) + hc.header_elements(sum(t.size for t in layouts), hc.layout_digest(layouts))
                msg = np.array([x % hc.P for x in head + body], dtype=np.uint64)
                record = hc.WeightCommitment(hc.SCHEME_ID, merkle_root(msg), sum(t.size for t in layouts),
                                             hc.layout_digest(layouts)).to_bytes()
                plan = wl.LinkPlan.of(circuit, record)
                real_link = inference_prover._link
                inference_prover._link = lambda *a, **k: (plan, LinkWitness.from_message(plan, msg, SALT))
                try:
                    proof = prove_witness(w, weight_commitment=record, weight_salt=SALT)
                except (ZkauditError, ValueError, KeyError, IndexError, OverflowError) as exc:
                    return Outcome(False, None, reference, f"prover refused: {type(exc).__name__}: {exc}")
                finally:
                    inference_prover._link = real_link
                verdict = verify_proof(proof, circuit_bin=self.circuit_bin, weight_commitment=record)
                if not verdict.valid:
                    return Outcome(False, None, reference, f"rejected: {verdict.reason}")
                outputs = {k: np.asarray(v).tolist() for k, v in verdict.output.items()}
                return Outcome(True, outputs, reference, "verified")

        from small_circuits import instance as make_instance

        return HashedAttack(*make_instance(builder, seed=3))


def test_malicious_prover_sweep_over_hashed_weights():
    """Every weight tensor of mlp_clip, one padding cell and one real cell
    each (to +1, and a real one far outside its range): never a wrong
    output accepted; the honest witness verifies."""
    from malicious_prover import sweep

    attack = _HashedAttack.make(mlp_clip)
    honest = attack.run(attack.honest)
    assert honest.accepted and not honest.forged, honest.stage
    counts, forged = sweep(attack, np.random.default_rng(1), padding_cells=1, real_cells=1,
                           names=attack.committed(), values=(1,))
    assert not forged, forged[:3]
    assert counts.get("rejected", 0) > 0, counts
    for name in attack.committed():
        spec = {s.name: s for s in attack.honest.circuit.weights}[name]
        _, real = attack.cells(name)
        out = attack.attempt((name, int(real[0]), spec.hi + 256))  # overflows into the next digit
        assert not out.accepted, (name, out.stage)


def test_a_weight_named_like_a_link_table_is_refused_by_the_prover():
    from small_circuits import chain
    from zkaudit.circuit import Node, TensorSpec

    x = TensorSpec("x", (1, 2), -128, 127, 0.1, 0)
    w = TensorSpec(wl.SALT, (2, 2), -127, 127)
    circuit = chain("reserved", [x], [w], [Node.make("mm", "MatMul", ["x", wl.SALT], "y", a_zero_point=0,
                                                     b_zero_point=0)], ["y"])
    weights = Weights({wl.SALT: np.array([[1, 2], [3, 4]])})
    com, salt = hashed_weight_commitment(circuit, weights)
    with pytest.raises(ZkauditError, match="reserved"):
        prove(circuit, weights, {"x": np.array([[1, 2]])}, weight_commitment=com.to_bytes(), weight_salt=salt)


# ------------------------------------------- no value in the clear moves with the weights


@pytest.mark.parametrize("kind", ["hashed", "plain"])
def test_no_value_in_the_clear_depends_on_the_weights(kind):
    """Challenges fixed (the harness's transcript), two runs on the same
    input: with weights W1 and two banks, and with weights W2 (another real
    weight, same zero output) and the first bank. A revealed coordinate that
    the bank does not move but the weights do is a leak of the weights. With
    the hashed commitment there is none (the link's own values -- digests,
    salt, packed sums, GKR rounds -- are all among what is checked); with
    the plain one the detector finds the weight evaluations every proof
    sends in the clear (the detector works)."""
    import zk_harness
    from test_zero_knowledge import _zeroed

    import zkaudit.sumcheck.zk as zk_mod
    from zkaudit.field.randomness import random_ext
    from zkaudit.statements.inference import witness
    from zkaudit.statements.inference import zk_prover

    circuit, w1 = _zeroed("mlp_clip")
    changed = np.array(w1["w2"])
    changed[0, 0] = changed[0, 0] + 1 if changed[0, 0] < 127 else changed[0, 0] - 1
    w2 = Weights({**{k: w1[k] for k in w1}, "w2": changed})
    spec = circuit.inputs[0]
    x = {spec.name: np.random.default_rng(4).integers(spec.lo, spec.hi + 1, size=spec.shape)}
    runs = []
    for weights in (w1, w2):
        com = (hashed_weight_commitment(circuit, weights, SALT)[0] if kind == "hashed"
               else commit_weights(circuit, weights)[0])
        wit = witness.build(circuit, weights, x)
        runs.append((wit, com.to_bytes(), SALT))
    assert all(np.array_equal(runs[0][0].value(o.name), runs[1][0].value(o.name)) for o in circuit.outputs)

    seen = {}
    orig_init = zk_mod.ZkProver.__init__

    def init(self, sizes, values=None):
        orig_init(self, sizes, values)
        seen["zk"] = self

    zk_mod.ZkProver.__init__ = init
    try:
        inference_prover.prove_witness(runs[0][0], weight_commitment=runs[0][1], weight_salt=SALT)
    finally:
        zk_mod.ZkProver.__init__ = orig_init
    size, used = seen["zk"].sizes["advice"], seen["zk"].banks_used()["advice"]

    def revealed(wit, com, bank):
        made = {}
        orig_t = inference_prover.statement_transcript

        def factory(*args, **kwargs):
            t = zk_harness.FixedChallenges()
            real = orig_t(*args, **kwargs)
            t._h, t._counter, t._statement_bound = real._h.copy(), real._counter, True
            made["t"] = t
            return t

        class FixedBank(zk_mod.ZkProver):
            def __init__(self, sizes, values=None):
                super().__init__(sizes, values)
                self.values["advice"] = np.ascontiguousarray(bank[: sizes["advice"]])

        real_discharge = zk_prover.discharge

        def stop(*args, **kwargs):
            real_discharge(*args, **kwargs)
            raise zk_harness._Stop

        saved = zk_mod.ZkProver
        inference_prover.statement_transcript, zk_mod.ZkProver, zk_prover.discharge = factory, FixedBank, stop
        try:
            link = inference_prover._link(wit, com, SALT, True)
            inference_prover._prove(wit, com, None, size, None, link)
        except zk_harness._Stop:
            pass
        finally:
            inference_prover.statement_transcript, zk_mod.ZkProver, zk_prover.discharge = orig_t, saved, real_discharge
        return made["t"].revealed

    def bank():
        out = np.zeros((size, 2), dtype=np.uint64)
        out[:used] = random_ext(used)
        return out

    b, b2 = bank(), bank()
    a = revealed(runs[0][0], runs[0][1], b)
    a2 = revealed(runs[0][0], runs[0][1], b2)
    c = revealed(runs[1][0], runs[1][1], b)
    assert len(a) == len(a2) == len(c)
    leaks = [i for i in range(len(a)) if a[i] == a2[i] and a[i] != c[i]]
    if kind == "plain":
        assert leaks, "the detector misses the plain commitment's weight evaluations"
        return
    assert not leaks, f"{len(leaks)} revealed coordinates move with the weights and not with the bank: {leaks[:10]}"
    assert sum(u != v for u, v in zip(a, a2)) > len(a) // 2
