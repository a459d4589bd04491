"""numba kernels shared by layer provers: contracting one side of a matrix
with an eq table (the prover's side of binding a dimension to a point)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkaudit.field.arith import add, mul


@njit(parallel=True, cache=True)
def vec_mat(e, a, out):
    """out[k] = sum_m e[m] a[m, k]: e extension (M, 2), a base (M, K), out (K, 2)."""
    rows, cols = a.shape
    for k in prange(cols):
        s0 = np.uint64(0)
        s1 = np.uint64(0)
        for m in range(rows):
            v = a[m, k]
            s0 = add(s0, mul(e[m, 0], v))
            s1 = add(s1, mul(e[m, 1], v))
        out[k, 0] = s0
        out[k, 1] = s1


@njit(parallel=True, cache=True)
def mat_vec(a, e, out):
    """out[k] = sum_n a[k, n] e[n]: a base (K, N), e extension (N, 2), out (K, 2)."""
    rows, cols = a.shape
    for k in prange(rows):
        s0 = np.uint64(0)
        s1 = np.uint64(0)
        for n in range(cols):
            v = a[k, n]
            s0 = add(s0, mul(e[n, 0], v))
            s1 = add(s1, mul(e[n, 1], v))
        out[k, 0] = s0
        out[k, 1] = s1
