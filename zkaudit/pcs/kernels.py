"""numba kernels for the commitment: combinations of rows and of columns
with extension-field coefficients over a base-field matrix.

An extension coefficient a0 + a1 X times a base entry x is (a0 x, a1 x), so
both kernels reduce to base-field dot products, which they accumulate
*lazily*: each 128-bit product is added into a 192-bit accumulator
(lo, hi, top) and reduced mod p once per output (measured 4x faster than
reducing every product; the modular add's dependency chain was the
bottleneck). top counts carries out of 2^128 and so stays below the number
of terms; 2^128 = EPS^2 (mod p) folds it back in.

Each public function runs its numba kernel (`_name`) or, for a job below
`NUMPY_BELOW` products while that kernel is not loaded in the process, the
numpy path `name_numpy` with the same signature and the same values
(`field.jit.use_kernel`): a verifier's small tables never load numba.
tests/test_startup_fast_paths.py holds each pair to the other.
"""

from __future__ import annotations

from array import array

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field import vec
from zkaudit.field.constants import EPSILON, P, W
from zkaudit.field.jit import njit, prange

add, ext_add, ext_mul, ext_sub, mul, reduce128 = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_sub", "mul", "reduce128")
mul128 = jit.imported("zkaudit.pcs.fastarith", "mul128")  # four 32x32 products: LLVM vectorizes `_combine_rows`' column loop
mul_hilo = jit.imported("zkaudit.field.arith", "mul_hilo")  # one i128 product: `_row_dot`'s reduction, 3.5-4x faster than mul128
badd, bmul, bsub = jit.imported("zkaudit.pcs.fastarith", "badd", "bmul", "bsub")

# Below this many field products a call takes the numpy path (unless its
# kernel is loaded already).
NUMPY_BELOW = 1 << 14
# Below this much work (products) a kernel runs its serial twin: starting a
# parallel region costs ~0.1-0.5 ms, which an opening of a thousand small
# tables paid per call (2,700 calls, 2 s of clinical_transformer's proof).
SERIAL_BELOW = 1 << 16
# `field.jit.use_kernel` weighs jobs in elements of about 1 us of numpy work
# (a numpy NTT element); a product of these dot products costs less there:
# measured 0.09 us in `row_dots_numpy` (12 x 1024 rows, 8 vectors) and 0.17 us
# in `combine_rows_numpy` (14 x 1200), so they count 1/8 and 1/4 (a small
# prover's openings, ~10^5 products, stay in numpy instead of starting numba).
ROW_DOTS_WEIGHT = 8
COMBINE_WEIGHT = 4
# `row_dots_numpy` takes every vector in one product up to this many (an
# opening makes ~10^2 small calls), one vector at a time past it.
ROW_DOTS_AT_ONCE = 1 << 20
# ... and on Python ints (an object-array dot product) up to this many
# products: an opening's ~10^2 calls of 2-4 vectors by 12 rows of a few
# columns (measured 12 x 2 rows, 2 vectors: 12 vs 33 us; 1,536 products 210 vs 167).
ROW_DOTS_INTS_UP_TO = 1 << 9

_TWO_128 = np.uint64(EPSILON * EPSILON % P)  # 2^128 mod p

# Columns per task in `combine_rows`.
_CHUNK = 256


@njit(inline="always", cache=True)
def _settle(top, hi, lo):
    return add(reduce128(hi, lo), mul(top, _TWO_128))


@njit(parallel=True, cache=True)
def _combine_rows(mat, coeffs, out):
    """out[c] = sum_r coeffs[r] * mat[r, c]: mat (R, m) base, coeffs (R, 2)
    extension, out (m, 2). Threads split the columns; each walks the rows."""
    num_rows, m = mat.shape
    nchunks = (m + _CHUNK - 1) // _CHUNK
    for ch in prange(nchunks):
        c0 = ch * _CHUNK
        width = min(m, c0 + _CHUNK) - c0
        acc = np.zeros((6, width), dtype=np.uint64)  # (lo, hi, top) for each coordinate
        for r in range(num_rows):
            row = mat[r, c0 : c0 + width]
            for k in range(2):
                a = coeffs[r, k]
                lo_acc = acc[3 * k]
                hi_acc = acc[3 * k + 1]
                top_acc = acc[3 * k + 2]
                for c in range(width):
                    hi, lo = mul128(a, row[c])
                    s = lo_acc[c] + lo
                    hi += np.uint64(s < lo)
                    lo_acc[c] = s
                    t = hi_acc[c] + hi
                    top_acc[c] += np.uint64(t < hi)
                    hi_acc[c] = t
        for k in range(2):
            for c in range(width):
                out[c0 + c, k] = _settle(acc[3 * k + 2, c], acc[3 * k + 1, c], acc[3 * k, c])


