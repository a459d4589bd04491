"""Big eq tables (head table times tail table, `poly.kernels.eq_table_outer`)
equal the numpy reference, scaled and not, at and past the sizes where the
head is built by the serial kernel and by the same rule again."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import jit, vec
from zkaudit.field.scalar import Fp2
from zkaudit.poly import mle


@pytest.mark.parametrize("num_vars, nested", [(15, False), (16, False), (12, True)])
def test_outer_eq_table_equals_numpy(num_vars, nested, monkeypatch):
    monkeypatch.setattr(jit, "use_kernel", lambda *a, **k: True)
    if nested:  # heads past _EQ_PARALLEL_FROM themselves (twice), at a small size
        monkeypatch.setattr(mle, "_EQ_PARALLEL_FROM", 1 << 4)
        monkeypatch.setattr(mle, "_EQ_TAIL_VARS", 3)
    rng = np.random.default_rng(num_vars)
    point = [Fp2(int(a), int(b)) for a, b in vec.ext_random(num_vars, rng)]
    want = mle.eq_table_numpy(point)
    assert np.array_equal(mle.eq_table(point), want)
    for scale in (Fp2(0), Fp2(3, 5)):
        assert np.array_equal(mle.eq_table(point, scale), vec.scale(scale, want))


@pytest.mark.parametrize("num_vars", [0, 1, 3, 7, 8, 11])
def test_numpy_eq_table_equals_doubling_reference(num_vars):
    # the numpy path (Python ints up to _EQ_INTS_UP_TO variables, then a head
    # and a tail table's product) against one doubling per variable in numpy
    from zkaudit.field import npfield as nf

    rng = np.random.default_rng(100 + num_vars)
    point = [Fp2(int(a), int(b)) for a, b in vec.ext_random(num_vars, rng)]
    for scale in (None, Fp2(0), Fp2(7, 9)):
        pts = mle.point_array(point)
        cur = np.array([[1, 0] if scale is None else [scale.c0, scale.c1]], dtype=np.uint64)
        for i in range(pts.shape[0]):
            hi = nf.ext_mul(cur, pts[i:i + 1])
            nxt = np.empty((cur.shape[0] * 2, 2), dtype=np.uint64)
            nxt[0::2], nxt[1::2] = nf.sub(cur, hi), hi
            cur = nxt
        assert np.array_equal(mle.eq_table_numpy(point, scale), cur)


@pytest.mark.parametrize("num_vars", [0, 1, 5, 10, 14])
def test_serial_kernel_eq_table_takes_its_scale_as_the_start_value(num_vars, monkeypatch):
    """Up to _EQ_PARALLEL_FROM entries the kernel path builds a scaled table
    from the scale itself (`poly.kernels.eq_table_scaled`): the same table
    as the unscaled one times the scale."""
    from zkaudit.field.constants import P

    monkeypatch.setattr(jit, "use_kernel", lambda *a, **k: True)
    rng = np.random.default_rng(200 + num_vars)
    point = [Fp2(int(a), int(b)) for a, b in vec.ext_random(num_vars, rng)]
    want = mle.eq_table_numpy(point)
    assert np.array_equal(mle.eq_table(point), want)
    for scale in (Fp2(0), Fp2(1), Fp2(3, 5), Fp2(P - 1, P - 1)):
        assert np.array_equal(mle.eq_table(point, scale), mle.eq_table_numpy(point, scale))
        assert np.array_equal(mle.eq_table(point, scale), vec.scale(scale, want))
