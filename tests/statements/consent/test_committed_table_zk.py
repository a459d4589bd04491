"""The consent proof's LogUp against a committed table, run zero-knowledge
(lookup/committed_table.py): tested below the PCS. The verifier's deferred
checks are affine forms in the bank; evaluated at the prover's bank (what
the bank opening would confirm) they are all zero on an honest run, and
each lie (a row outside the table, a wrong multiplicity, a numerator on a
padding row's value) leaves one that is not. The claims handed back are
Hidden and, at the prover's bank, equal the tables' true evaluations."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import committed_table_prover as prover
from zkaudit.lookup import committed_table_verifier as verifier
from zkaudit.lookup.committed_table import CommittedTableInstance, CommittedTableProof
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck.zk import ZkProver, ZkSession
from zkaudit.transcript import Transcript

U64 = np.uint64
BANK = 4096


def _transcript(zk) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/committed-table-zk", 1)
    t.zk = zk
    return t


def _case(rng, nf=4, nt=5, table_rows=20, used=9):
    th, tl = np.zeros(1 << nt, U64), np.zeros(1 << nt, U64)
    th[:table_rows] = rng.integers(0, 1 << 62, table_rows, dtype=U64)
    tl[:table_rows] = rng.integers(0, 1 << 62, table_rows, dtype=U64)
    pick = rng.choice(table_rows, used, replace=False)
    fh, fl, e = np.zeros(1 << nf, U64), np.zeros(1 << nf, U64), np.zeros(1 << nf, U64)
    fh[:used], fl[:used], e[:used] = th[pick], tl[pick], 1
    inst = CommittedTableInstance(2, nf, nt, table_rows)
    return inst, [fh, fl], e, [th, tl]


def _run(inst, f, e, t, m):
    """(the prover's session, the verifier's session, the verifier's claims)."""
    zp = ZkProver({"advice": BANK})
    proof, _ = prover.prove(inst, f, e, t, m, _transcript(zp))
    assert proof.zero_knowledge
    parsed = CommittedTableProof.from_bytes(proof.to_bytes())
    zv = ZkSession({"advice": BANK})
    claims = verifier.verify(inst, parsed, _transcript(zv))
    return zp, zv, claims


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def test_honest_run_every_deferred_check_holds_and_claims_are_the_evaluations():
    rng = np.random.default_rng(5)
    inst, f, e, t = _case(rng)
    m = prover.table_multiplicities(f, e, t, inst.table_rows)
    zp, zv, claims = _run(inst, f, e, t, m)
    assert zv.checks and all(zp.value(c) == Fp2(0) for c in zv.checks)
    assert zv.banks_used() == zp.banks_used()
    for cl, col in [(c, f[i]) for i, c in enumerate(claims.lookup_columns)] + [(claims.numerators, e)]:
        assert not cl.value.is_public and zp.value(cl.value) == _ext(evaluate(col, list(cl.point)))
    for cl, col in [(c, t[i]) for i, c in enumerate(claims.table_columns)] + [(claims.multiplicities, m)]:
        assert not cl.value.is_public and zp.value(cl.value) == _ext(evaluate(col, list(cl.point)))


@pytest.mark.parametrize("attack", ["row_outside_table", "multiplicity_off_by_one", "count_on_padding_row"])
def test_each_lie_leaves_a_deferred_check_that_fails(attack):
    rng = np.random.default_rng(6)
    inst, f, e, t = _case(rng)
    m = prover.table_multiplicities(f, e, t, inst.table_rows)
    f = [c.copy() for c in f]
    if attack == "row_outside_table":
        f[1][0] ^= U64(1)  # the first looked-up row leaves the table; m still counts the original
    elif attack == "multiplicity_off_by_one":
        m = m.copy()
        m[int(np.flatnonzero(m)[0])] += U64(1)
    else:  # a looked-up row moved onto a padding row's value (0, 0), counted there
        j = int(np.flatnonzero((t[0][: inst.table_rows] == f[0][0]) & (t[1][: inst.table_rows] == f[1][0]))[0])
        f[0][0], f[1][0] = U64(0), U64(0)
        m = m.copy()
        m[j] -= U64(1)
        m[inst.table_rows] = U64(1)
    try:
        zp, zv, _ = _run(inst, f, e, t, m)
    except ProofRejected:
        return  # refused on the spot
    assert any(zp.value(c) != Fp2(0) for c in zv.checks)


def test_leaf_values_must_be_the_gkr_leaves():
    """The GKR runs on a stranger-free copy of the looked-up rows (every row
    in the table, counts to match) while the values sent are those of the
    true rows, which the dataset's opening would confirm: only the deferred
    leaf check ties the two, and it fails."""
    import dataclasses

    rng = np.random.default_rng(7)
    inst, f, e, t = _case(rng)
    true_f = [c.copy() for c in f]
    true_f[1][0] ^= U64(1)  # the true first row is a stranger
    m = prover.table_multiplicities(f, e, t, inst.table_rows)
    zp = ZkProver({"advice": BANK})
    proof, claims = prover.prove(inst, f, e, t, m, _transcript(zp))
    rf = list(claims.lookup_columns[1].point)
    shift = _ext(evaluate(true_f[1], rf)) - _ext(evaluate(f[1], rf))
    values = list(proof.lookup_values)
    values[1] = values[1] + shift  # the pad stays, the padded value is now the true column's
    forged = dataclasses.replace(proof, lookup_values=tuple(values))
    zv = ZkSession({"advice": BANK})
    got = verifier.verify(inst, CommittedTableProof.from_bytes(forged.to_bytes()), _transcript(zv))
    assert zp.value(got.lookup_columns[1].value) == _ext(evaluate(true_f[1], rf))  # the opening would pass
    assert any(zp.value(c) != Fp2(0) for c in zv.checks)
