"""numba kernels for the fractional-sum GKR (naive twins in `reference.py`).

layer_up:  p'[i] = p[i] q[i+h] + p[i+h] q[i],  q'[i] = q[i] q[i+h]   (h = half)
leaf_denominators:  out[i] = k - sum_c coeffs[c] * cols[c, i]   (k = alpha - beta^W tag)

Each public function (`layer_up`, `leaf_denominators`, `layer_round`,
`layer_fold_round`) runs its numba kernel (`_name`) or, for a job below
`NUMPY_BELOW` entries while that kernel is not loaded in the process, the
numpy path `name_numpy` with the same signature and the same values
(`field.jit.use_kernel`): a small circuit's lookups never start numba, whose
start-up (~0.3 s) is more than all their work. Importing this module
imports no numba (`field.jit.njit`).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.constants import P, W
from zkaudit.field.jit import njit, prange

ext_add, ext_mul, ext_mul_base, ext_sub = jit.imported(
    "zkaudit.field.arith", "ext_add", "ext_mul", "ext_mul_base", "ext_sub")

# Below this many table entries a call takes the numpy path (unless its
# kernel is loaded already).
NUMPY_BELOW = 1 << 14


@njit(cache=True, inline="always")
def _layer_up_at(p, q, po, qo, i):
    h = po.shape[0]
    a0, a1 = ext_mul(p[i, 0], p[i, 1], q[i + h, 0], q[i + h, 1])
    b0, b1 = ext_mul(p[i + h, 0], p[i + h, 1], q[i, 0], q[i, 1])
    po[i, 0], po[i, 1] = ext_add(a0, a1, b0, b1)
    qo[i, 0], qo[i, 1] = ext_mul(q[i, 0], q[i, 1], q[i + h, 0], q[i + h, 1])


@njit(parallel=True, cache=True)
def _layer_up(p, q, po, qo):
    for i in prange(po.shape[0]):
        _layer_up_at(p, q, po, qo, i)


@njit(cache=True)
def _layer_up_serial(p, q, po, qo):
    """`_layer_up` on one thread (below SERIAL_PAIRS: a parallel region costs more than it saves)."""
    for i in range(po.shape[0]):
        _layer_up_at(p, q, po, qo, i)


@njit(cache=True, inline="always")
def _leaf_denominator_at(cols, coeffs, k0, k1, out, i):
    s0, s1 = k0, k1
    for c in range(cols.shape[0]):
        m0, m1 = ext_mul_base(coeffs[c, 0], coeffs[c, 1], cols[c, i])
        s0, s1 = ext_sub(s0, s1, m0, m1)
    out[i, 0], out[i, 1] = s0, s1


@njit(parallel=True, cache=True)
def _leaf_denominators(cols, coeffs, k0, k1, out):
    for i in prange(out.shape[0]):
        _leaf_denominator_at(cols, coeffs, k0, k1, out, i)


@njit(cache=True)
def _leaf_denominators_serial(cols, coeffs, k0, k1, out):
    """`_leaf_denominators` on one thread (below SERIAL_PAIRS: a parallel region costs more than it saves)."""
    for i in range(out.shape[0]):
        _leaf_denominator_at(cols, coeffs, k0, k1, out, i)


# ---- fused sum-check for one fractional-sum layer -------------------------
#
# Tables stacked as (4, h, 2): p_L, p_R, q_L, q_R. With eq split off
# (Gruen): in round j, g(t) = l(t) s(t) where l(t) = eq(rho_<j, r_<j) eq(rho_j, t)
# is known to the driver and
#     s(t) = sum_x' eq(rho_>j, x') F_t(x'),  F = p_L q_R + q_L (p_R + lambda q_R),
# each table on the line through its pair (f[i], f[i + half]). s has degree 2;
# the kernels return s(0) and s(2) (the driver gets s(1) from the claim). A
# fold by r and the next round's s run in one pass.

NUM_CHUNKS = 64


@njit(cache=True)
def _term(a0, a1, b0, b1, c0, c1, d0, d1, lam0, lam1):
    """p_L q_R + q_L (p_R + lambda q_R) for (p_L, p_R, q_L, q_R) = (a, b, c, d)."""
    x0, x1 = ext_mul(lam0, lam1, d0, d1)
    x0, x1 = ext_add(x0, x1, b0, b1)
    x0, x1 = ext_mul(x0, x1, c0, c1)
    y0, y1 = ext_mul(a0, a1, d0, d1)
    return ext_add(x0, x1, y0, y1)


@njit(cache=True)
def _accumulate(acc, va, vb, e, w0, w1, lam0, lam1):
    """acc += w (F at t = 0, F at t = 2) for the pair (va, vb)."""
    s0, s1 = _term(va[0, 0], va[0, 1], va[1, 0], va[1, 1], va[2, 0], va[2, 1], va[3, 0], va[3, 1], lam0, lam1)
    s0, s1 = ext_mul(s0, s1, w0, w1)
    acc[0], acc[1] = ext_add(acc[0], acc[1], s0, s1)
    for t in range(4):  # the line at t = 2: 2 vb - va
        d0, d1 = ext_sub(vb[t, 0], vb[t, 1], va[t, 0], va[t, 1])
        e[t, 0], e[t, 1] = ext_add(vb[t, 0], vb[t, 1], d0, d1)
    s0, s1 = _term(e[0, 0], e[0, 1], e[1, 0], e[1, 1], e[2, 0], e[2, 1], e[3, 0], e[3, 1], lam0, lam1)
    s0, s1 = ext_mul(s0, s1, w0, w1)
    acc[2], acc[3] = ext_add(acc[2], acc[3], s0, s1)


@njit(cache=True)
def _reduce(partial):
    out = np.zeros((2, 2), dtype=np.uint64)
    for c in range(partial.shape[0]):
        for k in range(2):
            out[k, 0], out[k, 1] = ext_add(out[k, 0], out[k, 1], partial[c, 2 * k], partial[c, 2 * k + 1])
    return out


@njit(cache=True)
def _round_chunk(stack, eqs, lam0, lam1, lo, hi, partial, c):
    half = stack.shape[1] // 2
    acc = np.zeros(4, dtype=np.uint64)
    va = np.empty((4, 2), dtype=np.uint64)
    vb = np.empty((4, 2), dtype=np.uint64)
    e = np.empty((4, 2), dtype=np.uint64)
    for i in range(lo, hi):
        for t in range(4):
            va[t, 0], va[t, 1] = stack[t, i, 0], stack[t, i, 1]
            vb[t, 0], vb[t, 1] = stack[t, i + half, 0], stack[t, i + half, 1]
        _accumulate(acc, va, vb, e, eqs[i, 0], eqs[i, 1], lam0, lam1)
    partial[c, :] = acc


@njit(parallel=True, cache=True)
def _layer_round_parallel(stack, eqs, lam0, lam1):
    half = stack.shape[1] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 4), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _round_chunk(stack, eqs, lam0, lam1, c * chunk, min(half, (c + 1) * chunk), partial, c)
    return _reduce(partial)


@njit(cache=True)
def _layer_round_serial(stack, eqs, lam0, lam1):
    partial = np.zeros((1, 4), dtype=np.uint64)
    _round_chunk(stack, eqs, lam0, lam1, 0, stack.shape[1] // 2, partial, 0)
    return _reduce(partial)


# Below this many pairs a round runs on one thread: starting the parallel
# region costs more than the work (GKR trees end in many tiny layers).
SERIAL_PAIRS = 1 << 11




@njit(cache=True)
def _fold_at(stack, out, t, j, h, r0, r1, v):
    d0, d1 = ext_sub(stack[t, j + h, 0], stack[t, j + h, 1], stack[t, j, 0], stack[t, j, 1])
    m0, m1 = ext_mul(r0, r1, d0, d1)
    f0, f1 = ext_add(stack[t, j, 0], stack[t, j, 1], m0, m1)
    out[t, j, 0], out[t, j, 1] = f0, f1
    v[t, 0], v[t, 1] = f0, f1


@njit(cache=True)
def _fold_chunk(stack, r0, r1, eqs, lam0, lam1, out, lo, hi, partial, c):
    h = out.shape[1]
    q = h // 2
    acc = np.zeros(4, dtype=np.uint64)
    va = np.empty((4, 2), dtype=np.uint64)
    vb = np.empty((4, 2), dtype=np.uint64)
    e = np.empty((4, 2), dtype=np.uint64)
    for i in range(lo, hi):
        for t in range(4):
            _fold_at(stack, out, t, i, h, r0, r1, va)
            _fold_at(stack, out, t, i + q, h, r0, r1, vb)
        _accumulate(acc, va, vb, e, eqs[i, 0], eqs[i, 1], lam0, lam1)
    partial[c, :] = acc


@njit(parallel=True, cache=True)
def _layer_fold_round_parallel(stack, r0, r1, eqs, lam0, lam1, out):
    q = out.shape[1] // 2
    partial = np.zeros((NUM_CHUNKS, 4), dtype=np.uint64)
    chunk = (q + NUM_CHUNKS - 1) // NUM_CHUNKS
    for c in prange(NUM_CHUNKS):
        _fold_chunk(stack, r0, r1, eqs, lam0, lam1, out, c * chunk, min(q, (c + 1) * chunk), partial, c)
    return _reduce(partial)


@njit(cache=True)
def _layer_fold_round_serial(stack, r0, r1, eqs, lam0, lam1, out):
    partial = np.zeros((1, 4), dtype=np.uint64)
    if out.shape[1] == 1:
        v = np.empty((4, 2), dtype=np.uint64)
        for t in range(4):
            _fold_at(stack, out, t, 0, 1, r0, r1, v)
        return _reduce(partial)
    _fold_chunk(stack, r0, r1, eqs, lam0, lam1, out, 0, out.shape[1] // 2, partial, 0)
    return _reduce(partial)


# ---------------------------------------------------------------- dispatch


def layer_up(p, q, po, qo):
    """The next layer up of a fractional-sum tree (see the module docstring)."""
    kernel = _layer_up_serial if po.shape[0] < SERIAL_PAIRS else _layer_up
    if jit.use_kernel(2 * po.shape[0], NUMPY_BELOW, kernel):
        kernel(p, q, po, qo)
    else:
        layer_up_numpy(p, q, po, qo)


def leaf_denominators(cols, coeffs, k0, k1, out):
    """out[i] = k - sum_c coeffs[c] * cols[c, i] (see the module docstring)."""
    kernel = _leaf_denominators_serial if out.shape[0] < 8 * SERIAL_PAIRS else _leaf_denominators
    if jit.use_kernel(cols.shape[0] * out.shape[0], NUMPY_BELOW, kernel):
        kernel(cols, coeffs, k0, k1, out)
    else:
        leaf_denominators_numpy(cols, coeffs, k0, k1, out)


def layer_round(stack, eqs, lam0, lam1):
    """s(0), s(2) as (2, 2), pairs weighted by eqs (half entries), no folding."""
    kernel = _layer_round_serial if stack.shape[1] // 2 < SERIAL_PAIRS else _layer_round_parallel
    if jit.use_kernel(stack.shape[0] * stack.shape[1], NUMPY_BELOW, kernel):
        return kernel(stack, eqs, lam0, lam1)
    return layer_round_numpy(stack, eqs, lam0, lam1)


def layer_fold_round(stack, r0, r1, eqs, lam0, lam1, out):
    """Fold every table by r into out (4, h, 2); return the next round's
    s(0), s(2) weighted by eqs (h / 2 entries; zeros when h = 1)."""
    kernel = _layer_fold_round_serial if out.shape[1] // 2 < SERIAL_PAIRS else _layer_fold_round_parallel
    if jit.use_kernel(stack.shape[0] * stack.shape[1], NUMPY_BELOW, kernel):
        return kernel(stack, r0, r1, eqs, lam0, lam1, out)
    return layer_fold_round_numpy(stack, r0, r1, eqs, lam0, lam1, out)


# ---------------------------------------------------------------- numpy paths
#
# The same field elements as the kernels (every operation is exact mod p, so
# the order of the sums does not matter), a whole layer per array operation;
# up to `INTS_UP_TO` pairs (a GKR tree's last layers, a small circuit's whole
# trees) pair by pair on Python ints, reduced once per output: one such
# round is ~40 int operations per pair against ~150 array operations of
# ~1-2 us each per round on numpy.

INTS_UP_TO = 32
_P = int(P)
_W = int(W)


def layer_up_numpy(p, q, po, qo):
    h = po.shape[0]
    if h <= INTS_UP_TO:
        return _layer_up_ints(p, q, po, qo)
    pl, pr, ql, qr = p[:h], p[h : 2 * h], q[:h], q[h : 2 * h]
    po[...] = nf.add(nf.ext_mul(pl, qr), nf.ext_mul(pr, ql))
    qo[...] = nf.ext_mul(ql, qr)


def leaf_denominators_numpy(cols, coeffs, k0, k1, out):
    n = out.shape[0]
    # coeffs[c] * cols[c, i] coordinate-wise (an extension times a base element), summed over c
    terms = nf.mul(cols[:, :n, None], coeffs[:, None, :])
    out[...] = nf.sub(np.array([[k0, k1]], dtype=np.uint64), nf.sum_axis(terms, axis=0))


def _terms_numpy(v, lam):
    """p_L q_R + q_L (p_R + lambda q_R) for v = (4, ..., 2) stacked (p_L, p_R, q_L, q_R)."""
    a, b, c, d = v[0], v[1], v[2], v[3]
    x = nf.ext_mul(nf.add(nf.ext_mul(lam, d), b), c)
    return nf.add(x, nf.ext_mul(a, d))


def layer_round_numpy(stack, eqs, lam0, lam1):
    half = stack.shape[1] // 2
    if half <= INTS_UP_TO:
        return _round_ints(stack[:, : 2 * half].tolist(), eqs[:half].tolist(), int(lam0), int(lam1))
    va, vb = stack[:, :half], stack[:, half : 2 * half]
    lam = np.array([[lam0, lam1]], dtype=np.uint64)
    at2 = nf.add(vb, nf.sub(vb, va))  # each line at t = 2: 2 vb - va
    f = np.stack([_terms_numpy(va, lam), _terms_numpy(at2, lam)])  # (2, half, 2)
    return nf.sum_axis(nf.ext_mul(f, eqs[None, :half]), axis=1)


def layer_fold_round_numpy(stack, r0, r1, eqs, lam0, lam1, out):
    h = out.shape[1]
    if h <= 2 * INTS_UP_TO:
        return _layer_fold_round_ints(stack, r0, r1, eqs, lam0, lam1, out)
    out[...] = nf.ext_fold(stack[:, : 2 * h], np.array([r0, r1], dtype=np.uint64))
    if h == 1:
        return np.zeros((2, 2), dtype=np.uint64)
    return layer_round_numpy(out, eqs, lam0, lam1)


def _layer_up_ints(p, q, po, qo):
    h = po.shape[0]
    pl, ql = p[: 2 * h].tolist(), q[: 2 * h].tolist()
    up_p, up_q = [], []
    for (a0, a1), (b0, b1), (c0, c1), (d0, d1) in zip(pl[:h], pl[h:], ql[:h], ql[h:]):
        # p_L q_R + p_R q_L, q_L q_R
        up_p.append(((a0 * d0 + b0 * c0 + _W * (a1 * d1 + b1 * c1)) % _P, (a0 * d1 + a1 * d0 + b0 * c1 + b1 * c0) % _P))
        up_q.append(((c0 * d0 + _W * c1 * d1) % _P, (c0 * d1 + c1 * d0) % _P))
    po[...] = np.array(up_p, dtype=np.uint64).reshape(h, 2)
    qo[...] = np.array(up_q, dtype=np.uint64).reshape(h, 2)


def _round_ints(tables, eqs, l0, l1):
    """s(0), s(2) of `layer_round` for the four tables and eqs as lists of
    [c0, c1] (2 * half and at least half entries); sums reduced once at the end."""
    half = len(tables[0]) // 2
    acc = [0, 0, 0, 0]
    for i in range(half):
        lo = [t[i] for t in tables]
        hi = [t[i + half] for t in tables]
        at2 = [(2 * y0 - x0, 2 * y1 - x1) for (x0, x1), (y0, y1) in zip(lo, hi)]  # the line at t = 2
        w0, w1 = eqs[i]
        for k, ((a0, a1), (b0, b1), (c0, c1), (d0, d1)) in ((0, lo), (2, at2)):
            # p_L q_R + q_L (p_R + lambda q_R), unreduced
            x0, x1 = l0 * d0 + _W * l1 * d1 + b0, l0 * d1 + l1 * d0 + b1
            f0 = x0 * c0 + _W * x1 * c1 + a0 * d0 + _W * a1 * d1
            f1 = x0 * c1 + x1 * c0 + a0 * d1 + a1 * d0
            acc[k] += f0 * w0 + _W * f1 * w1
            acc[k + 1] += f0 * w1 + f1 * w0
    return np.array([[acc[0] % _P, acc[1] % _P], [acc[2] % _P, acc[3] % _P]], dtype=np.uint64)


def _layer_fold_round_ints(stack, r0, r1, eqs, lam0, lam1, out):
    h = out.shape[1]
    r0, r1 = int(r0), int(r1)
    folded = []
    for table in stack[:, : 2 * h].tolist():
        rows = []
        for (x0, x1), (y0, y1) in zip(table[:h], table[h:]):
            d0, d1 = y0 - x0, y1 - x1
            rows.append(((x0 + r0 * d0 + _W * r1 * d1) % _P, (x1 + r0 * d1 + r1 * d0) % _P))
        folded.append(rows)
    out[...] = np.array(folded, dtype=np.uint64).reshape(out.shape)
    if h == 1:
        return np.zeros((2, 2), dtype=np.uint64)
    q = h // 2
    return _round_ints(folded, eqs[:q].tolist(), int(lam0), int(lam1))
