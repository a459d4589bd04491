"""The zero-knowledge sum-check's int-pair driver (`zk_prover.prove`)
against the protocol in Fp2 arithmetic (`zk_prover.prove_reference`): with
the same bank they must send the same bytes, leave the same claims, pads and
deferred checks, and end the transcript in the same state; on generic
tables, on a Poseidon2 GKR layer's round source, with 0, 1 and many
variables, public and padded tables, public and Hidden claimed sums."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.randomness import random_base, random_ext, random_fp2s
from zkaudit.field.scalar import Fp2
from zkaudit.sumcheck import SumOfProducts, zk_prover
from zkaudit.sumcheck.zk import ZkProver
from zkaudit.transcript import Transcript

BANK = 600
SPECS = {
    "product": (SumOfProducts.of(3, [(1, (0, 1)), (3, (0, 1, 2)), (2, (2,))]), (2,)),
    "powers": (SumOfProducts.of(3, [(Fp2(4, 9), (0, 1, 1, 1, 1, 1, 1, 1)), (P - 1, (0, 2, 2)), (5, (1,))]), (0,)),
    "all-padded": (SumOfProducts.of(2, [(Fp2(0, 1), (0, 1, 1)), (7, (1, 0))]), ()),
    "all-public": (SumOfProducts.of(2, [(1, (0, 1))]), (0, 1)),
}


def _run(driver, make_tables, spec, public, n, claimed, bank, run=None):
    t = Transcript()
    t.absorb_statement("test/zk-driver", 1)
    zk = ZkProver({"advice": BANK}, {"advice": bank.copy()})
    t.zk = zk
    if isinstance(claimed, str):  # "hidden": a claim with a bank part, its true value the tables' sum
        (key,) = zk.take(1)
        c = Fp2(12345, 678)
        claimed = Hidden(c, ((key, Fp2(1)),))
    proof, ev, out = driver(make_tables(), spec, t, zk, claimed, n, public, {}, run=run() if run else None)
    return proof.to_bytes(), ev, out, zk.checks, zk.final_pads, zk.banks_used(), t.challenge_ext(b"test/after")


def _same(a, b):
    assert a[0] == b[0]  # the proof's bytes
    assert a[1].point == b[1].point and a[1].values == b[1].values
    assert a[2] == b[2] and a[3] == b[3] and a[4] == b[4] and a[5] == b[5] and a[6] == b[6]


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("n", [0, 1, 2, 6])
def test_int_driver_sends_the_reference_bytes(name, n):
    spec, public = SPECS[name]
    tables = [random_ext(1 << n) if j % 2 else random_base(1 << n) for j in range(spec.num_tables)]
    bank = random_ext(BANK)
    for claimed in (None, "hidden"):
        if claimed == "hidden" and n == 0:
            continue
        if claimed == "hidden":  # the bank entry the claim names carries the sum minus its public part
            ref0 = _run(zk_prover.prove_reference, lambda: [x.copy() for x in tables], spec, public, n, None,
                        bank)
            s = ref0[2] - Fp2(12345, 678)
            bank = bank.copy()
            bank[0] = (s.c0, s.c1)
        fast = _run(zk_prover.prove, lambda: [x.copy() for x in tables], spec, public, n, claimed, bank)
        ref = _run(zk_prover.prove_reference, lambda: [x.copy() for x in tables], spec, public, n, claimed, bank)
        _same(fast, ref)
        zk = ZkProver({"advice": BANK}, {"advice": bank})
        assert all(zk.value(c) == Fp2(0) for c in fast[3])  # the deferred end checks hold for the honest bank


@pytest.mark.parametrize("full", [True, False])
def test_int_driver_on_a_poseidon2_gkr_layer(full):
    """The link's round source (`RoundRun`: eq split off, g(1) left open)."""
    from zkaudit.hash.gkr import ROUNDS, round_spec, through_matrix
    from zkaudit.hash.gkr_prover import RoundRun

    rnd = next(r for r in ROUNDS if r.full == full)
    n = 5
    gamma = random_fp2s(8)
    m = through_matrix(gamma, rnd.matrix)
    spec = round_spec(rnd, m)
    rng = np.random.default_rng(3)
    lanes = rng.integers(0, P, size=(8, 1 << n), dtype=np.uint64)
    z = random_fp2s(n)
    bank = random_ext(BANK)
    ref = _run(zk_prover.prove_reference, lambda: None, spec, (0,), n, "hidden", bank,
               run=lambda: RoundRun(z, lanes.copy(), m, full, spec))
    fast = _run(zk_prover.prove, lambda: None, spec, (0,), n, "hidden", bank,
                run=lambda: RoundRun(z, lanes.copy(), m, full, spec))
    _same(fast, ref)


