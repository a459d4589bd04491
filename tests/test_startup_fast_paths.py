"""The numpy paths that spare small jobs numba's start-up (field.npfield,
vec below SMALL, poly.mle.fold_numpy / eq_table_numpy, and every `name_numpy`
beside a kernel in pcs/kernels.py, pcs/ntt_kernels.py, layers/kernels.py,
sumcheck/kernels.py and sumcheck/kernels_prod2.py) against the naive
reference and the numba kernels: the same values, bit for bit. Also the
lazy `field.jit.njit`: importing the kernel modules loads no numba, and a
kernel built on first use calls, inlines and resolves its helpers."""

from __future__ import annotations

from pathlib import Path

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


def test_npfield_mul_small_scalars_and_broadcasts():
    """`mul_small` (the extension's W) and `mul` on a scalar operand and on
    broadcast shapes (it works in place on its products)."""
    a, b, _, _ = _operands(2)
    ai, bi = [int(x) for x in a], [int(x) for x in b]
    for c in (0, 1, 7, (1 << 32) - 1):
        assert [int(x) for x in nf.mul_small(a, c)] == [x * c % P for x in ai]
    with pytest.raises(ValueError):
        nf.mul_small(a, 1 << 32)
    assert [int(x) for x in nf.mul(a, np.uint64(P - 2))] == [x * (P - 2) % P for x in ai]
    assert int(nf.mul(np.array([P - 1], np.uint64), np.array([P - 1], np.uint64))[0]) == 1
    grid = nf.mul(a[:, None], b[None, :7])
    assert [[int(x) for x in row] for row in grid] == [[x * y % P for y in bi[:7]] for x in ai]
    assert [int(x) for x in a] == ai and [int(x) for x in b] == bi  # inputs untouched


@pytest.fixture
def numpy_paths(monkeypatch):
    """Every size takes the numpy path, as in a process without numba."""
    monkeypatch.setattr(jit, "use_kernel", lambda n, threshold, kernel=None: False)
    monkeypatch.setattr(jit, "is_loaded", lambda kernel: False)


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


@pytest.mark.parametrize("n", [0, 3, 14, 16])
def test_scaled_eq_table_is_the_scaled_table(n):
    """eq_table(point, scale) (the scale applied to the head before the
    doublings) equals scale times the unscaled table, entry by entry, on the
    numba path, the numpy path and against the naive reference scaling."""
    rng = np.random.default_rng(90 + n)
    point = [Fp2(int(x), int(y)) for x, y in vec.ext_random(n, rng)]
    plain = mle.eq_table_numpy(point)
    for s in (Fp2(int(rng.integers(1, 1 << 62)), int(rng.integers(1, 1 << 62))), Fp2(0), Fp2(1), Fp2(P - 1, 3)):
        want = reference.scale(s, plain)
        assert (mle.eq_table_numpy(point, s) == want).all()
        assert (mle.eq_table(point, scale=s) == want).all()


# ------------------------------------------------ kernels beside numpy paths

from zkaudit.layers import kernels as layer_kernels  # noqa: E402
from zkaudit.pcs import kernels as pcs_kernels  # noqa: E402
from zkaudit.pcs import ntt  # noqa: E402
from zkaudit.pcs import ntt_kernels  # noqa: E402
from zkaudit.sumcheck import kernels as sc_kernels  # noqa: E402
from zkaudit.sumcheck import kernels_prod2 as sc_prod2  # noqa: E402

U64 = np.uint64
R0, R1 = U64(77), U64((1 << 63) + 5)  # an extension challenge with a large coordinate


def _same(numpy_fn, kernel, *args, out_index=None):
    """Run both on copies of the arguments; the outputs (and results) agree."""
    a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    b = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    ra, rb = numpy_fn(*a), kernel(*b)
    if ra is not None or rb is not None:
        assert np.array_equal(np.asarray(ra, dtype=U64), np.asarray(rb, dtype=U64))
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y)


@pytest.mark.parametrize("rows,cols", [(1, 1), (7, 33), (16, 256)])
def test_pcs_combine_rows_and_row_dots(rows, cols):
    rng = np.random.default_rng(rows * cols)
    mat = vec.random(rows * cols, rng).reshape(rows, cols)
    mat[0, :] = P - 1  # the largest entries: the 32-bit halves' sums at their worst
    coeffs = vec.ext_random(rows, rng)
    _same(pcs_kernels.combine_rows_numpy, pcs_kernels._combine_rows, mat, coeffs, np.empty((cols, 2), U64))
    vecs = vec.random(3 * cols, rng).reshape(3, cols)
    _same(pcs_kernels.row_dots_numpy, pcs_kernels._row_dots, mat, vecs, np.empty((3, rows), U64))


