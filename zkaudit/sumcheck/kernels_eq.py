"""Round kernels of a sum-check whose every term carries eq(rho, x) (`eq_run.py`).

Per pair x' of the remaining variables, every other table's restriction to
the line through f(0, x') and f(1, x') is evaluated at t = 0..npts-1 and each
term's product (eq left out) is accumulated weighted by w(x') = eq(rho_>j, x').
Terms are accumulated without their coefficients (applied once after). The
stack is base (T, 2^m) or extension (T, 2^m, 2); w and the sums are
extension. A base stack stays base: its products cost base multiplications,
and only the weight is an extension element (where putting eq in the stack
lifted every table to the extension).

`round_evals_eq` runs the numba kernel or, below `NUMPY_BELOW` entries while
that kernel is not loaded, the numpy path with the same values
(`field.jit.use_kernel`); the tests hold one to the other.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.jit import njit, prange

add, ext_add, ext_mul, ext_sub, mul, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_sub", "mul", "sub")

NUMPY_BELOW = 1 << 14
SERIAL_BELOW = 1 << 15  # table entries: below, a round runs on one thread
NUM_CHUNKS = 64
U64 = np.uint64


@njit(cache=True, inline="always")
def _eq_base_span(stack, term_ptr, term_idx, npts, w, skip, lo, hi, acc):
    """Pairs lo..hi-1 of `_round_evals_eq_base` into acc (num_terms, npts, 2)."""
    num_tables = stack.shape[0]
    half = stack.shape[1] // 2
    num_terms = term_ptr.shape[0] - 1
    vals = np.empty((num_tables, npts), dtype=np.uint64)
    for i in range(lo, hi):
        for t in range(num_tables):
            v = stack[t, i]
            d = sub(stack[t, i + half], v)
            vals[t, 0] = v
            for k in range(1, npts):
                v = add(v, d)
                vals[t, k] = v
        w0 = w[i, 0]
        w1 = w[i, 1]
        for j in range(num_terms):
            for k in range(npts):
                if k == skip:
                    continue
                prod = np.uint64(1)
                for q in range(term_ptr[j], term_ptr[j + 1]):
                    prod = mul(prod, vals[term_idx[q], k])
                acc[j, k, 0] = add(acc[j, k, 0], mul(w0, prod))
                acc[j, k, 1] = add(acc[j, k, 1], mul(w1, prod))


@njit(cache=True, inline="always")
def _eq_ext_span(stack, term_ptr, term_idx, npts, w, skip, lo, hi, acc):
    """Pairs lo..hi-1 of `_round_evals_eq_ext` into acc (num_terms, npts, 2)."""
    num_tables = stack.shape[0]
    half = stack.shape[1] // 2
    num_terms = term_ptr.shape[0] - 1
    vals = np.empty((num_tables, npts, 2), dtype=np.uint64)
    for i in range(lo, hi):
        for t in range(num_tables):
            v0 = stack[t, i, 0]
            v1 = stack[t, i, 1]
            d0, d1 = ext_sub(stack[t, i + half, 0], stack[t, i + half, 1], v0, v1)
            vals[t, 0, 0] = v0
            vals[t, 0, 1] = v1
            for k in range(1, npts):
                v0, v1 = ext_add(v0, v1, d0, d1)
                vals[t, k, 0] = v0
                vals[t, k, 1] = v1
        for j in range(num_terms):
            for k in range(npts):
                if k == skip:
                    continue
                p0 = w[i, 0]
                p1 = w[i, 1]
                for q in range(term_ptr[j], term_ptr[j + 1]):
                    p0, p1 = ext_mul(p0, p1, vals[term_idx[q], k, 0], vals[term_idx[q], k, 1])
                acc[j, k, 0], acc[j, k, 1] = ext_add(acc[j, k, 0], acc[j, k, 1], p0, p1)


@njit(cache=True)
def _sum_partial(partial):
    out = np.zeros(partial.shape[1:], dtype=np.uint64)
    for c in range(partial.shape[0]):
        for j in range(partial.shape[1]):
            for k in range(partial.shape[2]):
                out[j, k, 0], out[j, k, 1] = ext_add(out[j, k, 0], out[j, k, 1], partial[c, j, k, 0],
                                                     partial[c, j, k, 1])
    return out


@njit(parallel=True, cache=True)
def _round_evals_eq_base(stack, term_ptr, term_idx, npts, w, skip):
    half = stack.shape[1] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, term_ptr.shape[0] - 1, npts, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _eq_base_span(stack, term_ptr, term_idx, npts, w, skip, c * chunk, min(half, (c + 1) * chunk), partial[c])
    return _sum_partial(partial)


@njit(parallel=True, cache=True)
def _round_evals_eq_ext(stack, term_ptr, term_idx, npts, w, skip):
    half = stack.shape[1] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, term_ptr.shape[0] - 1, npts, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _eq_ext_span(stack, term_ptr, term_idx, npts, w, skip, c * chunk, min(half, (c + 1) * chunk), partial[c])
    return _sum_partial(partial)


@njit(cache=True)
def _round_evals_eq_base_serial(stack, term_ptr, term_idx, npts, w, skip):
    """`_round_evals_eq_base` on one thread (below SERIAL_BELOW entries, where
    a parallel region's start costs more than the round)."""
    acc = np.zeros((term_ptr.shape[0] - 1, npts, 2), dtype=np.uint64)
    _eq_base_span(stack, term_ptr, term_idx, npts, w, skip, 0, stack.shape[1] // 2, acc)
    return acc


@njit(cache=True)
def _round_evals_eq_ext_serial(stack, term_ptr, term_idx, npts, w, skip):
    """`_round_evals_eq_ext` on one thread (below SERIAL_BELOW entries)."""
    acc = np.zeros((term_ptr.shape[0] - 1, npts, 2), dtype=np.uint64)
    _eq_ext_span(stack, term_ptr, term_idx, npts, w, skip, 0, stack.shape[1] // 2, acc)
    return acc


def round_evals_eq(stack, term_ptr, term_idx, npts: int, w, skip_one: bool = False):
    """(terms, npts, 2): per term and t < npts, sum over pairs x' of
    w(x') * the term's product on the line at t (see the module docstring);
    with `skip_one` the t = 1 entries are left zero, not computed (the
    caller has s(1) from its running claim)."""
    size = stack.shape[0] * stack.shape[1]
    skip = 1 if skip_one else -1
    serial = size < SERIAL_BELOW
    if stack.ndim == 2:
        kernel = _round_evals_eq_base_serial if serial else _round_evals_eq_base
    else:
        kernel = _round_evals_eq_ext_serial if serial else _round_evals_eq_ext
    if jit.use_kernel(size, NUMPY_BELOW, kernel):
        return kernel(stack, term_ptr, term_idx, npts, w, skip)
    return round_evals_eq_numpy(stack, term_ptr, term_idx, npts, w, skip)


def round_evals_eq_numpy(stack, term_ptr, term_idx, npts: int, w, skip: int = -1):
    """The numpy path (and the kernels' reference)."""
    base = stack.ndim == 2
    h = stack.shape[1] // 2
    v, d = stack[:, :h], nf.sub(stack[:, h:], stack[:, :h])
    lines = [v]
    for _ in range(1, npts):
        v = nf.add(v, d)
        lines.append(v)
    num_terms = term_ptr.shape[0] - 1
    out = np.zeros((num_terms, npts, 2), dtype=U64)
    for j in range(num_terms):
        factors = term_idx[term_ptr[j] : term_ptr[j + 1]]
        for k in range(npts):
            if k == skip:
                continue
            if base:
                prod = np.ones(h, dtype=U64)
                for q in factors:
                    prod = nf.mul(prod, lines[k][q])
                weighted = nf.ext_mul_base(w, prod)
            else:
                weighted = w
                for q in factors:
                    weighted = nf.ext_mul(weighted, lines[k][q])
            out[j, k] = nf.sum_axis(weighted, axis=0)
    return out
