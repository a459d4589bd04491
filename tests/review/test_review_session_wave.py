"""Independent review: forging attempts against four changes of one session.

1. p2gl8-tree-v2 weight digits of bits(hi - lo) bits (v1 still readable):
   exact packing collisions (a weight pushed one digit past its range, its
   neighbour lowered by one: the same message, so the *registered honest
   root*), for int8, a 13-bit bias, a sub-byte [-2, 1] tensor and a tree
   ensemble's rank-one head; v1/v2 record confusion.
2. The committed tensors' range lookup inside the proof's lookup batch:
   padding, a count moved to another node's table of the same width (with
   the tagless control), limb values after the batch inconsistent.
3. The zk bank opening's numpy fold: a violated deferred check is never
   folded away (any position, largest coefficients, repeated elements), a
   check spanning banks is refused.
4. The tree ensembles' rank-one head: a prover lying about the score, or
   committing other head weights, is refused.

Each test asserts the forgery is REJECTED (so it passes when sound).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))

from malicious_prover import Attack, Outcome  # noqa: E402
from small_circuits import chain, instance, mlp_clip  # noqa: E402

from zkaudit.circuit import Node, TensorSpec  # noqa: E402
from zkaudit.circuit.weights import Weights  # noqa: E402
from zkaudit.errors import ZkauditError  # noqa: E402
from zkaudit.field.constants import P  # noqa: E402
from zkaudit.field.hidden import Hidden  # noqa: E402
from zkaudit.field.scalar import Fp2  # noqa: E402
from zkaudit.hash import commitment as hc  # noqa: E402
from zkaudit.hash.merkle import merkle_root  # noqa: E402
from zkaudit.statements.inference import prover as inference_prover  # noqa: E402
from zkaudit.statements.inference import weights_link as wl  # noqa: E402
from zkaudit.statements.inference.commitment import weight_layouts  # noqa: E402
from zkaudit.statements.inference.weights_link_prover import LinkWitness  # noqa: E402
from zkaudit.statements.verify import verify_proof  # noqa: E402
from zkaudit.sumcheck import zk  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402

SALT = (424242, 171717)


# ------------------------------------------------------------ harness

def _pack_unchecked(layouts, values) -> list[int]:
    """What a forger hashes: the scheme's digits with no range check, so a
    digit past 2^b carries into the next one (mod p)."""
    body = []
    for t, v in zip(layouts, values):
        v = [int(x) for x in np.asarray(v, dtype=np.int64).reshape(-1)]
        if t.raw:
            body += [x % P for x in v]
            continue
        k, b = t.per_element, t.digit_bits
        digits = [x - t.lo for x in v] + [0] * (t.num_elements * k - len(v))
        body += [sum(digits[e * k + u] << (b * u) for u in range(k)) % P for e in range(t.num_elements)]
    return body


def _message(circuit, values: dict, scheme: str) -> np.ndarray:
    layouts = hc.in_scheme(weight_layouts(circuit), scheme)
    n = sum(t.size for t in layouts)
    head = list(SALT) + hc.header_elements(n, hc.layout_digest(layouts), scheme)
    return np.array([x % P for x in head + _pack_unchecked(layouts, [values[t.name] for t in layouts])],
                    dtype=np.uint64)


def _record(circuit, msg, scheme: str) -> bytes:
    layouts = weight_layouts(circuit)
    return hc.WeightCommitment(scheme, merkle_root(msg), sum(t.size for t in layouts),
                               hc.layout_digest(layouts)).to_bytes()


def _honest_record(circuit, weights, scheme: str) -> bytes:
    layouts = hc.in_scheme(weight_layouts(circuit), scheme)
    com, _ = hc.commit_weights(layouts, [np.asarray(weights[t.name], dtype=np.int64) for t in layouts], SALT)
    return com.to_bytes()


class HashedAttack(Attack):
    """The malicious prover of `tests/adversarial` behind a hashed weight
    commitment of scheme `scheme`: it hashes whatever real weights it proves
    with (`_pack_unchecked`) and registers that root; `record_scheme` may
    name another scheme for the record than the one the message is packed
    and headed under (record/proof scheme confusion)."""

    def __init__(self, circuit, weights, inputs, *, scheme=hc.SCHEME_ID, record_scheme=None):
        super().__init__(circuit, weights, inputs)
        self.scheme, self.record_scheme = scheme, record_scheme or scheme
        self.last_record = None

    def run(self, w) -> Outcome:
        reference = self.reference(w)
        circuit = w.circuit
        msg = _message(circuit, {s.name: w.real(s.name) for s in circuit.weights}, self.scheme)
        record = _record(circuit, msg, self.record_scheme)
        self.last_record = record
        plan = wl.LinkPlan.of(circuit, record)
        real_link = inference_prover._link
        inference_prover._link = lambda *a, **k: (plan, LinkWitness.from_message(plan, msg, SALT))
        try:
            proof = inference_prover.prove_witness(w, weight_commitment=record, weight_salt=SALT)
        except (ZkauditError, ValueError, KeyError, IndexError, OverflowError) as exc:
            return Outcome(False, None, reference, f"prover refused: {type(exc).__name__}: {exc}")
        finally:
            inference_prover._link = real_link
        verdict = verify_proof(proof, circuit_bin=self.circuit_bin, weight_commitment=record)
        if not verdict.valid:
            return Outcome(False, None, reference, f"rejected: {verdict.reason}")
        return Outcome(True, {k: np.asarray(v).tolist() for k, v in verdict.output.items()}, reference, "verified")


def _collision(attack: HashedAttack, name: str, *, down: bool = False):
    """Two real cells j, j+1 of one packed element: w_j + 2^b and w_{j+1} - 1
    (or w_j - 2^b, w_{j+1} + 1): the same element, so the same message as
    the honest weights. Returns the changes (padded indices)."""
    circuit = attack.honest.circuit
    t = {t.name: t for t in hc.in_scheme(weight_layouts(circuit), attack.scheme)}[name]
    assert t.per_element >= 2 and not t.raw
    _, real = attack.cells(name)
    v = attack.honest.real(name).reshape(-1)
    for j in range(0, t.size - 1, t.per_element):
        nxt = int(v[j + 1])
        if (nxt > t.lo) if not down else (nxt < t.hi):
            step = 1 << t.digit_bits
            return (((name, int(real[j]), int(v[j]) - step), (name, int(real[j + 1]), nxt + 1)) if down else
                    ((name, int(real[j]), int(v[j]) + step), (name, int(real[j + 1]), nxt - 1)))
    pytest.skip(f"no cell pair of {name} to collide")


def _assert_collision_rejected(attack: HashedAttack, name: str, *, down: bool = False):
    changes = _collision(attack, name, down=down)
    honest = attack.run(attack.honest)
    assert honest.accepted and not honest.forged, honest.stage
    honest_record = attack.last_record
    assert honest_record == _honest_record(attack.honest.circuit, {s.name: attack.honest.real(s.name)
                                                                   for s in attack.honest.circuit.weights},
                                           attack.scheme)
    out = attack.attempt(*changes)
    # the collision is genuine: the forger's record is the honest registered one
    assert attack.last_record == honest_record, "not a collision: the harness is wrong"
    assert out.stage.startswith(("rejected", "prover refused")), out.stage
    assert not out.accepted, f"FORGERY accepted: {changes} -> {out.outputs} (executor: {out.reference})"


@pytest.fixture(scope="module")
def clip_model():
    return instance(mlp_clip, seed=3)


def _subbyte_circuit():
    """x (1, 4) int8 @ W (4, 3) declared [-2, 1]: 2-bit digits, 28 to an element under v2."""
    x = TensorSpec("x", (1, 4), -128, 127, 0.1, 0)
    w = TensorSpec("w", (4, 3), -2, 1)
    circuit = chain("subbyte", [x], [w], [Node.make("mm", "MatMul", ["x", "w"], "y", a_zero_point=0,
                                                    b_zero_point=0)], ["y"])
    weights = Weights({"w": np.array([[1, 0, -1], [0, 1, -2], [1, 1, 0], [-1, 0, 1]])})
    return circuit, weights, {"x": np.array([[3, -5, 7, 11]])}


# ------------------------------------------------ 1. weight commitment v2


@pytest.mark.parametrize("name", ["w1", "b1"])
def test_v2_digit_carry_collision_on_mlp_is_rejected(clip_model, name):
    """Attack 1a: mlp_clip under v2, w_j + 2^b and w_{j+1} - 1 in one element
    (int8: b = 8; the 13-bit bias: b = 13, 4 to an element): the forger's
    message IS the honest registered message; only the range check is left."""
    _assert_collision_rejected(HashedAttack(*clip_model), name)


def test_v2_digit_borrow_collision_on_mlp_bias_is_rejected(clip_model):
    """Attack 1b: the other direction, w_j - 2^13 and w_{j+1} + 1 (a negative digit borrowing)."""
    _assert_collision_rejected(HashedAttack(*clip_model), "b1", down=True)


def test_v1_byte_digit_collision_on_mlp_bias_is_rejected(clip_model):
    """Attack 1c: a v1 record (the bias in 16-bit byte digits, 3 to an element):
    w_j + 2^16, w_{j+1} - 1 hashes to the honest v1 root."""
    _assert_collision_rejected(HashedAttack(*clip_model, scheme=hc.SCHEME_V1), "b1")


@pytest.mark.parametrize("scheme", [hc.SCHEME_ID, hc.SCHEME_V1])
def test_subbyte_tensor_digit_carry_collision_is_rejected(scheme):
    """Attack 1d: a [-2, 1] tensor (v2: 2-bit digits, 28 to an element; v1:
    a byte each): w_j + 2^b, w_{j+1} - 1 is the honest message."""
    attack = HashedAttack(*_subbyte_circuit(), scheme=scheme)
    assert {t.name: t.per_element for t in hc.in_scheme(weight_layouts(attack.honest.circuit), scheme)} == \
        {"w": 28 if scheme == hc.SCHEME_ID else 7}
    _assert_collision_rejected(attack, "w")


def test_a_v2_proof_is_not_accepted_for_the_v1_record_of_the_same_weights(clip_model):
    """Attack 1e: record/proof scheme confusion, both ways: a proof made
    under one scheme's record checked against the other scheme's record of
    the same weights and salt."""
    circuit, weights, x = clip_model
    v1, v2 = _honest_record(circuit, weights, hc.SCHEME_V1), _honest_record(circuit, weights, hc.SCHEME_ID)
    for made, other in ((v2, v1), (v1, v2)):
        proof = inference_prover.prove(circuit, weights, x, weight_commitment=made, weight_salt=SALT)
        assert verify_proof(proof, circuit_bin=Attack(circuit, weights, x).circuit_bin, weight_commitment=made).valid
        verdict = verify_proof(proof, circuit_bin=Attack(circuit, weights, x).circuit_bin, weight_commitment=other)
        assert not verdict.valid


@pytest.mark.parametrize("packed, record", [(hc.SCHEME_ID, hc.SCHEME_V1), (hc.SCHEME_V1, hc.SCHEME_ID)])
def test_a_record_labelled_with_the_other_scheme_is_rejected(packed, record):
    """Attack 1f: the vendor registers a record whose magic says one scheme
    over the root of a message packed and headed under the other, and the
    prover commits that message's tree (honest weights, sub-byte tensor so
    the two packings differ): the verifier expects the record's header."""
    attack = HashedAttack(*_subbyte_circuit(), scheme=packed, record_scheme=record)
    out = attack.run(attack.honest)
    assert not out.accepted, out.stage


