"""`wiring_eval`'s parallel chunked kernel equals the serial kernel and the
numpy reference (sizes below, at and past the chunk count)."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import vec
from zkaudit.layers import kernels


@pytest.mark.parametrize("n", [1, 63, 64, 1000, 4097])
def test_parallel_equals_serial_and_numpy(n):
    rng = np.random.default_rng(n)
    size = 37
    eq_r, eq_s = vec.ext_random(n, rng), vec.ext_random(size, rng)
    src_id = rng.integers(-1, 3, size=n).astype(np.int64)
    src_idx = rng.integers(0, size, size=n).astype(np.int64)
    for which in (0, 2):
        out = np.empty((kernels.GATHER_CHUNKS, 2), dtype=np.uint64)
        kernels._wiring_eval_parallel(eq_r, eq_s, src_id, src_idx, which, out)
        parallel = kernels.nf.ext_sum(out)
        serial = tuple(int(v) for v in kernels._wiring_eval(eq_r, eq_s, src_id, src_idx, which))
        ref = tuple(int(v) for v in kernels.wiring_eval_numpy(eq_r, eq_s, src_id, src_idx, which))
        assert parallel == serial == ref


def test_dispatch_takes_the_parallel_kernel_for_big_jobs(monkeypatch):
    monkeypatch.setattr(kernels, "WIRING_PARALLEL_FROM", 16)
    rng = np.random.default_rng(1)
    eq_r, eq_s = vec.ext_random(100, rng), vec.ext_random(10, rng)
    src_id = np.zeros(100, dtype=np.int64)
    src_idx = rng.integers(0, 10, size=100).astype(np.int64)
    got = tuple(int(v) for v in kernels.wiring_eval(eq_r, eq_s, src_id, src_idx, 0))
    assert got == tuple(int(v) for v in kernels.wiring_eval_numpy(eq_r, eq_s, src_id, src_idx, 0))


@pytest.mark.parametrize("ny, nx", [(0, 0), (1, 3), (6, 5), (9, 10)])
@pytest.mark.parametrize("numba", [False, True])
def test_split_wiring_eval_equals_the_tables(ny, nx, numba, monkeypatch):
    """eq(r, .) and eq(s, .) from half tables, summed by runs of one pair of
    high halves, against wiring_eval on the full tables (a monotone map, as
    a reshape's, and a shuffled one)."""
    from zkaudit.field import jit
    from zkaudit.field.scalar import Fp2
    from zkaudit.poly.mle import eq_table

    monkeypatch.setattr(jit, "use_kernel", lambda *a, **k: numba)
    rng = np.random.default_rng(ny * 31 + nx)
    r = [Fp2(int(a), int(b)) for a, b in vec.ext_random(ny, rng)]
    s = [Fp2(int(a), int(b)) for a, b in vec.ext_random(nx, rng)]
    n = 1 << ny
    src_id = rng.integers(-2, 2, size=n).astype(np.int64)
    for src_idx in (np.sort(rng.integers(0, 1 << nx, size=n)), rng.integers(0, 1 << nx, size=n)):
        src_idx = src_idx.astype(np.int64)
        for which in (0, 1):
            got = tuple(int(v) for v in kernels.split_wiring_eval(r, s, src_id, src_idx, which))
            want = kernels.wiring_eval_numpy(eq_table(r), eq_table(s), src_id, src_idx, which)
            assert got == tuple(int(v) for v in want)
