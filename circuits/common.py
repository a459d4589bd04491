"""Shared helpers for the zoo's gen.py scripts: datasets, small ONNX graph
builders (onnx.helper only), onnxruntime quantization, and writing
model.onnx / calibration.npy / input.json.

Every script is seeded: running it again rewrites byte-identical models (on
the same library versions). input.json holds a batch of held-out inputs, the
float model's outputs, and the outputs our compiler's circuit produces
(`expected.output_int` exact, `expected.output` dequantized), plus the
circuit digest; `tests/test_zoo.py` recompiles and checks all of them.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))  # run from a checkout without installing

OPSET = 17
IR_VERSION = 10  # readable by the installed onnxruntime
N_TEST = 32


def tensor(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def make_model(nodes, inits, in_shape, out_shape, name="model", in_name="x", out_name="y"):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(out_shape))],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="zkaudit-zoo")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def mlp_nodes(weights, biases, final=None):
    """Gemm -> Relu -> ... -> Gemm [-> final]; weights as (out, in) for transB=1."""
    nodes, inits, cur = [], [], "x"
    for i, (w, b) in enumerate(zip(weights, biases)):
        last = i == len(weights) - 1
        out = ("logits" if final else "y") if last else f"h{i}"
        nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [out], transB=1, name=f"fc{i}"))
        inits += [tensor(f"W{i}", w), tensor(f"b{i}", b)]
        cur = out
        if not last:
            nodes.append(helper.make_node("Relu", [out], [f"r{i}"], name=f"relu{i}"))
            cur = f"r{i}"
    if final:
        nodes.append(helper.make_node(final, ["logits"], ["y"], name=final.lower(), **({"axis": -1} if final == "Softmax" else {})))
    return nodes, inits


def sklearn_mlp_weights(clf):
    return [w.T for w in clf.coefs_], list(clf.intercepts_)


def conv2d(x, w, pad):
    """Float NCHW convolution, stride 1, by direct windowed sums: the naive
    reference that tests/test_training.py checks training.Conv2d's im2col against."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))  # N C H W kh kw
    return np.einsum("nchwij,mcij->nmhw", win, w, optimize=True)


def conv_block_nodes(i, cin_name, w, bn, pool=True):
    nodes = [helper.make_node("Conv", [cin_name, f"K{i}", f"kb{i}"], [f"c{i}"], pads=[1, 1, 1, 1], name=f"conv{i}"),
             helper.make_node("BatchNormalization", [f"c{i}", f"g{i}", f"be{i}", f"mu{i}", f"var{i}"], [f"bn{i}"],
                              name=f"bn{i}"),
             helper.make_node("Relu", [f"bn{i}"], [f"a{i}"], name=f"relu_c{i}")]
    inits = [tensor(f"K{i}", w), tensor(f"kb{i}", np.zeros(w.shape[0]))]
    inits += [tensor(n, v) for n, v in zip((f"g{i}", f"be{i}", f"mu{i}", f"var{i}"), bn)]
    out = f"a{i}"
    if pool:
        nodes.append(helper.make_node("MaxPool", [out], [f"p{i}"], kernel_shape=[2, 2], strides=[2, 2], name=f"pool{i}"))
        out = f"p{i}"
    return nodes, inits, out