def test_cube_sum_and_mask_round_match_the_masking_polynomial():
    from zkaudit.sumcheck.mask import MaskingPolynomial

    for n, d in ((1, 2), (4, 3), (3, 8)):
        g = MaskingPolynomial.sample(n, d)
        rows = [[[c.c0, c.c1] for c in row] for row in g.coeffs]
        assert zk_prover._cube_sum([g.a0.c0, g.a0.c1], rows) == g.cube_sum()
        rho, prefix, ones, shift = random_fp2s(4)
        zeros = [Fp2(0)] * (d + 1)
        for i in range(n):
            rest = n - i - 1
            got = zk_prover._masked_round(zeros, rows[i], rho.c0, rho.c1, (prefix.c0, prefix.c1),
                                          (ones.c0, ones.c1), rest, shift.c0, shift.c1)
            want = [rho * v - shift for v in g.round_evals(i, prefix, ones, d + 1)]
            assert list(got) == want
            r = random_fp2s(1)[0]
            assert Fp2(*zk_prover._at(rows[i], r.c0, r.c1)) == g.univariate(i, r)


def test_round_polynomial_on_ints_is_the_fp2_reference():
    """`prover._round_poly` (term coefficients applied on ints) against the
    Fp2 expression, base and extension per-term sums, edge values."""
    from zkaudit.sumcheck.prover import _round_poly, _round_poly_reference

    spec = SumOfProducts.of(4, [(Fp2(3, P - 1), (0, 1, 1)), (P - 1, (2,)), (Fp2(0, 1), (3, 0, 2))])
    rng = np.random.default_rng(8)  # test data only
    base = rng.integers(0, P, size=(3, 4), dtype=np.uint64)
    ext = rng.integers(0, P, size=(3, 4, 2), dtype=np.uint64)
    ext[0, 0] = (P - 1, P - 1)
    for per_term in (base, ext):
        assert _round_poly(spec, per_term) == _round_poly_reference(spec, per_term)


@pytest.mark.parametrize("vanishes", [False, True])
def test_finals_on_ints_are_the_fp2_reference(vanishes):
    """`zk_prover._finals` (each table at the point, padded ones plus Z m_j,
    the Hidden each leaves) against the Fp2 expression: the same values,
    forms and recorded pads; Z = 0 leaves a public Hidden."""
    vals = random_fp2s(20) + [Fp2(P - 1, P - 1), Fp2(0)]
    pairs = [(vals[2 * j], vals[2 * j + 1]) for j in range(11)]
    pads = {j: (("advice", 40 + j), vals[j]) for j in (1, 2, 5, 10)}
    r = random_fp2s(1)[0]
    c_prev = Fp2(0) if vanishes else random_fp2s(1)[0]
    got_pads, want_pads = [], []
    got = zk_prover._finals(pairs, r, c_prev, pads, got_pads)
    want = zk_prover._finals_reference(pairs, r, c_prev, pads, want_pads)
    assert got[0] == want[0] and got_pads == want_pads
    assert [(type(v), v) for v in got[1]] == [(type(v), v) for v in want[1]]


def test_draw_each_reads_the_entries_take_each_names():
    """`ZkProver.draw_each`: one slice for consecutive keys of one bank,
    entry by entry otherwise; the same keys and values either way."""
    sizes = {"advice": 64, "other": 64}
    values = {b: np.array([[v.c0, v.c1] for v in random_fp2s(64)], dtype=np.uint64) for b in sizes}
    for banks in (["advice"] * 5, ["advice", "other", "advice"], ["other"], []):
        zk, ref = ZkProver(sizes, values), ZkProver(sizes, values)
        zk.take(3, "advice"), ref.take(3, "advice")
        got = zk.draw_each(banks)
        want = [(key, ref.entry(key)) for key in ref.take_each(banks)]
        assert got == want and zk.banks_used() == ref.banks_used()
