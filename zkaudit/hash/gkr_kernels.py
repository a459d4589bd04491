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
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.jit import njit, prange
from zkaudit.hash.kernels import _sbox  # x^7, the permutation's own S-box

add, ext_add, ext_mul, ext_mul_base, ext_sub, mul, mul_small, sub = jit.imported(
    "zkaudit.field.arith", "add", "ext_add", "ext_mul", "ext_mul_base", "ext_sub", "mul", "mul_small", "sub")

NUM_POINTS = 9
NUM_CHUNKS = 64
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


@njit(cache=True)
def _ext_powers(a0, a1, p):
    """p[j] = a^j, j = 0..7 (6 products)."""
    p[0, 0], p[0, 1] = np.uint64(1), np.uint64(0)
    p[1, 0], p[1, 1] = a0, a1
    p[2, 0], p[2, 1] = ext_mul(a0, a1, a0, a1)
    p[3, 0], p[3, 1] = ext_mul(p[2, 0], p[2, 1], a0, a1)
    p[4, 0], p[4, 1] = ext_mul(p[2, 0], p[2, 1], p[2, 0], p[2, 1])
    p[5, 0], p[5, 1] = ext_mul(p[4, 0], p[4, 1], a0, a1)
    p[6, 0], p[6, 1] = ext_mul(p[3, 0], p[3, 1], p[3, 0], p[3, 1])
    p[7, 0], p[7, 1] = ext_mul(p[6, 0], p[6, 1], a0, a1)


@njit(cache=True)
def _acc_seventh(acc, row, a0, a1, d0, d1, e0, e1, pa, pd):
    """acc[row, j] += e a^(7-j) d^j: the coefficients of e (a + d X)^7
    without the binomials (applied once per round)."""
    _ext_powers(a0, a1, pa)
    _ext_powers(d0, d1, pd)
    for j in range(8):
        if j == 0:
            x0, x1 = pa[7, 0], pa[7, 1]
        elif j == 7:
            x0, x1 = pd[7, 0], pd[7, 1]
        else:
            x0, x1 = ext_mul(pa[7 - j, 0], pa[7 - j, 1], pd[j, 0], pd[j, 1])
        y0, y1 = ext_mul(x0, x1, e0, e1)
        acc[row, j, 0], acc[row, j, 1] = ext_add(acc[row, j, 0], acc[row, j, 1], y0, y1)


@njit(cache=True)
def _base_powers(a, p):
    p[0] = np.uint64(1)
    p[1] = a
    p[2] = mul(a, a)
    p[3] = mul(p[2], a)
    p[4] = mul(p[2], p[2])
    p[5] = mul(p[4], a)
    p[6] = mul(p[3], p[3])
    p[7] = mul(p[6], a)


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
    acc = np.zeros((8, 8, 2), dtype=np.uint64)
    lin = np.zeros((2, 2), dtype=np.uint64)
    pa = np.empty(8, dtype=np.uint64)
    pd = np.empty(8, dtype=np.uint64)
    for i in range(lo, hi):
        e0, e1 = eqs[i, 0], eqs[i, 1]
        for k in range(8 if full else 1):
            a = lanes[k, i]
            d = sub(lanes[k, i + h], a)
            _base_powers(a, pa)
            _base_powers(d, pd)
            for j in range(8):
                x = pa[7] if j == 0 else pd[7] if j == 7 else mul(pa[7 - j], pd[j])
                y0, y1 = ext_mul_base(e0, e1, x)
                acc[k, j, 0], acc[k, j, 1] = ext_add(acc[k, j, 0], acc[k, j, 1], y0, y1)
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
    _finish(acc, lin, m, full, out, c)


@njit(cache=True)
def _chunk_ext(lanes, eqs, m, full, lo, hi, out, c):
    """The extension rounds in coefficient form (a third fewer products than
    evaluating at 8 points): per pair, e_i times the coefficients of each
    lane's (a + d X)^7 is accumulated per lane; the lane weights m_k, the
    binomials and the evaluation at t = 0, 2..8 happen once per chunk. A
    partial round accumulates lane 0 this way and the linear lanes' line
    L(X) = sum_{k>=1} m_k (a_k + d_k X) as two coefficients."""
    h = lanes.shape[1] // 2
    acc = np.zeros((8, 8, 2), dtype=np.uint64)
    lin = np.zeros((2, 2), dtype=np.uint64)
    pa = np.empty((8, 2), dtype=np.uint64)
    pd = np.empty((8, 2), dtype=np.uint64)
    for i in range(lo, hi):
        e0, e1 = eqs[i, 0], eqs[i, 1]
        for k in range(8 if full else 1):
            a0, a1 = lanes[k, i, 0], lanes[k, i, 1]
            d0, d1 = ext_sub(lanes[k, i + h, 0], lanes[k, i + h, 1], a0, a1)
            _acc_seventh(acc, k, a0, a1, d0, d1, e0, e1, pa, pd)
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
    _finish(acc, lin, m, full, out, c)


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
