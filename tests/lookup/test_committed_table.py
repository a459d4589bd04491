"""LogUp with numerators against a committed table: honest runs agree with a
naive reference of the relation; a prover that lies about one value (a row
outside the table, a multiplicity, a numerator, a padding row) is caught."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field.scalar import Fp2
from zkaudit.lookup import committed_table_prover as prover
from zkaudit.lookup import committed_table_verifier as verifier
from zkaudit.lookup.committed_table import CommittedTableInstance, CommittedTableProof
from zkaudit.lookup.errors import ColumnClaimMismatch, LookupSumNonZero
from zkaudit.lookup.next_index import next_eval, next_eval_reference, next_table, shift
from zkaudit.poly.mle import evaluate
from zkaudit.transcript import Transcript

U64 = np.uint64


def reference_holds(lookup_cols, numerators, table_cols, table_rows, m) -> bool:
    """The relation by counting: every looked-up row with numerator 1 is a
    real table row, and m_j counts them (m zero on padding rows)."""
    rows = Counter(tuple(int(c[i]) for c in lookup_cols) for i in range(len(numerators)) if numerators[i])
    table = [tuple(int(c[j]) for c in table_cols) for j in range(table_rows)]
    want = [rows.get(t, 0) for t in table] + [0] * (len(m) - table_rows)
    return set(rows) <= set(table) and [int(x) for x in m] == want


def _transcript() -> Transcript:
    t = Transcript()
    t.absorb_statement("test/committed-table", 1)
    return t


def _case(rng, nf, nt, table_rows, used, dup=0):
    th, tl = np.zeros(1 << nt, U64), np.zeros(1 << nt, U64)
    th[:table_rows] = rng.integers(0, 1 << 62, table_rows, dtype=U64)
    tl[:table_rows] = rng.integers(0, 1 << 62, table_rows, dtype=U64)
    pick = list(rng.choice(table_rows, used, replace=False)) + [0] * dup
    fh, fl, e = np.zeros(1 << nf, U64), np.zeros(1 << nf, U64), np.zeros(1 << nf, U64)
    fh[: len(pick)], fl[: len(pick)], e[: len(pick)] = th[pick], tl[pick], 1
    return [fh, fl], e, [th, tl]


def _run(inst, f, e, t, m):
    proof, claims = prover.prove(inst, f, e, t, m, _transcript())
    parsed = CommittedTableProof.from_bytes(proof.to_bytes())
    vc = verifier.verify(inst, parsed, _transcript())
    assert vc == claims
    return vc


def _discharge(vc, f, e, t, m):
    for cl, col in zip(vc.lookup_columns, f):
        cl.check(col, "lookup column")
    vc.numerators.check(e, "numerators")
    for cl, col in zip(vc.table_columns, t):
        cl.check(col, "table column")
    vc.multiplicities.check(m, "multiplicities")


@pytest.mark.parametrize("nf,nt,rows,used,dup", [(3, 4, 10, 5, 0), (4, 4, 16, 16, 0), (5, 3, 8, 6, 9),
                                                 (1, 1, 1, 1, 0), (6, 9, 300, 40, 3)])
def test_honest_runs_match_reference(nf, nt, rows, used, dup):
    rng = np.random.default_rng(nf * 100 + nt)
    f, e, t = _case(rng, nf, nt, rows, used, dup)
    m = prover.table_multiplicities(f, e, t, rows)
    assert reference_holds(f, e, t, rows, m)
    vc = _run(CommittedTableInstance(2, nf, nt, rows), f, e, t, m)
    _discharge(vc, f, e, t, m)


def test_row_not_in_table_refused_by_honest_prover_and_caught_by_verifier():
    rng = np.random.default_rng(1)
    f, e, t = _case(rng, 4, 5, 20, 8)
    f[1][3] ^= U64(1)  # one ID off by one bit
    with pytest.raises(prover.RowNotInTable) as info:
        prover.table_multiplicities(f, e, t, 20)
    assert info.value.row == 3
    good = [c.copy() for c in f]
    good[1][3] ^= U64(1)
    m = prover.table_multiplicities(good, e, t, 20)  # counts as if the row were the consented one
    assert not reference_holds(f, e, t, 20, m)
    with pytest.raises(LookupSumNonZero):
        _run(CommittedTableInstance(2, 4, 5, 20), f, e, t, m)


def test_wrong_multiplicity_caught():
    rng = np.random.default_rng(2)
    f, e, t = _case(rng, 4, 5, 20, 8)
    m = prover.table_multiplicities(f, e, t, 20)
    j = int(np.flatnonzero(m)[0])
    m[j] = U64(0)
    with pytest.raises(LookupSumNonZero):
        _run(CommittedTableInstance(2, 4, 5, 20), f, e, t, m)


def test_padding_row_of_the_table_cannot_be_used():
    """A looked-up zero row matches the table's zero padding as values, but
    padding carries tag 0 and looked-up rows tag 1."""
    rng = np.random.default_rng(3)
    f, e, t = _case(rng, 3, 4, 10, 4)
    e[5] = U64(1)  # a valid row whose ID is (0, 0): not a real table row
    m = prover.table_multiplicities([f[0][e == 1][:4].copy(), f[1][e == 1][:4].copy()], np.ones(4, U64), t, 10)
    m[12] = U64(1)  # claim it against padding row 12
    with pytest.raises(LookupSumNonZero):
        _run(CommittedTableInstance(2, 3, 4, 10), f, e, t, m)


def test_lying_about_one_value_fails_its_discharge():
    """A proof over a changed column verifies as a LogUp (the lie is
    consistent) but its claims do not match the committed column."""
    rng = np.random.default_rng(4)
    f, e, t = _case(rng, 4, 5, 20, 8)
    m = prover.table_multiplicities(f, e, t, 20)
    liar = [f[0].copy(), f[1].copy()]
    liar[0][2], liar[1][2] = t[0][19], t[1][19]
    m_liar = prover.table_multiplicities(liar, e, t, 20)
    vc = _run(CommittedTableInstance(2, 4, 5, 20), liar, e, t, m_liar)
    with pytest.raises(ColumnClaimMismatch):
        _discharge(vc, f, e, t, m_liar)
    e_liar = e.copy()
    e_liar[0] = U64(0)  # drop a record from the count: the numerator claim fails against the real valid column
    vc = _run(CommittedTableInstance(2, 4, 5, 20), f, e_liar, t, prover.table_multiplicities(f, e_liar, t, 20))
    with pytest.raises(ColumnClaimMismatch):
        vc.numerators.check(e, "numerators")
    assert m is not None


def test_proof_bytes_strict():
    rng = np.random.default_rng(5)
    f, e, t = _case(rng, 3, 3, 8, 5)
    m = prover.table_multiplicities(f, e, t, 8)
    proof, _ = prover.prove(CommittedTableInstance(2, 3, 3, 8), f, e, t, m, _transcript())
    data = proof.to_bytes()
    for bad in (data + b"\0", data[:-1], b"XXXX" + data[4:]):
        with pytest.raises(ProofRejected):
            CommittedTableProof.from_bytes(bad)
    for pos in range(5, len(data), max(1, len(data) // 40)):
        flipped = bytearray(data)
        flipped[pos] ^= 0x40
        with pytest.raises(ProofRejected):
            verifier.verify(CommittedTableInstance(2, 3, 3, 8), CommittedTableProof.from_bytes(bytes(flipped)),
                            _transcript())


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_next_index_closed_form_matches_reference(k):
    rng = np.random.default_rng(k)
    x = [Fp2(int(rng.integers(0, 2**62)), int(rng.integers(0, 2**62))) for _ in range(k)]
    y = [Fp2(int(rng.integers(0, 2**62)), int(rng.integers(0, 2**62))) for _ in range(k)]
    assert next_eval(x, y) == next_eval_reference(x, y)
    h = rng.integers(0, 1 << 40, 1 << k, dtype=U64)
    table = next_table(x)
    total = Fp2(0)
    for i in range(1 << k):
        total = total + Fp2(int(table[i, 0]), int(table[i, 1])) * int(h[i])
    assert total == evaluate(shift(h), x)
