"""Goldilocks p = 2^64 - 2^32 + 1 and its quadratic extension GF(p^2) = F_p[X]/(X^2 - 7).

Scalar value types (`Fp`, `Fp2`) and vectorized numba kernels over uint64
arrays. Imports: `zkaudit.errors` only."""

from zkaudit.field.constants import P, W  # noqa: E402
from zkaudit.field.scalar import Fp, Fp2  # noqa: E402

__all__ = ["P", "W", "Fp", "Fp2"]
