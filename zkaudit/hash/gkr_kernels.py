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

`round_evals` runs a kernel or, for lanes below `NUMPY_BELOW` entries while
that kernel is not loaded in the process, `round_evals_numpy` (the eight
points evaluated directly, every pair per array operation; the same values,
`field.jit.use_kernel`): a small proof's weight hashes never start numba.
Importing this module imports no numba (`field.jit.njit`).

`partial_round_evals`, `line_table` and `lanes_at` (a partial round on lane
0 and one line table, `gkr_prover.PartialRun`) are kernels only: that run
starts once numba is. Round sums are accumulated lazily (128-bit products,
one reduction per chunk; see "Lazy accumulation" below).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.jit import njit, prange
from zkaudit.hash.kernels import _sbox  # x^7, the permutation's own S-box

add, ext_add, ext_mul, ext_mul_base, ext_square, ext_sub, mul, mul_hilo, mul_small, reduce128, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_mul_base", "ext_square", "ext_sub", "mul", "mul_hilo",
    "mul_small", "reduce128", "sub")

NUM_POINTS = 9
NUM_CHUNKS = 64
# Pairs per chunk at least: each chunk ends in `_finish` (~1.5 us: the lane
# weights, binomials and eight Horner evaluations), which 64 chunks of a
# 2048-pair round paid ~0.1 ms for, more than the round's parallel gain.
MIN_CHUNK_PAIRS = 1 << 9
SERIAL_PAIRS = 1 << 10
# Below this many lane entries a round takes the numpy path (unless its
# kernel is loaded already).
NUMPY_BELOW = 1 << 14


@njit(cache=True)
def _ext_sbox(a0, a1):
    b0, b1 = ext_mul(a0, a1, a0, a1)
    c0, c1 = ext_mul(b0, b1, a0, a1)
    d0, d1 = ext_mul(b0, b1, b0, b1)
    return ext_mul(c0, c1, d0, d1)


@njit(cache=True)
def _chunk_base_points(lanes, eqs, m, full, lo, hi, out, c):
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
                        x0, x1 = ext_mul_base(m[k, 0], m[k, 1], _sbox(v[k]))
                        s0, s1 = ext_add(s0, s1, x0, x1)
                else:
                    s0, s1 = ext_mul_base(m[0, 0], m[0, 1], _sbox(v[0]))
                    s0, s1 = ext_add(s0, s1, l0, l1)
                p0, p1 = ext_mul(s0, s1, eqs[i, 0], eqs[i, 1])
                acc[t, 0], acc[t, 1] = ext_add(acc[t, 0], acc[t, 1], p0, p1)
            if not full:
                l0, l1 = ext_add(l0, l1, ld0, ld1)
            for k in range(8 if full else 1):
                v[k] = add(v[k], d[k])
    out[c] = acc


@njit(cache=True)
def _chunk_ext_points(lanes, eqs, m, full, lo, hi, out, c):
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
                        q0, q1 = _ext_sbox(v[k, 0], v[k, 1])
                        x0, x1 = ext_mul(m[k, 0], m[k, 1], q0, q1)
                        s0, s1 = ext_add(s0, s1, x0, x1)
                else:
                    q0, q1 = _ext_sbox(v[0, 0], v[0, 1])
                    s0, s1 = ext_mul(m[0, 0], m[0, 1], q0, q1)
                    s0, s1 = ext_add(s0, s1, l0, l1)
                p0, p1 = ext_mul(s0, s1, eqs[i, 0], eqs[i, 1])
                acc[t, 0], acc[t, 1] = ext_add(acc[t, 0], acc[t, 1], p0, p1)
            if not full:
                l0, l1 = ext_add(l0, l1, ld0, ld1)
            for k in range(8 if full else 1):
                v[k, 0], v[k, 1] = ext_add(v[k, 0], v[k, 1], d[k, 0], d[k, 1])
    out[c] = acc


_BINOM7 = np.array([1, 7, 21, 35, 35, 21, 7, 1], dtype=np.uint64)


