"""A published version's summary.json, reduced to what its page shows.

The summary is written by the vendor's `zkaudit compile` and stored as the
vendor sent it: the registry checks only its circuit digest. So every field
is read defensively -- a missing or oddly typed field is shown as not stated,
never trusted and never an error page. (Strings are escaped by the templates.)
"""

from __future__ import annotations

from typing import Any

# Fidelity figures shown, in this order, with the words used for them.
FIDELITY = (
    ("float_top1_agreement", "decisions agreeing with the float model"),
    ("float_max_abs_error", "largest output error vs the float model"),
    ("ort_exact_match_rate", "outputs equal to onnxruntime's quantized model"),
    ("ort_within_1_lsb_rate", "outputs within one step of onnxruntime's"),
    ("ort_max_lsb_diff", "largest difference from onnxruntime, in output steps"),
    ("float_beyond_quantized_range", "float outputs beyond the quantized range"),
    ("saturated", "outputs clipped at the range ends"),
    ("float_accuracy", "accuracy of the float model"),
    ("quantized_accuracy", "accuracy of the circuit"),
    ("max_lsb_error", "largest error in output steps"),
    ("samples", "samples measured"),
    ("source", "measured on"),
)


def _number(v: Any) -> int | float | None:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _shape(v: Any) -> str | None:
    if isinstance(v, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in v):
        return " \u00d7 ".join(str(d) for d in v) or "scalar"
    return None


def _tensors(v: Any) -> list[dict[str, Any]]:
    if not isinstance(v, list):
        return []
    out = []
    for t in v:
        if isinstance(t, dict):
            rng = t.get("range")
            ok = isinstance(rng, list) and len(rng) == 2 and all(_number(x) is not None for x in rng)
            out.append({"name": str(t.get("name", "?")), "shape": _shape(t.get("shape")),
                        "range": f"{rng[0]} .. {rng[1]}" if ok else None})
    return out


def _figure(v: Any) -> str | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (int, str)):
        return str(v)
    return None


def circuit_summary(summary: Any) -> dict[str, Any]:
    """ops (name -> count), inputs/outputs/weights (name, shape, range),
    parameters, nodes, kind, source model file and fidelity figures."""
    s = summary if isinstance(summary, dict) else {}
    ops = s.get("ops")
    ops = sorted((str(k), v) for k, v in ops.items() if _number(v) is not None) if isinstance(ops, dict) else []
    fid = s.get("fidelity") if isinstance(s.get("fidelity"), dict) else {}
    per_output = fid.get("outputs")
    if isinstance(per_output, list) and per_output and isinstance(per_output[0], dict):
        fid = {**per_output[0], **fid}  # one output's figures when the report has none at the top
    figures = [(label, _figure(fid[k])) for k, label in FIDELITY if k in fid and _figure(fid[k]) is not None]
    label = fid.get("label_agreement")
    if isinstance(label, dict) and _figure(label.get("rate")) is not None:
        ref = label.get("reference") if isinstance(label.get("reference"), str) else "reference model"
        figures.insert(0, (f"predicted class equal to the {ref}'s", _figure(label["rate"])))
    return {
        "ops": ops,
        "inputs": _tensors(s.get("inputs")),
        "outputs": _tensors(s.get("outputs")),
        "weights": _tensors(s.get("weights")),
        "parameters": _number(s.get("parameters")),
        "nodes": _number(s.get("nodes")),
        "kind": s.get("kind") if isinstance(s.get("kind"), str) else None,
        "source_model": s.get("model") if isinstance(s.get("model"), str) else None,
        "fidelity": figures,
        "notes": [n for n in s.get("notes", []) if isinstance(n, str)] if isinstance(s.get("notes"), list) else [],
    }
