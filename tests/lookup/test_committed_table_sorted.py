"""Sorted distinctness of a committed two-limb table: honest tables pass;
duplicates, disorder and forged witnesses are caught."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit import pcs
from zkaudit.errors import ProofRejected
from zkaudit.lookup import sorted_rows_prover as prover
from zkaudit.lookup import sorted_rows_verifier as verifier
from zkaudit.lookup.sorted_rows import SortedRowsProof
from zkaudit.transcript import Transcript

U64 = np.uint64
PARAMS = pcs.PcsParams.default()


def reference_sorted_distinct(hi, lo, n) -> bool:
    rows = [(int(hi[j]), int(lo[j])) for j in range(n)]
    return all(h < 1 << 62 and l < 1 << 62 for h, l in rows) and all(a < b for a, b in zip(rows, rows[1:]))


def _table(rng, k, n):
    ids = np.unique(rng.integers(0, 1 << 62, (n, 2), dtype=U64), axis=0)
    hi, lo = np.zeros(1 << k, U64), np.zeros(1 << k, U64)
    hi[:n], lo[:n] = ids[:, 0], ids[:, 1]
    return hi, lo


def _prove_verify(hi, lo, n, **forge):
    c, pdata = pcs.commit([hi, lo], PARAMS)

    def tr():
        t = Transcript()
        t.absorb_statement("test/sorted", 1, commitments={"table": c.to_bytes()})
        return t

    proof, claims = prover.prove(hi, lo, n, PARAMS, tr(), **forge)
    parsed = SortedRowsProof.from_bytes(proof.to_bytes())
    got = verifier.verify(parsed, hi.shape[0].bit_length() - 1, n, PARAMS, tr())
    assert got == claims
    for h, l in got:
        h.check(hi, "hi")
        l.check(lo, "lo")
    return proof


@pytest.mark.parametrize("k,n", [(1, 1), (1, 2), (3, 5), (4, 16), (6, 50)])
def test_honest_sorted_tables_pass(k, n):
    rng = np.random.default_rng(k * 10 + n)
    hi, lo = _table(rng, k, n)
    if n >= 3:  # equal hi with increasing lo exercises beta = 0
        hi[1] = hi[0]
        lo[1] = lo[0] + U64(1) if lo[1] <= lo[0] else lo[1]
    assert reference_sorted_distinct(hi, lo, n)
    _prove_verify(hi, lo, n)


def test_duplicate_row_refused_by_honest_prover():
    rng = np.random.default_rng(7)
    hi, lo = _table(rng, 4, 10)
    hi[5], lo[5] = hi[4], lo[4]
    assert not reference_sorted_distinct(hi, lo, 10)
    with pytest.raises(prover.NotSorted, match="rows 4 and 5"):
        prover.witness(hi, lo, 10)


def test_duplicate_row_with_forged_witness_rejected():
    """An IRB that duplicates a row and forges beta/d there (d = 0 looks like
    'the next row is one more') fails the zero-check."""
    rng = np.random.default_rng(8)
    hi, lo = _table(rng, 4, 10)
    beta, d = prover.witness(hi, lo, 10)
    hi[5], lo[5] = hi[4], lo[4]
    b2, d2 = beta.copy(), d.copy()
    for j in (4, 5):  # recompute the honest-looking witness around the duplicate
        up = hi[j + 1] > hi[j]
        b2[j] = U64(up)
        diff = int(hi[j + 1]) - int(hi[j]) - 1 if up else int(lo[j + 1]) - int(lo[j]) - 1
        d2[j] = U64(diff) if 0 <= diff < 1 << 62 else U64(0)
    with pytest.raises(ProofRejected):
        _prove_verify(hi, lo, 10, beta=b2, d=d2)


def test_out_of_order_with_forged_witness_rejected():
    rng = np.random.default_rng(9)
    hi, lo = _table(rng, 4, 12)
    beta, d = prover.witness(hi, lo, 12)
    hi[[3, 4]], lo[[3, 4]] = hi[[4, 3]], lo[[4, 3]]
    assert not reference_sorted_distinct(hi, lo, 12)
    with pytest.raises(ProofRejected):
        _prove_verify(hi, lo, 12, beta=beta, d=d)


def test_non_boolean_selector_rejected():
    rng = np.random.default_rng(10)
    hi, lo = _table(rng, 3, 6)
    beta, d = prover.witness(hi, lo, 6)
    beta[2] = U64(2)
    with pytest.raises(ProofRejected):
        _prove_verify(hi, lo, 6, beta=beta, d=d)


def test_values_beyond_62_bits_refused():
    hi, lo = np.zeros(4, U64), np.zeros(4, U64)
    lo[:3] = [1, 2, 1 << 62]
    with pytest.raises(prover.NotSorted, match="62 bits"):
        prover.witness(hi, lo, 3)


def test_proof_is_bound_to_the_table():
    rng = np.random.default_rng(11)
    hi, lo = _table(rng, 3, 6)
    proof = _prove_verify(hi, lo, 6)
    c, _ = pcs.commit([hi, lo], PARAMS)
    t = Transcript()
    t.absorb_statement("test/sorted", 1, commitments={"table": c.to_bytes()})
    with pytest.raises(ProofRejected):  # claimed for 5 rows, proven for 6
        verifier.verify(proof, 3, 5, PARAMS, t)
    data = proof.to_bytes()
    for pos in range(5, len(data), len(data) // 25):
        flipped = bytearray(data)
        flipped[pos] ^= 0x08
        t = Transcript()
        t.absorb_statement("test/sorted", 1, commitments={"table": c.to_bytes()})
        with pytest.raises(ProofRejected):
            verifier.verify(SortedRowsProof.from_bytes(bytes(flipped)), 3, 6, PARAMS, t)
