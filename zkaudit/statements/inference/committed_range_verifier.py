"""Verifier side of the committed tensors' range checks (protocol in `committed_range.py`)."""

from __future__ import annotations

import struct

from zkaudit.sumcheck.zk import receive
from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.lookup import LookupProof
from zkaudit.lookup import verifier as lookup_verifier
from zkaudit.statements.inference.committed_range import RangePlan, claims_out
from zkaudit.transcript import Transcript


class _Section:
    """u32 len | lookup proof | limb values, read from the layer stream."""

    def __init__(self, proof: LookupProof, values: list[Fp2]):
        self.proof, self.values = proof, values

    @classmethod
    def reader_for(cls, plan: RangePlan):
        num_values = sum(len(t.all_limb_names) for t in plan.tensors)

        class _Wire:
            @staticmethod
            def read(data: bytes, offset: int):
                if offset + 4 > len(data):
                    raise MalformedProof("range-check proof truncated", where="inference.range",
                                         expected=offset + 4, got=len(data))
                (n,) = struct.unpack_from("<I", data, offset)
                offset += 4
                end = offset + n + num_values * BYTES_EXT
                if end > len(data):
                    raise MalformedProof("range-check proof truncated", where="inference.range",
                                         expected=end, got=len(data))
                proof = LookupProof.from_bytes(bytes(data[offset : offset + n]))
                offset += n
                values = []
                for _ in range(num_values):
                    values.append(Fp2.from_bytes(data[offset : offset + BYTES_EXT]))
                    offset += BYTES_EXT
                return cls(proof, values), offset

        return _Wire


def verify(plan: RangePlan, reader, transcript: Transcript) -> list[TensorClaim]:
    if plan.instance is None:
        return []
    section = reader.read(_Section.reader_for(plan))
    claims = lookup_verifier.verify(plan.instance, section.proof, transcript)
    remaining = list(section.values)

    def limb_values_at(t, z):
        taken = remaining[: len(t.all_limb_names)]
        del remaining[: len(t.all_limb_names)]
        return taken, [receive(transcript, v) for v in taken]

    return claims_out(plan, claims, transcript, limb_values_at)
