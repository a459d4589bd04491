"""numba kernels for one round sum-check of the Poseidon2 GKR (`gkr.py`).

With eq split off (as the lookup GKR does), round j sends g(t) = l(t) s(t),
l(t) = eq(z_<j, r_<j) eq(z_j, t) known to the driver, and

    s(t) = sum_i eqs[i] F(t, i),   F = sum_k m_k sigma_k(A_k),

each lane A_k on the line through its pair (A_k[i], A_k[i + h]); sigma_k is
x^7 on every lane of a full round and on lane 0 of a partial one (x
elsewhere: there the seven linear lanes cost one combination per pair,
L(t) = L(0) + t (L(1) - L(0))). s has degree 7; the kernels return
s(0) and s(2..8) (s(1) slot zero: the driver sets g(1) = claim - g(0)). Lanes are base-field (8, N)
before the first fold and extension (8, N, 2) after. The generic sum-check
(`sumcheck.prover`) on the same tables is the reference (tests compare
proofs byte for byte).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkaudit.field.arith import add, ext_add, ext_mul, ext_mul_base, ext_sub, mul, sub

NUM_POINTS = 9
NUM_CHUNKS = 64
SERIAL_PAIRS = 1 << 10


@njit(cache=True)
def _pow7(x):
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    return mul(x3, x4)


@njit(cache=True)
def _ext_pow7(a0, a1):
    b0, b1 = ext_mul(a0, a1, a0, a1)
    c0, c1 = ext_mul(b0, b1, a0, a1)
    d0, d1 = ext_mul(b0, b1, b0, b1)
    return ext_mul(c0, c1, d0, d1)


@njit(cache=True)
def _chunk_base(lanes, eqs, m, full, lo, hi, out, c):
    h = lanes.shape[1] // 2
    acc = np.zeros((NUM_POINTS, 2), dtype=np.uint64)
    v = np.empty(8, dtype=np.uint64)
    d = np.empty(8, dtype=np.uint64)
    for i in range(lo, hi):
        for k in range(8):
            v[k] = lanes[k, i]
            d[k] = sub(lanes[k, i + h], lanes[k, i])
        l0, l1, ld0, ld1 = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
        if not full:
            for k in range(1, 8):
                x0, x1 = ext_mul_base(m[k, 0], m[k, 1], v[k])
                l0, l1 = ext_add(l0, l1, x0, x1)
                x0, x1 = ext_mul_base(m[k, 0], m[k, 1], d[k])
                ld0, ld1 = ext_add(ld0, ld1, x0, x1)
        for t in range(NUM_POINTS):
            if t != 1:  # s(1) comes from the claim (the driver's g(1) = claim - g(0))
                s0, s1 = np.uint64(0), np.uint64(0)
                if full:
                    for k in range(8):
                        x0, x1 = ext_mul_base(m[k, 0], m[k, 1], _pow7(v[k]))
                        s0, s1 = ext_add(s0, s1, x0, x1)
                else:
                    s0, s1 = ext_mul_base(m[0, 0], m[0, 1], _pow7(v[0]))
                    s0, s1 = ext_add(s0, s1, l0, l1)
                p0, p1 = ext_mul(s0, s1, eqs[i, 0], eqs[i, 1])
                acc[t, 0], acc[t, 1] = ext_add(acc[t, 0], acc[t, 1], p0, p1)
            if not full:
                l0, l1 = ext_add(l0, l1, ld0, ld1)
            for k in range(8 if full else 1):
                v[k] = add(v[k], d[k])
    out[c] = acc


@njit(cache=True)
def _chunk_ext(lanes, eqs, m, full, lo, hi, out, c):
    h = lanes.shape[1] // 2
    acc = np.zeros((NUM_POINTS, 2), dtype=np.uint64)
    v = np.empty((8, 2), dtype=np.uint64)
    d = np.empty((8, 2), dtype=np.uint64)
    for i in range(lo, hi):
        for k in range(8):
            v[k, 0], v[k, 1] = lanes[k, i, 0], lanes[k, i, 1]
            d[k, 0], d[k, 1] = ext_sub(lanes[k, i + h, 0], lanes[k, i + h, 1], v[k, 0], v[k, 1])
        l0, l1, ld0, ld1 = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
        if not full:
            for k in range(1, 8):
                x0, x1 = ext_mul(m[k, 0], m[k, 1], v[k, 0], v[k, 1])
                l0, l1 = ext_add(l0, l1, x0, x1)
                x0, x1 = ext_mul(m[k, 0], m[k, 1], d[k, 0], d[k, 1])
                ld0, ld1 = ext_add(ld0, ld1, x0, x1)
        for t in range(NUM_POINTS):
            if t != 1:  # s(1) comes from the claim (the driver's g(1) = claim - g(0))
                s0, s1 = np.uint64(0), np.uint64(0)
                if full:
                    for k in range(8):
                        q0, q1 = _ext_pow7(v[k, 0], v[k, 1])
                        x0, x1 = ext_mul(m[k, 0], m[k, 1], q0, q1)
                        s0, s1 = ext_add(s0, s1, x0, x1)
                else:
                    q0, q1 = _ext_pow7(v[0, 0], v[0, 1])
                    s0, s1 = ext_mul(m[0, 0], m[0, 1], q0, q1)
                    s0, s1 = ext_add(s0, s1, l0, l1)
                p0, p1 = ext_mul(s0, s1, eqs[i, 0], eqs[i, 1])
                acc[t, 0], acc[t, 1] = ext_add(acc[t, 0], acc[t, 1], p0, p1)
            if not full:
                l0, l1 = ext_add(l0, l1, ld0, ld1)
            for k in range(8 if full else 1):
                v[k, 0], v[k, 1] = ext_add(v[k, 0], v[k, 1], d[k, 0], d[k, 1])
    out[c] = acc


@njit(cache=True)
def _reduce(partial):
    out = np.zeros((NUM_POINTS, 2), dtype=np.uint64)
    for c in range(partial.shape[0]):
        for t in range(NUM_POINTS):
            out[t, 0], out[t, 1] = ext_add(out[t, 0], out[t, 1], partial[c, t, 0], partial[c, t, 1])
    return out


@njit(parallel=True, cache=True)
def _round_parallel_base(lanes, eqs, m, full):
    half = lanes.shape[1] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, NUM_POINTS, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        lo, hi = c * chunk, min(half, (c + 1) * chunk)
        if lo < hi:
            _chunk_base(lanes, eqs, m, full, lo, hi, partial, c)
    return _reduce(partial)


@njit(parallel=True, cache=True)
def _round_parallel_ext(lanes, eqs, m, full):
    half = lanes.shape[1] // 2
    chunk = (half + NUM_CHUNKS - 1) // NUM_CHUNKS
    partial = np.zeros((NUM_CHUNKS, NUM_POINTS, 2), dtype=np.uint64)
    for c in prange(NUM_CHUNKS):
        lo, hi = c * chunk, min(half, (c + 1) * chunk)
        if lo < hi:
            _chunk_ext(lanes, eqs, m, full, lo, hi, partial, c)
    return _reduce(partial)


@njit(cache=True)
def _round_serial_base(lanes, eqs, m, full):
    partial = np.zeros((1, NUM_POINTS, 2), dtype=np.uint64)
    _chunk_base(lanes, eqs, m, full, 0, lanes.shape[1] // 2, partial, 0)
    return _reduce(partial)


@njit(cache=True)
def _round_serial_ext(lanes, eqs, m, full):
    partial = np.zeros((1, NUM_POINTS, 2), dtype=np.uint64)
    _chunk_ext(lanes, eqs, m, full, 0, lanes.shape[1] // 2, partial, 0)
    return _reduce(partial)


def round_evals(lanes: np.ndarray, eqs: np.ndarray, m: np.ndarray, full: bool) -> np.ndarray:
    """s(0), s(2..8) as (9, 2) (row 1 zero); lanes (8, N) base or (8, N, 2) extension, eqs
    (N / 2, 2), m (8, 2)."""
    serial = lanes.shape[1] // 2 < SERIAL_PAIRS
    if lanes.ndim == 3:
        return (_round_serial_ext if serial else _round_parallel_ext)(lanes, eqs, m, full)
    return (_round_serial_base if serial else _round_parallel_base)(lanes, eqs, m, full)
