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
from zkaudit.errors import MalformedProof
from zkaudit.transcript import Transcript

__all__ = ["bind", "canonical_json", "digest", "other_protocol", "parse_canonical", "require_protocol"]

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


def require_protocol(statement, statement_type: str, version: int, *, what: str, where: str,
                     command: str = "") -> None:
    """Refuse a statement of another type or protocol version, naming both,
    before its keys are looked at: an older protocol may have had other
    keys, and its proof would otherwise be refused for those, or at the
    first check the protocols do differently, with a reason that reads like
    a forgery's. `command`: the one that re-proves, named in the reason."""
    if not isinstance(statement, dict):
        raise MalformedProof(f"the {what} statement is not a JSON object", where=where, expected="a JSON object",
                             got=type(statement).__name__)
    got_type = statement.get("type")
    if got_type != statement_type:
        raise MalformedProof(f"not a {what} statement", where=where, expected=statement_type, got=got_type)
    if "protocol_version" not in statement:
        raise other_protocol(what, None, version, where=where, command=command, named=False)
    got = statement["protocol_version"]
    if type(got) is not int or got != version:
        raise other_protocol(what, got, version, where=where, command=command)


def other_protocol(what: str, got, version: int, *, where: str, command: str = "",
                   named: bool = True) -> MalformedProof:
    """The reason a proof of another protocol version is refused, the same
    for every statement (an inference body's u16 version as a statement's
    JSON one); `named` False: the proof names none."""
    made = f"made by {what} protocol {got!r}" if named else f"the {what} statement names no protocol version"
    redo = f"re-prove with this version{f' (`{command}`)' if command else ''}"
    return MalformedProof(f"{made}, and this verifier runs protocol {version}; {redo}", where=where,
                          expected=version, got=got)
