"""The eq-factored zero-check prover (`sumcheck.eq_run`) makes exactly the
generic prover's proof, and its numba kernels equal their numpy path."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import kernels_eq as ke
from zkaudit.sumcheck import prover, verifier
from zkaudit.sumcheck.claim import SumOfProducts
from zkaudit.sumcheck.eq_run import EqRun, applies
from zkaudit.transcript import Transcript

P = 2**64 - 2**32 + 1


def _transcript():
    t = Transcript()
    t.absorb_statement("eq-run-test", 1)
    return t


def _point(rng, n):
    return [Fp2(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64))) for _ in range(n)]


def _spec(num_other: int, rng) -> SumOfProducts:
    """eq times terms of zero to three other tables (degree up to 4), random coefficients."""
    terms = [(Fp2(int(rng.integers(1, P, dtype=np.uint64))), (0,))]
    for _ in range(6):
        k = int(rng.integers(1, 4))
        terms.append((Fp2(int(rng.integers(1, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64))),
                      (0,) + tuple(int(x) for x in rng.integers(1, num_other + 1, size=k))))
    return SumOfProducts.of(num_other + 1, terms)


@pytest.mark.parametrize("num_vars", [1, 2, 5, 9])
@pytest.mark.parametrize("ext_tables", [False, True])
def test_same_proof_as_the_generic_prover(num_vars, ext_tables, monkeypatch):
    rng = np.random.default_rng(num_vars + 10 * ext_tables)
    rho = _point(rng, num_vars)
    other = [rng.integers(0, P, size=1 << num_vars, dtype=np.uint64) for _ in range(4)]
    if ext_tables:
        other[1] = rng.integers(0, P, size=(1 << num_vars, 2), dtype=np.uint64)
    tables = [eq_table(rho)] + other
    spec = _spec(len(other), rng)
    assert applies(spec)
    generic = prover.prove(tables, spec, _transcript())
    monkeypatch.setattr(prover, "EQ_RUN_FROM", 0)  # these tables are small: make prove take the eq run
    rounds = []
    real = EqRun.first_round
    monkeypatch.setattr(EqRun, "first_round", lambda self: rounds.append(1) or real(self))
    fast = prover.prove(tables, spec, _transcript(), eq_point=rho, claimed_sum=generic[2])
    assert rounds  # the eq run made this proof
    assert fast[0].to_bytes() == generic[0].to_bytes()
    assert fast[1] == generic[1] and fast[2] == generic[2]
    claim = verifier.verify(fast[0], fast[2], num_vars, spec, _transcript())
    assert tuple(claim.point) == tuple(fast[1].point)


def test_a_term_without_eq_keeps_the_generic_prover():
    rng = np.random.default_rng(1)
    rho = _point(rng, 3)
    tables = [eq_table(rho), rng.integers(0, P, size=8, dtype=np.uint64)]
    spec = SumOfProducts.of(2, [(Fp2(1), (0, 1)), (Fp2(5), (1,))])
    assert not applies(spec)
    assert prover.prove(tables, spec, _transcript(), eq_point=rho)[0].to_bytes() == \
        prover.prove(tables, spec, _transcript())[0].to_bytes()


@pytest.mark.parametrize("half", [1, 7, 64, 1000])
@pytest.mark.parametrize("ext", [False, True])
def test_kernel_equals_numpy_path(half, ext):
    rng = np.random.default_rng(half)
    shape = (3, 2 * half, 2) if ext else (3, 2 * half)
    stack = rng.integers(0, P, size=shape, dtype=np.uint64)
    ptr = np.array([0, 0, 1, 3, 6], dtype=np.int64)  # an empty term (eq alone) and terms of 1, 2, 3 tables
    idx = np.array([2, 0, 1, 2, 2, 1], dtype=np.int64)
    w = rng.integers(0, P, size=(half, 2), dtype=np.uint64)
    kernel = ke._round_evals_eq_ext if ext else ke._round_evals_eq_base
    for skip in (-1, 1):
        got = kernel(stack, ptr, idx, 3, w, skip)
        assert np.array_equal(got, ke.round_evals_eq_numpy(stack, ptr, idx, 3, w, skip))
        assert skip == -1 or not got[:, 1].any()


def test_big_tables_take_the_eq_run_by_default(monkeypatch):
    rng = np.random.default_rng(5)
    rho = _point(rng, 13)
    tables = [eq_table(rho)] + [rng.integers(0, P, size=1 << 13, dtype=np.uint64) for _ in range(2)]
    spec = SumOfProducts.of(3, [(Fp2(2), (0, 1, 2)), (Fp2(3), (0, 1))])
    generic = prover.prove(tables, spec, _transcript())
    rounds = []
    real = EqRun.first_round
    monkeypatch.setattr(EqRun, "first_round", lambda self: rounds.append(1) or real(self))
    fast = prover.prove(tables, spec, _transcript(), eq_point=rho, claimed_sum=generic[2])
    assert rounds and fast[0].to_bytes() == generic[0].to_bytes()
