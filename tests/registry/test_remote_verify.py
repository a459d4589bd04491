"""`zkaudit verify --model NAME@VERSION --registry http://...`: the proof is
verified here against artifacts the log vouches for, never on the server's
word. A registry that rewrites, forks or rolls back its history, serves
other artifacts, or lies about verdicts, cannot make `verify` exit 0."""

from __future__ import annotations

import json

import pytest
from remote_helpers import Served, registry_with_real_model, serve_subprocess, stop_subprocess, tamper
from registry_helpers import RawSql, copy_registry, key, publish

from zkaudit.cli.main import main
from zkaudit.registry.api import create_app
from zkaudit.registry.known_heads import KnownHeads
from zkaudit.registry.remote import RemoteRegistry
from zkaudit.registry.store import Gone, Registry


@pytest.fixture
def served_real(registry_url, tmp_path):
    reg, key_path, model_dir, proof = registry_with_real_model(registry_url, tmp_path)
    srv = Served(create_app(reg))
    yield reg, srv, proof, tmp_path
    srv.stop()
    reg.close()


def _verify(tmp_path, proof: bytes, url: str, ref: str = "tiny@1", *extra: str) -> int:
    path = tmp_path / f"p{hash(proof) & 0xffff}.zkp"
    path.write_bytes(proof)
    return main(["verify", str(path), "--model", ref, "--registry", url, *extra])