def test_a_record_with_its_magic_swapped_is_rejected(clip_model):
    """Attack 1g: the honest v2 record's bytes with the v1 magic (same root):
    the honest proof for the v2 record is not a proof for it."""
    circuit, weights, x = clip_model
    v2 = _honest_record(circuit, weights, hc.SCHEME_ID)
    swapped = hc.MAGICS[hc.SCHEME_V1] + v2[len(hc.MAGICS[hc.SCHEME_ID]):]
    assert hc.WeightCommitment.from_bytes(swapped).scheme == hc.SCHEME_V1
    proof = inference_prover.prove(circuit, weights, x, weight_commitment=v2, weight_salt=SALT)
    verdict = verify_proof(proof, circuit_bin=Attack(circuit, weights, x).circuit_bin, weight_commitment=swapped)
    assert not verdict.valid


# ------------------------------------------------ 2. range lookup in the batch


def test_nonzero_padding_of_a_hashed_weight_tensor_is_rejected(clip_model):
    """Attack 2a: b1 (3 -> 4 padded) with padding cell 3 set to 1 and 3000:
    padding is never hashed, so the record is the honest one; the two-sided
    range columns in the batch must pin it to zero."""
    attack = HashedAttack(*clip_model)
    pad, _ = attack.cells("b1")
    for value in (1, 3000):
        out = attack.attempt(("b1", int(pad[0]), value))
        assert not out.accepted, (value, out.stage)


