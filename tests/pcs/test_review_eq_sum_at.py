"""Review of `column_check.eq_sum_at` (the halving product): against its
per-coordinate reference on edge values, layouts and both sides of
npfield's object-int threshold, and the verifier's use of it: a column
sum-check whose final V is off by one is rejected, and so is a prover whose
V differs from the claims' V by a vector orthogonal to u (every sum-check
round adds up, only the verifier's own V~(sigma) = `eq_sum_at` catches it)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.pcs import column_check, column_check_prover
from zkaudit.pcs.errors import EvaluationMismatch, PcsRejected
from zkaudit.pcs.pair_sumcheck import prove_pairs
from zkaudit.sumcheck.proof import SumcheckProof

from test_column_check import _opening, _verify


@pytest.fixture(autouse=True)
def _with_sumcheck(monkeypatch):
    """The openings here are small enough for direct sums
    (`column_check.direct`); these tests are about the column sum-check."""
    monkeypatch.setattr(column_check, "DIRECT_UP_TO", -1)

SPECIAL = [0, 1, P - 1, 1 << 32, (1 << 32) - 1, P - 2, 1 << 63]


def _case(rng, count, n, special):
    if special:
        pick = lambda *shape: np.array(SPECIAL, dtype=np.uint64)[rng.integers(0, len(SPECIAL), shape)]
        pts, coeffs = pick(count, n, 2), pick(count, 2)
        sigma = [Fp2(int(a), int(b)) for a, b in pick(n, 2)]
        if n:
            sigma[rng.integers(n)] = [Fp2(0), Fp2(1), Fp2(P - 1, P - 1)][rng.integers(3)]
    else:
        pts = vec.ext_random(count * n, rng).reshape(count, n, 2)
        coeffs = vec.ext_random(count, rng)
        sigma = [Fp2(int(a), int(b)) for a, b in vec.ext_random(n, rng)]
    return pts, coeffs, sigma


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 13, 20])
def test_eq_sum_at_matches_reference_on_edges_and_layouts(n):
    rng = np.random.default_rng(100 + n)
    for count in (1, 2, 63, 64, 65, 128, 129, 600):
        for special in (False, True):
            pts, coeffs, sigma = _case(rng, count, n, special)
            want = column_check.eq_sum_at_reference(pts, coeffs, sigma)
            assert column_check.eq_sum_at(pts, coeffs, sigma) == want, (n, count, special)
            # coefficients as a list, strided / Fortran-ordered / reversed views
            assert column_check.eq_sum_at(pts, coeffs.tolist(), sigma) == want
            big = np.zeros((2 * count, n, 2), dtype=np.uint64)
            big[::2] = pts
            assert column_check.eq_sum_at(big[::2], coeffs, sigma) == want
            assert column_check.eq_sum_at(np.asfortranarray(pts)[:, :, ::1], np.asfortranarray(coeffs), sigma) == want
            wide = np.zeros((count, 4), dtype=np.uint64)
            wide[:, ::2] = coeffs
            assert column_check.eq_sum_at(pts, wide[:, ::2], sigma) == want
            assert column_check.eq_sum_at(pts[:, ::-1, :], coeffs, sigma[::-1]) == want


def test_a_final_v_off_by_one_is_rejected():
    com, claims, proof = _opening(np.random.default_rng(7))
    _verify(com, claims, proof)
    sc = proof.column_sumcheck
    for dv in (Fp2(1), Fp2(0, 1), Fp2(P - 1)):
        bad = SumcheckProof(sc.round_evals, (sc.final_values[0], sc.final_values[1] + dv))
        with pytest.raises(PcsRejected):
            _verify(com, claims, dataclasses.replace(proof, column_sumcheck=bad))


def _prover_with_v_shifted(monkeypatch, shift: bool):
    """The column check's prover with V + delta, <u, delta> = 0: the target
    and every round are what an honest prover of V + delta sends."""
    real = column_check_prover.prove_column_check

    def forged(flat, groups, coeffs, data_row, transcript):
        lam = transcript.challenge_ext(column_check.LABEL_LAMBDA)
        powers = column_check.ext_powers(lam, len(groups))
        v = column_check_prover.column_vector(flat, groups, coeffs, powers, data_row.shape[0])
        target = vec.inner(data_row, v)
        if shift:
            delta = np.zeros_like(v)
            delta[0], delta[1] = data_row[1], vec.neg(data_row[0:1])[0]
            assert vec.inner(data_row, delta) == Fp2(0)
            v = vec.add(v, delta)
        sc, _ = prove_pairs([data_row, v], [Fp2(1)], transcript, claimed_sum=target)
        return sc

    monkeypatch.setattr(column_check_prover, "prove_column_check", forged)
    return real


def test_a_v_shifted_orthogonally_to_u_passes_the_rounds_and_fails_only_at_eq_sum_at(monkeypatch):
    # control: the re-implemented prover without the shift verifies
    _prover_with_v_shifted(monkeypatch, shift=False)
    com, claims, proof = _opening(np.random.default_rng(8))
    _verify(com, claims, proof)
    _prover_with_v_shifted(monkeypatch, shift=True)
    com, claims, proof = _opening(np.random.default_rng(8))
    with pytest.raises(EvaluationMismatch, match="final V value"):
        _verify(com, claims, proof)


def test_the_verifier_compares_v_with_eq_sum_at(monkeypatch):
    """An honest proof is refused when eq_sum_at's value is off by one: the
    comparison is live (a wrong eq_sum_at rejects honest proofs)."""
    com, claims, proof = _opening(np.random.default_rng(9))
    _verify(com, claims, proof)
    real = column_check.eq_sum_at
    monkeypatch.setattr(column_check, "eq_sum_at", lambda *a: real(*a) + Fp2(1))
    with pytest.raises(EvaluationMismatch, match="final V value"):
        _verify(com, claims, proof)
