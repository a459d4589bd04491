"""Integer rounding rules and fixed-point multipliers.

The rounding rule of the whole IR is round-half-to-even ("banker's
rounding"), the rule of ONNX QuantizeLinear and onnxruntime. For a shift
s >= 1, with v = q * 2^s + r and 0 <= r < 2^s:

    rnd(v / 2^s) = floor((v + 2^(s-1)) / 2^s), minus 1 when that is odd and
                   v is exactly halfway (r == 2^(s-1)).

A real scale 0 < x is represented as m / 2^shift with an integer multiplier
0 < m < 2^31. Scales that onnxruntime computes in float32 are represented
*exactly* (a float32 is a 24-bit integer times a power of two), which is what
makes our integer outputs agree with onnxruntime's bit for bit except where
its own float32 product rounds across a half.
"""

from __future__ import annotations

import math

import numpy as np

from zkaudit.circuit.errors import CircuitError

MULTIPLIER_BITS = 31


def rshift_round(v: np.ndarray, shift) -> np.ndarray:
    """rnd(v / 2^shift), round half to even; `shift` >= 0 broadcasts with v."""
    v = np.asarray(v, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    safe = np.maximum(shift, 1)
    half = np.left_shift(np.int64(1), safe - 1)
    q = np.right_shift(v + half, safe)  # arithmetic shift: floor
    tie = np.bitwise_and(v, np.left_shift(np.int64(1), safe) - 1) == half
    q = q - (tie & (np.bitwise_and(q, 1) == 1))
    return np.where(shift == 0, v, q)


def div_round(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """rnd(n / d) for d > 0, round half to even."""
    n = np.asarray(n, dtype=np.int64)
    d = np.asarray(d, dtype=np.int64)
    q = np.floor_divide(n, d)
    r2 = 2 * (n - q * d)  # 0 <= r2 < 2d
    up = (r2 > d) | ((r2 == d) & (np.bitwise_and(q, 1) == 1))
    return q + up


def multiplier_from_scale(scale: float, bits: int = MULTIPLIER_BITS) -> tuple[int, int]:
    """Nearest (m, shift) with m / 2^shift ~= scale and 2^(bits-1) <= m < 2^bits
    (relative error <= 2^-bits)."""
    if not (scale > 0 and math.isfinite(scale)):
        raise CircuitError(f"a requantization scale must be positive and finite, got {scale!r}")
    mant, exp = math.frexp(scale)  # scale = mant * 2^exp, 0.5 <= mant < 1
    m = round(mant * (1 << bits))
    shift = bits - exp
    if m == (1 << bits):
        m //= 2
        shift -= 1
    return _normalize(m, shift, scale)


def multiplier_from_float32(scale) -> tuple[int, int]:
    """The exact (m, shift) of a float32 scale: m is its 24-bit significand."""
    s32 = np.float32(scale)
    if not (s32 > 0 and np.isfinite(s32)):
        raise CircuitError(f"a requantization scale must be positive and finite, got {scale!r}")
    mant, exp = math.frexp(float(s32))
    m, shift = int(mant * (1 << 24)), 24 - exp
    while shift > 0 and m % 2 == 0:
        m //= 2
        shift -= 1
    return _normalize(m, shift, float(s32))


def _normalize(m: int, shift: int, scale: float) -> tuple[int, int]:
    while shift < 0:  # scales >= 2^31 need a left shift: fold it into m
        m <<= 1
        shift += 1
    if m >= (1 << MULTIPLIER_BITS):
        raise CircuitError(f"requantization scale {scale!r} is too large for a 31-bit multiplier")
    if shift > 62:
        m = round(m / (1 << (shift - 62)))
        shift = 62
        if m == 0:
            raise CircuitError(f"requantization scale {scale!r} is below 2^-62")
    return m, shift
