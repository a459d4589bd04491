"""Commitment rejections. Each is a `ProofRejected` naming the check that
failed, with the expected and actual values where they are short enough."""

from zkaudit.errors import MalformedProof, ProofRejected


class PcsRejected(ProofRejected):
    """Base of every polynomial-commitment rejection."""


class MalformedOpening(PcsRejected, MalformedProof):
    """Commitment or opening bytes that do not parse: magic, version,
    lengths, trailing bytes, non-canonical field elements."""


class ProofShapeError(PcsRejected, MalformedProof):
    """A well-formed proof whose shape does not fit the commitment and the
    parameters (row width, row count, number of queries, claim count)."""


class ParameterMismatch(PcsRejected):
    """The commitment was made under parameters the verifier does not accept
    (blow-up, matrix shape, sizes beyond those the soundness bound covers)."""


class InvalidClaim(PcsRejected):
    """A claim that cannot be about this commitment (unknown polynomial,
    wrong number of coordinates)."""


class CommitmentMismatch(PcsRejected):
    """The opening proof was made for a different commitment."""


class ClaimBatchRejected(PcsRejected):
    """The sum-check that batches the claims failed: some claimed value is
    not the committed polynomial's value at its point (the sum-check
    rejection is chained as the cause)."""


class EvaluationMismatch(PcsRejected):
    """The batching sum-check ended on values that the evaluation row (or the
    verifier's own eq evaluation) contradicts."""


class QueryPositionMismatch(PcsRejected):
    """The opened column positions are not those the transcript dictates."""


class MerkleProofShapeError(PcsRejected, MalformedProof):
    """A Merkle multi-proof with the wrong number of digests or bad indices."""


class MerkleRootMismatch(PcsRejected):
    """Opened columns and sibling digests do not hash to the committed root."""


class ProximityMismatch(PcsRejected):
    """An opened column disagrees with the encoded random combination of
    rows: the committed matrix is not (close to) a matrix of codewords."""


class EvaluationRowMismatch(PcsRejected):
    """An opened column disagrees with the encoded evaluation row: the row
    the prover sent is not the eq-combination of the committed rows."""
