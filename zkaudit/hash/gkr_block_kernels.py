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
from zkaudit.hash.gkr_kernels import LAZY_BASE, LAZY_EXT, NUM_POINTS, NUMPY_BELOW, _acc_line, _acc_seventh
from zkaudit.hash.gkr_kernels import _acc_seventh_base, _base_sbox_numpy, _ext_sbox_numpy, _settle
from zkaudit.hash.gkr_kernels import _finish as _round_finish

add, ext_add, ext_mul, ext_mul_base, ext_square, ext_sub, mul_small, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_mul_base", "ext_square", "ext_sub", "mul_small", "sub")

U64_SEVEN = np.uint64(7)
_ONE = np.array([[1, 0]], dtype=np.uint64)  # lane weight 1 (Fp2)


@njit(cache=True)
def _finish(lazy, ext, acc_lin, q, out):
    """sum_k q_k lazy[k, j] (settled) as one lane's coefficients, then
    `gkr_kernels._finish` (binomials, Horner at t = 0, 2..8, the line)."""
    coef = np.zeros((1, 8, 2), dtype=np.uint64)
    for k in range(lazy.shape[0]):
        for j in range(8):
            if ext:
                v0 = add(_settle(lazy, k, j, 0), mul_small(_settle(lazy, k, j, 3), U64_SEVEN))
                v1 = _settle(lazy, k, j, 6)
            else:
                v0, v1 = _settle(lazy, k, j, 0), _settle(lazy, k, j, 3)
            x0, x1 = ext_mul(q[k, 0], q[k, 1], v0, v1)
            coef[0, j, 0], coef[0, j, 1] = ext_add(coef[0, j, 0], coef[0, j, 1], x0, x1)
    # one "partial round" lane of weight 1: the line's two coefficients added at each point
    _round_finish(coef, acc_lin, _ONE, False, out, 0)


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
    out = np.zeros((1, NUM_POINTS, 2), dtype=np.uint64)
    _finish(lazy, False, acc_lin, q, out)
    return out[0]


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
    out = np.zeros((1, NUM_POINTS, 2), dtype=np.uint64)
    _finish(lazy, True, acc_lin, q, out)
    return out[0]


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


@njit(cache=True)
def _line_table(stack, coeffs, out):
    for i in range(stack.shape[1]):
        s0, s1 = np.uint64(0), np.uint64(0)
        for k in range(stack.shape[0]):
            x0, x1 = ext_mul_base(coeffs[k, 0], coeffs[k, 1], stack[k, i])
            s0, s1 = ext_add(s0, s1, x0, x1)
        out[i, 0], out[i, 1] = s0, s1


def line_table(stack: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """sum_k coeffs_k stack_k as (N, 2), from base rows (K, N) and (K, 2)
    coefficients (`line_table_numpy` while numba is not started)."""
    if not jit.warm():
        return line_table_numpy(stack, coeffs)
    out = np.empty((stack.shape[1], 2), dtype=np.uint64)
    _line_table(stack, coeffs, out)
    return out


def line_table_numpy(stack: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    return nf.sum_axis(nf.mul(stack[..., None], coeffs[:, None, :]), axis=0)


# ---------------------------------------------------------------- the last round in zero knowledge


@njit(cache=True)
def _at(pairs, pad, j, x, w):
    """Table j on its line at x, plus pad_j x (1 - x) (w = x (1 - x) mod p)."""
    a0, a1 = pairs[j, 0, 0], pairs[j, 0, 1]
    d0, d1 = ext_sub(pairs[j, 1, 0], pairs[j, 1, 1], a0, a1)
    v0, v1 = ext_add(a0, a1, mul_small(d0, x), mul_small(d1, x))
    p0, p1 = ext_mul_base(pad[j, 0], pad[j, 1], w)
    return ext_add(v0, v1, p0, p1)


@njit(cache=True)
def _last_poly(pairs, pad, m, q, p, ws, out):
    """out[x] = F^(x) for x = 0..len(out) - 1: eq times (m . x_k + sum_j q_j
    U_j^7 + p_j U_j), every table on its line plus its pad's x (1 - x) term."""
    width, lanes = m.shape[0], q.shape[0]
    for x in range(out.shape[0]):
        xx, w = np.uint64(x), ws[x]
        s0, s1 = np.uint64(0), np.uint64(0)
        for k in range(width):
            v0, v1 = _at(pairs, pad, 1 + k, xx, w)
            t0, t1 = ext_mul(m[k, 0], m[k, 1], v0, v1)
            s0, s1 = ext_add(s0, s1, t0, t1)
        for j in range(lanes):
            v0, v1 = _at(pairs, pad, 1 + width + j, xx, w)
            b0, b1 = ext_square(v0, v1)
            c0, c1 = ext_mul(b0, b1, v0, v1)
            b0, b1 = ext_square(b0, b1)
            c0, c1 = ext_mul(c0, c1, b0, b1)  # v^7
            t0, t1 = ext_mul(q[j, 0], q[j, 1], c0, c1)
            s0, s1 = ext_add(s0, s1, t0, t1)
            t0, t1 = ext_mul(p[j, 0], p[j, 1], v0, v1)
            s0, s1 = ext_add(s0, s1, t0, t1)
        e0, e1 = _at(pairs, pad, 0, xx, w)
        out[x, 0], out[x, 1] = ext_mul(e0, e1, s0, s1)


def last_poly(pairs: np.ndarray, pad: np.ndarray, m, q, p, num_points: int) -> np.ndarray:
    """The zero-knowledge last round's F^ at 0..num_points-1 (`zk_prover._last_poly`
    for the block's spec; tested equal through the proofs' bytes): pairs (31, 2, 2),
    pad (31, 2) = c_prev m_j per padded table (zero for eq), m (8, 2), q and p (22, 2)."""
    from zkaudit.field.constants import P

    ws = np.array([(x * (1 - x)) % P for x in range(num_points)], dtype=np.uint64)
    out = np.empty((num_points, 2), dtype=np.uint64)
    _last_poly(pairs, pad, m, q, p, ws, out)
    return out
