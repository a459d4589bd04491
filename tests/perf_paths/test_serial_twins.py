"""Each serial kernel twin (run below its size threshold, where starting a
parallel region costs more than the work) computes exactly its parallel
kernel's result."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import kernels as fk
from zkaudit.lookup import kernels as lk
from zkaudit.pcs import kernels as pk
from zkaudit.sumcheck import kernels as sk

P = 2**64 - 2**32 + 1


def _rand(rng, shape):
    return rng.integers(0, P, size=shape, dtype=np.uint64)


@pytest.mark.parametrize("n", [1, 5, 64, 1000])
def test_serial_twins_equal_their_parallel_kernels(n):
    rng = np.random.default_rng(n)
    a = rng.integers(-(2**62), 2**62, size=n)
    out1, out2 = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64)
    fk.from_int64_v(a, out1)
    fk.from_int64_s(a, out2)
    assert np.array_equal(out1, out2)

    mat, vecs = _rand(rng, (n, 7)), _rand(rng, (3, 7))
    o1, o2 = np.empty((3, n), dtype=np.uint64), np.empty((3, n), dtype=np.uint64)
    pk._row_dots(mat, vecs, o1)
    pk._row_dots_serial(mat, vecs, o2)
    assert np.array_equal(o1, o2)

    p, q = _rand(rng, (2 * n, 2)), _rand(rng, (2 * n, 2))
    outs = [tuple(np.empty((n, 2), dtype=np.uint64) for _ in range(2)) for _ in range(2)]
    lk._layer_up(p, q, *outs[0])
    lk._layer_up_serial(p, q, *outs[1])
    assert all(np.array_equal(x, y) for x, y in zip(*outs))

    cols, coeffs = _rand(rng, (3, n)), _rand(rng, (3, 2))
    d1, d2 = np.empty((n, 2), dtype=np.uint64), np.empty((n, 2), dtype=np.uint64)
    lk._leaf_denominators(cols, coeffs, np.uint64(5), np.uint64(9), d1)
    lk._leaf_denominators_serial(cols, coeffs, np.uint64(5), np.uint64(9), d2)
    assert np.array_equal(d1, d2)

    r0, r1 = np.uint64(rng.integers(0, P, dtype=np.uint64)), np.uint64(rng.integers(0, P, dtype=np.uint64))
    base, ext = _rand(rng, (4, 2 * n)), _rand(rng, (4, 2 * n, 2))
    f = [np.empty((4, n, 2), dtype=np.uint64) for _ in range(4)]
    sk._fold_stack_base(base, r0, r1, f[0])
    sk._fold_stack_base_serial(base, r0, r1, f[1])
    sk._fold_stack_ext(ext, r0, r1, f[2])
    sk._fold_stack_ext_serial(ext, r0, r1, f[3])
    assert np.array_equal(f[0], f[1]) and np.array_equal(f[2], f[3])


@pytest.mark.parametrize("n", [1, 2, 6, 256])
def test_the_product_folds_serial_twin_equals_its_parallel_kernel(n):
    from zkaudit.sumcheck import kernels_prod2 as k2

    rng = np.random.default_rng(n)
    f, g = _rand(rng, (2 * n, 2)), _rand(rng, (2 * n, 2))
    r0, r1 = np.uint64(rng.integers(0, P, dtype=np.uint64)), np.uint64(rng.integers(0, P, dtype=np.uint64))
    outs = [[np.empty((n, 2), dtype=np.uint64) for _ in range(2)] for _ in range(2)]
    a = k2._fold_round_ext(f, g, r0, r1, *outs[0])
    b = k2._fold_round_ext_serial(f, g, r0, r1, *outs[1])
    assert np.array_equal(a, b) and all(np.array_equal(x, y) for x, y in zip(*outs))


@pytest.mark.parametrize("n", [1, 2, 6, 256])
def test_the_product_first_rounds_serial_twins_equal_their_parallel_kernels(n):
    from zkaudit.sumcheck import kernels_prod2 as k2

    rng = np.random.default_rng(n + 7)
    f, g = _rand(rng, (2 * n, 2)), _rand(rng, (2 * n, 2))
    assert np.array_equal(k2._round_ext(f, g), k2._round_ext_serial(f, g))
    assert np.array_equal(k2._round_ext_serial(f, g), k2.round_ext_numpy(f, g))
    fb, gb = _rand(rng, 2 * n), _rand(rng, 2 * n)
    assert np.array_equal(k2._round_base(fb, gb), k2._round_base_serial(fb, gb))
    assert np.array_equal(k2._round_base_serial(fb, gb), k2.round_base_numpy(fb, gb))


@pytest.mark.parametrize("n", [1, 2, 6, 256])
def test_the_product_base_folds_serial_twin_equals_its_parallel_kernel(n):
    from zkaudit.sumcheck import kernels_prod2 as k2

    rng = np.random.default_rng(n + 11)
    f, g = _rand(rng, 2 * n), _rand(rng, 2 * n)
    r0, r1 = np.uint64(rng.integers(0, P, dtype=np.uint64)), np.uint64(rng.integers(0, P, dtype=np.uint64))
    outs = [[np.empty((n, 2), dtype=np.uint64) for _ in range(2)] for _ in range(3)]
    a = k2._fold_round_base(f, g, r0, r1, *outs[0])
    b = k2._fold_round_base_serial(f, g, r0, r1, *outs[1])
    c = k2.fold_round_base_numpy(f, g, r0, r1, *outs[2])
    assert np.array_equal(a, b) and np.array_equal(b, c)
    assert all(np.array_equal(x, y) for x, y in zip(outs[0], outs[1]))
    assert all(np.array_equal(x, y) for x, y in zip(outs[1], outs[2]))


@pytest.mark.parametrize("n", [1, 3, 64])
def test_the_generic_round_serial_twins_equal_their_parallel_kernels(n):
    """A sum-check round's per-term sums (repeated tables, several terms,
    degrees 1-4) on one thread and in a parallel region, and on numpy."""
    rng = np.random.default_rng(n + 3)
    ptr, idx = np.array([0, 2, 3, 7]), np.array([0, 1, 2, 0, 1, 1, 3])
    base, ext = _rand(rng, (4, 2 * n)), _rand(rng, (4, 2 * n, 2))
    for degree in (1, 2, 4):
        a = sk._round_evals_base(base, ptr, idx, degree)
        b = sk._round_evals_base_serial(base, ptr, idx, degree)
        assert np.array_equal(a, b) and np.array_equal(b, sk.round_evals_base_numpy(base, ptr, idx, degree))
        a = sk._round_evals_ext(ext, ptr, idx, degree)
        b = sk._round_evals_ext_serial(ext, ptr, idx, degree)
        assert np.array_equal(a, b) and np.array_equal(b, sk.round_evals_ext_numpy(ext, ptr, idx, degree))


@pytest.mark.parametrize("n", [1, 3, 64])
def test_the_eq_round_serial_twins_equal_their_parallel_kernels(n):
    from zkaudit.sumcheck import kernels_eq as ke

    rng = np.random.default_rng(n + 5)
    ptr, idx = np.array([0, 1, 3, 6]), np.array([0, 1, 2, 0, 2, 2])
    base, ext, w = _rand(rng, (3, 2 * n)), _rand(rng, (3, 2 * n, 2)), _rand(rng, (n, 2))
    for npts, skip in ((3, -1), (4, 1), (5, 1)):
        for stack, par, ser in ((base, ke._round_evals_eq_base, ke._round_evals_eq_base_serial),
                                (ext, ke._round_evals_eq_ext, ke._round_evals_eq_ext_serial)):
            a = par(stack, ptr, idx, npts, w, skip)
            b = ser(stack, ptr, idx, npts, w, skip)
            assert np.array_equal(a, b)
            assert np.array_equal(b, ke.round_evals_eq_numpy(stack, ptr, idx, npts, w, skip))
