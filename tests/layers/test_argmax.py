"""ArgMax (keyed window maximum): honest reductions with every claim
discharged (first/last index on ties, any axis, keepdims), an end-to-end
inference proof, and attacks (a tied maximum under the wrong rule, an index
that is not the selector's, a non-maximum, a selector not one-hot, tampered
bytes)."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.circuit import Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit import kernels as ir
from zkaudit.circuit.weights import Weights
from zkaudit.errors import ProofRejected
from zkaudit.field import Fp, Fp2
from zkaudit.layers.argmax import prover, verifier
from zkaudit.layers.pool import prover as pool_prover
from zkaudit.layers.pool import verifier as pool_verifier
from zkaudit.layers.pool.proof import WindowMaxProof
from zkaudit.layers.tensor import embed
from zkaudit.lookup import LookupSumNonZero
from zkaudit.poly.mle import evaluate
from zkaudit.statements.envelope import encode_envelope, parse_envelope
from zkaudit.statements.inference.proof import STATEMENT, InferenceBody
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof
from zkaudit.sumcheck.errors import RoundSumMismatch
from zkaudit.transcript import Transcript


def _t():
    t = Transcript()
    t.absorb_statement("argmax-test", 1)
    return t


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def discharge(claims, tables):
    for c in claims:
        assert _ext(evaluate(tables[c.tensor], c.point)) == c.value, c.tensor


def _setup(shape, axis, keepdims, last, seed=0, lo=-128, hi=127, x=None):
    rng = np.random.default_rng(seed)
    x = rng.integers(lo, hi + 1, size=shape) if x is None else np.asarray(x)
    attrs = dict(axis=axis, keepdims=keepdims, select_last_index=last)
    y = ir.argmax(x, **attrs)
    node = Node.make("am", "ArgMax", ["x"], "y", **attrs)
    specs = {"x": TensorSpec("x", tuple(shape), lo, hi), "y": TensorSpec("y", y.shape, 0, shape[axis] - 1)}
    return node, specs, x, y


def _prove(node, specs, x, advice):
    windows, bits, names, keying = verifier.setup(node, specs)
    tables = {"x": embed(x), **{k: embed(v) for k, v in advice.items()}}
    proof, pclaims = pool_prover.prove_max(windows, bits, names, tables, _t(), keying=keying)
    return proof, pclaims, tables


def _verify(node, specs, proof):
    windows, bits, names, keying = verifier.setup(node, specs)
    parsed, end = WindowMaxProof.read(proof.to_bytes(), 0)
    assert end == len(proof.to_bytes())
    return pool_verifier.verify_max(windows, bits, names, parsed, _t(), keying=keying)


CASES = [
    ((1, 10), 1, 1, 0), ((1, 10), 1, 0, 1), ((3, 5), 0, 1, 0), ((3, 5), 0, 0, 1),
    ((2, 3, 4), 1, 0, 0), ((4, 1), 0, 1, 1),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("ties", [False, True])
def test_honest_reduction_discharges(case, ties):
    shape, axis, keepdims, last = CASES[case]
    lo, hi = (-2, 1) if ties else (-128, 127)
    node, specs, x, y = _setup(shape, axis, keepdims, last, lo=lo, hi=hi)
    advice = prover.argmax_advice(node, specs, {"x": x, "y": y})
    proof, pclaims, tables = _prove(node, specs, x, advice)
    claims = _verify(node, specs, proof)
    assert claims == pclaims
    discharge(claims, tables)
    shapes = verifier.advice_shapes(node, specs)
    assert set(shapes) == set(advice) and all(tuple(np.shape(advice[k])) == shapes[k] for k in shapes)


def _tie():
    return np.array([[3, 7, 1, 7, 7, 0]])


def _forged(node, specs, x, idx_value, select_slot, *, m_override=None):
    """Advice whose index and selector point at `select_slot` of row 0."""
    windows, bits, names, keying = verifier.setup(node, specs)
    x_t = embed(x)
    kp = 1 << windows.slot_vars
    m = prover.keyed_max(windows, keying, x_t)[:1].reshape(1, 1) if m_override is None else m_override
    d = pool_prover.differences(windows, x_t, embed(m), keying)
    select = np.zeros(d.shape[0], dtype=np.int64)
    select[select_slot] = 1
    select[kp:] = 0
    advice = {"y": np.array([idx_value]), names.y: m, names.select: select,
              names.mults[0]: np.bincount(np.mod(d, 1 << bits), minlength=1 << bits)}
    return _prove(node, specs, x, advice)


def test_attack_tied_maximum_under_wrong_rule_rejected():
    """First-index rule, x has 7 at 1, 3, 4: claiming index 3 (a true max) fails."""
    node, specs, x, y = _setup((1, 6), 1, 0, 0, x=_tie())
    assert y.tolist() == [1]
    windows, _, _, keying = verifier.setup(node, specs)
    m_at_3 = np.array([[8 * 7 + keying.key[3]]])  # the key of slot 3: below slot 1's key
    proof, _, _ = _forged(node, specs, x, 3, 3, m_override=m_at_3)
    with pytest.raises(LookupSumNonZero):  # m' - key(slot 1) < 0
        _verify(node, specs, proof)


def test_attack_index_not_the_selected_slot_rejected():
    node, specs, x, y = _setup((1, 6), 1, 0, 1, x=_tie())
    assert y.tolist() == [4]
    proof, _, _ = _forged(node, specs, x, 3, 4)  # selector honest at slot 4, index says 3
    with pytest.raises(RoundSumMismatch):  # sum_k k s = 4, Idx~(rho_y) is 3's
        _verify(node, specs, proof)


def test_attack_selector_on_non_maximal_key_rejected():
    """Last-index rule: index 3 with the selector at slot 3 and honest m' (the
    key of slot 4): the selected D = m' - key(3) > 0."""
    node, specs, x, _ = _setup((1, 6), 1, 0, 1, x=_tie())
    proof, _, _ = _forged(node, specs, x, 3, 3)
    with pytest.raises(RoundSumMismatch):
        _verify(node, specs, proof)


