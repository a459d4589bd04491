"""Independent adversarial review of the weight link's partial-round block
(`hash.gkr_block`; the committed S-box inputs U, table `weights_link.SBOX`
of 2L slots x 32 lanes), at the statement level: real inference proofs of
mlp_clip against a hashed registered commitment (8 slots: dummy 0, root 1,
internal 2..3, leaves 4..7), by a prover that commits what it likes.

* U wrong in one real entry (lanes 0..21) of the root slot, a leaf slot, the
  dummy slot, in the commitment and the sum-check alike, in the commitment
  only, in the sum-check only: rejected;
* U of another weight vector with the honest tree, the forged tree of other
  weights with the honest U: rejected;
* U's padding lanes 22..31 changed: with the ten sent lane values the
  table's, the proof verifies with the honest output (they are irrelevant);
  with the honest zeros sent, rejected by the opening;
* the ten sent lane values tampered in the prover or in the proof bytes:
  rejected;
* a mutant of the statement (the claim on U taken from the commitment, not
  from the block's values) accepts the commitment-only attack: the binding
  the SBOX claim carries is tested;
* structure: a layered link proof against the blocked verifier and the
  reverse, the link section cut inside the ten lane values: a verdict,
  never a crash.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.circuit import encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.hash import commitment as hc
from zkaudit.hash import gkr_block as gb
from zkaudit.hash import gkr_block_prover, gkr_prover
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import prover as inference_prover
from zkaudit.statements.inference import weights_link as wl
from zkaudit.statements.inference import weights_link_prover as wlp
from zkaudit.statements.inference.commitment import hashed_weight_commitment, weight_layouts
from zkaudit.statements.inference.prover import prove
from zkaudit.statements.inference.weights_link_prover import LinkWitness
from zkaudit.statements.verify import verify_proof

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "adversarial"))
from small_circuits import instance, mlp_clip  # noqa: E402

SALT = (424242, 171717)
LANES, PAD_LANES = gb.LANES, gb.LANES - gb.NUM_PARTIAL


@pytest.fixture(scope="module")
def model():
    circuit, weights, x = instance(mlp_clip, seed=3)
    com = hashed_weight_commitment(circuit, weights, SALT)[0].to_bytes()
    plan = wl.LinkPlan.of(circuit, com)
    assert plan.blocked and plan.num_leaves == 4
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    verdict = _verify(circuit, proof, com)
    assert verdict.valid, verdict.reason
    return circuit, weights, x, com, verdict.output


def _verify(circuit, proof, com):
    """verify_proof turns every ProofRejected into a verdict; any other exception fails the test."""
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)


def _bump(u, b, j, delta=1):
    u[b, j] = (int(u[b, j]) + delta) % P


def _edited(edit):
    real = _REAL_SBOX

    def sbox_inputs(layers):
        u = real(layers).copy()
        edit(u)
        return u
    return sbox_inputs


def _honest_table(self):
    """`LinkWitness.sbox_table` with the real `sbox_inputs` (whatever the module holds now)."""
    if self.layers is None:
        self.layers = gkr_prover.trace(self.states)
    return np.ascontiguousarray(_REAL_SBOX(self.layers).reshape(-1))


_REAL_SBOX = gkr_block_prover.sbox_inputs


@pytest.fixture(autouse=True)
def _bank_from_the_estimate(monkeypatch):
    """Each proof starts from the bank estimate, never from a size another
    test's proof of the same circuit left behind: a bank that runs out makes
    the prover try again, and a second attempt would trace the witness's
    states afresh, dropping a forged trace (the rejection would then come
    from elsewhere)."""
    monkeypatch.setattr(inference_prover, "_BANK_SIZES", {})


def _patch_u(monkeypatch, edit, where):
    """U edited by `edit` (on the (2L, 32) table) where the prover uses it:
    'both' (committed and proven), 'commitment' only, 'sumcheck' only."""
    if where in ("both", "sumcheck"):
        monkeypatch.setattr(gkr_block_prover, "sbox_inputs", _edited(edit))
    if where == "sumcheck":
        monkeypatch.setattr(LinkWitness, "sbox_table", _honest_table)
    if where == "commitment":
        def table(self):
            flat = _honest_table(self).copy()
            edit(flat.reshape(-1, LANES))
            return flat
        monkeypatch.setattr(LinkWitness, "sbox_table", table)


def _prove_and_verify(model, monkeypatch, weights=None):
    circuit, honest_weights, x, com, _ = model
    proof = prove(circuit, honest_weights if weights is None else weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    return _verify(circuit, proof, com)


# ------------------------------------------------------------ 1: a wrong real entry of U

SLOTS = {"dummy-0": 0, "root-1": 1, "internal-3": 3, "leaf-4": 4, "last-leaf-7": 7}


@pytest.mark.parametrize("where", ["both", "commitment", "sumcheck"])
@pytest.mark.parametrize("slot", sorted(SLOTS))
def test_one_wrong_real_sbox_input_is_rejected(model, monkeypatch, slot, where):
    b = SLOTS[slot]
    lane = (7 * b + 3) % gb.NUM_PARTIAL  # a real lane, varied with the slot
    _patch_u(monkeypatch, lambda u: _bump(u, b, lane), where)
    verdict = _prove_and_verify(model, monkeypatch)
    assert not verdict.valid, (slot, where)
    # a proven U that breaks the recurrence fails the block's zero-check; a
    # committed one other than the proven one fails the opening
    assert ("hiding" if where == "commitment" else "partial rounds") in verdict.reason, verdict.reason


def test_several_slots_wrong_at_once_are_rejected(model, monkeypatch):
    def edit(u):
        for b, j in ((0, 0), (1, 21), (5, 10), (6, 11)):
            _bump(u, b, j, P - 1)
    _patch_u(monkeypatch, edit, "both")
    assert not _prove_and_verify(model, monkeypatch).valid


def test_a_whole_slot_recomputed_from_another_input_is_rejected(model, monkeypatch):
    """Slot 1's (the root's) 22 S-box inputs replaced by those of another
    permutation input: every lane internally consistent with the recurrence
    of a different x, none with the committed x."""
    rng = np.random.default_rng(2)  # test data only
    other = gkr_block_prover.sbox_inputs(gkr_prover.trace(rng.integers(0, P, size=(1, 8), dtype=np.uint64)))

    def edit(u):
        u[1] = other[0]
    _patch_u(monkeypatch, edit, "both")
    assert not _prove_and_verify(model, monkeypatch).valid


def _one_weight_changed(weights):
    w1 = np.array(weights["w1"])
    w1[0, 1] = w1[0, 1] + 1 if w1[0, 1] < 127 else w1[0, 1] - 1
    return Weights({**{k: weights[k] for k in weights}, "w1": w1})


def _message(circuit, weights):
    layouts = weight_layouts(circuit)
    return hc.message(layouts, [np.asarray(weights[t.name]) for t in layouts], SALT)


def test_u_of_other_weights_with_the_honest_tree_is_rejected(model, monkeypatch):
    """The honest weights and tree, but U traced from the tree of W' (one weight changed)."""
    circuit, weights, _, com, _ = model
    plan = wl.LinkPlan.of(circuit, com)
    other = LinkWitness.from_message(plan, _message(circuit, _one_weight_changed(weights)), SALT)
    forged_u = _REAL_SBOX(other.take_layers())
    monkeypatch.setattr(gkr_block_prover, "sbox_inputs", lambda layers: forged_u)
    assert not _prove_and_verify(model, monkeypatch).valid


