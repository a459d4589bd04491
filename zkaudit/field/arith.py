"""Scalar Goldilocks arithmetic for numba kernels, on uint64 values in [0, p).

Every helper is `inline="always"` so kernels compile to straight-line code.
All literals are np.uint64: in numba, mixing uint64 with a Python int promotes
to float64, which silently loses precision.

Reduction of a 128-bit x = hi * 2^64 + lo, with hi = hh * 2^32 + hl:
    2^64 = 2^32 - 1 = EPS and 2^96 = -1 (mod p), so
    x = lo - hh + hl * EPS (mod p).
The 64x64 -> 128 product is one LLVM i128 multiply (`mul_hilo`: the
operands zero-extended, the product split; x86-64 emits one `mul`). It
replaced four 32x32 products with their carries: 1.5 against 3.9 ns a
product in an elementwise loop, the same in a dependent chain (the
reduction bounds that). `mul_hilo_reference` is the four-product form,
tested equal.

Extension elements a0 + a1*X with X^2 = 7 are passed as two uint64 values.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.constants import EPSILON, P, W

nb = jit.numba()
njit = nb.njit
from numba.extending import intrinsic  # noqa: E402  (numba loaded by jit.numba(), its kernel cache stamps installed)

U64_P = np.uint64(P)
U64_EPS = np.uint64(EPSILON)
U64_W = np.uint64(W)
U64_0 = np.uint64(0)
U64_1 = np.uint64(1)
U64_32 = np.uint64(32)
U64_MASK32 = np.uint64(0xFFFFFFFF)
U64_2POW32 = np.uint64(1 << 32)


def _mul_hilo_codegen(context, builder, signature, args):
    from llvmlite import ir

    i128, i64 = ir.IntType(128), ir.IntType(64)
    product = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
    lo = builder.trunc(product, i64)
    hi = builder.trunc(builder.lshr(product, ir.Constant(i128, 64)), i64)
    return context.make_tuple(builder, signature.return_type, [hi, lo])


@intrinsic
def mul_hilo(typingctx, a, b):
    """a * b (uint64) as (hi, lo): the full 128-bit product, unreduced."""
    u64 = nb.types.uint64
    return nb.types.UniTuple(u64, 2)(u64, u64), _mul_hilo_codegen


@njit(inline="always", cache=True)
def mul_hilo_reference(a, b):
    """`mul_hilo` from four 32x32 products and their carries, branch-free:
    the reference, and the form LLVM vectorizes where a loop of them is
    (`pcs.fastarith.mul128`: the NTT, `pcs.kernels._combine_rows`)."""
    a_lo = a & U64_MASK32
    a_hi = a >> U64_32
    b_lo = b & U64_MASK32
    b_hi = b >> U64_32
    ll = a_lo * b_lo
    lh = a_lo * b_hi
    hl = a_hi * b_lo
    hh = a_hi * b_hi
    mid = lh + hl
    hh += np.uint64(mid < lh) << U64_32
    lo = ll + (mid << U64_32)
    hh += np.uint64(lo < ll)
    return hh + (mid >> U64_32), lo


@njit(cache=True)
def reduce128(hi, lo):
    hh = hi >> U64_32
    hl = hi & U64_MASK32
    t0 = lo - hh
    if lo < hh:
        t0 -= U64_EPS  # wrapped by +2^64; the true value is t0 + p = t0 - EPS (no underflow)
    t1 = hl * U64_EPS  # < 2^64
    t2 = t0 + t1
    if t2 < t1:
        t2 += U64_EPS  # wrapped by -2^64 = -EPS; cannot overflow again since t2 < t1 <= 2^64 - 2^33 + 1
    if t2 >= U64_P:
        t2 -= U64_P
    return t2


@njit(cache=True)
def mul(a, b):
    hi, lo = mul_hilo(a, b)
    return reduce128(hi, lo)


@njit(cache=True)
def add(a, b):
    s = a + b
    if s < a:
        s += U64_EPS  # a + b - p = s + 2^64 - p = s + EPS, already < p
    elif s >= U64_P:
        s -= U64_P
    return s


@njit(cache=True)
def sub(a, b):
    d = a - b
    if a < b:
        d -= U64_EPS  # wrapped by +2^64: a - b + p = d - EPS
    return d


@njit(cache=True)
def neg(a):
    if a == U64_0:
        return U64_0
    return U64_P - a


@njit(cache=True)
def mul_small(a, k):
    """a * k for k < 2^32 (e.g. the non-residue 7)."""
    lo_prod = (a & U64_MASK32) * k
    hi_prod = (a >> U64_32) * k  # < 2^64
    lo = lo_prod + (hi_prod << U64_32)
    hi = hi_prod >> U64_32
    if lo < lo_prod:
        hi += U64_1
    return reduce128(hi, lo)


@njit(cache=True)
def pow_(a, e):
    result = U64_1
    base = a
    while e > U64_0:
        if e & U64_1:
            result = mul(result, base)
        base = mul(base, base)
        e >>= U64_1
    return result


@njit(cache=True)
def inv(a):
    """a^(p-2); the caller guarantees a != 0."""
    return pow_(a, U64_P - np.uint64(2))


# ---- extension GF(p^2) = F_p[X]/(X^2 - 7) ----


@njit(cache=True)
def ext_mul(a0, a1, b0, b1):
    # Karatsuba: 3 base products plus one multiply by the small constant 7.
    v0 = mul(a0, b0)
    v1 = mul(a1, b1)
    c1 = sub(sub(mul(add(a0, a1), add(b0, b1)), v0), v1)
    c0 = add(v0, mul_small(v1, U64_W))
    return c0, c1


@njit(cache=True)
def ext_square(a0, a1):
    v = mul(a0, a1)
    c0 = add(mul(a0, a0), mul_small(mul(a1, a1), U64_W))
    return c0, add(v, v)


@njit(cache=True)
def ext_mul_base(a0, a1, b):
    return mul(a0, b), mul(a1, b)


@njit(cache=True)
def ext_add(a0, a1, b0, b1):
    return add(a0, b0), add(a1, b1)


@njit(cache=True)
def ext_sub(a0, a1, b0, b1):
    return sub(a0, b0), sub(a1, b1)


@njit(cache=True)
def ext_inv(a0, a1):
    """(a0 - a1 X) / (a0^2 - 7 a1^2); the norm is non-zero for a != 0."""
    norm = sub(mul(a0, a0), mul_small(mul(a1, a1), U64_W))
    n_inv = inv(norm)
    return mul(a0, n_inv), mul(neg(a1), n_inv)
