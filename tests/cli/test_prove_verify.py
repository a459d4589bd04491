"""`zkaudit prove / verify / mock` on a compiled directory of a circuit built
from the ops proven so far (the zoo models need Requantize)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zkaudit.circuit import CIRCUIT_FILE, WEIGHTS_FILE, Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.cli.main import main
from zkaudit.statements.inference.commitment import COMMITMENT_FILE
from zkaudit.statements.inference.prover import commit_weights


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    x = TensorSpec("x", (1, 6), -128, 127, 0.5, 0)
    w = TensorSpec("w", (6, 3), -127, 127)
    y = TensorSpec("y", (1, 3), -97536, 97536, 0.25, 0)  # the validator's exact bound: 6 * 128 * 127
    circuit = Circuit("tiny", (x,), (y,), (w,), (Node.make("mm", "MatMul", ["x", "w"], "y", a_zero_point=0,
                                                                      b_zero_point=0),), (y,))
    weights = Weights({"w": np.random.default_rng(1).integers(-127, 128, (6, 3))})
    for rel, data in ((CIRCUIT_FILE, encode_circuit(circuit)), (WEIGHTS_FILE, weights.encode()),
                      (COMMITMENT_FILE, commit_weights(circuit, weights)[0].to_bytes())):
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    (d / "input.json").write_text(json.dumps({"input_data": [[1.0, -2.0, 3.5, 0.0, 10.0, -7.5]]}))
    return d, circuit, weights


def test_prove_then_verify(model_dir, tmp_path, capsys):
    d, circuit, weights = model_dir
    proof = tmp_path / "p.zkp"
    assert main(["prove", str(d), "--input", str(d / "input.json"), "--out", str(proof), "--json"]) == 0
    proved = json.loads(capsys.readouterr().out)
    expected = circuit.execute(weights, {"x": np.array([[2, -4, 7, 0, 20, -15]])})["y"]
    assert proved["output_int"] == expected.tolist()
    assert proved["output"] == (expected * 0.25).tolist() and proved["proof_bytes"] == proof.stat().st_size
    assert main(["verify", str(proof), "--circuit", str(d), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["valid"] is True
    assert verdict["output_int"] == proved["output_int"] and verdict["output"] == proved["output"]
    # text: the soundness figure says what it means (interactive bound, Fiat-Shamir grinding)
    assert main(["verify", str(proof), "--circuit", str(d)]) == 0
    text = capsys.readouterr().out
    assert "soundness" in text and "interactive protocol" in text and "2^k" in text


def test_verify_rejects_tampered_proof_with_exit_1(model_dir, tmp_path, capsys):
    d, _, _ = model_dir
    proof = tmp_path / "p.zkp"
    assert main(["prove", str(d), "--input", str(d / "input.json"), "--out", str(proof)]) == 0
    raw = bytearray(proof.read_bytes())
    raw[-40] ^= 1
    proof.write_bytes(bytes(raw))
    assert main(["verify", str(proof), "--circuit", str(d)]) == 1
    assert "rejected" in capsys.readouterr().err


def test_mock_passes_and_prove_errors_are_one_line(model_dir, tmp_path, capsys):
    d, _, _ = model_dir
    assert main(["mock", str(d), "--input", str(d / "input.json")]) == 0
    assert main(["prove", str(tmp_path / "missing"), "--input", str(d / "input.json")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "not found" in err


def test_committed_input_round_trip(model_dir, tmp_path, capsys):
    """prove --commit-input writes the proof and the input commitment; the
    data holder recomputes it with commit-input; verify accepts it against
    that file and rejects it against another input's commitment (exit 1)."""
    d, _, _ = model_dir
    proof = tmp_path / "p.zkp"
    assert main(["prove", str(d), "--input", str(d / "input.json"), "--out", str(proof), "--commit-input",
                 "--json"]) == 0
    proved = json.loads(capsys.readouterr().out)
    assert proved["committed_input"] is True
    written = tmp_path / "p.zkp.input-commitment"
    opening = tmp_path / "p.zkp.input-opening"  # the hiding commitment's secret: owner-only
    assert proved["input_opening_file"] == str(opening) and opening.stat().st_mode & 0o077 == 0
    own = tmp_path / "mine.commitment"
    assert main(["commit-input", str(d), "--input", str(d / "input.json"), "--out", str(own),
                 "--opening", str(opening)]) == 0
    assert own.read_bytes() == written.read_bytes() and proved["input_commitment"] == own.read_bytes().hex()
    capsys.readouterr()
    assert main(["verify", str(proof), "--circuit", str(d), "--input-commitment", str(own)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "matches --input-commitment" in out
    other_input = tmp_path / "other.json"
    other_input.write_text(json.dumps({"input_data": [[1.0, -2.0, 3.5, 0.0, 10.0, -7.0]]}))
    other = tmp_path / "other.commitment"
    assert main(["commit-input", str(d), "--input", str(other_input), "--out", str(other),
                 "--opening", str(opening)]) == 0
    capsys.readouterr()
    assert main(["verify", str(proof), "--circuit", str(d), "--input-commitment", str(other)]) == 1
    err = capsys.readouterr().err
    assert "another input" in err and len(err.strip().splitlines()) == 1
    assert main(["verify", str(proof), "--circuit", str(d), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["input_commitment"] == own.read_bytes().hex()


@pytest.mark.parametrize("committed", [False, True])
def test_verify_against_your_own_record(model_dir, tmp_path, capsys, committed):
    """`verify --input RECORD` accepts a proof only if it is about that
    record, whether the proof carries the input or a commitment to it."""
    d, _, _ = model_dir
    proof = tmp_path / "p.zkp"
    args = ["prove", str(d), "--input", str(d / "input.json"), "--out", str(proof)]
    assert main(args + (["--commit-input"] if committed else [])) == 0
    capsys.readouterr()
    opening = ["--input-opening", str(tmp_path / "p.zkp.input-opening")] if committed else []
    if committed:  # a hiding commitment: the record alone cannot be checked against it
        assert main(["verify", str(proof), "--circuit", str(d), "--input", str(d / "input.json")]) == 1
        assert "--input-opening" in capsys.readouterr().err
    assert main(["verify", str(proof), "--circuit", str(d), "--input", str(d / "input.json")] + opening) == 0
    assert f"the proof is about {d / 'input.json'}" in capsys.readouterr().out
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"input_data": [[1.0, -2.0, 3.5, 0.0, 10.0, -7.0]]}))
    assert main(["verify", str(proof), "--circuit", str(d), "--input", str(other)] + opening) == 1
    err = capsys.readouterr().err
    assert "another input" in err and len(err.strip().splitlines()) == 1
    bad_shape = tmp_path / "bad.json"
    bad_shape.write_text(json.dumps({"input_data": [[1.0, 2.0]]}))
    assert main(["verify", str(proof), "--circuit", str(d), "--input", str(bad_shape)]) == 2
    assert main(["verify", str(proof), "--circuit", str(d), "--input", str(tmp_path / "missing.json")]) == 2


def test_file_mistakes_name_the_file_and_the_fix(model_dir, tmp_path, capsys):
    d, _, _ = model_dir
    assert main(["prove", str(d), "--input", str(d / "input.json"), "--out", str(tmp_path / "no" / "p.zkp")]) == 2
    assert "the --out folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()
    assert main(["verify", str(tmp_path / "missing.zkp"), "--circuit", str(d)]) == 2
    err = capsys.readouterr().err
    assert "proof file not found" in err and "zkaudit prove --out" in err and len(err.strip().splitlines()) == 1
    proof = tmp_path / "p.zkp"
    assert main(["prove", str(d), "--input", str(d / "input.json"), "--out", str(proof)]) == 0
    capsys.readouterr()
    assert main(["verify", str(proof), "--circuit", str(tmp_path / "nodir")]) == 2
    assert "write one with `zkaudit compile" in capsys.readouterr().err
