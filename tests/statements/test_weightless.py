"""Models without weights (a lone activation, a reshape, a softmax, a stack of
activations): their weight commitment is the fixed empty one
(`commitment.EMPTY_WEIGHT_COMMITMENT`), published like any other, and the
verifier accepts it exactly when the circuit has no weights."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import zkaudit.api as api
from zkaudit.circuit import CIRCUIT_FILE
from zkaudit.errors import MalformedProof
from zkaudit.statements.inference.commitment import COMMITMENT_FILE, EMPTY_WEIGHT_COMMITMENT
from zkaudit.statements.verify import verify_proof

SHAPE = [1, 8]


def _model(nodes, inits=(), out_shape=SHAPE) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)
    graph = helper.make_graph(nodes, "weightless", [x], [y], initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _one(op, **attrs):
    return _model([helper.make_node(op, ["x"], ["y"], **attrs)])


MODELS = {
    "Relu": lambda: _one("Relu"),
    "Sigmoid": lambda: _one("Sigmoid"),
    "Softmax": lambda: _one("Softmax", axis=-1),
    "Identity": lambda: _one("Identity"),
    "Flatten": lambda: _one("Flatten", axis=1),
    "Clip": lambda: _model([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])],
                           [numpy_helper.from_array(np.array(-0.5, np.float32), "lo"),
                            numpy_helper.from_array(np.array(0.75, np.float32), "hi")]),
    "Reshape": lambda: _model([helper.make_node("Reshape", ["x", "s"], ["y"])],
                              [numpy_helper.from_array(np.array([2, 4], np.int64), "s")], out_shape=[2, 4]),
    "Relu-Sigmoid": lambda: _model([helper.make_node("Relu", ["x"], ["h"]),
                                    helper.make_node("Sigmoid", ["h"], ["y"])]),
}


def _compiled(tmp_path, name):
    path = tmp_path / "m.onnx"
    onnx.save(MODELS[name](), path)
    calib = np.random.default_rng(0).normal(size=(16, *SHAPE)).astype(np.float32)
    api.compile(path, tmp_path / "out", calibration={"x": calib})
    return tmp_path / "out", calib


@pytest.mark.parametrize("name", sorted(MODELS))
def test_weightless_model_compiles_proves_and_verifies(tmp_path, name):
    out, calib = _compiled(tmp_path, name)
    assert (out / COMMITMENT_FILE).read_bytes() == EMPTY_WEIGHT_COMMITMENT
    proof = api.prove(out, calib[3])
    verdict = api.verify(proof.proof, circuit=out)
    assert verdict.valid, verdict.reason
    assert verdict.output_int == proof.output_int


@pytest.fixture(scope="module")
def relu(tmp_path_factory):
    out, calib = _compiled(tmp_path_factory.mktemp("relu"), "Relu")
    return out, api.prove(out, calib[0]).proof


def _check(out, proof, commitment):
    return verify_proof(proof, circuit_bin=(out / CIRCUIT_FILE).read_bytes(), weight_commitment=commitment)


def test_other_bytes_in_place_of_the_empty_commitment_are_rejected(relu):
    out, proof = relu
    for other in (EMPTY_WEIGHT_COMMITMENT + b"\x00", EMPTY_WEIGHT_COMMITMENT[:-1], b"ZPCC" + bytes(40)):
        verdict = _check(out, proof, other)
        assert not verdict.valid


def test_empty_commitment_is_refused_for_a_circuit_with_weights(tmp_path):
    from zkaudit.circuit import Circuit, Node, TensorSpec
    from zkaudit.statements.inference.proof import InferenceBody
    from zkaudit.statements.inference.verifier import verify_body

    x = TensorSpec("x", (1, 2), -128, 127, 0.5, 0)
    w = TensorSpec("w", (2, 2), -127, 127)
    y = TensorSpec("y", (1, 2), -65024, 65024, 0.25, 0)
    circuit = Circuit("mm", (x,), (y,), (w,), (Node.make("mm", "MatMul", ["x", "w"], "y", a_zero_point=0,
                                                                 b_zero_point=0),), (y,))
    body = InferenceBody(inputs={"x": np.zeros((1, 2), np.int64)}, outputs={"y": np.zeros((1, 2), np.int64)},
                         advice_commitment=b"", layers=b"", weight_opening=b"", advice_opening=b"")
    with pytest.raises(MalformedProof, match="empty weight commitment"):
        verify_body(circuit, body, EMPTY_WEIGHT_COMMITMENT)


def test_registry_publishes_the_empty_commitment_and_checks_proofs_against_it(relu, tmp_path, monkeypatch):
    from zkaudit.registry.artifacts import read_model_dir
    from zkaudit.registry.client import card_from, publish_local
    from zkaudit.registry.keys import KeyPair
    from zkaudit.registry.known_heads import ENV as KNOWN_HEADS_ENV
    from zkaudit.registry.store import Registry

    monkeypatch.setenv(KNOWN_HEADS_ENV, str(tmp_path / "known-heads.json"))
    out, proof = relu
    art = read_model_dir(out)
    assert art.weight_commitment == EMPTY_WEIGHT_COMMITMENT
    reg, _, _ = Registry.init(str(tmp_path / "r.db"), tmp_path / "r.key")
    try:
        vendor = KeyPair.generate("acme")
        publish_local(reg, vendor, art, "relu", "1", card_from("a lone ReLU", "none", {"auroc": 0.5}))
        verdict = reg.submit_proof(model="relu", version="1", proof=proof, submitter=vendor.public_key)
        assert verdict["valid"], verdict
    finally:
        reg.close()
