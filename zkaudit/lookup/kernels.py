"""numba kernels for the fractional-sum GKR (naive twins in `reference.py`).

layer_up:  p'[i] = p[i] q[i+h] + p[i+h] q[i],  q'[i] = q[i] q[i+h]   (h = half)
leaf_denominators:  out[i] = k - sum_c coeffs[c] * cols[c, i]   (k = alpha - beta^W tag)
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkaudit.field.arith import ext_add, ext_mul, ext_mul_base, ext_sub


@njit(parallel=True, cache=True)
def layer_up(p, q, po, qo):
    h = po.shape[0]
    for i in prange(h):
        a0, a1 = ext_mul(p[i, 0], p[i, 1], q[i + h, 0], q[i + h, 1])
        b0, b1 = ext_mul(p[i + h, 0], p[i + h, 1], q[i, 0], q[i, 1])
        po[i, 0], po[i, 1] = ext_add(a0, a1, b0, b1)
        qo[i, 0], qo[i, 1] = ext_mul(q[i, 0], q[i, 1], q[i + h, 0], q[i + h, 1])


@njit(parallel=True, cache=True)
def leaf_denominators(cols, coeffs, k0, k1, out):
    n = out.shape[0]
    for i in prange(n):
        s0, s1 = k0, k1
        for c in range(cols.shape[0]):
            m0, m1 = ext_mul_base(coeffs[c, 0], coeffs[c, 1], cols[c, i])
            s0, s1 = ext_sub(s0, s1, m0, m1)
        out[i, 0], out[i, 1] = s0, s1


# ---- fused sum-check for one fractional-sum layer -------------------------
#
# Tables stacked as (5, h, 2): eq, p_L, p_R, q_L, q_R. The round polynomial
#     g(t) = sum_x eq_t (p_L,t q_R,t + q_L,t (p_R,t + lambda q_R,t))
# (each table on the line through its pair (f[i], f[i + half])) is evaluated
# at t = 0, 2, 3; the driver sets g(1) = claim - g(0). A fold by r and the
# next round's evaluation run in one pass, as in sumcheck.kernels_prod2.

NUM_CHUNKS = 64


@njit(cache=True)
def _term(v, lam0, lam1):
    a0, a1 = ext_mul(lam0, lam1, v[4, 0], v[4, 1])
    a0, a1 = ext_add(a0, a1, v[2, 0], v[2, 1])
    a0, a1 = ext_mul(a0, a1, v[3, 0], v[3, 1])
    b0, b1 = ext_mul(v[1, 0], v[1, 1], v[4, 0], v[4, 1])
    a0, a1 = ext_add(a0, a1, b0, b1)
    return ext_mul(a0, a1, v[0, 0], v[0, 1])


@njit(cache=True)
def _accumulate(acc, va, vb, vt, lam0, lam1):
    """acc += g-contributions at t = 0, 2, 3 of the pair (va, vb)."""
    s0, s1 = _term(va, lam0, lam1)
    acc[0], acc[1] = ext_add(acc[0], acc[1], s0, s1)
    for t in range(5):  # t = 2: 2 vb - va
        d0, d1 = ext_sub(vb[t, 0], vb[t, 1], va[t, 0], va[t, 1])
        vt[t, 0], vt[t, 1] = ext_add(vb[t, 0], vb[t, 1], d0, d1)
    s0, s1 = _term(vt, lam0, lam1)
    acc[2], acc[3] = ext_add(acc[2], acc[3], s0, s1)
    for t in range(5):  # t = 3: add the difference once more
        d0, d1 = ext_sub(vb[t, 0], vb[t, 1], va[t, 0], va[t, 1])
        vt[t, 0], vt[t, 1] = ext_add(vt[t, 0], vt[t, 1], d0, d1)
    s0, s1 = _term(vt, lam0, lam1)
    acc[4], acc[5] = ext_add(acc[4], acc[5], s0, s1)


@njit(cache=True)
def _reduce(partial):
    out = np.zeros((3, 2), dtype=np.uint64)
    for c in range(partial.shape[0]):
        for k in range(3):
            out[k, 0], out[k, 1] = ext_add(out[k, 0], out[k, 1], partial[c, 2 * k], partial[c, 2 * k + 1])
    return out


@njit(parallel=True, cache=True)
def layer_round(stack, lam0, lam1):
    """g(0), g(2), g(3) as (3, 2) for the stacked tables, without folding."""
    half = stack.shape[1] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 6), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        acc = np.zeros(6, dtype=np.uint64)
        va = np.empty((5, 2), dtype=np.uint64)
        vb = np.empty((5, 2), dtype=np.uint64)
        vt = np.empty((5, 2), dtype=np.uint64)
        for i in range(c * chunk, min(half, (c + 1) * chunk)):
            for t in range(5):
                va[t, 0], va[t, 1] = stack[t, i, 0], stack[t, i, 1]
                vb[t, 0], vb[t, 1] = stack[t, i + half, 0], stack[t, i + half, 1]
            _accumulate(acc, va, vb, vt, lam0, lam1)
        partial[c, :] = acc
    return _reduce(partial)


@njit(cache=True)
def _fold_at(stack, out, t, j, h, r0, r1, v):
    d0, d1 = ext_sub(stack[t, j + h, 0], stack[t, j + h, 1], stack[t, j, 0], stack[t, j, 1])
    m0, m1 = ext_mul(r0, r1, d0, d1)
    f0, f1 = ext_add(stack[t, j, 0], stack[t, j, 1], m0, m1)
    out[t, j, 0], out[t, j, 1] = f0, f1
    v[t, 0], v[t, 1] = f0, f1


@njit(parallel=True, cache=True)
def layer_fold_round(stack, r0, r1, lam0, lam1, out):
    """Fold every table by r into out (5, h, 2); return the next round's
    g(0), g(2), g(3) (zeros when out has one entry)."""
    h = out.shape[1]
    q = h // 2
    partial = np.zeros((NUM_CHUNKS, 6), dtype=np.uint64)
    if q == 0:
        for t in range(5):
            d0, d1 = ext_sub(stack[t, 1, 0], stack[t, 1, 1], stack[t, 0, 0], stack[t, 0, 1])
            m0, m1 = ext_mul(r0, r1, d0, d1)
            out[t, 0, 0], out[t, 0, 1] = ext_add(stack[t, 0, 0], stack[t, 0, 1], m0, m1)
        return _reduce(partial)
    chunk = (q + NUM_CHUNKS - 1) // NUM_CHUNKS
    for c in prange(NUM_CHUNKS):
        acc = np.zeros(6, dtype=np.uint64)
        va = np.empty((5, 2), dtype=np.uint64)
        vb = np.empty((5, 2), dtype=np.uint64)
        vt = np.empty((5, 2), dtype=np.uint64)
        for i in range(c * chunk, min(q, (c + 1) * chunk)):
            for t in range(5):
                _fold_at(stack, out, t, i, h, r0, r1, va)
                _fold_at(stack, out, t, i + q, h, r0, r1, vb)
            _accumulate(acc, va, vb, vt, lam0, lam1)
        partial[c, :] = acc
    return _reduce(partial)
