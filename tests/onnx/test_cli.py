"""The compile and run commands, end to end through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zkaudit.cli.main import main

ZOO = Path(__file__).resolve().parents[2] / "circuits"


def test_compile_then_run_json(tmp_path, capsys):
    folder = ZOO / "clinical_mlp"
    out = tmp_path / "clinical"
    assert main(["compile", str(folder / "model.onnx"), "--out", str(out), "--calibration",
                 str(folder / "calibration.npy"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["digest"] and summary["fidelity"]["float_top1_agreement"] >= 0.99
    assert (out / "public" / "circuit.bin").exists() and (out / "private" / "weights.bin").exists()

    doc = json.loads((folder / "input.json").read_text())
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"input_data": [doc["inputs"]["x"][0]]}))  # EZKL style, one sample
    assert main(["run", str(out), "--input", str(one), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert np.asarray(result["output"]).shape == (1, 2)
    assert result["output_int"] == doc["expected"]["output_int"][0]
    assert abs(sum(result["output"][0]) - 1.0) < 0.02

    assert main(["run", str(out), "--input", str(folder / "input.json"), "--json"]) == 0
    batch = json.loads(capsys.readouterr().out)
    assert batch["output_int"] == doc["expected"]["output_int"] and batch["batch"] == len(doc["inputs"]["x"])

    assert main(["run", str(out), "--input", str(one)]) == 0
    assert "y:" in capsys.readouterr().out


def test_failures_exit_2_with_one_line_and_leave_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(ZOO / "clinical_mlp" / "model.onnx"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "calibration" in err and "Traceback" not in err
    assert not out.exists() and not any(tmp_path.iterdir())
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    assert main(["compile", str(bad), "--out", str(out)]) == 2
    assert main(["compile", str(ZOO / "logistic_risk" / "model.onnx"), "--out", str(out), "--calibration",
                 str(ZOO / "logistic_risk" / "calibration.npy"), "--input-shape", "nope"]) == 2
    assert main(["run", str(tmp_path / "missing"), "--input", str(bad)]) == 2
    assert not out.exists()


def test_recompiling_replaces_the_directory_atomically(tmp_path, capsys):
    folder = ZOO / "logistic_risk"
    out = tmp_path / "out"
    args = ["compile", str(folder / "model.onnx"), "--out", str(out), "--calibration", str(folder / "calibration.npy")]
    assert main(args) == 0 and main(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert "digest" in capsys.readouterr().out
