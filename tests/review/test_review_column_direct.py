"""Adversarial review of commit 0f0db0c: the hiding opening (v4) omits its
column sum-check when the claims' eq-weighted blocks hold at most
`column_check.DIRECT_UP_TO` entries (`column_check.direct`), and the
verifier then computes every row group's W_G(rho) from the evaluation row.

What is tried here:

* the rule on both sides: the prover's Term col_points and the verifier's
  plan eq_points (array plan for LinearClaims, reference plan for mixed
  claim sets) on random claim sets with Boolean coordinates (leading, on a
  wide table's row part, whole points), 0-variable tables, entries-only and
  dense-block claims, no eq term at all; honest openings at the bounds where
  the branch flips; the exact boundary 2048 / 2049 at the default bound,
  where a wide table's Boolean row coordinate must not shrink its block;
* the array plan's direct values against the reference plan's on such claims;
* `kernels.eval_blocks_ints` against the numpy and numba folds at edge
  inputs (log size 0 at the row's last entry, a whole-row block, words
  P - 1, points (P - 1, P - 1), 0/1 coordinates, no block at all) and the
  dispatcher with the kernel unloaded;
* a malicious prover in the direct mode: a false LinearClaim value kept
  through the batching sum-check AND the evaluation row moved so that the
  direct sums hold -- it must be caught by the encoded-row/column check
  (the only thing left: the test records that the direct check passed);
  the same lie without moving u, on an entries-only claim (no eq term);
* byte-level flag games: a v4 proof with the column sum-check spliced in
  behind flag 1 where the rule says direct, the flag cleared with the
  sum-check's bytes left behind, the sum-check removed where the rule asks
  for it;
* the soundness charge: no column-check error term in the direct mode,
  both terms otherwise;
* the direct sums' cost against the rule's count (FAILS on 0f0db0c: the
  array plan folds whole table blocks, the rule counts shrunk ones).

No forgery was accepted and no honest opening refused.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.field import Fp, Fp2, vec
from zkaudit.field import jit
from zkaudit.field.constants import P
from zkaudit.pcs import Claim, column_check, commit, hiding, hiding_groups, kernels
from zkaudit.pcs import hiding_verifier
from zkaudit.pcs import open as pcs_open
from zkaudit.pcs import verify
from zkaudit.pcs.errors import (
    EvaluationMismatch,
    EvaluationRowMismatch,
    MalformedOpening,
    PcsRejected,
    ProofShapeError,
)
from zkaudit.pcs.hiding import LinearClaim, WeightedClaim
from zkaudit.pcs.hiding_verifier import read_hiding_opening
from zkaudit.pcs.params import PcsParams

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pcs"))
from test_column_direct import shift_first_term  # noqa: E402
from zkaudit.poly.mle import evaluate
from zkaudit.transcript import Transcript

ZK = PcsParams.default_hiding()
U64 = np.uint64


# ------------------------------------------------------------------ helpers


def _ext(rng) -> Fp2:
    a, b = vec.ext_random(1, rng)[0]
    return Fp2(int(a), int(b))


def _lift(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _transcript(com) -> Transcript:
    t = Transcript()
    t.absorb_statement("column-direct-review", 1, commitments={"tables": com.to_bytes()})
    return t


def _verify(com, claims, proof, transcript=None):
    verify(com, claims, proof, transcript or _transcript(com), ZK)


def _open(data, claims):
    return pcs_open(data, claims, _transcript(data.commitment))


def _committed(sizes, seed):
    rng = np.random.default_rng(seed)
    tables = [vec.random(1 << s, rng) for s in sizes]
    com, data = commit(tables, ZK)
    return rng, tables, com, data


def _l(data) -> int:
    return (data.domain_rows - 1).bit_length()


def _prover_points(data, claims) -> np.ndarray:
    """The column points the prover's rule reads (open_hiding)."""
    terms = hiding.claim_terms(data.layout, data.num_tables, claims, ZK, _l(data))
    flat = [t for ts in terms for t in ts]
    return column_check.points_array([t.col_point for t in flat if t.col_point is not None], data.layout.log_cols)


