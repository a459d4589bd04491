"""Generic sum-check for linear combinations of products of multilinear tables.

`prover.prove` and `verifier.verify` run as a sub-protocol on a caller's
transcript; verification returns an `EvaluationClaim` the caller discharges.
Imports: field, poly, transcript."""

from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts, Term
from zkaudit.sumcheck.errors import (
    ClaimMismatch,
    FinalEvaluationMismatch,
    ProofShapeError,
    RoundSumMismatch,
    SumcheckRejected,
)
from zkaudit.sumcheck.proof import SumcheckProof

__all__ = [
    "ClaimMismatch",
    "EvaluationClaim",
    "FinalEvaluationMismatch",
    "ProofShapeError",
    "RoundSumMismatch",
    "SumOfProducts",
    "SumcheckProof",
    "SumcheckRejected",
    "Term",
]
