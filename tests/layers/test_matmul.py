"""MatMul layer: honest reductions over awkward shapes (checked by discharging
every output claim against the real tensors), and attacks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.circuit.kernels import matmul
from zkaudit.errors import MalformedProof
from zkaudit.field import Fp, Fp2, vec
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.matmul import prover, verifier
from zkaudit.layers.matmul.proof import MatMulProof, MatMulShape
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck.errors import FinalEvaluationMismatch, ProofShapeError, RoundSumMismatch
from zkaudit.transcript import Transcript

NAMES = ("x", "w", "b")


def _transcript():
    t = Transcript()
    t.absorb_statement("matmul-test", 1)
    return t


def _as_ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _case(m, k, n, za, zb, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, size=(m, k))
    b = rng.integers(-127, 128, size=(k, n))
    c = rng.integers(-(2**20), 2**20, size=(n,)) if bias else None
    y = matmul(a, b, c, a_zero_point=za, b_zero_point=zb)
    shape = MatMulShape(m, k, n, za, zb, bias)
    tables = {"x": embed(a), "w": embed(b), "b": embed(c) if bias else None, "y": embed(y)}
    point = tuple(Fp2(int(u), int(v)) for u, v in vec.ext_random(num_vars((m, n)), rng))
    claim = TensorClaim("y", point, _as_ext(evaluate(tables["y"], point)))
    return shape, tables, claim


def _prove(shape, tables, claim):
    return prover.prove(shape, NAMES, claim, tables["x"], tables["w"], tables["b"], _transcript())


def _discharge(claims, tables):
    for c in claims:
        assert _as_ext(evaluate(tables[c.tensor], c.point)) == c.value, c.tensor


@pytest.mark.parametrize(
    "m,k,n,za,zb,bias",
    [(1, 30, 16, -70, 0, True), (3, 5, 7, 3, -2, False), (4, 8, 2, 0, 0, True), (1, 1, 1, 5, 1, True), (5, 64, 3, -128, 0, True)],
)
def test_honest_reduction_discharges(m, k, n, za, zb, bias):
    shape, tables, claim = _case(m, k, n, za, zb, bias)
    proof, prover_claims = _prove(shape, tables, claim)
    parsed, end = MatMulProof.read(proof.to_bytes(), 0)
    assert end == len(proof.to_bytes())
    claims = verifier.verify(shape, NAMES, claim, parsed, _transcript())
    assert claims == prover_claims
    _discharge(claims, tables)


def test_wrong_output_rejected():
    shape, tables, claim = _case(2, 6, 3, 1, 0)
    proof, _ = _prove(shape, tables, claim)
    forged = dataclasses.replace(claim, value=claim.value + 1)
    with pytest.raises(RoundSumMismatch):
        verifier.verify(shape, NAMES, forged, proof, _transcript())


def test_prover_claiming_a_wrong_output_is_rejected():
    # An honest-looking prover asserting Y~(r) for a Y with one wrong entry:
    # the inner-product sum of the true A, B differs, so round 0 fails.
    shape, tables, claim = _case(2, 6, 3, 1, 0)
    bad_y = tables["y"].copy()
    bad_y[0] = np.uint64(int(bad_y[0]) + 1)  # a small value: no wrap-around
    bad_claim = dataclasses.replace(claim, value=_as_ext(evaluate(bad_y, claim.point)))
    proof, _ = _prove(shape, tables, bad_claim)
    with pytest.raises(RoundSumMismatch):
        verifier.verify(shape, NAMES, bad_claim, proof, _transcript())


def test_tampered_bias_value_rejected():
    shape, tables, claim = _case(2, 6, 3, 1, 0)
    proof, _ = _prove(shape, tables, claim)
    tampered = dataclasses.replace(proof, bias_value=proof.bias_value + 1)
    with pytest.raises(RoundSumMismatch):
        verifier.verify(shape, NAMES, claim, tampered, _transcript())


def test_weights_changed_after_commitment_fail_discharge():
    shape, tables, claim = _case(2, 6, 3, 1, 0)
    proof, _ = _prove(shape, tables, claim)
    claims = verifier.verify(shape, NAMES, claim, proof, _transcript())
    other = dict(tables)
    w = other["w"].copy()
    w[1] = np.uint64((int(w[1]) + 1))
    other["w"] = w
    with pytest.raises(AssertionError, match="w"):
        _discharge(claims, other)


def test_missing_bias_is_a_shape_error():
    shape, tables, claim = _case(2, 6, 3, 1, 0)
    proof, _ = _prove(shape, tables, claim)
    with pytest.raises(ProofShapeError):
        verifier.verify(shape, NAMES, claim, dataclasses.replace(proof, bias_value=None), _transcript())


def test_tampered_final_value_rejected():
    shape, tables, claim = _case(2, 6, 3, 1, 0)
    proof, _ = _prove(shape, tables, claim)
    sc = proof.sumcheck
    sc = dataclasses.replace(sc, final_values=(sc.final_values[0] + 1, sc.final_values[1]))
    with pytest.raises(FinalEvaluationMismatch):
        verifier.verify(shape, NAMES, claim, dataclasses.replace(proof, sumcheck=sc), _transcript())


def test_truncated_bytes_rejected():
    shape, tables, claim = _case(2, 6, 3, 1, 0)
    proof, _ = _prove(shape, tables, claim)
    data = proof.to_bytes()
    for cut in (0, 1, 10, len(data) - 1):
        with pytest.raises(MalformedProof):
            MatMulProof.read(data[:cut], 0)
