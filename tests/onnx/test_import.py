"""Import paths and their errors: float PTQ (calibration formats, methods),
onnxruntime QDQ with uint8 activations and QOperator with int8 activations,
dynamic shapes, unsupported ops, malformed files."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from zkaudit.onnx import DynamicShape, MalformedModel, MissingCalibration, UnsupportedOp, compile_model


def tiny_cnn(batch="N", extra_node=None) -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in [
        ("K", rng.normal(size=(4, 2, 3, 3))), ("kb", rng.normal(size=4)),
        ("W", rng.normal(size=(3, 36))), ("b", rng.normal(size=3))]]
    nodes = [helper.make_node("Conv", ["x", "K", "kb"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
    if extra_node is not None:
        nodes.append(extra_node)
    out = "z" if extra_node is not None else "y"
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 2, 6, 6])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, [batch, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10
    return model


@pytest.fixture(scope="module")
def calib():
    return np.random.default_rng(1).normal(size=(40, 2, 6, 6)).astype(np.float32)


def test_dynamic_shape_error_says_which_input_and_how(tmp_path, calib):
    model = tiny_cnn(1)
    model.graph.input[0].type.tensor_type.shape.dim[3].dim_param = "width"  # not the batch: no default
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(DynamicShape) as err:
        compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"x": calib})
    assert "'x'" in str(err.value) and "--input-shape x=1,2,6,1" in str(err.value)
    assert not (tmp_path / "out").exists()
    s = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"x": calib}, input_shapes={"x": (1, 2, 6, 6)})
    assert s.summary["fidelity"]["float_top1_agreement"] >= 0.95


def test_unsupported_op_names_node_type_domain_opset_and_lists_supported(tmp_path, calib):
    onnx.save(tiny_cnn(1, helper.make_node("Cos", ["y"], ["z"], name="cosine")), tmp_path / "m.onnx")
    with pytest.raises(UnsupportedOp) as err:
        compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"x": calib})
    text = str(err.value)
    for part in ("'cosine'", "Cos", "ai.onnx", "opset 17", "supported ops:", "QLinearConv", "Gemm"):
        assert part in text
    assert not (tmp_path / "out").exists()


def test_malformed_and_missing_files(tmp_path):
    good = tiny_cnn(1).SerializeToString()
    (tmp_path / "trunc.onnx").write_bytes(good[: len(good) // 3])
    with pytest.raises(MalformedModel):
        compile_model(tmp_path / "trunc.onnx", tmp_path / "out")
    (tmp_path / "junk.onnx").write_bytes(b"definitely not protobuf \xff\xfe")
    with pytest.raises(MalformedModel):
        compile_model(tmp_path / "junk.onnx", tmp_path / "out")
    with pytest.raises(Exception, match="not found"):
        compile_model(tmp_path / "absent.onnx", tmp_path / "out")


def test_float_model_needs_calibration(tmp_path):
    onnx.save(tiny_cnn(1), tmp_path / "m.onnx")
    with pytest.raises(MissingCalibration, match="--calibration"):
        compile_model(tmp_path / "m.onnx", tmp_path / "out")


def test_calibration_formats_and_percentile(tmp_path, calib):
    onnx.save(tiny_cnn(1), tmp_path / "m.onnx")
    np.save(tmp_path / "c.npy", calib)
    (tmp_path / "c.json").write_text(json.dumps({"input_data": [calib.reshape(-1).tolist()]}))
    a = compile_model(tmp_path / "m.onnx", tmp_path / "a", calibration=tmp_path / "c.npy")
    b = compile_model(tmp_path / "m.onnx", tmp_path / "b", calibration=tmp_path / "c.json")
    assert a.digest == b.digest and a.summary["calibration"]["samples"] == 40
    p = compile_model(tmp_path / "m.onnx", tmp_path / "p", calibration=tmp_path / "c.npy", method="percentile",
                      percentile=99.0)
    assert p.digest != a.digest and p.summary["calibration"]["method"] == "percentile"


def _ort_quantized(model, calib, fmt, activation):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter({"x": s[None]} for s in calib)

        def get_next(self):
            return next(self.it, None)

    with tempfile.TemporaryDirectory() as tmp:
        onnx.save(model, Path(tmp) / "f.onnx")
        quantize_static(str(Path(tmp) / "f.onnx"), str(Path(tmp) / "q.onnx"), Reader(),
                        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                        activation_type=QuantType.QUInt8 if activation == "uint8" else QuantType.QInt8,
                        weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        return onnx.load(Path(tmp) / "q.onnx")


@pytest.mark.parametrize("fmt,activation", [("qdq", "uint8"), ("qoperator", "int8")])
def test_onnxruntime_quantized_models_match_onnxruntime(tmp_path, calib, fmt, activation):
    model = _ort_quantized(tiny_cnn(1), calib, fmt, activation)
    model.ir_version = 10
    onnx.save(model, tmp_path / "q.onnx")
    s = compile_model(tmp_path / "q.onnx", tmp_path / "out", eval_data={"x": calib})
    f = s.summary["fidelity"]
    assert s.summary["kind"] == fmt
    assert f["ort_exact_match_rate"] >= 0.999 and f["ort_max_lsb_diff"] <= 1
    assert s.summary["inputs"][0]["range"] == ([0, 255] if activation == "uint8" else [-128, 127])
    if fmt == "qdq":
        assert f["float_top1_agreement"] >= 0.95


@pytest.mark.parametrize("name", ["logistic_risk", "clinical_mlp", "digits_cnn", "wide_mlp", "big_cnn"])
def test_float_noise_in_calibration_does_not_change_the_circuit(name, tmp_path, monkeypatch):
    """onnxruntime's float kernels differ in their last bits across CPUs and
    builds; ranges are rounded outward so the compiled circuit (its digest)
    is the same on every machine. Simulated here by perturbing every
    calibration activation by a few float32 ulps."""
    import json

    from zkaudit.onnx import calibrate, compile_model

    folder = Path(__file__).resolve().parents[2] / "circuits" / name
    doc = json.loads((folder / "input.json").read_text())
    real = calibrate.run_float
    rng = np.random.default_rng(0)

    def noisy(model, samples, extra_outputs=()):
        runs = real(model, samples, extra_outputs)
        return [{k: (v * (1 + rng.uniform(-4e-7, 4e-7, np.shape(v)))).astype(np.asarray(v).dtype)
                 for k, v in r.items()} for r in runs]

    monkeypatch.setattr(calibrate, "run_float", noisy)
    summary = compile_model(folder / "model.onnx", tmp_path / "out", calibration=folder / "calibration.npy")
    assert summary.digest == doc["digest"]