# Lazy accumulation. The eight coefficient sums of a chunk are sums of
# products, so each product is added unreduced: its 128-bit value into three
# words (lo, hi, carries), reduced once per chunk (`_settle`), with
# 2^128 = -2^32 (mod p). An extension product x y = (x0 y0 + 7 x1 y1) +
# (x0 y1 + x1 y0) X goes in as its four base products (sums S00, S11 and
# S01 + S10; 7 S11 once at the end). Measured: a full round's base pairs
# 29% faster, its extension pairs 18%, than a reduced product and addition
# per term. A chunk's carries stay below 2^32 (one per product at most).

U64_32 = np.uint64(32)
U64_MASK32 = np.uint64(0xFFFFFFFF)
U64_SEVEN = np.uint64(7)
LAZY_BASE = 6  # words per coefficient: S0 (e0 c), S1 (e1 c)
LAZY_EXT = 9  # words per coefficient: S00, S11, S01 + S10


@njit(cache=True, inline="always")
def _mul128(a, b):
    """a b as (hi, lo), unreduced (`arith.mul_hilo`)."""
    return mul_hilo(a, b)


@njit(cache=True, inline="always")
def _acc3(acc, k, j, w, hi, lo):
    """(carries, hi, lo) at acc[k, j, w..w+2] += hi 2^64 + lo."""
    s = acc[k, j, w] + lo
    carry = np.uint64(s < lo)
    acc[k, j, w] = s
    t = acc[k, j, w + 1] + hi
    over = np.uint64(t < hi)
    t2 = t + carry
    over += np.uint64(t2 < carry)
    acc[k, j, w + 1] = t2
    acc[k, j, w + 2] += over


@njit(cache=True, inline="always")
def _settle(acc, k, j, w):
    """The three words at acc[k, j, w] mod p."""
    return sub(reduce128(acc[k, j, w + 1], acc[k, j, w]), acc[k, j, w + 2] << U64_32)


@njit(cache=True, inline="always")
def _mac_base(acc, k, j, c, e0, e1):
    """acc[k, j] += e c (base c, extension e): two base products."""
    hi, lo = _mul128(e0, c)
    _acc3(acc, k, j, 0, hi, lo)
    hi, lo = _mul128(e1, c)
    _acc3(acc, k, j, 3, hi, lo)


@njit(cache=True, inline="always")
def _mac_ext(acc, k, j, x0, x1, y0, y1):
    """acc[k, j] += x y (extension): four base products."""
    hi, lo = _mul128(x0, y0)
    _acc3(acc, k, j, 0, hi, lo)
    hi, lo = _mul128(x1, y1)
    _acc3(acc, k, j, 3, hi, lo)
    hi, lo = _mul128(x0, y1)
    _acc3(acc, k, j, 6, hi, lo)
    hi, lo = _mul128(x1, y0)
    _acc3(acc, k, j, 6, hi, lo)


@njit(cache=True)
def _settle_base(lazy, rows):
    out = np.zeros((8, 8, 2), dtype=np.uint64)
    for k in range(rows):
        for j in range(8):
            out[k, j, 0], out[k, j, 1] = _settle(lazy, k, j, 0), _settle(lazy, k, j, 3)
    return out


@njit(cache=True)
def _settle_ext(lazy, rows):
    out = np.zeros((8, 8, 2), dtype=np.uint64)
    for k in range(rows):
        for j in range(8):
            s11 = _settle(lazy, k, j, 3)
            out[k, j, 0] = add(_settle(lazy, k, j, 0), mul_small(s11, U64_SEVEN))
            out[k, j, 1] = _settle(lazy, k, j, 6)
    return out


