"""The commitment's kernels against Python-int references: branch-free field
helpers, lazily reduced row/column combinations (worst-case carries
included), and the expanded proximity coefficients."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zkaudit.field import P, vec
from zkaudit.field.reference import _em
from zkaudit.pcs import kernels as k
from zkaudit.pcs import protocol
from zkaudit.pcs.fastarith import badd, bmul, bsub
from zkaudit.transcript import Transcript

EDGE = [0, 1, 2, P - 1, P - 2, 1 << 32, (1 << 32) - 1, 1 << 63, (1 << 64) - (1 << 32), 7, P // 2, P // 2 + 1]


@njit
def _apply(x, y, out):
    for i in range(x.shape[0]):
        out[i, 0] = bmul(x[i], y[i])
        out[i, 1] = badd(x[i], y[i])
        out[i, 2] = bsub(x[i], y[i])


def test_branch_free_helpers_on_edge_values():
    xs = np.array([a for a in EDGE for _ in EDGE], dtype=np.uint64)
    ys = np.array([b for _ in EDGE for b in EDGE], dtype=np.uint64)
    out = np.empty((xs.shape[0], 3), dtype=np.uint64)
    _apply(xs, ys, out)
    for (a, b), row in zip(zip(xs.tolist(), ys.tolist()), out.tolist()):
        assert row == [a * b % P, (a + b) % P, (a - b) % P]


def _matrix(kind: str, rows: int, cols: int, seed: int) -> np.ndarray:
    if kind == "max":  # every product (p-1)^2: the accumulator carries as often as it can
        return np.full((rows, cols), P - 1, dtype=np.uint64)
    return vec.random(rows * cols, np.random.default_rng(seed)).reshape(rows, cols)


def _ext(kind: str, n: int, seed: int) -> np.ndarray:
    if kind == "max":
        return np.full((n, 2), P - 1, dtype=np.uint64)
    return vec.ext_random(n, np.random.default_rng(seed))


@pytest.mark.parametrize("kind", ["random", "max"])
@pytest.mark.parametrize("rows, cols", [(1, 2), (3, 300), (700, 5)])
def test_combine_rows(kind, rows, cols):
    mat, coeffs = _matrix(kind, rows, cols, rows), _ext(kind, rows, cols)
    out = np.empty((cols, 2), dtype=np.uint64)
    k.combine_rows(mat, coeffs, out)
    for c in range(cols):
        acc = (0, 0)
        for r in range(rows):
            m = _em((int(coeffs[r, 0]), int(coeffs[r, 1])), (int(mat[r, c]), 0))
            acc = ((acc[0] + m[0]) % P, (acc[1] + m[1]) % P)
        assert tuple(int(v) for v in out[c]) == acc


@pytest.mark.parametrize("kind", ["random", "max"])
@pytest.mark.parametrize("rows, cols, q", [(1, 1, 1), (5, 3000, 2), (9, 17, 4)])
def test_row_dots(kind, rows, cols, q):
    mat = _matrix(kind, rows, cols, cols)
    vecs = _matrix(kind, q, cols, q + 1)
    out = np.empty((q, rows), dtype=np.uint64)
    k.row_dots(mat, vecs, out)
    for i in range(q):
        for r in range(rows):
            assert int(out[i, r]) == sum(int(a) * int(b) for a, b in zip(vecs[i], mat[r])) % P


def test_coordinate_major_round_trip():
    e = vec.ext_random(12, np.random.default_rng(0)).reshape(3, 4, 2)
    cm = k.coordinate_major(e)
    assert cm.shape == (6, 4) and np.array_equal(cm[2], e[1, :, 0]) and np.array_equal(cm[3], e[1, :, 1])


def test_proximity_coefficients_are_canonical_and_bound_to_the_transcript():
    def draw(tag):
        t = Transcript()
        t.absorb_statement(tag, 1)
        return protocol.proximity_coefficients(t, 1000)

    a, b, c = draw("x"), draw("x"), draw("y")
    assert a.shape == (1000, 2) and int(a.max()) < P
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len({int(v) for v in a.reshape(-1)}) == 2000


def test_block_evaluation_equals_eq_table_reference():
    """The verifier's row evaluation folds only the block a small table sits
    in (leading 0/1 coordinates pick halves); it must equal the eq-table
    inner product for full points, block points, and a challenge that
    happens to be 0 or 1 deeper in the point."""
    from zkaudit.field.scalar import Fp2
    from zkaudit.pcs.verifier import _inner_with_row, _inner_with_row_reference

    rng = np.random.default_rng(5)
    row = vec.ext_random(1 << 6, rng)

    def rand():
        return Fp2(int(rng.integers(0, 2**62)) * 3, int(rng.integers(0, 2**62)) * 3)

    points = [[rand() for _ in range(6)],
              [Fp2(1), Fp2(0)] + [rand() for _ in range(4)],
              [Fp2(0)] * 6,
              [Fp2(1)] * 6,
              [Fp2(0), rand(), Fp2(1), rand(), rand(), rand()]]
    assert _inner_with_row(points, row) == _inner_with_row_reference(points, row)


@pytest.mark.parametrize("seed", range(4))
def test_eval_blocks_numpy_equals_the_kernel_on_mixed_sizes(seed):
    """eval_blocks' numpy path against the kernel: blocks of every size from
    1 to the whole row, aligned and unaligned starts, entries p - 1."""
    from zkaudit.field.constants import P
    from zkaudit.pcs import kernels as k

    rng = np.random.default_rng(seed)
    log_m = 8
    row = vec.ext_random(1 << log_m, rng)
    row[:3] = (P - 1, P - 1)
    logs = rng.integers(0, log_m + 1, size=40)
    starts = np.array([int(rng.integers(0, (1 << log_m) >> s)) << s for s in logs], dtype=np.int64)
    points = vec.ext_random(40 * log_m, rng).reshape(40, log_m, 2)
    points[0, :] = (P - 1, 0)
    for s_, l_ in ((starts, logs), (np.minimum(starts + 1, (1 << log_m) - (1 << logs)), logs)):  # aligned, then not
        want, got = np.empty((40, 2), np.uint64), np.empty((40, 2), np.uint64)
        k._eval_blocks(row, s_, l_, points, want)
        k.eval_blocks_numpy(row, s_, l_, points, got)
        assert np.array_equal(want, got)


@pytest.mark.parametrize("seed", range(3))
def test_eval_blocks_matrix_equals_its_reference(seed):
    """Every base row's blocks folded at their points: the parallel and
    serial kernels and the numpy path against `eval_blocks` row by row."""
    from zkaudit.field.constants import P
    from zkaudit.pcs import kernels as k

    rng = np.random.default_rng(40 + seed)
    log_m, rows, count = 7, 6, 30
    mat = vec.random(rows << log_m, rng).reshape(rows, 1 << log_m)
    mat[0, :5] = P - 1
    logs = rng.integers(0, 6, size=count)
    starts = np.array([int(rng.integers(0, (1 << log_m) >> s)) << s for s in logs], dtype=np.int64)
    points = vec.ext_random(count * log_m, rng).reshape(count, log_m, 2)
    points[1] = (P - 1, P - 1)
    want = np.empty((count, rows, 2), np.uint64)
    k.eval_blocks_matrix_reference(mat, starts, logs, points, want)
    for fn in (k._eval_blocks_matrix, k._eval_blocks_matrix_serial, k.eval_blocks_matrix_numpy, k.eval_blocks_matrix):
        got = np.zeros((count, rows, 2), np.uint64)
        fn(mat, starts, logs, points, got)
        assert np.array_equal(want, got), fn.__name__
