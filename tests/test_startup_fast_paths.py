"""The numpy paths that spare small jobs numba's start-up (field.npfield,
vec below SMALL, poly.mle.fold_numpy / eq_table_numpy) against the naive
reference and the numba kernels: the same values, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import P, Fp, Fp2, jit, reference, vec
from zkaudit.field import npfield as nf
from zkaudit.poly import mle
from zkaudit.poly import kernels as poly_kernels

EDGE = [0, 1, 2, P - 1, P - 2, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, 1 << 63, P // 2, P // 2 + 1,
        (1 << 64) - (1 << 33)]


def _operands(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    edge = np.array(EDGE, dtype=np.uint64)
    a = np.concatenate([edge, np.repeat(edge, len(edge)), vec.random(n, rng)])
    b = np.concatenate([edge[::-1], np.tile(edge, len(edge)), vec.random(n, rng)])
    return a, b, np.stack([a, b[::-1]], axis=1).copy(), np.stack([b, a], axis=1).copy()


def test_npfield_against_python_ints():
    a, b, _, _ = _operands(1)
    ai, bi = [int(x) for x in a], [int(x) for x in b]
    assert [int(x) for x in nf.mul(a, b)] == [x * y % P for x, y in zip(ai, bi)]
    assert [int(x) for x in nf.add(a, b)] == [(x + y) % P for x, y in zip(ai, bi)]
    assert [int(x) for x in nf.sub(a, b)] == [(x - y) % P for x, y in zip(ai, bi)]
    assert [int(x) for x in nf.neg(a)] == [-x % P for x in ai]
    assert nf.sum(a) == sum(ai) % P
    assert nf.inner(a, b) == sum(x * y for x, y in zip(ai, bi)) % P


@pytest.fixture
def numpy_paths(monkeypatch):
    """Every size takes the numpy path, as in a process without numba."""
    monkeypatch.setattr(jit, "use_kernel", lambda n, threshold: False)


@pytest.mark.parametrize("seed", [2, 3])
def test_vec_numpy_paths_match_reference(seed, numpy_paths):
    a, b, ea, eb = _operands(seed)
    c = vec.random(a.shape[0], np.random.default_rng(seed + 10))
    for op in ("add", "sub", "mul"):
        for x, y in ((a, b), (ea, eb), (ea, b), (a, eb)):
            assert (getattr(vec, op)(x, y) == getattr(reference, op)(x, y)).all(), op
    out = np.empty_like(ea)
    assert vec.mul(ea, eb, out=out) is out and (out == reference.mul(ea, eb)).all()
    assert (vec.neg(a) == reference.neg(a)).all() and (vec.neg(ea) == reference.neg(ea)).all()
    assert (vec.fma(a, b, c) == reference.fma(a, b, c)).all()
    assert (vec.fma(ea, eb, vec.lift(c)) == reference.fma(ea, eb, vec.lift(c))).all()
    s, s2 = Fp(int(a[-1])), Fp2(int(b[-1]), int(a[-2]))
    for scalar in (s, s2, 7):
        for x in (a, ea):
            assert (vec.scale(scalar, x) == reference.scale(scalar, x)).all()
    assert vec.sum(a) == reference.sum(a) and vec.sum(ea) == reference.sum(ea)
    for x, y in ((a, b), (ea, eb), (ea, b), (b, ea)):
        assert vec.inner(x, y) == reference.inner(x, y)


def test_vec_paths_agree_on_empty_and_one(numpy_paths):
    for n in (0, 1):
        a = vec.random(n, np.random.default_rng(n))
        assert vec.sum(a) == reference.sum(a)
        assert (vec.mul(a, a) == reference.mul(a, a)).all()


@pytest.mark.parametrize("n", [0, 1, 2, 5, 9])
def test_fold_and_eq_table_numpy_match_kernels(n):
    rng = np.random.default_rng(40 + n)
    point = [Fp2(int(x), int(y)) for x, y in vec.ext_random(n, rng)]
    eq = mle.eq_table_numpy(point)
    expect = np.empty((1 << n, 2), dtype=np.uint64)
    poly_kernels.eq_table(mle.point_array(point), expect)
    assert (eq == expect).all()
    if n == 0:
        return
    for table in (vec.random(1 << n, rng), vec.ext_random(1 << n, rng)):
        for r in (point[0], Fp(int(vec.random(1, rng)[0])), Fp2(5), Fp(0)):
            got = mle.fold_numpy(table, r)
            h = table.shape[0] // 2
            if table.ndim == 1 and isinstance(r, Fp):
                want = np.empty(h, dtype=np.uint64)
                poly_kernels.fold_base_base(table, np.uint64(r.value), want)
            else:
                r2 = Fp2.from_base(r) if isinstance(r, Fp) else r
                want = np.empty((h, 2), dtype=np.uint64)
                kernel = poly_kernels.fold_base_serial if table.ndim == 1 else poly_kernels.fold_ext_serial
                kernel(table, np.uint64(r2.c0), np.uint64(r2.c1), want)
            assert got.shape == want.shape and (got == want).all()


@pytest.mark.parametrize("n", [1, 4, 7])
def test_evaluate_on_numpy_paths_matches_eq_inner_product(n, numpy_paths):
    rng = np.random.default_rng(n)
    point = [Fp2(int(x), int(y)) for x, y in vec.ext_random(n, rng)]
    eq = mle.eq_table(point)
    assert vec.sum(eq) == Fp2(1)
    for table in (vec.random(1 << n, rng), vec.ext_random(1 << n, rng)):
        assert mle.evaluate(table, point) == reference.inner(eq, table)
    base_point = [Fp(int(x)) for x in vec.random(n, rng)]
    f = vec.random(1 << n, rng)
    assert Fp2.from_base(mle.evaluate(f, base_point)) == reference.inner(mle.eq_table(base_point), f)


@pytest.mark.parametrize("n", [14, 15, 17])
def test_large_eq_table_serial_head_then_parallel_doublings(n):
    """eq_table above 2^14 builds the first 14 variables serially, then
    doubles in parallel: the same table as the numpy builder."""
    rng = np.random.default_rng(n)
    point = [Fp2(int(x), int(y)) for x, y in vec.ext_random(n, rng)]
    assert (mle.eq_table(point) == mle.eq_table_numpy(point)).all()
