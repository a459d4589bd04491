"""The window-max verifier's factored wiring values (`pool.wiring.RowSums`)
equal the dense reference (the 2^n weight table through `wiring_value`),
and the slot-sum kernels equal their numpy paths."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.layers import kernels
from zkaudit.layers.pool.verifier import mask_ids, read_ids, wiring_value
from zkaudit.layers.pool.windows import axis_windows, pool_windows
from zkaudit.layers.pool.wiring import RowSums, dense_weights

WINDOWS = [
    lambda: pool_windows(dict(kernel_shape=(3, 3), pads=(1, 1, 1, 1), strides=(2, 2)), (1, 3, 7, 6), (1, 3, 4, 3)),
    lambda: pool_windows(dict(kernel_shape=(2, 2), pads=(0, 0, 0, 0), strides=(2, 2)), (2, 2, 4, 4), (2, 2, 2, 2)),
    lambda: pool_windows(dict(kernel_shape=(2, 3), pads=(0, 1, 1, 0), strides=(1, 2)), (2, 3, 6, 5), (2, 3, 5, 2),
                         dilations=(2, 1)),
    lambda: axis_windows((3, 5), 1),
    lambda: axis_windows((4, 1), 1),  # one slot per window: kv = 0
]


def _point(rng, n):
    return tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(n, rng))


@pytest.mark.parametrize("make", WINDOWS)
@pytest.mark.parametrize("terms", [1, 2, 3])
@pytest.mark.parametrize("numba", [False, True])
def test_row_sums_equal_dense_reference(make, terms, numba, monkeypatch):
    monkeypatch.setattr(jit, "use_kernel", lambda *a, **k: numba)
    w = make()
    rng = np.random.default_rng(terms)
    points = [_point(rng, w.num_vars) for _ in range(terms)]
    coeffs = [Fp2(1)] + [_point(rng, 1)[0] for _ in range(terms - 1)]
    rows = RowSums(w, points)
    t_y, t_x = _point(rng, w.out_vars), _point(rng, w.in_vars)
    # the first term alone, before the others' coefficients exist (as verify_max asks)
    assert rows.selectable_value(coeffs[:1], t_y) == wiring_value(
        dense_weights(coeffs[:1], points[:1]), t_y, mask_ids(w), w.out_index)
    c = dense_weights(coeffs, points)
    assert rows.selectable_value(coeffs, t_y) == wiring_value(c, t_y, mask_ids(w), w.out_index)
    assert rows.read_value(coeffs, t_x) == wiring_value(c, t_x, read_ids(w), w.src)


@pytest.mark.parametrize("make", WINDOWS)
def test_slot_kernels_equal_numpy(make):
    w = make()
    rng = np.random.default_rng(7)
    slots, y = 1 << w.slot_vars, 1 << w.out_vars
    eq_k = vec.ext_random(3 * slots, rng).reshape(3, slots, 2)
    eq_y = vec.ext_random(3 * y, rng).reshape(3, y, 2)
    for zero_slots in (True, False):
        a, b = np.empty((3, y, 2), np.uint64), np.empty((3, y, 2), np.uint64)
        kernels._slot_sums(eq_k, eq_y, w.src, zero_slots, a)
        kernels.slot_sums_numpy(eq_k, eq_y, w.src, zero_slots, b)
        assert np.array_equal(a, b)
    for lo_bits in sorted({0, w.in_vars // 2, w.in_vars}):
        e_hi = vec.ext_random(1 << (w.in_vars - lo_bits), rng)
        e_lo = vec.ext_random(1 << lo_bits, rng)
        parts = np.empty((kernels.GATHER_CHUNKS, 3, 2), np.uint64)
        acc = np.empty((kernels.GATHER_CHUNKS, 2, 3, 2), np.uint64)
        kernels._slot_gather_sums(eq_k, eq_y, w.src, e_hi, e_lo, lo_bits, acc, parts)
        ref = kernels.slot_gather_sums_numpy(eq_k, eq_y, w.src, e_hi, e_lo, lo_bits)
        assert [nf.ext_sum(parts[:, i]) for i in range(3)] == [tuple(int(v) for v in r) for r in ref]
