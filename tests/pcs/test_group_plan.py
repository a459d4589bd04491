"""The verifier's per-claim fast paths against their references, exactly:
`hiding_groups.plan` (arrays) vs `plan_reference` (Terms), `claim_terms`
vs `claim_terms_reference`, `row_groups` vs `row_groups_reference`,
`LinearClaim.to_bytes` vs `to_bytes_reference`, and the batching powers and
value on arrays vs on Fp2 -- on claim sets built to hit the edge cases:
wide tables whose row coordinates are 0/1 (their group is a Boolean row's)
or not, several evaluations per claim, coefficients other than 1, entries
on several rows, dense blocks, and groups of one term."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.pcs import hiding, hiding_groups, protocol
from zkaudit.pcs.hiding import LinearClaim
from zkaudit.pcs.layout import Layout
from zkaudit.pcs.params import PcsParams
from zkaudit.transcript import Transcript

ZK = PcsParams.default_hiding()


def _ext(rng) -> Fp2:
    a, b = vec.ext_random(1, rng)[0]
    return Fp2(int(a), int(b))


def _claims(rng, sizes, log_cols, num_claims):
    every = hiding.all_num_vars(sizes, ZK)
    layout = Layout.build(every, log_cols)
    claims = []
    for i in range(num_claims):
        evals = []
        for _ in range(int(rng.integers(0, 3))):
            t = int(rng.integers(0, len(sizes)))
            point = [_ext(rng) for _ in range(sizes[t])]
            if sizes[t] > log_cols and rng.random() < 0.5:  # a wide table's row coordinates on the cube
                for j in range(sizes[t] - log_cols):
                    point[j] = Fp2(int(rng.integers(0, 2)))
            coeff = Fp2(1) if rng.random() < 0.6 else _ext(rng)
            evals.append((t, tuple(point), coeff))
        entries = []
        for _ in range(int(rng.integers(0 if evals else 1, 4))):
            t = int(rng.integers(0, len(sizes)))
            entries.append((t, int(rng.integers(0, 1 << sizes[t])), _ext(rng)))
        block = None
        if rng.random() < 0.1:
            t = int(rng.integers(0, len(sizes)))
            block = (t, vec.ext_random(int(rng.integers(1, (1 << sizes[t]) + 1)), rng))
        claims.append(LinearClaim(tuple(evals), tuple(entries), _ext(rng), block))
    return layout, claims


def _powers(rng, n):
    out = vec.ext_random(n, rng)
    out[0] = (P - 1, P - 1)
    return out


CASES = [([6, 3, 3, 2], 4, 40), ([8, 7, 3], 5, 60), ([2, 2], 3, 5), ([10, 4, 4, 4, 1], 6, 200), ([5], 2, 1)]


@pytest.mark.parametrize("sizes, log_cols, num_claims", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_plan_equals_the_reference(sizes, log_cols, num_claims, seed):
    rng = np.random.default_rng(seed * 100 + len(sizes))
    layout, claims = _claims(rng, sizes, log_cols, num_claims)
    l = (layout.num_rows + hiding.NUM_BLIND - 1).bit_length()
    powers = _powers(rng, len(claims))
    power_list = [Fp2(int(a), int(b)) for a, b in powers]
    fast = hiding_groups.plan(layout, claims, powers, l)
    ref = hiding_groups.plan_reference(layout, len(sizes), claims, ZK, power_list, l)
    assert fast.row_points == ref.row_points
    assert fast.coeffs == ref.coeffs
    for _ in range(2):
        row = vec.ext_random(layout.cols, rng)
        row[0] = (P - 1, P - 1)
        assert fast.values(row) == ref.values(row)
        assert np.array_equal(fast.direct(row), ref.direct(row))
    assert np.array_equal(fast.eq_group, ref.eq_group)
    assert np.array_equal(fast.eq_scale, ref.eq_scale)
    assert np.array_equal(fast.eq_points, ref.eq_points)
    assert protocol.batched_value_array(powers, claims) == protocol.batched_value(power_list, claims)


def test_group_plan_shares_a_group_between_a_boolean_wide_point_and_entries_on_its_row():
    """A wide table's evaluation whose row coordinates are 0/1 lands on a
    Boolean row: the same group as entries on that row (and lone otherwise)."""
    every = hiding.all_num_vars([6, 2], ZK)
    layout = Layout.build(every, 4)
    z = (Fp2(1), Fp2(0), Fp2(5), Fp2(6), Fp2(7), Fp2(8))
    claims = [LinearClaim(((0, z, Fp2(3)),), (), Fp2(1)),
              LinearClaim((), ((0, 2 * 16 + 3, Fp2(2)),), Fp2(2)),  # entry 35: row 2 = bits (1, 0)
              LinearClaim(((0, (Fp2(9),) + z[1:], Fp2(1)),), (), Fp2(3))]  # a non-Boolean row point: lone
    l = (layout.num_rows + hiding.NUM_BLIND - 1).bit_length()
    powers = _powers(np.random.default_rng(4), 3)
    power_list = [Fp2(int(a), int(b)) for a, b in powers]
    fast = hiding_groups.plan(layout, claims, powers, l)
    ref = hiding_groups.plan_reference(layout, 2, claims, ZK, power_list, l)
    assert len(fast.coeffs) == 2 and fast.coeffs[0] == Fp2(1) and fast.coeffs[1] == power_list[2]
    assert fast.row_points == ref.row_points and fast.coeffs == ref.coeffs
    row = vec.ext_random(layout.cols, np.random.default_rng(5))
    assert fast.values(row) == ref.values(row)


def _same_terms(a, b):
    assert len(a) == len(b)
    for ta, tb in zip(a, b):
        assert len(ta) == len(tb)
        for x, y in zip(ta, tb):
            assert (x.row_point, x.col_point, x.col_weights, x.coeff) == (y.row_point, y.col_point, y.col_weights,
                                                                           y.coeff)
            assert (x.block is None) == (y.block is None)
            if x.block is not None:
                assert x.block[0] == y.block[0] and np.array_equal(x.block[1], y.block[1])


@pytest.mark.parametrize("sizes, log_cols, num_claims", CASES)
def test_claim_terms_row_groups_and_claim_bytes_equal_their_references(sizes, log_cols, num_claims):
    rng = np.random.default_rng(7 + num_claims)
    layout, claims = _claims(rng, sizes, log_cols, num_claims)
    l = (layout.num_rows + hiding.NUM_BLIND - 1).bit_length()
    fast = hiding.claim_terms(layout, len(sizes), claims, ZK, l)
    ref = hiding.claim_terms_reference(layout, len(sizes), claims, ZK, l)
    _same_terms(fast, ref)
    flat = [t for ts in fast for t in ts]
    assert hiding.row_groups(flat) == hiding.row_groups_reference(flat)
    # equal row points held in distinct tuple objects still share a group
    copied = [hiding._term(tuple(t.row_point), t.col_point, t.col_weights, t.coeff, t.block) if i % 3 else t
              for i, t in enumerate(flat)]
    assert hiding.row_groups(copied) == hiding.row_groups_reference(copied)
    for c in claims:
        assert c.to_bytes() == c.to_bytes_reference()


def test_batching_powers_array_equals_the_list():
    for n in (1, 2, 3, 7, 64, 1000):
        t1, t2 = Transcript(), Transcript()
        for t in (t1, t2):
            t.absorb_statement("powers", 1, digests={"c": b"\0" * 32})
        arr = protocol.batching_powers_array(t1, n)
        assert [Fp2(int(a), int(b)) for a, b in arr] == protocol.batching_powers(t2, n)
        assert t1.challenge_ext(b"after") == t2.challenge_ext(b"after")  # the same transcript operations


@pytest.mark.parametrize("sizes, log_cols, num_claims", CASES)
def test_term_dots_equal_the_full_width_reference_on_linear_claims(sizes, log_cols, num_claims):
    """The prover's W_t(y) for every term and row: small eq blocks folded in
    one kernel call, weighted entries in one numpy product, the rest by
    shared row products -- against full-width column vectors."""
    rng = np.random.default_rng(11 + num_claims)
    layout, claims = _claims(rng, sizes, log_cols, num_claims)
    l = (layout.num_rows + hiding.NUM_BLIND - 1).bit_length()
    terms = [t for ts in hiding.claim_terms(layout, len(sizes), claims, ZK, l) for t in ts]
    rows = layout.num_rows + hiding.NUM_BLIND
    mat = vec.random(rows * (layout.cols + 6), rng).reshape(rows, layout.cols + 6)
    mat[0, : layout.cols] = P - 1
    got = hiding.term_dots(mat, terms, layout.cols)
    assert np.array_equal(got, hiding.term_dots_reference(mat, terms, layout.cols))
