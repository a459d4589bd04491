"""Numba kernels for Poseidon2 (Goldilocks, width 8) over batches of states.

States are (n, 8) uint64 arrays of canonical elements, one permutation per
row; the rows are independent, so the batch loop is a `prange`. Callers go
through `zkaudit.hash.poseidon2` / `zkaudit.hash.merkle`, which check shapes,
dtypes and canonicity; kernels trust their inputs. `zkaudit.hash.reference`
is the Python-int oracle these are tested against.

Arithmetic is `zkaudit.field.arith` (one reduction per product). The
internal matrix 1 1^T + diag(-2, 1, 2, 1/2, 3, -1/2, -3, -4) is applied with
additions and one halving instead of eight products: s = sum(x), then
x_i <- s + V_i x_i. The reference multiplies by the explicit matrix, so the
tests also check this unrolling.

The round constants travel as arguments (uint64 arrays built once in
`RC_EXTERNAL`, `RC_INTERNAL`), which keeps the cached machine code independent of
module globals.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkaudit.field.arith import U64_1, add, mul, sub
from zkaudit.hash.constants import EXTERNAL_FINAL, EXTERNAL_INITIAL, INTERNAL

_HALF_P_PLUS_1 = np.uint64((((1 << 64) - (1 << 32) + 1) + 1) // 2)  # (p + 1) / 2

# Rows 0..3: external-initial constants, rows 4..7: external-final.
RC_EXTERNAL = np.array(EXTERNAL_INITIAL + EXTERNAL_FINAL, dtype=np.uint64)
RC_INTERNAL = np.array(INTERNAL, dtype=np.uint64)


@njit(cache=True)
def _halve(x):
    # x / 2 mod p: x even -> x >> 1; x odd -> (x + p) / 2 = (x >> 1) + (p + 1) / 2 < p.
    if x & U64_1:
        return (x >> U64_1) + _HALF_P_PLUS_1
    return x >> U64_1


@njit(cache=True)
def _sbox(x):
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    return mul(x3, x4)


@njit(cache=True)
def _mat4(a, b, c, d):
    # [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]] with 8 additions and 2 doublings.
    t01 = add(a, b)
    t23 = add(c, d)
    t0123 = add(t01, t23)
    t01123 = add(t0123, b)
    t01233 = add(t0123, d)
    return add(t01123, t01), add(t01123, add(c, c)), add(t01233, t23), add(t01233, add(a, a))


@njit(cache=True)
def _external_linear(x0, x1, x2, x3, x4, x5, x6, x7):
    # circ(2 M4, M4): each half by M4, then lane i gets the sum of lanes = i mod 4.
    y0, y1, y2, y3 = _mat4(x0, x1, x2, x3)
    y4, y5, y6, y7 = _mat4(x4, x5, x6, x7)
    s0 = add(y0, y4)
    s1 = add(y1, y5)
    s2 = add(y2, y6)
    s3 = add(y3, y7)
    return (add(y0, s0), add(y1, s1), add(y2, s2), add(y3, s3),
            add(y4, s0), add(y5, s1), add(y6, s2), add(y7, s3))  # fmt: skip


@njit(cache=True)
def _internal_linear(x0, x1, x2, x3, x4, x5, x6, x7):
    s = add(add(add(x0, x1), add(x2, x3)), add(add(x4, x5), add(x6, x7)))
    d2 = add(x2, x2)
    d4 = add(x4, x4)
    d6 = add(x6, x6)
    d7 = add(x7, x7)
    return (
        sub(s, add(x0, x0)),  # V_0 = -2
        add(s, x1),  # V_1 = 1
        add(s, d2),  # V_2 = 2
        add(s, _halve(x3)),  # V_3 = 1/2
        add(s, add(d4, x4)),  # V_4 = 3
        sub(s, _halve(x5)),  # V_5 = -1/2
        sub(s, add(d6, x6)),  # V_6 = -3
        sub(s, add(d7, d7)),  # V_7 = -4
    )


@njit(cache=True)
def _external_round(x0, x1, x2, x3, x4, x5, x6, x7, rc, r):
    return _external_linear(
        _sbox(add(x0, rc[r, 0])), _sbox(add(x1, rc[r, 1])),
        _sbox(add(x2, rc[r, 2])), _sbox(add(x3, rc[r, 3])),
        _sbox(add(x4, rc[r, 4])), _sbox(add(x5, rc[r, 5])),
        _sbox(add(x6, rc[r, 6])), _sbox(add(x7, rc[r, 7])),
    )  # fmt: skip


@njit(cache=True)
def permute_lanes(x0, x1, x2, x3, x4, x5, x6, x7, rc_ext, rc_int):
    """One permutation on eight scalars; returns the eight output lanes."""
    x0, x1, x2, x3, x4, x5, x6, x7 = _external_linear(x0, x1, x2, x3, x4, x5, x6, x7)
    for r in range(4):
        x0, x1, x2, x3, x4, x5, x6, x7 = _external_round(x0, x1, x2, x3, x4, x5, x6, x7, rc_ext, r)
    for r in range(rc_int.shape[0]):
        x0 = _sbox(add(x0, rc_int[r]))
        x0, x1, x2, x3, x4, x5, x6, x7 = _internal_linear(x0, x1, x2, x3, x4, x5, x6, x7)
    for r in range(4, 8):
        x0, x1, x2, x3, x4, x5, x6, x7 = _external_round(x0, x1, x2, x3, x4, x5, x6, x7, rc_ext, r)
    return x0, x1, x2, x3, x4, x5, x6, x7


@njit(parallel=True, cache=True)
def permute_rows(states, out, rc_ext, rc_int):
    """out[i] = permute(states[i]) for every row (out may alias states)."""
    for i in prange(states.shape[0]):
        y = permute_lanes(states[i, 0], states[i, 1], states[i, 2], states[i, 3],
                          states[i, 4], states[i, 5], states[i, 6], states[i, 7], rc_ext, rc_int)  # fmt: skip
        for j in range(8):
            out[i, j] = y[j]


@njit(parallel=True, cache=True)
def compress_rows(states, out, rc_ext, rc_int):
    """out[i] = permute(states[i])[0:4]: row i of a level viewed as (n/2, 8)
    holds children 2i and 2i+1, so this computes the parent level."""
    for i in prange(states.shape[0]):
        y = permute_lanes(states[i, 0], states[i, 1], states[i, 2], states[i, 3],
                          states[i, 4], states[i, 5], states[i, 6], states[i, 7], rc_ext, rc_int)  # fmt: skip
        out[i, 0] = y[0]
        out[i, 1] = y[1]
        out[i, 2] = y[2]
        out[i, 3] = y[3]


@njit(parallel=True, cache=True)
def hash_leaf_rows(blocks, tag, out, rc_ext, rc_int):
    """out[i] = permute(blocks[i, 0:7] || tag)[0:4]."""
    for i in prange(blocks.shape[0]):
        y = permute_lanes(blocks[i, 0], blocks[i, 1], blocks[i, 2], blocks[i, 3],
                          blocks[i, 4], blocks[i, 5], blocks[i, 6], tag, rc_ext, rc_int)  # fmt: skip
        out[i, 0] = y[0]
        out[i, 1] = y[1]
        out[i, 2] = y[2]
        out[i, 3] = y[3]


@njit(parallel=True, cache=True)
def trace_rows(states, trace, rc_ext, rc_int):
    """Every layer of the permutation, lane-major, for the data-parallel GKR
    (`zkaudit.hash.gkr`): trace[0, k, i] is lane k of M_E states[i], and
    trace[r + 1, k, i] lane k after round r (4 full, 22 partial, 4 full:
    add constants, S-box, linear layer); trace[30] is permute(states[i])."""
    n_int = rc_int.shape[0]
    for i in prange(states.shape[0]):
        x0, x1, x2, x3, x4, x5, x6, x7 = _external_linear(states[i, 0], states[i, 1], states[i, 2], states[i, 3],
                                                          states[i, 4], states[i, 5], states[i, 6], states[i, 7])
        trace[0, 0, i], trace[0, 1, i], trace[0, 2, i], trace[0, 3, i] = x0, x1, x2, x3
        trace[0, 4, i], trace[0, 5, i], trace[0, 6, i], trace[0, 7, i] = x4, x5, x6, x7
        for r in range(8 + n_int):
            if r < 4 or r >= 4 + n_int:
                e = r if r < 4 else r - n_int
                x0, x1, x2, x3, x4, x5, x6, x7 = _external_round(x0, x1, x2, x3, x4, x5, x6, x7, rc_ext, e)
            else:
                x0 = _sbox(add(x0, rc_int[r - 4]))
                x0, x1, x2, x3, x4, x5, x6, x7 = _internal_linear(x0, x1, x2, x3, x4, x5, x6, x7)
            trace[r + 1, 0, i], trace[r + 1, 1, i], trace[r + 1, 2, i], trace[r + 1, 3, i] = x0, x1, x2, x3
            trace[r + 1, 4, i], trace[r + 1, 5, i], trace[r + 1, 6, i], trace[r + 1, 7, i] = x4, x5, x6, x7
