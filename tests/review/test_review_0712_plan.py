"""Review of commit f73be40's `hiding_groups.plan` change: the dense blocks'
terms summed in one product (one `vec.mul` + `vec.sum_by_index`) instead of
one `vec.inner` per block. Checked exactly against `plan_reference` on
claim sets with several dense blocks of different sizes in one opening,
blocks spanning several matrix rows (wide tables), partial blocks (shorter
than the table), a block on a narrow table at a nonzero column, several
blocks on one table and one row group, and blocks mixed with evaluations
and weighted entries; randomized (hypothesis) and parametrized."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.pcs import hiding, hiding_groups
from zkaudit.pcs.hiding import LinearClaim
from zkaudit.pcs.layout import Layout
from zkaudit.pcs.params import PcsParams

ZK = PcsParams.default_hiding()


def _ext(rng) -> Fp2:
    a, b = vec.ext_random(1, rng)[0]
    return Fp2(int(a), int(b))


def _weights(rng, n):
    w = vec.ext_random(n, rng)
    if n and rng.random() < 0.3:
        w[0] = (P - 1, P - 1)  # the top of the field, where a lazy reduction would show
    return w


def _claims(rng, sizes, log_cols, num_claims, *, block_rate, evals_max=2, entries_max=3):
    layout = Layout.build(hiding.all_num_vars(sizes, ZK), log_cols)
    claims = []
    for _ in range(num_claims):
        evals = []
        for _ in range(int(rng.integers(0, evals_max + 1))):
            t = int(rng.integers(0, len(sizes)))
            point = [_ext(rng) for _ in range(sizes[t])]
            if sizes[t] > log_cols and rng.random() < 0.5:
                for j in range(sizes[t] - log_cols):
                    point[j] = Fp2(int(rng.integers(0, 2)))
            evals.append((t, tuple(point), Fp2(1) if rng.random() < 0.5 else _ext(rng)))
        entries = []
        for _ in range(int(rng.integers(0, entries_max + 1))):
            t = int(rng.integers(0, len(sizes)))
            entries.append((t, int(rng.integers(0, 1 << sizes[t])), _ext(rng)))
        block = None
        if rng.random() < block_rate or not (evals or entries):
            t = int(rng.integers(0, len(sizes)))
            full = 1 << sizes[t]
            n = full if rng.random() < 0.4 else int(rng.integers(1, full + 1))
            block = (t, _weights(rng, n))
        claims.append(LinearClaim(tuple(evals), tuple(entries), _ext(rng), block))
    return layout, claims


def _check(layout, claims, num_tables, rng):
    l = (layout.num_rows + hiding.NUM_BLIND - 1).bit_length()
    powers = vec.ext_random(len(claims), rng)
    powers[0] = (P - 1, P - 1)
    power_list = [Fp2(int(a), int(b)) for a, b in powers]
    fast = hiding_groups.plan(layout, claims, powers, l)
    ref = hiding_groups.plan_reference(layout, num_tables, claims, ZK, power_list, l)
    assert fast.row_points == ref.row_points
    assert fast.coeffs == ref.coeffs
    for k in range(3):
        row = vec.ext_random(layout.cols, rng)
        if k == 0:
            row[:] = (P - 1, P - 1)  # every word at its largest
        assert fast.values(row) == ref.values(row)
        assert np.array_equal(fast.direct(row), ref.direct(row))
    return fast


def _blocks(claims):
    return [c.block for c in claims if c.block is not None]


# sizes (num_vars per table), log_cols: narrow tables (< log_cols) and wide ones (> log_cols, several rows)
SHAPES = [([7, 3, 2, 5], 4), ([9, 6, 1], 5), ([3, 3, 3], 4), ([10, 4, 0, 6], 6), ([8], 3)]


@pytest.mark.parametrize("sizes, log_cols", SHAPES)
@pytest.mark.parametrize("seed", range(4))
def test_plan_equals_reference_with_many_blocks(sizes, log_cols, seed):
    rng = np.random.default_rng(1000 + seed * 17 + len(sizes))
    layout, claims = _claims(rng, sizes, log_cols, 30, block_rate=0.5)
    assert len(_blocks(claims)) >= 3
    _check(layout, claims, len(sizes), rng)


def test_blocks_only_of_different_sizes_on_wide_and_narrow_tables():
    """Only dense blocks (no evaluation, no entry): each of 1, 2, 3, 5, 16,
    17, 64, 100, 256 weights, on a wide table (spanning rows, the last row
    partial) and on narrow ones at a column offset."""
    rng = np.random.default_rng(5)
    sizes, log_cols = [8, 3, 2, 4], 4
    layout = Layout.build(hiding.all_num_vars(sizes, ZK), log_cols)
    claims = []
    for n in (1, 2, 3, 5, 16, 17, 64, 100, 256):
        claims.append(LinearClaim((), (), _ext(rng), (0, _weights(rng, n))))
    for t in (1, 2, 3):
        for n in (1, (1 << sizes[t]) - 1, 1 << sizes[t]):
            claims.append(LinearClaim((), (), _ext(rng), (t, _weights(rng, n))))
    assert layout.placements[0].num_vars > log_cols  # the 256-entry block spans 16 rows
    _check(layout, claims, len(sizes), rng)


def test_blocks_sharing_a_row_with_entries_and_evaluations():
    """A narrow table's block in the same row group as entries on that row
    and a Boolean-row evaluation of a wide table: the block's scale is 1
    inside the shared group, its power when the block's term is lone."""
    rng = np.random.default_rng(9)
    sizes, log_cols = [6, 2, 2], 4
    layout = Layout.build(hiding.all_num_vars(sizes, ZK), log_cols)
    p1, p2 = layout.placements[1], layout.placements[2]
    claims = [
        LinearClaim((), ((1, 1, _ext(rng)),), _ext(rng), (1, _weights(rng, 3))),
        LinearClaim((), (), _ext(rng), (2, _weights(rng, 4))),
        LinearClaim(((0, (Fp2(p1.row >> 1 & 1), Fp2(p1.row & 1)) + tuple(_ext(rng) for _ in range(4)), _ext(rng)),),
                    ((2, 0, _ext(rng)),), _ext(rng), (0, _weights(rng, 40))),
        LinearClaim((), (), _ext(rng), (1, _weights(rng, 1))),
    ]
    fast = _check(layout, claims, len(sizes), rng)
    assert len(fast.coeffs) < sum(1 for _ in claims) + 3  # some terms did share a group
    del p2


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), num_claims=st.integers(1, 25),
       shape=st.sampled_from(SHAPES), block_rate=st.sampled_from([0.3, 0.7, 1.0]))
def test_plan_equals_reference_hypothesis(seed, num_claims, shape, block_rate):
    sizes, log_cols = shape
    rng = np.random.default_rng(seed)
    layout, claims = _claims(rng, sizes, log_cols, num_claims, block_rate=block_rate)
    _check(layout, claims, len(sizes), rng)
