"""Wire type: one lookup proof (the exp pairs and the seven range checks) |
limb values of the wide range columns (u32 count | Fp2 each, in range
order) | 3 Fp2 openings | window-max proof | Fp2 tau | relation sum-check."""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.field.scalar import Fp2
from zkaudit.layers.pool.proof import WindowMaxProof, exts_bytes, lookup_bytes, read_ext, read_exts, read_lookup
from zkaudit.lookup.proof import LookupProof
from zkaudit.sumcheck.proof import SumcheckProof


@dataclass(frozen=True)
class SoftmaxProof:
    lookup: LookupProof
    limb_values: tuple[Fp2, ...]
    openings: tuple[Fp2, Fp2, Fp2]  # par~(a_rem), T~(a_hi_y), par~(a_hi)
    max: WindowMaxProof
    tau: Fp2
    relation: SumcheckProof

    def to_bytes(self) -> bytes:
        if len(self.openings) != 3:
            raise ValueError("a softmax proof has three openings")
        return b"".join([lookup_bytes(self.lookup), exts_bytes(self.limb_values),
                         *(v.to_bytes() for v in self.openings), self.max.to_bytes(), self.tau.to_bytes(),
                         self.relation.to_bytes()])

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[SoftmaxProof, int]:
        lookup, offset = read_lookup(data, offset, "softmax lookups")
        limbs, offset = read_exts(data, offset, "softmax limb values")
        openings = []
        for _ in range(3):
            v, offset = read_ext(data, offset, "softmax openings")
            openings.append(v)
        mx, offset = WindowMaxProof.read(data, offset)
        tau, offset = read_ext(data, offset, "softmax tau")
        relation, offset = SumcheckProof.read(data, offset)
        return cls(lookup, limbs, tuple(openings), mx, tau, relation), offset
