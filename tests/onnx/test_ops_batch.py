"""Batch proofs widen a circuit's leading axis from 1 to n
(`statements.inference.batch.widen`). The front-end lowerings of this wave
reshape, transpose and select freely; for each, widening must either be
refused (BatchUnsupported) or compute exactly what n separate runs compute
-- never something else."""

from __future__ import annotations

import numpy as np
import pytest

from oneop import compiled, model, samples
from zkaudit.circuit import quantize
from zkaudit.statements.inference.batch import BatchUnsupported, stack


def _i(*v):
    return np.array(v, np.int64)


RNG = np.random.default_rng(5)
ROI = np.zeros(0, np.float32)
# name: (op, input shape, output shape, constant inputs, attributes)
CASES = {
    "Gather_last_axis": ("Gather", (1, 5), (1, 3), {"i": _i(4, 0, 2)}, {"axis": 1}),
    "Gather_batch_axis": ("Gather", (1, 5), (2, 5), {"i": _i(0, 0)}, {"axis": 0}),
    "Slice_middle": ("Slice", (1, 4, 3), (1, 2, 3), {"s": _i(1), "e": _i(3), "a": _i(1)}, {}),
    "ReduceMean_last": ("ReduceMean", (1, 6), (1, 1), {"a": _i(1)}, {}),
    "ReduceMax_middle": ("ReduceMax", (1, 3, 4), (1, 1, 4), {"a": _i(1)}, {}),
    "ReduceMin_last": ("ReduceMin", (1, 6), (1, 1), {"a": _i(1)}, {}),
    "Tile_batch_axis": ("Tile", (1, 3), (2, 3), {"r": _i(2, 1)}, {}),
    "Tile_last": ("Tile", (1, 3), (1, 6), {"r": _i(1, 2)}, {}),
    "DepthToSpace": ("DepthToSpace", (1, 4, 2, 2), (1, 1, 4, 4), {}, {"blocksize": 2}),
    "Resize_nearest": ("Resize", (1, 1, 2, 3), (1, 1, 4, 6), {"roi": ROI, "sc": np.array([1, 1, 2, 2], np.float32)},
                       {"mode": "nearest"}),
    "LayerNormalization": ("LayerNormalization", (1, 8), (1, 8), {"g": RNG.normal(1, 0.2, 8).astype(np.float32)}, {}),
    "ConvTranspose": ("ConvTranspose", (1, 1, 2, 2), (1, 1, 4, 4), {"W": RNG.normal(size=(1, 1, 2, 2))
                                                                    .astype(np.float32)}, {"strides": [2, 2]}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_widening_is_refused_or_exact(name):
    op, shape, out, inits, attrs = CASES[name]
    m = model(op, {"x": shape}, out, inits, **attrs)
    data = samples({"x": shape}, 8)
    circuit, weights = compiled(m, data)
    spec = circuit.inputs[0]
    ints = [{spec.name: quantize(spec, data["x"][i])} for i in range(3)]
    try:
        wide, stacked = stack(circuit, ints)
    except BatchUnsupported:
        return
    got = wide.execute(weights, stacked)
    for o in circuit.outputs:
        want = np.concatenate([circuit.execute(weights, s)[o.name] for s in ints], axis=0)
        assert np.array_equal(got[o.name], want), name


def test_a_lowering_that_keeps_the_batch_axis_widens():
    """Not every case may be refused: row-wise lowerings on a (1, K) input batch."""
    widened = []
    for name in ("Gather_last_axis", "ReduceMean_last", "ReduceMin_last", "LayerNormalization"):
        op, shape, out, inits, attrs = CASES[name]
        circuit, _ = compiled(model(op, {"x": shape}, out, inits, **attrs), samples({"x": shape}, 4))
        try:
            stack(circuit, [{circuit.inputs[0].name: np.zeros(shape, np.int64)}] * 2)
            widened.append(name)
        except BatchUnsupported:
            pass
    assert widened == ["Gather_last_axis", "ReduceMean_last", "ReduceMin_last", "LayerNormalization"]
