"""Wire types:
    Add/Sub:  Fp2 alpha = A~(r)
    Mul:      sum-check proof over [eq_r, A°, B°]"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.sumcheck.proof import SumcheckProof


@dataclass(frozen=True)
class ElementwiseShape:
    op: str  # "Add" | "Sub" | "Mul"
    shape: tuple[int, ...]
    a_zero_point: int
    b_zero_point: int


@dataclass(frozen=True)
class LinearProof:
    a_value: Fp2

    def to_bytes(self) -> bytes:
        return self.a_value.to_bytes()

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[LinearProof, int]:
        if offset + BYTES_EXT > len(data):
            raise MalformedProof("add/sub proof truncated", expected=offset + BYTES_EXT, got=len(data))
        return cls(Fp2.from_bytes(data[offset : offset + BYTES_EXT])), offset + BYTES_EXT


@dataclass(frozen=True)
class MulProof:
    sumcheck: SumcheckProof

    def to_bytes(self) -> bytes:
        return self.sumcheck.to_bytes()

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[MulProof, int]:
        sc, offset = SumcheckProof.read(data, offset)
        return cls(sc), offset