@njit(cache=True)
def _acc_seventh(acc, row, a0, a1, d0, d1, e0, e1):
    """acc[row, j] += e a^(7-j) d^j, j = 0..7 (lazy, `LAZY_EXT` words): the
    coefficients of e (a + d X)^7 without the binomials (applied once per
    round), in 20 products: e a^i by a chain of 7 (e a, e a^2, ..., e a^7;
    the powers of a alone are never needed), d^2..d^7 in 6 (three of them
    squares), then one cross product per j = 1..7 (e a^0 d^7 for j = 7).
    Powers of a and d first, then e, took 26."""
    # on scalars (numba keeps them in registers; small arrays it does not)
    q10, q11 = ext_mul(e0, e1, a0, a1)
    q20, q21 = ext_mul(q10, q11, a0, a1)
    q30, q31 = ext_mul(q20, q21, a0, a1)
    q40, q41 = ext_mul(q30, q31, a0, a1)
    q50, q51 = ext_mul(q40, q41, a0, a1)
    q60, q61 = ext_mul(q50, q51, a0, a1)
    q70, q71 = ext_mul(q60, q61, a0, a1)
    d20, d21 = ext_square(d0, d1)
    d30, d31 = ext_mul(d20, d21, d0, d1)
    d40, d41 = ext_square(d20, d21)
    d50, d51 = ext_mul(d40, d41, d0, d1)
    d60, d61 = ext_square(d30, d31)
    d70, d71 = ext_mul(d60, d61, d0, d1)
    _acc3(acc, row, 0, 0, np.uint64(0), q70)  # e a^7 itself: its two coordinates
    _acc3(acc, row, 0, 6, np.uint64(0), q71)
    _mac_ext(acc, row, 1, q60, q61, d0, d1)
    _mac_ext(acc, row, 2, q50, q51, d20, d21)
    _mac_ext(acc, row, 3, q40, q41, d30, d31)
    _mac_ext(acc, row, 4, q30, q31, d40, d41)
    _mac_ext(acc, row, 5, q20, q21, d50, d51)
    _mac_ext(acc, row, 6, q10, q11, d60, d61)
    _mac_ext(acc, row, 7, e0, e1, d70, d71)


@njit(cache=True)
def _acc_seventh_base(acc, row, a, d, e0, e1):
    """`_acc_seventh` for base a, d (extension e; lazy, `LAZY_BASE` words):
    the eight base monomials a^(7-j) d^j from the powers of a and of d (18
    products), then e times each (two products apiece)."""
    a2 = mul(a, a)
    a3 = mul(a2, a)
    a4 = mul(a2, a2)
    a5 = mul(a4, a)
    a6 = mul(a3, a3)
    a7 = mul(a6, a)
    d2 = mul(d, d)
    d3 = mul(d2, d)
    d4 = mul(d2, d2)
    d5 = mul(d4, d)
    d6 = mul(d3, d3)
    d7 = mul(d6, d)
    _mac_base(acc, row, 0, a7, e0, e1)
    _mac_base(acc, row, 1, mul(a6, d), e0, e1)
    _mac_base(acc, row, 2, mul(a5, d2), e0, e1)
    _mac_base(acc, row, 3, mul(a4, d3), e0, e1)
    _mac_base(acc, row, 4, mul(a3, d4), e0, e1)
    _mac_base(acc, row, 5, mul(a2, d5), e0, e1)
    _mac_base(acc, row, 6, mul(a, d6), e0, e1)
    _mac_base(acc, row, 7, d7, e0, e1)


@njit(cache=True)
def _finish(acc, lin, m, full, out, c):
    """S_j = C(7, j) sum_k m_k acc[k, j]; out[c, t] = sum_j S_j t^j (+ lin_0 + t lin_1)."""
    coef = np.zeros((8, 2), dtype=np.uint64)
    for k in range(8 if full else 1):
        for j in range(8):
            x0, x1 = ext_mul(m[k, 0], m[k, 1], acc[k, j, 0], acc[k, j, 1])
            coef[j, 0], coef[j, 1] = ext_add(coef[j, 0], coef[j, 1], x0, x1)
    for j in range(8):
        coef[j, 0], coef[j, 1] = mul_small(coef[j, 0], _BINOM7[j]), mul_small(coef[j, 1], _BINOM7[j])
    for t in range(NUM_POINTS):
        if t == 1:
            continue
        s0, s1 = np.uint64(0), np.uint64(0)
        for j in range(7, -1, -1):  # Horner in the small integer t
            s0, s1 = mul_small(s0, np.uint64(t)), mul_small(s1, np.uint64(t))
            s0, s1 = ext_add(s0, s1, coef[j, 0], coef[j, 1])
        if not full:
            x0, x1 = mul_small(lin[1, 0], np.uint64(t)), mul_small(lin[1, 1], np.uint64(t))
            x0, x1 = ext_add(x0, x1, lin[0, 0], lin[0, 1])
            s0, s1 = ext_add(s0, s1, x0, x1)
        out[c, t, 0], out[c, t, 1] = s0, s1


