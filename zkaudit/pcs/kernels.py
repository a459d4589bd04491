"""numba kernels for the commitment: combinations of rows and of columns
with extension-field coefficients over a base-field matrix.

Both are the same bilinear form read two ways; the loops are ordered so the
matrix is read along its contiguous rows."""

from __future__ import annotations

from numba import njit, prange

from zkaudit.field.arith import U64_0, add, mul

# Column chunks per thread-level task in `combine_rows`.
_CHUNK = 512


@njit(parallel=True, cache=True)
def combine_rows(mat, coeffs, out):
    """out[c] = sum_r coeffs[r] * mat[r, c]: mat (R, m) base, coeffs (R, 2)
    extension, out (m, 2). Threads split the columns; each walks the rows."""
    num_rows, m = mat.shape
    nchunks = (m + _CHUNK - 1) // _CHUNK
    for ch in prange(nchunks):
        c0 = ch * _CHUNK
        c1 = min(m, c0 + _CHUNK)
        for c in range(c0, c1):
            out[c, 0] = U64_0
            out[c, 1] = U64_0
        for r in range(num_rows):
            a0 = coeffs[r, 0]
            a1 = coeffs[r, 1]
            for c in range(c0, c1):
                x = mat[r, c]
                out[c, 0] = add(out[c, 0], mul(a0, x))
                out[c, 1] = add(out[c, 1], mul(a1, x))


@njit(parallel=True, cache=True)
def row_dots(mat, vecs, out):
    """out[i, r] = sum_c vecs[i, c] * mat[r, c]: mat (R, m) base, vecs (q, m, 2)
    extension, out (q, R, 2). Threads split the rows; each row is read once
    per vector while it sits in cache."""
    num_rows, m = mat.shape
    q = vecs.shape[0]
    for r in prange(num_rows):
        for i in range(q):
            s0 = U64_0
            s1 = U64_0
            for c in range(m):
                x = mat[r, c]
                s0 = add(s0, mul(vecs[i, c, 0], x))
                s1 = add(s1, mul(vecs[i, c, 1], x))
            out[i, r, 0] = s0
            out[i, r, 1] = s1
