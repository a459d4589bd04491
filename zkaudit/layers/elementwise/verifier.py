"""Elementwise verifier. With A° = (A - za) I and B° = (B - zb) I (I the
indicator of real entries; zero on the padding like Y):

Add/Sub, Y = A° ± B°.  Claim Y~(r) = v. The prover sends alpha = A~(r); then
    B~(r) = ±(v - (alpha - za I(r))) + zb I(r)
follows, and both are returned as claims. No randomness is used: a wrong
alpha makes the B claim wrong, caught when that claim is discharged.

Mul, Y = A° B°.  Claim Y~(r) = v = sum_x eq(r, x) A°(x) B°(x): a degree-3
sum-check over [eq_r, A°, B°] to a point s with finals (e*, a*, b*). The
verifier recomputes e* = eq(r, s) itself, then returns
    A~(s) = a* + za I(s),   B~(s) = b* + zb I(s).
Soundness: 3 n / p^2 for n variables.
"""

from __future__ import annotations

from zkaudit.field.scalar import Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.elementwise.proof import ElementwiseShape, LinearProof, MulProof
from zkaudit.layers.tensor import num_vars, real_indicator
from zkaudit.poly.mle import eq_eval
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import receive
from zkaudit.sumcheck.errors import FinalEvaluationMismatch, ProofShapeError
from zkaudit.transcript import Transcript

LABEL_ALPHA = b"elementwise/a-value"
MUL_SPEC = SumOfProducts.product(3)  # eq_r * A° * B°
LINEAR_OPS = ("Add", "Sub")


def verify(
    shape: ElementwiseShape,
    names: tuple[str, str],
    claim: TensorClaim,
    proof: LinearProof | MulProof,
    transcript: Transcript,
    *,
    where: str = "elementwise",
) -> list[TensorClaim]:
    a_name, b_name = names
    n = num_vars(shape.shape)
    if len(claim.point) != n:
        raise ProofShapeError("claim point has the wrong number of coordinates", where=where, expected=n,
                              got=len(claim.point))
    if shape.op in LINEAR_OPS:
        if not isinstance(proof, LinearProof):
            raise ProofShapeError("expected an add/sub proof", where=where, expected="LinearProof", got=type(proof).__name__)
        ind = real_indicator(shape.shape, claim.point)
        a_value = receive(transcript, proof.a_value)
        transcript.absorb_ext(LABEL_ALPHA, proof.a_value)
        a_centred = a_value - Fp2(shape.a_zero_point) * ind
        b_centred = claim.value - a_centred if shape.op == "Add" else a_centred - claim.value
        b_value = b_centred + Fp2(shape.b_zero_point) * ind
        return [TensorClaim(a_name, claim.point, a_value), TensorClaim(b_name, claim.point, b_value)]
    if shape.op != "Mul":
        raise ProofShapeError("unknown elementwise op", where=where, expected="Add/Sub/Mul", got=shape.op)
    if not isinstance(proof, MulProof):
        raise ProofShapeError("expected a mul proof", where=where, expected="MulProof", got=type(proof).__name__)
    reduced = sumcheck_verifier.verify(proof.sumcheck, claim.value, n, MUL_SPEC, transcript, where=where, public=(0,))
    s = reduced.point
    e_star, a_star, b_star = reduced.values
    expected_eq = eq_eval(claim.point, s)
    if e_star != expected_eq:
        raise FinalEvaluationMismatch("eq table value is not eq(r, s)", where=where, expected=expected_eq, got=e_star)
    ind = real_indicator(shape.shape, s)
    return [
        TensorClaim(a_name, s, a_star + Fp2(shape.a_zero_point) * ind),
        TensorClaim(b_name, s, b_star + Fp2(shape.b_zero_point) * ind),
    ]
