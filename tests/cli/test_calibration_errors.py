"""Bad calibration data and options give one line and exit 2, with nothing
written (issue 14, bad input): they were tracebacks, and an empty `.npy`
exited 130 ("aborted") because click turns an EOFError into an abort."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zkaudit import api
from zkaudit.cli.main import main
from zkaudit.errors import ZkauditError

ZOO = Path(__file__).resolve().parents[2] / "circuits" / "logistic_risk"
USAGE = 2


def compile_fails(tmp_path, capsys, calibration, *parts, extra=()) -> None:
    out = tmp_path / "out"
    assert main(["compile", str(ZOO / "model.onnx"), "--out", str(out), "--calibration", str(calibration),
                 *extra]) == USAGE
    err = capsys.readouterr().err
    # a cold numba cache adds its one-line notice first (`cli/_kernels.py`): not part of the error
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("compiling kernels (")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for part in parts:
        assert part in lines[0], lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _npy(tmp_path, name, array) -> Path:
    path = tmp_path / name
    np.save(path, array)
    return path


def test_empty_npy_is_an_input_error_not_an_abort(tmp_path, capsys):
    (tmp_path / "empty.npy").write_bytes(b"")
    compile_fails(tmp_path, capsys, tmp_path / "empty.npy", "empty or truncated")


def test_truncated_npy(tmp_path, capsys):
    full = _npy(tmp_path, "full.npy", np.zeros((8, 1, 10), np.float32)).read_bytes()
    (tmp_path / "cut.npy").write_bytes(full[:100])
    compile_fails(tmp_path, capsys, tmp_path / "cut.npy", "calibration file")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "minus_inf"])
def test_non_finite_calibration_values(tmp_path, capsys, value):
    data = np.random.default_rng(0).normal(size=(8, 1, 10)).astype(np.float32)
    data[3, 0, 4] = value
    compile_fails(tmp_path, capsys, _npy(tmp_path, "c.npy", data), "NaN or infinite", "input 'x'")


def test_calibration_value_beyond_float32(tmp_path, capsys):
    data = np.zeros((8, 1, 10), np.float64)
    data[0, 0, 0] = 1e300
    compile_fails(tmp_path, capsys, _npy(tmp_path, "c.npy", data), "beyond float32", "1e+300")


def test_zero_calibration_samples(tmp_path, capsys):
    compile_fails(tmp_path, capsys, _npy(tmp_path, "c.npy", np.zeros((0, 1, 10), np.float32)), "no samples")


def test_calibration_strings_in_npy(tmp_path, capsys):
    compile_fails(tmp_path, capsys, _npy(tmp_path, "c.npy", np.array([["0.5"] * 10] * 4)), "not numbers")


def test_calibration_strings_in_json(tmp_path, capsys):
    (tmp_path / "c.json").write_text(json.dumps({"input_data": [["0.5"] * 10]}))
    compile_fails(tmp_path, capsys, tmp_path / "c.json", "not numbers")


def test_calibration_infinity_in_json(tmp_path, capsys):
    (tmp_path / "c.json").write_text('{"input_data": [[Infinity, 1, 2, 3, 4, 5, 6, 7, 8, 9]]}')
    compile_fails(tmp_path, capsys, tmp_path / "c.json", "NaN or infinite")


def test_calibration_ragged_json(tmp_path, capsys):
    (tmp_path / "c.json").write_text(json.dumps({"input_data": [[[1, 2], [3]]]}))
    compile_fails(tmp_path, capsys, tmp_path / "c.json", "calibration")


@pytest.mark.parametrize("percentile", ["-1", "101", "nan", "50", "0"])
def test_percentile_outside_50_100(tmp_path, capsys, percentile):
    compile_fails(tmp_path, capsys, ZOO / "calibration.npy", "--percentile", "outside (50, 100]",
                  extra=["--method", "percentile", "--percentile", percentile])


def test_unknown_calibration_method(tmp_path, capsys):
    compile_fails(tmp_path, capsys, ZOO / "calibration.npy", "unknown calibration method 'median'",
                  extra=["--method", "median"])


def test_api_calibration_dict_is_checked_like_a_file(tmp_path):
    data = np.zeros((4, 1, 10), np.float32)
    data[0, 0, 0] = np.nan
    with pytest.raises(ZkauditError, match="NaN or infinite"):
        api.compile(ZOO / "model.onnx", tmp_path / "out", calibration={"x": data})
    with pytest.raises(ZkauditError, match="do not match the model's inputs"):
        api.compile(ZOO / "model.onnx", tmp_path / "out", calibration={"y": np.zeros((4, 1, 10))})
    with pytest.raises(ZkauditError, match="not a positive multiple"):
        api.compile(ZOO / "model.onnx", tmp_path / "out", calibration={"x": np.zeros((0, 10))})
    assert not (tmp_path / "out").exists()
