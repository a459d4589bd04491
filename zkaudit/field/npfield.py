"""Goldilocks arithmetic on whole numpy arrays, without numba.

The same formulas as `arith.py`, written as array expressions over uint64
(numpy wraps uint64 arithmetic modulo 2^64 without warnings on arrays): the
64x64 -> 128 product from four 32x32 products, then the reduction
    x = lo - hh + hl * EPS  (mod p),   x = hi * 2^64 + lo, hi = hh * 2^32 + hl.
Selections are arithmetic ((cond) * constant), not `np.where`: on random
data a select mispredicts and cost several times the arithmetic. About ten
times slower per element than the numba kernels, but free to
start: the path `vec`, `poly.mle` and the layer verifiers take for tables of
verifier size while numba is not loaded (`jit.use_kernel`). Inputs must be
canonical (< p); outputs are canonical. Extension arrays are (n, 2) as in
`vec`. Tests hold these to `zkaudit.field.reference`.

Products of at most `INTS_UP_TO` results are computed on Python ints in
object arrays instead (`_mul_ints`, `_ext_mul_ints`): a uint64 product is
~20 array operations of ~1 us each whatever the size, an object product
three, at ~0.3 us per element; a small prover's eq tables and sum-check
rounds are thousands of such tiny products. The values are the same.
"""

from __future__ import annotations

import math

import numpy as np

from zkaudit.field.constants import EPSILON, P, W

U64 = np.uint64
_P = U64(P)
_EPS = U64(EPSILON)
_W = U64(W)
_32 = U64(32)
_MASK32 = U64(0xFFFFFFFF)
_ONE = U64(1)
_2_32 = U64(1 << 32)


def _reduce128(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    hh = hi >> _32
    t0 = lo - hh
    t0 -= (lo < hh) * _EPS  # wrapped by +2^64: the true value is t0 - EPS (mod p)
    hi = hi & _MASK32
    hi *= _EPS  # hl * EPS < 2^64
    t0 += hi
    t0 += (t0 < hi) * _EPS  # wrapped by -2^64 = -EPS (mod p)
    t0 -= (t0 >= _P) * _P
    return t0


# Up to this many results a product runs on Python ints (measured: an
# extension product of 64 entries 63 vs 136 us, of 256 entries 267 vs 144 us).
INTS_UP_TO = 128


def _small(a: np.ndarray, b: np.ndarray) -> tuple | None:
    """The broadcast shape of a (op) b when it has at most INTS_UP_TO entries."""
    if a.size > INTS_UP_TO or b.size > INTS_UP_TO:
        return None
    if a.shape == b.shape:
        return a.shape
    shape = np.broadcast(a, b).shape  # (np.broadcast_shapes costs ~5 us, this ~1)
    return shape if math.prod(shape) <= INTS_UP_TO else None


def _to_u64(values, shape: tuple) -> np.ndarray:
    out = np.empty(shape, dtype=U64)
    out[...] = values  # object array (or one int) of canonical ints
    return out


def _mul_ints(a: np.ndarray, b: np.ndarray, shape: tuple) -> np.ndarray:
    return _to_u64(a.astype(object) * b.astype(object) % P, shape)


# Up to this many results of an elementwise or one-by-many product, Python
# lists beat object arrays (4 entries: 6 vs 22 us; 64: about even).
_LISTS_UP_TO = 32


def _ext_mul_ints(a: np.ndarray, b: np.ndarray, shape: tuple) -> np.ndarray:
    if math.prod(shape) <= 2 * _LISTS_UP_TO:
        if b.size == 2:
            a, b = b, a
        if a.size == 2:  # one element times many
            (y0, y1), rows = a.reshape(2).tolist(), b.reshape(-1, 2).tolist()
            out = [((x0 * y0 + W * x1 * y1) % P, (x0 * y1 + x1 * y0) % P) for x0, x1 in rows]
            return np.array(out, dtype=U64).reshape(shape)
        if a.shape == b.shape:
            out = [((x0 * y0 + W * x1 * y1) % P, (x0 * y1 + x1 * y0) % P)
                   for (x0, x1), (y0, y1) in zip(a.reshape(-1, 2).tolist(), b.reshape(-1, 2).tolist())]
            return np.array(out, dtype=U64).reshape(shape)
    ao, bo = a.astype(object), b.astype(object)
    a0, a1, b0, b1 = ao[..., 0], ao[..., 1], bo[..., 0], bo[..., 1]
    out = np.empty(shape, dtype=U64)
    out[..., 0] = (a0 * b0 + W * (a1 * b1)) % P
    out[..., 1] = (a0 * b1 + a1 * b0) % P
    return out


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=U64)
    b = np.asarray(b, dtype=U64)
    shape = _small(a, b)
    if shape is not None:
        return _mul_ints(a, b, shape)[()] if shape == () else _mul_ints(a, b, shape)
    return _mul_u64(a, b)


