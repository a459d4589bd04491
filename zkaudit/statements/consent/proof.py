"""Consent proof file: the envelope (`statements/envelope.py`, statement
name "consent") around this body, parsed strictly:

    magic b"ZKCP" | u8 version
    | u32 len | statement: canonical JSON (statement.py)
    | u32 len | commitment to the multiplicities m
    | u32 len | LogUp against the committed table (lookup/committed_table.py)
    | u32 len | uniqueness zero-check (a sum-check; empty without unique_ids)
    | u32 len | opening of the dataset commitment
    | u32 len | opening of the consent-table commitment
    | u32 len | opening of the multiplicity commitment

The statement embeds the full public records of the dataset and of the
consent table (both small: schema, commitment, counts), so a proof names
exactly what it is about; a verifier holding the signed records compares
their digests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.data.consent_table_verifier import split_parts
from zkaudit.errors import MalformedProof
from zkaudit.lookup.committed_table import CommittedTableProof
from zkaudit.statements.common.statement import canonical_json, parse_canonical
from zkaudit.sumcheck.proof import SumcheckProof

STATEMENT = "consent"
STATEMENT_TYPE = "consent/v1"
MAGIC = b"ZKCP"
BODY_VERSION = 1
WHERE = "consent"


@dataclass(frozen=True)
class ConsentProof:
    statement: dict
    multiplicity_commitment: bytes
    lookup: CommittedTableProof
    uniqueness: SumcheckProof | None
    dataset_opening: bytes
    table_opening: bytes
    multiplicity_opening: bytes

    def to_bytes(self) -> bytes:
        parts = [canonical_json(self.statement), self.multiplicity_commitment, self.lookup.to_bytes(),
                 b"" if self.uniqueness is None else self.uniqueness.to_bytes(), self.dataset_opening,
                 self.table_opening, self.multiplicity_opening]
        return MAGIC + bytes([BODY_VERSION]) + b"".join(struct.pack("<I", len(p)) + p for p in parts)

    @classmethod
    def from_bytes(cls, body: bytes) -> ConsentProof:
        try:
            parts = split_parts(body, 7, MAGIC, BODY_VERSION, WHERE)
        except MalformedProof as exc:
            raise MalformedProof(f"consent proof body: {exc}", where=WHERE) from None
        statement = parse_canonical(parts[0], "consent statement")
        if not isinstance(statement, dict):
            raise MalformedProof("consent statement must be a JSON object", where=WHERE)
        uniq = SumcheckProof.from_bytes(parts[3]) if parts[3] else None
        return cls(statement, parts[1], CommittedTableProof.from_bytes(parts[2]), uniq, parts[4], parts[5], parts[6])
