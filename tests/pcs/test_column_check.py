"""The hiding opening's column check (`pcs.column_check`): its identity on
every plan (the groups' values = the explicit part + the eq-weighted
terms' inner products, which the sum-check's V carries), V~ at a point from
O(n) per term against the eq tables, the prover's V against the
verifier's arrays, and a prover that lies about one group's value and then
makes the column sum-check's first round add up: rejected."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.pcs import Claim, column_check, column_check_prover, hiding, hiding_groups
from zkaudit.pcs.errors import EvaluationMismatch, PcsRejected
from zkaudit.pcs.params import PcsParams
from zkaudit.poly.mle import eq_eval, eq_table, evaluate, point_array
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

from test_group_plan import CASES, _claims, _ext, _powers

ZK = PcsParams.default_hiding()


def _flat_terms(layout, num_tables, claims, power_list, log_rows):
    """The prover's flat term list, each term's coefficient and the row groups."""
    flat, coeffs = [], []
    for g, ts in zip(power_list, hiding.claim_terms(layout, num_tables, claims, ZK, log_rows)):
        for t in ts:
            flat.append(t)
            coeffs.append(g * t.coeff)
    return flat, coeffs, hiding.row_groups(flat)


def _words(v: Fp2) -> np.ndarray:
    return np.array([v.c0, v.c1], dtype=np.uint64)


@pytest.mark.parametrize("sizes, log_cols, num_claims", CASES)
def test_values_split_into_direct_part_and_the_column_vector(sizes, log_cols, num_claims):
    rng = np.random.default_rng(11 + num_claims)
    layout, claims = _claims(rng, sizes, log_cols, num_claims)
    l = (layout.num_rows + hiding.NUM_BLIND - 1).bit_length()
    powers = _powers(rng, len(claims))
    power_list = [Fp2(int(a), int(b)) for a, b in powers]
    plan = hiding_groups.plan(layout, claims, powers, l)
    row = vec.ext_random(layout.cols, rng)
    lam = _ext(rng)
    lam_pows = column_check.ext_powers(lam, len(plan.row_points))
    assert [Fp2(int(a), int(b)) for a, b in lam_pows] == [lam ** i for i in range(len(plan.row_points))]
    # sum_G lam^G (values_G - direct_G) = <row, V>, with V built as the prover builds it
    diff = vec.sub(np.array([(v.c0, v.c1) for v in plan.values(row)], dtype=np.uint64).reshape(-1, 2),
                   plan.direct(row))
    lhs = vec.inner(lam_pows, diff)
    flat, coeffs, groups = _flat_terms(layout, len(sizes), claims, power_list, l)
    v = column_check_prover.column_vector(flat, groups, coeffs, lam_pows, layout.cols)
    assert vec.inner(row, v) == lhs
    # V~(sigma) from the verifier's arrays, O(n) per term, = the MLE of the prover's V
    sigma = [_ext(rng) for _ in range(layout.log_cols)]
    term_coeffs = vec.mul(np.ascontiguousarray(lam_pows[plan.eq_group]), plan.eq_scale)
    assert column_check.eq_sum_at(plan.eq_points, term_coeffs, sigma) == evaluate(v, sigma)


def test_eq_sum_at_equals_eq_evaluations_and_full_points_the_block_form():
    rng = np.random.default_rng(5)
    n = 5
    starts = np.array([0, 8, 24, 0, 16], dtype=np.int64)
    logs = np.array([5, 3, 3, 0, 4], dtype=np.int64)
    rest = np.zeros((5, n, 2), dtype=np.uint64)
    rest[:, :, :] = vec.ext_random(5 * n, rng).reshape(5, n, 2)
    for t in range(5):
        rest[t, logs[t]:] = 0
    pts = column_check.full_points(starts, logs, rest, n)
    coeffs = vec.ext_random(5, rng)
    sigma = [_ext(rng) for _ in range(n)]
    want = Fp2(0)
    for t in range(5):
        x = [Fp2(int(a), int(b)) for a, b in pts[t]]
        bits = [Fp2((int(starts[t]) >> (n - 1 - j)) & 1) for j in range(n - int(logs[t]))]
        assert x[: len(bits)] == bits
        assert x[len(bits):] == [Fp2(int(a), int(b)) for a, b in rest[t, : logs[t]]]
        # eq(X_t, .) over the columns is the block's eq table placed at its start
        full = np.zeros((1 << n, 2), dtype=np.uint64)
        full[starts[t] : starts[t] + (1 << int(logs[t]))] = eq_table(point_array(x[len(bits):]))
        assert evaluate(full, sigma) == eq_eval(x, sigma)
        want = want + Fp2(int(coeffs[t, 0]), int(coeffs[t, 1])) * eq_eval(x, sigma)
    assert column_check.eq_sum_at(pts, coeffs, sigma) == want
    assert column_check.eq_sum_at(pts[:0], coeffs[:0], sigma) == Fp2(0)


def _opening(rng, sizes=(7, 3, 5)):
    from zkaudit.pcs import commit, open as pcs_open

    tables = [vec.random(1 << s, rng) for s in sizes]
    com, data = commit(tables, ZK)
    claims = [Claim(i, tuple(_ext(rng) for _ in range(s)), Fp2(0)) for i, s in enumerate(sizes)]
    claims = [Claim(c.poly_index, c.point, data.masked_value(c.poly_index, c.point)) for c in claims]
    proof = pcs_open(data, claims, _transcript(com))
    return com, claims, proof


def _transcript(com) -> Transcript:
    t = Transcript()
    t.absorb_statement("column-check-test", 1, commitments={"tables": com.to_bytes()})
    return t


def _verify(com, claims, proof):
    from zkaudit.pcs import verify

    verify(com, claims, proof, _transcript(com), ZK)


@pytest.fixture
def with_sumcheck(monkeypatch):
    """These small openings would be checked by direct sums
    (`column_check.direct`); the rule's bound is lowered so that they carry
    the column sum-check the tests exercise (prover and verifier read it at
    call time)."""
    monkeypatch.setattr(column_check, "DIRECT_UP_TO", -1)


def test_an_honest_opening_verifies_and_a_touched_column_sumcheck_is_rejected(with_sumcheck):
    com, claims, proof = _opening(np.random.default_rng(1))
    _verify(com, claims, proof)
    sc = proof.column_sumcheck
    rounds = [list(r) for r in sc.round_evals]
    rounds[2][1] = rounds[2][1] + Fp2(1)
    for bad in (SumcheckProof(tuple(tuple(r) for r in rounds), sc.final_values),
                SumcheckProof(sc.round_evals, (sc.final_values[0] + Fp2(1), sc.final_values[1])),
                SumcheckProof(sc.round_evals, (sc.final_values[0], sc.final_values[1] + Fp2(3)))):
        with pytest.raises(PcsRejected):
            _verify(com, claims, dataclasses.replace(proof, column_sumcheck=bad))


def test_a_false_group_value_with_a_first_round_that_adds_up_is_rejected(with_sumcheck):
    """The prover states a false claim value and keeps the batching
    sum-check consistent with it; its column sum-check's first round is
    shifted so that g(0) + g(1) is the verifier's target; the rest honest.
    The shift survives the challenge only with probability 2 / |K|."""
    rng = np.random.default_rng(2)
    com, claims, proof = _opening(rng)
    sc = proof.column_sumcheck
    shift = Fp2(5)
    first = tuple(e + shift * Fp2(2).inverse() for e in sc.round_evals[0])  # g + c: g(0) + g(1) grows by 2c
    forged = SumcheckProof((first,) + tuple(sc.round_evals[1:]), sc.final_values)
    with pytest.raises(PcsRejected):
        _verify(com, claims, dataclasses.replace(proof, column_sumcheck=forged))
    # and a claim whose value is off by anything is rejected on the honest proof
    lie = [dataclasses.replace(claims[0], value=claims[0].value + Fp2(1))] + claims[1:]
    with pytest.raises(PcsRejected):
        _verify(com, lie, proof)


def test_an_opening_of_the_previous_version_is_refused_by_name():
    from zkaudit.pcs.proof import HidingOpeningProof
    from zkaudit.pcs.errors import MalformedOpening

    com, claims, proof = _opening(np.random.default_rng(3))
    raw = bytearray(proof.to_bytes())
    raw[4:6] = (1).to_bytes(2, "little")
    with pytest.raises(MalformedOpening, match="unsupported version"):
        HidingOpeningProof.from_bytes(bytes(raw))
    assert EvaluationMismatch is not None


@pytest.mark.parametrize("sizes, log_cols, num_claims", CASES[:4])
def test_column_vector_kernel_numpy_and_reference_agree(sizes, log_cols, num_claims):
    from zkaudit.pcs import kernels as k

    rng = np.random.default_rng(21 + num_claims)
    layout, claims = _claims(rng, sizes, log_cols, num_claims)
    l = (layout.num_rows + hiding.NUM_BLIND - 1).bit_length()
    power_list = [_ext(rng) for _ in claims]
    flat, coeffs, groups = _flat_terms(layout, len(sizes), claims, power_list, l)
    lam_pows = column_check.ext_powers(_ext(rng), len(groups))
    want = column_check_prover.column_vector_reference(flat, groups, coeffs, lam_pows, layout.cols)
    assert np.array_equal(column_check_prover.column_vector(flat, groups, coeffs, lam_pows, layout.cols), want)
    eq_at, scaled = column_check_prover._column_terms(flat, groups, coeffs, lam_pows)
    if not eq_at:
        return
    starts, logs, pts = k.block_points([flat[i].col_point for i in eq_at], layout.log_cols)
    for run in (k._scatter_eq_blocks, k.scatter_eq_blocks_numpy):
        out = np.zeros((layout.cols, 2), dtype=np.uint64)
        out[0] = (1, 2)  # it adds into what is there
        run(starts, logs, pts, scaled, out)
        assert np.array_equal(out, vec.add(want, np.array([[1, 2]] + [[0, 0]] * (layout.cols - 1), dtype=np.uint64)))


def test_eq_sum_at_equals_its_per_coordinate_reference():
    """The halving product against the coordinate loop, at every coordinate
    count from 0 (odd counts carry a factor over) and term counts on both
    sides of npfield's object-int threshold, with entries at 0, 1 and p - 1."""
    rng = np.random.default_rng(11)
    edge = np.array([[0, 0], [1, 0], [P - 1, P - 1], [0, 1]], dtype=np.uint64)
    for n in range(0, 13):
        for count in (1, 3, 64, 65, 300):
            pts = vec.ext_random(count * n, rng).reshape(count, n, 2)
            if n:
                pts[0, :, :] = edge[np.arange(n) % 4]
            coeffs = vec.ext_random(count, rng)
            sigma = [_ext(rng) for _ in range(n)]
            if n:
                sigma[0] = Fp2(P - 1, P - 1)
            want = column_check.eq_sum_at_reference(pts, coeffs, sigma)
            assert column_check.eq_sum_at(pts, coeffs, sigma) == want, (n, count)