def _plain_verdict(attack, w, zk_mode: bool):
    from zkaudit.field import vec
    from zkaudit.pcs import commit
    from zkaudit.statements.inference.commitment import params

    proof = inference_prover.prove_witness(w, zero_knowledge=zk_mode)
    tables = [vec.from_int64(w.table(s.name)) for s in w.circuit.weights]
    return verify_proof(proof, circuit_bin=attack.circuit_bin, weight_commitment=commit(tables, params())[0].to_bytes())


def _moved_count_witness(attack):
    """One count of the range instance's 5-bit table (b1's high limbs)
    moved to rq1's 5-bit table, same row: every value looked up is still in
    a 5-bit table; only the tables' tags tell the instances apart."""
    w = copy.copy(attack.honest)
    src, dst = w.advice["range/multiplicity1"].copy(), w.advice["rq1/mult5"].copy()
    assert src.shape == dst.shape == (32,)
    row = int(np.flatnonzero(src)[0])
    src[row] -= 1
    dst[row] += 1
    w.advice = {**w.advice, "range/multiplicity1": src, "rq1/mult5": dst}
    w.padded = {k: v for k, v in w.padded.items() if k not in ("range/multiplicity1", "rq1/mult5")}
    return w


@pytest.mark.parametrize("zk_mode", [False, True])
def test_count_moved_between_range_and_node_tables_is_rejected(clip_model, zk_mode):
    """Attack 2b: multiplicities moved between the committed range's table
    and another registered node's table of the same width."""
    attack = Attack(*clip_model)
    assert _plain_verdict(attack, attack.honest, zk_mode).valid
    assert not _plain_verdict(attack, _moved_count_witness(attack), zk_mode).valid