def test_pcs_eval_blocks_and_batching_tables():
    rng = np.random.default_rng(11)
    row = vec.ext_random(64, rng)
    starts, logs = np.array([0, 16, 32, 40, 48, 63]), np.array([4, 4, 3, 3, 4, 0])
    points = vec.ext_random(6 * 4, rng).reshape(6, 4, 2)
    _same(pcs_kernels.eval_blocks_numpy, pcs_kernels._eval_blocks, row, starts, logs, points, np.empty((6, 2), U64))
    stack = vec.ext_random(6 * 16, rng).reshape(6, 16, 2)
    _same(pcs_kernels.pair_round_evals_numpy, pcs_kernels._pair_round_evals, stack, vec.ext_random(3, rng),
          np.empty((3, 2), U64))
    _same(pcs_kernels.fold_tables_numpy, pcs_kernels._fold_tables, stack, R0, R1, np.empty((6, 8, 2), U64))


@pytest.mark.parametrize("log_n", [0, 1, 3, 6])
def test_ntt_rows_numpy_match_kernels(log_n):
    rng = np.random.default_rng(log_n)
    n = 1 << log_n
    x = vec.random(3 * n, rng).reshape(3, n)
    _same(ntt_kernels.dif_rows_numpy, ntt_kernels._dif_rows, x, ntt.twiddles(log_n))
    _same(ntt_kernels.dit_rows_numpy, ntt_kernels._dit_rows, x, ntt.twiddles(log_n, inverse=True))
    _same(ntt_kernels.bit_reverse_rows_numpy, ntt_kernels._bit_reverse_rows, x, ntt.bit_reversal(log_n),
          np.empty_like(x))
    _same(ntt_kernels.scale_rows_numpy, ntt_kernels._scale_rows, x, vec.random(n, rng))
    for count in (0, 1, 3, n + 5):
        _same(ntt_kernels.powers_numpy, ntt_kernels._powers, U64(123456789123), count, np.zeros(count, U64))


def test_ntt_numpy_on_a_strided_view_writes_through():
    x = vec.random(64, np.random.default_rng(2)).reshape(8, 8)
    a, b = x.copy(), x.copy()
    ntt_kernels.dif_rows_numpy(a[:, :4], ntt.twiddles(2))
    ntt_kernels._dif_rows(b[:, :4], ntt.twiddles(2))
    assert np.array_equal(a, b) and not np.array_equal(a, x)


@pytest.mark.parametrize("log_m,log_blowup,rows", [(0, 1, 3), (2, 1, 5), (4, 2, 9)])
def test_encoders_numpy_match_kernels(log_m, log_blowup, rows):
    rng = np.random.default_rng(log_m + 10 * rows)
    m = 1 << log_m
    msg = vec.random(rows * m, rng).reshape(rows, m)
    sp = ntt.coset_shift_powers(log_m, log_blowup)
    _same(ntt_kernels.encode_rows_transposed_numpy, ntt_kernels._encode_rows_transposed, msg, sp,
          ntt.twiddles(log_m), np.zeros((m << log_blowup, rows), U64), 32)
    for pad in sorted({0, 1, m}):
        padded = vec.random(rows * (m + pad), rng).reshape(rows, m + pad)
        pad_sp = vec.random((1 << log_blowup) * pad, rng).reshape(1 << log_blowup, pad)
        _same(ntt_kernels.encode_padded_rows_transposed_numpy, ntt_kernels._encode_padded_rows_transposed, padded,
              m, sp, pad_sp, ntt.twiddles(log_m), np.zeros((m << log_blowup, rows + 2), U64), 4)
        _same(ntt_kernels.encode_padded_rows_numpy, ntt_kernels._encode_padded_rows, padded, m, sp, pad_sp,
              ntt.twiddles(log_m), np.zeros((rows, m << log_blowup), U64))


@pytest.mark.parametrize("m,k", [(1, 1), (5, 3), (32, 16)])
def test_layer_contractions(m, k):
    rng = np.random.default_rng(m + k)
    a = vec.random(m * k, rng).reshape(m, k)
    _same(layer_kernels.vec_mat_numpy, layer_kernels._vec_mat, vec.ext_random(m, rng), a, np.empty((k, 2), U64))
    _same(layer_kernels.mat_vec_numpy, layer_kernels._mat_vec, a, vec.ext_random(k, rng), np.empty((m, 2), U64))


