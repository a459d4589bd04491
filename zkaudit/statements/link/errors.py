"""The link statement's rejections (each names the part of the relation that fails)."""

from __future__ import annotations

from zkaudit.errors import ProofRejected


class LinkRejected(ProofRejected):
    """Base of the link statement's own rejections."""


class StatementMismatch(LinkRejected):
    """The proof is about another c_theta, c_W or circuit than the one asked about."""


class PiMismatch(LinkRejected):
    """The proof's parameter map is not the expected one (a transposed or shifted layout)."""


class QuantSpecMismatch(LinkRejected):
    """The quant spec contradicts the circuit (input scale, bias scale) or cannot be proven wrap-free."""


class QuantizationMismatch(LinkRejected):
    """A gate of the quantization relation fails (rounding, remainder, clamp, saturation count)."""


class WiringMismatch(LinkRejected):
    """The quantized weights in theta's order are not the committed circuit tensors under pi."""