def run_ort(model, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    dtype = np.int64 if sess.get_inputs()[0].type == "tensor(int64)" else np.float32  # token ids, or features
    return np.concatenate([sess.run(None, {name: s[None].astype(dtype)})[0] for s in x])


def integer_input(model) -> bool:
    """The model takes integers (token or code ids), not quantized floats."""
    return model.graph.input[0].type.tensor_type.elem_type in (TensorProto.INT64, TensorProto.INT32)


def held_out_inputs(doc: dict) -> np.ndarray:
    """input.json's held-out batch: `inputs` (floats) or `inputs_int` (ids)."""
    return np.asarray((doc.get("inputs") or doc["inputs_int"])["x"])


def quantize_with_ort(float_model, calib, fmt: str, activation: str):
    """onnxruntime.quantization.quantize_static in QDQ or QOperator format."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"x": s[None].astype(np.float32)} for s in calib])

        def get_next(self):
            return next(self.it, None)

    from zkaudit.onnx.load import fold_batchnorm

    folded = onnx.ModelProto()
    folded.CopyFrom(float_model)
    fold_batchnorm(folded)  # as onnxruntime's quant_pre_process would; its quantizer leaves BatchNorm in float
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "q.onnx"
        onnx.save(folded, src)
        quantize_static(
            str(src), str(dst), Reader(),
            quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
            activation_type=QuantType.QInt8 if activation == "int8" else QuantType.QUInt8,
            weight_type=QuantType.QInt8, per_channel=True,
            # 7-bit weights: onnxruntime's u8s8 kernels on AVX2 add pairs of products in int16 and
            # saturate with full 8-bit weights (its documented caveat), which no integer circuit reproduces
            reduce_range=True,
        )
        model = onnx.load(dst)
    model.ir_version = IR_VERSION
    return model


def write_folder(folder: Path, model, calib: np.ndarray, test_x: np.ndarray, labels, note: str,
                 float_model=None) -> dict:
    """Save model.onnx and calibration.npy, compile with zkaudit, and write
    input.json with the circuit's outputs on the test inputs."""
    onnx.save(model, folder / "model.onnx")
    np.save(folder / "calibration.npy", calib.astype(np.float32))
    inputs = {"inputs_int": {"x": test_x.astype(np.int64).tolist()}} if integer_input(model) else \
        {"inputs": {"x": test_x.astype(np.float32).tolist()}}
    doc = {
        "note": note,
        **inputs,
        "labels": [int(v) for v in labels],
        "float_output": run_ort(float_model or model, test_x).tolist(),
    }
    doc.update(compiled_record(folder, test_x))
    (folder / "input.json").write_text(json.dumps(doc) + "\n")
    return doc


def compiled_record(folder: Path, test_x: np.ndarray) -> dict:
    """Compile folder/model.onnx with its calibration.npy and return the
    golden fields of input.json: the circuit's outputs on test_x, its digest,
    fidelity and parameter count."""
    from zkaudit.circuit import dequantize, load_weights, quantize
    from zkaudit.onnx import compile_model

    with tempfile.TemporaryDirectory() as tmp:
        summary = compile_model(folder / "model.onnx", Path(tmp) / "out", calibration=folder / "calibration.npy",
                                eval_data={"x": test_x})
        weights = load_weights(summary.out_dir)
    circuit = summary.circuit
    ins, outs = circuit.inputs[0], circuit.outputs[0]
    def feed(s):
        return np.asarray(s, dtype=np.int64).reshape(ins.shape) if ins.scale is None else quantize(ins, s.reshape(ins.shape))

    ints = [circuit.execute(weights, feed(s))[outs.name] for s in test_x]
    return {
        "expected": {"output_int": [q.tolist() for q in ints],
                     "output": [dequantize(outs, q).tolist() for q in ints]},
        "digest": summary.digest,
        "fidelity": summary.summary["fidelity"],
        "parameters": summary.summary["parameters"],
    }


def report(name: str, doc: dict) -> None:
    f = doc["fidelity"]
    print(name, doc["parameters"], "params", {k: v for k, v in f.items() if k not in ("output",)})


def breast_cancer_trees(folder: Path, estimator: str, trees: int, depth: int, note: str) -> dict:
    """A scikit-learn tree ensemble on the breast-cancer data (30 features,
    standardized outside the model), exported by skl2onnx as people export
    it (TreeEnsembleClassifier, label and probabilities, no ZipMap), written
    as a zoo folder."""
    import warnings

    import sklearn.ensemble as ens
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = getattr(ens, estimator)(n_estimators=trees, max_depth=depth, random_state=0).fit(xtr, ytr)
        model = convert_sklearn(clf, initial_types=[("x", FloatTensorType([None, x.shape[1]]))],
                                options={id(clf): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    print("test accuracy", clf.score(xte, yte))
    return write_folder(folder, model, xtr, xte[:N_TEST], yte[:N_TEST], note)