def test_verify_over_http_checks_locally_and_pins_the_registry(served_real, capsys, known_heads_file):
    reg, srv, proof, tmp = served_real
    assert _verify(tmp, proof, srv.url) == 0
    out = capsys.readouterr().out
    assert "valid inference proof" in out and "tiny@1 in the registry" in out
    pins = json.loads(known_heads_file.read_text())
    assert pins["pins"] == {srv.url: reg.public_key.hex()}
    assert pins["registries"][reg.public_key.hex()]["tree_size"] == reg.log_size()
    (scan,) = pins["scans"].values()  # where the pass over the version's entries stopped
    assert scan["size"] == reg.log_size() and scan["log_index"] == reg.show_version("tiny", "1")["log_index"]
    pins["scans"] = {k: {**v, "frontier": ["00" * 32] * len(v["frontier"])} for k, v in pins["scans"].items()}
    known_heads_file.write_text(json.dumps(pins))  # a damaged cache costs a full pass, not a false alarm
    assert _verify(tmp, tamper(proof), srv.url) == 1
    assert "rejected" in capsys.readouterr().err
    # NAME@latest and --json go through the same remote path.
    assert _verify(tmp, proof, srv.url, "tiny@latest", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True and doc["checked_against"]["model"] == "tiny@1"
    # The read commands.
    assert main(["registry", "list", "--registry", srv.url]) == 0
    assert "tiny  (acme): 1" in capsys.readouterr().out
    assert main(["registry", "show", "tiny@1", "--registry", srv.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["log_index"] == reg.show_version("tiny", "1")["log_index"]
    assert main(["registry", "verify-log", "--registry", srv.url]) == 0
    assert "log OK" in capsys.readouterr().out
    assert main(["registry", "head", "--registry", srv.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["log_size"] == reg.log_size()
    # Then someone with database access swaps the weight commitment.
    sql = RawSql(reg.url)
    try:
        sql.execute("UPDATE model_versions SET weight_commitment = ?", (b"ZKCOMMIT" + bytes(32),))
        sql.commit()
    finally:
        sql.close()
    assert _verify(tmp, proof, srv.url) == 1
    assert "is not the one logged in entry" in capsys.readouterr().err


def test_database_commands_refuse_an_http_registry(capsys):
    assert main(["registry", "init", "--registry", "http://127.0.0.1:9"]) == 2
    assert "HTTP server" in capsys.readouterr().err
    assert main(["registry", "list", "--registry", "http://example.org"]) == 2
    assert "plain http to another machine" in capsys.readouterr().err
    assert main(["registry", "list", "--registry", "http://127.0.0.1:9"]) == 2  # nothing listens there
    assert "cannot reach the registry" in capsys.readouterr().err


def _rewrite(reg: Registry, note: str) -> None:
    """What an operator with the database and the registry key can do: append
    entries of its choosing and sign a head over them."""
    from sqlalchemy.orm import Session

    from zkaudit.registry import db, log

    with Session(db.writer(reg.engine)) as s, s.begin():
        db.lock_for_write(s.connection())
        log.Appender(s).append("note", {"note": note})
    reg.sign_head()


def test_forked_rewritten_and_rolled_back_histories_are_caught(tmp_path, capsys, known_heads_file):
    """The operator holds the registry key and re-signs: two logs from one
    prefix (a fork), or an older copy (a rollback). The client pinned a head."""
    a_url, b_url, old_url = (str(tmp_path / f"{n}.db") for n in "abo")
    reg_a, key_path, _, proof = registry_with_real_model(a_url, tmp_path)
    copy_registry(a_url, b_url)
    copy_registry(a_url, old_url)
    reg_b, reg_old = Registry(b_url), Registry(old_url)
    reg_b.key = reg_old.key = reg_a.key
    reg_b.known_heads = reg_old.known_heads = None
    _rewrite(reg_a, "what happened")
    _rewrite(reg_b, "what the operator says happened")  # same size, another history
    srv = Served(create_app(reg_a))
    try:
        assert _verify(tmp_path, proof, srv.url) == 0
        capsys.readouterr()
        srv.app.target = create_app(reg_b)
        assert _verify(tmp_path, proof, srv.url) == 1
        assert "history was forked" in capsys.readouterr().err
        _rewrite(reg_b, "and more")  # the fork grows past the pinned head
        assert _verify(tmp_path, proof, srv.url) == 1
        assert "does not extend the head of size" in capsys.readouterr().err
        srv.app.target = create_app(reg_old)
        assert _verify(tmp_path, proof, srv.url) == 1
        assert "rolled back or forked" in capsys.readouterr().err
    finally:
        srv.stop()


def test_another_registry_key_at_a_pinned_address_is_refused(tmp_path, capsys, monkeypatch):
    reg_a, _, _, proof = registry_with_real_model(str(tmp_path / "a.db"), tmp_path / "a")
    reg_b, _, _ = Registry.init(str(tmp_path / "b.db"), tmp_path / "b.key")
    srv = Served(create_app(reg_a))
    try:
        monkeypatch.setenv("ZKAUDIT_REGISTRY_PUBKEY", reg_b.public_key.hex())  # pinned out of band: not A's
        assert _verify(tmp_path, proof, srv.url) == 1
        assert "pinned with $ZKAUDIT_REGISTRY_PUBKEY" in capsys.readouterr().err
        monkeypatch.delenv("ZKAUDIT_REGISTRY_PUBKEY")
        assert _verify(tmp_path, proof, srv.url) == 0  # first contact: A's key pinned
        srv.app.target = create_app(reg_b)
        capsys.readouterr()
        assert _verify(tmp_path, proof, srv.url) == 1
        assert "presents key" in capsys.readouterr().err
        assert main(["registry", "verify-log", "--registry", srv.url, "--registry-pubkey",
                     reg_b.public_key.hex()]) == 1  # B's own key given: the address is pinned to A's
        assert "pinned on first contact" in capsys.readouterr().err
    finally:
        srv.stop()


class Liar:
    """A registry front that lies: every verdict is 'valid', and the artifacts
    of `victim` are those of `source` (for which the forged proof is valid)."""

    def __init__(self, app, victim: str, source: str):
        self.app, self.victim, self.source = app, victim, source

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"]
            if path.endswith("/check") or path == "/v1/proofs":
                body = json.dumps({"valid": True, "statement": "inference", "reason": "ok", "output": {},
                                   "verifier_version": "liar"}).encode()
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
            if path.endswith(("/circuit", "/weight-commitment")) and self.victim in path:
                scope = {**scope, "path": path.replace(self.victim, self.source),
                         "raw_path": path.replace(self.victim, self.source).encode()}
        await self.app(scope, receive, send)


def test_a_lying_server_cannot_make_verify_pass_and_a_revoked_key_fails_it(tmp_path, capsys):
    reg, _, _, proof = registry_with_real_model(str(tmp_path / "r.db"), tmp_path)
    publish(reg, tmp_path / "other", "ecg", "1", seed=5)  # a version the proof is not about
    srv = Served(Liar(create_app(reg), "/models/ecg/versions/1", "/models/tiny/versions/1"))
    try:
        assert _verify(tmp_path, tamper(proof), srv.url) == 1  # the server's 'valid' is never asked for
        assert "rejected" in capsys.readouterr().err
        assert _verify(tmp_path, proof, srv.url, "ecg@1") == 1  # tiny's artifacts served as ecg's
        assert "is not the one logged in entry" in capsys.readouterr().err
        remote = RemoteRegistry(srv.url)
        try:  # the vendor's key leaked: everything it published from time 0 on is revoked
            out = remote.revoke_key_as(key("acme"), key("acme").public_key, 0, "signing key leaked")
        finally:
            remote.close()
        assert sorted(out["versions_revoked"]) == ["ecg@1", "tiny@1"]
        assert _verify(tmp_path, proof, srv.url) == 1
        err = capsys.readouterr().err
        assert "tiny@1 was revoked" in err and "signing key leaked" in err
        local = reg.check(model="tiny", version="1", proof=proof)  # the database path reads the same revocation
        assert not local.valid and "signing key leaked" in local.reason
        assert "revoked" in reg.show_version("tiny", "1")["revoked"]["reason"]
        with pytest.raises(Gone, match="signing key leaked"):  # and the key publishes no more
            publish(reg, tmp_path / "late", "late", "1", seed=6)
    finally:
        srv.stop()


def test_subprocess_server_cli_round_trip(tmp_path, capsys):
    """`zkaudit registry serve` in its own process: publish, read, verify and
    revoke with the CLI over HTTP."""
    from registry_helpers import make_model_dir

    from zkaudit.registry.keys import write_keystore

    url = str(tmp_path / "r.db")
    reg, key_path, model_dir, proof = registry_with_real_model(url, tmp_path)
    reg.close()
    write_keystore(tmp_path / "v.key", key("acme"))
    make_model_dir(tmp_path / "m2", 9)
    proc, base = serve_subprocess(url, key_path)
    try:
        assert main(["registry", "publish", str(tmp_path / "m2"), "--name", "sepsis", "--version", "2",
                     "--key", str(tmp_path / "v.key"), "--registry", base, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["model"] == "sepsis"
        assert _verify(tmp_path, proof, base) == 0
        assert main(["registry", "revoke", "tiny@1", "--reason", "miscalibrated", "--key", str(tmp_path / "v.key"),
                     "--registry", base]) == 0
        capsys.readouterr()
        assert _verify(tmp_path, proof, base) == 1
        assert "tiny@1 was revoked: miscalibrated" in capsys.readouterr().err
    finally:
        stop_subprocess(proc)
    assert KnownHeads.default().pinned_key(base) is not None
