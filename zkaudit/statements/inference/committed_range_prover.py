"""Prover side of the committed tensors' range checks (protocol in `committed_range.py`)."""

from __future__ import annotations

import struct

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.tensor import embed
from zkaudit.lookup import prover as lookup_prover
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference.committed_range import RangePlan, claims_out
from zkaudit.transcript import Transcript


def _ext(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _shifted(plan: RangePlan, values) -> dict[str, np.ndarray]:
    """u = padded w - lo, as int64 over the whole padded table."""
    out = {}
    for t in plan.tensors:
        padded = vec.to_signed(embed(values[t.name]))
        out[t.name] = padded - t.lo
    return out


def columns(plan: RangePlan, values) -> tuple[list[list[np.ndarray]], dict[str, np.ndarray]]:
    """Lookup columns (one per tensor limb) and the limb advice."""
    shifted = _shifted(plan, values)
    cols, advice = [], {}
    for t in plan.tensors:
        u = shifted[t.name]
        shift = 0
        for j, w in enumerate(t.widths):
            limb = (u >> shift) & ((1 << w) - 1) if len(t.widths) > 1 else u
            cols.append([vec.from_int64(limb)])
            if t.limb_names:
                advice[t.limb_names[j]] = limb
            shift += w
    return cols, advice


def advice(plan: RangePlan, values) -> dict[str, np.ndarray]:
    if plan.instance is None:
        return {}
    cols, out = columns(plan, values)
    mults = lookup_prover.multiplicities(plan.instance, cols)
    out.update({name: m.astype(np.int64) for name, m in zip(plan.mult_names, mults)})
    return out


def prove(plan: RangePlan, values, tables, transcript: Transcript) -> tuple[bytes, list[TensorClaim]]:
    """Returns the proof bytes (u32 len | lookup proof | limb values) and the claims."""
    if plan.instance is None:
        return b"", []
    cols, _ = columns(plan, values)
    mults = [tables[n] for n in plan.mult_names]
    proof, claims = lookup_prover.prove(plan.instance, cols, mults, transcript)
    sent: list[Fp2] = []

    def limb_values_at(t, z):
        at = [_ext(evaluate(tables[name], z)) for name in t.limb_names]
        sent.extend(at)
        return at

    out = claims_out(plan, claims, transcript, limb_values_at)
    body = proof.to_bytes()
    return struct.pack("<I", len(body)) + body + b"".join(v.to_bytes() for v in sent), out