@pytest.mark.parametrize("u_from", ["honest-tree", "forged-tree"])
def test_forged_tree_with_registered_root_is_rejected_whatever_u(model, monkeypatch, u_from):
    """W' proven with the tree of W' whose root slot is overwritten by the
    registered root, U either the honest tree's (the registered one's) or
    the forged tree's own."""
    circuit, weights, _, com, _ = model
    plan = wl.LinkPlan.of(circuit, com)
    other = _one_weight_changed(weights)
    witness = LinkWitness.from_message(plan, _message(circuit, other), SALT)
    witness.digests.reshape(-1, 4)[1] = np.array(plan.record.root, dtype=np.uint64)
    witness.states[1:plan.num_leaves] = witness.digests.reshape(-1, 4)[2:].reshape(plan.num_leaves - 1, 8)
    witness.layers = None  # traced again from the edited states
    if u_from == "honest-tree":
        honest = LinkWitness(plan, weights, SALT)
        honest_u = _REAL_SBOX(honest.take_layers())
        monkeypatch.setattr(gkr_block_prover, "sbox_inputs", lambda layers: honest_u)
    monkeypatch.setattr(inference_prover, "_link", lambda *a, **k: (plan, witness))
    assert not _prove_and_verify(model, monkeypatch, other).valid


