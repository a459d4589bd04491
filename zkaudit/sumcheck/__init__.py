"""Generic sum-check for linear combinations of products of multilinear tables.

`prover.prove` and `verifier.verify` run as a sub-protocol on a caller's
transcript; verification returns an `EvaluationClaim` the caller discharges.
Zero knowledge: `prove(..., mask=MaskingPolynomial)` / `verifier.verify_masked`
run Libra's masked sum-check (`mask.py`), which also returns a `MaskClaim`
on the committed mask; `MaskBank` puts a proof's masks in one table.
Imports: field, poly, transcript."""

from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts, Term
from zkaudit.sumcheck.errors import (
    ClaimMismatch,
    FinalEvaluationMismatch,
    ProofShapeError,
    RoundSumMismatch,
    SumcheckRejected,
)
from zkaudit.sumcheck.mask import MaskBank, MaskClaim, MaskingPolynomial
from zkaudit.sumcheck.proof import MaskedSumcheckProof, SumcheckProof

__all__ = [
    "ClaimMismatch",
    "EvaluationClaim",
    "FinalEvaluationMismatch",
    "MaskBank",
    "MaskClaim",
    "MaskedSumcheckProof",
    "MaskingPolynomial",
    "ProofShapeError",
    "RoundSumMismatch",
    "SumOfProducts",
    "SumcheckProof",
    "SumcheckRejected",
    "Term",
]
