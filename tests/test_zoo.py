"""Every folder in circuits/ compiles, reproduces its golden outputs exactly,
and meets the fidelity targets (top-1 agreement with the float model >= 99%;
against onnxruntime's integers >= 99.9% exact and never more than 1 LSB)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zkaudit.circuit import load_circuit, load_weights, read_inputs
from zkaudit.onnx import compile_model

ZOO = Path(__file__).resolve().parent.parent / "circuits"
FOLDERS = sorted(p for p in ZOO.iterdir() if (p / "gen.py").exists())


def held_out(doc: dict) -> np.ndarray:
    """input.json's batch: `inputs` (features) or `inputs_int` (a sequence model's code ids)."""
    return np.asarray((doc.get("inputs") or doc["inputs_int"])["x"])


def test_zoo_has_the_required_models():
    names = {p.name for p in FOLDERS}
    assert {"logistic_risk", "clinical_mlp", "digits_cnn", "wide_mlp", "big_cnn", "clinical_mlp_qdq",
            "digits_cnn_qop", "clinical_transformer", "vitals_gru", "breast_cancer_gb", "breast_cancer_rf"} <= names
    for p in FOLDERS:
        assert (p / "model.onnx").exists() and (p / "input.json").exists(), p
    assert (ZOO / "big_cnn" / "model.onnx").stat().st_size < 6_000_000


@pytest.fixture(scope="module", params=FOLDERS, ids=lambda p: p.name)
def compiled(request, tmp_path_factory):
    folder = request.param
    doc = json.loads((folder / "input.json").read_text())
    out = tmp_path_factory.mktemp(folder.name) / "out"
    summary = compile_model(folder / "model.onnx", out, calibration=folder / "calibration.npy",
                            eval_data={"x": held_out(doc).astype(np.float32)})
    return folder, doc, out, summary


def test_golden_outputs_reproduce_exactly(compiled):
    folder, doc, out, summary = compiled
    assert summary.digest == doc["digest"], "circuit changed: rerun circuits/refresh.py on purpose if intended"
    circuit, weights = load_circuit(out), load_weights(out)
    weights.check(circuit)
    batch = read_inputs(folder / "input.json", circuit)
    assert batch.batched and len(batch.samples) == len(doc["expected"]["output_int"])
    got = [circuit.execute(weights, s)[circuit.outputs[0].name].tolist() for s in batch.samples]
    assert got == doc["expected"]["output_int"]


def test_fidelity_targets(compiled):
    folder, doc, out, summary = compiled
    f = summary.summary["fidelity"]
    assert f["source"] == "eval" and f["samples"] == len(held_out(doc))
    if "float_top1_agreement" in f:
        assert f["float_top1_agreement"] >= 0.99
    if "ort_exact_match_rate" in f:
        assert f["ort_exact_match_rate"] >= 0.999
        assert f["ort_max_lsb_diff"] <= 1
    assert "float_top1_agreement" in f or "ort_exact_match_rate" in f


def test_quantized_outputs_agree_with_the_float_model(compiled):
    """Independent of our summary: dequantized outputs vs the float outputs in input.json."""
    folder, doc, out, summary = compiled
    ours = np.asarray(doc["expected"]["output"], dtype=np.float64)
    ref = np.asarray(doc["float_output"], dtype=np.float64).reshape(ours.shape)
    if ours.shape[-1] > 1:
        agree = np.mean(ours.argmax(-1) == ref.argmax(-1))
    else:
        agree = np.mean((ours > 0.5) == (ref > 0.5))
    assert agree >= 0.99
    spread = ref.max() - ref.min()
    assert np.max(np.abs(ours - ref)) <= 0.1 * spread


def test_summary_layout(compiled):
    _, _, out, summary = compiled
    s = json.loads((out / "public" / "summary.json").read_text())
    assert s["digest"] == summary.digest
    import hashlib

    assert hashlib.sha256((out / "public" / "circuit.bin").read_bytes()).hexdigest() == s["digest"]
    assert (out / "private" / "weights.bin").exists()
    assert s["parameters"] == load_circuit(out).parameter_count > 0
    for key in ("ops", "tensor_ranges", "inputs", "outputs", "fidelity"):
        assert s[key]
