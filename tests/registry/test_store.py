"""Registry writes and reads on a real SQLite file and a real PostgreSQL:
publish, refuse duplicates, all-or-nothing writes, verdicts from the real
verifier, revocation, co-signed (aggregated) attestations."""

from __future__ import annotations

import pytest
from registry_helpers import CARD, bad_proofs, key, make_model_dir, publish
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zkaudit.registry import records
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.client import sign_publication
from zkaudit.registry.encoding import message
from zkaudit.registry.errors import AlreadyExists, BadSignature, Forbidden, NotFound, RegistryError
from zkaudit.registry.keys import aggregate, read_keystore
from zkaudit.registry.models import LogEntry, LogNode, Model, ModelVersion, Signer
from zkaudit.registry.store import Gone, Registry


def _counts(reg) -> tuple[int, ...]:
    with Session(reg.engine) as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Signer, Model, ModelVersion, LogEntry,
                                                                              LogNode))


def test_publish_read_verify_revoke(registry, tmp_path):
    out = publish(registry, tmp_path, "cxr-triage", "1.0")
    v = registry.show_version("cxr-triage", "1.0")
    art = read_model_dir(tmp_path / "cxr-triage-1.0-0")
    assert v["circuit_digest"] == out["circuit_digest"] == art.circuit_digest
    assert v["weight_commitment_digest"] == art.weight_commitment_digest
    assert v["summary"] == art.summary and v["model_card"]["claimed_metrics"] == {"auroc": 0.91, "sensitivity": 0.88}
    assert registry.artifacts("cxr-triage", "1.0") == (art.circuit_bin, art.weight_commitment)
    [att] = registry.attestations("cxr-triage", "1.0")
    assert att["tag"] == records.PUBLICATION and att["signers"] == ["acme"]

    before = _counts(registry)
    with pytest.raises(AlreadyExists, match="already published"):
        publish(registry, tmp_path / "again", "cxr-triage", "1.0", seed=5)
    assert _counts(registry) == before

    # Checks read the entry through the log, so it must be under a signed head.
    registry.key = read_keystore(registry.key_path)
    registry.sign_head()
    registry.key = None
    # The registry runs the real verifier and stores its verdict, reason included.
    for name, proof in bad_proofs().items():
        got = registry.submit_proof(model="cxr-triage", version="1.0", proof=proof, submitter=key("acme").public_key)
        assert got["valid"] is False and got["reason"] == registry.check(model="cxr-triage", version="1.0",
                                                                        proof=proof).reason, name
    assert [p["valid"] for p in registry.proofs("cxr-triage", "1.0")] == [False] * 3
    with pytest.raises(NotFound, match="unknown model 'nope'"):
        registry.submit_proof(model="nope", version="1", proof=b"x", submitter=key("acme").public_key)

    stmt = records.revocation(model="cxr-triage", version="1.0", reason="calibration drift on 2024 scanners")
    with pytest.raises(BadSignature):  # a signature over another statement type does not carry over
        registry.revoke(**stmt, signer=key("acme").public_key,
                        signature=key("acme").sign(message(records.ENDORSEMENT, stmt)))
    registry.revoke(**stmt, signer=key("acme").public_key,
                    signature=key("acme").sign(records.revocation_message(stmt)))
    verdict = registry.check(model="cxr-triage", version="1.0", proof=bad_proofs()["unknown statement"])
    assert not verdict.valid and verdict.reason == "cxr-triage@1.0 was revoked: calibration drift on 2024 scanners"
    with pytest.raises(Gone):
        registry.submit_proof(model="cxr-triage", version="1.0", proof=b"x", submitter=key("acme").public_key)

    registry.key = read_keystore(registry.key_path)
    registry.sign_head()
    rep = registry.verify_log()
    assert rep.ok, rep.problems
    assert rep.size == registry.log_size() and rep.heads_checked == 3  # init's, after publish, and this one
    assert registry.head()["signed_head"]["tree_size"] == rep.size


def test_failed_publish_leaves_no_row_and_no_log_entry(registry, tmp_path):
    publish(registry, tmp_path, "sepsis", "1")
    before = _counts(registry)
    # A second vendor tries to add a version to acme's model. Its signer row is
    # inserted inside the transaction before the ownership check fails; the
    # rollback must take the row and its log entry with it.
    with pytest.raises(Forbidden, match="belongs to vendor 'acme'"):
        publish(registry, tmp_path, "sepsis", "2", seed=1, signer="mallory")
    assert _counts(registry) == before
    assert registry.signer_role(key("mallory").public_key) is None
    # A signature by the wrong key is refused before anything is written.
    art = read_model_dir(make_model_dir(tmp_path / "forged", 9))
    with pytest.raises(BadSignature):
        registry.publish(art, model="sepsis", version="3", card=CARD, vendor=key("acme").public_key,
                         signature=sign_publication(key("mallory"), art, "sepsis", "3", CARD))
    assert _counts(registry) == before
    assert registry.verify_log().ok


def test_co_signed_verdict(sqlite_url, tmp_path):
    registry, _, _ = Registry.init(sqlite_url, tmp_path / "registry.key")
    registry.key = None  # no head per write: this test is about aggregate signatures
    publish(registry, tmp_path, "ecg", "2")
    proof = bad_proofs()["unknown statement"]
    got = registry.submit_proof(model="ecg", version="2", proof=proof, submitter=key("acme").public_key)
    for name in ("fda-reviewer", "ema-reviewer"):
        k = key(name)
        registry.register_signer(name=name, role="regulator", public_key=k.public_key, pop=k.proof_of_possession())
    stmt = records.verdict(model="ecg", version="2", proof_digest=got["proof_digest"], valid=False,
                           verifier_version=got["verifier_version"])
    msg = message(records.VERDICT, stmt)
    signers = [key("fda-reviewer").public_key, key("ema-reviewer").public_key]
    sig = aggregate([key("fda-reviewer").sign(msg), key("ema-reviewer").sign(msg)])
    with pytest.raises(BadSignature):  # the same aggregate does not vouch for an endorsement of the same fields
        registry.attest(tag=records.ENDORSEMENT, statement=stmt, signers=signers, signature=sig)
    with pytest.raises(RegistryError, match="differs from the verdict"):
        registry.attest(tag=records.VERDICT, statement={**stmt, "valid": True}, signers=signers, signature=sig)
    out = registry.attest(tag=records.VERDICT, statement=stmt, signers=signers, signature=sig)
    assert out["signers"] == ["fda-reviewer", "ema-reviewer"]
    with pytest.raises(AlreadyExists):
        registry.attest(tag=records.VERDICT, statement=stmt, signers=signers, signature=sig)
    tags = [a["tag"] for a in registry.attestations("ecg", "2")]
    assert tags == [records.PUBLICATION, records.VERDICT]


def test_names_are_validated(registry, tmp_path):
    art = read_model_dir(make_model_dir(tmp_path / "m", 1))
    for bad in ("", "../etc", "a@b", "x" * 101):
        with pytest.raises(RegistryError, match="invalid model name"):
            registry.publish(art, model=bad, version="1", card=CARD, vendor=key("acme").public_key, signature=b"")