# ------------------------------------------------------------ 2, 3: the padding lanes


def _lanes_sent(monkeypatch, plan, replace):
    """Spy on the link prover's sends: the last ten values sent after the
    GKR are U~(z', j), j >= 22; `replace(point, j, value)` gives what is
    sent instead. Returns the dict the spy fills (point, sent)."""
    seen = {}
    real_gkr, real_send = gkr_prover.prove_blocked, wlp.send

    def gkr_spy(layers, claim, transcript, **kw):
        out = real_gkr(layers, claim, transcript, **kw)
        seen.update(point=out[2], count=0, sent=[])
        return out

    first_lane = wl.WIDTH + 2 + len(plan.layouts)

    def send_spy(transcript, value):
        if "count" in seen:
            i = seen["count"]
            seen["count"] += 1
            if first_lane <= i < first_lane + PAD_LANES:
                value = replace(seen["point"], gb.NUM_PARTIAL + i - first_lane, value)
            out = real_send(transcript, value)
            if first_lane <= i < first_lane + PAD_LANES:
                seen["sent"].append(out[0])
            return out
        return real_send(transcript, value)

    monkeypatch.setattr(gkr_prover, "prove_blocked", gkr_spy)
    monkeypatch.setattr(wlp, "send", send_spy)
    return seen


def _pad_edit(u):
    for j in range(gb.NUM_PARTIAL, LANES):
        u[:, j] = (np.arange(u.shape[0], dtype=np.uint64) * np.uint64(1000003) + np.uint64(j * 77 + 1)) % np.uint64(P)


def test_padding_lanes_are_irrelevant_when_sent_truthfully(model, monkeypatch):
    circuit, _, _, com, output = model
    plan = wl.LinkPlan.of(circuit, com)
    _patch_u(monkeypatch, _pad_edit, "both")
    table = _edited(_pad_edit)(gkr_prover.trace(np.zeros((2 * plan.num_leaves, 8), dtype=np.uint64)))
    assert table[:, gb.NUM_PARTIAL:].any()

    def truthful(point, j, value):
        assert value == Fp2(0)  # the honest prover sends zero
        u = table[:, j]  # the padding lanes do not depend on the trace
        v = evaluate(np.ascontiguousarray(u), list(point))
        return v if isinstance(v, Fp2) else Fp2.from_base(v)

    seen = _lanes_sent(monkeypatch, plan, truthful)
    verdict = _prove_and_verify(model, monkeypatch)
    assert len(seen["sent"]) == PAD_LANES
    assert verdict.valid, verdict.reason
    assert verdict.output == output


@pytest.mark.parametrize("lane", [gb.NUM_PARTIAL, LANES - 1])
def test_padding_lanes_changed_with_zeros_sent_are_rejected(model, monkeypatch, lane):
    def edit(u):
        _bump(u, 2, lane)
    _patch_u(monkeypatch, edit, "both")
    verdict = _prove_and_verify(model, monkeypatch)
    assert not verdict.valid and "hiding" in verdict.reason, verdict.reason


