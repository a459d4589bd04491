"""LayerNormalization, InstanceNormalization and GroupNormalization on the
existing IR ops (an exact centring MatMul, squares by Mul, a ones-column
sum, an inverse-square-root table over the requantized variance, a
depthwise 1x1 Conv for scale and bias): each a one-node float model,
compared with onnxruntime within the README's tolerance (`oneop.py`) and
proven and verified."""

from __future__ import annotations

import numpy as np
import pytest

from oneop import compiled, max_error, model, prove_and_verify, samples
from zkaudit.onnx.errors import UnsupportedOp

RNG = np.random.default_rng(3)


def _n(*shape, mean=0.0):
    return RNG.normal(mean, 0.3, shape).astype(np.float32)


# name: (op, input shape, constant inputs, attributes)
CASES = {
    "LayerNormalization_last_axis": ("LayerNormalization", (4, 16), {"g": _n(16, mean=1), "b": _n(16)}, {}),
    "LayerNormalization_two_axes_no_bias": ("LayerNormalization", (2, 3, 8), {"g": _n(3, 8, mean=1)}, {"axis": 1}),
    "InstanceNormalization": ("InstanceNormalization", (2, 3, 4, 4),
                              {"g": np.array([1, 0.5, 2], np.float32), "b": np.array([0, 1, -1], np.float32)}, {}),
    "GroupNormalization": ("GroupNormalization", (2, 4, 3, 3),
                           {"g": _n(4, mean=1), "b": _n(4)}, {"num_groups": 2}),
}
OPSETS = {"GroupNormalization": 21}


def _built(name, lo=-3.0, hi=3.0):
    op, shape, inits, attrs = CASES[name]
    m = model(op, {"x": shape}, shape, inits, opset=OPSETS.get(name, 18), **attrs)
    data = samples({"x": shape}, 24, lo=lo, hi=hi)
    circuit, weights = compiled(m, data)
    return m, circuit, weights, data


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_onnxruntime_and_proves(name):
    m, circuit, weights, data = _built(name)
    ops = {n.op for n in circuit.nodes}
    assert {"MatMul", "Table", "Mul", "Conv"} <= ops, ops
    err, allowed = max_error(m, circuit, weights, {"x": data["x"][:6]})
    assert err <= allowed, (err, allowed)
    verdict = prove_and_verify(circuit, weights, {"x": data["x"][7]})
    assert verdict.valid, verdict.reason


def test_inputs_away_from_zero():
    """The mean is removed exactly: inputs offset far from 0 (a row mean of
    ~5 against a spread of ~1) normalize as well as centred ones."""
    m, circuit, weights, data = _built("LayerNormalization_last_axis", lo=4.0, hi=6.0)
    err, allowed = max_error(m, circuit, weights, {"x": data["x"][:6]})
    assert err <= allowed, (err, allowed)


def test_a_constant_row_gives_the_bias():
    """Variance 0: ONNX gives (x - mean) / sqrt(eps) = 0, so y = B."""
    m, circuit, weights, data = _built("LayerNormalization_last_axis")
    from zkaudit.circuit import dequantize, quantize

    x_spec, y_spec = circuit.inputs[0], circuit.outputs[0]
    flat = np.full((4, 16), 1.25, np.float32)
    got = dequantize(y_spec, circuit.execute(weights, {x_spec.name: quantize(x_spec, flat)})[y_spec.name])
    assert np.max(np.abs(got - CASES["LayerNormalization_last_axis"][2]["b"])) <= 2 * y_spec.scale


def test_mean_and_inv_std_dev_outputs():
    from onnx import TensorProto, helper

    m = model("LayerNormalization", {"x": (3, 8)}, (3, 8), {"g": _n(8, mean=1)})
    m.graph.node[0].output.extend(["mean", "inv"])
    m.graph.output.extend([helper.make_tensor_value_info(n, TensorProto.FLOAT, [3, 1]) for n in ("mean", "inv")])
    data = samples({"x": (3, 8)}, 16)
    circuit, weights = compiled(m, data)
    import onnxruntime as ort

    from zkaudit.circuit import dequantize, quantize

    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    x_spec = circuit.inputs[0]
    for xi in data["x"][:4]:
        want = sess.run(["mean", "inv"], {"x": xi})
        got = circuit.execute(weights, {x_spec.name: quantize(x_spec, xi)})
        for spec, w in zip(circuit.outputs[1:], want):
            assert np.max(np.abs(dequantize(spec, got[spec.name]) - w)) <= 0.05 * np.ptp(w) + 2 * spec.scale
    assert prove_and_verify(circuit, weights, {"x": data["x"][0]}).valid


def test_computed_scale_is_refused():
    m = model("LayerNormalization", {"x": (2, 4), "g": (4,)}, (2, 4))
    with pytest.raises(UnsupportedOp, match="computed Scale"):
        compiled(m, samples({"x": (2, 4), "g": (4,)}, 4))
