"""Gathers, slices, tiles and resizes with constant indices, lowered onto the
existing IR ops (a MatMul by a 0/1 selection matrix + a Requantize by 1,
Expand, Reshape/Transpose): each a small float model built with onnx.helper,
compiled with calibration, compared with onnxruntime (the README's
tolerance, `oneop.py`; the selections exactly, on the input the circuit
sees) and proven and verified. Then the refusals, each with its reason."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from oneop import compiled, max_error, prove_and_verify, samples
from zkaudit.onnx.errors import OnnxImportError, UnsupportedOp


def _i(*rows):
    return np.array(rows, np.int64)


def _f(*values):
    return np.array(values, np.float32)


NO_ROI = np.zeros(0, np.float32)

# name: (op, input shapes, output shape, constant inputs (in order after the inputs), attributes, IR op expected:
# a constant selection is one Gather index map, a weighted one a MatMul)
CASES = {
    "Gather_axis1_2d_indices": ("Gather", {"x": (3, 5)}, (3, 2, 2), {"i": _i([0, 4], [2, -1])}, {"axis": 1}, "Gather"),
    "Gather_scalar_index": ("Gather", {"x": (3, 5)}, (5,), {"i": np.array(1, np.int64)}, {}, "Gather"),
    "GatherElements": ("GatherElements", {"x": (3, 4)}, (2, 4), {"i": _i([0, 1, 2, 0], [2, 2, 1, 1])},
                       {"axis": 0}, "Gather"),
    "Slice_negative_step": ("Slice", {"x": (4, 6)}, (2, 3),
                            {"s": _i(1, 5), "e": _i(3, 0), "a": _i(0, 1), "st": _i(1, -2)}, {}, "Gather"),
    "Slice_3d_middle_axis": ("Slice", {"x": (2, 5, 3)}, (2, 4, 3), {"s": _i(1), "e": _i(2**62), "a": _i(-2)}, {},
                             "Gather"),
    "Tile": ("Tile", {"x": (2, 3)}, (4, 9), {"r": _i(2, 3)}, {}, "Expand"),
    "DepthToSpace_DCR": ("DepthToSpace", {"x": (1, 8, 2, 3)}, (1, 2, 4, 6), {}, {"blocksize": 2}, "Transpose"),
    "DepthToSpace_CRD": ("DepthToSpace", {"x": (1, 8, 2, 3)}, (1, 2, 4, 6), {}, {"blocksize": 2, "mode": "CRD"},
                         "Transpose"),
    "SpaceToDepth": ("SpaceToDepth", {"x": (1, 2, 4, 6)}, (1, 8, 2, 3), {}, {"blocksize": 2}, "Transpose"),
    "Resize_nearest_integer_scales": ("Resize", {"x": (1, 2, 3, 3)}, (1, 2, 6, 9),
                                      {"roi": NO_ROI, "sc": _f(1, 1, 2, 3)}, {"mode": "nearest"}, "Expand"),
    "Resize_nearest_fractional": ("Resize", {"x": (1, 2, 4, 4)}, (1, 2, 6, 6),
                                  {"roi": NO_ROI, "sc": _f(1, 1, 1.5, 1.5)}, {"mode": "nearest"}, "Gather"),
    "Resize_nearest_sizes_asymmetric": ("Resize", {"x": (1, 1, 3, 5)}, (1, 1, 7, 2),
                                        {"roi": NO_ROI, "": None, "sz": _i(1, 1, 7, 2)},
                                        {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                                         "nearest_mode": "floor"}, "Gather"),
    "Resize_linear": ("Resize", {"x": (1, 2, 3, 4)}, (1, 2, 6, 8), {"roi": NO_ROI, "sc": _f(1, 1, 2, 2)},
                      {"mode": "linear"}, "MatMul"),
    "Resize_cubic_align_corners": ("Resize", {"x": (1, 1, 4, 4)}, (1, 1, 7, 7), {"roi": NO_ROI, "": None,
                                                                               "sz": _i(1, 1, 7, 7)},
                                   {"mode": "cubic", "coordinate_transformation_mode": "align_corners"}, "MatMul"),
}
EXACT = {"Gather_axis1_2d_indices", "Gather_scalar_index", "GatherElements", "Slice_negative_step",
         "Slice_3d_middle_axis", "Tile", "DepthToSpace_DCR", "DepthToSpace_CRD", "SpaceToDepth",
         "Resize_nearest_integer_scales", "Resize_nearest_fractional", "Resize_nearest_sizes_asymmetric"}


def graph_model(nodes, inputs: dict, outputs: dict, inits: dict, opset: int = 18):
    """A graph of several nodes; `outputs` name -> (elem type, shape or None)."""
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, t, s) for n, (t, s) in outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


def _built(name):
    op, shapes, out, inits, attrs, _ = CASES[name]
    names = [*shapes, *inits]
    node = helper.make_node(op, names, ["y"], **attrs)
    m = graph_model([node], shapes, {"y": (TensorProto.FLOAT, list(out))},
                    {k: v for k, v in inits.items() if k})
    data = samples(shapes, 16)
    circuit, weights = compiled(m, data)
    return m, circuit, weights, data


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_onnxruntime_and_proves(name):
    m, circuit, weights, data = _built(name)
    ops = {n.op for n in circuit.nodes}
    assert CASES[name][5] in ops, ops
    assert circuit.outputs[0].shape == CASES[name][2]
    err, allowed = max_error(m, circuit, weights, {k: v[:4] for k, v in data.items()}, snap=name in EXACT)
    assert err <= (1e-6 if name in EXACT else allowed), (err, allowed)
    verdict = prove_and_verify(circuit, weights, {k: v[5] for k, v in data.items()})
    assert verdict.valid, verdict.reason


def test_split_outputs_each_a_selection():
    m = graph_model([helper.make_node("Split", ["x", "sp"], ["a", "b"], axis=1)], {"x": (2, 6)},
                    {"a": (TensorProto.FLOAT, [2, 2]), "b": (TensorProto.FLOAT, [2, 4])}, {"sp": _i(2, 4)})
    data = samples({"x": (2, 6)}, 8)
    circuit, weights = compiled(m, data)
    x_spec = circuit.inputs[0]
    from zkaudit.circuit import quantize

    q = quantize(x_spec, data["x"][0])
    got = circuit.execute(weights, {x_spec.name: q})
    assert np.array_equal(got[circuit.outputs[0].name], q[:, :2])
    assert np.array_equal(got[circuit.outputs[1].name], q[:, 2:])
    assert prove_and_verify(circuit, weights, {"x": data["x"][1]}).valid


def test_scatter_elements_reads_data_or_update():
    idx = _i([1, 0, 2], [0, 2, 1])
    m = graph_model([helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=0)], {"x": (3, 3), "u": (2, 3)},
                    {"y": (TensorProto.FLOAT, [3, 3])}, {"i": idx})
    data = samples({"x": (3, 3), "u": (2, 3)}, 16)
    circuit, weights = compiled(m, data)
    err, allowed = max_error(m, circuit, weights, {k: v[:4] for k, v in data.items()})
    assert err <= allowed, (err, allowed)
    assert prove_and_verify(circuit, weights, {k: v[0] for k, v in data.items()}).valid


def test_selection_keeps_the_integers_and_the_range():
    """The gather's output is the selected input integers, declared in the
    input's range (not MatMul's K-times-wider worst case)."""
    _, circuit, weights, data = _built("Slice_negative_step")
    x_spec, y_spec = circuit.inputs[0], circuit.outputs[0]
    assert (y_spec.lo, y_spec.hi, y_spec.zero_point) == (x_spec.lo, x_spec.hi, x_spec.zero_point)
    from zkaudit.circuit import quantize

    q = quantize(x_spec, data["x"][0])
    assert np.array_equal(circuit.execute(weights, {x_spec.name: q})[y_spec.name], q[1:3, 5:0:-2])


@pytest.mark.parametrize("what, build, match", [
    ("computed indices", lambda: graph_model(
        [helper.make_node("ArgMax", ["x"], ["i"], axis=1, keepdims=0), helper.make_node("Gather", ["x", "i"], ["y"],
                                                                                       axis=1)],
        {"x": (3, 4)}, {"y": (TensorProto.FLOAT, [3, 3])}, {}), "must be constants"),
    ("tf_crop_and_resize", lambda: graph_model(
        [helper.make_node("Resize", ["x", "roi", "sc"], ["y"], coordinate_transformation_mode="tf_crop_and_resize")],
        {"x": (1, 1, 2, 2)}, {"y": (TensorProto.FLOAT, [1, 1, 4, 4])}, {"roi": _f(0, 0, 0, 0, 1, 1, 1, 1),
                                                                "sc": _f(1, 1, 2, 2)}), "tf_crop_and_resize"),
    ("scatter with add", lambda: graph_model(
        [helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], reduction="add")], {"x": (2, 2), "u": (1, 2)},
        {"y": (TensorProto.FLOAT, [2, 2])}, {"i": _i([0, 1])}), "reduction"),
])
def test_refusals_name_the_reason(what, build, match):
    m = build()
    shapes = {i.name: tuple(d.dim_value for d in i.type.tensor_type.shape.dim) for i in m.graph.input
              if i.name not in {t.name for t in m.graph.initializer}}
    with pytest.raises(OnnxImportError, match=match):
        compiled(m, samples(shapes, 4))


def test_gather_of_a_constant_table_by_computed_indices_along_axis_1_is_refused():
    """An embedding is a lookup of rows (axis 0, `test_ops_embedding.py`); other axes are refused."""
    from zkaudit.onnx.importer import Importer
    from zkaudit.onnx.registry import OPS

    g = helper.make_graph([helper.make_node("Gather", ["table", "x"], ["y"], axis=1)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.INT16, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 2])],
                          initializer=[numpy_helper.from_array(np.ones((4, 3), np.float32), "table")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    with pytest.raises(UnsupportedOp, match="axis 0 only"):
        Importer(m, OPS, ranges={}).run()
