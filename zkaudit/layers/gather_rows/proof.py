"""Wire type of a GatherRows proof:

    committed-table LogUp proof (`lookup.committed_table`, self-delimiting)
    | sum-check proof of the padding zero-check
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.lookup.committed_table import CommittedTableProof
from zkaudit.sumcheck.proof import SumcheckProof


@dataclass(frozen=True)
class GatherRowsProof:
    lookup: CommittedTableProof
    padding: SumcheckProof

    def to_bytes(self) -> bytes:
        return self.lookup.to_bytes() + self.padding.to_bytes()

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[GatherRowsProof, int]:
        lookup, offset = CommittedTableProof.read(data, offset)
        padding, offset = SumcheckProof.read(data, offset)
        return cls(lookup, padding), offset
