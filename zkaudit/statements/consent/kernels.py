"""numba kernels of the consent prover's table-side work (naive twins in
`sparse.py`; the tests hold one to the other).

The multiplicities m of a consent proof are sparse: N records use at most N
of the table's 2^k rows (10^4 of 2^20 in the benchmark). These kernels work
on m as (sorted indices, values) and never touch the 2^k zeros:

    lex_search:       positions of (hi, lo) probes among the sorted real rows
    sparse_round:     S(X) = sum_y' E(y') h(m(X, y')), X = 0..3, h(v) = v - v^2
    sparse_fold:      m(r, y') for every y' where m(0, y') or m(1, y') is non-zero
    sparse_dot:       sum_j m_j E(j)

with E(y) = ehi[y >> lo_bits] elo[y & (2^lo_bits - 1)] (eq split in two
halves). The first variable is the index's top bit (`poly.mle`'s order):
the pair of y' is (y', y' + half).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.jit import njit

ext_add, ext_mul, ext_sub = jit.imported("zkaudit.field.arith", "ext_add", "ext_mul", "ext_sub")


@njit(cache=True)
def lex_search(hi, lo, rows, qhi, qlo, out):
    """out[i] = j with (hi[j], lo[j]) == (qhi[i], qlo[i]), j < rows, or -1.
    (hi, lo) must be strictly increasing on [0, rows) (lexicographic)."""
    for i in range(qhi.shape[0]):
        a, b = 0, rows
        h, l = qhi[i], qlo[i]
        while a < b:
            mid = (a + b) >> 1
            if hi[mid] < h or (hi[mid] == h and lo[mid] < l):
                a = mid + 1
            else:
                b = mid
        out[i] = a if a < rows and hi[a] == h and lo[a] == l else -1


@njit(cache=True)
def _eq_at(y, ehi, elo, lo_bits):
    mask = (1 << lo_bits) - 1
    a = ehi[y >> lo_bits]
    b = elo[y & mask]
    return ext_mul(a[0], a[1], b[0], b[1])


@njit(cache=True)
def sparse_round(idx, vals, half, ehi, elo, lo_bits):
    """(4, 2): S(X) for X = 0..3 (see the module docstring)."""
    nnz = idx.shape[0]
    s = np.searchsorted(idx, half)
    acc = np.zeros((4, 2), dtype=np.uint64)
    i, k = 0, s
    while i < s or k < nnz:
        if k >= nnz or (i < s and idx[i] < idx[k] - half):
            y = idx[i]
            a0, a1 = vals[i, 0], vals[i, 1]
            b0, b1 = np.uint64(0), np.uint64(0)
            i += 1
        elif i >= s or idx[k] - half < idx[i]:
            y = idx[k] - half
            a0, a1 = np.uint64(0), np.uint64(0)
            b0, b1 = vals[k, 0], vals[k, 1]
            k += 1
        else:
            y = idx[i]
            a0, a1 = vals[i, 0], vals[i, 1]
            b0, b1 = vals[k, 0], vals[k, 1]
            i += 1
            k += 1
        e0, e1 = _eq_at(y, ehi, elo, lo_bits)
        d0, d1 = ext_sub(b0, b1, a0, a1)
        v0, v1 = a0, a1
        for x in range(4):
            if x:
                v0, v1 = ext_add(v0, v1, d0, d1)
            # h(v) = v (1 - v)
            w0, w1 = ext_sub(np.uint64(1), np.uint64(0), v0, v1)
            h0, h1 = ext_mul(v0, v1, w0, w1)
            t0, t1 = ext_mul(e0, e1, h0, h1)
            acc[x, 0], acc[x, 1] = ext_add(acc[x, 0], acc[x, 1], t0, t1)
    return acc


@njit(cache=True)
def sparse_fold(idx, vals, half, r0, r1):
    """(indices, values) of m(r, .) on the union of both halves' supports."""
    nnz = idx.shape[0]
    s = np.searchsorted(idx, half)
    out_idx = np.empty(nnz, dtype=np.int64)
    out_vals = np.empty((nnz, 2), dtype=np.uint64)
    i, k, n = 0, s, 0
    while i < s or k < nnz:
        if k >= nnz or (i < s and idx[i] < idx[k] - half):
            y = idx[i]
            a0, a1 = vals[i, 0], vals[i, 1]
            b0, b1 = np.uint64(0), np.uint64(0)
            i += 1
        elif i >= s or idx[k] - half < idx[i]:
            y = idx[k] - half
            a0, a1 = np.uint64(0), np.uint64(0)
            b0, b1 = vals[k, 0], vals[k, 1]
            k += 1
        else:
            y = idx[i]
            a0, a1 = vals[i, 0], vals[i, 1]
            b0, b1 = vals[k, 0], vals[k, 1]
            i += 1
            k += 1
        d0, d1 = ext_sub(b0, b1, a0, a1)
        m0, m1 = ext_mul(r0, r1, d0, d1)
        out_idx[n] = y
        out_vals[n, 0], out_vals[n, 1] = ext_add(a0, a1, m0, m1)
        n += 1
    return out_idx[:n].copy(), out_vals[:n].copy()


@njit(cache=True)
def sparse_dot(idx, vals, ehi, elo, lo_bits):
    """sum_j vals[j] E(idx[j]) (vals extension (nnz, 2))."""
    acc0, acc1 = np.uint64(0), np.uint64(0)
    for j in range(idx.shape[0]):
        e0, e1 = _eq_at(idx[j], ehi, elo, lo_bits)
        t0, t1 = ext_mul(e0, e1, vals[j, 0], vals[j, 1])
        acc0, acc1 = ext_add(acc0, acc1, t0, t1)
    out = np.empty(2, dtype=np.uint64)
    out[0], out[1] = acc0, acc1
    return out
