"""Aliases end to end (issue 22): `registry alias set|remove|list`, and
`--model NAME@ALIAS` / `NAME@latest` in `verify` and `registry show`
(through `api.resolve_model_ref`), on a database and on a served registry.
A real model, a real proof, real signatures."""

from __future__ import annotations

import json

import pytest
from registry_helpers import CARD, key
from remote_helpers import Served, registry_with_real_model

from zkaudit.cli.main import main
from zkaudit.registry import records
from zkaudit.registry.api import create_app
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.client import publish_local
from zkaudit.registry.keys import write_keystore


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out + cap.err


@pytest.fixture
def two_versions(tmp_path, monkeypatch):
    """tiny@1 and tiny@2 (one real circuit and weights), a proof valid for both, vendor and stranger keystores."""
    monkeypatch.chdir(tmp_path)
    url = str(tmp_path / "r.db")
    reg, key_path, model_dir, proof = registry_with_real_model(url, tmp_path / "srv")
    publish_local(reg, key("acme"), read_model_dir(model_dir), "tiny", "2", CARD)
    reg.sign_head()
    (tmp_path / "p.zkp").write_bytes(proof)
    write_keystore(tmp_path / "acme.key", key("acme"))
    write_keystore(tmp_path / "mallory.key", key("mallory"))
    yield reg, url, key_path, tmp_path
    reg.close()


def test_alias_commands_and_verify_against_an_alias(two_versions, capsys):
    reg, url, reg_key, tmp = two_versions
    where = ("--registry", url, "--registry-key", reg_key)
    code, text = run(capsys, "registry", "alias", "set", "tiny", "champion", "1", "--key", tmp / "acme.key", *where)
    assert code == 0 and text.startswith("tiny@champion -> tiny@1"), text
    code, text = run(capsys, "registry", "alias", "list", "tiny", "--registry", url, "--json")
    assert code == 0 and json.loads(text) == {"model": "tiny", "aliases": {"champion": "1"}, "latest": "2"}

    code, text = run(capsys, "verify", tmp / "p.zkp", "--model", "tiny@champion", "--registry", url, "--json")
    assert code == 0 and json.loads(text)["valid"] and json.loads(text)["checked_against"]["model"] == "tiny@1", text
    code, text = run(capsys, "verify", tmp / "p.zkp", "--model", "tiny@latest", "--registry", url, "--json")
    assert code == 0 and json.loads(text)["checked_against"]["model"] == "tiny@2"
    code, text = run(capsys, "registry", "show", "tiny@champion", "--registry", url, "--json")
    assert code == 0 and json.loads(text)["version"] == "1"

    # only the vendor moves its aliases
    code, text = run(capsys, "registry", "alias", "set", "tiny", "champion", "2", "--key", tmp / "mallory.key",
                     *where)
    assert code == 2 and "only 'tiny''s vendor (acme) can move its aliases" in text
    code, text = run(capsys, "registry", "alias", "set", "tiny", "latest", "2", "--key", tmp / "acme.key", *where)
    assert code == 2 and "is not a valid alias name" in text

    # an alias on a revoked version is refused, naming the revocation
    stmt = records.revocation(model="tiny", version="1", reason="drift")
    reg.revoke(**stmt, signer=key("acme").public_key, signature=key("acme").sign(records.revocation_message(stmt)))
    reg.sign_head()
    code, text = run(capsys, "verify", tmp / "p.zkp", "--model", "tiny@champion", "--registry", url)
    assert code == 2 and "tiny@champion points at tiny@1, which was revoked: drift" in text

    code, text = run(capsys, "registry", "alias", "remove", "tiny", "champion", "--key", tmp / "acme.key", *where)
    assert code == 0 and "tiny@champion removed (it named tiny@1)" in text
    code, text = run(capsys, "verify", tmp / "p.zkp", "--model", "tiny@champion", "--registry", url)
    assert code == 2 and "model 'tiny' has no version 'champion', only 1, 2" in text
    code, text = run(capsys, "registry", "verify-log", "--registry", url)
    assert code == 0 and text.startswith("log OK"), text


def test_alias_moves_on_a_served_registry(two_versions, capsys):
    reg, url, _, tmp = two_versions
    srv = Served(create_app(reg))
    try:
        code, text = run(capsys, "registry", "alias", "set", "tiny", "champion", "2", "--key", tmp / "acme.key",
                         "--registry", srv.url)
        assert code == 0, text
        code, text = run(capsys, "registry", "alias", "list", "tiny", "--registry", srv.url)
        assert code == 0 and "tiny@champion -> tiny@2" in text and "tiny@latest -> tiny@2" in text
        code, text = run(capsys, "verify", tmp / "p.zkp", "--model", "tiny@champion", "--registry", srv.url,
                         "--json")
        assert code == 0 and json.loads(text)["checked_against"]["model"] == "tiny@2", text
    finally:
        srv.stop()
