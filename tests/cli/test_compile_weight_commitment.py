"""`zkaudit compile --weight-commitment [hashed|plain]` (issue 16): hashed
writes the salted Poseidon2 root and its salt (0600, 16 bytes) in the same
atomic write as the rest, the root opens with the weights and that salt,
the output names the scheme, and a failed compile leaves nothing behind."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

import zkaudit.api
from zkaudit.circuit import load_circuit, load_weights
from zkaudit.cli.main import main
from zkaudit.hash.commitment import WeightCommitment, layouts_of, salt_from_bytes, verify_weight_opening
from zkaudit.hash.errors import WeightOpeningMismatch
from zkaudit.pcs.proof import COMMITMENT_MAGIC

ZOO = Path(__file__).resolve().parents[2] / "circuits" / "logistic_risk"
HIDING = "Poseidon2 p2gl8-tree-v2 (hiding: never opened)"
NOT_HIDING = "tensor-code (not hiding: opened in every proof)"


def compile_cli(capsys, out: Path, *extra) -> tuple[int, str]:
    code = main([str(a) for a in ("compile", ZOO / "model.onnx", "--out", out, "--calibration",
                                  ZOO / "calibration.npy", *extra)])
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def test_hashed_writes_the_root_and_its_salt_and_they_open_with_the_weights(tmp_path, capsys):
    out = tmp_path / "m"
    code, text = compile_cli(capsys, out, "--weight-commitment", "hashed", "--json")
    assert code == 0, text
    doc = json.loads(text)
    salt_file = out / "private" / "weights.salt"
    assert doc["files"]["weight_salt"] == "private/weights.salt"
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600 and len(salt_file.read_bytes()) == 16
    assert stat.S_IMODE((out / "private" / "weights.bin").stat().st_mode) == 0o600
    wc = WeightCommitment.from_bytes((out / "public" / "weights.commitment").read_bytes())
    assert doc["weight_commitment"] == {"kind": "hashed", "label": HIDING, "hiding": True, "bytes": 91,
                                        **wc.to_record()}
    circuit, weights = load_circuit(out), load_weights(out)
    layouts = layouts_of(circuit.weights)
    values = [weights[t.name] for t in layouts]
    salt = salt_from_bytes(salt_file.read_bytes())
    verify_weight_opening(wc, layouts, values, salt)  # the root is recomputed from weights + salt
    assert wc.n_weights == doc["parameters"] == 11
    with pytest.raises(WeightOpeningMismatch):
        verify_weight_opening(wc, layouts, values, (salt[0], salt[1] ^ 1))
    # the same weights under a fresh salt: another root (the salt is what hides them)
    again = zkaudit.api.weight_commitment_file(circuit, weights, "hashed")
    assert WeightCommitment.from_bytes(again[Path("public") / "weights.commitment"]).root != wc.root

    # text output names the scheme; recompiling plain in place drops the salt with the rest
    code, text = compile_cli(capsys, out, "--weight-commitment", "plain")
    assert code == 0 and f"commitment  {NOT_HIDING}" in text and "weights.salt" not in text
    assert not salt_file.exists()
    assert (out / "public" / "weights.commitment").read_bytes().startswith(COMMITMENT_MAGIC)
    code, text = compile_cli(capsys, out, "--weight-commitment", "hashed")
    root = WeightCommitment.from_bytes((out / "public" / "weights.commitment").read_bytes()).root_bytes().hex()
    assert code == 0 and f"commitment  {HIDING}, root {root}, 11 weights" in text
    assert "private/weights.bin, private/weights.salt (keep both" in text and salt_file.is_file()


def test_the_default_is_hashed(tmp_path, capsys):
    assert zkaudit.api.DEFAULT_WEIGHT_COMMITMENT == "hashed"
    code, text = compile_cli(capsys, tmp_path / "m", "--json")
    doc = json.loads(text)
    assert code == 0 and doc["weight_commitment"]["kind"] == "hashed" and doc["files"]["weight_salt"]
    assert (tmp_path / "m" / "private" / "weights.salt").is_file()


def test_a_failed_compile_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "m"
    code, text = compile_cli(capsys, out, "--weight-commitment", "sha1")
    assert code == 2 and "unknown weight commitment 'sha1': choose plain or hashed" in text
    # a float model without calibration fails after the option was accepted
    code = main([str(a) for a in ("compile", ZOO / "model.onnx", "--out", out, "--weight-commitment", "hashed")])
    assert code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder, no .m.tmp-* beside it
    # a compiled folder survives a failed recompile unchanged, salt included
    assert compile_cli(capsys, out, "--weight-commitment", "hashed")[0] == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main([str(a) for a in ("compile", ZOO / "model.onnx", "--out", out, "--weight-commitment", "hashed",
                                  "--calibration", tmp_path / "missing.npy")]) == 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