def _verifier_plan(data, claims, powers=None):
    """The verifier's plan as verify_hiding builds it (array plan, else reference)."""
    q = len(claims)
    if powers is None:
        powers = vec.ext_random(q, np.random.default_rng(99))
    l = (data.layout.num_rows + hiding.NUM_BLIND - 1).bit_length()
    assert l == _l(data)
    plan = hiding_groups.plan(data.layout, claims, powers, l)
    if plan is None:
        plan = hiding_groups.plan_reference(data.layout, data.num_tables, claims, ZK,
                                            [Fp2(int(a), int(b)) for a, b in powers], l)
    return plan


def _lin_eval(tables, t, point, a=Fp2(1)) -> LinearClaim:
    return LinearClaim(((t, tuple(point), a),), (), a * _lift(evaluate(tables[t], list(point))))


def _random_claims(rng, sizes, tables, data, *, mixed: bool):
    """A random true claim set over the tables, with Boolean coordinates in
    every position that matters to the rule."""
    log_cols = data.layout.log_cols
    claims = []
    for _ in range(int(rng.integers(1, 6))):
        evals = []
        value = Fp2(0)
        for _ in range(int(rng.integers(0, 3))):
            t = int(rng.integers(0, len(sizes)))
            s = sizes[t]
            point = [_ext(rng) for _ in range(s)]
            style = int(rng.integers(0, 5))
            if style == 1 and s:  # leading Boolean coordinates
                for j in range(int(rng.integers(1, s + 1))):
                    point[j] = Fp2(int(rng.integers(0, 2)))
            elif style == 2:  # a whole Boolean point
                point = [Fp2(int(rng.integers(0, 2))) for _ in range(s)]
            elif style == 3 and s > log_cols:  # a wide table's row part on the cube, its columns not
                for j in range(s - log_cols):
                    point[j] = Fp2(int(rng.integers(0, 2)))
            elif style == 4 and s > 1:  # a Boolean after a non-Boolean coordinate: no shrink
                point[1] = Fp2(1)
            a = Fp2(1) if rng.random() < 0.5 else _ext(rng)
            evals.append((t, tuple(point), a))
            value = value + a * _lift(evaluate(tables[t], point))
        entries = []
        for _ in range(int(rng.integers(0 if evals else 1, 3))):
            t = int(rng.integers(0, len(sizes)))
            k = int(rng.integers(0, 1 << sizes[t]))
            w = _ext(rng)
            entries.append((t, k, w))
        # duplicates merge in LinearClaim: the value is the sum either way
        for t, k, w in entries:
            value = value + w * Fp2.from_base(Fp(int(tables[t][k])))
        claims.append(LinearClaim(tuple(evals), tuple(entries), value))
    if mixed:
        t = int(np.argmax(sizes))
        pt = tuple(Fp2(int(rng.integers(0, 2))) if j < 2 else _ext(rng) for j in range(sizes[t]))
        claims.append(Claim(t, pt, data.masked_value(t, pt)))
        w = tuple(_ext(rng) for _ in range(2))
        claims.append(WeightedClaim(1, 0, w, sum((wk * Fp2.from_base(Fp(int(tables[1][k])))
                                                  for k, wk in enumerate(w)), Fp2(0))))
    return claims


# ---------------------------------------------- the rule on both sides


SIZES = (0, 3, 9, 10)  # a 0-variable table, a narrow one, two wide ones (log_cols = 8 here)


