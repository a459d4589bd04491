"""Review 0612: `kernels.eval_blocks_ints` (row converted once, folds with
precomputed differences) against `eval_blocks_numpy`, the numba
`_eval_blocks` and a from-scratch Python MLE, on edge values: entries and
point coordinates from {0, 1, 2, 2^32, p-2, p-1}, blocks at the row's end,
unaligned blocks, size-0 (log 0) and whole-row blocks, points carrying
nonzero coordinates past the block's size (which must be ignored)."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import vec
from zkaudit.field.constants import P, W
from test_review_column_direct import _three_folds  # the same directory: pytest puts it on sys.path
from zkaudit.pcs import kernels

U64 = np.uint64
EDGE = [0, 1, 2, 1 << 32, (1 << 32) + 1, P - 2, P - 1]


def _ext_mul(a, b):
    return ((a[0] * b[0] + W * a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


def _mle(row, start, k, pt):
    """MLE of row[start : start + 2^k] at pt[:k], MSB first, by the eq sum."""
    acc = (0, 0)
    for j in range(1 << k):
        e = (1, 0)
        for t in range(k):
            bit = (j >> (k - 1 - t)) & 1
            r = (int(pt[t][0]), int(pt[t][1]))
            e = _ext_mul(e, r if bit else ((1 - r[0]) % P, (-r[1]) % P))
        v = (int(row[start + j][0]), int(row[start + j][1]))
        m = _ext_mul(e, v)
        acc = ((acc[0] + m[0]) % P, (acc[1] + m[1]) % P)
    return acc


_all_three = _three_folds  # the ints, numpy and numba folds into fresh outputs (the earlier review's helper)


def _edge_array(shape, rng):
    return np.array(rng.choice(EDGE, size=shape), dtype=U64)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_edge_values_every_block_position_and_size(n):
    """Every (start, log size) that fits the row, aligned or not, with edge
    entries and edge coordinates; trailing point coordinates are garbage."""
    rng = np.random.default_rng(100 + n)
    m = 1 << n
    for trial in range(3):
        row = _edge_array((m, 2), rng) if trial else np.full((m, 2), P - 1, dtype=U64)
        starts, logs = [], []
        for k in range(n + 1):
            for s in range(0, m - (1 << k) + 1):
                starts.append(s)
                logs.append(k)
        starts = np.array(starts, dtype=np.int64)
        logs = np.array(logs, dtype=np.int64)
        pts = _edge_array((len(starts), max(n, 1), 2), rng) if trial != 1 else np.full((len(starts), max(n, 1), 2), P - 1, dtype=U64)
        a, b, c = _all_three(row, starts, logs, pts)
        assert np.array_equal(a, b) and np.array_equal(a, c)
        assert a.dtype == U64 and int(a.max()) < P
        for i in range(len(starts)):
            assert tuple(int(x) for x in a[i]) == _mle(row, int(starts[i]), int(logs[i]), pts[i]), (i, starts[i], logs[i])


def test_log_zero_blocks_read_the_entry_anywhere_including_the_end():
    rng = np.random.default_rng(7)
    m = 16
    row = vec.ext_random(m, rng)
    row[-1] = (P - 1, P - 1)
    starts = np.array([m - 1, 0, 7, m - 1], dtype=np.int64)
    logs = np.zeros(4, dtype=np.int64)
    pts = _edge_array((4, 4, 2), rng)  # ignored entirely
    a, b, c = _all_three(row, starts, logs, pts)
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert np.array_equal(a, row[starts])


def test_whole_row_and_last_blocks_with_mixed_sizes_in_one_call():
    rng = np.random.default_rng(8)
    n = 6
    m = 1 << n
    row = vec.ext_random(m, rng)
    row[m - 8:] = P - 1
    logs = np.array([n, 3, 3, 0, 1, n, 2, 0], dtype=np.int64)
    starts = np.array([0, m - 8, 8, m - 1, m - 2, 0, m - 4, 0], dtype=np.int64)
    pts = vec.ext_random(len(logs) * n, rng).reshape(len(logs), n, 2)
    pts[0] = P - 1
    pts[5, :, 1] = 0  # base-field point
    pts[5, :, 0] = [0, 1, 1, 0, 1, 1]  # Boolean: the entry 0b011011
    a, b, c = _all_three(row, starts, logs, pts)
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert np.array_equal(a[5], row[0b011011])
    for i in range(len(logs)):
        assert tuple(int(x) for x in a[i]) == _mle(row, int(starts[i]), int(logs[i]), pts[i])


def test_ints_fold_does_not_touch_its_inputs_and_writes_only_when_blocks():
    rng = np.random.default_rng(9)
    row = vec.ext_random(32, rng)
    pts = vec.ext_random(3 * 5, rng).reshape(3, 5, 2)
    starts = np.array([0, 16, 31], dtype=np.int64)
    logs = np.array([5, 4, 0], dtype=np.int64)
    row0, pts0 = row.copy(), pts.copy()
    out = np.zeros((3, 2), dtype=U64)
    kernels.eval_blocks_ints(row, starts, logs, pts, out)
    assert np.array_equal(row, row0) and np.array_equal(pts, pts0)
    want = np.zeros((3, 2), dtype=U64)
    kernels._eval_blocks(row, starts, logs, pts, want)
    assert np.array_equal(out, want)
    # a non-contiguous row view and list-typed starts/logs: the same values
    wide = np.zeros((32, 4), dtype=U64)
    wide[:, 1:3] = row
    got = np.zeros((3, 2), dtype=U64)
    kernels.eval_blocks_ints(wide[:, 1:3], starts.tolist(), logs.tolist(), pts, got)
    assert np.array_equal(got, want)


def test_random_many_blocks_agree():
    rng = np.random.default_rng(10)
    n = 8
    row = vec.ext_random(1 << n, rng)
    for _ in range(5):
        logs = rng.integers(0, n + 1, size=40).astype(np.int64)
        starts = np.array([int(rng.integers(0, (1 << n) - (1 << int(k)) + 1)) for k in logs], dtype=np.int64)
        pts = vec.ext_random(40 * n, rng).reshape(40, n, 2)
        a, b, c = _all_three(row, starts, logs, pts)
        assert np.array_equal(a, b) and np.array_equal(a, c)
