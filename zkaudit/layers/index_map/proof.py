"""Wire type: u32 k | k * Fp2 (S_j) | k sum-check proofs. k = 0 when the map
is the identity on tables (the claim passes through)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.sumcheck.proof import SumcheckProof

MAX_INPUTS = 1 << 16


@dataclass(frozen=True)
class IndexMapProof:
    partial_sums: tuple[Fp2, ...]
    sumchecks: tuple[SumcheckProof, ...]

    def to_bytes(self) -> bytes:
        parts = [struct.pack("<I", len(self.partial_sums))]
        parts += [s.to_bytes() for s in self.partial_sums]
        parts += [sc.to_bytes() for sc in self.sumchecks]
        return b"".join(parts)

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[IndexMapProof, int]:
        if offset + 4 > len(data):
            raise MalformedProof("index-map proof truncated at its header", expected=offset + 4, got=len(data))
        (k,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if k > MAX_INPUTS or offset + k * BYTES_EXT > len(data):
            raise MalformedProof("index-map proof truncated in its partial sums", expected=offset + k * BYTES_EXT,
                                 got=len(data))
        sums = []
        for _ in range(k):
            sums.append(Fp2.from_bytes(data[offset : offset + BYTES_EXT]))
            offset += BYTES_EXT
        scs = []
        for _ in range(k):
            sc, offset = SumcheckProof.read(data, offset)
            scs.append(sc)
        return cls(tuple(sums), tuple(scs)), offset
