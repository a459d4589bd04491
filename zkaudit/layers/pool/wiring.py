"""The window-max verifier's wiring values, by the rows' product structure.

A row is (y, k), index y 2^kv + k with y's bits most significant, so for a
point p = (p_y, p_k) over the rows eq(p, row) = eq(p_y, y) eq(p_k, k). The
verifier's row weights are such sums, c = sum_i a_i eq(p_i, .),
and its wiring values are
    sum_{rows in M'} c(row) eq(t, y)
        = sum_y eq(t, y) sum_i a_i eq(p_iy, y) S_i(y),   S_i(y) = sum_{k in M'(y)} eq(p_ik, k)
    sum_{rows in M} c(row) eq(t, src(row))
        = sum_y sum_i a_i eq(p_iy, y) G_i(y),            G_i(y) = sum_{k in M(y)} eq(p_ik, k) eq(t, src(y, k))
The same field values as the dense sums (`dense_weights` with
`verifier.wiring_value`, the reference the tests hold these to), at T 2^n
additions (S) or multiplications (G) over the rows, and tables of 2^n_y
and 2^kv entries; eq(t, .) over X comes from its halves' tables, taken by
runs of rows that share x's high half (a window reads nearby x): no 2^n
table of c, of any eq(p_i, .) or of eq(t, .) over X.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.layers import kernels
from zkaudit.layers.pool.windows import Windows
from zkaudit.poly.mle import eq_table, evaluate


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v)


class RowSums:
    """The wiring values of weights sum_i a_i eq(p_i, .) over one `Windows`,
    for points p_i fixed up front and coefficients a_i given with each value
    (a prefix of the points when fewer): eq_y_i S_i is computed once and
    shared by the values at different points and coefficients."""

    def __init__(self, windows: Windows, points):
        self.windows = windows
        ny = windows.out_vars
        points = [tuple(p) for p in points]
        self.eq_k = np.stack([eq_table(p[ny:]) for p in points])
        self.eq_y = np.stack([eq_table(p[:ny]) for p in points])
        self._selectable = None

    def selectable_value(self, coeffs, point_y) -> Fp2:
        """sum over rows in M' of c(row) eq(point_y, y)."""
        if self._selectable is None:  # eq(p_iy, y) S_i(y)
            self._selectable = np.empty_like(self.eq_y)
            kernels.slot_sums(self.eq_k, self.eq_y, self.windows.src, True, self._selectable)
        # evaluating each P_i = eq(p_iy, .) S_i by folds: 2^n_y products
        # each, where an eq(point_y, .) table and inner products cost (1 + T) 2^n_y
        return _combine(coeffs, [evaluate(self._selectable[i], point_y) for i in range(len(coeffs))])

    def read_value(self, coeffs, point_x) -> Fp2:
        """sum over rows in M of c(row) eq(point_x, src(row))."""
        t = len(coeffs)
        g = kernels.slot_gather_sums(self.eq_k[:t], self.eq_y[:t], self.windows.src, point_x)
        return _combine(coeffs, [Fp2(int(a), int(b)) for a, b in g])


def _combine(coeffs, values) -> Fp2:
    acc = Fp2(0)
    for a, v in zip(coeffs, values):
        acc = acc + a * _ext(v)
    return acc


def dense_weights(coeffs, points) -> np.ndarray:
    """c = sum_i a_i eq(p_i, .) over the rows, as a table (the reference)."""
    c = None
    for a, p in zip(coeffs, points):
        t = eq_table(p, scale=a)
        c = t if c is None else vec.add(c, t)
    return c
