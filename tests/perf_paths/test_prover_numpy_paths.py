"""The prover's numpy paths (lookup/kernels.py, hash/kernels.py,
hash/gkr_kernels.py) and npfield's small-array products on Python ints,
each held to the numba kernel it stands in for: the same values, bit for
bit, on random inputs with edge values and at edge sizes (empty, one, just
below and above a path's size switch). Also the lazy kernel modules (no
numba on import) and `jit.num_threads` without numba."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.field import P, jit, vec
from zkaudit.field import npfield as nf
from zkaudit.hash import gkr_kernels
from zkaudit.hash import kernels as hk
from zkaudit.hash import reference as href
from zkaudit.hash.params import LEAF_TAG
from zkaudit.lookup import kernels as lk

U64 = np.uint64
ROOT = Path(__file__).resolve().parents[2]
EDGE = np.array([0, 1, 2, P - 1, P - 2, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, 1 << 63, P // 2, P // 2 + 1,
                 (1 << 64) - (1 << 33)], dtype=U64)


def _elements(shape, rng) -> np.ndarray:
    """Random canonical elements of `shape`, the edge values cycled in first."""
    a = vec.random(int(np.prod(shape)), rng)
    k = min(a.size, EDGE.size)
    a[:k] = EDGE[rng.permutation(EDGE.size)[:k]]
    return a.reshape(shape)


def _same(numpy_fn, kernel, *args):
    """Run both on copies of the arguments; results and written arrays agree."""
    a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    b = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    ra, rb = numpy_fn(*a), kernel(*b)
    assert (ra is None) == (rb is None)
    if ra is not None:
        assert np.array_equal(np.asarray(ra, dtype=U64), np.asarray(rb, dtype=U64))
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y)


# ------------------------------------------------------------ npfield


# the uint64 formulas wrap on purpose; numpy warns when an operand is 0-d
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("shape_a,shape_b", [((0,), (0,)), ((1,), (1,)), ((7,), ()), ((20,), (20,)), ((1,), (3,)),
                                             ((nf.INTS_UP_TO,), (1,)),
                                             ((nf.INTS_UP_TO + 1,), (nf.INTS_UP_TO + 1,)), ((5, 1), (1, 9)),
                                             ((16, 16), (16, 1)), ((), ())])
def test_small_products_on_ints_equal_the_uint64_formulas(shape_a, shape_b, monkeypatch):
    rng = np.random.default_rng(sum(shape_a) + 3 * sum(shape_b))
    a, b = _elements(shape_a, rng), _elements(shape_b, rng)
    got, want = nf.mul(a, b), nf._mul_u64(a, b)
    assert np.shape(got) == np.shape(want) and np.array_equal(got, want)
    assert isinstance(got, np.ndarray) == isinstance(want, np.ndarray)  # 0-d: a scalar either way
    ai, bi = np.broadcast_arrays(a.astype(object), b.astype(object))
    assert [int(x) for x in np.ravel(got)] == [x * y % P for x, y in zip(ai.ravel(), bi.ravel())]
    ea, eb = _elements(shape_a + (2,), rng), _elements(shape_b + (2,), rng)
    shape = np.broadcast_shapes(ea.shape, eb.shape)
    ints = nf._ext_mul_ints(ea, eb, shape)
    assert np.array_equal(ints, nf.ext_mul(ea, eb))
    monkeypatch.setattr(nf, "INTS_UP_TO", -1)  # every product on the uint64 formulas
    assert np.array_equal(ints, nf.ext_mul(ea, eb))


# ------------------------------------------------------------ lookup GKR


# GKR layers are powers of two: 2 INTS_UP_TO, 4 INTS_UP_TO and 8 INTS_UP_TO
# entries put the round, then the fold, past the Python-int paths
@pytest.mark.parametrize("n", [1, 2, 4, 8, 2 * lk.INTS_UP_TO, 4 * lk.INTS_UP_TO, 8 * lk.INTS_UP_TO,
                               2 * lk.SERIAL_PAIRS, 4 * lk.SERIAL_PAIRS])
def test_lookup_numpy_paths_equal_the_kernels(n):
    assert n & (n - 1) == 0
    rng = np.random.default_rng(n)
    p, q = _elements((n, 2), rng), _elements((n, 2), rng)
    h = n // 2
    _same(lk.layer_up_numpy, lk._layer_up, p, q, np.empty((h, 2), U64), np.empty((h, 2), U64))
    for width in (0, 1, 3):
        cols, coeffs = _elements((width, n), rng), _elements((width, 2), rng)
        k0, k1 = _elements((2,), rng)
        _same(lk.leaf_denominators_numpy, lk._leaf_denominators, cols, coeffs, k0, k1, np.empty((n, 2), U64))
    stack = _elements((4, n, 2), rng)
    lam0, lam1 = _elements((2,), rng)
    r0, r1 = _elements((2,), rng)
    eqs = _elements((max(h, 1), 2), rng)
    for kernel in (lk._layer_round_serial, lk._layer_round_parallel):
        _same(lk.layer_round_numpy, kernel, stack, eqs, lam0, lam1)
    if h:
        next_eqs = _elements((max(h // 2, 1), 2), rng) if h > 1 else np.zeros((1, 2), U64)
        # (the parallel kernel runs from SERIAL_PAIRS pairs on; it folds nothing when h = 1)
        for kernel in (lk._layer_fold_round_serial, lk._layer_fold_round_parallel)[: 1 + (h > 1)]:
            _same(lk.layer_fold_round_numpy, kernel, stack, r0, r1, next_eqs, lam0, lam1, np.empty((4, h, 2), U64))


def test_lookup_dispatch_reads_a_layer_in_place():
    """The fused sum-check reads a layer where it lies (`gkr.halves`: a strided
    view) and folds out of a bigger stack: both paths take such views."""
    rng = np.random.default_rng(5)
    pq = _elements((2, 16, 2), rng)
    view = np.lib.stride_tricks.as_strided(pq[0], shape=(4, 8, 2), strides=(8 * 16, 16, 8))
    eqs, lam = _elements((4, 2), rng), _elements((2,), rng)
    want = lk._layer_round_serial(np.ascontiguousarray(view), eqs, *lam)
    assert np.array_equal(lk.layer_round_numpy(view, eqs, *lam), want)
    assert np.array_equal(lk._layer_round_serial(view, eqs, *lam), want)


# ------------------------------------------------------------ Poseidon2


@pytest.mark.parametrize("n", [0, 1, 3, hk.INTS_BELOW - 1, hk.INTS_BELOW, hk.INTS_BELOW + 9])
def test_poseidon2_numpy_paths_equal_the_kernels(n):
    rng = np.random.default_rng(n + 100)
    states = _elements((n, 8), rng)
    rc = (hk.RC_EXTERNAL, hk.RC_INTERNAL)
    _same(hk.permute_rows_numpy, hk._permute_rows, states, np.empty_like(states), *rc)
    _same(hk.compress_rows_numpy, hk._compress_rows, states, np.empty((n, 4), U64), *rc)
    blocks = np.ascontiguousarray(states[:, :7])
    _same(hk.hash_leaf_rows_numpy, hk._hash_leaf_rows, blocks, U64(LEAF_TAG), np.empty((n, 4), U64), *rc)
    _same(hk.trace_rows_numpy, hk._trace_rows, states, np.empty((31, 8, n), U64), *rc)
    # both numpy forms, whichever the size picks
    for form in (hk._permute_ints, hk._permute_lanes_numpy):
        trace = np.empty((31, 8, n), U64)
        out = form(states.T, *rc, trace)
        assert np.array_equal(out, trace[-1])
        assert [list(map(int, col)) for col in out.T] == [href.permute(list(map(int, s))) for s in states]


def test_permute_rows_numpy_may_write_over_its_input():
    states = _elements((5, 8), np.random.default_rng(9))
    want = np.array([href.permute(list(map(int, s))) for s in states], dtype=U64)
    hk.permute_rows_numpy(states, states, hk.RC_EXTERNAL, hk.RC_INTERNAL)
    assert np.array_equal(states, want)


@pytest.mark.parametrize("n", [1, 2, 4, 16, 4 * gkr_kernels.SERIAL_PAIRS])
def test_poseidon2_gkr_round_numpy_equals_the_kernels(n):
    rng = np.random.default_rng(n + 7)
    base, ext = _elements((8, n), rng), _elements((8, n, 2), rng)
    eqs = _elements((max(n // 2, 1), 2), rng)
    m = _elements((8, 2), rng)
    for lanes, kernels in ((base, (gkr_kernels._round_serial_base, gkr_kernels._round_parallel_base)),
                           (ext, (gkr_kernels._round_serial_ext, gkr_kernels._round_parallel_ext))):
        for full in (True, False):
            for kernel in kernels:
                _same(gkr_kernels.round_evals_numpy, kernel, lanes, eqs, m, full)


# ------------------------------------------------------------ lazy imports


_NO_NUMBA = """
import sys
import numpy as np
from zkaudit.field import jit
from zkaudit.lookup import kernels as lk, gkr
from zkaudit.hash import kernels as hk, gkr_kernels, poseidon2, merkle
assert "numba" not in sys.modules, "importing the kernel modules imported numba"
threads = jit.num_threads()
p = np.arange(16, dtype=np.uint64).reshape(8, 2)
layers = gkr.build_layers(p, p + np.uint64(1))  # small: numpy
digest = poseidon2.hash_leaves(np.arange(14, dtype=np.uint64).reshape(2, 7))
assert "numba" not in sys.modules, "a small job imported numba"
import numba
assert threads == numba.get_num_threads() == jit.num_threads(), (threads, numba.get_num_threads())
print("ok")
"""


@pytest.mark.parametrize("threads", [None, "1", "3"])
def test_kernel_modules_and_small_jobs_load_no_numba(threads):
    import os

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = threads
    run = subprocess.run([sys.executable, "-c", _NO_NUMBA], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_dispatch_follows_the_policy(monkeypatch):
    """Below the threshold the numpy path runs while the kernel is unloaded;
    a loaded kernel runs at every size."""
    calls = []
    real = lk.layer_up_numpy
    monkeypatch.setattr(lk, "layer_up_numpy", lambda *a: calls.append("numpy") or real(*a))
    rng = np.random.default_rng(1)
    p, q = _elements((8, 2), rng), _elements((8, 2), rng)
    want = (np.empty((4, 2), U64), np.empty((4, 2), U64))
    href_up = __import__("zkaudit.lookup.reference", fromlist=["layer_up"]).layer_up
    href_up(p, q, *want)
    monkeypatch.setattr(jit, "is_loaded", lambda kernel: False)
    monkeypatch.setattr(jit, "warm", lambda: False)
    got = (np.empty((4, 2), U64), np.empty((4, 2), U64))
    lk.layer_up(p, q, *got)
    assert calls == ["numpy"] and all(np.array_equal(x, y) for x, y in zip(got, want))
    monkeypatch.setattr(jit, "is_loaded", lambda kernel: True)
    calls.clear()
    lk.layer_up(p, q, *got)
    assert calls == [] and all(np.array_equal(x, y) for x, y in zip(got, want))


# ------------------------------------------------------------ vec's kernel arguments


def test_vec_passes_kernels_one_array_type(monkeypatch):
    """Read-only, unaligned or strided operands and outputs reach the kernels
    as C-contiguous, aligned, writeable arrays (numba would compile and cache
    another signature of each kernel for each other kind), and the results
    are the reference's, written through to a strided `out`."""
    from zkaudit.field import reference, vec
    from zkaudit.field.scalar import Fp2

    seen = []

    class Recorder:
        def __getattr__(self, name):
            from zkaudit.field import kernels

            def call(*args):
                seen.extend((name, a.flags.c_contiguous, a.flags.aligned, a.flags.writeable)
                            for a in args if isinstance(a, np.ndarray))
                return getattr(kernels, name)(*args)
            return call

    monkeypatch.setattr(vec, "k", Recorder())
    monkeypatch.setattr(vec, "_numpy", lambda n, *names: False)  # every size on the kernels
    rng = np.random.default_rng(4)
    a, b = _elements((40,), rng), _elements((40,), rng)
    ea = _elements((40, 2), rng)
    ro_a, ro_b, ro_e = a.copy(), b.copy(), ea.copy()
    for x in (ro_a, ro_b, ro_e):
        x.flags.writeable = False
    raw = np.empty(8 * 40 + 1, np.uint8)[1:].view(U64)  # an unaligned array
    raw[:] = b
    assert not raw.flags.aligned
    assert np.array_equal(vec.add(ro_a, raw), reference.add(a, b))
    assert np.array_equal(vec.sub(ro_e, ro_b), reference.sub(ea, b))
    assert np.array_equal(vec.mul(ro_e, ro_a), reference.mul(ea, a))
    assert np.array_equal(vec.neg(ro_a), reference.neg(a))
    assert np.array_equal(vec.fma(ro_a, raw, ro_b), reference.fma(a, b, b))
    assert np.array_equal(vec.scale(Fp2(3, 4), ro_a), reference.mul(vec.lift(a), np.tile(U64([3, 4]), (40, 1))))
    assert np.array_equal(vec.scale(7, ro_a), reference.mul(a, np.full(40, 7, U64)))
    assert vec.sum(ro_e) == vec.sum(ea) and vec.inner(ro_a, raw) == vec.inner(a, b)
    strided = np.zeros((40, 2), U64)[:, 0]  # not contiguous: the kernel writes a fresh array, copied in
    assert vec.mul(ro_a, ro_b, out=strided) is strided and np.array_equal(strided, reference.mul(a, b))
    ints = np.arange(-20, 20, dtype=np.int64)
    ints.flags.writeable = False
    assert np.array_equal(vec.from_int64(ints), vec.from_ints(range(-20, 20)))
    assert seen and all(c and al and w for _, c, al, w in seen), [s for s in seen if not all(s[1:])]


