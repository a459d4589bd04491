"""Signing and checking the public records of datasets and consent tables
(BLS keys of `zkaudit.registry.keys`), shared by `data`, `consent` and
`prove-consent`. The signed message is `encoding.message(TAG, digest)`
with the record's canonical digest."""

from __future__ import annotations

from pathlib import Path

from zkaudit.registry.records import CONSENT_TABLE_RECORD, DATASET_RECORD

TAGS = {"dataset/v1": DATASET_RECORD, "consent-table/v1": CONSENT_TABLE_RECORD}


def sign_record(key_path: Path, doc: dict, record_digest: bytes) -> dict:
    from zkaudit.registry.encoding import message
    from zkaudit.registry.keys import KEYSTORE_SCHEME, read_keystore

    key = read_keystore(key_path)
    sig = key.sign(message(TAGS[doc["type"]], record_digest))
    return {"scheme": KEYSTORE_SCHEME, "signer": key.name, "public_key": key.public_key.hex(), "signature": sig.hex()}


def check_signature(doc: dict, record_digest: bytes, signature, what: str) -> str:
    """The signer's name; raises BadSignature (a rejection) on a missing or wrong signature."""
    from zkaudit.registry.encoding import message
    from zkaudit.registry.errors import BadSignature
    from zkaudit.registry.keys import verify

    if not isinstance(signature, dict) or not {"signer", "public_key", "signature"} <= set(signature):
        raise BadSignature(f"the {what} is not signed")
    try:
        pk, sig = bytes.fromhex(signature["public_key"]), bytes.fromhex(signature["signature"])
    except (TypeError, ValueError):
        raise BadSignature(f"the {what}'s signature is not hex") from None
    verify(pk, message(TAGS[doc["type"]], record_digest), sig, what=what)
    return str(signature["signer"])
