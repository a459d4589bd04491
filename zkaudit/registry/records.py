"""The statements signers sign, one builder and one tag per statement type.

A vendor publishing a model version signs `publication(...)` under
PUBLICATION; a vendor or regulator withdrawing one signs `revocation(...)`
under REVOCATION (a compromised signer key: KEY_REVOCATION; a verifier
version with a soundness bug: VERIFIER_REVOCATION); regulators co-signing a verdict the registry reached sign
`verdict(...)` under VERDICT. A custodian signs a dataset record and an
IRB a consent-table record as `message(TAG, record digest)` under
DATASET_RECORD / CONSENT_TABLE_RECORD (what `zkaudit data commit` and
`zkaudit consent commit` write beside the record); a prover publishing a
consent proof signs `consent_proof(...)` under CONSENT_PROOF. Each tag is part of the signed bytes
(`encoding.message`), so no signature moves from one statement type to
another. Builders take only plain values so the CLI, the HTTP client and the
server construct byte-identical statements.
"""

from __future__ import annotations

from typing import Any

from zkaudit.registry.encoding import message

PUBLICATION = "model-version"
REVOCATION = "revocation"
KEY_REVOCATION = "key-revocation"
VERIFIER_REVOCATION = "verifier-revocation"
VERDICT = "verdict"
ENDORSEMENT = "endorsement"
REQUEST = "request"
# The tags `zkaudit/cli/_records.py` signs data records under (by record type).
DATASET_RECORD = "zkaudit/dataset-record/v1"
CONSENT_TABLE_RECORD = "zkaudit/consent-table-record/v1"
CONSENT_PROOF = "consent-proof"

# Statement types that may be submitted as (co-)signed attestations over HTTP.
ATTESTATION_TAGS = (VERDICT, ENDORSEMENT)


def model_card(intended_use: str = "", training_data: str = "", claimed_metrics_json: str = "{}") -> dict[str, str]:
    return {"intended_use": intended_use, "training_data": training_data, "claimed_metrics": claimed_metrics_json}


def publication(*, model: str, version: str, vendor: bytes, circuit_digest: str, weight_commitment_digest: str,
                summary_json: str, card: dict[str, str], supersedes: str | None = None) -> dict[str, Any]:
    """`supersedes` (a version of the same model) makes this version its
    successor: same circuit, the same weights under a hiding commitment
    (`zkaudit registry upgrade-commitment`). The field is present only then, so
    every statement signed before it existed encodes exactly as it did."""
    stmt = {
        "model": model,
        "version": version,
        "vendor": vendor,
        "circuit_digest": circuit_digest,
        "weight_commitment_digest": weight_commitment_digest,
        "summary": summary_json,
        "model_card": card,
    }
    if supersedes is not None:
        stmt["supersedes"] = supersedes
    return stmt


def publication_message(stmt: dict[str, Any]) -> bytes:
    return message(PUBLICATION, stmt)


def revocation(*, model: str, version: str, reason: str) -> dict[str, Any]:
    return {"model": model, "version": version, "reason": reason}


def revocation_message(stmt: dict[str, Any]) -> bytes:
    return message(REVOCATION, stmt)


def key_revocation(*, public_key: bytes, from_time: int, reason: str) -> dict[str, Any]:
    """A signer key withdrawn from `from_time` (Unix seconds) on: signed by the key itself or a regulator."""
    return {"public_key": bytes(public_key), "from_time": int(from_time), "reason": reason}


def key_revocation_message(stmt: dict[str, Any]) -> bytes:
    return message(KEY_REVOCATION, stmt)


def verifier_revocation(*, verifier_version: str, reason: str) -> dict[str, Any]:
    """A verifier version withdrawn (a soundness bug): signed by a regulator."""
    return {"verifier_version": verifier_version, "reason": reason}


def verifier_revocation_message(stmt: dict[str, Any]) -> bytes:
    return message(VERIFIER_REVOCATION, stmt)


def verdict(*, model: str, version: str, proof_digest: str, valid: bool, verifier_version: str) -> dict[str, Any]:
    return {"model": model, "version": version, "proof_digest": proof_digest, "valid": valid,
            "verifier_version": verifier_version}


def data_record_message(tag: str, record_digest: bytes) -> bytes:
    return message(tag, bytes(record_digest))


def consent_proof(*, proof_digest: str, dataset: str, consent_table: str,
                  allow_not_zero_knowledge: bool) -> dict[str, Any]:
    """What a prover signs to publish a consent proof: the proof (by SHA-256),
    the dataset and consent-table records it is about (by record digest),
    and whether it asks for publication although the proof is not
    zero-knowledge (only for synthetic or public data: the prover's signed word)."""
    return {"proof_digest": proof_digest, "dataset": dataset, "consent_table": consent_table,
            "allow_not_zero_knowledge": bool(allow_not_zero_knowledge)}


def consent_proof_message(stmt: dict[str, Any]) -> bytes:
    return message(CONSENT_PROOF, stmt)


def request(*, action: str, audience: bytes, signer: bytes, nonce: str, timestamp: int, payload_digest: str) -> bytes:
    """What an HTTP write's signer signs: the action, this registry (by its
    public key, so a request cannot be replayed against another registry),
    a fresh nonce, the time, and the digest of the request's payload."""
    return message(REQUEST, {"action": action, "audience": audience, "signer": signer, "nonce": nonce,
                             "timestamp": timestamp, "payload_digest": payload_digest})