# ------------------------------------------------------------ whole proofs


def test_a_proof_is_the_same_bytes_on_numpy_paths_and_on_kernels(tmp_path, monkeypatch):
    """With the prover's randomness fixed (os.urandom, its one source, seeded
    for the test), the logistic model's proof made with every dispatcher on
    its numpy path and made with every one on its kernel are the same bytes."""
    import os
    import random

    import zkaudit

    src = ROOT / "circuits" / "logistic_risk"
    zkaudit.compile(src / "model.onnx", tmp_path / "model", calibration=src / "calibration.npy")
    zkaudit.prove(tmp_path / "model", src / "input.json")  # the bank sizes are remembered from here on
    # numba draws 32 bytes from os.urandom when its parallel thread pool
    # starts (seen with NUMBA_NUM_THREADS=2, as on CI's two cores): a run on
    # kernels starts it first, so the seeded runs below see the prover's
    # draws only
    monkeypatch.setattr(jit, "use_kernel", lambda n, threshold, kernel=None: True)
    zkaudit.prove(tmp_path / "model", src / "input.json")
    proofs = []
    for kernels in (False, True):
        stream = random.Random(20261206)
        monkeypatch.setattr(os, "urandom", stream.randbytes)
        monkeypatch.setattr(jit, "use_kernel", lambda n, threshold, kernel=None, on=kernels: on)
        proofs.append(bytes(zkaudit.prove(tmp_path / "model", src / "input.json").proof))
    monkeypatch.undo()
    assert proofs[0] == proofs[1]
    assert zkaudit.verify(proofs[0], circuit=tmp_path / "model").valid


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("shape,axis", [((0,), 0), ((1,), 0), ((12, 2), 0), ((4, 16, 2), 1), ((4, 16, 2), -1),
                                        ((nf.SUM_INTS_UP_TO,), 0), ((nf.SUM_INTS_UP_TO + 1,), 0), ((3, 0, 2), 1)])
