"""Runs one ONNX backend node test case (the cases that ship inside the
`onnx` package, `onnx.backend.test.case.node`) through our compiler and
reference executor.

Quantization parameters and weights must be constants for us, while the
test cases feed them as graph inputs; `CONSTANT_INPUTS` names, per op, the
input positions we bind as initializers from the case's own data.

Pass criteria (`check`):
* integer/quantized ops (QLinearMatMul, QLinearConv, MatMulInteger,
  ConvInteger, QuantizeLinear, DequantizeLinear) and integer outputs
  (ArgMax): bit-exact;
* float ops, quantized by our PTQ calibrated on the case's inputs: max
  absolute error <= FLOAT_TOLERANCE x the expected output's range (max - min,
  or max |value| when constant) plus 2 output LSBs. Int8 has 255 steps, so one
  step is 0.4 % of the range; 5 % leaves room for input rounding summed over
  an inner dimension and for lookup-table ops whose output range is narrow.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from zkaudit.circuit import dequantize, quantize
from zkaudit.onnx import import_model, model_kind
from zkaudit.onnx.calibrate import collect_ranges
from zkaudit.onnx.load import fold_batchnorm

EXACT_OPS = {"QLinearMatMul", "QLinearConv", "MatMulInteger", "ConvInteger", "QuantizeLinear", "DequantizeLinear"}
FLOAT_TOLERANCE = 0.05

CONSTANT_INPUTS = {
    "Conv": {1, 2}, "Gemm": {1, 2}, "Div": {1}, "QLinearMatMul": {1, 2, 4, 5, 6, 7}, "QLinearConv": {1, 2, 3, 4, 5, 6, 7, 8},
    "MatMulInteger": {2, 3}, "ConvInteger": {1, 2, 3}, "QuantizeLinear": {1, 2}, "DequantizeLinear": {1, 2},
    "Reshape": {1}, "Squeeze": {1}, "Unsqueeze": {1}, "Pad": {1, 2, 3}, "Clip": {1, 2},
    "BatchNormalization": {1, 2, 3, 4}, "Dropout": {1, 2}, "Pow": {1}, "PRelu": {1}, "Expand": {1},
    "ConvTranspose": {1, 2}, "Gather": {1}, "GatherElements": {1}, "ScatterElements": {1}, "Slice": {1, 2, 3, 4},
    "Split": {1}, "Tile": {1}, "Resize": {1, 2, 3}, "LayerNormalization": {1, 2}, "InstanceNormalization": {1, 2},
    "GroupNormalization": {1, 2}, "RNN": {1, 2, 3, 4}, "GRU": {1, 2, 3, 4}, "LSTM": {1, 2, 3, 4, 7}, "TopK": {1},
    **{op: {1} for op in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2",
                          "ReduceSumSquare", "ReduceLogSumExp")},
}


def bind_constants(case) -> tuple[onnx.ModelProto, dict, list]:
    """The case's model with parameter inputs turned into initializers;
    returns (model, remaining inputs by name, expected outputs)."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs, outputs = case.data_sets[0]
    node = model.graph.node[0]
    const_pos = CONSTANT_INPUTS.get(node.op_type, set())
    graph_inputs = list(model.graph.input)
    by_name = dict(zip([i.name for i in graph_inputs], inputs))
    bind = {node.input[p] for p in const_pos if p < len(node.input) and node.input[p]}
    keep = [i for i in graph_inputs if i.name not in bind]
    model.graph.initializer.extend(numpy_helper.from_array(np.asarray(by_name[n]), n) for n in bind if n in by_name)
    del model.graph.input[:]
    model.graph.input.extend(keep)
    model.ir_version = min(model.ir_version, 10)
    return model, {i.name: np.asarray(by_name[i.name]) for i in keep}, list(outputs)


def run_case(case) -> tuple[list[np.ndarray], list[np.ndarray], list, bool]:
    """(our outputs as real numbers, expected outputs, output specs, exact?)."""
    model, feeds, expected = bind_constants(case)
    op = model.graph.node[0].op_type
    fold_batchnorm(model)
    ranges = None
    if model_kind(model) == "float":
        floats = {k: v[None] for k, v in feeds.items() if v.dtype.kind in "fb"}  # bool: a Where condition
        ranges = collect_ranges(model, floats) if floats else {}
    circuit, weights = import_model(model, ranges=ranges, name=case.name)
    ints = {}
    for spec in circuit.inputs:
        value = feeds[spec.name]
        ints[spec.name] = quantize(spec, value) if value.dtype.kind == "f" else value.astype(np.int64)
    out = circuit.execute(weights, ints)
    ours = [dequantize(s, out[s.name]) for s in circuit.outputs]
    exact = op in EXACT_OPS or all(np.asarray(e).dtype.kind in "iub" for e in expected)
    return ours, [np.asarray(e) for e in expected], list(circuit.outputs), exact


def check(ours, expected, specs, exact) -> str | None:
    """None when the case passes, else why not."""
    for got, want, spec in zip(ours, expected, specs):
        if got.shape != want.shape:
            return f"shape {got.shape} != expected {want.shape}"
        if exact:
            if want.dtype.kind == "f":
                ok = np.array_equal(got.astype(want.dtype), want)
            else:
                ok = np.array_equal(np.rint(got).astype(np.int64), want.astype(np.int64))
            if not ok:
                return f"not bit-exact: {int(np.sum(np.rint(got) != want))} of {want.size} values differ"
            continue
        w = want.astype(np.float64)
        spread = float(w.max() - w.min()) if w.size else 0.0
        spread = spread if spread > 0 else float(np.abs(w).max(initial=0.0))
        lsb = spec.scale or 0.0
        err = float(np.max(np.abs(got - w))) if w.size else 0.0
        if err > FLOAT_TOLERANCE * spread + 2 * lsb + 1e-6:
            return f"max abs error {err:.4g} exceeds tolerance {FLOAT_TOLERANCE * spread + 2 * lsb:.4g}"
    return None


def supported_cases():
    from onnx.backend.test.case.node import collect_testcases

    from zkaudit.onnx.registry import OPS

    ops = {op for d, op in OPS if d == "ai.onnx"} | {"BatchNormalization"}
    return [c for c in collect_testcases(None) if len(c.model.graph.node) == 1
            and c.model.graph.node[0].op_type in ops and not c.name.endswith("_expanded")]


__all__ = ["run_case", "check", "supported_cases", "helper"]