def test_control_without_the_tag_the_moved_count_passes(clip_model, monkeypatch):
    """Control for 2b: with the union's table tags removed (beta^w -> 0)
    the moved count verifies, so 2b is a real test of the tags."""
    from zkaudit.lookup import protocol
    from zkaudit.lookup import prover as lprover
    from zkaudit.lookup import verifier as lverifier

    def combiners(beta, width):
        out = [Fp2(1)]
        for _ in range(width):
            out.append(out[-1] * beta)
        return out[:-1] + [Fp2(0)]

    for mod in (lprover, lverifier, protocol):
        if hasattr(mod, "row_combiners"):
            monkeypatch.setattr(mod, "row_combiners", combiners)
    attack = Attack(*clip_model)
    verdict = _plain_verdict(attack, _moved_count_witness(attack), False)
    assert verdict.valid, verdict.reason


@pytest.mark.parametrize("zk_mode", [False, True])
def test_limb_values_after_the_batch_inconsistent_are_rejected(clip_model, monkeypatch, zk_mode):
    """Attack 2c: the limb values of b1 at the fresh recomposition point
    (sent after the batch's section) shifted by one -- as a prover would to
    make an out-of-range column recompose -- with the committed limbs honest."""
    from zkaudit.statements.inference import committed_range_prover as crp

    real_eval, calls = crp.evaluate, []

    def lying(table, z):
        v = real_eval(table, z)
        calls.append(1)
        return v + (Fp2(1) if isinstance(v, Fp2) else type(v)(1)) if len(calls) == 1 else v

    monkeypatch.setattr(crp, "evaluate", lying)
    attack = Attack(*clip_model)
    verdict = _plain_verdict(attack, attack.honest, zk_mode)
    assert calls, "the limb values were not evaluated: the attack did not run"
    assert not verdict.valid


