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
from zkaudit.field.jit import njit, prange

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


# ---- one fractional-sum GKR layer with sparse numerators ------------------
#
# The table tree's numerators are -m (sparse), and p' = p_L q_R + p_R q_L keeps
# the support of its children, so every layer's p_L, p_R are sparse while
# q_L, q_R are dense. The layer's sum-check (lookup/kernels.py, Gruen's
# split of eq) needs, per round, s(t) = sum_i w_i F_t(i) at t = 0, 2 with
#     F = lambda q_L q_R + (p_L q_R + p_R q_L):
# the dense part runs over q only (`qq_round`, `qq_fold_round`: sum_i w_i
# q_L q_R, lambda applied by the caller), the sparse part over the pairs
# where p_L or p_R is non-zero (`pq_round`), p folded on its support
# (`pq_fold`). p is (sorted indices, values (nnz, 2, 2): p_L, p_R).

NUM_CHUNKS = 64
SERIAL_PAIRS = 1 << 11


@njit(cache=True)
def _qq_acc(acc, a0, a1, b0, b1, c0, c1, d0, d1, w0, w1):
    """acc += w (qL qR at t = 0, at t = 2) for the pair ((a, b), (c, d)):
    q_L = a at t=0 and c at t=1, q_R = b at t=0 and d at t=1."""
    x0, x1 = ext_mul(a0, a1, b0, b1)
    x0, x1 = ext_mul(x0, x1, w0, w1)
    acc[0], acc[1] = ext_add(acc[0], acc[1], x0, x1)
    e0, e1 = ext_sub(c0, c1, a0, a1)
    e0, e1 = ext_add(c0, c1, e0, e1)
    f0, f1 = ext_sub(d0, d1, b0, b1)
    f0, f1 = ext_add(d0, d1, f0, f1)
    x0, x1 = ext_mul(e0, e1, f0, f1)
    x0, x1 = ext_mul(x0, x1, w0, w1)
    acc[2], acc[3] = ext_add(acc[2], acc[3], x0, x1)


@njit(cache=True)
def _reduce(partial):
    out = np.zeros((2, 2), dtype=np.uint64)
    for c in range(partial.shape[0]):
        for k in range(2):
            out[k, 0], out[k, 1] = ext_add(out[k, 0], out[k, 1], partial[c, 2 * k], partial[c, 2 * k + 1])
    return out


@njit(cache=True)
def _qq_round_chunk(q, eqs, lo, hi, partial, c):
    half = q.shape[1] // 2
    acc = np.zeros(4, dtype=np.uint64)
    for i in range(lo, hi):
        _qq_acc(acc, q[0, i, 0], q[0, i, 1], q[1, i, 0], q[1, i, 1], q[0, i + half, 0], q[0, i + half, 1],
                q[1, i + half, 0], q[1, i + half, 1], eqs[i, 0], eqs[i, 1])
    partial[c, :] = acc


@njit(parallel=True, cache=True)
def _qq_round_parallel(q, eqs):
    half = q.shape[1] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 4), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _qq_round_chunk(q, eqs, c * chunk, min(half, (c + 1) * chunk), partial, c)
    return _reduce(partial)


