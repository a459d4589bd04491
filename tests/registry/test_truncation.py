"""A deleted tail -- the latest revocation row, its log entry and the latest
tree head -- used to leave `verify-log` saying "log OK" and `verify --model`
accepting the revoked version; a revocation row deleted on its own let the
revoked version verify too. Heads remembered outside the database
(`known_heads`) and checks that read the entry through the log close both."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from registry_helpers import CARD, RawSql, copy_registry, key, known_heads_at, real_model

from zkaudit.cli.main import main
from zkaudit.registry import merkle, records
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.client import publish_local
from zkaudit.registry.errors import LogMismatch
from zkaudit.registry.keys import read_keystore
from zkaudit.registry.log import tree_head_message
from zkaudit.registry.store import Registry


@pytest.fixture(scope="module")
def proof_and_model(tmp_path_factory):
    d, proof = real_model(tmp_path_factory.mktemp("model"))
    return read_model_dir(d), proof


@pytest.fixture(scope="module")
def revoked_template(tmp_path_factory, proof_and_model):
    """A registry (holding its key, so every write signs a head) where
    tiny@1 was published, then revoked: the revocation is the latest entry.
    Built once (its signed heads are seconds of BLS work) with the heads it
    signed remembered in its own known-heads file; `revoked` copies both."""
    art, proof = proof_and_model
    d = tmp_path_factory.mktemp("revoked")
    with known_heads_at(str(d / "known-heads.json")):
        reg, _, _ = Registry.init(str(d / "r.db"), d / "r.key")
        publish_local(reg, key("acme"), art, "tiny", "1", CARD)
        stmt = records.revocation(model="tiny", version="1", reason="miscalibrated")
        out = reg.revoke(**stmt, signer=key("acme").public_key,
                         signature=key("acme").sign(records.revocation_message(stmt)))
        assert not reg.check(model="tiny", version="1", proof=proof).valid
        reg.close()
    (d / "proof.zkp").write_bytes(proof)
    return d, out["log_index"]


@pytest.fixture
def revoked(registry_url, tmp_path, revoked_template, known_heads_file):
    """A copy of the revoked registry on SQLite and PostgreSQL, on a machine
    that remembers the heads its registry key signed."""
    d, index = revoked_template
    url = registry_url
    shutil.copy(d / "r.key", tmp_path / "r.key")
    if url.startswith("postgresql"):
        copy_registry(str(d / "r.db"), url)
    else:
        shutil.copy(d / "r.db", url)
    shutil.copy(d / "known-heads.json", known_heads_file)
    shutil.copy(d / "proof.zkp", tmp_path / "proof.zkp")
    return url, index, tmp_path / "proof.zkp"


def _sql(url: str, *statements: str) -> None:
    conn = RawSql(url)
    try:
        for st in statements:
            conn.execute(st)
        conn.commit()
    finally:
        conn.close()


def _truncate_tail(url: str, index: int) -> None:
    _sql(url, f"delete from revocations where log_index={index}", f"delete from log_entries where idx={index}",
         f"delete from log_nodes where ((idx + 1) << level) > {index}",  # every node that covers it
         f"delete from tree_heads where tree_size > {index}")


def test_truncated_tail_fails_verify_log(revoked, capsys):
    url, index, _ = revoked
    _truncate_tail(url, index)
    assert main(["registry", "verify-log", "--registry", url]) == 1
    err = capsys.readouterr().err
    assert f"the log has only {index} entries but a highest known tree head has size {index + 1}" in err
    assert "were removed" in err


def test_truncated_tail_fails_verify_model(revoked, capsys):
    url, index, proof = revoked
    _truncate_tail(url, index)
    assert main(["verify", str(proof), "--model", "tiny@1", "--registry", url]) == 1
    err = capsys.readouterr().err
    assert f"entries {index}..{index} were removed" in err


def test_truncated_tail_seen_by_an_auditor_elsewhere(revoked, tmp_path, monkeypatch, capsys):
    """A machine that never signed a head but ran verify-log once remembers
    the head it verified (known_hosts-style)."""
    url, index, _ = revoked
    monkeypatch.setenv("ZKAUDIT_KNOWN_HEADS", str(tmp_path / "auditor.json"))
    assert main(["registry", "verify-log", "--registry", url]) == 0
    capsys.readouterr()
    _truncate_tail(url, index)
    assert main(["registry", "verify-log", "--registry", url]) == 1


def test_deleted_heads_fail_verify_log(revoked, capsys, monkeypatch, tmp_path):
    url, _, _ = revoked
    monkeypatch.setenv("ZKAUDIT_KNOWN_HEADS", "off")  # even with no state kept on this machine
    _sql(url, "delete from tree_heads")
    assert main(["registry", "verify-log", "--registry", url]) == 1
    assert "no signed tree head: the registry signs one at init, so the heads were deleted" in capsys.readouterr().err


def test_deleted_revocation_row_still_refuses_the_version(revoked, capsys):
    url, index, proof = revoked
    _sql(url, f"delete from revocations where log_index={index}")
    assert main(["verify", str(proof), "--model", "tiny@1", "--registry", url]) == 1
    assert "tiny@1 was revoked: miscalibrated" in capsys.readouterr().err
    cv = Registry(url).checked_version("tiny", "1")
    assert cv.revoked == "miscalibrated"


def test_revocation_entry_after_the_latest_head_still_refuses(revoked, tmp_path, proof_and_model):
    """A revocation logged after the last signed head is honoured: it can only refuse."""
    url, index, proof = revoked
    _sql(url, f"delete from tree_heads where tree_size > {index}")
    reg = Registry(url)
    reg.known_heads = None
    verdict = reg.check(model="tiny", version="1", proof=proof.read_bytes())
    assert not verdict.valid and verdict.reason == "tiny@1 was revoked: miscalibrated"


def test_edited_version_row_is_refused_by_check(revoked):
    url, _, proof = revoked
    _sql(url, "update model_versions set weight_commitment_digest='00' || substr(weight_commitment_digest, 3)")
    with pytest.raises(LogMismatch, match="differs from its log entry"):
        Registry(url).check(model="tiny", version="1", proof=proof.read_bytes())


def test_check_under_a_head_not_signed_by_the_registry_key_is_refused(revoked):
    url, _, proof = revoked
    forged = key("mallory").sign(b"anything")
    conn = RawSql(url)
    conn.execute("update tree_heads set signature=? where tree_size=(select max(tree_size) from tree_heads)",
                 (forged,))
    conn.commit()
    conn.close()
    reg = Registry(url)
    reg.known_heads = None
    with pytest.raises(LogMismatch, match="is not signed by the registry key"):
        reg.check(model="tiny", version="1", proof=proof.read_bytes())


def test_unrevoked_version_verifies_through_the_log(tmp_path, proof_and_model, capsys, known_heads_file):
    art, proof = proof_and_model
    url = str(tmp_path / "r.db")
    reg, _, _ = Registry.init(url, Path(f"{url}.key"))
    publish_local(reg, key("acme"), art, "tiny", "1", CARD)
    (tmp_path / "p.zkp").write_bytes(proof)
    assert main(["verify", str(tmp_path / "p.zkp"), "--model", "tiny@1", "--registry", url]) == 0
    assert "valid inference proof" in capsys.readouterr().out
    # The head verified there is remembered: a later verify-log requires the log to extend it.
    known = json.loads(known_heads_file.read_text())
    assert known["registries"][reg.public_key.hex()]["tree_size"] == reg.log_size()


def test_truncated_tail_makes_the_check_endpoint_answer_500(revoked):
    from fastapi.testclient import TestClient

    from zkaudit.registry.api import create_app

    url, index, proof = revoked
    _truncate_tail(url, index)
    client = TestClient(create_app(Registry(url)))
    r = client.post("/v1/models/tiny/versions/1/check", content=proof.read_bytes())
    assert r.status_code == 500 and r.json()["error"] == "LogMismatch", r.text
    assert "were removed" in r.json()["detail"]


def test_known_heads_file_only_grows_and_refuses_garbage(tmp_path):
    from zkaudit.errors import ZkauditError
    from zkaudit.registry.known_heads import KnownHeads
    from zkaudit.registry.log import SignedTreeHead

    store = KnownHeads(tmp_path / "sub" / "known.json")
    pk = key("reg").public_key
    small, big = SignedTreeHead(3, b"\x01" * 32, 1, b"s"), SignedTreeHead(9, b"\x02" * 32, 2, b"t")
    assert store.get(pk) is None
    store.record(pk, big)
    store.record(pk, small)  # an older head never replaces a larger one
    assert store.get(pk) == big
    (tmp_path / "sub" / "known.json").write_text("[]")
    with pytest.raises(ZkauditError, match="is not a zkaudit known-heads file"):
        store.get(pk)


@pytest.fixture(scope="module")
def published_template(tmp_path_factory, proof_and_model):
    """tiny@1 published on a registry holding its key, built once (as
    `revoked_template`), the heads it signed remembered beside it."""
    art, _ = proof_and_model
    d = tmp_path_factory.mktemp("published")
    with known_heads_at(str(d / "known-heads.json")):
        reg, _, _ = Registry.init(str(d / "r.db"), d / "r.key")
        publish_local(reg, key("acme"), art, "tiny", "1", CARD)
        reg.close()
    return d


@pytest.fixture
def published(registry_url, tmp_path, proof_and_model, published_template, known_heads_file):
    """A copy of it on SQLite or PostgreSQL, open and holding its key."""
    _, proof = proof_and_model
    d = published_template
    shutil.copy(d / "r.key", tmp_path / "r.key")
    if registry_url.startswith("postgresql"):
        copy_registry(str(d / "r.db"), registry_url)
    else:
        shutil.copy(d / "r.db", registry_url)
    shutil.copy(d / "known-heads.json", known_heads_file)
    return Registry(registry_url, key=read_keystore(tmp_path / "r.key")), registry_url, proof


def _revoke(reg: Registry) -> int:
    stmt = records.revocation(model="tiny", version="1", reason="miscalibrated")
    out = reg.revoke(**stmt, signer=key("acme").public_key, signature=key("acme").sign(records.revocation_message(stmt)))
    return out["log_index"]


def test_a_resumed_check_sees_a_later_revocation_whose_row_was_deleted(published):
    """A server checking one version many times hashes only new entries each
    time; a revocation logged after its first check is still found."""
    reg, url, proof = published
    assert reg.check(model="tiny", version="1", proof=proof).valid
    index = _revoke(reg)
    _sql(url, f"delete from revocations where log_index={index}")
    verdict = reg.check(model="tiny", version="1", proof=proof)
    assert not verdict.valid and verdict.reason == "tiny@1 was revoked: miscalibrated"


def test_a_resumed_check_sees_a_later_truncation(published):
    reg, url, proof = published
    index = _revoke(reg)
    assert not reg.check(model="tiny", version="1", proof=proof).valid
    _truncate_tail(url, index)
    with pytest.raises(LogMismatch, match="were removed"):
        reg.check(model="tiny", version="1", proof=proof)


def test_a_resumed_check_sees_a_rewritten_head(published, tmp_path):
    """Entries rewritten after a check and re-signed by the registry key (an
    operator rewriting history): the head no longer extends what was checked."""
    reg, url, proof = published
    assert reg.check(model="tiny", version="1", proof=proof).valid
    reg.known_heads = None  # only what this process checked before stands in the way
    conn = RawSql(url)
    body = bytes(conn.execute("select body from log_entries where idx=3").fetchone()[0])
    conn.execute("update log_entries set body=? where idx=3", (body[:-1] + bytes([body[-1] ^ 1]),))
    conn.execute("delete from log_nodes")
    fr = merkle.Frontier(0, [])
    for (b,) in conn.execute("select body from log_entries order by idx").fetchall():
        for lv, ix, h in fr.append(merkle.leaf_hash(bytes(b))):
            conn.execute("insert into log_nodes(level, idx, hash) values (?,?,?)", (lv, ix, h))
    n = fr.size
    k = read_keystore(tmp_path / "r.key")
    conn.execute("delete from tree_heads")
    conn.execute("insert into tree_heads values (?, ?, 1, ?)", (n, fr.root(), k.sign(tree_head_message(n, fr.root(), 1))))
    conn.commit()
    conn.close()
    with pytest.raises(LogMismatch):
        reg.check(model="tiny", version="1", proof=proof)


def test_version_published_after_the_latest_signed_head_is_refused_until_one_covers_it(registry_url, tmp_path,
                                                                                       proof_and_model):
    art, proof = proof_and_model
    reg, _, key_path = Registry.init(registry_url, tmp_path / "r.key")
    reg.key = None  # a writer without the registry key: no head after the publish
    publish_local(reg, key("acme"), art, "tiny", "1", CARD)
    with pytest.raises(LogMismatch, match="not covered by a signed tree head yet"):
        reg.check(model="tiny", version="1", proof=proof)
    reg.key = read_keystore(key_path)
    reg.sign_head()
    assert reg.check(model="tiny", version="1", proof=proof).valid
