"""The statement envelope of design/statements.md §1.4.

A statement is a JSON object: `type` (e.g. "consent/v1"), `protocol_version`,
every commitment (hex of its canonical bytes), every public input, and the
digest of any policy JSON. Its canonical form is UTF-8 JSON with sorted keys,
no whitespace, integers only (no floats: a float's decimal form is not
canonical across languages; fixed-point values are integers with a declared
scale), and ASCII strings. The digest is SHA-256 over a domain tag and the
canonical bytes. `bind` absorbs the type and digest into the transcript,
before any challenge, so a proof checked against any other statement
(another dataset, table version, purpose, flag) draws other challenges and
fails.
"""

from __future__ import annotations

from zkaudit.data.canonical import canonical_json, digest, parse_canonical
from zkaudit.transcript import Transcript

__all__ = ["bind", "canonical_json", "digest", "parse_canonical"]

PROTOCOL_VERSION = 1


def bind(transcript: Transcript, statement: dict, *, commitments: dict[str, bytes] | None = None) -> bytes:
    """Absorb the statement (its type, protocol version and digest, plus the raw
    commitments it names) before any challenge; returns the digest."""
    if not isinstance(statement.get("type"), str):
        raise ValueError("a statement needs a string 'type'")
    h = digest(statement)
    transcript.absorb_statement(statement["type"], int(statement.get("protocol_version", PROTOCOL_VERSION)),
                                digests={"statement": h}, commitments=commitments or {})
    return h
