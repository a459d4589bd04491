"""Soundness as code: the query count follows from the target, the rate and
the bound; the default reaches 100 bits; shapes are canonical."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zkaudit.field import vec
from zkaudit.pcs import PcsParams, commit
from zkaudit.pcs.layout import Layout


def test_default_reaches_100_bits():
    p = PcsParams.default()
    assert p.soundness_bits >= 100
    assert p.log_blowup == 2 and p.delta == 0.375
    # Fewest queries: one fewer misses the target.
    weaker = PcsParams(p.log_blowup, p.num_queries - 1, p.max_log_codeword, p.max_claims)
    assert weaker.soundness_bits < 100


def test_bound_by_hand():
    """2 (5/8)^150 + 2^24 / p^2 + 65535 / p^2 + 64 / p^2, computed directly."""
    p = PcsParams.default()
    field = ((1 << 64) - (1 << 32) + 1) ** 2
    eps = 2 * (5 / 8) ** p.num_queries + (2**24 + 65535 + 2 * 32) / field
    assert math.isclose(p.soundness_bits, -math.log2(eps), rel_tol=1e-9)


def test_unreachable_target_is_refused():
    with pytest.raises(ValueError, match="out of reach"):
        PcsParams.for_security(120)
    assert PcsParams.for_security(110, max_log_codeword=16, max_claims=16).soundness_bits >= 110


@pytest.mark.parametrize("bits", [60, 80, 100])
def test_queries_follow_target_and_rate(bits):
    by_rate = [PcsParams.for_security(bits, log_blowup=b) for b in (1, 2, 3, 4)]
    assert all(p.soundness_bits >= bits for p in by_rate)
    queries = [p.num_queries for p in by_rate]
    assert queries == sorted(queries, reverse=True) and len(set(queries)) == 4
    assert PcsParams.for_security(bits + 3).num_queries > PcsParams.for_security(bits).num_queries


def test_larger_claims_and_codewords_cost_bits():
    p = PcsParams.default()
    assert p.soundness_bits_for(16, 1, 0) >= p.soundness_bits_for(16, 2, 4)
    assert p.soundness_bits_for(30, 2**30, 30) < p.soundness_bits_for(16, 16, 8)


def test_invalid_parameters():
    with pytest.raises(ValueError):
        PcsParams(0, 10)
    with pytest.raises(ValueError):
        PcsParams(2, 0)
    with pytest.raises(ValueError):
        PcsParams(2, 10, max_log_codeword=40)


def test_hiding_parameters_are_real_and_labelled():
    p = PcsParams.for_security(100, hiding=True)
    assert p.hiding and p.soundness_bits >= 100 and p.pad_symbols >= p.num_queries
    assert p.num_queries > PcsParams.default().num_queries  # the padded code has a higher rate
    assert p.min_log_cols >= (4 * p.pad_symbols - 1).bit_length() - 1
    c, data = commit([vec.random(4)], p)
    # a small commitment gets parameters solved for its own width and rate, as sound
    shaped = data.params
    assert shaped.hiding and shaped.row_log_cols == data.layout.log_cols == c.log_cols
    assert shaped.soundness_bits >= 100 and shaped.pad_symbols >= shaped.num_queries
    assert shaped.pad_symbols <= 1 << shaped.row_log_cols  # the fused encoder's condition
    assert c.log_blowup == shaped.log_blowup
    with pytest.raises(ValueError):
        PcsParams(2, 150, hiding=True, pad_symbols=158, row_log_cols=7)  # padding wider than the row
    with pytest.raises(ValueError):
        PcsParams(2, 150, pad_symbols=0, row_log_cols=9)  # a row width without hiding
    with pytest.raises(ValueError):
        PcsParams(2, 150, hiding=True, pad_symbols=100)  # fewer pad symbols than queries
    with pytest.raises(ValueError):
        PcsParams(2, 150, pad_symbols=158)  # padding without hiding


@pytest.mark.parametrize("log_n, expect_cols", [(16, 10), (20, 12), (24, 14)])
def test_shape_choice(log_n, expect_cols):
    p = PcsParams.default()
    log_cols = p.choose_log_cols([log_n])
    assert log_cols == expect_cols
    lay = Layout.build([log_n], log_cols)
    size = p.estimate_proof_bytes(log_cols, lay.num_rows, lay.log_rows)
    for other in range(1, log_n + 1):
        o = Layout.build([log_n], other)
        assert size <= 1.05 * p.estimate_proof_bytes(other, o.num_rows, o.log_rows)


def test_small_tables_get_two_columns_at_least():
    p = PcsParams.default()
    assert p.choose_log_cols([0]) == 1 and p.choose_log_cols([1]) == 1


def test_layout_blocks_are_aligned_and_disjoint():
    sizes = [3, 9, 0, 5, 9, 2, 7, 1, 1]
    lay = Layout.build(sizes, 4)
    used = np.zeros((lay.num_rows, lay.cols), dtype=int)
    for v, pl in zip(sizes, lay.placements):
        if v >= 4:
            assert pl.row % pl.num_rows == 0 and pl.col == 0
            used[pl.row : pl.row + pl.num_rows] += 1
        else:
            assert pl.col % (1 << v) == 0 and pl.col + (1 << v) <= lay.cols
            used[pl.row, pl.col : pl.col + (1 << v)] += 1
    assert used.max() == 1 and used.sum() == sum(1 << v for v in sizes)


def test_hiding_shape_follows_the_target_though_params_compare_equal():
    """target_bits is no part of PcsParams' equality; the per-size shape
    (and the verifier's cache of it on a commitment) is keyed by it too."""
    import dataclasses

    from zkaudit.pcs.hiding import all_num_vars

    base = PcsParams.for_security(103, hiding=True)
    lower = dataclasses.replace(base, target_bits=90.0)
    assert lower == base
    every = all_num_vars([9, 4], base)
    strong, weak = base.hiding_shape(every), lower.hiding_shape(every)
    assert strong.soundness_bits >= 103 and weak.soundness_bits >= 90
    assert weak.num_queries < strong.num_queries


def test_count_rows_is_the_layouts_row_count():
    """`layout.count_rows` (the shape search's row count, no table placed)
    equals `Layout.build(...).num_rows` for random mixes of wide and narrow
    tables at every width, repeated sizes included."""
    import random

    from zkaudit.pcs.layout import Layout, count_rows

    rng = random.Random(5)
    cases = [(0,), (3,), (1, 1, 1), (12, 0, 0, 5, 5, 5, 7)]
    cases += [tuple(rng.choice([0, 1, 2, 3, 5, 8, 11, 14]) for _ in range(rng.randrange(1, 60))) for _ in range(40)]
    for num_vars in cases:
        for log_cols in range(1, 16):
            assert count_rows(num_vars, log_cols) == Layout.build(num_vars, log_cols).num_rows, (num_vars, log_cols)
    import pytest

    with pytest.raises(ValueError):
        count_rows((), 3)
    with pytest.raises(ValueError):
        count_rows((-1,), 3)
    with pytest.raises(ValueError):
        count_rows((2,), 0)