def test_attack_selector_not_one_hot_rejected():
    node, specs, x, _ = _setup((1, 6), 1, 0, 0, x=_tie())
    windows, bits, names, keying = verifier.setup(node, specs)
    advice = prover.argmax_advice(node, specs, {"x": x, "y": np.array([1])})
    advice[names.select] = advice[names.select].copy()
    advice[names.select][3] = 1  # slots 1 and 3 selected, index = 1 + 3
    advice["y"] = np.array([4])
    proof, _, _ = _prove(node, specs, x, advice)
    with pytest.raises(RoundSumMismatch):
        _verify(node, specs, proof)


def test_tampered_proof_bytes_rejected():
    node, specs, x, y = _setup((3, 5), 1, 1, 0)
    advice = prover.argmax_advice(node, specs, {"x": x, "y": y})
    proof, _, tables = _prove(node, specs, x, advice)
    windows, bits, names, keying = verifier.setup(node, specs)
    raw = proof.to_bytes()
    rng = np.random.default_rng(2)
    for pos in rng.choice(len(raw), 20, replace=False):
        bad = bytearray(raw)
        bad[pos] ^= 0x77
        with pytest.raises(ProofRejected):
            parsed, end = WindowMaxProof.read(bytes(bad), 0)
            if end != len(bad):
                raise ProofRejected("trailing bytes")
            claims = pool_verifier.verify_max(windows, bits, names, parsed, _t(), keying=keying)
            for c in claims:
                if _ext(evaluate(tables[c.tensor], c.point)) != c.value:
                    raise ProofRejected(f"claim on {c.tensor} does not discharge")


def test_end_to_end_argmax():
    x_spec = TensorSpec("x", (3, 5), -64, 63)
    b_spec = TensorSpec("b", (3, 5), -64, 63)
    h_spec = TensorSpec("h", (3, 5), -128, 126)
    y_spec = TensorSpec("y", (3,), 0, 4)
    nodes = (Node.make("add", "Add", ["x", "b"], "h", a_zero_point=0, b_zero_point=0),
             Node.make("am", "ArgMax", ["h"], "y", axis=1, keepdims=0, select_last_index=0))
    circuit = Circuit("argmax-e2e", (x_spec,), (y_spec,), (b_spec,), nodes, (h_spec, y_spec))
    rng = np.random.default_rng(0)
    weights = Weights({"b": rng.integers(-64, 64, (3, 5))})
    commitment, _ = commit_weights(circuit, weights)
    x = rng.integers(-64, 64, (3, 5))
    x[0, :] = np.clip(-weights["b"][0, :], -64, 63)  # h[0] = x + b: a row of ties
    proof = prove(circuit, weights, {"x": x})
    verdict = verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=commitment.to_bytes())
    assert verdict.valid, verdict.reason
    assert verdict.output == {k: v.tolist() for k, v in circuit.execute(weights, {"x": x}).items()}
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    y = body.outputs["y"].copy()
    y[0] = (y[0] + 1) % 5  # another index of the tied row
    forged = encode_envelope(STATEMENT, InferenceBody(body.inputs, {"y": y}, body.advice_commitment, body.layers,
                                                      body.weight_opening, body.advice_opening).to_bytes(circuit))
    assert not verify_proof(forged, circuit_bin=encode_circuit(circuit),
                            weight_commitment=commitment.to_bytes()).valid
