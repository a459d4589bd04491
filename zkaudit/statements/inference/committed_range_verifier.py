"""Verifier side of the committed tensors' range checks (protocol in
`committed_range.py`): the instance joins the proof's lookup batch, and the
limb values its claims call for are read after the batch's section."""

from __future__ import annotations

from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, exts_from_bytes
from zkaudit.statements.inference import committed_range
from zkaudit.statements.inference.committed_range import RangePlan
from zkaudit.sumcheck.zk import receive
from zkaudit.transcript import Transcript


def _values(count: int):
    class _Wire:
        @staticmethod
        def read(data: bytes, offset: int):
            end = offset + count * BYTES_EXT
            if end > len(data):
                raise MalformedProof("range-check limb values truncated", where=committed_range.WHERE,
                                     expected=end, got=len(data))
            return exts_from_bytes(data, offset, count), end

    return _Wire


def register(plan: RangePlan, batch, reader, transcript: Transcript) -> None:
    def limb_values_at(t, z):
        taken = reader.read(_values(len(t.all_limb_names)))
        return taken, [receive(transcript, v) for v in taken]

    committed_range.register(plan, batch, transcript, limb_values_at)


def verify(plan: RangePlan, reader, transcript: Transcript) -> list:
    """`committed_range_prover.prove`'s argument of its own (the training link)."""
    if plan.instance is None:
        return []
    from zkaudit.layers import lookup_batch
    from zkaudit.layers.lookup_batch import LookupBatch

    batch = LookupBatch()
    register(plan, batch, reader, transcript)
    return lookup_batch.verify(batch, reader, transcript)
