"""Array kernels over canonical uint64 arrays (numba, cached, parallel).

Base-field arrays are 1-D uint64; extension arrays are (n, 2) uint64 with
column 0 the constant coefficient and column 1 the X coefficient. Callers go
through `zkaudit.field.vec`, which checks shapes and dtypes; kernels trust
their inputs. `zkaudit.field.reference` holds the naive Python-int versions
that tests hold these to.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.arith import (
    U64_0,
    U64_1,
    U64_P,
    add,
    ext_add,
    ext_inv,
    ext_mul,
    ext_mul_base,
    ext_sub,
    inv,
    mul,
    neg,
    pow_,
    sub,
)

# numba's own njit, taken through `jit.numba()` (which installs the kernel cache's closure stamps,
# `field.jit_cache`, before any cached kernel of this module is made)
_nb = jit.numba()
njit, prange = _nb.njit, _nb.prange

# Reductions split the array into this many chunks, summed in parallel and
# then combined; enough for 2 cores with some load balancing.
NUM_CHUNKS = 64

# ---------------------------------------------------------------- base field


@njit(parallel=True, cache=True)
def add_vv(a, b, out):
    for i in prange(a.shape[0]):
        out[i] = add(a[i], b[i])


@njit(parallel=True, cache=True)
def sub_vv(a, b, out):
    for i in prange(a.shape[0]):
        out[i] = sub(a[i], b[i])


@njit(parallel=True, cache=True)
def neg_v(a, out):
    for i in prange(a.shape[0]):
        out[i] = neg(a[i])


@njit(parallel=True, cache=True)
def mul_vv(a, b, out):
    for i in prange(a.shape[0]):
        out[i] = mul(a[i], b[i])


@njit(parallel=True, cache=True)
def fma_vvv(a, b, c, out):
    for i in prange(a.shape[0]):
        out[i] = add(mul(a[i], b[i]), c[i])


@njit(parallel=True, cache=True)
def scale_sv(s, a, out):
    for i in prange(a.shape[0]):
        out[i] = mul(s, a[i])


@njit(parallel=True, cache=True)
def pow_vs(a, e, out):
    for i in prange(a.shape[0]):
        out[i] = pow_(a[i], e)


@njit(cache=True)
def batch_inv_v(a, out):
    """Montgomery's trick: n inversions for one inversion and 3(n-1) products.
    Returns the index of a zero entry, or -1 when every entry was invertible."""
    n = a.shape[0]
    if n == 0:
        return -1
    acc = U64_1
    for i in range(n):
        if a[i] == U64_0:
            return i
        out[i] = acc  # prefix product of a[0..i)
        acc = mul(acc, a[i])
    acc_inv = inv(acc)  # = 1 / (a[0] ... a[n-1])
    for i in range(n - 1, -1, -1):
        out[i] = mul(out[i], acc_inv)
        acc_inv = mul(acc_inv, a[i])
    return -1


@njit(parallel=True, cache=True)
def sum_v(a):
    n = a.shape[0]
    chunk = (n + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros(NUM_CHUNKS, dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        s = U64_0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            s = add(s, a[i])
        partial[c] = s
    total = U64_0
    for c in range(NUM_CHUNKS):
        total = add(total, partial[c])
    return total


@njit(parallel=True, cache=True)
def inner_vv(a, b):
    n = a.shape[0]
    chunk = (n + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros(NUM_CHUNKS, dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        s = U64_0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            s = add(s, mul(a[i], b[i]))
        partial[c] = s
    total = U64_0
    for c in range(NUM_CHUNKS):
        total = add(total, partial[c])
    return total


@njit(parallel=True, cache=True)
def from_int64_v(a, out):
    """Signed embedding: v >= 0 -> v, v < 0 -> p - |v| (one canonical zero)."""
    for i in prange(a.shape[0]):
        v = a[i]
        if v >= 0:
            out[i] = np.uint64(v)
        else:
            out[i] = U64_P - np.uint64(-(v + 1)) - U64_1


@njit(cache=True)
def from_int64_s(a, out):
    """`from_int64_v` on one thread (`vec.from_int64` below 2^16 entries: a parallel region costs more)."""
    for i in range(a.shape[0]):
        v = a[i]
        if v >= 0:
            out[i] = np.uint64(v)
        else:
            out[i] = U64_P - np.uint64(-(v + 1)) - U64_1


@njit(parallel=True, cache=True)
def reduce_u64_v(a, out):
    for i in prange(a.shape[0]):
        v = a[i]
        out[i] = v - U64_P if v >= U64_P else v


# ----------------------------------------------------------- extension field


@njit(parallel=True, cache=True)
def ext_add_vv(a, b, out):
    for i in prange(a.shape[0]):
        out[i, 0], out[i, 1] = ext_add(a[i, 0], a[i, 1], b[i, 0], b[i, 1])


@njit(parallel=True, cache=True)
def ext_sub_vv(a, b, out):
    for i in prange(a.shape[0]):
        out[i, 0], out[i, 1] = ext_sub(a[i, 0], a[i, 1], b[i, 0], b[i, 1])


@njit(parallel=True, cache=True)
def ext_mul_vv(a, b, out):
    for i in prange(a.shape[0]):
        out[i, 0], out[i, 1] = ext_mul(a[i, 0], a[i, 1], b[i, 0], b[i, 1])


@njit(parallel=True, cache=True)
def ext_mul_vb(a, b, out):
    """extension vector * base vector"""
    for i in prange(a.shape[0]):
        out[i, 0], out[i, 1] = ext_mul_base(a[i, 0], a[i, 1], b[i])


@njit(parallel=True, cache=True)
def ext_fma_vvv(a, b, c, out):
    for i in prange(a.shape[0]):
        m0, m1 = ext_mul(a[i, 0], a[i, 1], b[i, 0], b[i, 1])
        out[i, 0], out[i, 1] = ext_add(m0, m1, c[i, 0], c[i, 1])


@njit(parallel=True, cache=True)
def ext_scale_sv(s0, s1, a, out):
    for i in prange(a.shape[0]):
        out[i, 0], out[i, 1] = ext_mul(s0, s1, a[i, 0], a[i, 1])


@njit(parallel=True, cache=True)
def ext_scale_sb(s0, s1, a, out):
    """extension scalar * base vector"""
    for i in prange(a.shape[0]):
        out[i, 0], out[i, 1] = ext_mul_base(s0, s1, a[i])


@njit(cache=True)
def ext_batch_inv_v(a, out):
    n = a.shape[0]
    if n == 0:
        return -1
    acc0, acc1 = U64_1, U64_0
    for i in range(n):
        if a[i, 0] == U64_0 and a[i, 1] == U64_0:
            return i
        out[i, 0], out[i, 1] = acc0, acc1
        acc0, acc1 = ext_mul(acc0, acc1, a[i, 0], a[i, 1])
    i0, i1 = ext_inv(acc0, acc1)
    for i in range(n - 1, -1, -1):
        out[i, 0], out[i, 1] = ext_mul(out[i, 0], out[i, 1], i0, i1)
        i0, i1 = ext_mul(i0, i1, a[i, 0], a[i, 1])
    return -1


@njit(parallel=True, cache=True)
def ext_sum_v(a):
    n = a.shape[0]
    chunk = (n + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        s0, s1 = U64_0, U64_0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            s0, s1 = ext_add(s0, s1, a[i, 0], a[i, 1])
        partial[c, 0], partial[c, 1] = s0, s1
    t0, t1 = U64_0, U64_0
    for c in range(NUM_CHUNKS):
        t0, t1 = ext_add(t0, t1, partial[c, 0], partial[c, 1])
    return t0, t1


@njit(parallel=True, cache=True)
def ext_inner_vv(a, b):
    n = a.shape[0]
    chunk = (n + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        s0, s1 = U64_0, U64_0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            m0, m1 = ext_mul(a[i, 0], a[i, 1], b[i, 0], b[i, 1])
            s0, s1 = ext_add(s0, s1, m0, m1)
        partial[c, 0], partial[c, 1] = s0, s1
    t0, t1 = U64_0, U64_0
    for c in range(NUM_CHUNKS):
        t0, t1 = ext_add(t0, t1, partial[c, 0], partial[c, 1])
    return t0, t1


@njit(parallel=True, cache=True)
def ext_inner_vb(a, b):
    """<extension vector, base vector>"""
    n = a.shape[0]
    chunk = (n + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        s0, s1 = U64_0, U64_0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            s0 = add(s0, mul(a[i, 0], b[i]))
            s1 = add(s1, mul(a[i, 1], b[i]))
        partial[c, 0], partial[c, 1] = s0, s1
    t0, t1 = U64_0, U64_0
    for c in range(NUM_CHUNKS):
        t0, t1 = ext_add(t0, t1, partial[c, 0], partial[c, 1])
    return t0, t1