def test_out_of_range_bias_with_wrapped_limbs_is_rejected(clip_model):
    """Attack 2d: b1 = hi + 1 and lo - 1 (their c_hi or c_lo is -1; the
    cheater commits wrapped limbs and lenient counts), hashed v2."""
    attack = HashedAttack(*clip_model)
    _, real = attack.cells("b1")
    for value in (3001, -3001):
        out = attack.attempt(("b1", int(real[1]), value))
        assert not out.accepted, (value, out.stage)


@pytest.mark.parametrize("zk_mode", [False, True])
def test_out_of_range_weight_with_the_range_instance_left_out_of_the_batch_is_rejected(clip_model, monkeypatch,
                                                                                        zk_mode):
    """Attack 2e: the prover does not register the committed range instance
    in the batch at all (its LogUp over the layers' limbs only, no limb
    values after it) and commits b1 = hi + 1000: the verifier registers it
    last whatever the prover did."""
    from zkaudit.statements.inference import committed_range_prover as crp

    attack = Attack(*clip_model)
    _, real = attack.cells("b1")
    w = attack.mutate([("b1", int(real[0]), 4000)])
    monkeypatch.setattr(crp, "register", lambda *a, **k: None)
    assert not _plain_verdict(attack, w, zk_mode).valid


@pytest.mark.parametrize("cell, value", [("real", 300), ("real", -129), ("padding", 1)])
def test_committed_input_out_of_range_or_padding_is_rejected(clip_model, cell, value):
    """Attack 2f: committed-input mode, whose input range columns join the
    same batch: an input cell above / below int8 or a nonzero padding cell,
    committed with lenient counts."""
    attack = Attack(*clip_model, commit_input=True)
    pad, real = attack.cells("x")
    out = attack.attempt(("x", int((real if cell == "real" else pad)[0]), value))
    assert out.stage.startswith("rejected"), out.stage


# ------------------------------------------------ 3. zk bank fold


def _satisfied_checks(rng, bank_values, count, bank="advice"):
    """Deferred checks const + sum c_k bank[k] = 0 that the bank satisfies,
    with repeated elements, element 0 and the last one, the largest coefficients."""
    out = []
    n = len(bank_values)
    for j in range(count):
        keys = list({int(k) for k in rng.choice(n, size=int(rng.integers(1, 30)), replace=False)} | {0, n - 1, 5})
        terms = [((bank, k), Fp2(P - 1, P - 1) if k in (5, n - 1) else
                  Fp2(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64))))
                 for k in keys]
        const = -sum((c * bank_values[k] for (_, k), c in terms), Fp2(0))
        out.append(Hidden(const, terms))
    return out


def _claim_holds(weights, value, bank_values) -> bool:
    total = Fp2(0)
    for i, b in enumerate(bank_values):
        if 2 * i + 1 >= weights.shape[0]:
            break
        w0 = Fp2(int(weights[2 * i, 0]), int(weights[2 * i, 1]))
        w1 = Fp2(int(weights[2 * i + 1, 0]), int(weights[2 * i + 1, 1]))
        total = total + w0 * Fp2(b.c0) + w1 * Fp2(b.c1)
    return total == value


