"""Fast path for the commonest sum-check, sum_x f(x) g(x) (matmul, inner
products, eq * f): degree 2, two tables, no stacking, and each fold fused
with the next round's evaluation so every round reads its tables once.

Round evaluations are g(0), g(1), g(2) with the line through f(0, x'), f(1, x')
extended to t = 2 as 2 f(1, x') - f(0, x'). The fused kernels compute only
g(0) and g(2): the prover knows the running claim, so g(1) = claim - g(0)
costs nothing (and the verifier checks exactly that sum).

Fused step on tables of length 2h with challenge r, q = h / 2:
    f'[i]     = f[i]     + r (f[i + h]     - f[i])
    f'[i + q] = f[i + q] + r (f[i + q + h] - f[i + q])
and the next round's pair for f' is (f'[i], f'[i + q]).

Each public function runs its numba kernel (`_name`) or, for tables below
`NUMPY_BELOW` entries while that kernel is not loaded in the process, the
numpy path `name_numpy` with the same signature and values
(`field.jit.use_kernel`).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.jit import njit, prange

U64_0 = np.uint64(0)
add, ext_add, ext_mul, ext_sub, mul, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_sub", "mul", "sub")

# Below this many table entries a call takes the numpy path (unless its
# kernel is loaded already).
NUMPY_BELOW = 1 << 14
SERIAL_BELOW = 1 << 14  # table entries: below, a first round or a fold runs on one thread

NUM_CHUNKS = 64


@njit(cache=True, inline="always")
def _round_base_span(f, g, lo, hi, partial, c):
    half = f.shape[0] // 2
    a0, a1, a2 = U64_0, U64_0, U64_0
    for i in range(lo, hi):
        f0, f1 = f[i], f[i + half]
        g0, g1 = g[i], g[i + half]
        a0 = add(a0, mul(f0, g0))
        a1 = add(a1, mul(f1, g1))
        a2 = add(a2, mul(sub(add(f1, f1), f0), sub(add(g1, g1), g0)))
    partial[c, 0], partial[c, 1], partial[c, 2] = a0, a1, a2


@njit(cache=True)
def _sum_rows3(partial):
    out = np.zeros(3, dtype=np.uint64)
    for c in range(partial.shape[0]):
        for k in range(3):
            out[k] = add(out[k], partial[c, k])
    return out


@njit(parallel=True, cache=True)
def _round_base(f, g):
    half = f.shape[0] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 3), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _round_base_span(f, g, c * chunk, min(half, (c + 1) * chunk), partial, c)
    return _sum_rows3(partial)


@njit(cache=True)
def _round_base_serial(f, g):
    """`_round_base` on one thread (below SERIAL_BELOW: a parallel region's
    start, 0.1-0.3 ms on the work-queue layer, was most of a small first
    round; every weight tensor of a hashed link runs one)."""
    partial = np.zeros((1, 3), dtype=np.uint64)
    _round_base_span(f, g, 0, f.shape[0] // 2, partial, 0)
    return _sum_rows3(partial)


@njit(cache=True)
def _fold_base_at(f, i, h, r0, r1):
    d = sub(f[i + h], f[i])
    return add(f[i], mul(r0, d)), mul(r1, d)


@njit(cache=True)
def _fold_ext_at(f, i, h, r0, r1):
    d0, d1 = ext_sub(f[i + h, 0], f[i + h, 1], f[i, 0], f[i, 1])
    m0, m1 = ext_mul(r0, r1, d0, d1)
    return ext_add(f[i, 0], f[i, 1], m0, m1)


@njit(cache=True)
def _accumulate(acc, fa0, fa1, fb0, fb1, ga0, ga1, gb0, gb1):
    """acc += (f_a g_a, (2 f_b - f_a)(2 g_b - g_a)) for one pair: g(0) and g(2)."""
    p0, p1 = ext_mul(fa0, fa1, ga0, ga1)
    acc[0], acc[1] = ext_add(acc[0], acc[1], p0, p1)
    x0, x1 = ext_sub(add(fb0, fb0), add(fb1, fb1), fa0, fa1)
    y0, y1 = ext_sub(add(gb0, gb0), add(gb1, gb1), ga0, ga1)
    p0, p1 = ext_mul(x0, x1, y0, y1)
    acc[2], acc[3] = ext_add(acc[2], acc[3], p0, p1)


@njit(parallel=True, cache=True)
def _fold_round_base(f, g, r0, r1, fo, go):
    """Fold base f, g by extension r into fo, go; return the next round's g(0), g(2) as (2, 2)."""
    h = fo.shape[0]
    q = h // 2
    chunk = (max(q, 1) + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 4), dtype=np.uint64)
    if q == 0:
        fo[0, 0], fo[0, 1] = _fold_base_at(f, 0, h, r0, r1)
        go[0, 0], go[0, 1] = _fold_base_at(g, 0, h, r0, r1)
        return np.zeros((2, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        acc = np.zeros(4, dtype=np.uint64)
        _fold_base_span(f, g, r0, r1, fo, go, c * chunk, min(q, (c + 1) * chunk), acc)
        partial[c, :] = acc
    return _combine(partial)


@njit(cache=True, inline="always")
def _fold_base_span(f, g, r0, r1, fo, go, lo, hi, acc):
    """Pairs lo..hi-1 of `_fold_round_base`: fold, and accumulate the next round."""
    h = fo.shape[0]
    q = h // 2
    for i in range(lo, hi):
        fa0, fa1 = _fold_base_at(f, i, h, r0, r1)
        fb0, fb1 = _fold_base_at(f, i + q, h, r0, r1)
        ga0, ga1 = _fold_base_at(g, i, h, r0, r1)
        gb0, gb1 = _fold_base_at(g, i + q, h, r0, r1)
        fo[i, 0], fo[i, 1], fo[i + q, 0], fo[i + q, 1] = fa0, fa1, fb0, fb1
        go[i, 0], go[i, 1], go[i + q, 0], go[i + q, 1] = ga0, ga1, gb0, gb1
        _accumulate(acc, fa0, fa1, fb0, fb1, ga0, ga1, gb0, gb1)


@njit(cache=True)
def _fold_round_base_serial(f, g, r0, r1, fo, go):
    """`_fold_round_base` on one thread (below SERIAL_BELOW)."""
    h = fo.shape[0]
    q = h // 2
    if q == 0:
        fo[0, 0], fo[0, 1] = _fold_base_at(f, 0, h, r0, r1)
        go[0, 0], go[0, 1] = _fold_base_at(g, 0, h, r0, r1)
        return np.zeros((2, 2), dtype=np.uint64)
    partial = np.zeros((1, 4), dtype=np.uint64)
    acc = np.zeros(4, dtype=np.uint64)
    _fold_base_span(f, g, r0, r1, fo, go, 0, q, acc)
    partial[0, :] = acc
    return _combine(partial)


@njit(cache=True, inline="always")
def _fold_ext_span(f, g, r0, r1, fo, go, lo, hi, acc):
    """Pairs lo..hi-1 of `_fold_round_ext`: fold, and accumulate the next round."""
    h = fo.shape[0]
    q = h // 2
    for i in range(lo, hi):
        fa0, fa1 = _fold_ext_at(f, i, h, r0, r1)
        fb0, fb1 = _fold_ext_at(f, i + q, h, r0, r1)
        ga0, ga1 = _fold_ext_at(g, i, h, r0, r1)
        gb0, gb1 = _fold_ext_at(g, i + q, h, r0, r1)
        fo[i, 0], fo[i, 1], fo[i + q, 0], fo[i + q, 1] = fa0, fa1, fb0, fb1
        go[i, 0], go[i, 1], go[i + q, 0], go[i + q, 1] = ga0, ga1, gb0, gb1
        _accumulate(acc, fa0, fa1, fb0, fb1, ga0, ga1, gb0, gb1)


@njit(parallel=True, cache=True)
def _fold_round_ext(f, g, r0, r1, fo, go):
    """Fold extension f, g by r into fo, go; return the next round's g(0), g(2) as (2, 2)."""
    h = fo.shape[0]
    q = h // 2
    chunk = (max(q, 1) + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 4), dtype=np.uint64)
    if q == 0:
        fo[0, 0], fo[0, 1] = _fold_ext_at(f, 0, h, r0, r1)
        go[0, 0], go[0, 1] = _fold_ext_at(g, 0, h, r0, r1)
        return np.zeros((2, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        acc = np.zeros(4, dtype=np.uint64)
        _fold_ext_span(f, g, r0, r1, fo, go, c * chunk, min(q, (c + 1) * chunk), acc)
        partial[c, :] = acc
    return _combine(partial)


@njit(cache=True)
def _fold_round_ext_serial(f, g, r0, r1, fo, go):
    """`_fold_round_ext` on one thread (below SERIAL_BELOW: a parallel region's
    start, ~0.1-0.5 ms, was most of a small fold's time; a transformer proof
    makes 1,500 of them)."""
    h = fo.shape[0]
    q = h // 2
    if q == 0:
        fo[0, 0], fo[0, 1] = _fold_ext_at(f, 0, h, r0, r1)
        go[0, 0], go[0, 1] = _fold_ext_at(g, 0, h, r0, r1)
        return np.zeros((2, 2), dtype=np.uint64)
    partial = np.zeros((1, 4), dtype=np.uint64)
    acc = np.zeros(4, dtype=np.uint64)
    _fold_ext_span(f, g, r0, r1, fo, go, 0, q, acc)
    partial[0, :] = acc
    return _combine(partial)


@njit(cache=True)
def _combine(partial):
    out = np.zeros((2, 2), dtype=np.uint64)
    for c in range(partial.shape[0]):
        for k in range(2):
            out[k, 0], out[k, 1] = ext_add(out[k, 0], out[k, 1], partial[c, 2 * k], partial[c, 2 * k + 1])
    return out


@njit(cache=True, inline="always")
def _round_ext_span(f, g, lo, hi, partial, c):
    half = f.shape[0] // 2
    acc = np.zeros(6, dtype=np.uint64)
    for i in range(lo, hi):
        _accumulate(
            acc[:4], f[i, 0], f[i, 1], f[i + half, 0], f[i + half, 1], g[i, 0], g[i, 1], g[i + half, 0], g[i + half, 1]
        )
        p0, p1 = ext_mul(f[i + half, 0], f[i + half, 1], g[i + half, 0], g[i + half, 1])
        acc[4], acc[5] = ext_add(acc[4], acc[5], p0, p1)
    partial[c, :] = acc


@njit(cache=True)
def _sum_rows6(partial):
    out = np.zeros((3, 2), dtype=np.uint64)
    for c in range(partial.shape[0]):
        out[0, 0], out[0, 1] = ext_add(out[0, 0], out[0, 1], partial[c, 0], partial[c, 1])
        out[1, 0], out[1, 1] = ext_add(out[1, 0], out[1, 1], partial[c, 4], partial[c, 5])
        out[2, 0], out[2, 1] = ext_add(out[2, 0], out[2, 1], partial[c, 2], partial[c, 3])
    return out


@njit(parallel=True, cache=True)
def _round_ext(f, g):
    """First round for extension tables: g(0), g(1), g(2) as (3, 2) (the
    claimed sum may not be known yet, so g(1) is computed too)."""
    half = f.shape[0] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 6), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _round_ext_span(f, g, c * chunk, min(half, (c + 1) * chunk), partial, c)
    return _sum_rows6(partial)


@njit(cache=True)
def _round_ext_serial(f, g):
    """`_round_ext` on one thread (below SERIAL_BELOW, as `_round_base_serial`)."""
    partial = np.zeros((1, 6), dtype=np.uint64)
    _round_ext_span(f, g, 0, f.shape[0] // 2, partial, 0)
    return _sum_rows6(partial)


# ---------------------------------------------------------------- dispatch


def round_base(f, g):
    """First round for base tables: g(0), g(1), g(2) as (3,)."""
    kernel = _round_base_serial if f.shape[0] < SERIAL_BELOW else _round_base
    if jit.use_kernel(f.shape[0], NUMPY_BELOW, kernel):
        return kernel(f, g)
    return round_base_numpy(f, g)


def round_ext(f, g):
    """First round for extension tables: g(0), g(1), g(2) as (3, 2)."""
    kernel = _round_ext_serial if f.shape[0] < SERIAL_BELOW else _round_ext
    if jit.use_kernel(f.shape[0], NUMPY_BELOW, kernel):
        return kernel(f, g)
    return round_ext_numpy(f, g)


def fold_round_base(f, g, r0, r1, fo, go):
    """Fold base f, g by extension r into fo, go; the next round's g(0), g(2) as (2, 2)."""
    kernel = _fold_round_base_serial if f.shape[0] < SERIAL_BELOW else _fold_round_base
    if jit.use_kernel(f.shape[0], NUMPY_BELOW, kernel):
        return kernel(f, g, r0, r1, fo, go)
    return fold_round_base_numpy(f, g, r0, r1, fo, go)


def fold_round_ext(f, g, r0, r1, fo, go):
    """Fold extension f, g by r into fo, go; the next round's g(0), g(2) as (2, 2)."""
    kernel = _fold_round_ext_serial if f.shape[0] < SERIAL_BELOW else _fold_round_ext
    if jit.use_kernel(f.shape[0], NUMPY_BELOW, kernel):
        return kernel(f, g, r0, r1, fo, go)
    return fold_round_ext_numpy(f, g, r0, r1, fo, go)


# ---------------------------------------------------------------- numpy paths


def _twice_minus(b, a):
    """2 b - a: the line through a (t = 0) and b (t = 1) at t = 2."""
    return nf.sub(nf.add(b, b), a)


def round_base_numpy(f, g):
    h = f.shape[0] // 2
    f0, f1, g0, g1 = f[:h], f[h:], g[:h], g[h:]
    return np.array([nf.sum(nf.mul(f0, g0)), nf.sum(nf.mul(f1, g1)),
                     nf.sum(nf.mul(_twice_minus(f1, f0), _twice_minus(g1, g0)))], dtype=np.uint64)


def round_ext_numpy(f, g):
    h = f.shape[0] // 2
    f0, f1, g0, g1 = f[:h], f[h:], g[:h], g[h:]
    return np.stack([nf.sum_axis(nf.ext_mul(f0, g0), axis=0), nf.sum_axis(nf.ext_mul(f1, g1), axis=0),
                     nf.sum_axis(nf.ext_mul(_twice_minus(f1, f0), _twice_minus(g1, g0)), axis=0)])


def _next_round(fo, go):
    q = fo.shape[0] // 2
    if q == 0:
        return np.zeros((2, 2), dtype=np.uint64)
    fa, fb, ga, gb = fo[:q], fo[q : 2 * q], go[:q], go[q : 2 * q]
    return np.stack([nf.sum_axis(nf.ext_mul(fa, ga), axis=0),
                     nf.sum_axis(nf.ext_mul(_twice_minus(fb, fa), _twice_minus(gb, ga)), axis=0)])


def _fold_base_numpy(f, r0, r1, out):
    h = out.shape[0]
    d = nf.sub(f[h:], f[:h])
    out[:, 0] = nf.add(f[:h], nf.mul(d, r0))
    out[:, 1] = nf.mul(d, r1)


def fold_round_base_numpy(f, g, r0, r1, fo, go):
    _fold_base_numpy(f, r0, r1, fo)
    _fold_base_numpy(g, r0, r1, go)
    return _next_round(fo, go)


def fold_round_ext_numpy(f, g, r0, r1, fo, go):
    r = np.array([r0, r1], dtype=np.uint64)
    fo[:] = nf.ext_fold(f, r)
    go[:] = nf.ext_fold(g, r)
    return _next_round(fo, go)
