"""scikit-learn models through skl2onnx (issue 17): the ai.onnx.ml ops are
rewritten into standard ops (zkaudit.onnx.ml); onnxruntime must give the same
outputs on the rewrite as on skl2onnx's original, and the compiled circuits
must agree with them and prove."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from zkaudit.onnx import UnsupportedOp, compile_model
from zkaudit.onnx.ml import lower_ml

skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is in the dev extras (pip install -e .[dev])")


def _data(name):
    from sklearn.datasets import load_breast_cancer, load_iris

    x, y = (load_breast_cancer if name == "cancer" else load_iris)(return_X_y=True)
    return x.astype(np.float32), y


def _estimator(kind):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic_binary_pipeline": (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), "cancer"),
        "logistic_multiclass": (lambda: LogisticRegression(max_iter=500), "iris"),
        "linear_regression_pipeline": (lambda: make_pipeline(StandardScaler(), LinearRegression()), "cancer"),
        "mlp_binary_pipeline": (lambda: make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=300,
                                                                                     random_state=0)), "cancer"),
        "mlp_multiclass_pipeline": (lambda: make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=300,
                                                                                         random_state=0)), "iris"),
    }[kind]


def _export(kind):
    make, data = _estimator(kind)
    x, y = _data(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make().fit(x, y)
    return skl2onnx.to_onnx(est, x[:1]), x


def _run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


KINDS = ["logistic_binary_pipeline", "logistic_multiclass", "linear_regression_pipeline", "mlp_binary_pipeline",
         "mlp_multiclass_pipeline"]


@pytest.mark.parametrize("kind", KINDS)
def test_ml_ops_rewritten_give_onnxruntime_the_same_outputs(kind):
    model, x = _export(kind)
    original = _run(model, x)
    lowered = onnx.ModelProto()
    lowered.CopyFrom(model)
    assert lower_ml(lowered)
    assert not any(n.domain == "ai.onnx.ml" or n.op_type == "Cast" for n in lowered.graph.node)
    rewritten = _run(lowered, x)
    for a, b in zip(original, rewritten):
        if isinstance(a, list):  # ZipMap's list of {class: probability}
            a = np.array([[row[k] for k in sorted(row)] for row in a], dtype=np.float32)
        np.testing.assert_allclose(np.asarray(b, dtype=np.float64).reshape(np.shape(a)), a, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_sklearn_models_compile(tmp_path, kind):
    model, x = _export(kind)
    onnx.save(model, tmp_path / "m.onnx")
    s = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x[:, None]})
    assert s.summary["inputs"][0]["shape"] == [1, x.shape[1]]  # dynamic batch fixed at 1
    assert len(s.summary["fidelity"]["outputs"]) == len(model.graph.output)


def test_logistic_regression_on_standardized_features_agrees_and_proves(tmp_path):
    """The recipe of docs/bring-your-model.md: StandardScaler outside the
    exported model, LogisticRegression exported by skl2onnx (LinearClassifier,
    Cast, ZipMap)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from zkaudit import api

    x, y = _data("cancer")
    z = StandardScaler().fit(x).transform(x).astype(np.float32)
    model = skl2onnx.to_onnx(LogisticRegression(max_iter=500).fit(z, y), z[:1])
    assert {n.op_type for n in model.graph.node} >= {"LinearClassifier", "ZipMap", "Cast"}
    onnx.save(model, tmp_path / "m.onnx")
    s = api.compile(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": z[:, None]})
    labels = s.summary["fidelity"]["outputs"][0]
    assert labels["name"] == "output_label" and labels["float_top1_agreement"] >= 0.99
    assert not [n for n in s.summary["notes"] if n.startswith("warning")]
    proof = api.prove(tmp_path / "out", {"X": z[0].tolist()})
    v = api.verify(proof.proof, circuit=tmp_path / "out")
    assert v.valid and v.outputs["output_label"]["output_int"] == [int(y[0])]


def test_raw_features_of_different_magnitudes_are_warned(tmp_path):
    model, x = _export("logistic_binary_pipeline")
    onnx.save(model, tmp_path / "m.onnx")
    s = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x[:, None]})
    assert any("StandardScaler outside" in n for n in s.summary["notes"])
    assert s.summary["fidelity"]["coarse_inputs"][0]["name"] == "X"


def _ml_model(nodes, inits, n_in=4, n_out=2, out_type=TensorProto.FLOAT):
    graph = helper.make_graph(nodes, "ml", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, n_in])],
                              [helper.make_tensor_value_info("Y", out_type, [None, n_out])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 10
    return model


def test_array_feature_extractor_with_constant_indices_selects_columns(tmp_path):
    idx = numpy_helper.from_array(np.array([3, 0], np.int64), "idx")
    model = _ml_model([helper.make_node("ArrayFeatureExtractor", ["X", "idx"], ["Y"], domain="ai.onnx.ml")], [idx])
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    expected = _run(model, x)[0]
    lowered = onnx.ModelProto()
    lowered.CopyFrom(model)
    lower_ml(lowered)
    np.testing.assert_allclose(_run(lowered, x)[0], expected)
    onnx.save(model, tmp_path / "m.onnx")
    f = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x[:, None]}).summary["fidelity"]
    assert f["float_max_abs_error"] < 0.05


def test_string_class_labels_are_refused_with_the_fix(tmp_path):
    node = helper.make_node("LinearClassifier", ["X"], ["label", "Y"], domain="ai.onnx.ml",
                            classlabels_strings=["benign", "malignant"], coefficients=[0.1] * 8,
                            intercepts=[0.0, 0.0], post_transform="LOGISTIC", name="clf")
    model = _ml_model([node], [])
    model.graph.output.insert(0, helper.make_tensor_value_info("label", TensorProto.STRING, [None]))
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(UnsupportedOp) as err:
        compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": np.zeros((4, 1, 4), np.float32)})
    assert "LinearClassifier" in str(err.value) and "docs/bring-your-model.md" in str(err.value)
