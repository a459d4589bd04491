"""Fidelity of a compiled circuit, measured, never assumed.

* against the float model: top-1 agreement (argmax over the last axis, or for
  a single output column the side of 0.5 after a Sigmoid / of 0 otherwise)
  and the max absolute error of our dequantized outputs;
* against onnxruntime running an already quantized model: the fraction of
  output integers equal to onnxruntime's and the max difference in LSBs
  (onnxruntime's integers are recovered from its dequantized outputs);
* for a classifier's outputs (an integer label, scores over several
  classes, one sigmoid column): the fraction of samples whose predicted
  class is onnxruntime's (`label_agreement`), on the model compiled
  (the quantized one when given, else the float one);
* when the samples come with true labels, a classifier's accuracy against
  them, the circuit's and the reference model's (`label_accuracy`).

`fidelity_lines(summary)` renders the report for people (`compile`,
`registry show`).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from zkaudit.circuit import Circuit, Weights, dequantize, quantize
from zkaudit.onnx.calibrate import run_float
from zkaudit.onnx.errors import OnnxImportError


def run_circuit(circuit: Circuit, weights: Weights, samples: dict[str, np.ndarray]) -> list[dict]:
    n = len(next(iter(samples.values())))
    out = []
    for i in range(n):
        ints = {s.name: quantize(s, samples[s.name][i]) if s.scale is not None
                else np.rint(np.asarray(samples[s.name][i], dtype=np.float64)).astype(np.int64)  # ONNX integers
                for s in circuit.inputs}
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
            if np.size(s) > 1 and q.ndim:
                shape = [1] * q.ndim
                shape[axis] = -1
                s = s.reshape(shape)
                z = np.reshape(z, shape) if np.size(z) > 1 else np.reshape(z, ())
            else:  # per tensor, possibly written as shape [1] (onnxruntime's bias scales)
                s, z = np.reshape(s, ()), np.reshape(z, ())
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
            sigmoid_last: bool = False, labels=None) -> dict:
    """The fidelity report. Every output is measured (`outputs`, one entry
    per circuit output, in order); the first output's figures are also at
    the top level, where earlier readers of the summary look for them. With
    `labels` (one true class per sample), a classifier's accuracy, the
    circuit's beside the reference model's (`label_accuracy`)."""
    ours = run_circuit(circuit, weights, samples)
    float_runs = run_float(float_model, samples) if float_model is not None else None
    quant_runs = run_float(quant_model, samples) if quant_model is not None else None
    per_output = []
    for index, spec in enumerate(circuit.outputs):
        ours_int = np.stack([o[spec.name] for o in ours])
        per_output.append(_measure_output(
            spec, ours_int,
            None if float_runs is None else _reference(float_runs, index, ours_int.shape),
            None if quant_runs is None else _reference(quant_runs, index, ours_int.shape),
            sigmoid_last and index == len(circuit.outputs) - 1))
    report: dict = {"samples": int(len(ours)), "output": circuit.outputs[0].name}
    coarse = [c for c in (_coarse_features(spec, samples.get(spec.name)) for spec in circuit.inputs) if c]
    if coarse:
        report["coarse_inputs"] = coarse
    report.update({k: v for k, v in per_output[0].items() if k not in ("name", "label_agreement", "label_output")})
    labelled = [o for o in per_output if "label_agreement" in o]
    if labelled:  # an integer label output first: it is the prediction itself
        first = next((o for o in labelled if o.get("label_output")), labelled[0])
        report["label_agreement"] = {"output": first["name"], "rate": first["label_agreement"],
                                     "samples": int(len(ours)),
                                     "reference": "quantized model" if quant_runs is not None else "float model"}
    if labels is not None:
        accuracy = _label_accuracy(circuit, ours, quant_runs if quant_runs is not None else float_runs, labels,
                                   sigmoid_last, per_output)
        if accuracy is not None:
            accuracy["reference"] = "quantized model" if quant_runs is not None else "float model"
            report["label_accuracy"] = accuracy
    report["outputs"] = per_output
    hints = [o["hint"] for o in per_output if o.get("hint")]
    if hints:
        report["hints"] = hints
    return report


COARSE_STEPS = 8  # a feature whose samples span fewer quantization steps than this is nearly erased


def _coarse_features(spec, values) -> dict | None:
    """For a tabular input (samples x 1 x features): the features that one
    shared int8 scale leaves with fewer than COARSE_STEPS levels -- what
    happens when raw features of very different magnitudes (an area in the
    thousands beside a ratio below 1) enter a model whose first op scales
    them (scikit-learn's StandardScaler inside the pipeline)."""
    if values is None or spec.scale is None or len(spec.shape) != 2:
        return None
    flat = np.asarray(values, dtype=np.float64).reshape(-1, spec.shape[-1])
    steps = (flat.max(axis=0) - flat.min(axis=0)) / float(spec.scale)
    coarse = np.flatnonzero((steps < COARSE_STEPS) & (flat.max(axis=0) > flat.min(axis=0)))
    if not coarse.size:
        return None
    return {"name": spec.name, "features": int(spec.shape[-1]), "coarse_features": coarse.tolist()}


def _reference(runs: list[dict], index: int, shape) -> np.ndarray:
    return np.stack([list(r.values())[index] for r in runs]).reshape(shape)


def _measure_output(spec, ours_int: np.ndarray, float_ref, quant_ref, sigmoid_last: bool) -> dict:
    ours_real = dequantize(spec, ours_int)
    out: dict = {"name": spec.name,
                 "saturated": int(np.count_nonzero((ours_int <= spec.lo) | (ours_int >= spec.hi))),
                 "values": int(ours_int.size)}
    if float_ref is not None and spec.scale is None and np.asarray(float_ref).dtype.kind in "iu":
        # an integer output (a class label from ArgMax): agreement is equality
        out["float_top1_agreement"] = float(np.mean(np.asarray(float_ref) == ours_int))
        out["float_max_abs_error"] = float(np.max(np.abs(np.asarray(float_ref, dtype=np.int64) - ours_int)))
    elif float_ref is not None:
        out["float_top1_agreement"] = float(np.mean(decisions(float_ref, sigmoid_last)
                                                    == decisions(ours_real, sigmoid_last)))
        out["float_max_abs_error"] = float(np.max(np.abs(float_ref - ours_real)))
        out["float_output_range"] = [float(float_ref.min()), float(float_ref.max())]
        if spec.scale is not None:
            lo = float((spec.lo - spec.zero_point) * np.float32(spec.scale))
            hi = float((spec.hi - spec.zero_point) * np.float32(spec.scale))
            out["quantized_output_range"] = [lo, hi]
            step = float(np.float32(spec.scale))  # within one step of the range is rounding, not saturation
            beyond = int(np.count_nonzero((float_ref < lo - step) | (float_ref > hi + step)))
            out["float_beyond_quantized_range"] = beyond
            if beyond:
                out["hint"] = (f"output {spec.name!r}: {beyond} of {float_ref.size} float values lie outside the "
                               f"quantized range [{lo:.4g}, {hi:.4g}] (float range [{float_ref.min():.4g}, "
                               f"{float_ref.max():.4g}]) and saturate: calibrate on more samples that reach "
                               "these values (or --method minmax if percentile clipped them)")
    agreement = _label_agreement(spec, ours_int, ours_real, quant_ref if quant_ref is not None else float_ref,
                                 sigmoid_last)
    if agreement is not None:
        out["label_agreement"] = agreement
        out["label_output"] = spec.scale is None
    if quant_ref is not None:
        if spec.scale is None:
            ref_int = np.rint(quant_ref).astype(np.int64)
        else:
            ref_int = (np.rint(quant_ref.astype(np.float64) / np.float32(spec.scale)).astype(np.int64)
                       + spec.zero_point)
        diff = np.abs(ref_int - ours_int)
        out["ort_exact_match_rate"] = float(np.mean(diff == 0))
        out["ort_within_1_lsb_rate"] = float(np.mean(diff <= 1))
        out["ort_max_lsb_diff"] = int(diff.max())
        out["ort_values_compared"] = int(diff.size)
    return out


def _label_agreement(spec, ours_int, ours_real, ref, sigmoid_last: bool) -> float | None:
    """The fraction of samples whose predicted class is the reference's: an
    integer output (a label) compared as is, scores by their argmax over the
    last axis, one sigmoid column by its side of 0.5; None for anything else
    (a regression output)."""
    if ref is None:
        return None
    ref = np.asarray(ref)
    n = len(ours_int)
    if spec.scale is None and ref.dtype.kind in "iu":
        same = ref.reshape(n, -1) == ours_int.reshape(n, -1)
    elif ours_real.ndim >= 2 and ours_real.shape[-1] > 1:
        same = (decisions(ref, False) == decisions(ours_real, False)).reshape(n, -1)
    elif sigmoid_last:
        same = (decisions(ref, True) == decisions(ours_real, True)).reshape(n, -1)
    else:
        return None
    return float(np.mean(np.all(same, axis=1)))


def _classes(values: np.ndarray, integer: bool, sigmoid_last: bool) -> np.ndarray | None:
    """One predicted class per sample (rows of `values`), or None when the
    output is not one prediction per sample."""
    n = len(values)
    if integer:
        flat = np.asarray(values).reshape(n, -1)
        return flat[:, 0].astype(np.int64) if flat.shape[1] == 1 else None
    values = np.asarray(values, dtype=np.float64)
    if values.ndim >= 2 and values.shape[-1] > 1:
        picked = decisions(values, False).reshape(n, -1)
    elif sigmoid_last:
        picked = decisions(values, True).reshape(n, -1)
    else:
        return None
    return picked[:, 0] if picked.shape[1] == 1 else None


def _label_accuracy(circuit, ours, reference_runs, labels, sigmoid_last: bool, per_output) -> dict | None:
    """The share of samples whose predicted class is the true label, for the
    circuit and for the reference model, on the output that
    `label_agreement` uses (an integer label first, else class scores)."""
    labelled = [o for o in per_output if "label_agreement" in o]
    if not labelled:
        return None
    first = next((o for o in labelled if o.get("label_output")), labelled[0])
    index = next(i for i, s in enumerate(circuit.outputs) if s.name == first["name"])
    spec = circuit.outputs[index]
    n = len(ours)
    truth = np.asarray(labels).reshape(-1)
    if truth.size != n:
        raise OnnxImportError(f"the samples carry {truth.size} labels for {n} samples")
    last = sigmoid_last and index == len(circuit.outputs) - 1
    ours_int = np.stack([o[spec.name] for o in ours])
    mine = _classes(ours_int if spec.scale is None else dequantize(spec, ours_int), spec.scale is None, last)
    if mine is None:
        return None
    out = {"output": spec.name, "samples": n, "circuit": float(np.mean(mine == truth))}
    if reference_runs is not None:
        ref = _reference(reference_runs, index, ours_int.shape)
        theirs = _classes(ref, spec.scale is None and np.asarray(ref).dtype.kind in "iu", last)
        if theirs is not None:
            out["reference_model"] = float(np.mean(theirs == truth))
    return out


def fidelity_lines(summary: dict | None, *, hints: bool = True) -> list[str]:
    """The fidelity report of a compile summary as text, one line per figure
    group and output (`compile` prints it, without the hints that its notes
    repeat; `registry show` too). Summaries
    written before per-output figures existed show their top-level figures."""
    f = summary.get("fidelity") if isinstance(summary, dict) else None
    if not isinstance(f, dict):
        return []
    lines = [f"fidelity on {f.get('samples', '?')} {f.get('source', '')} samples:".replace("  ", " ")]
    la = f.get("label_agreement")
    if isinstance(la, dict):
        lines.append(f"  predicted class as onnxruntime's on the {la.get('reference', 'model')}: {la['rate']:.2%} of "
                     f"{la.get('samples', '?')} samples (output {la.get('output')!r})")
    acc = f.get("label_accuracy")
    if isinstance(acc, dict):
        ref = (f", the {acc.get('reference', 'model')} {acc['reference_model']:.2%}" if "reference_model" in acc
               else "")
        lines.append(f"  accuracy against the given labels: circuit {acc['circuit']:.2%}{ref}, on "
                     f"{acc.get('samples', '?')} samples (output {acc.get('output')!r})")
    outputs = f.get("outputs") if isinstance(f.get("outputs"), list) else [{"name": f.get("output", "?"), **f}]
    for o in outputs:
        parts = []
        integer = "quantized_output_range" not in o and o.get("label_output")
        if "float_top1_agreement" in o and not integer:
            parts.append(f"vs float: top-1 agreement {o['float_top1_agreement']:.2%}, "
                         f"max abs error {o.get('float_max_abs_error', float('nan')):.4g}")
        elif "label_agreement" in o:
            parts.append(f"labels as onnxruntime on {o['label_agreement']:.2%}")
        if "ort_exact_match_rate" in o:
            parts.append(f"vs onnxruntime: exact {o['ort_exact_match_rate']:.3%}, within 1 LSB "
                         f"{o.get('ort_within_1_lsb_rate', float('nan')):.3%}, max {o.get('ort_max_lsb_diff')} LSB")
        if o.get("saturated") and not integer:
            parts.append(f"saturated {o['saturated']} of {o.get('values', '?')} values")
        lines.append(f"  output {o.get('name', '?')!r}: " + ("; ".join(parts) if parts else "no reference to compare"))
    for hint in (f.get("hints") or []) if hints else []:
        lines.append(f"  hint: {hint}")
    return lines


ORT_AGREEMENT_THRESHOLD = 0.99  # share of output values within 1 LSB of onnxruntime below which compile warns


def agreement_notes(report: dict) -> list[str]:
    """One line per output whose agreement with onnxruntime is below the
    threshold, and the saturation hints: what `compile` prints as warnings
    and records, so a poor figure never goes silently into a registry entry."""
    notes = []
    for o in report.get("outputs", []):
        rate = o.get("ort_within_1_lsb_rate")
        if rate is not None and rate < ORT_AGREEMENT_THRESHOLD:
            notes.append(f"warning: output {o['name']!r} is within 1 LSB of onnxruntime on only {rate:.1%} of "
                         f"values (max {o['ort_max_lsb_diff']} LSB); the circuit's integer semantics differ from "
                         "onnxruntime's kernels for this model")
        if o.get("hint"):
            notes.append("warning: " + o["hint"])
    for c in report.get("coarse_inputs", []):
        notes.append(f"warning: input {c['name']!r}: {len(c['coarse_features'])} of its {c['features']} features "
                     f"span fewer than {COARSE_STEPS} quantization steps of its one int8 scale (features "
                     f"{c['coarse_features'][:8]}{' ...' if len(c['coarse_features']) > 8 else ''}): features of "
                     "very different magnitudes share the input's scale; standardize them before the model (keep "
                     "scikit-learn's StandardScaler outside the exported pipeline)")
    return notes
