"""Reductions over any axes lowered onto existing IR ops (a ones-column
MatMul + Requantize for sums and means, a (1, K) MaxPool for max and min,
tables for |x|, x^2, exp, sqrt, log): each a one-node float model, compared
with onnxruntime within the README's tolerance (`oneop.py`) and proven.
Calibration and comparison use the same samples, so a sum's range is never
exceeded (saturation is not what these tests measure)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from oneop import compiled, max_error, model, prove_and_verify, samples
from zkaudit.onnx.errors import UnsupportedOp

SHAPE = (2, 3, 4)


def _axes(*a):
    return {"axes": np.array(a, np.int64)}


# name: (op, output shape, constant inputs, attributes, IR op expected)
CASES = {
    "ReduceSum_last_two": ("ReduceSum", (2, 1, 1), _axes(1, 2), {}, "MatMul"),
    "ReduceSum_all_default": ("ReduceSum", (1, 1, 1), {}, {}, "MatMul"),
    "ReduceMean_outer_no_keepdims": ("ReduceMean", (3,), _axes(0, 2), {"keepdims": 0}, "MatMul"),
    "ReduceMean_negative_axis": ("ReduceMean", (2, 3, 1), _axes(-1), {}, "MatMul"),
    "ReduceMax_middle": ("ReduceMax", (2, 1, 4), _axes(1), {}, "MaxPool"),
    "ReduceMin_two_axes": ("ReduceMin", (1, 3, 1), _axes(0, 2), {}, "MaxPool"),
    "ReduceL1": ("ReduceL1", (2, 3, 1), _axes(2), {}, "Table"),
    "ReduceL2": ("ReduceL2", (2, 1, 4), _axes(1), {}, "Table"),
    "ReduceSumSquare": ("ReduceSumSquare", (2, 3), _axes(2), {"keepdims": 0}, "Table"),
    "ReduceLogSumExp": ("ReduceLogSumExp", (2, 3, 1), _axes(2), {}, "Table"),
}
EXACT = {"ReduceMax_middle", "ReduceMin_two_axes"}  # the selected integers themselves


def _built(name):
    op, out, inits, attrs, _ = CASES[name]
    m = model(op, {"x": SHAPE}, out, inits, **attrs)
    data = samples({"x": SHAPE}, 24)
    circuit, weights = compiled(m, data)
    return m, circuit, weights, data


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_onnxruntime_and_proves(name):
    m, circuit, weights, data = _built(name)
    assert CASES[name][4] in {n.op for n in circuit.nodes}
    assert circuit.outputs[0].shape == CASES[name][1]
    err, allowed = max_error(m, circuit, weights, {"x": data["x"][:6]}, snap=name in EXACT)
    assert err <= (1e-6 if name in EXACT else allowed), (err, allowed)
    verdict = prove_and_verify(circuit, weights, {"x": data["x"][7]})
    assert verdict.valid, verdict.reason


def test_mean_rounds_once():
    """ReduceMean is one Requantize of the integer sum: the circuit's output
    is the nearest grid point to the mean of the quantized inputs (within
    the requantization multiplier's precision), not a double rounding."""
    _, circuit, weights, data = _built("ReduceMean_negative_axis")
    from zkaudit.circuit import dequantize, quantize

    x_spec, y_spec = circuit.inputs[0], circuit.outputs[0]
    q = quantize(x_spec, data["x"][:8])
    real = (q - x_spec.zero_point) * x_spec.scale
    got = np.stack([dequantize(y_spec, circuit.execute(weights, {x_spec.name: qi})[y_spec.name]) for qi in q])
    want = real.mean(axis=-1, keepdims=True)
    inside = (want > (y_spec.lo - y_spec.zero_point) * y_spec.scale) & (want < (y_spec.hi - y_spec.zero_point)
                                                                         * y_spec.scale)
    assert np.max(np.abs(got - want)[inside]) <= 0.5 * y_spec.scale * (1 + 1e-4)


def test_argmin_is_argmax_of_the_negation():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5])
    y = helper.make_tensor_value_info("y", TensorProto.INT64, [3, 1])
    g = helper.make_graph([helper.make_node("ArgMin", ["x"], ["y"], axis=1)], "argmin", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    data = samples({"x": (3, 5)}, 8)
    circuit, weights = compiled(m, data)
    from zkaudit.circuit import quantize

    spec = circuit.inputs[0]
    for xi in data["x"]:
        q = quantize(spec, xi)
        got = circuit.execute(weights, {spec.name: q})[circuit.outputs[0].name]
        assert np.array_equal(got, q.argmin(axis=1, keepdims=True))
    assert prove_and_verify(circuit, weights, {"x": data["x"][0]}).valid


def test_reduce_prod_is_refused_with_a_reason():
    m = model("ReduceProd", {"x": SHAPE}, (1, 1, 1))
    with pytest.raises(UnsupportedOp, match="product of data-dependent factors"):
        compiled(m, samples({"x": SHAPE}, 4))


@pytest.mark.parametrize("attrs, shape, k", [({}, (3, 6), 2), ({"axis": 0, "largest": 0}, (5, 3), 3),
                                             ({"axis": 1}, (2, 4, 3), 4)])
def test_topk_values_and_indices_are_exact_and_prove(attrs, shape, k):
    """TopK's k rounds of max / first index / push below the row give
    onnxruntime's values and indices exactly, on the input the circuit sees."""
    import onnxruntime as ort
    from onnx import numpy_helper

    from zkaudit.circuit import dequantize, quantize

    out = list(shape)
    out[attrs.get("axis", -1)] = k
    g = helper.make_graph([helper.make_node("TopK", ["x", "k"], ["y", "i"], **attrs)], "topk",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, out),
                           helper.make_tensor_value_info("i", TensorProto.INT64, out)],
                          initializer=[numpy_helper.from_array(np.array([k], np.int64), "k")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    data = samples({"x": shape}, 8)
    circuit, weights = compiled(m, data)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    spec, (y_spec, i_spec) = circuit.inputs[0], circuit.outputs
    for xi in data["x"][:4]:
        q = quantize(spec, xi)
        want_y, want_i = sess.run(["y", "i"], {"x": dequantize(spec, q).astype(np.float32)})
        got = circuit.execute(weights, {spec.name: q})
        assert np.array_equal(dequantize(y_spec, got[y_spec.name]).astype(np.float32), want_y)
        assert np.array_equal(got[i_spec.name], want_i)
    assert prove_and_verify(circuit, weights, {"x": data["x"][5]}).valid
