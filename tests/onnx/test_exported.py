"""Models as people export them (issue 17): PyTorch's default export
(external weights, dynamic batch, GELU below opset 20) and every variant of
onnxruntime's quantize_static, compiled and measured against onnxruntime.
Each test is named after the finding it pins."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
import pytest

from exported import (digits_cnn, gelu_mlp, images, ort_quantize_dynamic, ort_quantize_static,
                                 save_like_pytorch)
from zkaudit.onnx import DynamicShape, MalformedModel, UnsupportedOp, compile_model


def test_pytorch_external_data_is_found_from_another_working_directory(tmp_path, monkeypatch):
    folder = tmp_path / "export"
    folder.mkdir()
    save_like_pytorch(digits_cnn(batch=1), folder / "model.onnx")
    assert (folder / "model.onnx.data").stat().st_size > (folder / "model.onnx").stat().st_size
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    s = compile_model(folder / "model.onnx", tmp_path / "out", calibration={"input": images()[:, 0]})
    embedded = compile_model_from_bytes(digits_cnn(batch=1), tmp_path)
    assert s.digest == embedded  # the same weights were read


def compile_model_from_bytes(model, tmp_path) -> str:
    (tmp_path / "embedded").mkdir()
    onnx.save(model, tmp_path / "embedded" / "model.onnx")  # same stem: the circuit's name is in its digest
    return compile_model(tmp_path / "embedded" / "model.onnx", tmp_path / "out_embedded",
                         calibration={"input": images()[:, 0]}).digest


def test_external_data_file_missing_is_named(tmp_path):
    save_like_pytorch(digits_cnn(batch=1), tmp_path / "model.onnx")
    (tmp_path / "model.onnx.data").unlink()
    with pytest.raises(MalformedModel, match=r"model\.onnx\.data.*not beside the model"):
        compile_model(tmp_path / "model.onnx", tmp_path / "out", calibration={"input": images()[:, 0]})


def test_external_data_outside_the_model_folder_is_refused(tmp_path):
    save_like_pytorch(digits_cnn(batch=1), tmp_path / "model.onnx")
    model = onnx.load(tmp_path / "model.onnx", load_external_data=False)
    for t in model.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../../etc/passwd"
    onnx.save(model, tmp_path / "model.onnx")
    with pytest.raises(MalformedModel, match="outside the model's folder"):
        compile_model(tmp_path / "model.onnx", tmp_path / "out", calibration={"input": images()[:, 0]})


def test_dynamic_batch_dimension_is_fixed_at_one_with_a_note(tmp_path):
    onnx.save(digits_cnn(batch="batch_size"), tmp_path / "m.onnx")
    s = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"input": images()[:, 0]})
    assert s.summary["inputs"][0]["shape"] == [1, 1, 12, 12]
    notes = s.summary.get("notes", [])
    assert any("batch" in n and "fixed at 1" in n for n in notes), notes


def test_other_dynamic_dimensions_still_need_input_shape(tmp_path):
    model = digits_cnn(batch=1)
    model.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "height"
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(DynamicShape, match="--input-shape input=1,1,1,12"):
        compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"input": images()[:, 0]})


def test_ort_default_quantize_static_compiles_bias_scale_of_shape_one(tmp_path):
    """quantize_static(model_in, model_out, reader) with no option: QDQ, int8,
    per tensor; biases come with a scale of shape [1] (was an IndexError)."""
    q = ort_quantize_static(digits_cnn(batch=1), images())
    assert any(list(i.dims) == [1] and i.name.endswith("_scale") for i in q.graph.initializer)
    onnx.save(q, tmp_path / "q.onnx")
    s = compile_model(tmp_path / "q.onnx", tmp_path / "out", eval_data={"input": images()[:, 0]})
    f = s.summary["fidelity"]
    assert s.summary["kind"] == "qdq"
    assert f["ort_within_1_lsb_rate"] == 1.0 and f["ort_max_lsb_diff"] <= 1


VARIANTS = list(itertools.product(["QDQ", "QOperator"], [False, True], ["QInt8", "QUInt8"], [False, True]))


@pytest.mark.parametrize("fmt,per_channel,activation,reduce_range", VARIANTS,
                         ids=["-".join(map(str, v)) for v in VARIANTS])
def test_every_quantize_static_variant_matches_onnxruntime(tmp_path, fmt, per_channel, activation, reduce_range):
    """Target of issue 17: within 1 LSB of onnxruntime on >= 99 % of values.
    A max of 1 LSB remains where onnxruntime averages in float
    (QLinearAveragePool resolves exact ties by float32 noise)."""
    from onnxruntime.quantization import QuantFormat, QuantType

    q = ort_quantize_static(digits_cnn(batch=1), images(), quant_format=getattr(QuantFormat, fmt),
                            per_channel=per_channel, activation_type=getattr(QuantType, activation),
                            weight_type=QuantType.QInt8, reduce_range=reduce_range)
    onnx.save(q, tmp_path / "q.onnx")
    f = compile_model(tmp_path / "q.onnx", tmp_path / "out", eval_data={"input": images()[:, 0]}).summary["fidelity"]
    assert f["ort_max_lsb_diff"] <= 1
    assert f["ort_within_1_lsb_rate"] >= 0.99


@pytest.mark.parametrize("fmt", ["QDQ", "QOperator"])
def test_global_average_pool_cnn_matches_onnxruntime_exactly(tmp_path, fmt):
    from onnxruntime.quantization import QuantFormat

    q = ort_quantize_static(digits_cnn(batch=1, pool="GlobalAveragePool"), images(),
                            quant_format=getattr(QuantFormat, fmt), per_channel=True)
    onnx.save(q, tmp_path / "q.onnx")
    f = compile_model(tmp_path / "q.onnx", tmp_path / "out", eval_data={"input": images()[:, 0]}).summary["fidelity"]
    assert f["ort_exact_match_rate"] == 1.0


def test_quantize_dynamic_is_refused_with_the_reason_and_the_fix(tmp_path):
    """DynamicQuantizeLinear picks activation scales from each input at run
    time: no fixed circuit computes that; the refusal says what to do."""
    onnx.save(ort_quantize_dynamic(digits_cnn(batch=1)), tmp_path / "q.onnx")
    with pytest.raises(UnsupportedOp) as err:
        compile_model(tmp_path / "q.onnx", tmp_path / "out")
    assert "DynamicQuantizeLinear" in str(err.value) and "quantize_static" in str(err.value)


def test_gelu_below_opset_20_div_by_constant_compiles_and_proves(tmp_path):
    from zkaudit import api

    onnx.save(gelu_mlp(batch=1), tmp_path / "m.onnx")
    calib = np.random.default_rng(1).normal(size=(64, 1, 4)).astype(np.float32)
    s = api.compile(tmp_path / "m.onnx", tmp_path / "out", calibration={"x": calib})
    assert s.summary["fidelity"]["float_top1_agreement"] >= 0.95
    assert "Div" not in s.summary["ops"]  # x / 1.4142 only rescales: no op, no rounding
    proof = api.prove(tmp_path / "out", {"x": calib[0].tolist()})
    assert api.verify(proof.proof, circuit=tmp_path / "out").valid


def test_requantize_of_a_0d_tensor_proves(tmp_path):
    """The requantize prover on a scalar (0-d) tensor (was AttributeError:
    'bool' object has no attribute 'astype')."""
    from onnx import TensorProto, helper, numpy_helper

    from zkaudit import api

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(1, 4)).astype(np.float32), "W"),
             numpy_helper.from_array(np.zeros(1, np.float32), "b"),
             numpy_helper.from_array(np.zeros(0, np.int64), "scalar"),
             numpy_helper.from_array(np.float32(2.0), "two")]
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["h"], transB=1),
             helper.make_node("Reshape", ["h", "scalar"], ["s"]),
             helper.make_node("Gelu", ["s"], ["g"], approximate="tanh"),
             helper.make_node("Mul", ["g", "two"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 10
    onnx.save(model, tmp_path / "m.onnx")
    calib = rng.normal(size=(32, 1, 4)).astype(np.float32)
    api.compile(tmp_path / "m.onnx", tmp_path / "out", calibration={"x": calib})
    proof = api.prove(tmp_path / "out", {"x": calib[0].tolist()})
    assert api.verify(proof.proof, circuit=tmp_path / "out").valid


def test_every_unsupported_node_is_listed_at_once_with_its_fix(tmp_path):
    from onnx import TensorProto, helper

    model = gelu_mlp(batch=1)
    g = model.graph
    g.node.extend([helper.make_node("Cast", ["y"], ["p"], name="/act/Cast", to=TensorProto.INT64),
                   helper.make_node("Cos", ["p"], ["c"], name="cosine"),
                   helper.make_node("Binarizer", ["c"], ["z"], name="binarizer", domain="ai.onnx.ml")])
    model.opset_import.append(helper.make_opsetid("ai.onnx.ml", 3))
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3]))
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(UnsupportedOp) as err:
        compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"x": np.zeros((4, 1, 4), np.float32)})
    text = str(err.value)
    assert err.value.node_name == "/act/Cast" and len(err.value.others) == 2
    for part in ("'/act/Cast'", "remove it from the exported graph", "'cosine'", "Cos", "'binarizer'", "ai.onnx.ml",
                 "docs/bring-your-model.md", "2 more unsupported node(s)"):
        assert part in text, part


def _two_output_mlp():
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(rng.normal(size=(3, 4)).astype(np.float32), "W1"),
             numpy_helper.from_array(rng.normal(size=(2, 4)).astype(np.float32), "W2")]
    nodes = [helper.make_node("Gemm", ["x", "W1"], ["logits"], transB=1, name="head_a"),
             helper.make_node("Gemm", ["x", "W2"], ["h"], transB=1, name="head_b"),
             helper.make_node("Sigmoid", ["h"], ["risk"], name="sig")]
    graph = helper.make_graph(nodes, "two", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3]),
                               helper.make_tensor_value_info("risk", TensorProto.FLOAT, [1, 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10
    return model


def test_fidelity_covers_every_output_of_a_two_output_model(tmp_path):
    onnx.save(_two_output_mlp(), tmp_path / "m.onnx")
    calib = np.random.default_rng(4).normal(size=(64, 1, 4)).astype(np.float32)
    f = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"x": calib}).summary["fidelity"]
    assert [o["name"] for o in f["outputs"]] == ["logits", "risk"]
    for o in f["outputs"]:
        assert o["float_top1_agreement"] >= 0.9 and o["float_max_abs_error"] < 0.5 and o["values"] > 0
    assert f["output"] == "logits" and f["float_top1_agreement"] == f["outputs"][0]["float_top1_agreement"]


def test_saturation_is_counted_and_hinted_when_float_range_exceeds_the_quantized_one(tmp_path):
    """Calibrated on small inputs, evaluated on large ones: the outputs clip,
    and compile says so (in the fidelity report and as a note)."""
    onnx.save(_two_output_mlp(), tmp_path / "m.onnx")
    rng = np.random.default_rng(5)
    calib = (0.05 * rng.normal(size=(64, 1, 4))).astype(np.float32)
    wide = (3.0 * rng.normal(size=(64, 1, 4))).astype(np.float32)
    s = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"x": calib}, eval_data={"x": wide})
    logits = s.summary["fidelity"]["outputs"][0]
    assert logits["float_beyond_quantized_range"] > 0 and logits["saturated"] > 0
    assert "calibrate on more samples" in logits["hint"]
    assert any("outside the quantized range" in n for n in s.summary["notes"])


@pytest.mark.parametrize("activation,weight", [("QInt16", "QInt8"), ("QUInt16", "QUInt8"), ("QUInt8", "QUInt8")])
def test_sixteen_bit_activations_and_uint8_weights_match_onnxruntime(tmp_path, activation, weight):
    from onnxruntime.quantization import QuantType

    q = ort_quantize_static(digits_cnn(batch=1), images(), activation_type=getattr(QuantType, activation),
                            weight_type=getattr(QuantType, weight))
    onnx.save(q, tmp_path / "q.onnx")
    f = compile_model(tmp_path / "q.onnx", tmp_path / "out", eval_data={"input": images()[:, 0]}).summary["fidelity"]
    assert f["ort_within_1_lsb_rate"] >= 0.99 and f["ort_max_lsb_diff"] <= 1


@pytest.mark.parametrize("fmt", ["QDQ", "QOperator"])
def test_batchnorm_left_in_float_by_onnxruntime_quantizer_compiles_and_matches(tmp_path, fmt):
    """quantize_static without quant_pre_process keeps BatchNormalization
    (not folded into the Conv) between DequantizeLinear and QuantizeLinear:
    it becomes a depthwise 1x1 Conv + Requantize."""
    from pathlib import Path

    from onnxruntime.quantization import QuantFormat

    folder = Path(__file__).resolve().parents[2] / "circuits" / "digits_cnn"
    model = onnx.load(folder / "model.onnx")
    assert "BatchNormalization" in {n.op_type for n in model.graph.node}
    calib = np.load(folder / "calibration.npy")[:64].astype(np.float32)
    q = ort_quantize_static(model, calib[:, None], quant_format=getattr(QuantFormat, fmt), per_channel=True)
    assert "BatchNormalization" in {n.op_type for n in q.graph.node}
    onnx.save(q, tmp_path / "q.onnx")
    f = compile_model(tmp_path / "q.onnx", tmp_path / "out", eval_data={"x": calib}).summary["fidelity"]
    assert f["ort_within_1_lsb_rate"] >= 0.99 and f["ort_max_lsb_diff"] <= 1


@pytest.mark.parametrize("fmt", ["QDQ", "QOperator"])
@pytest.mark.parametrize("count_include_pad", [0, 1])
def test_padded_average_pool_matches_onnxruntime(tmp_path, fmt, count_include_pad):
    """AveragePool 3x3 / 2 with padding 1, as torch.nn.AvgPool2d(3, 2, 1)
    exports it; with count_include_pad=0 QLinearAveragePool was refused."""
    from onnx import helper
    from onnxruntime.quantization import QuantFormat

    model = digits_cnn(batch=1)
    pool = next(n for n in model.graph.node if n.op_type == "AveragePool")
    del pool.attribute[:]
    pool.attribute.extend([helper.make_attribute("kernel_shape", [3, 3]), helper.make_attribute("strides", [2, 2]),
                           helper.make_attribute("pads", [1, 1, 1, 1]),
                           helper.make_attribute("count_include_pad", count_include_pad)])
    q = ort_quantize_static(model, images(), quant_format=getattr(QuantFormat, fmt), per_channel=True)
    onnx.save(q, tmp_path / "q.onnx")
    f = compile_model(tmp_path / "q.onnx", tmp_path / "out", eval_data={"input": images()[:, 0]}).summary["fidelity"]
    assert f["ort_within_1_lsb_rate"] >= 0.99 and f["ort_max_lsb_diff"] <= 1
