"""Multilinear tables and univariate round polynomials against brute force."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkaudit.field import P, Fp, Fp2, vec
from zkaudit.poly import eq_eval, eq_table, evaluate, fold, hypercube_sum
from zkaudit.poly.univariate import evaluate_coeffs, evaluate_from_evals, interpolate


def _rand_point(n, rng):
    return [Fp2(int(a), int(b)) for a, b in vec.ext_random(n, rng)]


def _brute_mle(table, point):
    """sum_b f[b] * eq(b, point), with b_1 the most significant bit."""
    n = len(point)
    total = Fp2(0)
    for idx in range(1 << n):
        bits = [(idx >> (n - 1 - k)) & 1 for k in range(n)]
        w = Fp2(1)
        for b, r in zip(bits, point):
            w = w * (r if b else 1 - r)
        v = table[idx]
        total = total + w * (Fp2(int(v[0]), int(v[1])) if table.ndim == 2 else Fp2(int(v)))
    return total


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_evaluate_matches_brute_force(n):
    rng = np.random.default_rng(n)
    for table in (vec.random(1 << n, rng), vec.ext_random(1 << n, rng)):
        pt = _rand_point(n, rng)
        got = evaluate(table, pt)
        got = Fp2.from_base(got) if isinstance(got, Fp) else got  # a 0-variable base table stays base
        assert got == _brute_mle(table, pt)


def test_eq_table_matches_eq_eval_and_inner_product():
    rng = np.random.default_rng(7)
    for n in (1, 3, 15):  # 15 exercises the parallel builder
        pt = _rand_point(n, rng)
        eq = eq_table(pt)
        for idx in (0, 1, (1 << n) - 1, (1 << n) // 3):
            bits = [Fp2((idx >> (n - 1 - k)) & 1) for k in range(n)]
            assert Fp2(int(eq[idx, 0]), int(eq[idx, 1])) == eq_eval(pt, bits)
        f = vec.random(1 << n, rng)
        assert vec.inner(eq, f) == evaluate(f, pt)
        assert vec.sum(eq) == Fp2(1)


def test_boolean_point_reads_the_table_msb_first():
    f = vec.from_ints(range(16))
    assert evaluate(f, [Fp(1), Fp(0), Fp(1), Fp(1)]) == Fp(0b1011)


def test_fold_binds_first_variable():
    rng = np.random.default_rng(3)
    f = vec.random(8, rng)
    r, rest = _rand_point(1, rng)[0], _rand_point(2, rng)
    assert evaluate(fold(f, r), rest) == evaluate(f, [r, *rest])
    assert hypercube_sum(f) == vec.sum(f)


@given(st.lists(st.tuples(st.integers(0, P - 1), st.integers(0, P - 1)), min_size=1, max_size=9),
       st.tuples(st.integers(0, P - 1), st.integers(0, P - 1)))
def test_univariate_interpolation(coeffs, x):
    coeffs = [Fp2(*c) for c in coeffs]
    x = Fp2(*x)
    evals = [evaluate_coeffs(coeffs, Fp2(i)) for i in range(len(coeffs))]
    assert evaluate_from_evals(evals, x) == evaluate_coeffs(coeffs, x)
    assert interpolate(evals) == coeffs


def test_univariate_at_nodes():
    evals = [Fp2(i * i + 3) for i in range(4)]
    for i in range(4):
        assert evaluate_from_evals(evals, Fp2(i)) == evals[i]
    with pytest.raises(ValueError):  # degree 17: above MAX_DEGREE (16, a zero-knowledge last round's 2 x 8)
        evaluate_from_evals([Fp2(0)] * 18, Fp2(5))


def test_table_lengths_must_be_powers_of_two():
    with pytest.raises(ValueError):
        evaluate(vec.random(6), _rand_point(3, np.random.default_rng(0)))


def test_prefix_indicator_and_eq_bits_match_tables():
    from zkaudit.poly.mle import eq_bits, prefix_indicator

    rng = np.random.default_rng(9)
    n = 4
    pt = _rand_point(n, rng)
    eq = eq_table(pt)
    for count in (0, 1, 5, 8, 15, 16):
        ind = vec.from_ints([1 if i < count else 0 for i in range(1 << n)])
        assert prefix_indicator(count, pt) == vec.inner(eq, ind)
    for idx in (0, 6, 15):
        assert eq_bits(idx, pt) == Fp2(int(eq[idx, 0]), int(eq[idx, 1]))


def test_serial_and_parallel_folds_agree():
    """Small folds run on one thread, large ones in parallel: same values."""
    import numpy as np

    from zkaudit.field import vec
    from zkaudit.poly import kernels as pk

    rng = np.random.default_rng(3)
    r0, r1 = np.uint64(123456789123), np.uint64(987654321987)
    for h in (1, 5, pk.SERIAL_FOLD + 3):
        base, ext = vec.random(2 * h, rng), vec.ext_random(2 * h, rng)
        outs = [np.empty((h, 2), dtype=np.uint64) for _ in range(4)]
        pk.fold_base_serial(base, r0, r1, outs[0])
        pk.fold_base_parallel(base, r0, r1, outs[1])
        pk.fold_ext_serial(ext, r0, r1, outs[2])
        pk.fold_ext_parallel(ext, r0, r1, outs[3])
        assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[2], outs[3])


def test_small_and_large_signed_embeddings_agree():
    import numpy as np

    from zkaudit.field import P, vec
    from zkaudit.field import kernels as fk

    a = np.array([0, 1, -1, 2**62, -(2**62), 2**63 - 1, -(2**63) + 1, -7], dtype=np.int64)
    expected = np.empty(a.shape[0], dtype=np.uint64)
    fk.from_int64_v(a, expected)
    assert np.array_equal(vec.from_int64(a), expected)
    assert [int(v) for v in vec.from_int64(a)] == [int(x) % P for x in a.tolist()]
