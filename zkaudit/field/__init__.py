"""Goldilocks p = 2^64 - 2^32 + 1 and its quadratic extension GF(p^2) = F_p[X]/(X^2 - 7).

Scalar value types (`Fp`, `Fp2`) and vectorized numba kernels over uint64
arrays. Imports: `zkaudit.errors` only."""
