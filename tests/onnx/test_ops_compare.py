"""Comparisons (a 0/1 lookup table), Cast and Where on existing IR ops:
small float models built with onnx.helper, compared with onnxruntime
(comparisons exactly, on the inputs the circuit sees; Where within the
README's tolerance, `oneop.py`) and proven and verified."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from oneop import compiled, max_error, prove_and_verify, samples
from zkaudit.circuit import dequantize, quantize
from zkaudit.onnx.errors import UnsupportedOp

F, B = TensorProto.FLOAT, TensorProto.BOOL


def _model(nodes, inputs: dict, out_type, out_shape, inits=None):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, F, list(s)) for n, s in inputs.items()],
                          [helper.make_tensor_value_info("y", out_type, list(out_shape))],
                          initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


HALF = {"c": np.array(0.5, np.float32)}
CMP = {
    "Less_constant": ([helper.make_node("Less", ["x", "c"], ["y"])], {"x": (3, 4)}, HALF),
    "GreaterOrEqual_constant_first": ([helper.make_node("GreaterOrEqual", ["c", "x"], ["y"])], {"x": (3, 4)}, HALF),
    "Greater_two_tensors": ([helper.make_node("Greater", ["x", "z"], ["y"])], {"x": (3, 4), "z": (3, 4)}, {}),
    "LessOrEqual_broadcast": ([helper.make_node("LessOrEqual", ["x", "z"], ["y"])], {"x": (3, 4), "z": (1, 4)}, {}),
    "Equal_same_tensor_scale": ([helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Equal", ["r", "x"], ["y"])],
                                {"x": (3, 4)}, {}),
}


@pytest.mark.parametrize("name", sorted(CMP))
def test_comparison_is_exact_on_the_circuits_inputs_and_proves(name):
    nodes, inputs, inits = CMP[name]
    out_shape = np.broadcast_shapes(*inputs.values())
    m = _model(nodes, inputs, B, out_shape, inits)
    data = samples(inputs, 16)
    circuit, weights = compiled(m, data)
    assert "Table" in {n.op for n in circuit.nodes}
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    spec = circuit.outputs[0]
    for i in range(6):
        ints = {s.name: quantize(s, data[s.name][i]) for s in circuit.inputs}
        seen = {s.name: dequantize(s, ints[s.name]).astype(np.float32) for s in circuit.inputs}
        want = sess.run(["y"], seen)[0]
        assert np.array_equal(circuit.execute(weights, ints)[spec.name], want.astype(np.int64))
    assert prove_and_verify(circuit, weights, {k: v[7] for k, v in data.items()}).valid


WHERE = {
    # leaky-relu written with Where: x > 0 ? x : 0.1 x
    "Where_tensors": ([helper.make_node("Greater", ["x", "zero"], ["m"]),
                       helper.make_node("Mul", ["x", "tenth"], ["t"]),
                       helper.make_node("Where", ["m", "x", "t"], ["y"])], {"x": (3, 4)},
                      {"zero": np.array(0.0, np.float32), "tenth": np.array(0.1, np.float32)}),
    "Where_constant_scalars": ([helper.make_node("Less", ["x", "zero"], ["m"]),
                                helper.make_node("Where", ["m", "lo", "hi"], ["y"])], {"x": (3, 4)},
                               {"zero": np.array(0.0, np.float32), "lo": np.array(-2.0, np.float32),
                                "hi": np.array(1.5, np.float32)}),
    "Less_Cast_Mul": ([helper.make_node("Less", ["x", "z"], ["m"]),
                       helper.make_node("Cast", ["m"], ["f"], to=F),
                       helper.make_node("Mul", ["f", "x"], ["y"])], {"x": (3, 4), "z": (3, 4)}, {}),
}


@pytest.mark.parametrize("name", sorted(WHERE))
def test_where_and_cast_agree_with_onnxruntime_and_prove(name):
    nodes, inputs, inits = WHERE[name]
    m = _model(nodes, inputs, F, (3, 4), inits)
    data = samples(inputs, 24)
    circuit, weights = compiled(m, data)
    err, allowed = max_error(m, circuit, weights, {k: v[:6] for k, v in data.items()})
    assert err <= allowed, (err, allowed)
    assert prove_and_verify(circuit, weights, {k: v[7] for k, v in data.items()}).valid


def test_comparison_with_a_varying_constant_is_refused():
    m = _model([helper.make_node("Less", ["x", "c"], ["y"])], {"x": (2, 3)}, B, (2, 3),
               {"c": np.array([0.0, 1.0, 2.0], np.float32)})
    with pytest.raises(UnsupportedOp, match="scalar only"):
        compiled(m, samples({"x": (2, 3)}, 4))


def test_cast_of_a_float_to_int_is_refused():
    m = _model([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT32)], {"x": (2, 3)}, TensorProto.INT32,
               (2, 3))
    with pytest.raises(UnsupportedOp, match="float to integer"):
        compiled(m, samples({"x": (2, 3)}, 4))
