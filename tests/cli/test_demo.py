"""`zkaudit demo` runs the whole journey and reports every step."""

from __future__ import annotations

import json

from zkaudit.cli.main import main


def test_demo_completes_and_rejects_the_tampered_prediction(tmp_path, capsys):
    assert main(["demo", "--dir", str(tmp_path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    steps = record["steps"]
    assert len(steps) == 5
    assert steps[0]["fidelity"]["float_top1_agreement"] >= 0.99
    assert steps[3]["valid"] is True
    assert steps[4]["valid"] is False and steps[4]["reason"]
    # only the output was changed: the proof itself must fail, not its header
    assert "different model" not in steps[4]["reason"] and "different weight" not in steps[4]["reason"]
    assert (tmp_path / "registry.db").exists() and (tmp_path / "prediction.zkp").exists()
    # a second run in the same folder reuses the registry and the vendor key
    assert main(["demo", "--dir", str(tmp_path), "--json"]) == 0