def _tr():
    t = Transcript()
    t.absorb_statement("review/bank-fold", 1)
    return t


@pytest.mark.parametrize("broken", [0, 17, 39])
def test_a_violated_deferred_check_is_never_folded_away(broken):
    """Attack 3a: 40 deferred checks the bank satisfies but one (first,
    middle, last), each with the largest coefficients on shared elements:
    the folded claim holds for the honest set and fails with the one
    violated (nothing dropped, the 32-bit half sums exact)."""
    rng = np.random.default_rng(broken)
    bank_values = [Fp2(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64)))
                   for _ in range(64)]
    checks = _satisfied_checks(rng, bank_values, 40)
    session = zk.ZkSession({"advice": 64})
    session.checks = list(checks)
    assert _claim_holds(*zk.bank_claim(session, "advice", _tr()), bank_values)
    bad = checks[broken]
    session.checks = checks[:broken] + [Hidden(bad.const + Fp2(1), bad.terms)] + checks[broken + 1:]
    assert not _claim_holds(*zk.bank_claim(session, "advice", _tr()), bank_values)


def test_many_largest_terms_on_one_element_fold_exactly():
    """Attack 3b: 50,000 terms with coefficient (p-1)(1+X) on one element
    (the 32-bit half sums' worst case per element at this size): the
    vectorized fold equals the big-int reference."""
    mine = [Hidden(Fp2(0), [(("advice", 3), Fp2(P - 1, P - 1)), (("advice", 4), Fp2(P - 2, 1))])
            for _ in range(25_000)]
    powers = [Fp2(P - 1, P - 1)] * len(mine)
    np.testing.assert_array_equal(zk._fold_terms(mine, powers), zk._fold_terms_reference(mine, powers))


def test_a_check_spanning_banks_is_refused_whatever_the_order():
    """Attack 3c: checks touching two banks, built by the protocol's own
    arithmetic (so sorted): refused, for either bank opened, whichever
    bank's keys are smaller."""
    session = zk.ZkSession({"advice": 8, "input": 8})
    a, b = session.receive(Fp2(3), "advice"), session.receive(Fp2(5), "input")
    for chk in (a - b, b - a, a + b * Fp2(7) - Fp2(2)):
        session.checks = [chk]
        for bank in ("advice", "input"):
            with pytest.raises(zk.DeferredCheckFailed, match="spans banks"):
                zk.bank_claim(session, bank, _tr())


# ------------------------------------------------ 4. tree ensembles' rank-one head


@pytest.fixture(scope="module")
def tree_model():
    pytest.importorskip("skl2onnx")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "onnx"))
    from test_ml_trees import _export, _lowered

    from zkaudit.circuit import quantize
    from zkaudit.onnx.compile import import_model

    import zkaudit.onnx.ml_trees as ml_trees

    model, x = _export("decision_tree")
    default, ml_trees.CONSTRUCTION = ml_trees.CONSTRUCTION, "dense"  # the dense construction's leaf indicators
    try:
        circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                                 "probabilities": (0.0, 1.0)}, name="m")
    finally:
        ml_trees.CONSTRUCTION = default
    name = circuit.inputs[0].name
    for i in range(len(x)):  # a sample whose score s is not zero (so the head's multiples matter)
        sample = {name: quantize(circuit.inputs[0], x[i:i + 1])}
        if np.asarray(circuit.execute(weights, sample)["probabilities"])[0, 1] != 0:
            return circuit, weights, sample
    raise AssertionError("no sample with a nonzero score")


HEAD = "TreeEnsembleClassifier/label_scores"


def test_tree_head_is_rank_one_with_subbyte_columns(tree_model):
    circuit, weights, _ = tree_model
    specs = {s.name: s for s in circuit.weights}
    assert (specs[HEAD + "/columns"].lo, specs[HEAD + "/columns"].hi) == (-2, 1)
    assert {t.name: t.per_element for t in weight_layouts(circuit)}[HEAD + "/columns"] == 28