@pytest.mark.parametrize("lane", [gb.NUM_PARTIAL, gb.NUM_PARTIAL + 4, LANES - 1])
def test_a_tampered_sent_lane_value_is_rejected(model, monkeypatch, lane):
    circuit, _, _, com, _ = model
    plan = wl.LinkPlan.of(circuit, com)
    _lanes_sent(monkeypatch, plan, lambda point, j, v: v + Fp2(5) if j == lane else v)
    verdict = _prove_and_verify(model, monkeypatch)
    assert not verdict.valid and "hiding" in verdict.reason, verdict.reason


def test_sent_lane_bytes_tampered_in_the_proof_are_rejected(model, monkeypatch):
    circuit, weights, x, com, _ = model
    plan = wl.LinkPlan.of(circuit, com)
    seen = _lanes_sent(monkeypatch, plan, lambda point, j, v: v)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    assert _verify(circuit, proof, com).valid
    blobs = [s.to_bytes() for s in seen["sent"]]
    run = b"".join(blobs)
    assert proof.count(run) == 1
    start = proof.find(run)
    for i in (0, 4, PAD_LANES - 1):
        for flip in (0, 9):  # a bit of the first and of the second coordinate
            bad = bytearray(proof)
            bad[start + 16 * i + flip] ^= 1
            assert not _verify(circuit, bytes(bad), com).valid, (i, flip)
    # two lanes' values swapped
    bad = bytearray(proof)
    bad[start: start + 32] = blobs[1] + blobs[0]
    assert blobs[0] == blobs[1] or not _verify(circuit, bytes(bad), com).valid


# ------------------------------------------------------------ 5: a statement mutant


def test_mutant_claim_from_the_commitment_accepts_the_commitment_only_attack(model, monkeypatch):
    """If the claim on U were built from the committed table instead of the
    block's values, a committed U other than the one proven would pass:
    the SBOX claim's binding is what the commitment-only test exercises."""
    circuit, _, _, com, _ = model
    committed = {}
    real_claim = wl.sbox_claim

    def edit(u):
        _bump(u, 1, 4)

    def table(self):
        flat = _honest_table(self).copy()
        edit(flat.reshape(-1, LANES))
        committed["u"] = flat
        return flat

    def mutant_claim(plan, point, lanes, sent_lanes, transcript):
        c = real_claim(plan, point, lanes, sent_lanes, transcript)
        v = evaluate(committed["u"], list(c.point))
        v = v if isinstance(v, Fp2) else Fp2.from_base(v)
        return dataclasses.replace(c, value=v)

    monkeypatch.setattr(LinkWitness, "sbox_table", table)
    monkeypatch.setattr(wl, "sbox_claim", mutant_claim)
    proof = prove(circuit, *model[1:3], weight_commitment=com, weight_salt=SALT)
    monkeypatch.setattr(LinkWitness, "sbox_table", _honest_table)
    assert _verify(circuit, proof, com).valid, "the mutant should accept (else the attack proves nothing)"
    monkeypatch.undo()
    assert not _verify(circuit, proof, com).valid


def _solve(matrix, rhs):
    """matrix^-1 rhs mod p (Gauss-Jordan on Python ints; the matrix square and invertible)."""
    n = len(matrix)
    a = [[v % P for v in row] + [r % P] for row, r in zip(matrix, rhs)]
    for c in range(n):
        piv = next(i for i in range(c, n) if a[i][c])
        a[c], a[piv] = a[piv], a[c]
        inv = pow(a[c][c], P - 2, P)
        a[c] = [v * inv % P for v in a[c]]
        for i in range(n):
            if i != c and a[i][c]:
                f = a[i][c]
                a[i] = [(v - f * w) % P for v, w in zip(a[i], a[c])]
    return [row[n] for row in a]


SEVENTH_ROOT = pow(7, -1, P - 1)  # x -> x^7 is a bijection of F_p (gcd(7, p - 1) = 1)


