"""Wire type of a Table proof:  u32 n | n bytes: the LogUp proof (n = 0: deferred
to the proof's batched lookup, `layers.lookup_batch`)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.lookup.proof import LookupProof


@dataclass(frozen=True)
class TableProof:
    lookup: LookupProof | None

    def to_bytes(self) -> bytes:
        lk = b"" if self.lookup is None else self.lookup.to_bytes()
        return struct.pack("<I", len(lk)) + lk

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[TableProof, int]:
        if offset + 4 > len(data):
            raise MalformedProof("table proof truncated (length)", expected=offset + 4, got=len(data))
        (n,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if offset + n > len(data):
            raise MalformedProof("table proof truncated", expected=offset + n, got=len(data))
        return cls(LookupProof.from_bytes(data[offset : offset + n]) if n else None), offset + n
