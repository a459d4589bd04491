"""Prover side of the committed tensors' range checks (protocol in `committed_range.py`).

`padded(name)` gives a committed tensor as its whole padded table (signed
int64, `layers.tensor.embed` layout): the columns are built from what is
committed, padding included, so a prover that puts anything but zero in the
padding gets a column outside its range table and no accepting proof."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zkaudit.sumcheck.zk import send
from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.tensor import embed
from zkaudit.lookup import prover as lookup_prover
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import committed_range
from zkaudit.statements.inference.committed_range import LO, SIDES, RangePlan, TensorRange

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


def register(plan: RangePlan, padded: Padded, tables, batch, transcript, sent_after: list[bytes]) -> None:
    """Register the range lookup in the proof's batch (`committed_range.register`).
    The limb values the batch's claims call for are appended to `sent_after`
    (padded, in a zero-knowledge run): they follow the batch's section."""

    def limb_values_at(t, z):
        padded_values = [send(transcript, _ext(evaluate(tables[name], z))) for name in t.all_limb_names]
        sent_after.append(b"".join(p[0].to_bytes() for p in padded_values))
        return [p[0] for p in padded_values], [p[1] for p in padded_values]

    committed_range.register(plan, batch, transcript, limb_values_at, arrays=lambda _: columns(plan, padded)[0])


def prove(plan: RangePlan, padded: Padded, tables, transcript) -> tuple[bytes, list]:
    """The range checks as an argument of their own, for a statement without
    a lookup batch (the training link): u32 len | lookup proof | limb values."""
    if plan.instance is None:
        return b"", []
    from zkaudit.layers import lookup_batch_prover
    from zkaudit.layers.lookup_batch import LookupBatch

    batch, sent = LookupBatch(), []
    register(plan, padded, tables, batch, transcript, sent)
    section, claims = lookup_batch_prover.prove(batch, tables, transcript)
    return section + b"".join(sent), claims
