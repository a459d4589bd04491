"""numba kernels for multilinear tables (see `mle.py` for the convention)."""

from __future__ import annotations

from zkaudit.field import jit
from zkaudit.field.arith import U64_0, U64_1, add, ext_add, ext_mul, ext_sub, mul, sub

# numba's own njit, taken through `jit.numba()` (which installs the kernel cache's closure stamps,
# `field.jit_cache`, before any cached kernel of this module is made)
_nb = jit.numba()
njit, prange = _nb.njit, _nb.prange


# Folds below this many outputs run on one thread: a parallel region costs
# more than the work there, and provers fold thousands of small tables.
SERIAL_FOLD = 1 << 12
FOLD_CHUNKS = 64


@njit(cache=True)
def _fold_base_range(f, r0, r1, out, lo, hi):
    h = out.shape[0]
    for i in range(lo, hi):
        d = sub(f[i + h], f[i])
        out[i, 0] = add(f[i], mul(r0, d))
        out[i, 1] = mul(r1, d)


@njit(parallel=True, cache=True)
def fold_base_parallel(f, r0, r1, out):
    """out[i] = f[i] + r * (f[i + h] - f[i]) for base f, extension r."""
    h = out.shape[0]
    chunk = (h + FOLD_CHUNKS - 1) // FOLD_CHUNKS
    for c in prange(FOLD_CHUNKS):
        _fold_base_range(f, r0, r1, out, c * chunk, min(h, (c + 1) * chunk))


@njit(cache=True)
def fold_base_serial(f, r0, r1, out):
    _fold_base_range(f, r0, r1, out, 0, out.shape[0])


@njit(parallel=True, cache=True)
def fold_base_base(f, r, out):
    """Base-field fold by a base-field r (e.g. evaluating at a base point)."""
    h = out.shape[0]
    for i in prange(h):
        out[i] = add(f[i], mul(r, sub(f[i + h], f[i])))


@njit(cache=True)
def _fold_ext_range(f, r0, r1, out, lo, hi):
    h = out.shape[0]
    for i in range(lo, hi):
        d0, d1 = ext_sub(f[i + h, 0], f[i + h, 1], f[i, 0], f[i, 1])
        m0, m1 = ext_mul(r0, r1, d0, d1)
        out[i, 0], out[i, 1] = ext_add(f[i, 0], f[i, 1], m0, m1)


@njit(parallel=True, cache=True)
def fold_ext_parallel(f, r0, r1, out):
    """out[i] = f[i] + r * (f[i + h] - f[i]) for extension f and r."""
    h = out.shape[0]
    chunk = (h + FOLD_CHUNKS - 1) // FOLD_CHUNKS
    for c in prange(FOLD_CHUNKS):
        _fold_ext_range(f, r0, r1, out, c * chunk, min(h, (c + 1) * chunk))


@njit(cache=True)
def fold_ext_serial(f, r0, r1, out):
    _fold_ext_range(f, r0, r1, out, 0, out.shape[0])


@njit(cache=True)
def eq_table(point, out):
    """out[x] = prod_k (r_k x_k + (1 - r_k)(1 - x_k)) with x_1 the most significant bit."""
    eq_table_scaled(point, U64_1, U64_0, out)


@njit(cache=True)
def eq_table_scaled(point, s0, s1, out):
    """(s0 + s1 X) times `eq_table`'s: the scale is the start value, so a
    scaled table costs what an unscaled one does. Built one variable at a
    time in place, from the back so nothing is overwritten early."""
    num_vars = point.shape[0]
    out[0, 0], out[0, 1] = s0, s1
    size = 1
    for k in range(num_vars):
        r0, r1 = point[k, 0], point[k, 1]
        for i in range(size - 1, -1, -1):
            hi0, hi1 = ext_mul(out[i, 0], out[i, 1], r0, r1)
            lo0, lo1 = ext_sub(out[i, 0], out[i, 1], hi0, hi1)
            out[2 * i + 1, 0], out[2 * i + 1, 1] = hi0, hi1
            out[2 * i, 0], out[2 * i, 1] = lo0, lo1
        size *= 2


@njit(parallel=True, cache=True)
def eq_table_outer(head, tail, out):
    """out[i * T + j] = head[i] tail[j] (T = tail.shape[0]): the eq table of a
    point from the tables of its first and last variables, in one pass."""
    m = tail.shape[0]
    for i in prange(head.shape[0]):
        h0, h1 = head[i, 0], head[i, 1]
        base = i * m
        for j in range(m):
            out[base + j, 0], out[base + j, 1] = ext_mul(h0, h1, tail[j, 0], tail[j, 1])
