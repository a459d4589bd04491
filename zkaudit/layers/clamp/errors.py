"""Rejections of the constraint-system layers (Clip/Relu, Requantize)."""

from __future__ import annotations

from zkaudit.errors import ProofRejected


class PublicTableMismatch(ProofRejected):
    """A sum-check final value of a public table (eq, indicator, per-channel
    table) differs from the verifier's own evaluation."""


class UnexpectedClaim(ProofRejected):
    """The layer was handed a claim on its output, which must be advice."""
