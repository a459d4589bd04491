"""Exact integer evaluation of a training gate (`Expr.evaluate_int`): the
int64 path only where every value fits, Python integers elsewhere."""

from __future__ import annotations

import numpy as np

from zkaudit.statements.training.expr import Expr


def test_a_huge_coefficient_on_zero_columns_takes_the_exact_path():
    # 2^70 * a: a is all zero, so the product bound is 0, but 2^70 itself is no int64
    # (a training run whose carry column happened to be all zero crashed here)
    cols = {"a": np.zeros(4, dtype=np.int64), "b": np.arange(4, dtype=np.int64)}
    g = Expr({("a",): 1 << 70, ("b",): 3})
    assert [int(v) for v in g.evaluate_int(cols, 4)] == [0, 3, 6, 9]


def test_small_gates_stay_on_int64_and_agree_with_python_integers():
    rng = np.random.default_rng(0)  # test data only
    cols = {n: rng.integers(-1000, 1000, size=16) for n in "xyz"}
    g = Expr({("x", "y"): 5, ("z",): -7, (): 11})
    v = g.evaluate_int(cols, 16)
    assert v.dtype == np.int64
    want = [5 * int(x) * int(y) - 7 * int(z) + 11 for x, y, z in zip(cols["x"], cols["y"], cols["z"])]
    assert v.tolist() == want
    big = Expr({("x", "y", "z"): 1 << 40})  # partial products past 2^62: exact Python integers
    assert big.evaluate_int(cols, 16).tolist() == [(1 << 40) * int(x) * int(y) * int(z)
                                                  for x, y, z in zip(cols["x"], cols["y"], cols["z"])]