def test_tree_head_columns_digit_collision_is_rejected(tree_model):
    """Attack 4a: the head's multiples [1, -1] (declared [-2, 1], 2-bit
    digits under v2) committed as [5, -2]: the same packed element as the
    honest ones, so the honest registered root; the columns become
    [5 s + c, -2 s] and can flip the label. Only the range check stops it."""
    _assert_collision_rejected(HashedAttack(*tree_model), HEAD + "/columns")


@pytest.mark.parametrize("tensor", [HEAD + "/score", "probabilities"])
def test_tree_prover_lying_about_the_score_is_refused(tree_model, tensor):
    """Attack 4b: the head's intermediate score s (the (1,1) MatMul input) or
    the final [c - s, s] scores changed by one, the label and the rest
    recomputed by the prover, under the honest hashed v2 record."""
    attack = HashedAttack(*tree_model)
    _, real = attack.cells(tensor)
    honest = attack.honest.table(tensor)
    for i in real[:2]:
        out = attack.attempt((tensor, int(i), int(honest[int(i)]) + 1))
        assert not out.accepted, (tensor, int(i), out.stage)


def test_tree_other_head_weights_under_the_honest_record_are_refused(tree_model, monkeypatch):
    """Attack 4c: the prover proves with other (in-range) head weights --
    multiples [-1, 1], or the offsets swapped -- (the label flipped) against
    the honest registered v2 root, its link witness the honest message: the
    link binds the weights used."""
    circuit, weights, x = tree_model
    record = _honest_record(circuit, weights, hc.SCHEME_ID)
    attack = Attack(circuit, weights, x)
    _, cols = attack.cells(HEAD + "/columns")
    _, offs = attack.cells(HEAD + "/offsets")
    off = attack.honest.real(HEAD + "/offsets").reshape(-1)
    for changes in ([(HEAD + "/columns", int(cols[0]), -1), (HEAD + "/columns", int(cols[1]), 1)],
                    [(HEAD + "/offsets", int(offs[0]), int(off[1])), (HEAD + "/offsets", int(offs[1]), int(off[0]))]):
        _refused_with_honest_link(attack, attack.mutate(changes), circuit, weights, record, monkeypatch)


def _refused_with_honest_link(attack, w, circuit, weights, record, monkeypatch):
    assert attack.reference(w) != attack.reference(attack.honest)  # the lie would matter
    plan = wl.LinkPlan.of(circuit, record)
    msg = _message(circuit, {s.name: weights[s.name] for s in circuit.weights}, hc.SCHEME_ID)
    monkeypatch.setattr(inference_prover, "_link", lambda *a, **k: (plan, LinkWitness.from_message(plan, msg, SALT)))
    proof = inference_prover.prove_witness(w, weight_commitment=record, weight_salt=SALT)
    assert not verify_proof(proof, circuit_bin=attack.circuit_bin, weight_commitment=record).valid


def test_tree_head_sweep_under_a_hashed_record_forges_nothing(tree_model):
    """Attack 4d: every tensor of the rank-one head (the leaf values, base,
    multiples, offsets, the score s, the output scores, and the leaf
    indicators feeding it), up to two padding cells (to 1) and one real cell
    (+1) each, the rest recomputed by the
    prover, against the hashed v2 record of what it commits: no output other
    than the executor's on the committed weights is accepted."""
    from malicious_prover import sweep

    attack = HashedAttack(*tree_model)
    names = [n for n in attack.committed() + attack.advice() if n.startswith(HEAD)]
    names += [HEAD + "/score", "probabilities", "TreeEnsembleClassifier/leaves", "TreeEnsembleClassifier/leaf"]
    names = list(dict.fromkeys(names))
    counts, forged = sweep(attack, np.random.default_rng(5), padding_cells=2, real_cells=1, names=names)
    assert not forged, forged[:3]
    assert counts.get("rejected", 0) >= 4, counts
