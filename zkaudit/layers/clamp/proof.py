"""Wire type of a constraint-system proof (used by Clip/Relu and Requantize):

    u32 n | n bytes: the LogUp proof of every limb | sum-check proof of the zero-check

n = 0: the lookup is deferred to the proof's batched lookup
(`layers.lookup_batch`), as in every inference proof; a system proven on its
own carries its lookup.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.lookup.proof import LookupProof
from zkaudit.sumcheck.proof import SumcheckProof


@dataclass(frozen=True)
class SystemProof:
    lookup: LookupProof | None  # None: deferred to the batched lookup
    zero_check: SumcheckProof

    def to_bytes(self) -> bytes:
        lk = b"" if self.lookup is None else self.lookup.to_bytes()
        return struct.pack("<I", len(lk)) + lk + self.zero_check.to_bytes()

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[SystemProof, int]:
        if offset + 4 > len(data):
            raise MalformedProof("system proof truncated (lookup length)", expected=offset + 4, got=len(data))
        (n,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if offset + n > len(data):
            raise MalformedProof("system proof truncated (lookup)", expected=offset + n, got=len(data))
        lookup = LookupProof.from_bytes(data[offset : offset + n]) if n else None
        zc, offset = SumcheckProof.read(data, offset + n)
        return cls(lookup, zc), offset
