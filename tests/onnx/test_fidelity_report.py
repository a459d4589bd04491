"""Fidelity as people read it (issue 17): `compile` prints every output's
figures and the summary's notes, classifiers get the share of predicted
classes identical to onnxruntime's (stored in the summary), and
`registry show` prints the same lines (`fidelity.fidelity_lines`)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import onnx
import pytest

from zkaudit.cli.main import main
from zkaudit.onnx.fidelity import fidelity_lines

skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is in the dev extras (pip install -e .[dev])")


def _forest(tmp_path, regressor=False):
    """A small random forest on standardized breast-cancer features, exported
    with skl2onnx (label + probabilities, or one regression output)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = (RandomForestRegressor if regressor else RandomForestClassifier)(6, max_depth=3, random_state=0)
        est.fit(x, y)
        opts = None if regressor else {id(est): {"zipmap": False}}
        onnx.save(skl2onnx.to_onnx(est, x[:1], options=opts), tmp_path / "m.onnx")
    np.save(tmp_path / "calibration.npy", x[:200])
    return tmp_path / "m.onnx", tmp_path / "calibration.npy"


def test_compile_prints_every_output_and_the_notes(tmp_path, capsys):
    model, calib = _forest(tmp_path)
    assert main(["compile", str(model), "--out", str(tmp_path / "out"), "--calibration", str(calib)]) == 0
    text = capsys.readouterr().out
    assert "fidelity on 200 calibration samples:" in text
    assert "predicted class as onnxruntime's on the float model: 100.00% of 200 samples (output 'label')" in text
    assert "output 'label': labels as onnxruntime on 100.00%" in text
    assert "output 'probabilities': vs float: top-1 agreement" in text
    # the summary's note on the dynamic batch dimension, which compile used to drop
    assert "note: input 'X': dynamic batch dimension" in text
    summary = json.loads((tmp_path / "out" / "public" / "summary.json").read_text())
    agreement = summary["fidelity"]["label_agreement"]
    assert agreement == {"output": "label", "rate": 1.0, "samples": 200, "reference": "float model"}
    assert [o["label_agreement"] for o in summary["fidelity"]["outputs"]] == [1.0, 1.0]


def test_a_regressor_has_no_label_agreement(tmp_path):
    from zkaudit.onnx import compile_model

    model, calib = _forest(tmp_path, regressor=True)
    s = compile_model(model, tmp_path / "out", calibration=calib).summary
    assert "label_agreement" not in s["fidelity"] and "label_agreement" not in s["fidelity"]["outputs"][0]
    assert [line for line in fidelity_lines(s) if "predicted class" in line] == []


def test_fidelity_lines_name_each_output_and_the_hints():
    summary = {"fidelity": {
        "samples": 64, "source": "eval",
        "label_agreement": {"output": "label", "rate": 0.96875, "samples": 64, "reference": "quantized model"},
        "outputs": [
            {"name": "label", "label_agreement": 0.96875, "label_output": True, "saturated": 64, "values": 64},
            {"name": "scores", "float_top1_agreement": 0.98, "float_max_abs_error": 0.0123, "saturated": 3,
             "values": 128, "quantized_output_range": [0, 1], "ort_exact_match_rate": 0.5,
             "ort_within_1_lsb_rate": 0.99, "ort_max_lsb_diff": 2, "label_agreement": 0.96875,
             "label_output": False, "hint": "output 'scores': 3 values saturate"},
        ],
        "hints": ["output 'scores': 3 values saturate"],
    }}
    lines = fidelity_lines(summary)
    assert lines == [
        "fidelity on 64 eval samples:",
        "  predicted class as onnxruntime's on the quantized model: 96.88% of 64 samples (output 'label')",
        "  output 'label': labels as onnxruntime on 96.88%",
        "  output 'scores': vs float: top-1 agreement 98.00%, max abs error 0.0123; vs onnxruntime: exact 50.000%, "
        "within 1 LSB 99.000%, max 2 LSB; saturated 3 of 128 values",
        "  hint: output 'scores': 3 values saturate",
    ]
    assert "hint" not in "".join(fidelity_lines(summary, hints=False))


def test_fidelity_lines_read_old_and_foreign_summaries():
    old = {"fidelity": {"samples": 331, "source": "calibration", "output": "y", "float_top1_agreement": 0.99,
                        "float_max_abs_error": 0.01}}
    assert fidelity_lines(old) == ["fidelity on 331 calibration samples:",
                                   "  output 'y': vs float: top-1 agreement 99.00%, max abs error 0.01"]
    assert fidelity_lines(None) == [] and fidelity_lines({}) == [] and fidelity_lines({"fidelity": 3}) == []
    # a summary with figures under other names (a hand-written model folder) still renders
    assert fidelity_lines({"fidelity": {"float_accuracy": 0.9}})[1] == "  output '?': no reference to compare"


def test_registry_show_prints_the_fidelity(tmp_path, capsys):
    model, calib = _forest(tmp_path)
    out, db = tmp_path / "out", tmp_path / "r.db"
    assert main(["compile", str(model), "--out", str(out), "--calibration", str(calib)]) == 0
    assert main(["keys", "gen", "--out", str(tmp_path / "v.key")]) == 0
    assert main(["registry", "init", "--registry", str(db)]) == 0
    assert main(["registry", "publish", str(out), "--name", "forest", "--version", "1", "--key",
                 str(tmp_path / "v.key"), "--registry", str(db)]) == 0
    capsys.readouterr()
    assert main(["registry", "show", "forest@1", "--registry", str(db)]) == 0
    text = capsys.readouterr().out
    assert "  fidelity on 200 calibration samples:" in text
    assert "predicted class as onnxruntime's on the float model: 100.00% of 200 samples (output 'label')" in text
    assert "output 'probabilities': vs float" in text
    assert main(["registry", "show", "forest@1", "--registry", str(db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["fidelity"]["label_agreement"]["rate"] == 1.0


def test_accuracy_against_true_labels_when_the_samples_carry_them(tmp_path, capsys):
    """An .npz with a "labels" array beside the inputs: the summary and the
    printed report give the classifier's accuracy, the circuit's and the
    float model's, computed from the predictions (checked here by hand)."""
    from sklearn.datasets import load_breast_cancer

    model, calib = _forest(tmp_path)
    x = np.load(calib)
    truth = load_breast_cancer(return_X_y=True)[1][:200]
    truth[:10] = 1 - truth[:10]  # some wrong labels, so accuracy is not agreement
    np.savez(tmp_path / "labelled.npz", X=x, labels=truth)
    assert main(["compile", str(model), "--out", str(tmp_path / "out"), "--calibration",
                 str(tmp_path / "labelled.npz")]) == 0
    text = capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "public" / "summary.json").read_text())
    acc = summary["fidelity"]["label_accuracy"]
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    float_labels = np.concatenate([sess.run(["label"], {"X": x[i:i + 1]})[0] for i in range(len(x))])
    assert acc["reference_model"] == pytest.approx(np.mean(float_labels == truth))
    assert acc["circuit"] == acc["reference_model"]  # the labels agree with onnxruntime's on every sample
    assert acc["circuit"] < 1.0 and acc["output"] == "label" and acc["samples"] == 200
    assert f"accuracy against the given labels: circuit {acc['circuit']:.2%}, the float model" in text
    without = compile_model_summary(model, tmp_path / "out2", calib)
    assert "label_accuracy" not in without["fidelity"]


def compile_model_summary(model, out, calibration):
    from zkaudit.onnx import compile_model

    return compile_model(model, out, calibration=calibration).summary
