"""The hiding opening's direct column sums (`column_check.direct`): an
opening whose eq-weighted terms' blocks are small carries no column
sum-check and the verifier computes every group's value from the
evaluation row itself. The rule is public and the same on both sides (a
point's leading 0/1 coordinates shrink its block on both); a proof that
carries the sum-check where the rule says direct, or lacks it where the
rule asks for it, is refused; a false value is refused by the sums alone;
the flag byte parses strictly; the int fold equals the numpy and kernel
folds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.pcs import Claim, column_check, commit, kernels, open as pcs_open, verify
from zkaudit.pcs.errors import EvaluationMismatch, MalformedOpening, PcsRejected, ProofShapeError
from zkaudit.pcs.params import PcsParams
from zkaudit.pcs.proof import HIDING_OPENING_VERSION, HidingOpeningProof
from zkaudit.transcript import Transcript

ZK = PcsParams.default_hiding()


def _ext(rng) -> Fp2:
    return Fp2(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64)))


def _transcript(com) -> Transcript:
    t = Transcript()
    t.absorb_statement("column-direct-test", 1, commitments={"tables": com.to_bytes()})
    return t


def _opening(rng, sizes=(7, 3, 5), points=None):
    tables = [vec.random(1 << s, rng) for s in sizes]
    com, data = commit(tables, ZK)
    points = points or [tuple(_ext(rng) for _ in range(s)) for s in sizes]
    claims = [Claim(i, pt, data.masked_value(i, pt)) for i, pt in enumerate(points)]
    return com, data, claims, pcs_open(data, claims, _transcript(com))


def _verify(com, claims, proof):
    verify(com, claims, proof, _transcript(com), ZK)


def test_a_small_opening_has_no_column_sumcheck_and_verifies():
    com, _, claims, proof = _opening(np.random.default_rng(1))
    assert proof.column_sumcheck is None
    _verify(com, claims, proof)
    raw = proof.to_bytes()
    assert HidingOpeningProof.from_bytes(raw).to_bytes() == raw


def test_a_false_value_is_refused_by_the_direct_sums():
    com, _, claims, proof = _opening(np.random.default_rng(2))
    for i in range(len(claims)):
        for delta in (Fp2(1), Fp2(0, 1), Fp2(P - 1)):
            lie = list(claims)
            lie[i] = dataclasses.replace(claims[i], value=claims[i].value + delta)
            with pytest.raises(PcsRejected):
                _verify(com, lie, proof)


def test_the_evaluation_row_moved_is_refused_even_where_the_columns_would_follow():
    """A data-row entry moved: the direct sums see it before any column."""
    com, _, claims, proof = _opening(np.random.default_rng(3))
    row = proof.evaluation_row.copy()
    row[0, 0] = (int(row[0, 0]) + 1) % P
    with pytest.raises(EvaluationMismatch, match="row group"):
        _verify(com, claims, dataclasses.replace(proof, evaluation_row=row))


def test_a_column_sumcheck_the_rule_does_not_ask_for_is_refused(monkeypatch):
    rng = np.random.default_rng(4)
    monkeypatch.setattr(column_check, "DIRECT_UP_TO", -1)
    com, _, claims, with_sc = _opening(rng)
    assert with_sc.column_sumcheck is not None
    _verify(com, claims, with_sc)
    monkeypatch.setattr(column_check, "DIRECT_UP_TO", 2048)
    with pytest.raises(ProofShapeError, match="column sum-check"):
        _verify(com, claims, with_sc)
    # and the other way: the rule asks for it, the proof lacks it
    monkeypatch.setattr(column_check, "DIRECT_UP_TO", -1)
    with pytest.raises(ProofShapeError, match="column sum-check"):
        _verify(com, claims, dataclasses.replace(with_sc, column_sumcheck=None))


def test_the_rule_sees_large_blocks_and_keeps_the_sumcheck():
    """Sixteen claims on eight tables of 2^11 and 2^12 entries: each folds a
    whole row of u, past the bound in all."""
    rng = np.random.default_rng(5)
    sizes = (12, 11) * 4
    tables = [vec.random(1 << s, rng) for s in sizes]
    com, data = commit(tables, ZK)
    assert 16 << com.log_cols > column_check.DIRECT_UP_TO
    claims = []
    for i in range(16):
        pt = tuple(_ext(rng) for _ in range(sizes[i // 2]))
        claims.append(Claim(i // 2, pt, data.masked_value(i // 2, pt)))
    proof = pcs_open(data, claims, _transcript(com))
    assert proof.column_sumcheck is not None
    _verify(com, claims, proof)


def test_boolean_leading_coordinates_shrink_the_block_alike_on_both_sides(monkeypatch):
    """Points whose leading coordinates are 0 or 1 fold smaller blocks: the
    prover's count (from its terms) and the verifier's (from its plan) must
    agree, or honest proofs would be refused. Swept over every bound up to
    past the count: the honest opening verifies at each, and both branches
    occur (the branch flips exactly at the count)."""
    rng = np.random.default_rng(6)
    sizes = (6, 3, 5)
    tables = [vec.random(1 << s, rng) for s in sizes]
    com, data = commit(tables, ZK)
    points = [(Fp2(1), Fp2(0)) + tuple(_ext(rng) for _ in range(4)),
              (Fp2(0), _ext(rng), Fp2(1)),
              tuple(_ext(rng) for _ in range(5))]
    claims = [Claim(i, pt, data.masked_value(i, pt)) for i, pt in enumerate(points)]
    seen = set()
    for bound in range(0, 40 << 2):
        monkeypatch.setattr(column_check, "DIRECT_UP_TO", bound)
        proof = pcs_open(data, claims, _transcript(com))
        _verify(com, claims, proof)
        seen.add(proof.column_sumcheck is None)
    assert seen == {True, False}


def _bits_reference(points: np.ndarray) -> int:
    starts, logs, _ = kernels.block_points([[Fp2(int(a), int(b)) for a, b in p] for p in points.tolist()],
                                           points.shape[1])
    return int(sum(1 << int(v) for v in logs))


@pytest.mark.parametrize("seed", range(6))
def test_block_entries_is_the_block_points_count(seed):
    rng = np.random.default_rng(seed)
    n, count = int(rng.integers(1, 10)), int(rng.integers(1, 30))
    pts = rng.integers(0, P, size=(count, n, 2), dtype=np.uint64)
    for i in range(count):  # leading Boolean coordinates of random lengths, some with a Boolean later on
        lead = int(rng.integers(0, n + 1))
        pts[i, :lead, 1] = 0
        pts[i, :lead, 0] = rng.integers(0, 2, size=lead)
        if lead + 1 < n and rng.integers(0, 2):
            pts[i, lead + 1] = (1, 0)
        if lead < n and rng.integers(0, 2):
            pts[i, lead] = (2, 0)  # 2 is not Boolean
    assert column_check.block_entries(pts) == _bits_reference(pts)
    assert column_check.block_entries(np.zeros((0, n, 2), dtype=np.uint64)) == 0


@pytest.mark.parametrize("seed", range(5))
def test_eval_blocks_on_ints_equals_numpy_and_the_kernel(seed):
    rng = np.random.default_rng(seed)
    m_log = int(rng.integers(1, 9))
    row = vec.ext_random(1 << m_log, rng)
    row[0] = (P - 1, P - 1)
    count = int(rng.integers(1, 40))
    logs = rng.integers(0, m_log + 1, size=count).astype(np.int64)
    starts = np.array([int(rng.integers(0, (1 << m_log) >> int(k))) << int(k) for k in logs], dtype=np.int64)
    pts = np.zeros((count, m_log, 2), dtype=np.uint64)
    for i, k in enumerate(logs):
        pts[i, :k] = rng.integers(0, P, size=(int(k), 2), dtype=np.uint64)
        if k and rng.integers(0, 2):
            pts[i, 0] = (0, 0) if rng.integers(0, 2) else (1, 0)
    outs = [np.empty((count, 2), dtype=np.uint64) for _ in range(3)]
    kernels.eval_blocks_ints(row, starts, logs, pts, outs[0])
    kernels.eval_blocks_numpy(row, starts, logs, pts, outs[1])
    kernels._eval_blocks(row, starts, logs, pts, outs[2])
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])


def test_the_flag_byte_parses_strictly():
    com, _, claims, proof = _opening(np.random.default_rng(7))
    raw = bytearray(proof.to_bytes())
    width = proof.evaluation_row.shape[0]
    at = raw.index(bytes(proof.evaluation_row.astype("<u8").tobytes())) + 16 * width
    assert raw[at] == 0
    for flag in (2, 255):
        bad = bytes(raw[:at]) + bytes([flag]) + bytes(raw[at + 1:])
        with pytest.raises(MalformedOpening, match="flag"):
            HidingOpeningProof.from_bytes(bad)
    # flag 1 with nothing behind it where a sum-check should be
    bad = bytes(raw[:at]) + b"\x01" + bytes(raw[at + 1:])
    with pytest.raises(MalformedOpening):
        HidingOpeningProof.from_bytes(bad)


def test_the_previous_version_is_refused_by_name():
    com, _, claims, proof = _opening(np.random.default_rng(8))
    raw = bytearray(proof.to_bytes())
    assert HIDING_OPENING_VERSION == 4
    raw[4:6] = (3).to_bytes(2, "little")
    with pytest.raises(MalformedOpening, match="unsupported version"):
        HidingOpeningProof.from_bytes(bytes(raw))


def shift_first_term(monkeypatch, delta: Fp2):
    """A malicious prover's batching sum-check: the first claim term's row
    values W_t(y) raised by delta at its own (Boolean) row point, so that a
    claim raised by delta keeps every round consistent and only the final
    W_G(rho) is off. Returns the honest `term_dots`."""
    from zkaudit.pcs import hiding

    honest_dots = hiding.term_dots

    def shifted(matrix, terms, m):
        dots = honest_dots(matrix, terms, m).copy()
        row = sum(int(b.c0) << (len(terms[0].row_point) - 1 - i) for i, b in enumerate(terms[0].row_point))
        v = Fp2(int(dots[0, row, 0]), int(dots[0, row, 1])) + delta
        dots[0, row] = (v.c0, v.c1)
        return dots

    monkeypatch.setattr(hiding, "term_dots", shifted)
    return honest_dots


@pytest.mark.parametrize("forced_sumcheck", [False, True])
def test_a_prover_whose_batching_sumcheck_carries_a_false_value_is_refused(monkeypatch, forced_sumcheck):
    """A malicious prover: claim 0's value raised by delta and its table
    term's row W_t(Y_t) raised by delta in the batching sum-check's tables,
    so that every round adds up and only the final W_G(rho) is off (by
    delta eq(Y_t, rho)). The direct sums refuse it, as the column
    sum-check does in the mode that has one."""
    from zkaudit.pcs import hiding

    if forced_sumcheck:
        monkeypatch.setattr(column_check, "DIRECT_UP_TO", -1)
    rng = np.random.default_rng(9)
    delta = Fp2(12345, 678)
    tables = [vec.random(1 << s, rng) for s in (7, 3, 5)]
    com, data = commit(tables, ZK)
    points = [tuple(_ext(rng) for _ in range(s)) for s in (7, 3, 5)]
    claims = [Claim(i, pt, data.masked_value(i, pt)) for i, pt in enumerate(points)]
    lie = [dataclasses.replace(claims[0], value=claims[0].value + delta)] + claims[1:]
    honest_dots = shift_first_term(monkeypatch, delta)
    proof = pcs_open(data, lie, _transcript(com))
    assert (proof.column_sumcheck is None) != forced_sumcheck
    with pytest.raises(EvaluationMismatch, match="row group|column check|contradict"):
        _verify(com, lie, proof)
    monkeypatch.setattr(hiding, "term_dots", honest_dots)
    _verify(com, claims, pcs_open(data, claims, _transcript(com)))
