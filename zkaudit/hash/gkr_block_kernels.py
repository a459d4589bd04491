"""Round sums of the partial-round block's sum-check (`gkr_block.py`).

With eq(z, .) split off as in `gkr_kernels` (g(t) = l(t) s(t)), a round of
the block needs

    s(t) = sum_i eqs[i] ( sum_j q_j U_j(t, i)^7 + L(t, i) ),

U_j on the line through its pair and L = m . x + sum_j p_j U_j one
extension table (folding L folds the combination). `block_sums` runs the
coefficient-form kernel (each lane's (a + d X)^7 accumulated by
`gkr_kernels._acc_seventh*`, weighted by q once per round) or, for small
tables while numba is not started, `block_sums_numpy`: every lane evaluated at
the eight points directly, the reference the kernel is tested against. Both
leave s(1) zero (the driver completes g(1) = claim - g(0)). Serial only: the
block runs for small trees (`gkr_block.applies`).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.jit import njit
from zkaudit.hash.gkr_kernels import (_BINOM7, LAZY_BASE, LAZY_EXT, NUM_POINTS, NUMPY_BELOW, _acc_line,
                                      _acc_seventh, _acc_seventh_base, _base_sbox_numpy, _ext_sbox_numpy, _settle)

add, ext_add, ext_mul, ext_sub, mul_small, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_sub", "mul_small", "sub")

U64_SEVEN = np.uint64(7)


@njit(cache=True)
def _finish(lazy, ext, acc_lin, q, out):
    """S_j = C(7, j) sum_k q_k lazy[k, j] (settled); out[t] = sum_j S_j t^j + L_0 + t L_1, t != 1."""
    coef = np.zeros((8, 2), dtype=np.uint64)
    for k in range(lazy.shape[0]):
        for j in range(8):
            if ext:
                v0 = add(_settle(lazy, k, j, 0), mul_small(_settle(lazy, k, j, 3), U64_SEVEN))
                v1 = _settle(lazy, k, j, 6)
            else:
                v0, v1 = _settle(lazy, k, j, 0), _settle(lazy, k, j, 3)
            x0, x1 = ext_mul(q[k, 0], q[k, 1], v0, v1)
            coef[j, 0], coef[j, 1] = ext_add(coef[j, 0], coef[j, 1], x0, x1)
    for j in range(8):
        coef[j, 0], coef[j, 1] = mul_small(coef[j, 0], _BINOM7[j]), mul_small(coef[j, 1], _BINOM7[j])
    for t in range(NUM_POINTS):
        if t == 1:
            continue
        s0, s1 = np.uint64(0), np.uint64(0)
        for j in range(7, -1, -1):
            s0, s1 = mul_small(s0, np.uint64(t)), mul_small(s1, np.uint64(t))
            s0, s1 = ext_add(s0, s1, coef[j, 0], coef[j, 1])
        x0, x1 = mul_small(acc_lin[1, 0], np.uint64(t)), mul_small(acc_lin[1, 1], np.uint64(t))
        x0, x1 = ext_add(x0, x1, acc_lin[0, 0], acc_lin[0, 1])
        out[t, 0], out[t, 1] = ext_add(s0, s1, x0, x1)


@njit(cache=True)
def _sums_base(u, lin, eqs, q):
    h = u.shape[1] // 2
    lazy = np.zeros((u.shape[0], 8, LAZY_BASE), dtype=np.uint64)
    acc_lin = np.zeros((2, 2), dtype=np.uint64)
    for i in range(h):
        e0, e1 = eqs[i, 0], eqs[i, 1]
        for k in range(u.shape[0]):
            a = u[k, i]
            _acc_seventh_base(lazy, k, a, sub(u[k, i + h], a), e0, e1)
        _acc_line(acc_lin, lin, i, h, e0, e1)
    out = np.zeros((NUM_POINTS, 2), dtype=np.uint64)
    _finish(lazy, False, acc_lin, q, out)
    return out


@njit(cache=True)
def _sums_ext(u, lin, eqs, q):
    h = u.shape[1] // 2
    lazy = np.zeros((u.shape[0], 8, LAZY_EXT), dtype=np.uint64)
    acc_lin = np.zeros((2, 2), dtype=np.uint64)
    for i in range(h):
        e0, e1 = eqs[i, 0], eqs[i, 1]
        for k in range(u.shape[0]):
            a0, a1 = u[k, i, 0], u[k, i, 1]
            d0, d1 = ext_sub(u[k, i + h, 0], u[k, i + h, 1], a0, a1)
            _acc_seventh(lazy, k, a0, a1, d0, d1, e0, e1)
        _acc_line(acc_lin, lin, i, h, e0, e1)
    out = np.zeros((NUM_POINTS, 2), dtype=np.uint64)
    _finish(lazy, True, acc_lin, q, out)
    return out


def block_sums(u: np.ndarray, lin: np.ndarray, eqs: np.ndarray, q: np.ndarray) -> np.ndarray:
    """s(0), s(2..8) as (9, 2) (row 1 zero) from the U lanes ((K, N) base or
    (K, N, 2) extension), L (N, 2), eqs (N / 2, 2) and q (K, 2)."""
    kernel = _sums_ext if u.ndim == 3 else _sums_base
    # once numba runs, the kernel at any size (the numpy twin's ~80 array
    # operations a round cost more than loading it); before, numpy for small blocks
    if jit.warm() or jit.use_kernel(u.shape[0] * u.shape[1], NUMPY_BELOW, kernel):
        return kernel(u, lin, eqs, q)
    return block_sums_numpy(u, lin, eqs, q)


def block_sums_numpy(u, lin, eqs, q):
    """`block_sums` on numpy: every lane on its line at t = 0, 2..8, raised
    to the seventh power, combined by q, plus L on its line, weighted by eqs."""
    ext = u.ndim == 3
    h = u.shape[1] // 2
    a, d = u[:, :h], nf.sub(u[:, h: 2 * h], u[:, :h])
    la, ld = lin[:h], nf.sub(lin[h: 2 * h], lin[:h])
    sbox = _ext_sbox_numpy if ext else _base_sbox_numpy
    out = np.zeros((NUM_POINTS, 2), dtype=np.uint64)
    v, lv = a, la
    for t in range(NUM_POINTS):
        if t:
            v, lv = nf.add(v, d), nf.add(lv, ld)
        if t == 1:
            continue
        s = sbox(v)
        terms = nf.ext_mul(s, q[:, None, :]) if ext else nf.mul(s[..., None], q[:, None, :])
        f = nf.add(nf.sum_axis(terms, axis=0), lv)  # (h, 2)
        out[t] = nf.sum_axis(nf.ext_mul(f, eqs[:h]), axis=0)
    return out


def line_table(stack: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """sum_k coeffs_k stack_k as (N, 2), from base rows (K, N) and (K, 2) coefficients."""
    return nf.sum_axis(nf.mul(stack[..., None], coeffs[:, None, :]), axis=0)
