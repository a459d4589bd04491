"""Wire types of the window protocols.

WindowMaxProof: u32 len | lookup proof (range check of the differences) |
limb values (u32 count | Fp2 each) | index values (u32 count (0 or 1) |
Fp2) | relation sum-check | Fp2 S_Y | Y sum-check | X sum-check."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.lookup.proof import LookupProof
from zkaudit.sumcheck.proof import SumcheckProof

MAX_LOOKUP_BYTES = 1 << 30


def read_ext(data: bytes, offset: int, what: str) -> tuple[Fp2, int]:
    if offset + BYTES_EXT > len(data):
        raise MalformedProof(f"{what} truncated", expected=offset + BYTES_EXT, got=len(data))
    return Fp2.from_bytes(data[offset : offset + BYTES_EXT]), offset + BYTES_EXT


def read_lookup(data: bytes, offset: int, what: str) -> tuple[LookupProof, int]:
    if offset + 4 > len(data):
        raise MalformedProof(f"{what} truncated at its length", expected=offset + 4, got=len(data))
    (n,) = struct.unpack_from("<I", data, offset)
    offset += 4
    if n > MAX_LOOKUP_BYTES or offset + n > len(data):
        raise MalformedProof(f"{what} truncated", expected=offset + n, got=len(data))
    return LookupProof.from_bytes(bytes(data[offset : offset + n])), offset + n


MAX_VALUES = 1 << 16


def read_exts(data: bytes, offset: int, what: str) -> tuple[tuple[Fp2, ...], int]:
    if offset + 4 > len(data):
        raise MalformedProof(f"{what} truncated at its count", expected=offset + 4, got=len(data))
    (k,) = struct.unpack_from("<I", data, offset)
    offset += 4
    if k > MAX_VALUES or offset + k * BYTES_EXT > len(data):  # paid for by the bytes present, before the loop
        raise MalformedProof(f"{what}: more values than the proof holds", expected=f"<= {MAX_VALUES}",
                             got=k)
    out = []
    for _ in range(k):
        v, offset = read_ext(data, offset, what)
        out.append(v)
    return tuple(out), offset


def exts_bytes(values) -> bytes:
    return struct.pack("<I", len(values)) + b"".join(v.to_bytes() for v in values)


def lookup_bytes(proof: LookupProof) -> bytes:
    raw = proof.to_bytes()
    return struct.pack("<I", len(raw)) + raw


@dataclass(frozen=True)
class WindowMaxProof:
    lookup: LookupProof
    limb_values: tuple[Fp2, ...]
    extras: tuple[Fp2, ...]
    relation: SumcheckProof
    y_sum: Fp2
    y_sumcheck: SumcheckProof
    x_sumcheck: SumcheckProof

    def to_bytes(self) -> bytes:
        return b"".join([lookup_bytes(self.lookup), exts_bytes(self.limb_values), exts_bytes(self.extras),
                         self.relation.to_bytes(), self.y_sum.to_bytes(),
                         self.y_sumcheck.to_bytes(), self.x_sumcheck.to_bytes()])

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[WindowMaxProof, int]:
        lookup, offset = read_lookup(data, offset, "window-max range check")
        limbs, offset = read_exts(data, offset, "window-max limb values")
        extras, offset = read_exts(data, offset, "window-max index values")
        relation, offset = SumcheckProof.read(data, offset)
        y_sum, offset = read_ext(data, offset, "window-max Y sum")
        y_sc, offset = SumcheckProof.read(data, offset)
        x_sc, offset = SumcheckProof.read(data, offset)
        return cls(lookup, limbs, extras, relation, y_sum, y_sc, x_sc), offset
