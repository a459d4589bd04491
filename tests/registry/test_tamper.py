"""Edits, deletions and reorderings made directly in the database (and in an
exported copy) are each caught by verify-log, at the right entry -- on
SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import shutil

import pytest
from registry_helpers import RawSql, bad_proofs, copy_registry, key, publish

from zkaudit.cli.main import main
from zkaudit.registry import merkle
from zkaudit.registry.audit import audit_export
from zkaudit.registry.encoding import decode, encode
from zkaudit.registry.keys import read_keystore
from zkaudit.registry.log import SignedTreeHead, tree_head_message
from zkaudit.registry.store import Registry


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A registry with a few writes, a signed head after the last; copied per test."""
    d = tmp_path_factory.mktemp("pristine")
    reg, _, key_path = Registry.init(str(d / "r.db"), d / "r.key")
    reg.key = None
    publish(reg, d, "cxr", "1")  # entries 1 signer, 2 model, 3 version, 4 attestation
    publish(reg, d, "cxr", "2", seed=1)  # 5 version, 6 attestation
    for i, proof in enumerate(bad_proofs().values()):  # 7, 8, 9 proofs
        reg.submit_proof(model="cxr", version=str(1 + i % 2), proof=proof, submitter=key("acme").public_key)
    reg.key = read_keystore(key_path)
    reg.sign_head()
    head = reg.head()
    reg.close()
    return d, head


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, pristine, tmp_path):
    """A copy of the pristine registry on each backend, and raw SQL access to it."""
    d, head = pristine
    shutil.copy(d / "r.key", tmp_path / "r.key")
    if request.param == "sqlite":
        shutil.copy(d / "r.db", tmp_path / "r.db")
        url = str(tmp_path / "r.db")
    else:
        url = request.getfixturevalue("pg_url")
        copy_registry(str(d / "r.db"), url)
    conn = RawSql(url)
    yield conn, url, head
    conn.close()


def _first_bad(url: str, **kw):
    rep = Registry(url).verify_log(**kw)
    assert not rep.ok
    return rep.first


def _body(conn, idx):
    return bytes(conn.execute("select body from log_entries where idx=?", (idx,)).fetchone()[0])


def _rehash_everything(conn):
    """What an attacker with write access but without the registry key can do:
    recompute every leaf and node so the stored hashes are self-consistent."""
    conn.execute("delete from log_nodes")
    fr = merkle.Frontier(0, [])
    for (body,) in conn.execute("select body from log_entries order by idx").fetchall():
        for lv, ix, h in fr.append(merkle.leaf_hash(bytes(body))):
            conn.execute("insert into log_nodes(level, idx, hash) values (?,?,?)", (lv, ix, h))
    conn.commit()
    return fr


def test_pristine_log_verifies(db):
    _, url, head = db
    rep = Registry(url).verify_log()
    assert rep.ok and rep.size == 10 and head["signed_head"]["tree_size"] == 10


def test_edited_row_is_detected(db):
    conn, url, _ = db
    conn.execute("update model_versions set intended_use='cures everything' where version='2'")
    conn.commit()
    assert _first_bad(url) == (5, "model_versions row id=2 differs from log entry 5 in model_card")


def test_edited_verdict_is_detected(db):
    conn, url, _ = db
    conn.execute("update proofs set valid=true, reason='proof verified' where log_index=8")
    conn.commit()
    assert _first_bad(url) == (8, "proofs row id=2 differs from log entry 8 in valid, reason")


def test_swapped_circuit_bytes_are_detected(db):
    conn, url, _ = db
    conn.execute("update model_versions set circuit_bin=? where version='1'", (b"\x00",))
    conn.commit()
    assert _first_bad(url) == (3, "model_versions row id=1: stored circuit does not hash to its digest")


def test_edited_log_entry_is_detected(db):
    conn, url, _ = db
    doc = decode(_body(conn, 4))
    doc["time"] += 1
    conn.execute("update log_entries set body=? where idx=4", (encode(doc),))
    conn.commit()
    assert _first_bad(url) == (4, "stored leaf hash does not match the entries it covers")