@pytest.mark.parametrize("mixed", [False, True], ids=["array-plan", "reference-plan"])
def test_prover_and_verifier_read_the_same_points_and_count(mixed):
    """On random claim sets full of Boolean coordinates, the verifier's plan
    eq_points are the prover's term col_points (hence the same count and the
    same branch), and the array plan's direct values equal the reference's."""
    rng, tables, com, data = _committed(SIZES, 11)
    assert data.layout.log_cols == 8 and any(s >= 8 for s in SIZES) and 0 in SIZES
    for _ in range(25):
        claims = _random_claims(rng, SIZES, tables, data, mixed=mixed)
        mine = _prover_points(data, claims)
        plan = _verifier_plan(data, claims)
        assert np.array_equal(mine.reshape(-1, data.layout.log_cols, 2), plan.eq_points)
        assert column_check.block_entries(mine) == column_check.block_entries(plan.eq_points)
        if not mixed:  # the two plans on the same LinearClaims give the same group values
            powers = vec.ext_random(len(claims), rng)
            a = hiding_groups.plan(data.layout, claims, powers, _l(data))
            b = hiding_groups.plan_reference(data.layout, data.num_tables, claims, ZK,
                                             [Fp2(int(x), int(y)) for x, y in powers], _l(data))
            row = vec.ext_random(data.layout.cols, rng)
            row[-1] = (P - 1, P - 1)
            assert a.values(row) == b.values(row)
            assert np.array_equal(a.eq_points, b.eq_points)


@pytest.mark.parametrize("seed", [21, 22])
def test_honest_openings_verify_on_both_sides_of_their_own_count(seed, monkeypatch):
    """Each random claim set opened and verified with the bound at its count
    minus one (sum-check) and at its count (direct): both branches, both
    accepted, and the proof's flag is the rule's."""
    rng, tables, com, data = _committed(SIZES, seed)
    for mixed in (False, True):
        claims = _random_claims(rng, SIZES, tables, data, mixed=mixed)
        count = column_check.block_entries(_prover_points(data, claims))
        for bound, want_direct in ((count - 1, False), (count, True)):
            monkeypatch.setattr(column_check, "DIRECT_UP_TO", bound)
            proof = _open(data, claims)
            assert (proof.column_sumcheck is None) == want_direct
            _verify(com, claims, proof)
            again = read_hiding_opening(proof.to_bytes(), com, ZK)
            _verify(com, claims, again)


def test_no_eq_term_is_direct_on_both_sides_and_a_lie_is_refused(monkeypatch):
    """Entries and weighted claims only: no eq term, count 0, direct. A false
    entries-only value kept through the batching sum-check (its group's
    column side moved) is refused by the direct sums."""
    rng, tables, com, data = _committed((7, 3, 5), 31)
    t0 = tables[0]
    w = [_ext(rng) for _ in range(3)]
    idx = [0, 5, 127]
    value = sum((wk * Fp2.from_base(Fp(int(t0[k]))) for wk, k in zip(w, idx)), Fp2(0))
    claims = [LinearClaim((), tuple((0, k, wk) for k, wk in zip(idx, w)), value),
              WeightedClaim(1, 2, (Fp2(3),), Fp2(3) * Fp2.from_base(Fp(int(tables[1][2]))))]
    assert column_check.block_entries(_prover_points(data, claims)) == 0
    proof = _open(data, claims)
    assert proof.column_sumcheck is None
    _verify(com, claims, proof)

    delta = Fp2(5, 9)
    lie = [dataclasses.replace(claims[0], value=claims[0].value + delta)] + claims[1:]
    shift_first_term(monkeypatch, delta)
    forged = _open(data, lie)
    assert forged.column_sumcheck is None
    with pytest.raises(EvaluationMismatch, match="row group"):
        _verify(com, lie, forged)


