"""Fidelity of a compiled circuit, measured, never assumed.

* against the float model: top-1 agreement (argmax over the last axis, or for
  a single output column the side of 0.5 after a Sigmoid / of 0 otherwise)
  and the max absolute error of our dequantized outputs;
* against onnxruntime running an already quantized model: the fraction of
  output integers equal to onnxruntime's and the max difference in LSBs
  (onnxruntime's integers are recovered from its dequantized outputs).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from zkaudit.circuit import Circuit, Weights, dequantize, quantize
from zkaudit.onnx.calibrate import run_float


def run_circuit(circuit: Circuit, weights: Weights, samples: dict[str, np.ndarray]) -> list[dict]:
    n = len(next(iter(samples.values())))
    out = []
    for i in range(n):
        ints = {s.name: quantize(s, samples[s.name][i]) for s in circuit.inputs}
        out.append(circuit.execute(weights, ints))
    return out


def decisions(y: np.ndarray, sigmoid_last: bool) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim and y.shape[-1] > 1:
        return y.argmax(axis=-1)
    return (y > (0.5 if sigmoid_last else 0.0)).astype(np.int64)


def strip_qdq(model: onnx.ModelProto) -> onnx.ModelProto:
    """The float model a QDQ model stands for: DequantizeLinear of a constant
    becomes the dequantized float constant, a QuantizeLinear->DequantizeLinear
    pair on an activation becomes a Clip to its representable range (the
    rounding goes, the saturation stays: onnxruntime's quantizer drops a Relu
    whose job the saturation does)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    drop, clips = [], []
    for n in g.node:
        if n.op_type != "DequantizeLinear":
            continue
        src = producer.get(n.input[0])
        if n.input[0] in inits:
            q = inits[n.input[0]].astype(np.float64)
            s = inits[n.input[1]].astype(np.float64)
            z = inits[n.input[2]].astype(np.float64) if len(n.input) > 2 and n.input[2] else 0.0
            axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
            if np.ndim(s) == 1 and q.ndim:
                shape = [1] * q.ndim
                shape[axis] = -1
                s = s.reshape(shape)
                z = np.reshape(z, shape) if np.ndim(z) else z
            g.initializer.append(numpy_helper.from_array(((q - z) * s).astype(np.float32), n.output[0]))
            drop.append(n)
        elif src is not None and src.op_type == "QuantizeLinear" and src.input[1] in inits:
            scale = float(inits[src.input[1]].reshape(-1)[0])
            zp_arr = inits[src.input[2]] if len(src.input) > 2 and src.input[2] else np.zeros((), np.uint8)
            info = np.iinfo(zp_arr.dtype)
            zp = int(zp_arr.reshape(-1)[0])
            lo, hi = n.output[0] + "/lo", n.output[0] + "/hi"
            g.initializer.extend([numpy_helper.from_array(np.float32((info.min - zp) * scale), lo),
                                  numpy_helper.from_array(np.float32((info.max - zp) * scale), hi)])
            clips.append(onnx.helper.make_node("Clip", [src.input[0], lo, hi], [n.output[0]]))
            drop.append(n)
    for n in drop:
        g.node.remove(n)
    _insert_in_order(g, clips)
    used = {i for n in g.node for i in n.input}
    keep = [n for n in g.node if n.op_type != "QuantizeLinear" or any(o in used for o in n.output)]
    del g.node[:]
    g.node.extend(keep)
    return m


def _insert_in_order(g, new_nodes) -> None:
    """Add nodes and re-sort the graph topologically."""
    nodes = list(g.node) + list(new_nodes)
    ready = {i.name for i in g.input} | {i.name for i in g.initializer} | {""}
    ordered = []
    while nodes:
        progress = [n for n in nodes if all(i in ready for i in n.input)]
        if not progress:
            ordered += nodes
            break
        for n in progress:
            ordered.append(n)
            ready.update(n.output)
        nodes = [n for n in nodes if n not in progress]
    del g.node[:]
    g.node.extend(ordered)


def measure(circuit: Circuit, weights: Weights, samples: dict, *, float_model=None, quant_model=None,
            sigmoid_last: bool = False) -> dict:
    ours = run_circuit(circuit, weights, samples)
    out_spec = circuit.outputs[0]
    ours_int = np.stack([o[out_spec.name] for o in ours])
    ours_real = dequantize(out_spec, ours_int)
    report: dict = {"samples": int(len(ours)), "output": out_spec.name}
    if float_model is not None:
        ref = np.stack([list(r.values())[0] for r in run_float(float_model, samples)]).reshape(ours_real.shape)
        report["float_top1_agreement"] = float(np.mean(decisions(ref, sigmoid_last) == decisions(ours_real,
                                                                                                 sigmoid_last)))
        report["float_max_abs_error"] = float(np.max(np.abs(ref - ours_real)))
        report["float_output_range"] = [float(ref.min()), float(ref.max())]
    if quant_model is not None:
        ref = np.stack([list(r.values())[0] for r in run_float(quant_model, samples)]).reshape(ours_real.shape)
        if out_spec.scale is None:
            ref_int = np.rint(ref).astype(np.int64)
        else:
            ref_int = np.rint(ref.astype(np.float64) / np.float32(out_spec.scale)).astype(np.int64) + out_spec.zero_point
        diff = np.abs(ref_int - ours_int)
        report["ort_exact_match_rate"] = float(np.mean(diff == 0))
        report["ort_max_lsb_diff"] = int(diff.max())
        report["ort_values_compared"] = int(diff.size)
    return report