def _mul_u64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a_lo, a_hi = a & _MASK32, a >> _32
    b_lo, b_hi = b & _MASK32, b >> _32
    # in place from here: every product is a fresh array of the broadcast shape
    ll = a_lo * b_lo
    hh = a_hi * b_hi
    hl = a_hi * b_lo
    mid = a_lo * b_hi
    mid += hl
    hh += (mid < hl) * _2_32  # the middle sum's carry weighs 2^96
    lo = mid << _32
    lo += ll
    hh += lo < ll
    hh += mid >> _32
    return _reduce128(hh, lo)


def mul_small(a: np.ndarray, c: int) -> np.ndarray:
    """a * c for a constant 0 <= c < 2^32 (the extension's W): two 32x32
    products instead of `mul`'s four, the same reduction."""
    if not 0 <= c < 1 << 32:
        raise ValueError(f"mul_small: constant {c} is not below 2^32")
    a = np.asarray(a, dtype=U64)
    c = U64(c)
    lo = (a & _MASK32) * c  # < 2^64
    hi = (a >> _32) * c  # < 2^64, weighs 2^32
    out_lo = lo + (hi << _32)
    carry = out_lo < lo
    return _reduce128((hi >> _32) + carry, out_lo)


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = np.asarray(a, dtype=U64) + b
    # wrapped (s < a): a + b - p = s + 2^64 - p = s + EPS, already < p; s < EPS < p then
    s += (s < a) * _EPS - (s >= _P) * _P
    return s


def sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=U64)
    d = a - b
    d -= (a < b) * _EPS  # wrapped by +2^64: a - b + p = d - EPS
    return d


def neg(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=U64)
    return np.where(a == 0, a, _P - a)


def sum(a: np.ndarray) -> int:
    """sum of a base vector, as a Python int < p: the 32-bit halves are summed
    exactly in uint64 (2^31 terms of < 2^32 each fit)."""
    a = np.asarray(a, dtype=U64)
    total = 0
    for start in range(0, a.shape[0], 1 << 31):
        part = a[start:start + (1 << 31)]
        total += int((part >> _32).sum(dtype=U64)) * (1 << 32) + int((part & _MASK32).sum(dtype=U64))
    return total % P


# ------------------------------------------------------------ extension


# From INTS_UP_TO up to this many results an extension product takes its four
# base products as one stacked product (`_ext_mul_stacked`): ~35 array
# operations instead of ~95 (measured, 350 results: 59 against 91 us; 128:
# 49 against 66 on ints). Past it the three products of Karatsuba's form,
# on arrays a quarter the size, win (1,000 results: 86-264 against 122 us).
STACKED_UP_TO = 512