def test_small_sums_on_ints_equal_the_uint64_halves(shape, axis, monkeypatch):
    a = _elements(shape, np.random.default_rng(len(shape) + sum(shape)))
    a.reshape(-1)[: min(a.size, 40)] = P - 1  # the halves' sums at their largest
    got = nf.sum_axis(a, axis)
    assert np.array_equal(got, np.asarray(a.astype(object).sum(axis=axis) % P, dtype=U64))
    monkeypatch.setattr(nf, "SUM_INTS_UP_TO", -1)
    want = nf.sum_axis(a, axis)
    assert np.shape(got) == np.shape(want) and np.array_equal(got, want)
    assert isinstance(got, np.ndarray) == isinstance(want, np.ndarray)


# ------------------------------------------------------------ sum-check rounds


@pytest.mark.parametrize("n", [2, 4, 32])
@pytest.mark.parametrize("gather", [True, False])
def test_sumcheck_round_numpy_equals_the_kernels(n, gather, monkeypatch):
    """Terms grouped by factor count (and, past GATHER_UP_TO, term by term)
    give the kernels' values; the terms' factor counts 1 to 4, in any order."""
    from zkaudit.sumcheck import kernels as sk

    if not gather:
        monkeypatch.setattr(sk, "GATHER_UP_TO", 0)
    rng = np.random.default_rng(n + gather)
    factors = [[2], [0, 1], [3, 1, 0], [4], [1, 2, 3, 4], [0, 4], [2, 2, 2]]
    ptr = np.cumsum([0] + [len(f) for f in factors]).astype(np.int64)
    idx = np.array([i for f in factors for i in f], dtype=np.int64)
    base, ext = _elements((5, n), rng), _elements((5, n, 2), rng)
    for degree in (1, 2, 5):
        _same(sk.round_evals_base_numpy, sk._round_evals_base, base, ptr, idx, degree)
        _same(sk.round_evals_ext_numpy, sk._round_evals_ext, ext, ptr, idx, degree)


