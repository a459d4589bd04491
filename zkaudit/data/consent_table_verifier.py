"""Checking a consent table's distinctness proof against its record: the
rows committed in `c_C` are strictly increasing 124-bit IDs, so distinct.
A registry runs this before publishing a table; `verify-consent` too."""

from __future__ import annotations

import hashlib
import struct

from zkaudit import pcs
from zkaudit.data.canonical import digest
from zkaudit.data.errors import MalformedRecord, RecordRejected
from zkaudit.data.records import ConsentTableRecord
from zkaudit.lookup import sorted_rows_verifier
from zkaudit.lookup.sorted_rows import SortedRowsProof
from zkaudit.pcs.verifier import read_opening
from zkaudit.transcript import Transcript

PROOF_MAGIC = b"ZKCTD"
PROOF_VERSION = 1
STATEMENT_TYPE = "zkaudit/consent-table-distinct"
WHERE = "consent-table"


def split_parts(data: bytes, count: int, magic: bytes, version: int, where: str) -> list[bytes]:
    """magic | u8 version | count x (u32 length | bytes), nothing after."""
    data = bytes(data)
    if data[: len(magic)] != magic:
        raise MalformedRecord("bad magic", where=where, expected=magic, got=data[: len(magic)])
    pos = len(magic)
    if len(data) <= pos or data[pos] != version:
        raise MalformedRecord("unsupported version", where=where, expected=version,
                              got=data[pos] if len(data) > pos else None)
    pos += 1
    parts = []
    for i in range(count):
        if pos + 4 > len(data):
            raise MalformedRecord("truncated", where=where, round=i)
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if pos + n > len(data):
            raise MalformedRecord("truncated", where=where, round=i, expected=pos + n, got=len(data))
        parts.append(data[pos : pos + n])
        pos += n
    if pos != len(data):
        raise MalformedRecord("trailing bytes", where=where, expected=pos, got=len(data))
    return parts


def verify_consent_table(record: ConsentTableRecord, proof_bytes: bytes) -> None:
    """Raises a `ProofRejected` subclass unless the proof shows the record's rows distinct."""
    got = hashlib.sha256(proof_bytes).hexdigest()
    if got != record.doc["distinctness_proof"]:
        raise RecordRejected("distinctness proof is not the one the record names", where=WHERE,
                             expected=record.doc["distinctness_proof"], got=got)
    sorted_part, opening_part = split_parts(proof_bytes, 2, PROOF_MAGIC, PROOF_VERSION, WHERE)
    proof = SortedRowsProof.from_bytes(sorted_part)
    opening = read_opening(opening_part, record.commitment, record.params)
    transcript = Transcript()
    transcript.absorb_statement(STATEMENT_TYPE, PROOF_VERSION, digests={"statement": digest(record.statement())},
                                commitments={"table": record.commitment.to_bytes()})
    table_claims = sorted_rows_verifier.verify(proof, record.num_vars, record.num_rows, record.params, transcript)
    claims = [pcs.Claim(i, c.point, c.value) for pair in table_claims for i, c in enumerate(pair)]
    pcs.verify(record.commitment, claims, opening, transcript, record.params)
