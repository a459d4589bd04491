"""Wire type of a PointerWalk proof:

    committed-table LogUp proof (`lookup.committed_table`, self-delimiting)
    | u32 k | k * Fp2 (start~(r_t), then each level's value L~(l, r_t);
                      zero-knowledge: padded)
    | sum-check proof of the levels' padding zero-check

k is D + 1 for a walk of D steps; the reader bounds it and the verifier
checks it against the node before any transcript work.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.circuit.ops import MAX_WALK_STEPS_LOG
from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2, exts_from_bytes
from zkaudit.lookup.committed_table import CommittedTableProof
from zkaudit.sumcheck.proof import SumcheckProof

MAX_VALUES = (1 << MAX_WALK_STEPS_LOG) + 1
WHERE = "layers/pointer-walk"


@dataclass(frozen=True)
class PointerWalkProof:
    lookup: CommittedTableProof
    values: tuple[Fp2, ...]  # start~(r_t), L~(0, r_t), ..., L~(D-1, r_t)
    padding: SumcheckProof

    def to_bytes(self) -> bytes:
        parts = [self.lookup.to_bytes(), struct.pack("<I", len(self.values))]
        parts += [v.to_bytes() for v in self.values]
        parts.append(self.padding.to_bytes())
        return b"".join(parts)

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[PointerWalkProof, int]:
        lookup, offset = CommittedTableProof.read(data, offset)
        if offset + 4 > len(data):
            raise MalformedProof("pointer-walk proof truncated at its value count", where=WHERE,
                                 expected=offset + 4, got=len(data))
        (k,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if k > MAX_VALUES or offset + k * BYTES_EXT > len(data):
            raise MalformedProof("pointer-walk proof: a value count beyond the bound or the data", where=WHERE,
                                 expected=min(MAX_VALUES, (len(data) - offset) // BYTES_EXT), got=k)
        values = exts_from_bytes(data, offset, k)
        offset += k * BYTES_EXT
        padding, offset = SumcheckProof.read(data, offset)
        return cls(lookup, tuple(values), padding), offset