@njit(cache=True, inline="always")
def _row_dot(mat, vecs, out, r):
    """Row r of `_row_dots`: every vector against it while it sits in cache."""
    row = mat[r]
    m = mat.shape[1]
    for i in range(vecs.shape[0]):
        e = vecs[i]
        lo_acc = np.uint64(0)
        hi_acc = np.uint64(0)
        top = np.uint64(0)
        for c in range(m):
            hi, lo = mul_hilo(e[c], row[c])
            lo_acc += lo
            hi += np.uint64(lo_acc < lo)
            hi_acc += hi
            top += np.uint64(hi_acc < hi)
        out[i, r] = _settle(top, hi_acc, lo_acc)


@njit(parallel=True, cache=True)
def _row_dots(mat, vecs, out):
    """out[i, r] = sum_c vecs[i, c] * mat[r, c] over base vectors: mat (R, m),
    vecs (k, m), out (k, R). Extension vectors enter as their two coordinate
    vectors. Threads split the rows."""
    for r in prange(mat.shape[0]):
        _row_dot(mat, vecs, out, r)


@njit(cache=True)
def _row_dots_serial(mat, vecs, out):
    """`_row_dots` on one thread: below SERIAL_BELOW work a parallel region costs more than it saves."""
    for r in range(mat.shape[0]):
        _row_dot(mat, vecs, out, r)


def coordinate_major(ext_vectors: np.ndarray) -> np.ndarray:
    """(q, m, 2) extension vectors -> (2q, m): rows 2i, 2i + 1 are vector i's
    c0 and c1 coordinates."""
    q, m, _ = ext_vectors.shape
    return np.ascontiguousarray(ext_vectors.transpose(0, 2, 1).reshape(2 * q, m))


