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

Each batch function (`permute_rows`, `compress_rows`, `hash_leaf_rows`,
`trace_rows`) runs its numba kernel (`_name`) or, for a batch below
`NUMPY_BELOW` (in `STATE_WEIGHT`s per state) while that kernel is not loaded
in the process, the
numpy path `name_numpy` with the same signature and values: the
permutation on lane-major (8, n) arrays, every state of the batch per array
operation (`field.jit.use_kernel`). A small proof's few hashes then never
start numba. Importing this module imports no numba (`field.jit.njit`).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.constants import P
from zkaudit.field.jit import njit, prange
from zkaudit.hash.constants import EXTERNAL_FINAL, EXTERNAL_INITIAL, INTERNAL, MATRIX_DIAG_8

add, mul, sub = jit.imported("zkaudit.field.arith", "add", "mul", "sub")

U64_1 = np.uint64(1)
# `field.jit.use_kernel` weighs jobs in elements of about 1 us of numpy
# work; a permutation on the numpy path costs ~40 us per state (512 states:
# 20 ms), so a state counts STATE_WEIGHT. A batch below NUMPY_BELOW of those
# (512 states) takes the numpy path unless its kernel is loaded; a weight
# commitment's Merkle levels of thousands of leaves start numba at once.
STATE_WEIGHT = 32
NUMPY_BELOW = 1 << 14
# States below which a trace runs on the calling thread (`_trace_rows_into_serial`).
TRACE_SERIAL_BELOW = 1 << 9

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
def _permute_rows(states, out, rc_ext, rc_int):
    """out[i] = permute(states[i]) for every row (out may alias states)."""
    for i in prange(states.shape[0]):
        y = permute_lanes(states[i, 0], states[i, 1], states[i, 2], states[i, 3],
                          states[i, 4], states[i, 5], states[i, 6], states[i, 7], rc_ext, rc_int)  # fmt: skip
        for j in range(8):
            out[i, j] = y[j]


@njit(parallel=True, cache=True)
def _compress_rows(states, out, rc_ext, rc_int):
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
def _hash_leaf_rows(blocks, tag, out, rc_ext, rc_int):
    """out[i] = permute(blocks[i, 0:7] || tag)[0:4]."""
    for i in prange(blocks.shape[0]):
        y = permute_lanes(blocks[i, 0], blocks[i, 1], blocks[i, 2], blocks[i, 3],
                          blocks[i, 4], blocks[i, 5], blocks[i, 6], tag, rc_ext, rc_int)  # fmt: skip
        out[i, 0] = y[0]
        out[i, 1] = y[1]
        out[i, 2] = y[2]
        out[i, 3] = y[3]


@njit(cache=True, inline="always")
def _trace_one(states, trace, i, col, rc_ext, rc_int):
    """Every layer of permute(states[i]) into column `col` of the trace (inlined:
    called, it measured 1.5x slower than the loop body it replaced)."""
    n_int = rc_int.shape[0]
    x0, x1, x2, x3, x4, x5, x6, x7 = _external_linear(states[i, 0], states[i, 1], states[i, 2], states[i, 3],
                                                      states[i, 4], states[i, 5], states[i, 6], states[i, 7])
    trace[0, 0, col], trace[0, 1, col], trace[0, 2, col], trace[0, 3, col] = x0, x1, x2, x3
    trace[0, 4, col], trace[0, 5, col], trace[0, 6, col], trace[0, 7, col] = x4, x5, x6, x7
    for r in range(8 + n_int):
        if r < 4 or r >= 4 + n_int:
            e = r if r < 4 else r - n_int
            x0, x1, x2, x3, x4, x5, x6, x7 = _external_round(x0, x1, x2, x3, x4, x5, x6, x7, rc_ext, e)
        else:
            x0 = _sbox(add(x0, rc_int[r - 4]))
            x0, x1, x2, x3, x4, x5, x6, x7 = _internal_linear(x0, x1, x2, x3, x4, x5, x6, x7)
        trace[r + 1, 0, col], trace[r + 1, 1, col], trace[r + 1, 2, col], trace[r + 1, 3, col] = x0, x1, x2, x3
        trace[r + 1, 4, col], trace[r + 1, 5, col], trace[r + 1, 6, col], trace[r + 1, 7, col] = x4, x5, x6, x7


