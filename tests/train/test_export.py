"""The exported models: float and QDQ ONNX of logreg and MLP weights, the
declared quantization rule in exact rationals, and `zkaudit compile` accepting
both kinds (onnxruntime agrees with the integer model's decisions)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import onnxruntime as ort
import pytest
from train_helpers import policy_doc, words_for

from zkaudit.train import export, trainer
from zkaudit.train.policy import Policy

POLICIES = {"logreg": {"steps": 60},
            "mlp": {"steps": 60, "model": {"family": "mlp", "hidden": [8]}, "init": {"kind": "seeded", "seed": "01"}}}


@pytest.fixture(scope="module", params=sorted(POLICIES))
def trained(request, bc):
    policy = Policy.from_json(policy_doc(**POLICIES[request.param]))
    tr = trainer.train(policy, bc["X8"], bc["ytr"], words_for(policy, 9))
    return policy, tr.final_theta


def _run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"x": row[None].astype(np.float32)})[0] for row in x]).ravel()


def test_float_model_is_the_integer_model(bc, trained):
    policy, theta = trained
    p = _run(export.float_model(policy, theta), bc["Xte"])
    agree = ((p >= 0.5).astype(int) == trainer.predict(policy, theta, bc["X8te"])).mean()
    assert agree >= 0.98


def test_quantization_rule_is_exact(bc, trained):
    policy, theta = trained
    qs = export.quantize(policy, theta, 1.0, export.activation_ranges(policy, theta, bc["X8"]))
    one = 1 << policy.weight_bits
    for (W, b), q in zip(export.layers(policy, theta), qs):
        k = int(np.argmax(np.abs(W.astype(np.int64))))
        # the largest weight maps to +-127 exactly (s_w = float32(max|W| / 127))
        assert abs(int(q.weights.ravel()[k])) == 127 or q.saturated
        for v, wq in zip(W.ravel()[:5], q.weights.ravel()[:5]):
            exact = Fraction(int(v), one) / Fraction(q.w_scale)
            assert abs(exact - int(wq)) <= Fraction(1, 2)
        assert q.b_scale == float(np.float32(q.in_scale) * np.float32(q.w_scale))
    p = _run(export.quantized_model(policy, qs), bc["Xte"])
    assert ((p >= 0.5).astype(int) == bc["yte"]).mean() > 0.9


def test_both_models_compile(bc, trained, tmp_path):
    from zkaudit.api import compile as compile_model

    policy, theta = trained
    import onnx

    qs = export.quantize(policy, theta, 1.0, export.activation_ranges(policy, theta, bc["X8"]))
    onnx.save(export.quantized_model(policy, qs), tmp_path / "q.onnx")
    onnx.save(export.float_model(policy, theta), tmp_path / "f.onnx")
    np.save(tmp_path / "calib.npy", bc["Xtr"].astype(np.float32))
    q = compile_model(tmp_path / "q.onnx", tmp_path / "cq")
    assert q.summary["fidelity"]["ort_exact_match_rate"] == 1.0
    f = compile_model(tmp_path / "f.onnx", tmp_path / "cf", calibration=tmp_path / "calib.npy")
    assert f.summary["fidelity"]["float_top1_agreement"] > 0.95