def test_eq_sum_at_on_ints_equals_the_array_products():
    """The int path (merged equal points, a trie of shared prefixes, Boolean
    coordinates without a product) against the array path: points with
    repeated rows, shared address prefixes, coordinates 0, 1, p - 1 and
    extension values, coefficients that cancel between merged terms."""
    rng = np.random.default_rng(23)
    for n in (1, 2, 5, 8):
        for count in (1, 2, 17, 90):
            pts = vec.ext_random(count * n, rng).reshape(count, n, 2)
            bits = rng.integers(0, 2, size=(count, n))
            boolean = rng.random((count, n)) < 0.5
            pts[boolean, 0] = bits[boolean].astype(np.uint64)
            pts[boolean, 1] = 0
            if count > 2:
                pts[1] = pts[0]  # a repeated point: its coefficients merge
                pts[2, : n // 2] = pts[0, : n // 2]  # a shared prefix
            pts[0, 0] = (P - 1, 0)
            coeffs = vec.ext_random(count, rng)
            if count > 2:
                coeffs[1] = vec.neg(np.ascontiguousarray(coeffs[:1]))[0]  # cancels the first term's
            sigma = [_ext(rng) for _ in range(n)]
            want = column_check._eq_sum_at_arrays(pts, coeffs, sigma)
            assert column_check._eq_sum_at_ints(pts, coeffs, sigma) == want, (n, count)
            assert column_check.eq_sum_at_reference(pts, coeffs, sigma) == want