@njit(parallel=True, cache=True)
def _trace_rows(states, trace, rc_ext, rc_int):
    """Every layer of the permutation, lane-major, for the data-parallel GKR
    (`zkaudit.hash.gkr`): trace[0, k, i] is lane k of M_E states[i], and
    trace[r + 1, k, i] lane k after round r (4 full, 22 partial, 4 full:
    add constants, S-box, linear layer); trace[30] is permute(states[i])."""
    for i in prange(states.shape[0]):
        _trace_one(states, trace, i, i, rc_ext, rc_int)


@njit(parallel=True, cache=True)
def _trace_rows_into(states, trace, offset, rc_ext, rc_int):
    """`_trace_rows` into columns offset .. offset + n of a wider trace (a
    Merkle tree traced level by level into the GKR's one batch)."""
    for i in prange(states.shape[0]):
        _trace_one(states, trace, i, offset + i, rc_ext, rc_int)


@njit(cache=True)
def _trace_rows_into_serial(states, trace, offset, rc_ext, rc_int):
    """`_trace_rows_into` on the calling thread: a Merkle tree's upper levels
    (a few states each) cost more in waking the worker threads than in
    hashing."""
    for i in range(states.shape[0]):
        _trace_one(states, trace, i, offset + i, rc_ext, rc_int)


# ---------------------------------------------------------------- dispatch


def permute_rows(states, out, rc_ext, rc_int):
    """out[i] = permute(states[i]) for every row (out may alias states)."""
    if jit.use_kernel(states.shape[0] * STATE_WEIGHT, NUMPY_BELOW, _permute_rows):
        _permute_rows(states, out, rc_ext, rc_int)
    else:
        permute_rows_numpy(states, out, rc_ext, rc_int)


def compress_rows(states, out, rc_ext, rc_int):
    """out[i] = permute(states[i])[0:4]."""
    if jit.use_kernel(states.shape[0] * STATE_WEIGHT, NUMPY_BELOW, _compress_rows):
        _compress_rows(states, out, rc_ext, rc_int)
    else:
        compress_rows_numpy(states, out, rc_ext, rc_int)


def hash_leaf_rows(blocks, tag, out, rc_ext, rc_int):
    """out[i] = permute(blocks[i, 0:7] || tag)[0:4]."""
    if jit.use_kernel(blocks.shape[0] * STATE_WEIGHT, NUMPY_BELOW, _hash_leaf_rows):
        _hash_leaf_rows(blocks, tag, out, rc_ext, rc_int)
    else:
        hash_leaf_rows_numpy(blocks, tag, out, rc_ext, rc_int)


def trace_rows(states, trace, rc_ext, rc_int, offset: int = 0):
    """Every layer of the permutation, lane-major (see `_trace_rows`), into
    trace[:, :, offset : offset + n]."""
    n = states.shape[0]
    whole = offset == 0 and trace.shape[2] == n
    kernel = _trace_rows if whole else _trace_rows_into
    if jit.use_kernel(n * STATE_WEIGHT, NUMPY_BELOW, kernel):
        if n < TRACE_SERIAL_BELOW:
            _trace_rows_into_serial(states, trace, offset, rc_ext, rc_int)
        elif whole:
            _trace_rows(states, trace, rc_ext, rc_int)
        else:
            _trace_rows_into(states, trace, offset, rc_ext, rc_int)
    else:
        trace_rows_numpy(states, trace[:, :, offset: offset + n], rc_ext, rc_int)


# ---------------------------------------------------------------- numpy paths
#
# A state batch is lane-major, x[k] = lane k of every state: the S-boxes of
# a full round are one array of 8n elements, the internal matrix's diagonal
# one product by a column of constants.

_DIAG = np.array(MATRIX_DIAG_8, dtype=np.uint64)[:, None]  # V of M_I = 1 1^T + diag(V)


def _sbox_numpy(x):
    x2 = nf.mul(x, x)
    return nf.mul(nf.mul(x2, x), nf.mul(x2, x2))


def _external_linear_numpy(x):
    """circ(2 M4, M4) on (8, n): M4 on each half, then lane i gets the sum of lanes = i mod 4."""
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]  # (2, n) each: lanes i and i + 4
    t01, t23 = nf.add(a, b), nf.add(c, d)
    t0123 = nf.add(t01, t23)
    t01123, t01233 = nf.add(t0123, b), nf.add(t0123, d)
    y = np.empty((2, 4) + x.shape[1:], dtype=np.uint64)
    y[:, 0] = nf.add(t01123, t01)
    y[:, 1] = nf.add(t01123, nf.add(c, c))
    y[:, 2] = nf.add(t01233, t23)
    y[:, 3] = nf.add(t01233, nf.add(a, a))
    return nf.add(y, nf.add(y[0], y[1])).reshape(x.shape)