@pytest.mark.parametrize("form", ["ints", "at once", "per vector"])
@pytest.mark.parametrize("rows,cols,k", [(1, 1, 1), (12, 2, 2), (12, 32, 4), (5, 300, 3)])
def test_pcs_row_dots_numpy_equals_the_kernel(rows, cols, k, form, monkeypatch):
    from zkaudit.pcs import kernels as pk

    monkeypatch.setattr(pk, "ROW_DOTS_INTS_UP_TO", 1 << 30 if form == "ints" else 0)
    if form == "per vector":
        monkeypatch.setattr(pk, "ROW_DOTS_AT_ONCE", 0)
    rng = np.random.default_rng(rows * cols + k)
    mat, vecs = _elements((rows, cols), rng), _elements((k, cols), rng)
    mat[0] = P - 1
    _same(pk.row_dots_numpy, pk._row_dots, mat, vecs, np.empty((k, rows), U64))
    _same(pk.row_dots_numpy, pk._row_dots, mat[:, : cols // 2 + 1], vecs[:, : cols // 2 + 1], np.empty((k, rows), U64))


def test_small_jobs_load_their_kernel_once_they_add_up_after_numba_started(monkeypatch):
    """With numba started, a kernel's small jobs take numpy until they add up
    to its threshold (each counting at least CALL_WORK), then the kernel; a
    job without a kernel (vec's) never counts; before numba starts, small
    jobs take numpy however many there are."""
    kernel, other = jit.Kernel(lambda: None, {}), jit.Kernel(lambda: None, {})
    threshold = 16 * jit.CALL_WORK
    monkeypatch.setattr(jit, "_warm_work", {})
    monkeypatch.setattr(jit, "warm", lambda: False)
    assert not any(jit.use_kernel(1, threshold, kernel) for _ in range(1000))
    monkeypatch.setattr(jit, "warm", lambda: True)
    decisions = [jit.use_kernel(3, threshold, kernel) for _ in range(16)]
    assert decisions == [False] * 15 + [True]
    assert not jit.use_kernel(threshold - 1, threshold, other)  # counted per kernel
    assert jit.use_kernel(threshold, threshold, other)
    unloaded = object()  # vec's stand-in for "some kernel, none loaded"
    assert not any(jit.use_kernel(1, threshold, unloaded) for _ in range(100))


_PROVE_CLI = """
import contextlib, io, sys
from zkaudit.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(sys.argv[1:])
print("RESULT", rc, "numba" in sys.modules)
"""


def test_proving_a_small_model_loads_no_numba(tmp_path):
    """`zkaudit prove` of the zoo's logistic model runs every job on its numpy
    path: numba, ~0.3 s of start-up, is never imported."""
    import zkaudit

    src = ROOT / "circuits" / "logistic_risk"
    zkaudit.compile(src / "model.onnx", tmp_path / "model", calibration=src / "calibration.npy")
    run = subprocess.run([sys.executable, "-c", _PROVE_CLI, "prove", str(tmp_path / "model"), "--input",
                          str(src / "input.json"), "--out", str(tmp_path / "p.zkp")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=600)
    result = [ln.split() for ln in run.stdout.splitlines() if ln.startswith("RESULT ")]
    assert result and result[-1][1] == "0", run.stderr
    assert result[-1][2] == "False", "proving the logistic model imported numba"
