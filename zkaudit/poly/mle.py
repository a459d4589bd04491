"""Multilinear extensions of tables over the Boolean hypercube.

A table f of length 2^n defines the unique multilinear polynomial
    f~(x_1, ..., x_n) = sum_{b in {0,1}^n} f[b] * eq(b, x),
    eq(b, x) = prod_k (b_k x_k + (1 - b_k)(1 - x_k)).

**Variable order (the one convention, used everywhere):** x_1 is the most
significant bit of the table index, i.e. index(b) = sum_k b_k 2^(n-k).
Binding x_1 := r therefore combines the two contiguous halves of the table:
    fold(f, r)[i] = f[i] + r * (f[i + 2^(n-1)] - f[i]),
and sum-check binds x_1 first, then x_2, and so on. A point is given in the
same order (r_1, ..., r_n).

Tables are base (1-D) or extension ((n, 2)) uint64 arrays as in
`zkaudit.field.vec`; points are sequences of `Fp2` (or `Fp`) or an (n, 2)
uint64 array.

The numba kernels in `kernels.py` are imported on first use; below
`NUMPY_BELOW` entries, while numba is not loaded in the process, `fold` and
`eq_table` run in numpy (`field.npfield`), so a verifier's small tables
never pay numba's start-up (`field.jit.use_kernel`). Both paths are exact
and tests hold both to brute force.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zkaudit.field import jit, vec
from zkaudit.field import npfield as nf
from zkaudit.field.constants import P, W
from zkaudit.field.scalar import Fp, Fp2

U64 = np.uint64
NUMPY_BELOW = 1 << 14


class _Kernels:
    """`k.name` imports `poly.kernels` (and numba) on first use."""

    def __getattr__(self, name):
        from zkaudit.poly import kernels

        return getattr(kernels, name)


k = _Kernels()

# Below this many entries the sequential in-place eq builder beats thread launch.
_EQ_PARALLEL_FROM = 1 << 14
# Variables of the tail table of a big eq table (2^10 entries, 16 KiB).
_EQ_TAIL_VARS = 10
# Up to this many variables `eq_table_numpy` works in Python ints alone.
_EQ_INTS_UP_TO = 7


def num_vars_of(table: np.ndarray) -> int:
    n = table.shape[0]
    if n == 0 or n & (n - 1):
        raise ValueError(f"table length {n} is not a power of two")
    return n.bit_length() - 1


def point_array(point) -> np.ndarray:
    """A point as an (n, 2) uint64 array (Fp values are lifted)."""
    if isinstance(point, np.ndarray):
        if point.ndim == 1:
            return vec.lift(np.ascontiguousarray(point, dtype=U64))
        return np.ascontiguousarray(point, dtype=U64)
    out = np.zeros((len(point), 2), dtype=U64)
    for i, r in enumerate(point):
        if isinstance(r, Fp2):
            out[i] = (r.c0, r.c1)
        elif isinstance(r, Fp):
            out[i, 0] = r.value
        else:
            raise TypeError(f"point coordinate {i} is {type(r).__name__}, expected Fp or Fp2")
    return out


def fold(table: np.ndarray, r: Fp2 | Fp) -> np.ndarray:
    """Bind the first variable x_1 := r. A base table folded by an Fp stays base."""
    h = table.shape[0] // 2
    if not jit.use_kernel(h, NUMPY_BELOW):
        return fold_numpy(table, r)
    if isinstance(r, Fp):
        if table.ndim == 1:
            out = np.empty(h, dtype=U64)
            k.fold_base_base(table, U64(r.value), out)
            return out
        r = Fp2.from_base(r)
    out = np.empty((h, 2), dtype=U64)
    small = h < k.SERIAL_FOLD
    if table.ndim == 1:
        (k.fold_base_serial if small else k.fold_base_parallel)(table, U64(r.c0), U64(r.c1), out)
    else:
        (k.fold_ext_serial if small else k.fold_ext_parallel)(table, U64(r.c0), U64(r.c1), out)
    return out


def fold_numpy(table: np.ndarray, r: Fp2 | Fp) -> np.ndarray:
    """`fold` in numpy: the same values, no numba."""
    h = table.shape[0] // 2
    lo, hi = table[:h], table[h:]
    if isinstance(r, Fp) and table.ndim == 1:
        return nf.add(lo, nf.mul(U64(r.value), nf.sub(hi, lo)))
    r0, r1 = (r.value, 0) if isinstance(r, Fp) else (r.c0, r.c1)
    d = nf.sub(hi, lo)
    out = np.empty((h, 2), dtype=U64)
    if table.ndim == 1:
        out[:, 0] = nf.add(lo, nf.mul(U64(r0), d))
        out[:, 1] = nf.mul(U64(r1), d)
        return out
    return nf.add(lo, nf.ext_mul(np.array([[r0, r1]], dtype=U64), d))


def evaluate(table: np.ndarray, point: Sequence[Fp2 | Fp] | np.ndarray) -> Fp2 | Fp:
    """f~(point) by folding one variable at a time: O(2^n), no eq table.
    Returns Fp when both the table and the point are in the base field."""
    n = num_vars_of(table)
    pts = list(point) if not isinstance(point, np.ndarray) else _point_scalars(point)
    if len(pts) != n:
        raise ValueError(f"point has {len(pts)} coordinates, table has {n} variables")
    cur = table
    for r in pts:
        cur = fold(cur, r)
    if cur.ndim == 1:
        return Fp(int(cur[0]))
    return Fp2(int(cur[0, 0]), int(cur[0, 1]))


def _point_scalars(point: np.ndarray) -> list[Fp2]:
    arr = point_array(point)
    return [Fp2(int(a), int(b)) for a, b in arr]


def eq_table(point, scale: Fp2 | None = None) -> np.ndarray:
    """The 2^n table eq(point, b) over b in {0,1}^n, as an extension vector;
    `scale` * that table when given (the scale multiplies a small factor
    table before the product, not the whole table after)."""
    pts = point_array(point)
    n = pts.shape[0]
    size = 1 << n
    if not jit.use_kernel(size, NUMPY_BELOW):
        return eq_table_numpy(pts, scale)
    if size <= _EQ_PARALLEL_FROM:
        out = np.empty((size, 2), dtype=U64)
        if scale is None:
            k.eq_table(pts, out)
        else:  # the scale as the start value: no pass over the table after it
            k.eq_table_scaled(pts, U64(scale.c0), U64(scale.c1), out)
        return out
    # eq(point, (a, b)) = eq(head, a) eq(tail, b): the last _EQ_TAIL_VARS
    # variables' table (cache-resident) times the first ones' (by the same
    # rule), in one parallel pass: one product per entry, as a doubling per
    # variable costs in all, but the table is written once (one doubling per
    # variable wrote it twice over and started a parallel call each: big_cnn's
    # 2^20 tables took 18 ms, now 15). The scale multiplies the tail only.
    tail_vars = min(_EQ_TAIL_VARS, n - 1)
    head = eq_table(pts[: n - tail_vars])
    tail = np.empty((1 << tail_vars, 2), dtype=U64)
    k.eq_table(pts[n - tail_vars:], tail)
    if scale is not None:  # eq is multilinear in its start value: scale the small tail, not the table
        tail = vec.scale(scale, tail)
    out = np.empty((size, 2), dtype=U64)
    k.eq_table_outer(head, tail, out)
    return out


def eq_table_numpy(point, scale: Fp2 | None = None) -> np.ndarray:
    """`eq_table` in numpy: the first half of the variables' table times the
    second half's (each built in Python ints, one doubling per variable
    appending its bit as the least significant), in one numpy product; up to
    _EQ_INTS_UP_TO variables, the whole table in Python ints. (A numpy
    doubling per variable cost ~80 us of calls each: clinical_transformer's
    verifier built 319 tables, 125 ms.)"""
    rows = point_array(point).tolist()
    start = (1, 0) if scale is None else (scale.c0, scale.c1)
    if len(rows) <= _EQ_INTS_UP_TO:
        return np.array(_eq_ints(rows, start), dtype=U64).reshape(-1, 2)
    h = len(rows) // 2
    head = np.array(_eq_ints(rows[:h], start), dtype=U64)
    tail = np.array(_eq_ints(rows[h:], (1, 0)), dtype=U64)
    return nf.ext_mul(head[:, None, :], tail[None, :, :]).reshape(-1, 2)


def _eq_ints(rows, start) -> list[tuple[int, int]]:
    """eq table of the points' (r0, r1) rows times `start`, as Python ints."""
    cur = [tuple(int(v) for v in start)]
    for r0, r1 in rows:
        nxt = []
        for a0, a1 in cur:
            h0, h1 = (a0 * r0 + W * a1 * r1) % P, (a0 * r1 + a1 * r0) % P
            nxt += ((a0 - h0) % P, (a1 - h1) % P), (h0, h1)
        cur = nxt
    return cur


