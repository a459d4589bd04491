"""The mistakes a newcomer makes first, run through the CLI in-process: each
gives exactly one line on stderr starting with "error:" that says what is
wrong and what to do, the documented exit code (2 usage/input, 1 rejected),
no traceback, and no partial artifact."""

from __future__ import annotations

import json
import socket

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from zkaudit.circuit import (
    CIRCUIT_FILE,
    SUMMARY_FILE,
    WEIGHTS_FILE,
    Circuit,
    Node,
    TensorSpec,
    encode_circuit,
)
from zkaudit.circuit.weights import Weights
from zkaudit.cli.main import main
from zkaudit.statements.inference.commitment import COMMITMENT_FILE
from zkaudit.statements.inference.prover import commit_weights

USAGE, REJECTED = 2, 1


def error_line(capsys) -> str:
    """The one stderr line; fails on a traceback or anything more."""
    err = capsys.readouterr().err
    # a cold numba cache adds its one-line notice first (`cli/_kernels.py`): not part of the error
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("compiling kernels (")]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def fails(capsys, argv: list[str], code: int, *parts: str) -> str:
    assert main([str(a) for a in argv]) == code
    line = error_line(capsys)
    for part in parts:
        assert part in line, line
    return line


@pytest.fixture(autouse=True)
def _no_registry_env(monkeypatch):
    monkeypatch.delenv("ZKAUDIT_REGISTRY_URL", raising=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- small models -----------------------------------------------------------

def _model_dir(root, name: str, out_features: int, seed: int):
    """A compiled directory of a one-MatMul circuit (as `zkaudit compile`
    lays it out, with the weight commitment), and its input file."""
    x = TensorSpec("x", (1, 6), -128, 127, 0.5, 0)
    w = TensorSpec("w", (6, out_features), -127, 127)
    y = TensorSpec("y", (1, out_features), -97536, 97536, 0.25, 0)
    circuit = Circuit(name, (x,), (y,), (w,), (Node.make("mm", "MatMul", ["x", "w"], "y", a_zero_point=0,
                                                         b_zero_point=0),), (y,))
    weights = Weights({"w": np.random.default_rng(seed).integers(-127, 128, (6, out_features))})
    files = {CIRCUIT_FILE: encode_circuit(circuit), WEIGHTS_FILE: weights.encode(),
             COMMITMENT_FILE: commit_weights(circuit, weights)[0].to_bytes(),
             SUMMARY_FILE: json.dumps({"digest": circuit.digest()}).encode()}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "input.json").write_text(json.dumps({"input_data": [[1.0, -2.0, 3.5, 0.0, 10.0, -7.5]]}))
    return root


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Model A, A with other weights (same circuit), a different model B,
    a proof made for A, and a registry holding A@1 and B@1."""
    root = tmp_path_factory.mktemp("models")
    a = _model_dir(root / "a", "tiny", 3, seed=1)
    a_other = _model_dir(root / "a_other", "tiny", 3, seed=2)
    b = _model_dir(root / "b", "tiny-b", 4, seed=3)
    proof = root / "a.zkp"
    assert main(["prove", str(a), "--input", str(a / "input.json"), "--out", str(proof)]) == 0
    reg = str(root / "registry.db")
    assert main(["registry", "init", "--registry", reg]) == 0
    assert main(["keys", "gen", "--out", str(root / "vendor.key")]) == 0
    for name, d in (("model-a", a), ("model-b", b)):
        assert main(["registry", "publish", str(d), "--name", name, "--version", "1", "--key",
                     str(root / "vendor.key"), "--registry", reg]) == 0
    return {"a": a, "a_other": a_other, "b": b, "proof": proof, "registry": reg}


def _save(model: onnx.ModelProto, path) -> None:
    onnx.save(model, path)


def _einsum_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 1, 5])
    node = helper.make_node("Einsum", ["x"], ["y"], name="encoder_einsum", equation="abc->cba")
    graph = helper.make_graph([node], "einsum", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _dynamic_gemm():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "features"])  # a dynamic batch alone is fixed at 1
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(size=(2, 4)).astype(np.float32), "W")
    b = numpy_helper.from_array(np.zeros(2, np.float32), "B")
    node = helper.make_node("Gemm", ["x", "W", "B"], ["y"], name="fc", transB=1)
    graph = helper.make_graph([node], "dyn", [x], [y], [w, b])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


# -- wrong paths -------------------------------------------------------------

def test_missing_model_file(tmp_path, capsys):
    fails(capsys, ["compile", tmp_path / "model.onnx", "--out", tmp_path / "out"], USAGE,
          f"model file not found: {tmp_path / 'model.onnx'}", ".onnx")
    assert not (tmp_path / "out").exists()


def test_missing_compiled_dir(tmp_path, capsys):
    for command in ("run", "mock", "prove"):
        fails(capsys, [command, tmp_path / "nodir", "--input", tmp_path / "in.json"], USAGE,
              f"compiled model directory not found: {tmp_path / 'nodir'}", "zkaudit compile")
    assert not (tmp_path / "nodir").exists() and not list(tmp_path.iterdir())


def test_directory_that_is_not_a_compiled_model(tmp_path, capsys, models):
    fails(capsys, ["prove", tmp_path, "--input", models["a"] / "input.json", "--out", tmp_path / "p.zkp"], USAGE,
          f"{tmp_path} is not a compiled model directory", "zkaudit compile")
    fails(capsys, ["verify", models["proof"], "--circuit", tmp_path], USAGE,
          f"{tmp_path} is not a compiled model directory")
    fails(capsys, ["registry", "publish", tmp_path, "--name", "m", "--version", "1", "--key", tmp_path / "k",
                   "--registry", models["registry"]], USAGE, "is not a compiled model directory")
    assert not list(tmp_path.iterdir())


def test_public_folder_alone_cannot_prove(tmp_path, capsys, models):
    (tmp_path / "public").mkdir()
    for f in (models["a"] / "public").iterdir():
        (tmp_path / "public" / f.name).write_bytes(f.read_bytes())
    fails(capsys, ["prove", tmp_path, "--input", models["a"] / "input.json", "--out", tmp_path / "p.zkp"], USAGE,
          "private/weights.bin", "proving needs the vendor's private weights")
    assert not (tmp_path / "p.zkp").exists()


def test_missing_input_file(tmp_path, capsys, models):
    for command in ("run", "mock", "prove"):
        fails(capsys, [command, models["a"], "--input", tmp_path / "patient.json"], USAGE,
              f"input file not found: {tmp_path / 'patient.json'}", "--input takes a JSON file")
    assert not (models["a"] / "proof.zkp").exists() and not (tmp_path / "proof.zkp").exists()
    fails(capsys, ["verify", models["proof"], "--circuit", models["a"], "--input", tmp_path / "patient.json"], USAGE,
          f"input file not found: {tmp_path / 'patient.json'}")


def test_missing_proof_file(tmp_path, capsys, models):
    fails(capsys, ["verify", tmp_path / "nope.zkp", "--circuit", models["a"]], USAGE,
          f"file not found: {tmp_path / 'nope.zkp'}")
    fails(capsys, ["verify", tmp_path, "--circuit", models["a"]], USAGE, f"{tmp_path} is a directory")


# -- the model itself ----------------------------------------------------------

def test_unsupported_op_names_the_node_and_op(tmp_path, capsys):
    _save(_einsum_model(), tmp_path / "einsum.onnx")
    fails(capsys, ["compile", tmp_path / "einsum.onnx", "--out", tmp_path / "out"], USAGE,
          "node 'encoder_einsum'", "op Einsum", "is not supported", "supported ops:")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["einsum.onnx"]


def test_dynamic_shape_says_how_to_fix_it(tmp_path, capsys):
    _save(_dynamic_gemm(), tmp_path / "dyn.onnx")
    calib = tmp_path / "calib.npy"
    np.save(calib, np.random.default_rng(1).normal(size=(32, 1, 4)).astype(np.float32))
    fails(capsys, ["compile", tmp_path / "dyn.onnx", "--out", tmp_path / "out", "--calibration", calib], USAGE,
          "input 'x' has a dynamic shape", "--input-shape x=1,1")
    assert not (tmp_path / "out").exists()
    # the advice works
    assert main(["compile", str(tmp_path / "dyn.onnx"), "--out", str(tmp_path / "out"), "--calibration", str(calib),
                 "--input-shape", "x=1,4"]) == 0
    assert (tmp_path / "out" / "public" / "circuit.bin").exists()


# -- the registry ----------------------------------------------------------------

def test_unreachable_postgresql_registry(tmp_path, capsys, models):
    url = "postgresql://127.0.0.1:5999/x"
    for argv in (["registry", "list"], ["registry", "show", "model-a@1"],
                 ["verify", models["proof"], "--model", "model-a@1"]):
        fails(capsys, argv + ["--registry", url], USAGE, f"cannot connect to registry {url}",
              "check the URL and that the database server is running")


def test_malformed_registry_url(tmp_path, capsys, models):
    url = "postgresql://127.0.0.1:port/x"
    for argv in (["registry", "list"], ["verify", models["proof"], "--model", "model-a@1"]):
        fails(capsys, argv + ["--registry", url], USAGE, f"malformed registry URL {url}",
              "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB")
    fails(capsys, ["registry", "list", "--registry", "mysql://h/db"], USAGE, "unsupported registry URL scheme 'mysql'")


def test_password_is_not_echoed(capsys, models):
    line = fails(capsys, ["registry", "list", "--registry", "postgresql://me:s3cret@127.0.0.1:port/x"], USAGE,
                 "malformed registry URL")
    assert "s3cret" not in line and "me:***@" in line


def test_unreachable_http_registry_is_one_clear_line(tmp_path, capsys, models):
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    for argv in (["registry", "list"], ["registry", "show", "model-a@1"],
                 ["verify", models["proof"], "--model", "model-a@1"]):
        assert main([str(a) for a in argv + ["--registry", url]]) != 0
        err = capsys.readouterr().err
        assert f"cannot reach the registry at {url}" in err and "zkaudit registry serve" in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_no_registry_file_is_not_created(tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    for argv in (["registry", "list"], ["verify", models["proof"], "--model", "model-a@1"]):
        fails(capsys, argv, USAGE, f"no database file at {tmp_path / 'zkaudit-registry.db'}", "zkaudit registry init")
    assert not list(tmp_path.iterdir())


def test_model_not_found_in_registry(capsys, models):
    reg = models["registry"]
    fails(capsys, ["verify", models["proof"], "--model", "ghost@2", "--registry", reg], USAGE,
          "unknown model 'ghost'", "ghost@2", "zkaudit registry list")
    fails(capsys, ["registry", "show", "ghost@2", "--registry", reg], USAGE, "ghost@2", "zkaudit registry list")
    fails(capsys, ["registry", "show", "ghost", "--registry", reg], USAGE, "unknown model 'ghost'",
          "zkaudit registry list")
    fails(capsys, ["verify", models["proof"], "--model", "model-a@9", "--registry", reg], USAGE,
          "model 'model-a' has no version '9', only 1", "zkaudit registry list")
    fails(capsys, ["verify", models["proof"], "--model", "model-a", "--registry", reg], USAGE,
          "must be NAME@VERSION")


# -- proof for another model: written last, against the verifier's reasons ------------

def test_proof_for_another_model_is_rejected(capsys, models):
    proof, reg = models["proof"], models["registry"]
    assert main(["verify", str(proof), "--circuit", str(models["a"])]) == 0
    assert main(["verify", str(proof), "--model", "model-a@1", "--registry", reg]) == 0
    capsys.readouterr()
    fails(capsys, ["verify", proof, "--circuit", models["b"]], REJECTED, "rejected", "made for a different model")
    fails(capsys, ["verify", proof, "--model", "model-b@1", "--registry", reg], REJECTED, "rejected",
          "made for a different model")
    fails(capsys, ["verify", proof, "--circuit", models["a_other"]], REJECTED, "rejected",
          "different weight commitment")
