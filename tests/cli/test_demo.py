"""`zkaudit demo` runs the whole journey and reports every step: the
inference act (compile, publish, prove, verify, a tampered prediction
rejected) and the training act (sealed dataset, consent, run, coin, DP-SGD,
training proof, a tampered one refused, int8 model, link, the chain).
A rerun in the same folder (heavy) reuses the registry and keys."""

from __future__ import annotations

import json

import pytest

from zkaudit.cli.main import main


def _demo(folder) -> dict:
    """The demo in its own process, as a user runs it: the training act loads
    much of the stack (the accountant, scikit-learn, every prover), and a
    later in-process test must not inherit whatever that leaves behind (an
    in-process run here once made a later served-registry test lose pytest's
    captured stderr and end the test run)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "zkaudit.cli.main", "demo", "--dir", str(folder), "--json"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One demo run (the rerun is a heavy case: `rerun` below)."""
    folder = tmp_path_factory.mktemp("demo")
    return folder, _demo(folder), None


@pytest.fixture(scope="module")
def rerun(runs):
    folder, first, _ = runs
    return folder, first, _demo(folder)


def _act(record: dict, act: str) -> list[dict]:
    return [s for s in record["steps"] if s["act"] == act]


def test_the_json_matches_docs(runs):
    """`zkaudit demo --json` as docs/json.md documents it (checked here, on the
    module's run, rather than by a third demo run in test_json.py)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_json import check

    check(runs[1], "zkaudit.demo/1")


def test_demo_completes_and_rejects_the_tampered_prediction(runs):
    folder, record, _ = runs
    assert record["schema"] == "zkaudit.demo/1" and record["dir"] == str(folder)
    steps = _act(record, "inference")
    assert len(steps) == 5 and record["steps"][:5] == steps
    assert steps[0]["fidelity"]["float_top1_agreement"] >= 0.99
    assert steps[3]["valid"] is True
    assert steps[4]["valid"] is False and steps[4]["reason"]
    # only the output was changed: the proof itself must fail, not its header
    assert "different model" not in steps[4]["reason"] and "different weight" not in steps[4]["reason"]
    assert (folder / "registry.db").exists() and (folder / "prediction.zkp").exists()


def test_training_act_reports_the_chain(runs):
    folder, record, _ = runs
    steps = _act(record, "training")
    assert len(steps) == 11 and all(s["seconds"] > 0 for s in steps)
    chain = steps[-1]
    for field in ("model", "dataset", "custodian", "consent_table_version", "policy", "steps", "epsilon",
                  "epsilon_rdp", "delta", "accountant", "verdicts", "proof_bytes", "timings", "test_accuracy"):
        assert field in chain, field
    assert chain["verdicts"] == {"consent": True, "training": True, "link": True}
    assert chain["policy"] == "dpsgd/v1" and chain["steps"] == 143 and chain["delta"] == 0.001
    assert 0 < chain["epsilon"] <= chain["epsilon_rdp"] and chain["accountant"] == "dp-accounting==0.6.0"
    assert chain["zero_knowledge"] is True and chain["consent_table_version"] == 1
    assert set(chain["proof_bytes"]) == {"consent", "training", "link"} and min(chain["proof_bytes"].values()) > 0
    assert {"train", "training_prove", "training_publish", "link_prove"} <= set(chain["timings"])
    assert chain["test_accuracy"] >= 0.9
    # every step agrees with the chain the registry shows
    by_title = {s["step"]: s for s in steps}
    trained = by_title["vendor trains with DP-SGD under the coin"]
    verified = by_title["the registry verifies the honest training proof and recomputes epsilon"]
    assert trained["epsilon"] == verified["epsilon"] == chain["epsilon"]
    tampered = by_title["a tampered training proof is refused"]
    assert tampered["valid"] is False and "training proof rejected" in tampered["reason"]
    assert by_title["IRB publishes a consent table; the hospital proves every patient consented"][
        "zero_knowledge"] is True
    for name in ("train.zkp", "link.zkp", "consent.zkp", "RUN/theta.commitment", "model/public/circuit.bin"):
        assert (folder / "training" / name).is_file(), name


def test_the_registry_holds_the_chain_the_demo_printed(runs):
    from zkaudit.registry.store import Registry

    folder, record, _ = runs
    chain = _act(record, "training")[-1]
    name, version = chain["model"].split("@")
    reg = Registry(str(folder / "registry.db"))
    try:
        prov = reg.show_version(name, version)["provenance"]
        assert prov["dataset"]["record_digest"] == chain["dataset"]
        assert prov["training_proof"]["valid"] and [k["valid"] for k in prov["links"]] == [True]
        assert float(prov["training_proof"]["accountant"]["epsilon"]) == chain["epsilon"]
        assert reg.verify_log().ok
    finally:
        reg.close()


@pytest.mark.heavy  # a second demo run (~30 s); the first run's checks above cover each act
def test_a_rerun_in_the_same_folder_supersedes_the_consent_table(rerun):
    folder, first, second = rerun
    a, b = _act(first, "training")[-1], _act(second, "training")[-1]
    assert b["consent_table_version"] == 2 and b["verdicts"] == a["verdicts"]
    assert b["dataset"] != a["dataset"]  # resealed: a new commitment for the new proofs
    assert b["custodian"] == a["custodian"]  # the same hospital key
    assert len(_act(second, "inference")) == 5


def test_a_training_folder_the_demo_did_not_make_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "mine.txt").write_text("not the demo's")
    assert main(["demo", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "was not made by the demo" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["training"]
    assert (tmp_path / "training" / "mine.txt").read_text() == "not the demo's"
