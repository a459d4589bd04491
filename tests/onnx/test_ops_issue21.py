"""The op list of issue 21, corpus style: one small float model per entry
(one op, or the pattern the issue names), compiled with calibration,
compared with onnxruntime within the README's tolerance (`oneop.py`),
proven and verified; the entries still refused must be refused with a
reason. Run as a script for the figures:

    .venv/bin/python tests/onnx/test_ops_issue21.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).parent))
from oneop import compiled, max_error, prove_and_verify, samples  # noqa: E402

from zkaudit.onnx.errors import OnnxImportError  # noqa: E402

F = TensorProto.FLOAT
RNG = np.random.default_rng(21)


def _w(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def _c(v, dtype=np.float32):
    return np.asarray(v, dtype=dtype)


def _graph(nodes, inputs, out_shape, inits=None, opset=18, out_type=F, in_type=F):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, in_type, list(s)) for n, s in inputs.items()],
                          [helper.make_tensor_value_info("y", out_type, list(out_shape))],
                          initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


def _one(op, shape=(2, 6), out=None, inits=None, opset=18, ins=None, **attrs):
    names = list(ins or {"x": shape})
    return lambda: (_graph([helper.make_node(op, names + list(inits or {}), ["y"], **attrs)], ins or {"x": shape},
                           out or shape, inits, opset), ins or {"x": shape})


def _attention():
    d = 8
    nodes = [helper.make_node("MatMul", ["x", "wq"], ["q"]), helper.make_node("MatMul", ["x", "wk"], ["k"]),
             helper.make_node("MatMul", ["x", "wv"], ["v"]), helper.make_node("Transpose", ["k"], ["kt"], perm=[1, 0]),
             helper.make_node("MatMul", ["q", "kt"], ["s"]), helper.make_node("Div", ["s", "sqrt_d"], ["z"]),
             helper.make_node("Softmax", ["z"], ["p"], axis=-1), helper.make_node("MatMul", ["p", "v"], ["y"])]
    inits = {"wq": _w(d, d) / 3, "wk": _w(d, d) / 3, "wv": _w(d, d) / 3, "sqrt_d": _c(np.sqrt(d))}
    return _graph(nodes, {"x": (6, d)}, (6, d), inits), {"x": (6, d)}


def _stack():
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Sigmoid", ["r"], ["y"])]
    return _graph(nodes, {"x": (2, 6)}, (2, 6)), {"x": (2, 6)}


def _bn_after_relu():
    c = 3
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("BatchNormalization", ["r", "g", "b", "m", "v"], ["y"])]
    inits = {"g": _c([1, 2, 0.5]), "b": _c([0, 1, -1]), "m": _c([0.5, 0.2, 0.1]), "v": _c([1, 2, 0.5])}
    return _graph(nodes, {"x": (2, c, 4, 4)}, (2, c, 4, 4), inits), {"x": (2, c, 4, 4)}


def _less_cast_where():
    nodes = [helper.make_node("Less", ["x", "zero"], ["m"]), helper.make_node("Cast", ["m"], ["f"], to=F),
             helper.make_node("Where", ["m", "x", "half"], ["w"]), helper.make_node("Add", ["w", "f"], ["y"])]
    return _graph(nodes, {"x": (2, 6)}, (2, 6), {"zero": _c(0.0), "half": _c(0.5)}), {"x": (2, 6)}


def _scatter():
    node = helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=0)
    return _graph([node], {"x": (3, 3), "u": (1, 3)}, (3, 3), {"i": _c([[2, 0, 1]], np.int64)}), {"x": (3, 3),
                                                                                                   "u": (1, 3)}


def _int_div(op="Div", **attrs):
    g = helper.make_graph([helper.make_node(op, ["x", "c"], ["y"], **attrs)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.INT8, [2, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.INT8, [2, 6])],
                          initializer=[numpy_helper.from_array(_c(4, np.int8), "c")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    return m, {"x": (2, 6)}


POS = (0.2, 3.0)  # inputs for Sqrt, Log, Pow with a fractional exponent
AX1 = {"axes": _c([1], np.int64)}
ROI = _c([])
# name: (builder, input interval, expected: "proves" or a phrase of the refusal)
ENTRIES = {
    # models without weights
    "Relu": (_one("Relu"), None, "proves"), "Sigmoid": (_one("Sigmoid"), None, "proves"),
    "Softmax": (_one("Softmax"), None, "proves"), "Erf": (_one("Erf"), None, "proves"),
    "Clip": (_one("Clip", inits={"lo": _c(-1.0), "hi": _c(1.0)}), None, "proves"),
    "Pad": (_one("Pad", out=(2, 9), inits={"p": _c([0, 1, 0, 2], np.int64)}), None, "proves"),
    "Reshape": (_one("Reshape", out=(3, 4), inits={"s": _c([3, 4], np.int64)}), None, "proves"),
    "Flatten": (_one("Flatten", shape=(2, 3, 2), out=(2, 6)), None, "proves"),
    "Identity": (_one("Identity"), None, "proves"),
    "Relu_Sigmoid_stack": (_stack, None, "proves"),
    # division
    "Div_constant": (_one("Div", inits={"c": _c(3.0)}), None, "proves"),
    "Div_elementwise": (_one("Div", ins={"x": (2, 6), "d": (2, 6)}), POS, "proves"),
    "Div_integer": (_int_div, None, "proves"),
    "Mod_integer": (lambda: _int_div("Mod"), None, "proves"),
    "Mod_integer_fmod": (lambda: _int_div("Mod", fmod=1), None, "proves"),
    "Mod_float": (_one("Mod", inits={"c": _c(4.0)}, fmod=1), None, "float"),
    # elementwise functions
    **{op: (_one(op), POS if op in ("Sqrt", "Log") else None, "proves")
       for op in ("Sqrt", "Log", "Round", "Elu", "Selu", "Celu", "Softplus", "Mish", "HardSigmoid", "HardSwish")},
    "Pow": (_one("Pow", inits={"e": _c(1.5)}), POS, "proves"),
    "PRelu": (_one("PRelu", inits={"s": _c([0.1, 0.2, 0.3, 0.1, 0.2, 0.3])}), None, "proves"),
    # reductions
    **{op: (_one(op, shape=(2, 3, 4), out=(2, 1, 4), inits=AX1), None, "proves")
       for op in ("ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceLogSumExp")},
    # gathers, slices, expands, scatters
    "Gather": (_one("Gather", out=(2, 3), inits={"i": _c([5, 0, 2], np.int64)}, axis=1), None, "proves"),
    "GatherElements": (_one("GatherElements", out=(1, 6), inits={"i": _c([[1, 0, 1, 0, 1, 0]], np.int64)}),
                       None, "proves"),
    "Slice": (_one("Slice", out=(2, 2), inits={"s": _c([1], np.int64), "e": _c([5], np.int64),
                                               "a": _c([1], np.int64), "st": _c([2], np.int64)}), None, "proves"),
    "Expand": (_one("Expand", shape=(2, 1), out=(2, 6), inits={"s": _c([2, 6], np.int64)}), None, "proves"),
    "ScatterElements": (_scatter, None, "proves"),
    "TopK": (lambda: (_graph([helper.make_node("TopK", ["x", "k"], ["y", "idx"])], {"x": (2, 6)}, (2, 2),
                             {"k": _c([2], np.int64)}), {"x": (2, 6)}), None, "proves"),
    # comparisons and selection
    "Less_Cast_Where": (_less_cast_where, None, "proves"),
    # normalization
    "LayerNormalization": (_one("LayerNormalization", inits={"g": _w(6), "b": _w(6)}), None, "proves"),
    "InstanceNormalization": (_one("InstanceNormalization", shape=(2, 3, 4), inits={"g": _w(3), "b": _w(3)}),
                              None, "proves"),
    "BatchNormalization_after_Relu": (_bn_after_relu, None, "proves"),
    # convolution shapes and resizing
    "ConvTranspose": (_one("ConvTranspose", shape=(1, 2, 3, 3), out=(1, 2, 6, 6), inits={"W": _w(2, 2, 4, 4)},
                           strides=[2, 2], pads=[1, 1, 1, 1]), None, "proves"),
    "Resize_nearest": (_one("Resize", shape=(1, 1, 3, 3), out=(1, 1, 6, 6),
                            inits={"roi": ROI, "sc": _c([1, 1, 2, 2])}, mode="nearest"), None, "proves"),
    "Resize_linear": (_one("Resize", shape=(1, 1, 3, 3), out=(1, 1, 6, 6),
                           inits={"roi": ROI, "sc": _c([1, 1, 2, 2])}, mode="linear"), None, "proves"),
    "Conv_padding_as_wide_as_window": (_one("Conv", shape=(1, 1, 3, 3), out=(1, 2, 6, 6),
                                            inits={"W": _w(2, 1, 2, 2), "B": _c([0.5, -0.5])}, pads=[2, 2, 2, 2]),
                                       None, "proves"),
    "Add_8_and_1x8": (_one("Add", out=(1, 8), ins={"x": (8,), "z": (1, 8)}), None, "proves"),
    # recurrent layers and attention
    "LSTM": (_one("LSTM", shape=(4, 1, 3), out=(4, 1, 1, 2),
                  inits={"W": _w(1, 8, 3), "R": _w(1, 8, 2)}, hidden_size=2), None, "proves"),
    "GRU": (_one("GRU", shape=(4, 1, 3), out=(4, 1, 1, 2), inits={"W": _w(1, 6, 3), "R": _w(1, 6, 2)},
                 hidden_size=2), None, "proves"),
    "RNN": (_one("RNN", shape=(4, 1, 3), out=(4, 1, 1, 2), inits={"W": _w(1, 2, 3), "R": _w(1, 2, 2)},
                 hidden_size=2), None, "proves"),
    "attention_head": (_attention, None, "proves"),
}


def run(name):
    """'proves' when compiled, within tolerance and proven; else the refusal message."""
    build, interval, _ = ENTRIES[name]
    m, shapes = build()
    lo, hi = interval or (-3.0, 3.0)
    data = samples(shapes, 16, lo=lo, hi=hi)
    for i in m.graph.input:
        if i.type.tensor_type.elem_type == TensorProto.INT8:
            data[i.name] = np.rint(data[i.name] * 40).astype(np.int8)
    try:
        circuit, weights = compiled(m, data)
    except OnnxImportError as exc:
        return exc.message
    err, allowed = max_error(m, circuit, weights, {k: v[:4] for k, v in data.items()}, snap=name == "Round")
    if err > allowed:
        return f"error {err:.4g} above the tolerance {allowed:.4g}"
    verdict = prove_and_verify(circuit, weights, {k: v[5] for k, v in data.items()})
    return "proves" if verdict.valid else f"proof rejected: {verdict.reason}"


# The recurrent entries (four steps) prove what tests/onnx/test_ops_recurrent.py
# proves by default on two steps, every output checked: they run with
# `pytest -m heavy tests/onnx` and when this file runs as a script.
RECURRENT = {"LSTM", "GRU", "RNN"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.heavy) if n in RECURRENT else n
                                  for n in sorted(ENTRIES)])
def test_issue_op(name):
    result = run(name)
    expected = ENTRIES[name][2]
    assert expected in result, result


if __name__ == "__main__":
    results = {}
    for name in ENTRIES:
        t = time.perf_counter()
        results[name] = run(name)
        print(f"{name:32s} {time.perf_counter() - t:5.2f} s  {results[name][:150]}")
    ok = sum(r == "proves" for r in results.values())
    print(f"\n{ok} of {len(results)} entries of issue 21's op list compile, agree with onnxruntime and prove")