def _root_slot_preimage(plan, witness):
    """For the forged tree's root slot (input x fixed by the forged
    children): a V_26 whose four last full rounds give the registered root
    (lanes 4..7 kept), and 22 S-box inputs U with A x + B U^7 + e = V_26,
    the first 14 honest, the last 8 solved for. The layers from V_26 up are
    rewritten; U breaks the partial rounds' recurrence (the zero-check's job)."""
    from zkaudit.hash.gkr import NUM_ROUNDS, ROUNDS

    layers = witness.take_layers()
    b = 1
    target = [int(v) for v in plan.record.root] + [int(v) for v in layers[NUM_ROUNDS, 4:, b]]
    chain = [target]
    for r in range(NUM_ROUNDS - 1, gb.AFTER_PARTIAL - 1, -1):  # invert the final full rounds
        s = _solve(ROUNDS[r].matrix, chain[0])
        chain.insert(0, [(pow(v, SEVENTH_ROOT, P) - c) % P for v, c in zip(s, ROUNDS[r].constants)])
    x = [int(v) for v in layers[gb.FIRST_PARTIAL, :, b]]
    u = [int(v) for v in _REAL_SBOX(layers)[b, : gb.NUM_PARTIAL]]
    w = [pow(v, 7, P) for v in u]
    free = list(range(gb.NUM_PARTIAL - 8, gb.NUM_PARTIAL))
    rhs = [(chain[0][k] - gb.BLOCK.e[k] - sum(a * v for a, v in zip(gb.BLOCK.a[k], x))
            - sum(gb.BLOCK.b[k][j] * w[j] for j in range(gb.NUM_PARTIAL) if j not in free)) % P for k in range(8)]
    sol = _solve([[gb.BLOCK.b[k][j] for j in free] for k in range(8)], rhs)
    for j, wj in zip(free, sol):
        u[j] = pow(wj, SEVENTH_ROOT, P)
    assert [pow(v, 7, P) for v in u[-8:]] == sol
    for i, state in enumerate(chain):
        layers[gb.AFTER_PARTIAL + i, :, b] = np.array(state, dtype=np.uint64)
    witness.layers = layers
    # the same forged trace on every attempt: a prover whose advice bank runs
    # out proves again, and the witness would otherwise trace its states afresh
    witness.take_layers = lambda: layers.copy()
    return u


@pytest.mark.parametrize("zero_check", [True, False], ids=["protocol", "mutant-mu-zero"])
def test_forged_weights_through_a_forged_root_permutation(model, monkeypatch, zero_check):
    """The forged tree of W' (one weight changed) whose root permutation is
    made to output the registered root through chosen S-box inputs: every
    check but the block's zero-check holds. The protocol rejects it (in the
    block); a mutant with mu = 0 on both sides (no zero-check) accepts the
    forged weights: the zero-check is what binds U to the permutation."""
    circuit, weights, _, com, _ = model
    plan = wl.LinkPlan.of(circuit, com)
    other = _one_weight_changed(weights)
    witness = LinkWitness.from_message(plan, _message(circuit, other), SALT)
    witness.digests.reshape(-1, 4)[1] = np.array(plan.record.root, dtype=np.uint64)
    u_root = _root_slot_preimage(plan, witness)

    def sbox_inputs(layers):
        out = _REAL_SBOX(layers).copy()
        out[1, : gb.NUM_PARTIAL] = np.array(u_root, dtype=np.uint64)
        return out

    monkeypatch.setattr(gkr_block_prover, "sbox_inputs", sbox_inputs)
    monkeypatch.setattr(inference_prover, "_link", lambda *a, **k: (plan, witness))
    if not zero_check:
        real_draw = gb.draw
        monkeypatch.setattr(gb, "draw", lambda t, n: (real_draw(t, n)[0], Fp2(0)))
    proof = prove(circuit, other, model[2], weight_commitment=com, weight_salt=SALT)
    verdict = _verify(circuit, proof, com)  # under the mutant when zero_check is False
    monkeypatch.undo()
    if zero_check:
        assert not verdict.valid and "partial rounds" in verdict.reason, verdict.reason
    else:
        assert verdict.valid, f"the mutant should accept the forged weights: {verdict.reason}"
        assert not _verify(circuit, proof, com).valid  # ... and the protocol does not


