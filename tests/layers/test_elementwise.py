"""Elementwise layers: honest reductions discharge against the real tensors;
wrong outputs and tampered messages are rejected."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.circuit import kernels
from zkaudit.field import Fp, Fp2, vec
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.elementwise import prover, verifier
from zkaudit.layers.elementwise.proof import ElementwiseShape, LinearProof
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck.errors import RoundSumMismatch
from zkaudit.transcript import Transcript

NAMES = ("a", "b")
OPS = {"Add": kernels.add, "Sub": kernels.sub, "Mul": kernels.mul}


def _t():
    t = Transcript()
    t.absorb_statement("elementwise-test", 1)
    return t


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _case(op, shape, za, zb, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, size=shape)
    b = rng.integers(-128, 128, size=shape)
    y = OPS[op](a, b, a_zero_point=za, b_zero_point=zb)
    tables = {"a": embed(a), "b": embed(b), "y": embed(y)}
    point = tuple(Fp2(int(u), int(v)) for u, v in vec.ext_random(num_vars(shape), rng))
    return ElementwiseShape(op, shape, za, zb), tables, TensorClaim("y", point, _ext(evaluate(tables["y"], point)))


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("shape,za,zb", [((1, 10), 3, -5), ((3, 5, 7), 0, 0), ((2, 4), -128, 7)])
def test_honest_reduction_discharges(op, shape, za, zb):
    spec, tables, claim = _case(op, shape, za, zb)
    proof, prover_claims = prover.prove(spec, NAMES, claim, tables["a"], tables["b"], _t())
    claims = verifier.verify(spec, NAMES, claim, proof, _t())
    assert claims == prover_claims
    for c in claims:
        assert _ext(evaluate(tables[c.tensor], c.point)) == c.value


@pytest.mark.parametrize("op", ["Add", "Sub"])
def test_linear_wrong_output_fails_discharge(op):
    spec, tables, claim = _case(op, (3, 5), 1, 2)
    forged = dataclasses.replace(claim, value=claim.value + 1)
    proof, _ = prover.prove(spec, NAMES, forged, tables["a"], tables["b"], _t())
    claims = verifier.verify(spec, NAMES, forged, proof, _t())
    b_claim = claims[1]
    assert _ext(evaluate(tables["b"], b_claim.point)) != b_claim.value


def test_linear_tampered_alpha_fails_discharge():
    spec, tables, claim = _case("Add", (3, 5), 1, 2)
    proof, _ = prover.prove(spec, NAMES, claim, tables["a"], tables["b"], _t())
    claims = verifier.verify(spec, NAMES, claim, LinearProof(proof.a_value + 1), _t())
    assert _ext(evaluate(tables["a"], claims[0].point)) != claims[0].value


def test_mul_wrong_output_rejected():
    spec, tables, claim = _case("Mul", (3, 5), 1, 2)
    proof, _ = prover.prove(spec, NAMES, claim, tables["a"], tables["b"], _t())
    with pytest.raises(RoundSumMismatch):
        verifier.verify(spec, NAMES, dataclasses.replace(claim, value=claim.value + 1), proof, _t())


def test_mul_forged_eq_value_rejected():
    # Scale e* by 2 and a* by 1/2: the product (and so the sum-check) still
    # holds; only the verifier's own eq(r, s) catches it.
    from zkaudit.sumcheck.errors import FinalEvaluationMismatch

    spec, tables, claim = _case("Mul", (3, 5), 1, 2)
    proof, _ = prover.prove(spec, NAMES, claim, tables["a"], tables["b"], _t())
    e, a, b = proof.sumcheck.final_values
    forged_sc = dataclasses.replace(proof.sumcheck, final_values=(e * 2, a / 2, b))
    with pytest.raises(FinalEvaluationMismatch, match="eq"):
        verifier.verify(spec, NAMES, claim, dataclasses.replace(proof, sumcheck=forged_sc), _t())
