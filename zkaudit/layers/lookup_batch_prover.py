"""Prover of the batched lookup (protocol in `lookup_batch.py`)."""

from __future__ import annotations

from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.lookup_batch import BatchSection, LookupBatch
from zkaudit.lookup import prover as lookup_prover
from zkaudit.transcript import Transcript


def prove(batch: LookupBatch, tables, transcript: Transcript) -> tuple[bytes, list[TensorClaim]]:
    """One LogUp over every registered lookup; `tables[name]` gives each
    advice tensor embedded. Returns the section's bytes and the claims."""
    instance = batch.union()
    if instance is None:
        return BatchSection(None).to_bytes(), []
    columns = batch.column_arrays(tables)
    mults = [tables[name] for name in batch.mult_names()]
    proof, claims = lookup_prover.prove(instance, columns, mults, transcript)
    return BatchSection(proof).to_bytes(), batch.claims(claims)