def test_layer_wiring_sums_with_collisions():
    rng = np.random.default_rng(7)
    n, size = 50, 12  # 50 cells onto 12 sources: many collide
    eq_r, eq_s = vec.ext_random(n, rng), vec.ext_random(size, rng)
    src_id = rng.integers(-2, 3, n).astype(np.int64)
    src_idx = rng.integers(0, size, n).astype(np.int64)
    for which in (-2, -1, 0, 1, 2, 7):
        _same(layer_kernels.wiring_table_numpy, layer_kernels._wiring_table, eq_r, src_id, src_idx, which, size,
              np.ones((size, 2), U64))
        _same(layer_kernels.wiring_eval_numpy, layer_kernels._wiring_eval, eq_r, eq_s, src_id, src_idx, which)
        _same(layer_kernels.masked_eq_sum_numpy, layer_kernels._masked_eq_sum, eq_r, src_id, which)


@pytest.mark.parametrize("n", [2, 4, 32])
def test_sumcheck_rounds_and_folds(n):
    rng = np.random.default_rng(n)
    ptr, idx = np.array([0, 1, 3, 6], np.int64), np.array([2, 0, 1, 0, 1, 2], np.int64)  # f2 + f0 f1 + f0 f1 f2
    base, ext = vec.random(3 * n, rng).reshape(3, n), vec.ext_random(3 * n, rng).reshape(3, n, 2)
    for degree in (1, 3):
        _same(sc_kernels.round_evals_base_numpy, sc_kernels._round_evals_base, base, ptr, idx, degree)
        _same(sc_kernels.round_evals_ext_numpy, sc_kernels._round_evals_ext, ext, ptr, idx, degree)
    folded = np.empty((3, n // 2, 2), U64)
    _same(sc_kernels.fold_stack_base_numpy, sc_kernels._fold_stack_base, base, R0, R1, folded)
    _same(sc_kernels.fold_stack_ext_numpy, sc_kernels._fold_stack_ext, ext, R0, R1, folded)
    half = np.empty((n // 2, 2), U64)
    for f, g in ((base[0], base[1]), (ext[0], ext[1])):
        first = (sc_prod2.round_base_numpy, sc_prod2._round_base) if f.ndim == 1 else \
            (sc_prod2.round_ext_numpy, sc_prod2._round_ext)
        _same(*first, f, g)
        fold = (sc_prod2.fold_round_base_numpy, sc_prod2._fold_round_base) if f.ndim == 1 else \
            (sc_prod2.fold_round_ext_numpy, sc_prod2._fold_round_ext)
        _same(*fold, f, g, R0, R1, half, half)


def test_dispatch_takes_numpy_while_the_kernel_is_unloaded_then_the_kernel(monkeypatch):
    """Below the threshold the numpy path runs until the kernel is loaded,
    then the kernel; both give the values of the Python-int reference."""
    real = layer_kernels.vec_mat_numpy
    calls = []
    monkeypatch.setattr(layer_kernels, "vec_mat_numpy", lambda *a: calls.append("numpy") or real(*a))
    rng = np.random.default_rng(3)
    e, a = vec.ext_random(4, rng), vec.random(12, rng).reshape(4, 3)
    want = [[sum(int(e[m, c]) * int(a[m, k]) for m in range(4)) % P for c in range(2)] for k in range(3)]
    out = np.empty((3, 2), U64)
    kernel = layer_kernels._vec_mat
    if not jit.is_loaded(kernel):  # (an earlier test may have loaded it)
        layer_kernels.vec_mat(e, a, out)
        assert calls == ["numpy"] and out.tolist() == want
    kernel(e, a, np.empty((3, 2), U64))  # loads it
    assert jit.is_loaded(kernel)
    calls.clear()
    out[:] = 0
    layer_kernels.vec_mat(e, a, out)
    assert calls == [] and out.tolist() == want


# ------------------------------------------------ the lazy njit

_IMPORT_KERNELS = """
import sys
from zkaudit.pcs import kernels, ntt_kernels, verifier
from zkaudit.layers import kernels as lk
from zkaudit.sumcheck import kernels as sk, kernels_prod2
assert "numba" not in sys.modules, "importing the kernel modules imported numba"
import numpy as np
from zkaudit.field import vec
mat, vecs = vec.random(8 * 4).reshape(8, 4), vec.random(2 * 4).reshape(2, 4)
out = np.empty((2, 8), np.uint64)
kernels.row_dots(mat, vecs, out)  # small: the numpy path
assert "numba" not in sys.modules, "a small row_dots imported numba"
print("ok")
"""


def test_importing_kernel_modules_and_small_calls_load_no_numba():
    import subprocess
    import sys
    from pathlib import Path

    run = subprocess.run([sys.executable, "-c", _IMPORT_KERNELS], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_lazy_kernel_resolves_helpers_and_replaces_itself():
    from zkaudit.field.jit import Kernel

    # A kernel module's globals: the kernel and its helpers are stand-ins
    # until the kernel is first used; then they are numba dispatchers.
    assert isinstance(ntt_kernels.__dict__["_dif_rows"], Kernel) or jit.is_loaded(ntt_kernels._dif_rows)
    x = vec.random(4 * 8).reshape(4, 8)
    y = x.copy()
    ntt_kernels._dif_rows(x, ntt.twiddles(3))
    nb = jit.numba()
    from numba.core.dispatcher import Dispatcher

    assert isinstance(ntt_kernels.__dict__["_dif_rows"], Dispatcher)
    assert isinstance(ntt_kernels.__dict__["bmul"], Dispatcher)  # an `imported` helper, resolved
    assert ntt_kernels.__dict__["prange"] is nb.prange
    ntt_kernels.dif_rows_numpy(y, ntt.twiddles(3))
    assert np.array_equal(x, y)


from zkaudit.field.jit import Imported, Kernel, prange  # noqa: E402
from zkaudit.field.jit import njit as lazy_njit  # noqa: E402


@lazy_njit(cache=False)
def _twice_sum(a):
    s = 0
    for i in prange(a.shape[0]):
        s += 2 * a[i]
    return s


def test_kernel_runs_as_python_before_numba():
    """A Kernel's py_func with the `imported` and `prange` stand-ins runs as
    plain Python (what NUMBA_DISABLE_JIT would run); called, it is built."""
    kernel = globals()["_twice_sum"]
    if isinstance(kernel, Kernel):
        assert kernel.py_func(np.arange(5)) == 20
    assert _twice_sum(np.arange(5)) == 20  # built by numba
    assert globals()["prange"] is jit.numba().prange  # resolved in this module's globals
    ref = Imported("zkaudit.field.npfield", "add")
    assert int(ref(np.array([P - 1], U64), np.array([2], U64))[0]) == 1


def test_cold_policy_spends_a_budget_then_starts_numba(monkeypatch):
    """While numba is not started, mid-sized jobs take numpy until they add
    up to COLD_BUDGET elements; small jobs always; big jobs never."""
    monkeypatch.setattr(jit, "warm", lambda: False)
    monkeypatch.setattr(jit, "_cold_work", 0)
    small, mid = jit.COLD_BELOW // 64, jit.COLD_BELOW // 2
    assert not jit.use_kernel(small, small + 1, kernel=object())
    assert jit.use_kernel(jit.COLD_BELOW, small, kernel=object())
    taken = 0
    while not jit.use_kernel(mid, small, kernel=object()):
        taken += mid
        assert taken <= jit.COLD_BUDGET
    assert taken > jit.COLD_BUDGET - mid
    assert not jit.use_kernel(small, small + 1, kernel=object())  # below the threshold: still numpy


def test_planned_work_decides_the_path_up_front(monkeypatch):
    """Inside `planned(work)`, while numba is not started: below
    PLAN_KERNELS_FROM every job takes numpy (no budget spent), from it every
    job past its threshold takes the kernel; blocks nest and restore; a
    loaded kernel is used in any plan."""
    monkeypatch.setattr(jit, "warm", lambda: False)
    monkeypatch.setattr(jit, "_cold_work", 0)
    small, huge = jit.COLD_BELOW // 64, jit.COLD_BELOW * 64
    with jit.planned(jit.PLAN_KERNELS_FROM - 1):
        assert not jit.use_kernel(huge, small, kernel=object())
        assert not jit.use_kernel(huge, small)
        with jit.planned(jit.PLAN_KERNELS_FROM):
            assert jit.use_kernel(small, small, kernel=object())
            assert not jit.use_kernel(small - 1, small, kernel=object())
        assert not jit.use_kernel(huge, small, kernel=object())
    assert jit._cold_work == 0
    assert jit.use_kernel(huge, small, kernel=object())  # outside: the online policy again
    monkeypatch.setattr(jit, "is_loaded", lambda kernel: True)
    with jit.planned(0):
        assert jit.use_kernel(1, small, kernel=object())


def test_planned_verification_equals_the_default_policy(tmp_path, monkeypatch):
    """A zoo proof verifies the same under either plan (numpy paths
    throughout, or kernels from each threshold): only speed depends on it."""
    import zkaudit

    src = Path(__file__).resolve().parents[1] / "circuits" / "logistic_risk"
    zkaudit.compile(src / "model.onnx", tmp_path / "model", calibration=src / "calibration.npy")
    zkaudit.prove(tmp_path / "model", src / "input.json", out=tmp_path / "proof.zkp")
    verdicts = []
    for kernels_from in (1 << 62, 1):
        monkeypatch.setattr(jit, "PLAN_KERNELS_FROM", kernels_from)
        verdicts.append(zkaudit.verify(tmp_path / "proof.zkp", circuit=tmp_path / "model"))
    assert verdicts[0].valid and verdicts[1].valid
    assert verdicts[0].output == verdicts[1].output
