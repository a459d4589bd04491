"""numba kernels for the fractional-sum GKR (naive twins in `reference.py`).

layer_up:  p'[i] = p[i] q[i+h] + p[i+h] q[i],  q'[i] = q[i] q[i+h]   (h = half)
leaf_denominators:  out[i] = k - sum_c coeffs[c] * cols[c, i]   (k = alpha - beta^W tag)
"""

from __future__ import annotations

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
