"""MatMul verifier.

Relation, over padded shapes (M', K'), (K', N'):
    Y[m, n] = sum_k A°[m, k] B°[k, n] + bias[n] [m < M]
    A°[m, k] = (A[m, k] - za) [m < M][k < K],  B°[k, n] = (B[k, n] - zb) [k < K][n < N]
which holds on the padding too (padding of Y, A, B and bias is zero).

Claim in:  Y~(r_m, r_n) = v.
Proof:     the prover sends beta = bias~(r_n) (when there is a bias), then a
           sum-check over the log K' inner variables of a(k) b(k) with
               a(k) = A~(r_m, k) - za I_M(r_m) [k < K]
               b(k) = B~(k, r_n) - zb [k < K] I_N(r_n)
           (I_D = MLE of the indicator of [0, D)) and claimed sum
               v - beta I_M(r_m).
Claims out, at the sum-check point r_k with final values a*, b*:
    A~(r_m, r_k)  = a* + za I_M(r_m) I_K(r_k)
    B~(r_k, r_n)  = b* + zb I_K(r_k) I_N(r_n)
    bias~(r_n)    = beta
Soundness: that of the sum-check, 2 log K' / p^2; the bias value is bound
by the claim on the bias tensor, discharged against the weight commitment.
"""

from __future__ import annotations

from zkaudit.field.scalar import Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.matmul.proof import MatMulProof, MatMulShape
from zkaudit.layers.tensor import log2_ceil
from zkaudit.poly.mle import prefix_indicator
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import receive
from zkaudit.sumcheck.errors import ProofShapeError
from zkaudit.transcript import Transcript

LABEL_BIAS = b"matmul/bias-value"
PRODUCT = SumOfProducts.product(2)


def split_output_point(shape: MatMulShape, point) -> tuple[tuple, tuple]:
    row_vars = log2_ceil(shape.rows)
    return tuple(point[:row_vars]), tuple(point[row_vars:])


def verify(
    shape: MatMulShape,
    names: tuple[str, str, str | None],
    claim: TensorClaim,
    proof: MatMulProof,
    transcript: Transcript,
    *,
    where: str = "matmul",
) -> list[TensorClaim]:
    """Reduce a claim on Y to claims on A, B (and bias), named by `names`."""
    a_name, b_name, bias_name = names
    if (proof.bias_value is not None) != shape.has_bias:
        raise ProofShapeError("bias value present/absent contrary to the circuit", where=where,
                              expected=shape.has_bias, got=proof.bias_value is not None)
    r_m, r_n = split_output_point(shape, claim.point)
    if len(r_n) != log2_ceil(shape.cols):
        raise ProofShapeError("claim point has the wrong number of coordinates", where=where,
                              expected=log2_ceil(shape.rows) + log2_ceil(shape.cols), got=len(claim.point))
    ind_m = prefix_indicator(shape.rows, r_m)
    ind_n = prefix_indicator(shape.cols, r_n)
    target = claim.value
    bias_value = None
    if proof.bias_value is not None:
        bias_value = receive(transcript, proof.bias_value)
        transcript.absorb_ext(LABEL_BIAS, proof.bias_value)
        target = target - bias_value * ind_m
    inner_vars = log2_ceil(shape.inner)
    reduced = sumcheck_verifier.verify(proof.sumcheck, target, inner_vars, PRODUCT, transcript, where=where)
    r_k = reduced.point
    a_star, b_star = reduced.values
    ind_k = prefix_indicator(shape.inner, r_k)
    out = [
        TensorClaim(a_name, r_m + r_k, a_star + Fp2(shape.a_zero_point) * ind_m * ind_k),
        TensorClaim(b_name, r_k + r_n, b_star + Fp2(shape.b_zero_point) * ind_k * ind_n),
    ]
    if proof.bias_value is not None:
        out.append(TensorClaim(bias_name, r_n, bias_value))
    return out
