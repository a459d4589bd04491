"""Sum-check rejections. Every one is a `ProofRejected` carrying the round,
the expected and the actual value."""

from zkaudit.errors import MalformedProof, ProofRejected


class SumcheckRejected(ProofRejected):
    """Base of every sum-check rejection."""


class ProofShapeError(SumcheckRejected, MalformedProof):
    """The proof has the wrong number of rounds, evaluations or final values."""


class RoundSumMismatch(SumcheckRejected):
    """g_i(0) + g_i(1) differs from the running claim."""


class FinalEvaluationMismatch(SumcheckRejected):
    """The last round's claim differs from the combination of the prover's
    final table values."""


class ClaimMismatch(SumcheckRejected):
    """A returned evaluation claim did not match the table it was checked against."""
