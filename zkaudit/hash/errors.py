"""Rejections raised when a Poseidon2 Merkle path or a weight-commitment
opening does not check. Each is a `ProofRejected`, so callers and the CLI
handle them like every other verification failure."""

from zkaudit.errors import MalformedProof, ProofRejected


class HashRejected(ProofRejected):
    """Base of every rejection in zkaudit.hash."""


class MerklePathShapeError(HashRejected, MalformedProof):
    """A path or leaf of the wrong length, a leaf index outside the tree, or
    a non-canonical field element."""


class MerkleRootMismatch(HashRejected):
    """The path is well formed but does not lead to the expected root."""


class WeightOpeningMismatch(HashRejected):
    """Weights, salt and header do not hash to the registered root (or the
    header's scheme, count or layout digest differ from the record's)."""


class MalformedWeightCommitment(HashRejected, MalformedProof):
    """A weight-commitment or salt file that does not parse (bad magic,
    length, or a non-canonical element)."""
