"""numba kernels for radix-2 NTTs over Goldilocks (see `ntt.py` for the maths).

Two layouts, both in place on uint64 arrays of canonical elements:

* row-wise (`dif_rows`, `dit_rows`): a (batch, n) array, one transform per
  row; threads split the batch.
* encode-and-transpose (`encode_rows_transposed`): Reed-Solomon codewords of
  the rows of an (R, m) message, written as the columns of an (n, R) array.
  This is the commitment's layout: codeword position j of every row is the
  contiguous row j, hashed as one Merkle leaf. (Running the butterflies
  down the columns directly measured 3-7x slower: every stage then strides
  over pages.)

Twiddle tables hold w^j for j < n/2 where w is a primitive n-th root; a
stage of half-size h uses every (n / 2h)-th entry.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkaudit.field.arith import U64_1, add, mul, sub


@njit(cache=True)
def powers(base, count, out):
    """out[j] = base^j for j < count."""
    acc = U64_1
    for j in range(count):
        out[j] = acc
        acc = mul(acc, base)


@njit(parallel=True, cache=True)
def dif_rows(a, tw):
    """Decimation in frequency, natural-order input, bit-reversed output:
    row b becomes bitrev(DFT_w(row b)) with w = tw[1]."""
    batch, n = a.shape
    for b in prange(batch):
        h = n >> 1
        stride = 1
        while h >= 1:
            for start in range(0, n, 2 * h):
                for j in range(h):
                    w = tw[j * stride]
                    x = a[b, start + j]
                    y = a[b, start + j + h]
                    a[b, start + j] = add(x, y)
                    a[b, start + j + h] = mul(sub(x, y), w)
            h >>= 1
            stride <<= 1


@njit(parallel=True, cache=True)
def dit_rows(a, tw):
    """Decimation in time, bit-reversed input, natural-order output: the
    unscaled inverse of `dif_rows` when tw holds the inverse root's powers."""
    batch, n = a.shape
    for b in prange(batch):
        h = 1
        stride = n >> 1
        while h < n:
            for start in range(0, n, 2 * h):
                for j in range(h):
                    w = tw[j * stride]
                    x = a[b, start + j]
                    y = mul(a[b, start + j + h], w)
                    a[b, start + j] = add(x, y)
                    a[b, start + j + h] = sub(x, y)
            h <<= 1
            stride >>= 1


@njit(parallel=True, cache=True)
def scale_rows(a, factors):
    """a[b, j] *= factors[j] for every row b."""
    batch, n = a.shape
    for b in prange(batch):
        for j in range(n):
            a[b, j] = mul(a[b, j], factors[j])


@njit(cache=True)
def _dif_span(a, lo, n, tw):
    """In-place DIF of the n entries a[lo .. lo + n) of a 1-D array."""
    h = n >> 1
    stride = 1
    while h >= 1:
        for start in range(lo, lo + n, 2 * h):
            for j in range(h):
                w = tw[j * stride]
                x = a[start + j]
                y = a[start + j + h]
                a[start + j] = add(x, y)
                a[start + j + h] = mul(sub(x, y), w)
        h >>= 1
        stride <<= 1


@njit(parallel=True, cache=True)
def encode_rows_transposed(msg, shift_powers, tw, out, group):
    """Reed-Solomon encode every row of `msg` (R, m) and store the codewords
    as the *columns* of `out` (B*m, R). Block t of a codeword (positions
    t*m .. t*m + m) is the DIF of the row scaled by shift_powers[t, i] = s_t^i,
    i.e. the row's polynomial on the coset s_t * <w_m>, bit-reversed within
    the block. Rows are encoded `group` at a time in a contiguous scratch
    buffer, then written out as `group`-wide runs of each output row, so the
    strided (transposing) access happens once, not once per butterfly stage."""
    num_rows, m = msg.shape
    blocks = shift_powers.shape[0]
    n = blocks * m
    ngroups = (num_rows + group - 1) // group
    for g in prange(ngroups):
        r0 = g * group
        r1 = min(num_rows, r0 + group)
        scratch = np.empty((r1 - r0) * n, dtype=np.uint64)
        for r in range(r0, r1):
            base = (r - r0) * n
            for t in range(blocks):
                lo = base + t * m
                for i in range(m):
                    scratch[lo + i] = mul(msg[r, i], shift_powers[t, i])
                _dif_span(scratch, lo, m, tw)
        for j in range(n):
            for r in range(r0, r1):
                out[j, r] = scratch[(r - r0) * n + j]


@njit(parallel=True, cache=True)
def bit_reverse_rows(a, rev, out):
    batch, n = a.shape
    for b in prange(batch):
        for j in range(n):
            out[b, rev[j]] = a[b, j]
