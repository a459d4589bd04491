"""Models shaped as people export them, built with the onnx helper API
(torch is too heavy for CI): PyTorch-style graphs (external weights file,
dynamic batch, GELU below opset 20) and onnxruntime's quantizers run on them.
Shared by tests/onnx/test_exported.py and the docs/bring-your-model.md
recipes' test."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _init(name, value, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def _model(nodes, inits, inputs, outputs, opset=17, extra_opsets=()):
    graph = helper.make_graph(nodes, "exported", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset), *extra_opsets])
    model.ir_version = 10
    return model


def digits_cnn(batch="batch_size", pool="AveragePool", seed=0) -> onnx.ModelProto:
    """Conv -> Relu -> MaxPool -> Conv -> Relu -> pool -> Flatten -> Gemm on
    a 1x12x12 image, as torch.onnx.export writes a small CNN in eval mode
    (BatchNorm already folded into the Conv, a dynamic batch dimension)."""
    rng = np.random.default_rng(seed)
    head_in = 16 * 2 * 2 if pool == "AveragePool" else 16
    inits = [_init("conv1.weight", rng.normal(size=(8, 1, 3, 3)) * 0.4), _init("conv1.bias", rng.normal(size=8) * 0.1),
             _init("conv2.weight", rng.normal(size=(16, 8, 3, 3)) * 0.15),
             _init("conv2.bias", rng.normal(size=16) * 0.1),
             _init("fc.weight", rng.normal(size=(10, head_in)) * 0.2), _init("fc.bias", rng.normal(size=10) * 0.1)]
    pooled = (helper.make_node("AveragePool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], name="avgpool")
              if pool == "AveragePool" else helper.make_node("GlobalAveragePool", ["r2"], ["p2"], name="gap"))
    nodes = [helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], pads=[1, 1, 1, 1],
                              name="/conv1/Conv"),
             helper.make_node("Relu", ["c1"], ["r1"], name="/relu1/Relu"),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="/pool1/MaxPool"),
             helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="/conv2/Conv"),
             helper.make_node("Relu", ["c2"], ["r2"], name="/relu2/Relu"), pooled,
             helper.make_node("Flatten", ["p2"], ["f"], name="/Flatten"),
             helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], transB=1, name="/fc/Gemm")]
    return _model(nodes, inits, [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 1, 12, 12])],
                  [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 10])])


def images(n=32, seed=1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, size=(n, 1, 1, 12, 12)).astype(np.float32)


def gelu_mlp(batch="batch_size") -> onnx.ModelProto:
    """Linear -> GELU -> Linear exported below opset 20: GELU written out as
    x * 0.5 * (1 + Erf(x / 1.4142)) (PyTorch's decomposition)."""
    rng = np.random.default_rng(0)
    inits = [_init("fc1.weight", rng.normal(size=(8, 4))), _init("fc1.bias", rng.normal(size=8) * 0.1),
             _init("fc2.weight", rng.normal(size=(3, 8))), _init("fc2.bias", np.zeros(3)),
             _init("sqrt2", 1.4142135), _init("one", 1.0), _init("half", 0.5)]
    nodes = [helper.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], transB=1, name="/fc1/Gemm"),
             helper.make_node("Div", ["h", "sqrt2"], ["d"], name="/act/Div"),
             helper.make_node("Erf", ["d"], ["e"], name="/act/Erf"),
             helper.make_node("Add", ["e", "one"], ["a"], name="/act/Add"),
             helper.make_node("Mul", ["h", "a"], ["m"], name="/act/Mul"),
             helper.make_node("Mul", ["m", "half"], ["g"], name="/act/Mul_1"),
             helper.make_node("Gemm", ["g", "fc2.weight", "fc2.bias"], ["y"], transB=1, name="/fc2/Gemm")]
    return _model(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])])


def save_like_pytorch(model: onnx.ModelProto, path: Path) -> None:
    """PyTorch's default export: the graph in `path`, every weight in
    `path.name + '.data'` beside it."""
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=path.name + ".data", size_threshold=0)


def ort_quantize_static(model: onnx.ModelProto, samples: np.ndarray, **options) -> onnx.ModelProto:
    """onnxruntime.quantization.quantize_static(model_in, model_out, reader,
    **options) with a small calibration reader over `samples` (N x input
    shape); no options is onnxruntime's default (QDQ, int8, per tensor)."""
    from onnxruntime.quantization import CalibrationDataReader, quantize_static

    name = model.graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.samples = iter(samples)

        def get_next(self):
            s = next(self.samples, None)
            return None if s is None else {name: s}

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "model.onnx", Path(tmp) / "model.quant.onnx"
        onnx.save(model, src)
        quantize_static(str(src), str(dst), Reader(), **options)
        return onnx.load(dst)


def ort_quantize_dynamic(model: onnx.ModelProto, **options) -> onnx.ModelProto:
    from onnxruntime.quantization import quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "model.onnx", Path(tmp) / "model.quant.onnx"
        onnx.save(model, src)
        quantize_dynamic(str(src), str(dst), **options)
        return onnx.load(dst)