@njit(cache=True)
def _chunk_base(lanes, eqs, m, full, lo, hi, out, c):
    """The base-field first round in coefficient form (see `_chunk_ext`)."""
    h = lanes.shape[1] // 2
    lazy = np.zeros((8, 8, LAZY_BASE), dtype=np.uint64)
    lin = np.zeros((2, 2), dtype=np.uint64)
    for i in range(lo, hi):
        e0, e1 = eqs[i, 0], eqs[i, 1]
        for k in range(8 if full else 1):
            a = lanes[k, i]
            _acc_seventh_base(lazy, k, a, sub(lanes[k, i + h], a), e0, e1)
        if not full:
            l0, l1, ld0, ld1 = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
            for k in range(1, 8):
                a = lanes[k, i]
                d = sub(lanes[k, i + h], a)
                x0, x1 = ext_mul_base(m[k, 0], m[k, 1], a)
                l0, l1 = ext_add(l0, l1, x0, x1)
                x0, x1 = ext_mul_base(m[k, 0], m[k, 1], d)
                ld0, ld1 = ext_add(ld0, ld1, x0, x1)
            x0, x1 = ext_mul(l0, l1, e0, e1)
            lin[0, 0], lin[0, 1] = ext_add(lin[0, 0], lin[0, 1], x0, x1)
            x0, x1 = ext_mul(ld0, ld1, e0, e1)
            lin[1, 0], lin[1, 1] = ext_add(lin[1, 0], lin[1, 1], x0, x1)
    _finish(_settle_base(lazy, 8 if full else 1), lin, m, full, out, c)


@njit(cache=True)
def _chunk_ext(lanes, eqs, m, full, lo, hi, out, c):
    """The extension rounds in coefficient form (a third fewer products than
    evaluating at 8 points): per pair, e_i times the coefficients of each
    lane's (a + d X)^7 is accumulated per lane; the lane weights m_k, the
    binomials and the evaluation at t = 0, 2..8 happen once per chunk. A
    partial round accumulates lane 0 this way and the linear lanes' line
    L(X) = sum_{k>=1} m_k (a_k + d_k X) as two coefficients."""
    h = lanes.shape[1] // 2
    lazy = np.zeros((8, 8, LAZY_EXT), dtype=np.uint64)
    lin = np.zeros((2, 2), dtype=np.uint64)
    for i in range(lo, hi):
        e0, e1 = eqs[i, 0], eqs[i, 1]
        for k in range(8 if full else 1):
            a0, a1 = lanes[k, i, 0], lanes[k, i, 1]
            d0, d1 = ext_sub(lanes[k, i + h, 0], lanes[k, i + h, 1], a0, a1)
            _acc_seventh(lazy, k, a0, a1, d0, d1, e0, e1)
        if not full:
            l0, l1, ld0, ld1 = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
            for k in range(1, 8):
                a0, a1 = lanes[k, i, 0], lanes[k, i, 1]
                d0, d1 = ext_sub(lanes[k, i + h, 0], lanes[k, i + h, 1], a0, a1)
                x0, x1 = ext_mul(m[k, 0], m[k, 1], a0, a1)
                l0, l1 = ext_add(l0, l1, x0, x1)
                x0, x1 = ext_mul(m[k, 0], m[k, 1], d0, d1)
                ld0, ld1 = ext_add(ld0, ld1, x0, x1)
            x0, x1 = ext_mul(l0, l1, e0, e1)
            lin[0, 0], lin[0, 1] = ext_add(lin[0, 0], lin[0, 1], x0, x1)
            x0, x1 = ext_mul(ld0, ld1, e0, e1)
            lin[1, 0], lin[1, 1] = ext_add(lin[1, 0], lin[1, 1], x0, x1)
    _finish(_settle_ext(lazy, 8 if full else 1), lin, m, full, out, c)


