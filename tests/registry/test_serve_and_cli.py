"""End to end: `zkaudit registry serve` on a real loopback socket, the CLI
commands with their exit codes, and migrations that match the models."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from registry_helpers import CARD, bad_proofs, key, make_model_dir

from zkaudit.cli.main import main
from zkaudit.registry import db
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.client import build_request, publish_payload
from zkaudit.registry.keys import write_keystore
from zkaudit.registry.models import Base
from zkaudit.registry.store import Registry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.heavy  # a second subprocess server: test_remote_verify's round trip serves, publishes and checks
def test_uvicorn_round_trip(tmp_path):
    """`registry serve` under uvicorn in its own process (also
    test_remote_verify::test_subprocess_server_cli_round_trip; the endpoints
    one by one: test_remote_api, in process)."""
    url = str(tmp_path / "r.db")
    assert main(["registry", "init", "--registry", url]) == 0
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "zkaudit.cli.main", "registry", "serve", "--registry", url,
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                info = httpx.get(f"{base}/v1/registry", timeout=1).json()
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    pytest.fail(server.stderr.read().decode())
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        art = read_model_dir(make_model_dir(tmp_path / "m", 4))
        body = build_request(key("acme"), "publish", bytes.fromhex(info["registry_public_key"]),
                             publish_payload(key("acme"), art, "ecg", "3", CARD, first_use=True))
        r = httpx.post(f"{base}/v1/publish", json=body, timeout=60)
        assert r.status_code == 201, r.text
        assert httpx.get(f"{base}/v1/models/ecg/versions/3/circuit").content == art.circuit_bin
        verdict = httpx.post(f"{base}/v1/models/ecg/versions/3/check", content=bad_proofs()["bad magic"]).json()
        assert verdict["valid"] is False and "bad magic" in verdict["reason"]
        head = httpx.get(f"{base}/v1/log/head").json()
        assert head["signed_head"]["tree_size"] == head["log_size"] == 5  # the server holds the key: heads signed
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "zkaudit registry"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_cli_publish_show_verify(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZKAUDIT_REGISTRY_URL", raising=False)
    write_keystore(tmp_path / "v.key", key("acme"))
    make_model_dir(tmp_path / "model", 7)
    (tmp_path / "p.bin").write_bytes(bad_proofs()["unknown statement"])
    assert main(["registry", "list"]) == 2  # no registry yet: one-line error
    assert "registry is not initialised" in capsys.readouterr().err
    assert main(["registry", "init", "--json"]) == 0  # default: ./zkaudit-registry.db
    assert json.loads(capsys.readouterr().out)["created"] is True
    assert (tmp_path / "zkaudit-registry.db").exists()
    assert main(["registry", "publish", "model", "--name", "sepsis", "--version", "2", "--key", "v.key",
                 "--intended-use", "ICU early warning", "--metrics", '{"auroc": 0.87}', "--json"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert main(["registry", "publish", "model", "--name", "sepsis", "--version", "2", "--key", "v.key"]) == 2
    assert capsys.readouterr().err.strip() == "error: sepsis@2 is already published"
    assert main(["registry", "show", "sepsis@2", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["circuit_digest"] == published["circuit_digest"]
    assert shown["model_card"]["intended_use"] == "ICU early warning"
    assert main(["registry", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"name": "sepsis", "vendor": "acme", "versions": ["2"],
                                                    "weight_commitments": {"2": "unknown"}}]

    assert main(["verify", "p.bin", "--model", "sepsis@2", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False and out["output"] is None
    assert out["reason"].startswith("statement 'telepathy' is not supported by verifier version")
    assert main(["verify", "p.bin", "--circuit", "model"]) == 1
    assert "rejected: statement 'telepathy'" in capsys.readouterr().err
    assert main(["verify", "p.bin"]) == 2
    assert main(["verify", "p.bin", "--circuit", "model", "--model", "sepsis@2"]) == 2
    assert main(["verify", "p.bin", "--model", "sepsis"]) == 2
    assert main(["verify", "p.bin", "--model", "ghost@1"]) == 2
    assert "unknown model 'ghost'" in capsys.readouterr().err
    assert main(["registry", "verify-log", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


@pytest.mark.postgres
def test_cli_against_postgres(pg_url, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_keystore(tmp_path / "v.key", key("acme"))
    make_model_dir(tmp_path / "model", 8)
    monkeypatch.setenv("ZKAUDIT_REGISTRY_URL", pg_url)  # the environment names the registry
    assert main(["registry", "init"]) == 0
    assert main(["registry", "publish", "model", "--name", "cxr", "--version", "1", "--key", "v.key"]) == 0
    assert main(["registry", "head", "--json"]) == 0
    capsys.readouterr()
    assert main(["registry", "verify-log", "--registry", pg_url, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] and rep["log_size"] == 5 and rep["heads_checked"] == 2  # the CLI held ./zkaudit-registry.key


def test_migrations_match_models(registry_url, tmp_path):
    reg, _, _ = Registry.init(registry_url, tmp_path / "k")
    with reg.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert db.current_revision(reg.engine) == db.head_revision()
    reg2, created, _ = Registry.init(registry_url, tmp_path / "k")  # idempotent
    assert not created and reg2.public_key == reg.public_key
    assert main(["registry", "upgrade", "--registry", registry_url]) == 0


def test_url_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("ZKAUDIT_REGISTRY_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert db.resolve_url(None) == f"sqlite:///{tmp_path / 'zkaudit-registry.db'}"
    assert db.resolve_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.resolve_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    monkeypatch.setenv("ZKAUDIT_REGISTRY_URL", "x.db")
    assert db.resolve_url(None) == f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["registry", "list", "--registry", "mysql://x"]) == 2
    assert os.path.basename(db.MIGRATIONS_DIR) == "migrations" and (db.MIGRATIONS_DIR / "env.py").is_file()
