"""numba kernels shared by layer provers: contracting one side of a matrix
with an eq table (the prover's side of binding a dimension to a point)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkaudit.field.arith import add, ext_mul, mul


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


@njit(cache=True)
def wiring_table(eq_r, src_id, src_idx, which, size, out):
    """out[x] = sum of eq_r[y] over y with (src_id[y], src_idx[y]) = (which, x).
    Sequential: scatter-adds may collide (a reshape can read one x twice only
    in Expand-like maps, but we keep it safe)."""
    for x in range(size):
        out[x, 0] = np.uint64(0)
        out[x, 1] = np.uint64(0)
    for y in range(src_idx.shape[0]):
        if src_id[y] == which:
            x = src_idx[y]
            out[x, 0] = add(out[x, 0], eq_r[y, 0])
            out[x, 1] = add(out[x, 1], eq_r[y, 1])


@njit(cache=True)
def wiring_eval(eq_r, eq_s, src_id, src_idx, which):
    """sum_y eq_r[y] eq_s[src_idx[y]] over y with src_id[y] = which: the
    wiring polynomial W_r evaluated at s, computed by the verifier itself."""
    s0 = np.uint64(0)
    s1 = np.uint64(0)
    for y in range(src_idx.shape[0]):
        if src_id[y] == which:
            x = src_idx[y]
            p0, p1 = ext_mul(eq_r[y, 0], eq_r[y, 1], eq_s[x, 0], eq_s[x, 1])
            s0 = add(s0, p0)
            s1 = add(s1, p1)
    return s0, s1


@njit(cache=True)
def masked_eq_sum(eq_r, src_id, which):
    """sum of eq_r[y] over y with src_id[y] = which (e.g. the Pad constant's cells)."""
    s0 = np.uint64(0)
    s1 = np.uint64(0)
    for y in range(src_id.shape[0]):
        if src_id[y] == which:
            s0 = add(s0, eq_r[y, 0])
            s1 = add(s1, eq_r[y, 1])
    return s0, s1