def test_the_exact_default_boundary_and_a_wide_tables_boolean_row_coordinate():
    """At the default bound (2048) and m = 256: eight claims on a 9-variable
    (two-row) table whose row coordinate is Boolean hold 8 x 256 = 2048
    entries (the row bit does not shrink a column block): direct. One more
    claim on a whole Boolean point (1 entry) makes 2049: the sum-check. A
    claim whose first *column* coordinate is Boolean folds half a row."""
    assert column_check.DIRECT_UP_TO == 2048
    rng, tables, com, data = _committed((9, 3), 41)
    assert data.layout.log_cols == 8 and data.layout.placements[0].num_vars == 9
    claims = []
    for i in range(8):
        pt = [Fp2(i % 2)] + [_ext(rng) for _ in range(8)]
        claims.append(_lin_eval(tables, 0, pt, _ext(rng)))
    assert column_check.block_entries(_prover_points(data, claims)) == 2048
    assert column_check.block_entries(_verifier_plan(data, claims).eq_points) == 2048
    proof = _open(data, claims)
    assert proof.column_sumcheck is None
    _verify(com, claims, proof)

    more = claims + [_lin_eval(tables, 1, [Fp2(1), Fp2(0), Fp2(1)])]
    assert column_check.block_entries(_verifier_plan(data, more).eq_points) == 2049
    proof = _open(data, more)
    assert proof.column_sumcheck is not None
    _verify(com, more, proof)

    # the ninth claim's point half Boolean in its column part: 2048 + 128 > 2048
    half = claims + [_lin_eval(tables, 0, [_ext(rng), Fp2(0)] + [_ext(rng) for _ in range(7)])]
    assert column_check.block_entries(_verifier_plan(data, half).eq_points) == 2048 + 128
    # and one claim with the column part all Boolean: 1 entry, still over
    swapped = claims[:7] + [_lin_eval(tables, 0, [_ext(rng)] + [Fp2(1)] * 8)]
    assert column_check.block_entries(_verifier_plan(data, swapped).eq_points) == 7 * 256 + 1
    proof = _open(data, swapped)
    assert proof.column_sumcheck is None
    _verify(com, swapped, proof)


# ------------------------------------------------------ eval_blocks_ints


def _three_folds(row, starts, logs, pts):
    outs = [np.full((len(starts), 2), 7, dtype=U64) for _ in range(3)]
    kernels.eval_blocks_ints(row, starts, logs, pts, outs[0])
    kernels.eval_blocks_numpy(row, starts, logs, pts, outs[1])
    kernels._eval_blocks(row, starts, logs, pts, outs[2])
    return outs


