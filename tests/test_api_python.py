"""The Python API (issue 22): the same artifacts as the CLI, every input
form, a typed verdict, NAME@latest, and an `import zkaudit` that loads
nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zkaudit
from zkaudit.api import Verification
from zkaudit.cli.main import main
from zkaudit.errors import ZkauditError

ZOO = Path(__file__).resolve().parents[1] / "circuits" / "logistic_risk"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "logistic"
    zkaudit.compile(ZOO / "model.onnx", out, calibration=ZOO / "calibration.npy")
    return out


def test_import_zkaudit_loads_nothing_heavy():
    code = ("import sys, zkaudit; heavy = [m for m in ('numpy', 'numba', 'onnx', 'sqlalchemy', 'py_ecc', 'typer') "
            "if m in sys.modules]; print(heavy); assert callable(zkaudit.verify)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_compile_writes_the_same_artifacts_as_the_cli(model, tmp_path):
    assert main(["compile", str(ZOO / "model.onnx"), "--out", str(tmp_path / "cli"), "--calibration",
                 str(ZOO / "calibration.npy")]) == 0
    for rel in ("public/circuit.bin", "private/weights.bin", "public/summary.json"):
        assert (model / rel).read_bytes() == (tmp_path / "cli" / rel).read_bytes(), rel
    # the hashed weight commitment is salted afresh by each compile: same weights, same layout, another root
    from zkaudit.hash.commitment import WeightCommitment

    a, b = (WeightCommitment.from_bytes((d / "public/weights.commitment").read_bytes()) for d in (model, tmp_path / "cli"))
    assert (a.n_weights, a.layout_digest) == (b.n_weights, b.layout_digest) and a.root != b.root


def test_prove_takes_every_input_form(model, tmp_path):
    records = np.load(ZOO / "calibration.npy")
    x = records[0]
    (tmp_path / "in.json").write_text(json.dumps({"inputs": {"x": [x.tolist()]}}))
    forms = [x, x.tolist(), {"x": x.reshape(1, 10)}, tmp_path / "in.json", str(tmp_path / "in.json"),
             {"inputs": {"x": [x.tolist()]}}, {"input_data": [x.tolist()]}]
    results = [zkaudit.prove(model, form) for form in forms]
    assert all(r.output_int == results[0].output_int and r.batch == 1 and not r.batched for r in results)
    batch = zkaudit.prove(model, records[:3])
    assert batch.batch == 3 and batch.batched and len(batch.output_int) == 3
    assert batch.output_int[0] == results[0].output_int


def test_prove_rejects_inputs_that_are_not_numbers(model):
    with pytest.raises(ZkauditError):
        zkaudit.prove(model, [["a"] * 10])
    with pytest.raises(ZkauditError, match="not a multiple"):
        zkaudit.prove(model, np.zeros(7))


def test_verify_returns_a_typed_verdict(model, tmp_path):
    proof = zkaudit.prove(model, np.load(ZOO / "calibration.npy")[:2], out=tmp_path / "p.zkp")
    v = zkaudit.verify(tmp_path / "p.zkp", circuit=model)
    assert isinstance(v, Verification) and v and v.reason == "proof verified"
    assert v.output_int == proof.output_int and v.output == proof.output and v.batch == 2
    assert v.circuit_digest == proof.digest and v.soundness_bits > 100
    raw = bytearray(proof.proof)
    raw[-40] ^= 1
    bad = zkaudit.verify(bytes(raw), circuit=model)
    assert not bad and bad.reason and bad.output is None


def test_verify_needs_exactly_one_target(model, tmp_path):
    with pytest.raises(ZkauditError, match="exactly one"):
        zkaudit.verify(b"", circuit=model, model="m@1")
    with pytest.raises(ZkauditError, match="exactly one"):
        zkaudit.verify(b"")
    with pytest.raises(ZkauditError, match="proof file not found"):
        zkaudit.verify(tmp_path / "none.zkp", circuit=model)


def test_verify_model_latest_is_the_newest_version_not_revoked(model, tmp_path, monkeypatch):
    monkeypatch.delenv("ZKAUDIT_REGISTRY_URL", raising=False)
    reg, key = str(tmp_path / "r.db"), str(tmp_path / "vendor.key")
    assert main(["registry", "init", "--registry", reg]) == 0
    assert main(["keys", "gen", "--out", key]) == 0
    for version in ("1", "2"):
        assert main(["registry", "publish", str(model), "--name", "risk", "--version", version, "--key", key,
                     "--registry", reg]) == 0
    proof = zkaudit.prove(model, np.load(ZOO / "calibration.npy")[0]).proof
    assert zkaudit.verify(proof, registry=reg, model="risk@latest").model == "risk@2"
    assert main(["registry", "revoke", "risk@2", "--reason", "recalled", "--key", key, "--registry", reg]) == 0
    v = zkaudit.verify(proof, registry=reg, model="risk@latest")
    assert v.valid and v.model == "risk@1"
    assert not zkaudit.verify(proof, registry=reg, model="risk@2")


def test_proof_for_another_model_names_the_registered_version(model, tmp_path, monkeypatch):
    """A WrongModel rejection named only a digest prefix; against a registry
    it now says which published version that digest is."""
    monkeypatch.delenv("ZKAUDIT_REGISTRY_URL", raising=False)
    other = tmp_path / "other"
    zkaudit.compile(ZOO / "model.onnx", other, calibration=ZOO / "calibration.npy", method="percentile",
                    percentile=99.0)
    reg, key = str(tmp_path / "r.db"), str(tmp_path / "vendor.key")
    assert main(["registry", "init", "--registry", reg]) == 0
    assert main(["keys", "gen", "--out", key]) == 0
    for name, folder in (("risk", model), ("risk-p99", other)):
        assert main(["registry", "publish", str(folder), "--name", name, "--version", "1", "--key", key,
                     "--registry", reg]) == 0
    proof = zkaudit.prove(other, np.load(ZOO / "calibration.npy")[0]).proof
    v = zkaudit.verify(proof, registry=reg, model="risk@1")
    assert not v and "made for a different model" in v.reason and "that digest is risk-p99@1" in v.reason


def test_batch_size_mismatch_reads_the_right_way_round(model, tmp_path):
    records = np.load(ZOO / "calibration.npy")
    proof = zkaudit.prove(model, records[:3]).proof
    v = zkaudit.verify(proof, circuit=model, inputs=records[0])
    assert not v and "proof is about 3 sample(s), the input given holds 1" in v.reason
    assert "(expected 3, got 1)" in v.reason