@njit(cache=True)
def _num_chunks(half):
    return max(1, min(NUM_CHUNKS, half // MIN_CHUNK_PAIRS))


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
    num_chunks = _num_chunks(half)
    chunk = (half + num_chunks - 1) // num_chunks
    partial = np.zeros((num_chunks, NUM_POINTS, 2), dtype=np.uint64)
    for c in prange(num_chunks):
        lo, hi = c * chunk, min(half, (c + 1) * chunk)
        if lo < hi:
            _chunk_base(lanes, eqs, m, full, lo, hi, partial, c)
    return _reduce(partial)


@njit(parallel=True, cache=True)
def _round_parallel_ext(lanes, eqs, m, full):
    half = lanes.shape[1] // 2
    num_chunks = _num_chunks(half)
    chunk = (half + num_chunks - 1) // num_chunks
    partial = np.zeros((num_chunks, NUM_POINTS, 2), dtype=np.uint64)
    for c in prange(num_chunks):
        lo, hi = c * chunk, min(half, (c + 1) * chunk)
        if lo < hi:
            _chunk_ext(lanes, eqs, m, full, lo, hi, partial, c)
    return _reduce(partial)


# The wrappers below differ only in the chunk kernel they call: numba types
# every branch of a function, so one wrapper cannot take both the base (2-D)
# and the extension (3-D) lanes.


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


@njit(cache=True)
def _points_ext(lanes, eqs, m, full):
    partial = np.zeros((1, NUM_POINTS, 2), dtype=np.uint64)
    _chunk_ext_points(lanes, eqs, m, full, 0, lanes.shape[1] // 2, partial, 0)
    return _reduce(partial)


@njit(cache=True)
def _points_base(lanes, eqs, m, full):
    partial = np.zeros((1, NUM_POINTS, 2), dtype=np.uint64)
    _chunk_base_points(lanes, eqs, m, full, 0, lanes.shape[1] // 2, partial, 0)
    return _reduce(partial)


# ---------------------------------------------------------------- partial rounds on two tables
#
# A partial round's lanes 1..7 enter its sum-check only through the line
# L(i) = sum_{k>=1} m_k A_k(i) (`gkr_prover.PartialRun`): the rounds run on
# A_0 and that one extension table L (folding L folds the combination, by
# linearity), and the seven lanes' own values at the end come from one
# pass against eq(r, .) (`lanes_at`). Per extension pair that is 22
# products instead of 36 and two tables folded instead of eight.


@njit(cache=True)
def _acc_line(acc_lin, lin, i, h, e0, e1):
    """acc_lin += e (L(i), L(i + h) - L(i)): the line's two coefficients."""
    l0, l1 = lin[i, 0], lin[i, 1]
    ld0, ld1 = ext_sub(lin[i + h, 0], lin[i + h, 1], l0, l1)
    x0, x1 = ext_mul(l0, l1, e0, e1)
    acc_lin[0, 0], acc_lin[0, 1] = ext_add(acc_lin[0, 0], acc_lin[0, 1], x0, x1)
    x0, x1 = ext_mul(ld0, ld1, e0, e1)
    acc_lin[1, 0], acc_lin[1, 1] = ext_add(acc_lin[1, 0], acc_lin[1, 1], x0, x1)


@njit(cache=True)
def _chunk_partial_base(a0, lin, eqs, m, lo, hi, out, c):
    """`_chunk_base` of a partial round, on lane 0 (N,) and the line table L (N, 2)."""
    h = lin.shape[0] // 2
    lazy = np.zeros((1, 8, LAZY_BASE), dtype=np.uint64)
    acc_lin = np.zeros((2, 2), dtype=np.uint64)
    for i in range(lo, hi):
        e0, e1 = eqs[i, 0], eqs[i, 1]
        a = a0[i]
        _acc_seventh_base(lazy, 0, a, sub(a0[i + h], a), e0, e1)
        _acc_line(acc_lin, lin, i, h, e0, e1)
    _finish(_settle_base(lazy, 1), acc_lin, m, False, out, c)


@njit(cache=True)
def _chunk_partial_ext(a0, lin, eqs, m, lo, hi, out, c):
    """`_chunk_ext` of a partial round, on lane 0 (N, 2) and the line table L (N, 2)."""
    h = lin.shape[0] // 2
    lazy = np.zeros((1, 8, LAZY_EXT), dtype=np.uint64)
    acc_lin = np.zeros((2, 2), dtype=np.uint64)
    for i in range(lo, hi):
        e0, e1 = eqs[i, 0], eqs[i, 1]
        x0, x1 = a0[i, 0], a0[i, 1]
        d0, d1 = ext_sub(a0[i + h, 0], a0[i + h, 1], x0, x1)
        _acc_seventh(lazy, 0, x0, x1, d0, d1, e0, e1)
        _acc_line(acc_lin, lin, i, h, e0, e1)
    _finish(_settle_ext(lazy, 1), acc_lin, m, False, out, c)


# base/extension twins again: numba types every branch (see the round wrappers)


@njit(cache=True)
def _partial_serial_base(a0, lin, eqs, m):
    partial = np.zeros((1, NUM_POINTS, 2), dtype=np.uint64)
    _chunk_partial_base(a0, lin, eqs, m, 0, lin.shape[0] // 2, partial, 0)
    return _reduce(partial)


@njit(cache=True)
def _partial_serial_ext(a0, lin, eqs, m):
    partial = np.zeros((1, NUM_POINTS, 2), dtype=np.uint64)
    _chunk_partial_ext(a0, lin, eqs, m, 0, lin.shape[0] // 2, partial, 0)
    return _reduce(partial)


@njit(parallel=True, cache=True)
def _partial_parallel_base(a0, lin, eqs, m):
    half = lin.shape[0] // 2
    num_chunks = _num_chunks(half)
    chunk = (half + num_chunks - 1) // num_chunks
    partial = np.zeros((num_chunks, NUM_POINTS, 2), dtype=np.uint64)
    for c in prange(num_chunks):
        lo, hi = c * chunk, min(half, (c + 1) * chunk)
        if lo < hi:
            _chunk_partial_base(a0, lin, eqs, m, lo, hi, partial, c)
    return _reduce(partial)


@njit(parallel=True, cache=True)
def _partial_parallel_ext(a0, lin, eqs, m):
    half = lin.shape[0] // 2
    num_chunks = _num_chunks(half)
    chunk = (half + num_chunks - 1) // num_chunks
    partial = np.zeros((num_chunks, NUM_POINTS, 2), dtype=np.uint64)
    for c in prange(num_chunks):
        lo, hi = c * chunk, min(half, (c + 1) * chunk)
        if lo < hi:
            _chunk_partial_ext(a0, lin, eqs, m, lo, hi, partial, c)
    return _reduce(partial)


def partial_round_evals(a0: np.ndarray, lin: np.ndarray, eqs: np.ndarray, m: np.ndarray) -> np.ndarray:
    """`round_evals` of a partial round from lane 0 (base (N,) or extension
    (N, 2)) and L = sum_{k>=1} m_k A_k (N, 2): the same (9, 2) values as
    `round_evals(lanes, eqs, m, False)` on the eight lanes (tested equal).
    Kernels only: `PartialRun` runs once numba is started."""
    serial = lin.shape[0] // 2 < SERIAL_PAIRS
    if a0.ndim == 2:
        return (_partial_serial_ext if serial else _partial_parallel_ext)(a0, lin, eqs, m)
    return (_partial_serial_base if serial else _partial_parallel_base)(a0, lin, eqs, m)


@njit(cache=True, inline="always")
def _add3(w0, w1, w2, hi, lo):
    """`_acc3` on three scalar words."""
    s = w0 + lo
    carry = np.uint64(s < lo)
    t = w1 + hi
    over = np.uint64(t < hi)
    t2 = t + carry
    over += np.uint64(t2 < carry)
    return s, t2, w2 + over


@njit(cache=True, inline="always")
def _settle3(w0, w1, w2):
    return sub(reduce128(w1, w0), w2 << U64_32)


@njit(parallel=True, cache=True)
def _line_table(rest, m, out):
    for i in prange(rest.shape[1]):
        # lazy: sum_k m_k0 a_k and sum_k m_k1 a_k each reduced once
        a0, a1, a2 = np.uint64(0), np.uint64(0), np.uint64(0)
        b0, b1, b2 = np.uint64(0), np.uint64(0), np.uint64(0)
        for k in range(rest.shape[0]):
            v = rest[k, i]
            hi, lo = _mul128(m[k + 1, 0], v)
            a0, a1, a2 = _add3(a0, a1, a2, hi, lo)
            hi, lo = _mul128(m[k + 1, 1], v)
            b0, b1, b2 = _add3(b0, b1, b2, hi, lo)
        out[i, 0], out[i, 1] = _settle3(a0, a1, a2), _settle3(b0, b1, b2)


def line_table(rest: np.ndarray, m: np.ndarray) -> np.ndarray:
    """L(i) = sum_{k>=1} m_k A_k(i) as (N, 2), from the base lanes 1..7 (7, N)."""
    out = np.empty((rest.shape[1], 2), dtype=np.uint64)
    _line_table(rest, m, out)
    return out


@njit(parallel=True, cache=True)
def _lanes_at(rest, eq, out):
    block = out.shape[1]
    for ki in prange(rest.shape[0] * block):
        k = ki // block
        i = ki - k * block
        # lazy: the two coordinates' sums of products, each reduced once
        a0, a1, a2 = np.uint64(0), np.uint64(0), np.uint64(0)
        b0, b1, b2 = np.uint64(0), np.uint64(0), np.uint64(0)
        for x in range(eq.shape[0]):
            v = rest[k, x * block + i]
            hi, lo = _mul128(eq[x, 0], v)
            a0, a1, a2 = _add3(a0, a1, a2, hi, lo)
            hi, lo = _mul128(eq[x, 1], v)
            b0, b1, b2 = _add3(b0, b1, b2, hi, lo)
        out[k, i, 0], out[k, i, 1] = _settle3(a0, a1, a2), _settle3(b0, b1, b2)


def lanes_at(rest: np.ndarray, eq: np.ndarray) -> np.ndarray:
    """Base lanes (K, N) with their first j variables bound at r: out[k, i] =
    sum_x eq(r, x) rest[k, x N / 2^j + i], (K, N / 2^j, 2), for eq = eq(r, .)
    of 2^j entries: what j folds by r_1..r_j give (the first variable the
    most significant index bit, as the folds bind it)."""
    out = np.empty((rest.shape[0], rest.shape[1] // eq.shape[0], 2), dtype=np.uint64)
    _lanes_at(rest, eq, out)
    return out


def round_evals_points(lanes, eqs, m, full):
    """Every lane evaluated at the 8 points directly: the simpler twin the
    coefficient-form kernels are tested against (tests/hash/test_gkr.py)."""
    return (_points_ext if lanes.ndim == 3 else _points_base)(lanes, eqs, m, full)


def round_evals(lanes: np.ndarray, eqs: np.ndarray, m: np.ndarray, full: bool) -> np.ndarray:
    """s(0), s(2..8) as (9, 2) (row 1 zero); lanes (8, N) base or (8, N, 2) extension, eqs
    (N / 2, 2), m (8, 2)."""
    serial = lanes.shape[1] // 2 < SERIAL_PAIRS
    if lanes.ndim == 3:
        kernel = _round_serial_ext if serial else _round_parallel_ext
    else:
        kernel = _round_serial_base if serial else _round_parallel_base
    if jit.use_kernel(lanes.shape[0] * lanes.shape[1], NUMPY_BELOW, kernel):
        return kernel(lanes, eqs, m, full)
    return round_evals_numpy(lanes, eqs, m, full)


def _ext_sbox_numpy(a):
    b = nf.ext_mul(a, a)
    return nf.ext_mul(nf.ext_mul(b, a), nf.ext_mul(b, b))


def _base_sbox_numpy(a):
    b = nf.mul(a, a)
    return nf.mul(nf.mul(b, a), nf.mul(b, b))


def round_evals_numpy(lanes, eqs, m, full):
    """`round_evals` on numpy: every lane on its line at t = 0, 2..8 (one
    array of all points), sigma_k applied, combined by m, weighted by eqs."""
    ext = lanes.ndim == 3
    h = lanes.shape[1] // 2
    a, b = lanes[:, :h], lanes[:, h : 2 * h]
    d = nf.sub(b, a)
    points, v = [a], a
    for t in range(1, NUM_POINTS):
        v = nf.add(v, d)
        if t != 1:  # s(1) comes from the claim, as in the kernels
            points.append(v)
    vals = np.stack(points)  # (8 points, 8 lanes, h[, 2])
    sbox = _ext_sbox_numpy if ext else _base_sbox_numpy
    if full:
        vals = sbox(vals)
    else:
        vals[:, 0] = sbox(vals[:, 0])
    weights = m[None, :, None, :]  # (1, 8, 1, 2)
    terms = nf.ext_mul(vals, weights) if ext else nf.mul(vals[..., None], weights)
    f = nf.sum_axis(terms, axis=1)  # (8 points, h, 2)
    s = nf.sum_axis(nf.ext_mul(f, eqs[None, :h]), axis=1)  # (8 points, 2)
    out = np.zeros((NUM_POINTS, 2), dtype=np.uint64)
    out[0], out[2:] = s[0], s[1:]
    return out
