"""The weight link's verifier-side K_t (`lo_term_of`, `packing_value`: sums
straight from the placements) equals the reference built from K_t's table
(`wiring_table`, `lo_term`, `evaluate`), on the numba and numpy paths; the
placements equal the `embed`-based reference."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import jit, vec
from zkaudit.field.scalar import Fp2
from zkaudit.hash import commitment as hc
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import weights_link as wl

LAYOUTS = (
    hc.TensorLayout("w", (3, 5, 3, 3), -128, 127),
    hc.TensorLayout("b", (6,), -3000, 3000),
    hc.TensorLayout("s", (), -5, 9),
    hc.TensorLayout("r", (2, 7), -(2**60), 2**60),  # raw: one weight per element
    hc.TensorLayout("z", (4, 4), 0, 200),  # lo = 0: no lo term
)


def _plan(layouts=LAYOUTS):
    plan = object.__new__(wl.LinkPlan)
    object.__setattr__(plan, "layouts", layouts)
    return plan


def _placements_reference(plan):
    out = []
    for t, off in zip(plan.layouts, hc.element_offsets(plan.layouts)):
        slots = embed(np.arange(1, t.size + 1, dtype=np.int64).reshape(t.shape))
        x = np.nonzero(slots)[0]
        flat = slots[x].astype(np.int64) - 1
        k = t.per_element
        pos = off + flat // k
        if t.raw:
            scale = np.ones(x.shape[0], dtype=np.uint64)
        else:
            scale = (np.ones(x.shape[0], dtype=np.uint64) << (t.digit_bits * (flat % k)).astype(np.uint64))
        out.append((x, pos.astype(np.int64), scale))
    return out


def test_placements_equal_embed_reference():
    plan = _plan()
    for got, ref in zip(plan.placements, _placements_reference(plan)):
        for a, b in zip(got, ref):
            assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("numba", [False, True])
def test_verifier_k_values_equal_table_reference(numba, monkeypatch):
    monkeypatch.setattr(jit, "use_kernel", lambda *a, **k: numba)
    plan = _plan()
    rng = np.random.default_rng(5)
    messages = max(int(pos.max()) for _, pos, _ in plan.placements) + 1
    c = vec.ext_random(messages, rng)
    tables = wl.wiring_tables(plan, c)
    for t, layout in enumerate(plan.layouts):
        table = wl.wiring_table(plan, t, c)
        assert np.array_equal(tables[t], table)  # all tensors at once = one at a time
        assert wl.lo_term_of(plan, t, c) == wl.lo_term(plan, t, table)
        n = num_vars(layout.shape)
        point = [Fp2(int(a), int(b)) for a, b in vec.ext_random(n, rng)]
        ref = evaluate(table, point)
        assert wl.packing_value(plan, t, c, point) == (ref if isinstance(ref, Fp2) else Fp2.from_base(ref))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [1, 3, 7])
def test_placed_sum_kernel_equals_numpy_on_split_runs(weighted, k):
    # high halves that change at arbitrary entries (every chunk boundary,
    # inside elements), digits of 1 and not
    from zkaudit.layers import kernels

    rng = np.random.default_rng(11 + k)
    n = 3001
    x = np.sort(rng.choice(1 << 13, size=n, replace=False)).astype(np.int64)
    off = 5
    digits = np.where(rng.random(k) < 0.3, 1, rng.integers(0, 1 << 62, size=k)).astype(np.uint64)
    c = vec.ext_random(off + -(-n // k), rng)
    e_hi, e_lo = vec.ext_random(1 << 7, rng), vec.ext_random(1 << 6, rng)
    out = np.empty((kernels.GATHER_CHUNKS, 2), dtype=np.uint64)
    kernels._placed_sums(c, off, digits, x, e_hi, e_lo, 6, weighted, out)
    assert kernels.nf.ext_sum(out) == kernels.placed_sum_numpy(c, off, digits, x, e_hi, e_lo, 6, weighted)


def test_plans_are_kept_per_commitment_layout_and_setting(monkeypatch):
    """`LinkPlan.of` hands back the plan it made for the same registered
    commitment, weight tensors and block setting (its cached tables with
    it), and a new one when any of them differs; the dummy digest is the
    reference permutation of the zero state."""
    import sys
    from pathlib import Path

    from zkaudit.hash.reference import permute
    from zkaudit.statements.inference.commitment import hashed_weight_commitment

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "adversarial"))
    from small_circuits import instance, mlp_clip

    circuit, weights, _ = instance(mlp_clip, seed=3)
    com = hashed_weight_commitment(circuit, weights, (1, 2))[0].to_bytes()
    other = hashed_weight_commitment(circuit, weights, (1, 3))[0].to_bytes()
    plan = wl.LinkPlan.of(circuit, com)
    assert wl.LinkPlan.of(circuit, com) is plan and plan.blocked
    assert wl.LinkPlan.of(circuit, other) is not plan and wl.LinkPlan.of(circuit, other).record.root != plan.record.root
    layered = wl.LinkPlan.of(circuit, com, block_partial_rounds=False)
    assert layered is not plan and not layered.blocked
    monkeypatch.setattr(wl, "BLOCK_SLOTS_UP_TO", 2 * plan.num_leaves - 1)
    assert not wl.LinkPlan.of(circuit, com).blocked
    assert plan.dummy_digest == tuple(permute([0] * wl.WIDTH)[: wl.DIGEST_LEN])
