"""`zkaudit registry publish-run / publish-coin / show` and the HTTP read of
the training chain: what each command prints, one-line errors (exit 2) for
bad input with nothing written, and the same chain over GET /v1/training/.
Real SQLite registry, keystores, runs and BLS signatures."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from fastapi.testclient import TestClient
from training_chain_helpers import AUDITOR, HOSPITAL, TRAINER, dataset_dir, make_run

from zkaudit.cli.main import main
from zkaudit.registry.api import create_app
from zkaudit.registry.keys import write_keystore
from zkaudit.registry.store import Registry


def _run(argv) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("training-cli")
    for k in (HOSPITAL, TRAINER, AUDITOR):
        write_keystore(d / f"{k.name}.key", k)
    ds = dataset_dir(d / "data", 0)
    run = make_run(ds, d / "RUN", seed=1)
    other = make_run(ds, d / "OTHER", seed=2)
    reg, _, _ = Registry.init(str(d / "r.db"), d / "r.key")
    reg.close()
    db = ["--registry", str(d / "r.db")]
    rc, out = _run(["registry", "publish-dataset", str(ds), "--key", str(d / "hospital.key"), *db])
    assert rc == 0, out
    return {"d": d, "db": db, "run": run, "other": other, "ds": ds}


def _log_size(setup) -> int:
    reg = Registry(setup["db"][1])
    try:
        return reg.log_size()
    finally:
        reg.close()


def test_publish_run_coin_and_show(setup):
    d, db, run = setup["d"], setup["db"], setup["run"]
    rc, out = _run(["registry", "publish-run", str(d / "RUN"), "--key", str(d / "acme.key"), *db])
    assert rc == 0, out
    assert f"registered training run {run.run_id.hex()} by acme" in out and "epsilon now:" in out
    # no coin.json yet: --key signs it
    rc, out = _run(["registry", "publish-coin", str(d / "RUN"), "--key", str(d / "auditor-a.key"), *db, "--json"])
    assert rc == 0, out
    doc = json.loads(out)
    assert doc["run_id"] == run.run_id.hex() and doc["auditor"] == "auditor-a"
    size = _log_size(setup)
    rc, out = _run(["registry", "publish-coin", str(d / "RUN"), "--key", str(d / "auditor-a.key"), *db])
    assert rc == 2 and "one coin per run" in out and "Traceback" not in out
    assert _log_size(setup) == size
    rc, out = _run(["registry", "show", run.run_id.hex()[:16], *db])
    assert rc == 0, out
    assert "coin       signed by auditor-a (auditor" in out and "custodian hospital" in out
    assert "policy     dpsgd/v1, logistic regression (2 features); clip norm C = 1, noise multiplier sigma = 1, " \
           "sampling rate q = 536870912/2^32 (0.125), T = 4 steps" in out
    assert "consent    no consent proof published" in out and "training   no training proof yet" in out
    ds_digest = json.loads((setup["ds"] / "dataset.json").read_text())["record_digest"]
    rc, out = _run(["registry", "show", ds_digest[:16], *db])
    assert rc == 0 and "training runs: 1 registered on this dataset" in out, out
    assert f"run {run.run_id.hex()[:16]}... by acme: logistic regression (2 features), 4 steps, sigma 1; coin by " \
           "auditor-a; no training proof yet" in out
    rc, out = _run(["registry", "show", run.run_id.hex(), *db, "--json"])
    assert rc == 0 and json.loads(out)["training_run"]["coin"]["auditor"] == "auditor-a"
    reg = Registry(db[1])
    try:
        client = TestClient(create_app(reg))
        r = client.get(f"/v1/training/{run.run_id.hex()[:12]}")
        assert r.status_code == 200 and r.json()["training_run"]["run_id"] == run.run_id.hex()
        r = client.get("/v1/training/" + "ab" * 8)
        assert r.status_code == 404
        r = client.get("/v1/training/not-hex")
        assert r.status_code == 400
        # a served registry: `registry show RUN_ID --registry http://...` reads the same chain
        from remote_helpers import Served

        from zkaudit.registry.remote import RemoteRegistry

        srv = Served(create_app(reg))
        remote = RemoteRegistry(srv.url)
        try:
            assert remote.is_training_ref(run.run_id.hex()[:16]) and not remote.is_training_ref("ab" * 8)
            assert remote.show_training(run.run_id.hex())["training_run"]["coin"]["auditor"] == "auditor-a"
        finally:
            remote.close()
            srv.stop()
    finally:
        reg.close()


def test_bad_input_is_one_line_and_writes_nothing(setup, tmp_path):
    d, db = setup["d"], setup["db"]
    size = _log_size(setup)
    cases = [
        (["registry", "publish-run", str(tmp_path / "nope"), "--key", str(d / "acme.key")], "not found"),
        (["registry", "publish-coin", str(d / "OTHER"), "--coin", str(d / "RUN" / "coin.json")],
         "not found"),  # RUN's coin was never written to disk: the CLI signed it in memory
        (["registry", "publish-coin", str(d / "OTHER")], "no --key to sign the coin"),
        (["registry", "publish-training", str(d / "OTHER"), str(tmp_path / "none.zkp"), "--key", str(d / "acme.key")],
         "no such file"),
        (["registry", "publish-link", str(tmp_path / "l.zkp"), "--run", "xyz", "--model", "m@1", "--key",
          str(d / "acme.key")], "neither a run directory nor a run id"),
    ]
    for argv, words in cases:
        rc, out = _run([*argv, *db])
        assert rc == 2 and words in out and "Traceback" not in out, (argv, out)
    # a coin file for another run
    from zkaudit.train.run import sign_coin_file

    (tmp_path / "coin.json").write_text(json.dumps(sign_coin_file(setup["run"], AUDITOR.secret_key, "auditor-a")))
    rc, out = _run(["registry", "publish-coin", str(d / "OTHER"), "--coin", str(tmp_path / "coin.json"), *db])
    assert rc == 2 and "the run record changed after the coin" in out
    # the other run is not registered: the registry says so (a chain-order error)
    (tmp_path / "c2.json").write_text(json.dumps(sign_coin_file(setup["other"], AUDITOR.secret_key, "auditor-a")))
    rc, out = _run(["registry", "publish-coin", str(d / "OTHER"), "--coin", str(tmp_path / "c2.json"), *db])
    assert rc == 2 and "is not registered" in out
    assert _log_size(setup) == size
