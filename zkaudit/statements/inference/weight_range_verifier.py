"""Verifier side of the weight range checks (protocol in `weight_range.py`)."""

from __future__ import annotations

import struct

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.lookup import LookupProof
from zkaudit.lookup import verifier as lookup_verifier
from zkaudit.statements.inference.weight_range import LABEL_LIMB_POINT, LABEL_LIMB_VALUES, WeightRangePlan
from zkaudit.transcript import Transcript


class _Section:
    """u32 len | lookup proof | limb values, read from the layer stream."""

    def __init__(self, proof: LookupProof, values: list[Fp2]):
        self.proof, self.values = proof, values

    @classmethod
    def reader_for(cls, plan: WeightRangePlan):
        num_values = sum(len(t.limb_names) for t in plan.tensors)

        class _Wire:
            @staticmethod
            def read(data: bytes, offset: int):
                if offset + 4 > len(data):
                    raise MalformedProof("weight range proof truncated", where="inference.weight-range",
                                         expected=offset + 4, got=len(data))
                (n,) = struct.unpack_from("<I", data, offset)
                offset += 4
                end = offset + n + num_values * BYTES_EXT
                if end > len(data):
                    raise MalformedProof("weight range proof truncated", where="inference.weight-range",
                                         expected=end, got=len(data))
                proof = LookupProof.from_bytes(bytes(data[offset : offset + n]))
                offset += n
                values = []
                for _ in range(num_values):
                    values.append(Fp2.from_bytes(data[offset : offset + BYTES_EXT]))
                    offset += BYTES_EXT
                return cls(proof, values), offset

        return _Wire


def verify(plan: WeightRangePlan, reader, transcript: Transcript) -> list[TensorClaim]:
    if plan.instance is None:
        return []
    section = reader.read(_Section.reader_for(plan))
    claims = lookup_verifier.verify(plan.instance, section.proof, transcript)
    out = [TensorClaim(n, c.point, c.value) for n, c in zip(plan.mult_names, claims.multiplicities)]
    col, at = 0, 0
    for t in plan.tensors:
        if not t.limb_names:
            c = claims.columns[col][0]
            out.append(TensorClaim(t.name, tuple(c.point), c.value + t.lo))
            col += 1
            continue
        for j, name in enumerate(t.limb_names):
            c = claims.columns[col + j][0]
            out.append(TensorClaim(name, tuple(c.point), c.value))
        col += len(t.limb_names)
        z = tuple(transcript.challenge_exts(LABEL_LIMB_POINT, t.num_vars))  # t.num_vars / p^2
        values = section.values[at : at + len(t.limb_names)]
        at += len(t.limb_names)
        transcript.absorb_exts(LABEL_LIMB_VALUES, values)
        total, shift = Fp2(0), 0
        for name, v, w in zip(t.limb_names, values, t.widths):
            out.append(TensorClaim(name, z, v))
            total = total + v * (1 << shift)
            shift += w
        out.append(TensorClaim(t.name, z, total + t.lo))
    return out
