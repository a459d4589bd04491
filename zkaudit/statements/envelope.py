"""The proof-file envelope: what every zkaudit proof starts with.

    magic   8 bytes   b"ZKAUDIT\\x00"
    version u16 LE    format version (FORMAT_VERSION)
    n       u8        length of the statement name, 1..64
    name    n bytes   ASCII statement name, [a-z0-9_-]
    body    rest      the statement's own encoding (its verifier parses it)

The envelope is parsed strictly and before anything else, so a verifier
never sees bytes that claim to be a proof but are not one: a wrong magic,
an unknown version or a bad name is a `MalformedProof` naming the part and
the expected and actual values.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof

MAGIC = b"ZKAUDIT\x00"
FORMAT_VERSION = 4  # 3: zero-knowledge inference proofs (inference protocol 4); 4: an inference body
# starts with its protocol version, so a proof of an older inference protocol is refused naming it
# Older formats still read, for the statements whose protocol they share
# (`statements.verify` refuses an inference proof of format 2 or 3: its
# protocol is not the one today's verifier runs).
READABLE_VERSIONS = {2, 3, FORMAT_VERSION}
# Format versions whose verifier accepted forged proofs: a proof made by
# them is refused with the reason, never checked by today's verifier.
UNSOUND_VERSIONS = {
    1: "made by zkaudit proof format 1, whose verifier accepted forged proofs (padding read by MatMul, "
       "ArgMax selecting unwired slots, one-sided weight ranges); re-prove with this version",
}
MAX_NAME_LEN = 64
_NAME_RE = re.compile(rb"[a-z0-9_-]+")
_HEADER = len(MAGIC) + 2 + 1


class UnsoundVersion(MalformedProof):
    """The proof was made by a version whose verifier is known to be unsound."""


@dataclass(frozen=True)
class Envelope:
    """A parsed proof: format version, statement name and the raw body."""

    version: int
    statement: str
    body: bytes


def encode_envelope(statement: str, body: bytes, *, version: int = FORMAT_VERSION) -> bytes:
    """The canonical bytes for `statement` + `body` (inverse of `parse_envelope`)."""
    name = statement.encode("ascii")
    if not (1 <= len(name) <= MAX_NAME_LEN) or _NAME_RE.fullmatch(name) is None:
        raise ValueError(f"invalid statement name {statement!r}")
    return MAGIC + struct.pack("<HB", version, len(name)) + name + bytes(body)


def parse_envelope(data: bytes) -> Envelope:
    """Parse a proof file's envelope; raise `MalformedProof` on any deviation."""
    data = bytes(data)
    if len(data) < _HEADER:
        raise MalformedProof(
            "proof is shorter than the envelope header", where="envelope", expected=f">= {_HEADER} bytes", got=len(data)
        )
    if data[: len(MAGIC)] != MAGIC:
        raise MalformedProof("not a zkaudit proof: bad magic", where="envelope.magic", expected=MAGIC, got=data[: len(MAGIC)])
    version, name_len = struct.unpack_from("<HB", data, len(MAGIC))
    if version in UNSOUND_VERSIONS:
        raise UnsoundVersion(UNSOUND_VERSIONS[version], where="envelope.version", expected=FORMAT_VERSION,
                             got=version)
    if version not in READABLE_VERSIONS:
        raise MalformedProof("unsupported proof format version", where="envelope.version", expected=FORMAT_VERSION, got=version)
    if not 1 <= name_len <= MAX_NAME_LEN:
        raise MalformedProof(
            "statement name length out of range", where="envelope.statement", expected=f"1..{MAX_NAME_LEN}", got=name_len
        )
    end = _HEADER + name_len
    if len(data) < end:
        raise MalformedProof(
            "proof ends inside the statement name", where="envelope.statement", expected=f">= {end} bytes", got=len(data)
        )
    name = data[_HEADER:end]
    if _NAME_RE.fullmatch(name) is None:
        raise MalformedProof(
            "statement name must be lowercase ASCII letters, digits, '_' or '-'",
            where="envelope.statement",
            expected="[a-z0-9_-]+",
            got=name,
        )
    return Envelope(version=version, statement=name.decode("ascii"), body=data[end:])
