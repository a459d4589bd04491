"""Committing an IRB consent table: `commit_consent_table(ids, ...)`.

The table is the sorted list of consented pseudonymous IDs (two 62-bit
field elements each, `schema.id_limbs`), padded with zero rows to a power
of two; only the first `num_rows` rows are real (the consent proof's
LogUp tags them, `lookup/committed_table.py`). With it comes a proof that
those rows are strictly increasing, hence distinct (`lookup/sorted_rows.py`):
without it a table with a duplicated row would let two records share one
consented ID under `unique_ids`. Withdrawal or expiry is a new version that
`supersedes` the previous record's digest.

**Why this commitment stays plain (binding, not hiding).** statements.md
§1.4 asks hiding of every commitment to *low-entropy* data, against
dictionary attacks; the table's rows are project-scoped pseudonyms, keyed
hashes of 124 bits (§3.7), which no dictionary can guess, and the IRB may
publish a SHA-256 Merkle root of the same list beside it. What the table's
openings reveal (its own evaluations: here at the distinctness proof's
points, and in each consent proof at one random point per limb column) is
about the list of pseudonyms only, never about a dataset: a zero-knowledge
consent proof hides which rows the dataset uses (the multiplicities live in
the proof's own hiding commitment). A hiding table would also need a
zero-knowledge distinctness proof (not built); the evaluations a proof
reveals are linear in the pseudonyms, and determining a 2^20-row list from
them takes about 2^20 proofs.

Distinctness file:  b"ZKCTD" | u8 version | u32 len | sorted-rows proof
                    | u32 len | opening of (hi, lo) at the proof's points.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkaudit import pcs
from zkaudit.data.canonical import digest
from zkaudit.data.consent_table_verifier import PROOF_MAGIC, PROOF_VERSION, STATEMENT_TYPE
from zkaudit.data.dataset import opening_bytes, read_signed, signed_file, write_atomically
from zkaudit.data.errors import DataError, RecordRejected
from zkaudit.data.io import read_text_columns
from zkaudit.data.records import CONSENT_TYPE, ConsentTableRecord, default_params, padded_vars, params_json
from zkaudit.data.schema import id_limbs
from zkaudit.lookup import sorted_rows_prover
from zkaudit.transcript import Transcript

RECORD_FILE = "consent.json"
PROOF_FILE = "distinctness.zkp"
OPENING_FILE = "table.npz"


@dataclass(frozen=True)
class ConsentOpening:
    hi: np.ndarray  # 2^k, sorted, zero-padded
    lo: np.ndarray

    def prover_data(self, record: ConsentTableRecord) -> pcs.ProverData:
        c, data = pcs.commit([self.hi, self.lo], record.params)
        if c != record.commitment:
            raise RecordRejected("the consent-table opening does not match the record's commitment",
                                 where="consent-table")
        return data


def bind_table(transcript: Transcript, statement: dict, commitment_bytes: bytes) -> None:
    transcript.absorb_statement(STATEMENT_TYPE, PROOF_VERSION, digests={"statement": digest(statement)},
                                commitments={"table": commitment_bytes})


def read_ids(path: Path) -> list[str]:
    """IDs from the first column of a CSV or Parquet file (header row required)."""
    cols = read_text_columns(Path(path))
    if not cols:
        raise DataError(f"{path}: no columns")
    name = next(iter(cols))
    col = cols[name]
    if col.null_count:
        import pyarrow.compute as pc

        i = int(np.flatnonzero(pc.is_null(col).to_numpy(zero_copy_only=False))[0])
        raise DataError(f"row {i + 1}, column {name}: missing ID")
    return col.to_pylist()


def sorted_limbs(ids) -> tuple[np.ndarray, np.ndarray]:
    """IDs as sorted limb columns; DataError on a malformed or duplicate ID."""
    hi, lo = id_limbs(ids, what="consent ID")
    order = np.lexsort((lo, hi))
    hs, ls = hi[order], lo[order]
    dup = np.flatnonzero((hs[1:] == hs[:-1]) & (ls[1:] == ls[:-1]))
    if dup.size:
        a, b = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
        raise DataError(f"rows {a + 1} and {b + 1}: the same pseudonymous ID twice ({ids[a]}); a consent table "
                        "lists each ID once")
    return hs, ls


def commit_consent_table(ids, *, issuer: str, purpose: str, version: int = 1, supersedes: str | None = None,
                         params: pcs.PcsParams | None = None):
    """Returns (record, opening, distinctness proof bytes)."""
    params = params or default_params()
    hs, ls = sorted_limbs(list(ids))
    n = hs.shape[0]
    if n == 0:
        raise DataError("the consent table is empty")
    k = padded_vars(n)
    hi, lo = np.zeros(1 << k, dtype=np.uint64), np.zeros(1 << k, dtype=np.uint64)
    hi[:n], lo[:n] = hs, ls
    return commit_sorted(hi, lo, n, issuer=issuer, purpose=purpose, version=version, supersedes=supersedes,
                         params=params)


def commit_sorted(hi, lo, n, *, issuer, purpose, version, supersedes, params, beta=None, d=None):
    """Commit prepared limb columns and prove them distinct. `beta`/`d`
    override the honest witness (attack tests: a table with duplicates)."""
    commitment, pdata = pcs.commit([hi, lo], params)
    c_bytes = commitment.to_bytes()
    statement = {"type": CONSENT_TYPE, "issuer": issuer, "purpose": purpose, "version": version,
                 "supersedes": supersedes, "num_rows": n, "num_vars": hi.shape[0].bit_length() - 1,
                 "commitment": c_bytes.hex(), "pcs": params_json(params)}
    transcript = Transcript()
    bind_table(transcript, statement, c_bytes)
    proof, table_claims = sorted_rows_prover.prove(hi, lo, n, params, transcript, beta=beta, d=d)
    claims = [pcs.Claim(i, c.point, c.value) for pair in table_claims for i, c in enumerate(pair)]
    opening = pcs.open(pdata, claims, transcript)
    parts = [proof.to_bytes(), opening.to_bytes()]
    proof_bytes = PROOF_MAGIC + bytes([PROOF_VERSION]) + b"".join(struct.pack("<I", len(p)) + p for p in parts)
    doc = dict(statement, distinctness_proof=hashlib.sha256(proof_bytes).hexdigest())
    return ConsentTableRecord.from_json(doc), ConsentOpening(hi, lo), proof_bytes


def write_consent_table(out: Path, record: ConsentTableRecord, opening: ConsentOpening, proof: bytes,
                        signature: dict | None) -> None:
    write_atomically(out, {RECORD_FILE: signed_file(record.doc, signature), PROOF_FILE: proof,
                           OPENING_FILE: opening_bytes({"hi": opening.hi, "lo": opening.lo,
                                                        "record_digest": np.frombuffer(record.digest, np.uint8)})})


def load_consent_table(directory: Path, *, with_opening: bool = False):
    """(record, signature, distinctness proof bytes, opening or None)."""
    directory = Path(directory)
    doc, sig = read_signed(directory / RECORD_FILE, "consent-table record")
    record = ConsentTableRecord.from_json(doc)
    try:
        proof = (directory / PROOF_FILE).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the distinctness proof: {exc}") from None
    opening = None
    if with_opening:
        path = directory / OPENING_FILE
        if not path.is_file():
            raise DataError(f"{path} not found: proving needs the consent table's rows")
        with np.load(path, allow_pickle=False) as z:
            hi, lo, rd = z["hi"], z["lo"], z["record_digest"].tobytes()
        if rd != record.digest:
            raise RecordRejected(f"{path} belongs to another consent-table record", where="consent-table")
        opening = ConsentOpening(np.ascontiguousarray(hi, dtype=np.uint64), np.ascontiguousarray(lo, dtype=np.uint64))
    return record, sig, proof, opening
