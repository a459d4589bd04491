"""Every model in circuits/ compiles, proves and verifies through the CLI,
and the proven output equals the integer reference executor exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zkaudit.circuit import load_circuit, load_weights, read_inputs
from zkaudit.cli.main import main
from zkaudit.statements.inference.commitment import COMMITMENT_FILE
from zkaudit.statements.verify import verify_proof

ZOO = Path(__file__).resolve().parents[2] / "circuits"
MODELS = sorted(p.name for p in ZOO.iterdir() if (p / "model.onnx").exists())


# big_cnn's proof through the CLI is the suite's single most expensive proof.
# The default run proves its Convs (tests/layers/test_conv.py,
# test_zoo_convs_prove_through_dispatch[big_cnn]), its other op types at a
# smaller size (digits_cnn) and the CLI journey (the other zoo models); this
# case runs with `pytest -m heavy tests` (`benchmarks/inference_bench.py
# --models big_cnn` times the same proof).
# clinical_transformer's (about 40 s) likewise: tests/onnx/test_attention.py
# proves a smaller encoder of the same ops by default.
HEAVY = ("big_cnn", "clinical_transformer")


@pytest.mark.parametrize("name", [pytest.param(m, marks=pytest.mark.heavy) if m in HEAVY else m for m in MODELS])
def test_zoo_model_proves_and_verifies(name, tmp_path, capsys):
    folder = ZOO / name
    out = tmp_path / "compiled"
    args = ["compile", str(folder / "model.onnx"), "--out", str(out)]
    if (folder / "calibration.npy").exists():
        args += ["--calibration", str(folder / "calibration.npy")]
    assert main(args) == 0
    circuit, weights = load_circuit(out), load_weights(out)
    sample = read_inputs(folder / "input.json", circuit).samples[0]
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"inputs_int": {k: v.tolist() for k, v in sample.items()}}))
    proof_path = tmp_path / "p.zkp"
    capsys.readouterr()
    assert main(["prove", str(out), "--input", str(single), "--out", str(proof_path), "--json"]) == 0
    proved = json.loads(capsys.readouterr().out)
    reference = circuit.execute(weights, sample)
    first = circuit.outputs[0].name
    assert proved["output_int"] == reference[first].tolist()

    proof = proof_path.read_bytes()
    circuit_bin = (out / "public" / "circuit.bin").read_bytes()
    commitment = (out / COMMITMENT_FILE).read_bytes()
    verdict = verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment)
    assert verdict.valid, verdict.reason
    assert verdict.output == {k: v.tolist() for k, v in reference.items()}
    assert verdict.soundness_bits >= 100, verdict.soundness_bits  # computed over the whole run

    # the same proof with one flipped byte in the layer proofs is rejected
    raw = bytearray(proof)
    raw[len(raw) // 2] ^= 0x01
    assert not verify_proof(bytes(raw), circuit_bin=circuit_bin, weight_commitment=commitment).valid
    # and against the commitment of other weights
    other = commitment[:-1] + bytes([commitment[-1] ^ 1])
    assert not verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=other).valid
    assert np.array_equal(np.asarray(proved["output_int"]), reference[first])


def test_batch_of_the_whole_input_file_proves_in_one_proof(tmp_path, capsys):
    """clinical_mlp's input.json holds a batch: one proof covers every sample."""
    folder = ZOO / "clinical_mlp"
    out = tmp_path / "compiled"
    assert main(["compile", str(folder / "model.onnx"), "--out", str(out), "--calibration",
                 str(folder / "calibration.npy")]) == 0
    circuit, weights = load_circuit(out), load_weights(out)
    samples = read_inputs(folder / "input.json", circuit).samples
    assert len(samples) > 1
    proof_path = tmp_path / "batch.zkp"
    capsys.readouterr()
    assert main(["prove", str(out), "--input", str(folder / "input.json"), "--out", str(proof_path), "--json"]) == 0
    proved = json.loads(capsys.readouterr().out)
    assert proved["batch"] == len(samples)
    assert main(["verify", str(proof_path), "--circuit", str(out), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    expected = [circuit.execute(weights, s)[circuit.outputs[0].name].tolist() for s in samples]  # per sample, as prove and run
    assert verdict["valid"] and verdict["output_int"] == expected


def test_cnn_with_committed_input(tmp_path):
    """digits_cnn (a 1x1x28x28 image) proven with the input committed: the
    image is not in the proof, it is range-checked as uint8/int8 pixels, and
    the verifier accepts only against the image's own commitment."""
    from zkaudit.statements.inference.commitment import input_commitment
    from zkaudit.statements.inference.prover import prove

    folder = ZOO / "digits_cnn"
    out = tmp_path / "compiled"
    # the plain weight commitment: this test is about the input's (a hashed
    # one's salt and link are tests/statements/test_weight_link.py's)
    assert main(["compile", str(folder / "model.onnx"), "--out", str(out), "--calibration",
                 str(folder / "calibration.npy"), "--weight-commitment", "plain"]) == 0
    circuit, weights = load_circuit(out), load_weights(out)
    samples = read_inputs(folder / "input.json", circuit).samples
    commitment = (out / COMMITMENT_FILE).read_bytes()
    opening = bytes(range(32))  # the hospital's secret seed of the input commitment
    proof = prove(circuit, weights, samples[0], weight_commitment=commitment, commit_input=True, input_opening=opening)
    image = samples[0][circuit.inputs[0].name]
    assert np.asarray(image, dtype="<i8").tobytes() not in proof
    circuit_bin = (out / "public" / "circuit.bin").read_bytes()
    verdict = verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment,
                           input_commitment=input_commitment(circuit, samples[0], opening))
    assert verdict.valid, verdict.reason
    assert verdict.soundness_bits >= 100, verdict.soundness_bits  # three openings: weights, advice, input
    assert verdict.output == {k: v.tolist() for k, v in circuit.execute(weights, samples[0]).items()}
    other = input_commitment(circuit, samples[1], opening)
    assert not verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment,
                            input_commitment=other).valid