@njit(cache=True)
def _qq_round_serial(q, eqs):
    partial = np.zeros((1, 4), dtype=np.uint64)
    _qq_round_chunk(q, eqs, 0, q.shape[1] // 2, partial, 0)
    return _reduce(partial)


def qq_round(q, eqs):
    """(2, 2): sum_i w_i q_L q_R at t = 0 and t = 2 (q: (2, 2h, 2), eqs: h entries)."""
    if q.shape[1] // 2 < SERIAL_PAIRS:
        return _qq_round_serial(q, eqs)
    return _qq_round_parallel(q, eqs)


@njit(cache=True)
def _fold1(q, out, t, j, h, r0, r1):
    d0, d1 = ext_sub(q[t, j + h, 0], q[t, j + h, 1], q[t, j, 0], q[t, j, 1])
    m0, m1 = ext_mul(r0, r1, d0, d1)
    f0, f1 = ext_add(q[t, j, 0], q[t, j, 1], m0, m1)
    out[t, j, 0], out[t, j, 1] = f0, f1
    return f0, f1


@njit(cache=True)
def _qq_fold_chunk(q, r0, r1, eqs, out, lo, hi, partial, c):
    h = out.shape[1]
    qt = h // 2
    acc = np.zeros(4, dtype=np.uint64)
    for i in range(lo, hi):
        a0, a1 = _fold1(q, out, 0, i, h, r0, r1)
        b0, b1 = _fold1(q, out, 1, i, h, r0, r1)
        c0, c1 = _fold1(q, out, 0, i + qt, h, r0, r1)
        d0, d1 = _fold1(q, out, 1, i + qt, h, r0, r1)
        _qq_acc(acc, a0, a1, b0, b1, c0, c1, d0, d1, eqs[i, 0], eqs[i, 1])
    partial[c, :] = acc


@njit(parallel=True, cache=True)
def _qq_fold_round_parallel(q, r0, r1, eqs, out):
    qt = out.shape[1] // 2
    chunk = (qt + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 4), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _qq_fold_chunk(q, r0, r1, eqs, out, c * chunk, min(qt, (c + 1) * chunk), partial, c)
    return _reduce(partial)


@njit(cache=True)
def _qq_fold_round_serial(q, r0, r1, eqs, out):
    partial = np.zeros((1, 4), dtype=np.uint64)
    if out.shape[1] == 1:
        for t in range(2):
            _fold1(q, out, t, 0, 1, r0, r1)
        return _reduce(partial)
    _qq_fold_chunk(q, r0, r1, eqs, out, 0, out.shape[1] // 2, partial, 0)
    return _reduce(partial)


def qq_fold_round(q, r0, r1, eqs, out):
    """Fold q_L, q_R by r into out (2, h, 2); the next round's qq sums (zeros when h = 1)."""
    if out.shape[1] // 2 < SERIAL_PAIRS:
        return _qq_fold_round_serial(q, r0, r1, eqs, out)
    return _qq_fold_round_parallel(q, r0, r1, eqs, out)


@njit(cache=True)
def pq_round(idx, pv, half, q, eqs):
    """(2, 2): sum over pairs i with p non-zero of w_i (p_L q_R + p_R q_L) at t = 0, 2."""
    nnz = idx.shape[0]
    s = np.searchsorted(idx, half)
    out = np.zeros((2, 2), dtype=np.uint64)
    a = np.zeros((2, 2), dtype=np.uint64)
    b = np.zeros((2, 2), dtype=np.uint64)
    i, k = 0, s
    while i < s or k < nnz:
        if k >= nnz or (i < s and idx[i] < idx[k] - half):
            y = idx[i]
            a[:, :] = pv[i]
            b[:, :] = 0
            i += 1
        elif i >= s or idx[k] - half < idx[i]:
            y = idx[k] - half
            a[:, :] = 0
            b[:, :] = pv[k]
            k += 1
        else:
            y = idx[i]
            a[:, :] = pv[i]
            b[:, :] = pv[k]
            i += 1
            k += 1
        w0, w1 = eqs[y, 0], eqs[y, 1]
        # t = 0
        x0, x1 = ext_mul(a[0, 0], a[0, 1], q[1, y, 0], q[1, y, 1])
        z0, z1 = ext_mul(a[1, 0], a[1, 1], q[0, y, 0], q[0, y, 1])
        x0, x1 = ext_add(x0, x1, z0, z1)
        x0, x1 = ext_mul(x0, x1, w0, w1)
        out[0, 0], out[0, 1] = ext_add(out[0, 0], out[0, 1], x0, x1)
        # t = 2: each value 2 v(1) - v(0)
        u = y + half
        l0, l1 = ext_sub(q[0, u, 0], q[0, u, 1], q[0, y, 0], q[0, y, 1])
        l0, l1 = ext_add(q[0, u, 0], q[0, u, 1], l0, l1)
        r0_, r1_ = ext_sub(q[1, u, 0], q[1, u, 1], q[1, y, 0], q[1, y, 1])
        r0_, r1_ = ext_add(q[1, u, 0], q[1, u, 1], r0_, r1_)
        pl0, pl1 = ext_sub(b[0, 0], b[0, 1], a[0, 0], a[0, 1])
        pl0, pl1 = ext_add(b[0, 0], b[0, 1], pl0, pl1)
        pr0, pr1 = ext_sub(b[1, 0], b[1, 1], a[1, 0], a[1, 1])
        pr0, pr1 = ext_add(b[1, 0], b[1, 1], pr0, pr1)
        x0, x1 = ext_mul(pl0, pl1, r0_, r1_)
        z0, z1 = ext_mul(pr0, pr1, l0, l1)
        x0, x1 = ext_add(x0, x1, z0, z1)
        x0, x1 = ext_mul(x0, x1, w0, w1)
        out[1, 0], out[1, 1] = ext_add(out[1, 0], out[1, 1], x0, x1)
    return out


@njit(cache=True)
def pq_fold(idx, pv, half, r0, r1):
    """(indices, values (n, 2, 2)) of p_L, p_R folded by r on their support."""
    nnz = idx.shape[0]
    s = np.searchsorted(idx, half)
    out_idx = np.empty(nnz, dtype=np.int64)
    out_vals = np.empty((nnz, 2, 2), dtype=np.uint64)
    a = np.zeros((2, 2), dtype=np.uint64)
    b = np.zeros((2, 2), dtype=np.uint64)
    i, k, n = 0, s, 0
    while i < s or k < nnz:
        if k >= nnz or (i < s and idx[i] < idx[k] - half):
            y = idx[i]
            a[:, :] = pv[i]
            b[:, :] = 0
            i += 1
        elif i >= s or idx[k] - half < idx[i]:
            y = idx[k] - half
            a[:, :] = 0
            b[:, :] = pv[k]
            k += 1
        else:
            y = idx[i]
            a[:, :] = pv[i]
            b[:, :] = pv[k]
            i += 1
            k += 1
        out_idx[n] = y
        for t in range(2):
            d0, d1 = ext_sub(b[t, 0], b[t, 1], a[t, 0], a[t, 1])
            m0, m1 = ext_mul(r0, r1, d0, d1)
            out_vals[n, t, 0], out_vals[n, t, 1] = ext_add(a[t, 0], a[t, 1], m0, m1)
        n += 1
    return out_idx[:n].copy(), out_vals[:n].copy()