def ext_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a0 + a1 X)(b0 + b1 X) = a0 b0 + 7 a1 b1 + (a0 b1 + a1 b0) X, rows of (n, 2) arrays."""
    a, b = np.asarray(a, dtype=U64), np.asarray(b, dtype=U64)
    shape = _small(a, b)
    if shape is not None:
        return _ext_mul_ints(a, b, shape)
    if a.ndim and b.ndim and (a.size if a.shape == b.shape else np.broadcast(a, b).size) <= 2 * STACKED_UP_TO:
        return _ext_mul_stacked(a, b)
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=U64)
    # one element (2,) computes as (1, 2): its coordinates are then arrays, whose
    # uint64 arithmetic wraps silently, where numpy scalars' warns on the wraps
    # the formulas rely on
    a, b = (a.reshape(1, 2) if a.ndim == 1 else a), (b.reshape(1, 2) if b.ndim == 1 else b)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    v0 = mul(a0, b0)
    v1 = mul(a1, b1)
    out[..., 0] = add(v0, mul_small(v1, W))
    out[..., 1] = sub(sub(mul(add(a0, a1), add(b0, b1)), v0), v1)
    return out


def _ext_mul_stacked(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`ext_mul` with a0 b0, a1 b1, a0 b1, a1 b0 as one (4, ...) product."""
    a, b = np.broadcast_arrays(a, b)
    x = np.empty((4,) + a.shape[:-1], dtype=U64)
    y = np.empty((4,) + a.shape[:-1], dtype=U64)
    x[0], x[1], x[2], x[3] = a[..., 0], a[..., 1], a[..., 0], a[..., 1]
    y[0], y[1], y[2], y[3] = b[..., 0], b[..., 1], b[..., 1], b[..., 0]
    p = _mul_u64(x, y)
    out = np.empty(a.shape, dtype=U64)
    out[..., 0] = add(p[0], mul_small(p[1], W))
    out[..., 1] = add(p[2], p[3])
    return out


def ext_mul_base(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """extension (n, 2) times base (n,)"""
    return mul(a, np.asarray(b, dtype=U64)[..., None])


def ext_sum(a: np.ndarray) -> tuple[int, int]:
    return sum(a[:, 0]), sum(a[:, 1])


def inner(a: np.ndarray, b: np.ndarray) -> int:
    return sum(mul(a, b))


def ext_inner(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """<a, b> for extension a and extension (n, 2) or base (n,) b."""
    return ext_sum(ext_mul(a, b) if b.ndim == 2 else ext_mul_base(a, b))


# Up to this many entries `sum_axis` sums Python ints (measured: 64 entries
# 9 vs 36 us, 1,024 entries 46 vs 26 us).
SUM_INTS_UP_TO = 256


def sum_axis(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sums mod p along one axis (an extension array's coordinates are summed
    separately when the axis is not the last): the 32-bit halves are summed
    exactly in uint64 (fewer than 2^31 terms), then recombined."""
    a = np.asarray(a, dtype=U64)
    if a.shape[axis] >= 1 << 31:
        raise ValueError("sum_axis: 2^31 terms or more")
    if a.size <= SUM_INTS_UP_TO:  # on Python ints: 3 array operations instead of ~35
        ax = axis % a.ndim
        out = _to_u64(a.astype(object).sum(axis=ax) % P, a.shape[:ax] + a.shape[ax + 1:])
        return out[()] if out.ndim == 0 else out
    hi = (a >> _32).sum(axis=axis, dtype=U64)  # < 2^63
    lo = (a & _MASK32).sum(axis=axis, dtype=U64)
    hi = np.where(hi >= _P, hi - _P, hi)
    lo = np.where(lo >= _P, lo - _P, lo)
    return add(mul(hi, U64(1 << 32)), lo)


def ext_fold(table: np.ndarray, r: np.ndarray) -> np.ndarray:
    """table[..., :h, :] + r (table[..., h:, :] - table[..., :h, :]) along the
    second-to-last axis, for an extension table (..., 2h, 2) and r (2,) or
    broadcastable (..., 1, 2): binding the first variable of each table."""
    h = table.shape[-2] // 2
    lo, hi = table[..., :h, :], table[..., h:, :]
    r = np.asarray(r, dtype=U64)
    if r.ndim == 1:
        r = r.reshape(1, 2)  # numpy warns on wrapping 0-d scalars, not on arrays
    return add(lo, ext_mul(sub(hi, lo), r))


def pow_scalar(base: int, e: int) -> np.uint64:
    return U64(pow(int(base), int(e), P))
