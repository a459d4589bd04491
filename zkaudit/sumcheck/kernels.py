"""numba kernels for the sum-check prover.

Tables are stacked: base (T, 2^m) or extension (T, 2^m, 2). A term list is
flattened CSR-style: term j multiplies tables term_idx[term_ptr[j]:term_ptr[j+1]].

Round kernel: for each pair (x' in {0,1}^(m-1)), every table's restriction to
the line through f(0, x') and f(1, x') is evaluated at t = 0..d by repeated
addition of the difference; each term's product is accumulated per t. Terms
are accumulated without their coefficients (applied once at the end).

Each public function runs its numba kernel (`_name`) or, for tables below
`NUMPY_BELOW` entries while that kernel is not loaded in the process, the
numpy path `name_numpy` with the same signature and values
(`field.jit.use_kernel`): a small proof never loads numba.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.jit import njit, prange

add, ext_add, ext_mul, ext_sub, mul, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_sub", "mul", "sub")

# Below this many table entries a call takes the numpy path (unless its
# kernel is loaded already).
NUMPY_BELOW = 1 << 14
# Below this many output words (a fold) or table entries (a round) a call
# runs its serial twin (a parallel region's start, ~0.1-0.5 ms, was most of
# a small fold's or round's time).
SERIAL_BELOW = 1 << 15

NUM_CHUNKS = 64


@njit(cache=True, inline="always")
def _round_evals_base_span(stack, term_ptr, term_idx, npts, lo, hi, acc):
    """Pairs lo..hi-1 of `_round_evals_base` into acc (num_terms, npts)."""
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
        for j in range(num_terms):
            for k in range(npts):
                prod = vals[term_idx[term_ptr[j]], k]
                for q in range(term_ptr[j] + 1, term_ptr[j + 1]):
                    prod = mul(prod, vals[term_idx[q], k])
                acc[j, k] = add(acc[j, k], prod)


@njit(cache=True)
def _sum_partial_base(partial):
    out = np.zeros(partial.shape[1:], dtype=np.uint64)
    for c in range(partial.shape[0]):
        for j in range(partial.shape[1]):
            for k in range(partial.shape[2]):
                out[j, k] = add(out[j, k], partial[c, j, k])
    return out


@njit(parallel=True, cache=True)
def _round_evals_base(stack, term_ptr, term_idx, degree):
    half = stack.shape[1] // 2
    num_terms = term_ptr.shape[0] - 1
    npts = degree + 1
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, num_terms, npts), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _round_evals_base_span(stack, term_ptr, term_idx, npts, c * chunk, min(half, (c + 1) * chunk), partial[c])
    return _sum_partial_base(partial)


@njit(cache=True)
def _round_evals_base_serial(stack, term_ptr, term_idx, degree):
    """`_round_evals_base` on one thread (below SERIAL_BELOW entries: a
    parallel region's start on the work-queue layer, 0.4-0.6 ms, was all of
    a small round's time; a digits_cnn proof ran 28 such rounds)."""
    npts = degree + 1
    acc = np.zeros((term_ptr.shape[0] - 1, npts), dtype=np.uint64)
    _round_evals_base_span(stack, term_ptr, term_idx, npts, 0, stack.shape[1] // 2, acc)
    return acc


@njit(cache=True, inline="always")
def _round_evals_ext_span(stack, term_ptr, term_idx, npts, lo, hi, acc):
    """Pairs lo..hi-1 of `_round_evals_ext` into acc (num_terms, npts, 2)."""
    num_tables = stack.shape[0]
    half = stack.shape[1] // 2
    num_terms = term_ptr.shape[0] - 1
    vals = np.empty((num_tables, npts, 2), dtype=np.uint64)
    for i in range(lo, hi):
        for t in range(num_tables):
            v0, v1 = stack[t, i, 0], stack[t, i, 1]
            d0, d1 = ext_sub(stack[t, i + half, 0], stack[t, i + half, 1], v0, v1)
            vals[t, 0, 0], vals[t, 0, 1] = v0, v1
            for k in range(1, npts):
                v0, v1 = ext_add(v0, v1, d0, d1)
                vals[t, k, 0], vals[t, k, 1] = v0, v1
        for j in range(num_terms):
            for k in range(npts):
                first = term_idx[term_ptr[j]]
                p0, p1 = vals[first, k, 0], vals[first, k, 1]
                for q in range(term_ptr[j] + 1, term_ptr[j + 1]):
                    t = term_idx[q]
                    p0, p1 = ext_mul(p0, p1, vals[t, k, 0], vals[t, k, 1])
                acc[j, k, 0], acc[j, k, 1] = ext_add(acc[j, k, 0], acc[j, k, 1], p0, p1)


@njit(cache=True)
def _sum_partial_ext(partial):
    out = np.zeros(partial.shape[1:], dtype=np.uint64)
    for c in range(partial.shape[0]):
        for j in range(partial.shape[1]):
            for k in range(partial.shape[2]):
                out[j, k, 0], out[j, k, 1] = ext_add(out[j, k, 0], out[j, k, 1], partial[c, j, k, 0], partial[c, j, k, 1])
    return out


@njit(parallel=True, cache=True)
def _round_evals_ext(stack, term_ptr, term_idx, degree):
    half = stack.shape[1] // 2
    num_terms = term_ptr.shape[0] - 1
    npts = degree + 1
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, num_terms, npts, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        _round_evals_ext_span(stack, term_ptr, term_idx, npts, c * chunk, min(half, (c + 1) * chunk), partial[c])
    return _sum_partial_ext(partial)


@njit(cache=True)
def _round_evals_ext_serial(stack, term_ptr, term_idx, degree):
    """`_round_evals_ext` on one thread (below SERIAL_BELOW, as the base twin)."""
    npts = degree + 1
    acc = np.zeros((term_ptr.shape[0] - 1, npts, 2), dtype=np.uint64)
    _round_evals_ext_span(stack, term_ptr, term_idx, npts, 0, stack.shape[1] // 2, acc)
    return acc


@njit(cache=True, inline="always")
def _fold_base_at(stack, r0, r1, out, ti):
    h = out.shape[1]
    t = ti // h
    i = ti - t * h
    d = sub(stack[t, i + h], stack[t, i])
    out[t, i, 0] = add(stack[t, i], mul(r0, d))
    out[t, i, 1] = mul(r1, d)


@njit(cache=True, inline="always")
def _fold_ext_at(stack, r0, r1, out, ti):
    h = out.shape[1]
    t = ti // h
    i = ti - t * h
    d0, d1 = ext_sub(stack[t, i + h, 0], stack[t, i + h, 1], stack[t, i, 0], stack[t, i, 1])
    m0, m1 = ext_mul(r0, r1, d0, d1)
    out[t, i, 0], out[t, i, 1] = ext_add(stack[t, i, 0], stack[t, i, 1], m0, m1)


@njit(parallel=True, cache=True)
def _fold_stack_base(stack, r0, r1, out):
    """out[t, i] = f_t[i] + r (f_t[i + h] - f_t[i]), base tables, extension r."""
    # One parallel region over (table, index): a region per table stalled
    # measurably when many small tables are folded every round.
    for ti in prange(stack.shape[0] * out.shape[1]):
        _fold_base_at(stack, r0, r1, out, ti)


@njit(cache=True)
def _fold_stack_base_serial(stack, r0, r1, out):
    """`_fold_stack_base` on one thread (below SERIAL_BELOW a parallel region costs more than it saves)."""
    for ti in range(stack.shape[0] * out.shape[1]):
        _fold_base_at(stack, r0, r1, out, ti)


@njit(parallel=True, cache=True)
def _fold_stack_ext(stack, r0, r1, out):
    for ti in prange(stack.shape[0] * out.shape[1]):
        _fold_ext_at(stack, r0, r1, out, ti)


@njit(cache=True)
def _fold_stack_ext_serial(stack, r0, r1, out):
    """`_fold_stack_ext` on one thread (below SERIAL_BELOW a parallel region costs more than it saves)."""
    for ti in range(stack.shape[0] * out.shape[1]):
        _fold_ext_at(stack, r0, r1, out, ti)


# ---------------------------------------------------------------- dispatch


def round_evals_base(stack, term_ptr, term_idx, degree):
    """Per term and t = 0..degree, sum over pairs of the term's product (base tables)."""
    kernel = _round_evals_base_serial if stack.size < SERIAL_BELOW else _round_evals_base
    if jit.use_kernel(stack.size, NUMPY_BELOW, kernel):
        return kernel(stack, term_ptr, term_idx, degree)
    return round_evals_base_numpy(stack, term_ptr, term_idx, degree)


def round_evals_ext(stack, term_ptr, term_idx, degree):
    """Per term and t = 0..degree, sum over pairs of the term's product (extension tables)."""
    kernel = _round_evals_ext_serial if stack.shape[0] * stack.shape[1] < SERIAL_BELOW else _round_evals_ext
    if jit.use_kernel(stack.shape[0] * stack.shape[1], NUMPY_BELOW, kernel):
        return kernel(stack, term_ptr, term_idx, degree)
    return round_evals_ext_numpy(stack, term_ptr, term_idx, degree)


def fold_stack_base(stack, r0, r1, out):
    """out[t, i] = f_t[i] + r (f_t[i + h] - f_t[i]), base tables, extension r."""
    kernel = _fold_stack_base_serial if out.size < SERIAL_BELOW else _fold_stack_base
    if jit.use_kernel(stack.size, NUMPY_BELOW, kernel):
        kernel(stack, r0, r1, out)
    else:
        fold_stack_base_numpy(stack, r0, r1, out)


def fold_stack_ext(stack, r0, r1, out):
    """out[t, i] = f_t[i] + r (f_t[i + h] - f_t[i]), extension tables."""
    kernel = _fold_stack_ext_serial if out.size < SERIAL_BELOW else _fold_stack_ext
    if jit.use_kernel(stack.shape[0] * stack.shape[1], NUMPY_BELOW, kernel):
        kernel(stack, r0, r1, out)
    else:
        fold_stack_ext_numpy(stack, r0, r1, out)


# ---------------------------------------------------------------- numpy paths


def _line_values(stack, npts):
    """(T, npts, h[, 2]): every table on the line through f(0, x'), f(1, x') at t < npts."""
    h = stack.shape[1] // 2
    v, d = stack[:, :h], nf.sub(stack[:, h:], stack[:, :h])
    vals = [v]
    for _ in range(1, npts):
        v = nf.add(v, d)
        vals.append(v)
    return np.stack(vals, axis=1)


# Terms with the same number of factors are multiplied together, one array
# operation per factor for all of them (a layer's sum-check has tens of
# terms of one to four factors), while the gathered factors stay below this
# many entries; past it, term by term.
GATHER_UP_TO = 1 << 20


def _term_groups(term_ptr, npts_h: int):
    """(terms, their factor indices (terms, L)) per factor count L, or None
    when gathering them would pass GATHER_UP_TO entries (or a term has none)."""
    lengths = np.diff(term_ptr)
    if lengths.size == 0 or int(lengths.min()) < 1 or int(lengths.max()) * lengths.size * npts_h > GATHER_UP_TO:
        return None
    groups = []
    for length in np.unique(lengths):
        terms = np.nonzero(lengths == length)[0]
        groups.append((terms, term_ptr[terms][:, None] + np.arange(length)))
    return groups


def _round_evals_numpy(vals, term_ptr, term_idx, mul, sum_axis, out):
    """out[j] = sum over pairs of term j's product of `vals` (T, npts, h[, 2])."""
    groups = _term_groups(term_ptr, vals[0].size)
    if groups is None:
        for j in range(out.shape[0]):
            prod = vals[term_idx[term_ptr[j]]]
            for q in range(term_ptr[j] + 1, term_ptr[j + 1]):
                prod = mul(prod, vals[term_idx[q]])
            out[j] = sum_axis(prod)
        return out
    for terms, positions in groups:
        factors = term_idx[positions]  # (terms, L) table indices
        prod = vals[factors[:, 0]]
        for q in range(1, factors.shape[1]):
            prod = mul(prod, vals[factors[:, q]])
        out[terms] = sum_axis(prod)
    return out


def round_evals_base_numpy(stack, term_ptr, term_idx, degree):
    vals = _line_values(stack, degree + 1)
    out = np.zeros((term_ptr.shape[0] - 1, degree + 1), dtype=np.uint64)
    return _round_evals_numpy(vals, term_ptr, term_idx, nf.mul, lambda a: nf.sum_axis(a, axis=-1), out)


def round_evals_ext_numpy(stack, term_ptr, term_idx, degree):
    vals = _line_values(stack, degree + 1)
    out = np.zeros((term_ptr.shape[0] - 1, degree + 1, 2), dtype=np.uint64)
    return _round_evals_numpy(vals, term_ptr, term_idx, nf.ext_mul, lambda a: nf.sum_axis(a, axis=-2), out)


def fold_stack_base_numpy(stack, r0, r1, out):
    h = out.shape[1]
    d = nf.sub(stack[:, h:], stack[:, :h])
    out[..., 0] = nf.add(stack[:, :h], nf.mul(d, r0))
    out[..., 1] = nf.mul(d, r1)


def fold_stack_ext_numpy(stack, r0, r1, out):
    out[:] = nf.ext_fold(stack, np.array([r0, r1], dtype=np.uint64))
