"""Prover side of the committed tensors' range checks (protocol in `committed_range.py`).

`padded(name)` gives a committed tensor as its whole padded table (signed
int64, `layers.tensor.embed` layout): the columns are built from what is
committed, padding included, so a prover that puts anything but zero in the
padding gets a column outside its range table and no accepting proof."""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np

from zkaudit.sumcheck.zk import send
from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.tensor import embed
from zkaudit.lookup import prover as lookup_prover
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference.committed_range import LO, SIDES, RangePlan, TensorRange, claims_out

Padded = Callable[[str], np.ndarray]


def _ext(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _indicator(t: TensorRange) -> np.ndarray:
    return vec.to_signed(embed(np.ones(t.shape, dtype=np.int64)))


def column(t: TensorRange, side: str, padded: Padded) -> np.ndarray:
    """c_lo = w - lo I or c_hi = hi I - w over the padded table (int64)."""
    w = padded(t.name)
    ind = _indicator(t)
    return w - t.lo * ind if side == LO else t.hi * ind - w


def columns(plan: RangePlan, padded: Padded) -> tuple[list[list[np.ndarray]], dict[str, np.ndarray]]:
    """Lookup columns (one per limb of each side of each tensor) and the limb advice."""
    cols, advice = [], {}
    for t in plan.tensors:
        for side in SIDES:
            u = column(t, side, padded)
            names = t.limb_names(side)
            shift = 0
            for j, w in enumerate(t.widths):
                # an out-of-range u (a dishonest witness) is kept as is when
                # direct, and its limbs keep only their low bits: either way
                # some column misses its table and the lookup fails
                limb = (u >> shift) & ((1 << w) - 1) if names else u
                cols.append([vec.from_int64(limb)])
                if names:
                    advice[names[j]] = limb
                shift += w
    return cols, advice


def advice(plan: RangePlan, padded: Padded) -> dict[str, np.ndarray]:
    if plan.instance is None:
        return {}
    cols, out = columns(plan, padded)
    mults = lookup_prover.multiplicities(plan.instance, cols)
    out.update({name: m.astype(np.int64) for name, m in zip(plan.mult_names, mults)})
    return out


def prove(plan: RangePlan, padded: Padded, tables, transcript) -> tuple[bytes, list[TensorClaim]]:
    """Returns the proof bytes (u32 len | lookup proof | limb values) and the claims."""
    if plan.instance is None:
        return b"", []
    cols, _ = columns(plan, padded)
    mults = [tables[n] for n in plan.mult_names]
    proof, claims = lookup_prover.prove(plan.instance, cols, mults, transcript)
    sent: list[Fp2] = []

    def limb_values_at(t, z):
        padded = [send(transcript, _ext(evaluate(tables[name], z))) for name in t.all_limb_names]
        sent.extend(p[0] for p in padded)
        return [p[0] for p in padded], [p[1] for p in padded]

    out = claims_out(plan, claims, transcript, limb_values_at)
    body = proof.to_bytes()
    return struct.pack("<I", len(body)) + body + b"".join(v.to_bytes() for v in sent), out
