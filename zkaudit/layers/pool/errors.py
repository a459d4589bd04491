"""Rejections of the window protocols (sum-check and lookup rejections pass through)."""

from zkaudit.errors import ProofRejected


class WindowRejected(ProofRejected):
    """Base of the pool/window rejections."""


class PublicTableMismatch(WindowRejected):
    """A sum-check's final value of a public table (eq, wiring, mask) is not
    what the verifier computes itself."""


class RelationMismatch(WindowRejected):
    """A linear relation between the prover's values and the claims fails."""
