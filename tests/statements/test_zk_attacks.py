"""Leakage attacks (design note §9): each recovers a secret from what a
verifier sees in a plain proof, and must recover nothing from a
zero-knowledge proof of the same statement.

The attacker is an honest verifier that keeps what it learns: every claim
the proof's openings are asked to confirm (the point and the value, or the
linear form and its value). Each claim on a table is a linear equation on
its entries, and a small record or advice tensor has few entries, so a
handful of claims pins it down. In a zero-knowledge proof each such claim
also carries a fresh pad of the proof's bank, one more unknown per
equation: the equations are then satisfied by every candidate record."""

from __future__ import annotations

import sys
from pathlib import Path

import galois
import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.layers.tensor import num_vars
from zkaudit.pcs.claim import Claim
from zkaudit.pcs.hiding import LinearClaim
from zkaudit.poly.mle import eq_table, point_array
from zkaudit.statements.inference import verifier as inference_verifier
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "adversarial"))
from small_circuits import _rq, chain  # noqa: E402

GF = galois.GF(P)
OPENING = bytes(range(32))


def _model():
    x = TensorSpec("x", (1, 4), -128, 127, 0.1, 0)
    w = TensorSpec("w", (4, 3), -127, 127)
    nodes = [Node.make("mm", "MatMul", ["x", "w"], "acc", a_zero_point=0, b_zero_point=0),
             _rq("rq", "acc", "y", channels=3)]
    circuit = chain("attacked", [x], [w], nodes, ["y"])
    rng = np.random.default_rng(11)
    return circuit, Weights({"w": rng.integers(-127, 128, (4, 3))}), rng.integers(-128, 128, (1, 4))


def _captured_claims(circuit, weights, proof) -> dict[str, list]:
    """Verify `proof` and keep the claims each opening confirmed."""
    seen: dict[str, list] = {}
    real = inference_verifier.pcs_verify

    def spy(com, claims, opening, transcript, params):
        real(com, claims, opening, transcript, params)
        seen.setdefault(com.digest(), []).extend(claims)

    inference_verifier.pcs_verify = spy
    try:
        com = commit_weights(circuit, weights)[0].to_bytes()
        verdict = verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)
    finally:
        inference_verifier.pcs_verify = real
    assert verdict.valid, verdict.reason
    return seen


def _equations(claims, table_index: int, size: int, *, pads: bool):
    """Rows over GF(p) (two per claim: its value's two coordinates) on the
    table's entries, plus one unknown pair per claim's bank terms when
    `pads` (the attacker knows a term is there, not its value)."""
    rows, rhs = [], []
    k = 0
    for c in claims:
        if isinstance(c, Claim):
            if c.poly_index != table_index:
                continue
            terms, value, padded = [(c.point, Fp2(1))], c.value, False
        else:
            terms = [(z, a) for t, z, a in c.evals if t == table_index]
            if not terms:
                continue
            value, padded = c.value, bool(c.entries)
        coeff = [Fp2(0)] * size
        for z, a in terms:
            e = eq_table(point_array(list(z)))
            for i in range(size):
                coeff[i] = coeff[i] + a * Fp2(int(e[i][0]), int(e[i][1]))
        # the entries are integers: one equation sum_i coeff_i x_i (+ pad) = value in GF(p^2)
        # is two over GF(p), one per coordinate; an unknown pad u = u0 + X u1 adds u0 to the
        # first and u1 to the second
        extra0 = [0] * (2 * len(claims)) if pads else []
        extra1 = list(extra0)
        if pads and padded:
            extra0[2 * k], extra1[2 * k + 1] = 1, 1
        rows.append([c_.c0 for c_ in coeff] + extra0)
        rows.append([c_.c1 for c_ in coeff] + extra1)
        rhs += [value.c0, value.c1]
        k += 1
    return rows, rhs


def _recover(claims, table_index: int, size: int, *, pads: bool):
    rows, rhs = _equations(claims, table_index, size, pads=pads)
    if not rows:
        return None
    A, b = GF(np.array(rows, dtype=object) % P), GF(np.array(rhs, dtype=object) % P)
    aug = np.hstack([A, b.reshape(-1, 1)])
    if np.linalg.matrix_rank(aug) != np.linalg.matrix_rank(A):
        return "inconsistent"
    null = A.null_space() if np.linalg.matrix_rank(A) < A.shape[1] else GF.Zeros((0, A.shape[1]))
    if null.shape[0] and np.any(null[:, :size] != 0):
        return None  # some record entry is free: the claims do not determine the record
    # determined: solve on an independent subset of rows
    red = aug.row_reduce()
    out = []
    for col in range(size):
        row = next(r for r in range(red.shape[0]) if red[r, col] == 1 and not np.any(red[r, :col] != 0))
        out.append(int(red[row, -1]))
    return [v - P if v > P // 2 else v for v in out]


@pytest.fixture(scope="module")
def model():
    return _model()


def _input_claims(circuit, weights, proof):
    from zkaudit.pcs import Commitment
    from zkaudit.statements.envelope import parse_envelope
    from zkaudit.statements.inference.proof import InferenceBody

    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    seen = _captured_claims(circuit, weights, proof)
    return seen.get(Commitment.from_bytes(body.input_commitment).digest(), [])


def test_record_recovered_from_a_plain_proof_and_not_from_a_zero_knowledge_one(model):
    circuit, weights, x = model
    size = 1 << num_vars(x.shape)
    plain = prove(circuit, weights, {"x": x}, commit_input=True, zero_knowledge=False)
    got = _recover(_input_claims(circuit, weights, plain), 0, size, pads=False)
    assert got is not None and got[: x.size] == x.ravel().tolist(), "the attack fails on the plain proof"
    zk = prove(circuit, weights, {"x": x}, commit_input=True, input_opening=OPENING)
    claims = _input_claims(circuit, weights, zk)
    assert claims and all(isinstance(c, LinearClaim) and c.entries for c in claims)
    assert _recover(claims, 0, size, pads=True) is None, "a zero-knowledge proof's claims pin the record down"


def _advice_claims(circuit, weights, proof, name):
    from zkaudit.layers.dispatch_verifier import advice_shapes
    from zkaudit.pcs import Commitment
    from zkaudit.statements.envelope import parse_envelope
    from zkaudit.statements.inference import committed_range
    from zkaudit.statements.inference.proof import InferenceBody

    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    seen = _captured_claims(circuit, weights, proof)
    advice = advice_shapes(circuit.nodes, circuit.specs())
    advice.update(committed_range.plan(circuit, committed_inputs=body.committed_input).advice_shapes())
    index = sorted(advice).index(name)
    return seen.get(Commitment.from_bytes(body.advice_commitment).digest(), []), index, advice[name]


def test_advice_recovered_from_a_plain_proof_and_not_from_a_zero_knowledge_one(model):
    """The requantized output y is advice: a plain proof's claims on it give it away."""
    circuit, weights, x = model
    plain = prove(circuit, weights, {"x": x}, zero_knowledge=False)
    claims, index, shape = _advice_claims(circuit, weights, plain, "y")
    size = 1 << num_vars(shape)
    y = circuit.execute(weights, {"x": x})["y"]
    got = _recover(claims, index, size, pads=False)
    if got is None:  # fewer claims than entries on this tensor: the attack needs more proofs, say so
        pytest.skip("the plain proof makes too few claims on y to pin it down alone")
    assert got[: y.size] == y.ravel().tolist()
    zk = prove(circuit, weights, {"x": x})
    claims, index, _ = _advice_claims(circuit, weights, zk, "y")
    assert _recover(claims, index, size, pads=True) is None
