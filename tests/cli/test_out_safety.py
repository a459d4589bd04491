"""Commands that write never destroy what they did not write (issue 14,
critical 1): `compile --out DIR` deleted whatever DIR held (a vendor key, a
registry database, another model), through a symlink and `--out .` too;
`prove`/`commit-input --out` left `.NAME.tmp` files and overwrote a proof
silently. Each finding is a test named after it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zkaudit.cli.main import main

ZOO = Path(__file__).resolve().parents[2] / "circuits" / "logistic_risk"
USAGE = 2


def compile_argv(out) -> list[str]:
    return ["compile", str(ZOO / "model.onnx"), "--out", str(out), "--calibration", str(ZOO / "calibration.npy")]


def refused(capsys, argv, *parts) -> str:
    assert main([str(a) for a in argv]) == USAGE
    err = capsys.readouterr().err
    # a cold numba cache adds its one-line notice first (`cli/_kernels.py`): not part of the error
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("compiling kernels (")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


def tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = tmp_path_factory.mktemp("compiled") / "model"
    assert main(compile_argv(out)) == 0
    return out


def test_compile_refuses_a_folder_holding_a_vendor_key(tmp_path, capsys):
    out = tmp_path / "vendor"
    out.mkdir()
    (out / "vendor.key").write_text("secret")
    (out / "zkaudit-registry.db").write_bytes(b"db")
    refused(capsys, compile_argv(out), "holds files that are not part of a compiled model", "vendor.key",
            "choose a new folder")
    assert tree(out) == {"vendor.key": b"secret", "zkaudit-registry.db": b"db"}


def test_compile_refuses_a_model_folder_with_a_foreign_file_inside(tmp_path, capsys, compiled):
    out = tmp_path / "model"
    for rel, data in tree(compiled).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    (out / "private" / "vendor.key").write_text("secret")
    before = tree(out)
    refused(capsys, compile_argv(out), "private/vendor.key")
    assert tree(out) == before


def test_compile_refuses_the_current_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "notes.txt").write_text("keep")
    monkeypatch.chdir(tmp_path)
    refused(capsys, compile_argv("."), "--out .")
    assert tree(tmp_path) == {"notes.txt": b"keep"}


def test_compile_refuses_an_empty_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(capsys, compile_argv("."), "current folder")
    assert tmp_path.is_dir()


def test_compile_never_follows_a_symlink_out(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "another_model_weights.bin").write_bytes(b"w")
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    refused(capsys, compile_argv(link), "symbolic link")
    assert link.is_symlink() and tree(elsewhere) == {"another_model_weights.bin": b"w"}


def test_compile_refuses_a_symlink_to_a_compiled_model(tmp_path, capsys, compiled):
    link = tmp_path / "link"
    link.symlink_to(compiled)
    before = tree(compiled)
    refused(capsys, compile_argv(link), "symbolic link")
    assert tree(compiled) == before


def test_compile_refuses_a_file(tmp_path, capsys):
    (tmp_path / "out").write_text("x")
    refused(capsys, compile_argv(tmp_path / "out"), "not a folder")
    assert (tmp_path / "out").read_text() == "x"


def test_compile_refuses_a_model_whose_public_folder_is_a_link(tmp_path, capsys, compiled):
    out = tmp_path / "model"
    out.mkdir()
    (out / "public").symlink_to(compiled / "public")
    refused(capsys, compile_argv(out), "public")
    assert (compiled / "public" / "circuit.bin").exists()


def test_compile_replaces_an_existing_model_and_writes_into_an_empty_folder(tmp_path, capsys, compiled):
    out = tmp_path / "model"
    out.mkdir()
    assert main(compile_argv(out)) == 0  # empty folder
    first = tree(out)
    assert set(first) == {"public/circuit.bin", "public/summary.json", "public/weights.commitment",
                          "private/weights.bin", "private/weights.salt"}
    (out / "public" / "circuit.bin").write_bytes(b"stale")
    assert main(compile_argv(out)) == 0  # a compiled model: replaced
    again = tree(out)
    salted = {"public/weights.commitment", "private/weights.salt"}  # a fresh salt per compile
    assert set(again) == set(first) and all(again[k] == first[k] for k in set(first) - salted)
    assert all(again[k] != first[k] for k in salted)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no .tmp- or .old- folder left


def test_compile_refusal_happens_before_any_work(tmp_path, capsys):
    """The check runs before the model is even read: a missing model file is
    not reported, the folder is."""
    out = tmp_path / "busy"
    out.mkdir()
    (out / "x").write_text("1")
    assert main(["compile", str(tmp_path / "missing.onnx"), "--out", str(out)]) == USAGE
    assert "not part of a compiled model" in capsys.readouterr().err


# -- prove / commit-input --------------------------------------------------------

def test_prove_refuses_to_overwrite_a_proof_without_force(tmp_path, capsys, compiled):
    proof = tmp_path / "p.zkp"
    argv = ["prove", compiled, "--input", ZOO / "input.json", "--out", proof]
    assert main([str(a) for a in argv]) == 0
    first = proof.read_bytes()
    proof.write_bytes(b"an earlier proof")
    refused(capsys, argv, "already exists", "--force")
    assert proof.read_bytes() == b"an earlier proof"
    assert main([str(a) for a in argv + ["--force"]]) == 0
    again = proof.read_bytes()  # a fresh proof (zero-knowledge proofs are randomized: not byte-equal)
    assert again != b"an earlier proof" and again[:16] == first[:16]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zkp"]  # no .p.zkp.*.tmp left


def test_prove_into_a_folder_leaves_no_temp_file(tmp_path, capsys, compiled):
    target = tmp_path / "proofs"
    target.mkdir()
    refused(capsys, ["prove", compiled, "--input", ZOO / "input.json", "--out", target], "is a folder")
    assert list(target.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["proofs"]


def test_prove_commit_input_refuses_an_existing_commitment_file(tmp_path, capsys, compiled):
    proof = tmp_path / "p.zkp"
    (tmp_path / "p.zkp.input-commitment").write_bytes(b"keep")
    refused(capsys, ["prove", compiled, "--input", ZOO / "input.json", "--out", proof, "--commit-input"],
            "input commitment file", "already exists")
    assert not proof.exists() and (tmp_path / "p.zkp.input-commitment").read_bytes() == b"keep"


def test_commit_input_refuses_to_overwrite_and_leaves_no_temp_file(tmp_path, capsys, compiled):
    out = tmp_path / "in.commitment"
    argv = ["commit-input", compiled, "--input", ZOO / "input.json", "--out", out]
    assert main([str(a) for a in argv]) == 0
    first = out.read_bytes()
    refused(capsys, argv, "already exists")
    assert main([str(a) for a in argv + ["--force"]]) == 0 and out.read_bytes() == first
    refused(capsys, ["commit-input", compiled, "--input", ZOO / "input.json", "--out", tmp_path], "is a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.commitment"]


def test_prove_replaces_a_link_instead_of_writing_through_it(tmp_path, capsys, compiled):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    link = tmp_path / "p.zkp"
    link.symlink_to(victim)
    refused(capsys, ["prove", compiled, "--input", ZOO / "input.json", "--out", link], "already exists")
    assert main(["prove", str(compiled), "--input", str(ZOO / "input.json"), "--out", str(link), "--force"]) == 0
    assert victim.read_text() == "keep" and not link.is_symlink() and link.stat().st_size > 1000


def test_written_proof_is_readable_as_a_normal_file(tmp_path, compiled):
    """Temp files are created 0600; the renamed proof must follow the umask."""
    proof = tmp_path / "p.zkp"
    old = os.umask(0o022)
    try:
        assert main(["prove", str(compiled), "--input", str(ZOO / "input.json"), "--out", str(proof)]) == 0
    finally:
        os.umask(old)
    assert proof.stat().st_mode & 0o777 == 0o644
