"""An evaluation claim on a committed table: f_poly~(point) = value.

`point` is in the table's variable order (x_1 = the most significant bit of
the table index, as everywhere in zkaudit.poly) and lives in K = GF(p^2);
base-field coordinates and values are lifted on construction, so a claim has
one canonical form for the transcript."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.field.scalar import Fp, Fp2


def _lift(x) -> Fp2:
    if isinstance(x, Fp2):
        return x
    if isinstance(x, Fp):
        return Fp2.from_base(x)
    raise TypeError(f"claim coordinates and values are Fp or Fp2, got {type(x).__name__}")


@dataclass(frozen=True)
class Claim:
    poly_index: int
    point: tuple[Fp2, ...]
    value: Fp2

    def __post_init__(self):
        if isinstance(self.poly_index, bool) or not isinstance(self.poly_index, int) or self.poly_index < 0:
            raise TypeError("poly_index must be a non-negative int")
        object.__setattr__(self, "point", tuple(_lift(c) for c in self.point))
        object.__setattr__(self, "value", _lift(self.value))

    def to_bytes(self) -> bytes:
        """Canonical encoding, absorbed by prover and verifier alike."""
        head = struct.pack("<II", self.poly_index, len(self.point))
        return head + b"".join(c.to_bytes() for c in self.point) + self.value.to_bytes()