def ext_results(dots: np.ndarray) -> np.ndarray:
    """(2q, R) from `row_dots` on coordinate-major input -> (q, R, 2)."""
    q2, num_rows = dots.shape
    return np.ascontiguousarray(dots.reshape(q2 // 2, 2, num_rows).transpose(0, 2, 1))


@njit(parallel=True, cache=True)
def _eval_blocks(row, starts, log_sizes, points, out):
    """out[i] = MLE of row[starts[i] : starts[i] + 2^log_sizes[i]] (an
    extension vector) at points[i, :log_sizes[i]], MSB first: each point
    folds its own copy of its block, points in parallel. The verifier's
    <eq(x_i, .), row> for many claims (`verifier._inner_with_row`)."""
    for i in prange(out.shape[0]):
        size = 1 << log_sizes[i]
        buf = row[starts[i] : starts[i] + size].copy()
        for j in range(log_sizes[i]):
            half = size >> 1
            r0, r1 = points[i, j, 0], points[i, j, 1]
            for t in range(half):
                d0, d1 = ext_sub(buf[t + half, 0], buf[t + half, 1], buf[t, 0], buf[t, 1])
                m0, m1 = ext_mul(r0, r1, d0, d1)
                buf[t, 0], buf[t, 1] = ext_add(buf[t, 0], buf[t, 1], m0, m1)
            size = half
        out[i, 0], out[i, 1] = buf[0, 0], buf[0, 1]


@njit(parallel=True, cache=True)
def _weighted_dots(matrix, offsets, cols, words, out):
    """out[i, y] = sum_(j in offsets[i] .. offsets[i+1]) words[j] * matrix[y, cols[j]]
    for every term i (an extension weight times a base entry: two base
    products), terms in parallel: the hiding opening's weighted terms (a
    few bank entries each) against every row."""
    rows = matrix.shape[0]
    for i in prange(offsets.shape[0] - 1):
        for y in range(rows):
            a0 = np.uint64(0)
            a1 = np.uint64(0)
            for j in range(offsets[i], offsets[i + 1]):
                x = matrix[y, cols[j]]
                a0 = badd(a0, bmul(words[j, 0], x))
                a1 = badd(a1, bmul(words[j, 1], x))
            out[i, y, 0] = a0
            out[i, y, 1] = a1


@njit(cache=True)
def _scatter_eq_blocks(starts, log_sizes, points, coeffs, out):
    """out[starts[i] : starts[i] + 2^k_i] += coeffs[i] * eq(points[i, :k_i], .)
    for every i (MSB first, as `poly.mle.eq_table`): the column check's V
    (`pcs.column_check`), each eq table built in place by doublings from
    the back (nothing overwritten early), then added into its block."""
    top = 1
    for i in range(starts.shape[0]):
        top = max(top, 1 << log_sizes[i])
    buf = np.empty((top, 2), dtype=np.uint64)
    for i in range(starts.shape[0]):
        buf[0, 0], buf[0, 1] = coeffs[i, 0], coeffs[i, 1]
        size = 1
        for j in range(log_sizes[i]):
            r0, r1 = points[i, j, 0], points[i, j, 1]
            for t in range(size - 1, -1, -1):
                hi0, hi1 = ext_mul(buf[t, 0], buf[t, 1], r0, r1)
                lo0, lo1 = ext_sub(buf[t, 0], buf[t, 1], hi0, hi1)
                buf[2 * t + 1, 0], buf[2 * t + 1, 1] = hi0, hi1
                buf[2 * t, 0], buf[2 * t, 1] = lo0, lo1
            size *= 2
        s = starts[i]
        for t in range(size):
            out[s + t, 0], out[s + t, 1] = ext_add(out[s + t, 0], out[s + t, 1], buf[t, 0], buf[t, 1])


@njit(inline="always", cache=True)
def _fold_base_block(matrix, y, start, log_size, point, buf):
    """MLE of the base block matrix[y, start : start + 2^log_size] at `point`
    (MSB first), folded in `buf` (>= 2^log_size, 2): the first fold lifts."""
    size = 1 << log_size
    if log_size == 0:
        return matrix[y, start], np.uint64(0)
    half = size >> 1
    r0, r1 = point[0, 0], point[0, 1]
    for t in range(half):
        lo = matrix[y, start + t]
        d = bsub(matrix[y, start + t + half], lo)
        buf[t, 0] = badd(lo, bmul(r0, d))
        buf[t, 1] = bmul(r1, d)
    size = half
    for j in range(1, log_size):
        half = size >> 1
        r0, r1 = point[j, 0], point[j, 1]
        for t in range(half):
            d0, d1 = ext_sub(buf[t + half, 0], buf[t + half, 1], buf[t, 0], buf[t, 1])
            m0, m1 = ext_mul(r0, r1, d0, d1)
            buf[t, 0], buf[t, 1] = ext_add(buf[t, 0], buf[t, 1], m0, m1)
        size = half
    return buf[0, 0], buf[0, 1]


@njit(parallel=True, cache=True)
def _eval_blocks_matrix(matrix, starts, log_sizes, points, out):
    """out[i, y] = MLE of the base block matrix[y, starts[i] : starts[i] +
    2^log_sizes[i]] at points[i, :log_sizes[i]] for every row y: the hiding
    opening's W_t(y) for claims on small tables, every term in one call
    (terms in parallel). `_eval_blocks_matrix_serial` is its serial twin."""
    top = 1
    for i in range(starts.shape[0]):
        top = max(top, 1 << log_sizes[i])
    for i in prange(starts.shape[0]):
        buf = np.empty((top, 2), dtype=np.uint64)
        for y in range(matrix.shape[0]):
            out[i, y, 0], out[i, y, 1] = _fold_base_block(matrix, y, starts[i], log_sizes[i], points[i], buf)


@njit(cache=True)
def _eval_blocks_matrix_serial(matrix, starts, log_sizes, points, out):
    top = 1
    for i in range(starts.shape[0]):
        top = max(top, 1 << log_sizes[i])
    buf = np.empty((top, 2), dtype=np.uint64)
    for i in range(starts.shape[0]):
        for y in range(matrix.shape[0]):
            out[i, y, 0], out[i, y, 1] = _fold_base_block(matrix, y, starts[i], log_sizes[i], points[i], buf)


@njit(cache=True)
def _pair_round_evals(stack, coeffs, out):
    """out[t] = sum_j coeffs[j] sum_{i < h} A_j(t, i) B_j(t, i) for t = 0, 1, 2,
    with A_j = stack[2j], B_j = stack[2j + 1] (extension tables of 2h entries)
    and A(t, i) = A[i] + t (A[i + h] - A[i]): a degree-2 sum-check round of a
    sum of pairwise products, first variable the most significant. Serial:
    the commitment's batching tables have ~2^7-2^10 rows, where a parallel
    region's start-up costs more than the arithmetic."""
    h = stack.shape[1] // 2
    for t in range(3):
        out[t, 0] = np.uint64(0)
        out[t, 1] = np.uint64(0)
    for j in range(stack.shape[0] // 2):
        a = stack[2 * j]
        b = stack[2 * j + 1]
        zero = np.uint64(0)
        s00, s01, s10, s11, s20, s21 = zero, zero, zero, zero, zero, zero
        for i in range(h):
            a0, a1 = a[i, 0], a[i, 1]
            b0, b1 = b[i, 0], b[i, 1]
            da0, da1 = ext_sub(a[i + h, 0], a[i + h, 1], a0, a1)
            db0, db1 = ext_sub(b[i + h, 0], b[i + h, 1], b0, b1)
            p0, p1 = ext_mul(a0, a1, b0, b1)
            s00, s01 = ext_add(s00, s01, p0, p1)
            a0, a1 = ext_add(a0, a1, da0, da1)
            b0, b1 = ext_add(b0, b1, db0, db1)
            p0, p1 = ext_mul(a0, a1, b0, b1)
            s10, s11 = ext_add(s10, s11, p0, p1)
            a0, a1 = ext_add(a0, a1, da0, da1)
            b0, b1 = ext_add(b0, b1, db0, db1)
            p0, p1 = ext_mul(a0, a1, b0, b1)
            s20, s21 = ext_add(s20, s21, p0, p1)
        c0, c1 = coeffs[j, 0], coeffs[j, 1]
        p0, p1 = ext_mul(c0, c1, s00, s01)
        out[0, 0], out[0, 1] = ext_add(out[0, 0], out[0, 1], p0, p1)
        p0, p1 = ext_mul(c0, c1, s10, s11)
        out[1, 0], out[1, 1] = ext_add(out[1, 0], out[1, 1], p0, p1)
        p0, p1 = ext_mul(c0, c1, s20, s21)
        out[2, 0], out[2, 1] = ext_add(out[2, 0], out[2, 1], p0, p1)


@njit(cache=True)
def _fold_tables(stack, r0, r1, out):
    """out[k, i] = T_k[i] + r (T_k[i + h] - T_k[i]) for every extension table
    (serial, see `pair_round_evals`)."""
    h = out.shape[1]
    for t in range(stack.shape[0]):
        for i in range(h):
            d0, d1 = ext_sub(stack[t, i + h, 0], stack[t, i + h, 1], stack[t, i, 0], stack[t, i, 1])
            m0, m1 = ext_mul(r0, r1, d0, d1)
            out[t, i, 0], out[t, i, 1] = ext_add(stack[t, i, 0], stack[t, i, 1], m0, m1)


# ---------------------------------------------------------------- dispatch


def combine_rows(mat, coeffs, out):
    """out[c] = sum_r coeffs[r] * mat[r, c] (see `_combine_rows`)."""
    if jit.use_kernel(mat.size // COMBINE_WEIGHT, NUMPY_BELOW, _combine_rows):
        _combine_rows(mat, coeffs, out)
    else:
        combine_rows_numpy(mat, coeffs, out)


def row_dots(mat, vecs, out):
    """out[i, r] = sum_c vecs[i, c] * mat[r, c] (see `_row_dots`)."""
    kernel = _row_dots_serial if mat.size * vecs.shape[0] < SERIAL_BELOW else _row_dots
    if jit.use_kernel(mat.size * vecs.shape[0] // ROW_DOTS_WEIGHT, NUMPY_BELOW, kernel):
        kernel(mat, vecs, out)
    else:
        row_dots_numpy(mat, vecs, out)


def block_points(col_points, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, log_sizes, points) for `eval_blocks` from column points of n
    coordinates (MSB first): each leading 0/1 coordinate picks a half of the
    row (eq is exact there), so a point whose first coordinates are a
    block's address folds only that block, with its remaining coordinates
    (zero-padded to n)."""
    starts, log_sizes, words = [], [], []
    zeros = [0] * (2 * n)
    add = words.append
    for x in col_points:
        bits, i = 0, 0
        for r in x:
            if r.c1 or r.c0 > 1:
                break
            bits = (bits << 1) | r.c0
            i += 1
        starts.append(bits << (n - i))
        log_sizes.append(n - i)
        for r in x[i:]:
            add(r.c0)
            add(r.c1)
        words.extend(zeros[2 * (len(x) - i):])
    # array('Q'): a C loop over the words (numpy converts ints past 2^63 one by one)
    points = np.frombuffer(array("Q", words), dtype=np.uint64).reshape(len(starts), n, 2)
    return np.array(starts, dtype=np.int64), np.array(log_sizes, dtype=np.int64), points


# Without its kernel, `eval_blocks` folds on numpy arrays (each size's blocks
# together: ~30 us per size and per coordinate, then ~0.25 us per entry) or
# on Python ints block by block (~1.5 us per block, ~0.6 us per entry),
# whichever this model of their costs (fitted on this machine, within ~1.5x)
# says is cheaper: ints win where sizes are many and blocks few (the zoo's
# logistic opening, 92 blocks of 5 sizes: 0.49 -> 0.32 ms; clinical_mlp_qdq's,
# 6 blocks of 4 sizes: 0.72 -> 0.20 ms), numpy where blocks of one size are
# many or large (256 blocks of 4 entries: 0.28 against 1.2 ms).


def _ints_cheaper(log_sizes) -> bool:
    logs = np.asarray(log_sizes, dtype=np.int64)
    sizes = np.left_shift(np.int64(1), logs)
    entries = int(np.sum(sizes))
    distinct = np.unique(logs)
    numpy_us = 30.0 * distinct.shape[0] + 30.0 * float(np.sum(distinct)) + 0.25 * entries
    ints_us = 1.5 * logs.shape[0] + 0.6 * entries
    return ints_us < numpy_us


def eval_blocks(row, starts, log_sizes, points, out):
    """out[i] = MLE of row's block i at points[i] (see `_eval_blocks`)."""
    work = int(np.sum(np.left_shift(1, np.asarray(log_sizes, dtype=np.int64))))
    if jit.use_kernel(work, NUMPY_BELOW, _eval_blocks):
        _eval_blocks(row, starts, log_sizes, points, out)
    elif _ints_cheaper(log_sizes):
        eval_blocks_ints(row, starts, log_sizes, points, out)
    else:
        eval_blocks_numpy(row, starts, log_sizes, points, out)


def eval_blocks_ints(row, starts, log_sizes, points, out):
    """`_eval_blocks` on Python ints, block by block (a single entry is read,
    not folded). The row is converted once: a logistic opening's 92 blocks
    are 79 single entries."""
    rows = row.tolist()
    results = []
    for s, k, pt in zip(np.asarray(starts).tolist(), np.asarray(log_sizes).tolist(),
                        np.ascontiguousarray(points, dtype=np.uint64).tolist()):
        if k == 0:
            results.append(rows[s])
            continue
        vals = rows[s : s + (1 << k)]
        for j in range(k):
            r0, r1 = pt[j]
            w1 = W * r1
            h = len(vals) >> 1
            # reduced every fourth fold only: the ints grow ~67 bits a fold, still cheap to
            # multiply at ~270 bits, and a 256-entry block folds in 85 us instead of 116
            if j & 3 == 3 or j == k - 1:
                vals = [((a0 + (b0 - a0) * r0 + (b1 - a1) * w1) % P, (a1 + (b0 - a0) * r1 + (b1 - a1) * r0) % P)
                        for (a0, a1), (b0, b1) in zip(vals[:h], vals[h:])]
            else:
                vals = [(a0 + (b0 - a0) * r0 + (b1 - a1) * w1, a1 + (b0 - a0) * r1 + (b1 - a1) * r0)
                        for (a0, a1), (b0, b1) in zip(vals[:h], vals[h:])]
        results.append(vals[0])
    if results:
        out[:] = np.array(results, dtype=np.uint64).reshape(len(results), 2)


def weighted_dots(matrix, offsets, cols, words, out):
    """Weighted terms against every row (see `_weighted_dots`)."""
    work = int(cols.shape[0]) * int(matrix.shape[0])
    if jit.use_kernel(work, NUMPY_BELOW, _weighted_dots):
        _weighted_dots(matrix, offsets, cols, words, out)
    else:
        weighted_dots_numpy(matrix, offsets, cols, words, out)


def weighted_dots_numpy(matrix, offsets, cols, words, out):
    """Every entry's column times its weight in one numpy product, summed
    per (term, row) exactly."""
    num_rows, terms = matrix.shape[0], offsets.shape[0] - 1
    owner = np.repeat(np.arange(terms, dtype=np.int64), np.diff(offsets))
    picked = np.ascontiguousarray(matrix[:, cols].T)  # (entries, rows)
    prod = nf.mul(picked[:, :, None], words.reshape(-1, 1, 2))  # (entries, rows, 2)
    at = (owner[:, None] * num_rows + np.arange(num_rows)).reshape(-1)
    out[:] = vec.sum_by_index(prod.reshape(-1, 2), at, terms * num_rows).reshape(terms, num_rows, 2)


def scatter_eq_blocks(starts, log_sizes, points, coeffs, out):
    """out += sum_i coeffs[i] eq(points[i], .) placed at block i (see
    `_scatter_eq_blocks`; `scatter_eq_blocks_numpy` the same in numpy)."""
    work = int(np.sum(np.left_shift(1, np.asarray(log_sizes, dtype=np.int64))))
    if jit.use_kernel(work, NUMPY_BELOW, _scatter_eq_blocks):
        _scatter_eq_blocks(starts, log_sizes, points, coeffs, out)
    else:
        scatter_eq_blocks_numpy(starts, log_sizes, points, coeffs, out)


def eval_blocks_matrix(matrix, starts, log_sizes, points, out):
    """out[i, y] = MLE of the base block matrix[y, starts[i] : starts[i] +
    2^log_sizes[i]] at points[i] for every row y (see `_eval_blocks_matrix`;
    `eval_blocks` on each row lifted to the extension is its reference)."""
    work = matrix.shape[0] * int(np.sum(np.left_shift(1, np.asarray(log_sizes, dtype=np.int64))))
    kernel = _eval_blocks_matrix_serial if work < SERIAL_BELOW else _eval_blocks_matrix
    if jit.use_kernel(work, NUMPY_BELOW, kernel):
        kernel(matrix, starts, log_sizes, points, out)
    else:
        eval_blocks_matrix_numpy(matrix, starts, log_sizes, points, out)


def eval_blocks_matrix_reference(matrix, starts, log_sizes, points, out):
    """`eval_blocks_matrix` row by row through `eval_blocks`."""
    row = np.zeros((matrix.shape[1], 2), dtype=np.uint64)
    part = np.empty((out.shape[0], 2), dtype=np.uint64)
    for y in range(matrix.shape[0]):
        row[:, 0] = matrix[y]
        eval_blocks(row, starts, log_sizes, points, part)
        out[:, y] = part


def pair_round_evals(stack, coeffs, out):
    """A degree-2 round of a sum of pairwise products (see `_pair_round_evals`)."""
    if jit.use_kernel(stack.shape[0] * stack.shape[1], NUMPY_BELOW, _pair_round_evals):
        _pair_round_evals(stack, coeffs, out)
    else:
        pair_round_evals_numpy(stack, coeffs, out)


def fold_tables(stack, r0, r1, out):
    """Bind every extension table's first variable to r (see `_fold_tables`)."""
    if jit.use_kernel(out.shape[0] * out.shape[1], NUMPY_BELOW, _fold_tables):
        _fold_tables(stack, r0, r1, out)
    else:
        fold_tables_numpy(stack, r0, r1, out)


# ---------------------------------------------------------------- numpy paths


def combine_rows_numpy(mat, coeffs, out):
    for k in range(2):
        out[:, k] = nf.sum_axis(nf.mul(mat, coeffs[:, k, None]), axis=0)


def row_dots_numpy(mat, vecs, out):
    if vecs.shape[0] * mat.size <= ROW_DOTS_INTS_UP_TO:  # Python ints, one reduction per output
        out[...] = np.dot(vecs.astype(object), mat.T.astype(object)) % P
        return
    if vecs.shape[0] * mat.size <= ROW_DOTS_AT_ONCE:  # every vector in one product
        out[...] = nf.sum_axis(nf.mul(mat[None, :, :], vecs[:, None, :]), axis=2)
        return
    for i in range(vecs.shape[0]):
        out[i] = nf.sum_axis(nf.mul(mat, vecs[i]), axis=1)


def eval_blocks_numpy(row, starts, log_sizes, points, out):
    log_sizes = np.asarray(log_sizes)
    for log_size in np.unique(log_sizes):
        idx = np.nonzero(log_sizes == log_size)[0]
        size = 1 << int(log_size)
        buf = row[np.asarray(starts)[idx, None] + np.arange(size)]  # (blocks, size, 2)
        for j in range(int(log_size)):
            buf = nf.ext_fold(buf, points[idx, j][:, None, :])
        out[idx] = buf[:, 0]


def scatter_eq_blocks_numpy(starts, log_sizes, points, coeffs, out):
    """Blocks of one size at once: their eq tables by doublings, appending
    each variable as the least significant bit, then summed into their
    (aligned) blocks exactly on 32-bit halves."""
    log_sizes, starts = np.asarray(log_sizes, dtype=np.int64), np.asarray(starts, dtype=np.int64)
    m = out.shape[0]
    for log_size in np.unique(log_sizes):
        idx = np.nonzero(log_sizes == log_size)[0]
        cur = coeffs[idx][:, None, :]  # (blocks, 1, 2)
        for j in range(int(log_size)):
            hi = nf.ext_mul(cur, points[idx, j][:, None, :])
            nxt = np.empty((idx.shape[0], cur.shape[1] * 2, 2), dtype=np.uint64)
            nxt[:, 0::2] = nf.sub(cur, hi)
            nxt[:, 1::2] = hi
            cur = nxt
        size = 1 << int(log_size)
        lo = np.zeros((m // size, size, 2), dtype=np.uint64)
        hi = np.zeros((m // size, size, 2), dtype=np.uint64)
        where = starts[idx] >> np.int64(log_size)
        np.add.at(lo, where, cur & np.uint64(0xFFFFFFFF))
        np.add.at(hi, where, cur >> np.uint64(32))
        p = np.uint64(P)
        total = nf.add(nf.mul(np.full(1, (1 << 32) % P, dtype=np.uint64), hi.reshape(m, 2) % p), lo.reshape(m, 2) % p)
        out[:] = nf.add(out, total)


def eval_blocks_matrix_numpy(matrix, starts, log_sizes, points, out):
    """Every row and block of one size folded at once."""
    log_sizes, starts = np.asarray(log_sizes, dtype=np.int64), np.asarray(starts, dtype=np.int64)
    for log_size in np.unique(log_sizes):
        idx = np.nonzero(log_sizes == log_size)[0]
        base = matrix[:, starts[idx, None] + np.arange(1 << int(log_size))]  # (rows, blocks, size)
        buf = np.zeros(base.shape + (2,), dtype=np.uint64)
        buf[..., 0] = base
        for j in range(int(log_size)):
            buf = nf.ext_fold(buf, points[idx, j][None, :, None, :])
        out[idx] = buf[:, :, 0].transpose(1, 0, 2)


def pair_round_evals_numpy(stack, coeffs, out):
    h = stack.shape[1] // 2
    a, b = stack[0::2], stack[1::2]
    da, db = nf.sub(a[:, h:], a[:, :h]), nf.sub(b[:, h:], b[:, :h])
    at, bt = a[:, :h], b[:, :h]
    for t in range(3):
        if t:
            at, bt = nf.add(at, da), nf.add(bt, db)
        s = nf.sum_axis(nf.ext_mul(at, bt), axis=1)  # (J, 2)
        out[t] = nf.sum_axis(nf.ext_mul(coeffs, s), axis=0)


def fold_tables_numpy(stack, r0, r1, out):
    out[:] = nf.ext_fold(stack, np.array([r0, r1], dtype=np.uint64))