@pytest.mark.parametrize("m_log", [1, 3, 8])
def test_eval_blocks_ints_edges_equal_numpy_and_kernel(m_log):
    rng = np.random.default_rng(m_log)
    m = 1 << m_log
    for fill in ("random", "max", "zero-top"):
        row = vec.ext_random(m, rng)
        if fill == "max":
            row[:] = P - 1
        elif fill == "zero-top":
            row[m // 2:] = 0
            row[-1] = (P - 1, 0)
        # log 0 at the last entry and at 0; a whole-row block; a half block at the end
        logs = np.array([0, 0, m_log, m_log - 1, m_log, m_log], dtype=np.int64)
        starts = np.array([m - 1, 0, 0, m >> 1, 0, 0], dtype=np.int64)
        pts = np.zeros((len(logs), m_log, 2), dtype=U64)
        pts[2] = P - 1  # every coordinate (P - 1, P - 1)
        pts[3, : m_log - 1] = vec.ext_random(m_log - 1, rng)
        pts[4, :, 0] = rng.integers(0, 2, size=m_log)  # a Boolean point: an entry
        pts[5] = vec.ext_random(m_log, rng)
        pts[5, -1] = (1, 0)
        a, b, c = _three_folds(row, starts, logs, pts)
        assert np.array_equal(a, b) and np.array_equal(a, c)
        assert int(a.max()) < P
        # the Boolean point reads its entry
        bits = int("".join(str(int(x)) for x in pts[4, :, 0]), 2)
        assert np.array_equal(a[4], row[bits] % U64(P))
        assert np.array_equal(a[0], row[m - 1]) and np.array_equal(a[1], row[0])


def test_eval_blocks_ints_with_no_block_leaves_out_untouched():
    out = np.full((0, 2), 3, dtype=U64)
    kernels.eval_blocks_ints(vec.ext_random(4, np.random.default_rng(0)), np.zeros(0, np.int64),
                             np.zeros(0, np.int64), np.zeros((0, 2, 2), dtype=U64), out)
    assert out.shape == (0, 2)


def test_eval_blocks_dispatch_without_the_kernel_is_the_int_fold(monkeypatch):
    """Without the kernel, eval_blocks takes the int fold exactly where its
    cost model says ints are cheaper (`kernels._ints_cheaper`); with it, the
    kernel: same values either way, and the verifier's direct check through
    each accepts the same honest opening."""
    rng = np.random.default_rng(5)
    row = vec.ext_random(256, rng)
    logs = rng.integers(0, 9, size=30).astype(np.int64)
    starts = np.array([int(rng.integers(0, 256 >> int(k))) << int(k) for k in logs], dtype=np.int64)
    pts = vec.ext_random(30 * 8, rng).reshape(30, 8, 2)
    want = np.empty((30, 2), dtype=U64)
    kernels.eval_blocks_numpy(row, starts, logs, pts, want)
    used = []
    real_ints = kernels.eval_blocks_ints
    monkeypatch.setattr(kernels, "eval_blocks_ints", lambda *a: (used.append(1), real_ints(*a)))
    monkeypatch.setattr(jit, "is_loaded", lambda k: False)
    monkeypatch.setattr(jit, "use_kernel", lambda *a, **k: False)
    got = np.empty((30, 2), dtype=U64)
    kernels.eval_blocks(row, starts, logs, pts, got)
    assert np.array_equal(got, want) and (used == [1]) == kernels._ints_cheaper(logs)
    for mix in ([0] * 79 + [8] + [4] * 10 + [2, 1], [2] * 256):  # many sizes, few blocks: ints; many of one size: numpy
        mix = np.array(mix, dtype=np.int64)
        st = np.array([int(rng.integers(0, 256 >> int(k))) << int(k) for k in mix], dtype=np.int64)
        pm = vec.ext_random(len(mix) * 8, rng).reshape(len(mix), 8, 2)
        a, b = np.empty((len(mix), 2), dtype=U64), np.empty((len(mix), 2), dtype=U64)
        used.clear()
        kernels.eval_blocks(row, st, mix, pm, a)
        kernels.eval_blocks_numpy(row, st, mix, pm, b)
        assert np.array_equal(a, b) and (used == [1]) == (mix.shape[0] == 92)

    _, tables, com, data = _committed((7, 3, 5), 6)
    claims = [_lin_eval(tables, i, [_ext(rng) for _ in range(s)]) for i, s in enumerate((7, 3, 5))]
    proof = _open(data, claims)
    assert proof.column_sumcheck is None
    used.clear()
    _verify(com, claims, proof)
    assert used  # the int fold ran inside the direct check
    monkeypatch.undo()
    _verify(com, claims, proof)


# ------------------------------------------- a malicious prover, direct mode


def _lie_with_u_moved(monkeypatch, move_u: bool):
    """One LinearClaim (coefficient 1) on the 7-variable table, claimed value
    off by delta. The batching sum-check is kept consistent by adding delta
    to the term's W(Y) at its row; when move_u, the evaluation row's entry
    j of that table is moved too, so that <eq(X, .), u'> equals the false
    W(rho) = W_true(rho) + delta eq(Y, rho): the direct sums hold."""
    from zkaudit.pcs import prover as plain_prover

    rng, tables, com, data = _committed((7, 3, 5), 51)
    m = data.layout.cols
    pt = [_ext(rng) for _ in range(7)]
    claim = _lin_eval(tables, 0, pt)
    delta = Fp2(777, 3)
    lie = [dataclasses.replace(claim, value=claim.value + delta)]
    terms = hiding.claim_terms(data.layout, data.num_tables, lie, ZK, _l(data))
    (term,) = terms[0]
    row = sum(int(b.c0) << (len(term.row_point) - 1 - i) for i, b in enumerate(term.row_point))
    X = list(term.col_point)
    j = 3  # a column inside table 0's block (columns 0..127 of row 0)
    unit = np.zeros((m, 2), dtype=U64)
    unit[j] = (1, 0)
    eq_xj = _lift(evaluate(unit, X))
    assert eq_xj != Fp2(0)

    honest_dots, honest_combine = hiding.term_dots, plain_prover.combine_rows

    def shifted(matrix, ts, width):
        dots = honest_dots(matrix, ts, width).copy()
        v = Fp2(int(dots[0, row, 0]), int(dots[0, row, 1])) + delta
        dots[0, row] = (v.c0, v.c1)
        return dots

    def moved(matrix, rho_eq):
        u = honest_combine(matrix, rho_eq).copy()
        if rho_eq.ndim == 2 and rho_eq.shape[0] == data.domain_rows:
            e = delta * Fp2(int(rho_eq[row, 0]), int(rho_eq[row, 1])) / eq_xj
            v = Fp2(int(u[j, 0]), int(u[j, 1])) + e
            u[j] = (v.c0, v.c1)
        return u

    monkeypatch.setattr(hiding, "term_dots", shifted)
    if move_u:
        monkeypatch.setattr(plain_prover, "combine_rows", moved)
    proof = _open(data, lie)
    monkeypatch.undo()
    return com, lie, proof


def test_a_lie_with_the_evaluation_row_moved_passes_the_direct_sums_but_not_the_columns(monkeypatch):
    """In the direct mode nothing but u stands behind the groups' values, so
    a prover who moves u to fit them must be caught by the encoded row
    against the opened columns. The test records that the direct check
    itself accepted (the forgery reached the column check)."""
    com, lie, proof = _lie_with_u_moved(monkeypatch, move_u=True)
    assert proof.column_sumcheck is None
    passed = []
    real = hiding_verifier._direct_check

    def recording(groups, claimed, data_row):
        real(groups, claimed, data_row)
        passed.append(True)

    monkeypatch.setattr(hiding_verifier, "_direct_check", recording)
    with pytest.raises(PcsRejected) as info:
        _verify(com, lie, proof)
    assert passed == [True], "the forged u should satisfy the direct sums"
    assert isinstance(info.value, EvaluationRowMismatch), info.value


def test_the_same_lie_without_moving_u_is_refused_by_the_direct_sums(monkeypatch):
    com, lie, proof = _lie_with_u_moved(monkeypatch, move_u=False)
    assert proof.column_sumcheck is None
    with pytest.raises(EvaluationMismatch, match="row group"):
        _verify(com, lie, proof)


# ---------------------------------------------------------- flag games


def _flag_offset(proof) -> int:
    raw = proof.to_bytes()
    at = raw.index(bytes(proof.evaluation_row.astype("<u8").tobytes())) + 16 * proof.evaluation_row.shape[0]
    assert raw[at] == (0 if proof.column_sumcheck is None else 1)
    return at


def test_byte_level_flag_splices_are_refused(monkeypatch):
    _, tables, com, data = _committed((7, 3, 5), 61)
    rng = np.random.default_rng(62)
    claims = [_lin_eval(tables, i, [_ext(rng) for _ in range(s)]) for i, s in enumerate((7, 3, 5))]
    direct = _open(data, claims)
    assert direct.column_sumcheck is None
    monkeypatch.setattr(column_check, "DIRECT_UP_TO", -1)
    forced = _open(data, claims)
    assert forced.column_sumcheck is not None
    _verify(com, claims, read_hiding_opening(forced.to_bytes(), com, ZK))
    monkeypatch.undo()

    d_raw, f_raw = direct.to_bytes(), forced.to_bytes()
    d_at, f_at = _flag_offset(direct), _flag_offset(forced)
    sc_bytes = forced.column_sumcheck.to_bytes()
    assert f_raw[f_at + 1 : f_at + 1 + len(sc_bytes)] == sc_bytes

    # (1) the forced proof as it stands, under the public rule: shape
    with pytest.raises(ProofShapeError, match="column sum-check"):
        _verify(com, claims, read_hiding_opening(f_raw, com, ZK))
    # (2) the direct proof with flag 1 and a (validly shaped) column sum-check spliced in
    spliced = d_raw[:d_at] + b"\x01" + sc_bytes + d_raw[d_at + 1:]
    parsed = read_hiding_opening(spliced, com, ZK)
    assert parsed.column_sumcheck is not None
    with pytest.raises(ProofShapeError, match="column sum-check"):
        _verify(com, claims, parsed)
    # (3) the forced proof with its flag cleared and the sum-check's bytes left behind
    cleared = f_raw[:f_at] + b"\x00" + f_raw[f_at + 1:]
    with pytest.raises(MalformedOpening):
        read_hiding_opening(cleared, com, ZK)
    # (4) the forced proof with the sum-check cut out, where the rule asks for it
    cut = f_raw[:f_at] + b"\x00" + f_raw[f_at + 1 + len(sc_bytes):]
    parsed = read_hiding_opening(cut, com, ZK)
    assert parsed.column_sumcheck is None
    # the rule says direct for these claims, so the shape passes; but the
    # query positions were drawn after the column sum-check's messages: refused
    with pytest.raises(PcsRejected):
        _verify(com, claims, parsed)
    monkeypatch.setattr(column_check, "DIRECT_UP_TO", -1)
    with pytest.raises(ProofShapeError, match="column sum-check"):
        _verify(com, claims, parsed)


# ------------------------------------------------------- soundness charge


def test_the_charge_drops_exactly_the_column_terms_in_direct_mode(monkeypatch):
    _, tables, com, data = _committed((7, 3, 5), 71)
    rng = np.random.default_rng(72)
    claims = [_lin_eval(tables, i, [_ext(rng) for _ in range(s)]) for i, s in enumerate((7, 3, 5))]
    layout, shaped = hiding_verifier.hiding_shape(com, ZK)
    log_n = layout.log_cols + shaped.log_blowup
    l = _l(data)
    num_groups = len(_verifier_plan(data, claims).row_points)
    charged = {}
    for mode, bound in (("direct", 2048), ("sumcheck", -1)):
        monkeypatch.setattr(column_check, "DIRECT_UP_TO", bound)
        proof = _open(data, claims)
        t = _transcript(com)
        _verify(com, claims, proof, t)
        (got,) = [c for what, c in t.charges if what == "hiding commitment opening"]
        charged[mode] = got
    want_direct = -shaped.soundness_bits_for(log_n, len(claims), l, extra=[])
    want_sc = -shaped.soundness_bits_for(log_n, len(claims), l,
                                         extra=column_check.soundness_terms(num_groups, layout.log_cols))
    assert charged["direct"] == pytest.approx(want_direct)
    assert charged["sumcheck"] == pytest.approx(want_sc)
    assert charged["direct"] <= charged["sumcheck"]
    assert column_check.soundness_terms(num_groups, layout.log_cols, direct=True) == []


# ------------------------------------------------ the direct sums' own cost


def test_the_direct_sums_fold_no_more_than_the_rule_counts(monkeypatch):
    """FAILS on 0f0db0c (a cost bug, not soundness). The rule counts a
    point's block after its leading 0/1 coordinates (`block_entries`:
    "the entries of u the terms' blocks hold") and lets the verifier sum
    directly up to DIRECT_UP_TO of them. The reference plan's sums fold
    exactly those blocks (`verifier._inner_with_row` -> `block_points`), but
    the array plan (`hiding_groups.plan`, every all-LinearClaim opening)
    folds each evaluation's whole table block (start = placement, log size =
    num_vars or log_cols) whatever its Boolean coordinates: here 12 claims
    at Boolean points of a wide table count 12 entries and fold 12 x 256.
    (At 2,000 such claims on a 2^18 table, m = 2^11: the rule's 2,000
    entries, 4.1 M folded, the direct verify ~3x the sum-check one.)"""
    rng, tables, com, data = _committed((9, 3), 81)
    m = data.layout.cols
    claims = [_lin_eval(tables, 0, [Fp2(int(b)) for b in rng.integers(0, 2, size=9)], _ext(rng))
              for _ in range(12)]
    count = column_check.block_entries(_verifier_plan(data, claims).eq_points)
    proof = _open(data, claims)
    folded = []
    real = kernels.eval_blocks

    def recording(row, starts, logs, pts, out):
        folded.append(int(np.sum(np.left_shift(1, np.asarray(logs, dtype=np.int64)))))
        return real(row, starts, logs, pts, out)

    monkeypatch.setattr(kernels, "eval_blocks", recording)
    _verify(com, claims, proof)
    # either fix passes: fold only the counted blocks, or count what is folded
    # (then these claims keep the column sum-check and nothing is folded)
    if proof.column_sumcheck is None:
        assert sum(folded) <= column_check.DIRECT_UP_TO, (
            f"direct sums folded {sum(folded)} entries for a rule count of {count} (m = {m})")
