"""Consent proof file: the envelope (`statements/envelope.py`, statement
name "consent") around this body, parsed strictly:

    magic b"ZKCP" | u8 version (2)
    | u32 len | statement: canonical JSON (statement.py)
    | u32 len | commitment to the multiplicities m (zero-knowledge: the
                hiding commitment of m and the proof's bank)
    | u32 len | LogUp against the committed table (lookup/committed_table.py)
    | u32 len | uniqueness zero-check (a sum-check; empty without unique_ids)
    | u32 len | re-padding sum-check of id_hi  (zero-knowledge only, else empty)
    | u32 len | re-padding sum-check of id_lo  (zero-knowledge only, else empty)
    | u32 len | the table's limb evaluations at the LogUp's table point
                (zero-knowledge only, else empty: 2 elements of K)
    | u32 len | opening of the dataset commitment (hiding)
    | u32 len | opening of the consent-table commitment (plain)
    | u32 len | opening of the multiplicity commitment

The statement embeds the full public records of the dataset and of the
consent table (both small: schema, commitment, counts), so a proof names
exactly what it is about; a verifier holding the signed records compares
their digests; its `zero_knowledge` flag says which protocol the proof
runs (the verifier checks the body follows it).

Version 1 (before datasets were committed hiding) is refused with a
message to re-prove: it was made against a plain dataset commitment, which
no longer parses, and it was never zero-knowledge.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.data.consent_table_verifier import split_parts
from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.lookup.committed_table import CommittedTableProof
from zkaudit.statements.common.statement import canonical_json, parse_canonical
from zkaudit.sumcheck.proof import SumcheckProof

STATEMENT = "consent"
STATEMENT_TYPE = "consent/v1"
MAGIC = b"ZKCP"
BODY_VERSION = 2
WHERE = "consent"
_PARTS = 10


class OldConsentFormat(MalformedProof):
    """A consent proof in a format this verifier no longer accepts: re-prove it."""


@dataclass(frozen=True)
class ConsentProof:
    statement: dict
    multiplicity_commitment: bytes
    lookup: CommittedTableProof
    uniqueness: SumcheckProof | None
    repad: tuple[SumcheckProof, ...]  # zero-knowledge: (id_hi, id_lo); plain: ()
    table_values: tuple[Fp2, ...]  # zero-knowledge: the table's two limb evaluations; plain: ()
    dataset_opening: bytes
    table_opening: bytes
    multiplicity_opening: bytes

    def to_bytes(self) -> bytes:
        repad = list(self.repad) if self.repad else [None, None]
        parts = [canonical_json(self.statement), self.multiplicity_commitment, self.lookup.to_bytes(),
                 b"" if self.uniqueness is None else self.uniqueness.to_bytes(),
                 *(b"" if r is None else r.to_bytes() for r in repad),
                 b"".join(v.to_bytes() for v in self.table_values), self.dataset_opening,
                 self.table_opening, self.multiplicity_opening]
        return MAGIC + bytes([BODY_VERSION]) + b"".join(struct.pack("<I", len(p)) + p for p in parts)

    @classmethod
    def from_bytes(cls, body: bytes) -> ConsentProof:
        body = bytes(body)
        if body[: len(MAGIC)] == MAGIC and len(body) > len(MAGIC) and body[len(MAGIC)] == 1:
            raise OldConsentFormat("consent proof format 1 is no longer accepted (it was made against a plain, "
                                   "non-hiding dataset commitment and is not zero-knowledge): re-commit the dataset "
                                   "and re-prove with `zkaudit prove-consent`", where=WHERE, expected=BODY_VERSION,
                                   got=1)
        try:
            parts = split_parts(body, _PARTS, MAGIC, BODY_VERSION, WHERE)
        except MalformedProof as exc:
            raise MalformedProof(f"consent proof body: {exc}", where=WHERE) from None
        statement = parse_canonical(parts[0], "consent statement")
        if not isinstance(statement, dict):
            raise MalformedProof("consent statement must be a JSON object", where=WHERE)
        uniq = SumcheckProof.from_bytes(parts[3]) if parts[3] else None
        if bool(parts[4]) != bool(parts[5]):
            raise MalformedProof("re-padding sum-checks come in pairs (id_hi, id_lo)", where=WHERE)
        repad = (SumcheckProof.from_bytes(parts[4]), SumcheckProof.from_bytes(parts[5])) if parts[4] else ()
        if len(parts[6]) % BYTES_EXT:
            raise MalformedProof("table values are whole elements of K", where=WHERE, got=len(parts[6]))
        tvals = tuple(Fp2.from_bytes(parts[6][i : i + BYTES_EXT]) for i in range(0, len(parts[6]), BYTES_EXT))
        return cls(statement, parts[1], CommittedTableProof.from_bytes(parts[2]), uniq, repad, tvals, parts[7],
                   parts[8], parts[9])