def test_consistently_rehashed_edit_is_caught_by_the_signed_head(db):
    conn, url, _ = db
    doc = decode(_body(conn, 6))
    doc["time"] += 1
    conn.execute("update log_entries set body=? where idx=6", (encode(doc),))
    _rehash_everything(conn)
    index, reason = _first_bad(url)
    # Heads were signed at sizes 1 and 10: the change lies between them.
    assert (index, reason) == (1, "log does not match the signed tree head at size 10: entries 1..9 were changed")


def test_deleted_log_entry_is_detected(db):
    conn, url, _ = db
    conn.execute("delete from log_entries where idx=6")
    conn.commit()
    assert _first_bad(url) == (6, "entry 6 is missing (next stored entry is 7)")


def test_deleted_tail_is_detected(db):
    conn, url, _ = db
    conn.execute("delete from proofs where log_index=9")
    conn.execute("delete from log_entries where idx=9")
    conn.commit()
    assert _first_bad(url) == (9, "the log has only 9 entries but a signed tree head has size 10: "
                                  "entries 9..9 were removed")


def test_deleted_row_is_detected(db):
    conn, url, _ = db
    conn.execute("delete from proofs where log_index=7")
    conn.commit()
    assert _first_bad(url) == (7, "log entry 7 records a proof whose row is missing")


def test_inserted_row_without_log_entry_is_detected(db):
    conn, url, _ = db
    conn.execute("insert into proofs select 99, model_version_id, submitter_id, statement, proof, proof_digest, "
                 "true, output_json, 'forged', verifier_version, created_at, 77 from proofs where log_index=7")
    conn.commit()
    assert _first_bad(url) == (77, "proofs row id=99 points to log entry 77, which is not a proof entry")


def test_reordered_entries_are_detected(db):
    conn, url, _ = db
    conn.execute("update log_entries set idx=-1 where idx=7")
    conn.execute("update log_entries set idx=7 where idx=8")
    conn.execute("update log_entries set idx=8 where idx=-1")
    conn.commit()
    assert _first_bad(url) == (7, "entry 7 is out of place: its body says index 8")


def test_operator_rewrite_with_the_registry_key_is_caught_by_a_saved_head(db, tmp_path):
    conn, url, head = db
    saved = tmp_path / "head.json"
    saved.write_text(json.dumps(head))
    doc = decode(_body(conn, 8))
    doc["record"]["reason"] = "rewritten"
    conn.execute("update log_entries set body=? where idx=8", (encode(doc),))
    conn.execute("update proofs set reason='rewritten' where log_index=8")
    conn.execute("delete from tree_heads")
    fr = _rehash_everything(conn)
    k = read_keystore(tmp_path / "r.key")
    sig = k.sign(tree_head_message(10, fr.root(), 1))
    conn.execute("insert into tree_heads values (10, ?, 1, ?)", (fr.root(), sig))
    conn.commit()
    assert Registry(url).verify_log().ok  # internally consistent and properly signed...
    since = SignedTreeHead.from_json(head["signed_head"])
    assert _first_bad(url, since=since)[1].startswith("log does not match the saved tree head at size 10")
    assert main(["registry", "verify-log", "--registry", url, "--since", str(saved)]) == 1


def test_exported_copy_is_audited(db, tmp_path):
    _, url, _ = db
    export = tmp_path / "log.json"
    assert main(["registry", "export", "--registry", url, "--out", str(export)]) == 0
    assert main(["registry", "verify-log", "--export", str(export)]) == 0
    doc = json.loads(export.read_text())
    body = bytearray.fromhex(doc["entries"][5]["body"])
    body[-1] ^= 1
    doc["entries"][5]["body"] = body.hex()
    rep = audit_export(doc)
    assert rep.first == (1, "log does not match the signed tree head at size 10: entries 1..9 were changed")
    other = key("not-the-registry").public_key
    rep = audit_export(json.loads(export.read_text()), registry_pk=other)
    assert not rep.ok and "does not verify under the registry key" in " ".join(r for _, r in rep.problems)
