"""Every `--json` document matches its table in docs/json.md: the schema
name, every documented field present (optional ones only where the doc
says), and nothing undocumented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from zkaudit.cli.main import main

REPO = Path(__file__).resolve().parents[2]
ZOO = REPO / "circuits" / "logistic_risk"


def documented() -> dict[str, tuple[set, set]]:
    """schema -> (required fields, optional fields)."""
    text = (REPO / "docs" / "json.md").read_text()
    out = {}
    for name, body in re.findall(r"### `([^`]+)`\n(.*?)(?=\n### |\Z)", text, flags=re.S):
        rows = re.findall(r"^\| `(\w+)` \| (.*) \|$", body, flags=re.M)
        out[name] = ({f for f, d in rows if not d.startswith("*optional*")},
                     {f for f, d in rows if d.startswith("*optional*")})
    return out


def run_json(capsys, argv, code=0) -> dict:
    assert main([str(a) for a in argv]) == code
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def check(doc: dict, schema: str, present_optional=()) -> None:
    required, optional = documented()[schema]
    assert doc["schema"] == schema
    assert set(doc) == required | set(present_optional), (set(doc) ^ (required | set(present_optional)))
    assert set(present_optional) <= optional


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    return tmp_path_factory.mktemp("json") / "m"


def test_every_command_json_matches_docs(tmp_path, capsys, compiled):
    doc = run_json(capsys, ["compile", ZOO / "model.onnx", "--out", compiled, "--calibration",
                            ZOO / "calibration.npy", "--json"])
    required, _ = documented()["zkaudit.compile/1"]
    assert doc["schema"] == "zkaudit.compile/1" and required <= set(doc)
    assert set(doc) - {"schema", "out", "files", "weight_commitment"} == set(
        json.loads((compiled / "public" / "summary.json").read_text()))

    check(run_json(capsys, ["run", compiled, "--input", ZOO / "input.json", "--json"]), "zkaudit.run/1")
    proved = run_json(capsys, ["prove", compiled, "--input", ZOO / "input.json", "--out", tmp_path / "p.zkp",
                               "--json"])
    check(proved, "zkaudit.prove/1")
    assert proved["timings"]["prove_seconds"] > 0 and proved["input_commitment"] is None
    verdict = run_json(capsys, ["verify", tmp_path / "p.zkp", "--circuit", compiled, "--json"])
    check(verdict, "zkaudit.verify/1")
    # one shape for a batch in prove and verify: a list per sample
    assert verdict["output"] == proved["output"] and verdict["batch"] == proved["batch"] > 1
    raw = bytearray((tmp_path / "p.zkp").read_bytes())
    raw[-40] ^= 1
    (tmp_path / "bad.zkp").write_bytes(bytes(raw))
    rejected = run_json(capsys, ["verify", tmp_path / "bad.zkp", "--circuit", compiled, "--json"], code=1)
    check(rejected, "zkaudit.verify/1", present_optional=("error", "code", "exit_code"))
    assert rejected["valid"] is False and rejected["code"] == "proof_rejected"
    committed = run_json(capsys, ["commit-input", compiled, "--input", ZOO / "input.json", "--out",
                                  tmp_path / "c", "--json"])
    check(committed, "zkaudit.commit-input/1")
    check(run_json(capsys, ["mock", compiled, "--input", ZOO / "input.json", "--json"]), "zkaudit.mock/1",
          present_optional=("digest", "output", "output_int", "outputs"))
    error = run_json(capsys, ["run", tmp_path / "none", "--input", ZOO / "input.json", "--json"], code=2)
    check(error, "zkaudit.error/1")

# `zkaudit.demo/1` is checked by tests/cli/test_demo.py on the run it makes anyway.