def test_mutant_verifier_dropping_the_sbox_claim_is_caught(model, monkeypatch):
    """A verifier that drops the claim on U from what it opens: the honest
    proof (whose opening covers that claim) or the commitment-only attack
    exposes it."""
    circuit, weights, x, com, _ = model
    honest = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    _patch_u(monkeypatch, lambda u: _bump(u, 1, 4), "commitment")
    attack = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    real_verify = wl.verify_deferred

    def dropping(*a):
        claims, sums = real_verify(*a)
        return [c for c in claims if c.tensor != wl.SBOX], sums

    monkeypatch.setattr(wl, "verify_deferred", dropping)
    exposed = not _verify(circuit, honest, com).valid or _verify(circuit, attack, com).valid
    monkeypatch.undo()
    assert exposed
    assert _verify(circuit, honest, com).valid and not _verify(circuit, attack, com).valid


# ------------------------------------------------------------ 6: structure


def _layered(monkeypatch):
    """Prove with the layered GKR (30 sum-checks, no U) where the plan says block."""
    real_of = wl.LinkPlan.of

    def of(circuit, data, *, block_partial_rounds=True):
        return real_of(circuit, data, block_partial_rounds=False)
    monkeypatch.setattr(wl.LinkPlan, "of", staticmethod(of))


def test_a_layered_link_against_the_blocked_verifier_is_a_verdict(model, monkeypatch):
    circuit, weights, x, com, _ = model
    _layered(monkeypatch)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    assert _verify(circuit, proof, com).valid  # the layered verifier accepts its own proof
    monkeypatch.undo()
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid and verdict.reason


def test_a_blocked_link_against_the_layered_verifier_is_a_verdict(model, monkeypatch):
    circuit, weights, x, com, _ = model
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    _layered(monkeypatch)
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid and verdict.reason


def test_thirty_round_proofs_where_nine_are_due_are_a_verdict(model, monkeypatch):
    """The blocked plan (U committed) but the layered GKR's 30 sum-checks in
    the block's place: the verifier reads nine and parses the rest as what
    follows; a verdict, never a crash."""
    circuit, weights, x, com, _ = model

    def layered(layers, claim, transcript, **kw):
        proofs, xc = gkr_prover.prove(layers, claim, transcript, **kw)
        return proofs, xc, tuple(xc.point), (Fp2(0),) * gb.NUM_PARTIAL

    monkeypatch.setattr(gkr_prover, "prove_blocked", layered)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    verdict = _verify(circuit, proof, com)
    assert not verdict.valid and verdict.reason


def test_link_section_cut_inside_the_lane_values_is_a_verdict(model, monkeypatch):
    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.inference.proof import STATEMENT, InferenceBody

    circuit, weights, x, com, _ = model
    plan = wl.LinkPlan.of(circuit, com)
    seen = _lanes_sent(monkeypatch, plan, lambda point, j, v: v)
    proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT)
    monkeypatch.undo()
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit, com)
    run = b"".join(s.to_bytes() for s in seen["sent"])
    start = body.layers.find(run)
    assert start >= 0 and body.layers.count(run) == 1
    end = start + len(run)
    variants = [body.layers[:start + 16 * k] + body.layers[end:] for k in (0, 1, 5, PAD_LANES - 1)]
    variants += [body.layers[:start + 7], body.layers[:end - 3], body.layers[:end]]
    variants.append(body.layers[:end] + run[:16] + body.layers[end:])  # an eleventh lane
    for layers in variants:
        changed = encode_envelope(STATEMENT, dataclasses.replace(body, layers=layers).to_bytes(circuit))
        verdict = _verify(circuit, changed, com)
        assert not verdict.valid and verdict.reason