def _internal_linear_numpy(x):
    s = nf.add(x[:4], x[4:])
    s = nf.add(s[:2], s[2:])
    return nf.add(nf.add(s[0], s[1]), nf.mul(x, _DIAG))


def _permute_numpy(x, rc_ext, rc_int, trace=None):
    """permute on a lane-major (8, n) batch (x is not modified); with `trace`
    (31, 8, n), every layer as `_trace_rows` writes it. Below `INTS_BELOW`
    states, state by state on Python ints (`_permute_ints`)."""
    if x.shape[1] < INTS_BELOW:
        return _permute_ints(x, rc_ext, rc_int, trace)
    return _permute_lanes_numpy(x, rc_ext, rc_int, trace)


def _permute_lanes_numpy(x, rc_ext, rc_int, trace=None):
    x = _external_linear_numpy(x)
    layers = [x]
    n_int = rc_int.shape[0]
    for r in range(8 + n_int):
        if r < 4 or r >= 4 + n_int:
            e = r if r < 4 else r - n_int
            x = _external_linear_numpy(_sbox_numpy(nf.add(x, rc_ext[e][:, None])))
        else:
            x = x.copy()
            x[0] = _sbox_numpy(nf.add(x[0], rc_int[r - 4]))
            x = _internal_linear_numpy(x)
        layers.append(x)
    if trace is not None:
        trace[...] = np.stack(layers)
    return x


# A numpy batch costs ~3,000 array operations whatever its size (~5 ms); a
# state on Python ints ~0.1 ms (`pow` is the S-box).
INTS_BELOW = 32
_V = [int(v) for v in MATRIX_DIAG_8]
_P = int(P)


def _external_linear_ints(x):
    y = []
    for a, b, c, d in (x[0:4], x[4:8]):
        t01, t23 = a + b, c + d
        t0123 = t01 + t23
        t01123, t01233 = t0123 + b, t0123 + d
        y += [t01123 + t01, t01123 + 2 * c, t01233 + t23, t01233 + 2 * a]
    s = [y[i] + y[i + 4] for i in range(4)]
    return [(y[i] + s[i & 3]) % _P for i in range(8)]


def _permute_ints(x, rc_ext, rc_int, trace=None):
    """`_permute_lanes_numpy` state by state on Python ints (the same values)."""
    rc_e, rc_i = rc_ext.tolist(), rc_int.tolist()
    n_int = len(rc_i)
    out = np.empty((8, x.shape[1]), dtype=np.uint64)
    for col, state in enumerate(x.T.tolist()):
        v = _external_linear_ints(state)
        layers = [v]
        for r in range(8 + n_int):
            if r < 4 or r >= 4 + n_int:
                rc = rc_e[r if r < 4 else r - n_int]
                v = _external_linear_ints([pow(a + c, 7, _P) for a, c in zip(v, rc)])
            else:
                v = [pow(v[0] + rc_i[r - 4], 7, _P)] + v[1:]
                s = sum(v)
                v = [(s + d * a) % _P for d, a in zip(_V, v)]
            layers.append(v)
        if trace is not None:
            trace[:, :, col] = np.array(layers, dtype=np.uint64)
        out[:, col] = np.array(v, dtype=np.uint64)
    return out


def permute_rows_numpy(states, out, rc_ext, rc_int):
    out[...] = _permute_numpy(states.T, rc_ext, rc_int).T


def compress_rows_numpy(states, out, rc_ext, rc_int):
    out[...] = _permute_numpy(states.T, rc_ext, rc_int)[:4].T


def hash_leaf_rows_numpy(blocks, tag, out, rc_ext, rc_int):
    x = np.empty((8, blocks.shape[0]), dtype=np.uint64)
    x[:7] = blocks[:, :7].T
    x[7] = tag
    out[...] = _permute_numpy(x, rc_ext, rc_int)[:4].T


def trace_rows_numpy(states, trace, rc_ext, rc_int):
    _permute_numpy(states.T, rc_ext, rc_int, trace)