def eq_eval(a: Sequence[Fp2], b: Sequence[Fp2]) -> Fp2:
    """eq(a, b) = prod_k (a_k b_k + (1 - a_k)(1 - b_k)) for two points: O(n)."""
    if len(a) != len(b):
        raise ValueError(f"points of different lengths: {len(a)} vs {len(b)}")
    # On plain ints (the verifier calls this for every sum-check it checks):
    # each factor is 2xy - x - y + 1.
    a0, a1 = 1, 0
    for x, y in zip(a, b):
        x0, x1 = (x.value, 0) if isinstance(x, Fp) else (x.c0, x.c1)
        y0, y1 = (y.value, 0) if isinstance(y, Fp) else (y.c0, y.c1)
        f0 = (2 * (x0 * y0 + W * x1 * y1) - x0 - y0 + 1) % P
        f1 = (2 * (x0 * y1 + x1 * y0) - x1 - y1) % P
        a0, a1 = (a0 * f0 + W * a1 * f1) % P, (a0 * f1 + a1 * f0) % P
    return Fp2(a0, a1)


def hypercube_sum(table: np.ndarray) -> Fp | Fp2:
    return vec.sum(table)


def prefix_indicator(n: int, point) -> Fp2:
    """MLE of the indicator of [0, n) on {0,1}^len(point) (MSB first), O(len):
    the verifier's view of "the first n entries are real, the rest padding"."""
    num_vars = len(point)
    if n >= 1 << num_vars:
        return Fp2(1)
    acc, prefix = Fp2(0), Fp2(1)
    for k, r in enumerate(point):
        if (n >> (num_vars - 1 - k)) & 1:
            acc = acc + prefix * (1 - r)  # indices agreeing above bit k, bit k = 0, rest free
            prefix = prefix * r
        else:
            prefix = prefix * (1 - r)
    return acc


def eq_bits(bits: int, point) -> Fp2:
    """eq(b, point) for the integer b written MSB first in len(point) bits."""
    acc = Fp2(1)
    for k, r in enumerate(point):
        acc = acc * (r if (bits >> (len(point) - 1 - k)) & 1 else 1 - r)
    return acc
