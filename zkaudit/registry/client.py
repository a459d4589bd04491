"""What a signer does on its own machine before talking to a registry:
build and sign statements and HTTP write requests.

No HTTP library here: callers post `build_request(...)` with whatever
client they use (tests and the benchmark use httpx). Binary fields travel
as base64, keys and signatures as hex.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from zkaudit.registry import records
from zkaudit.registry.artifacts import PublicArtifacts
from zkaudit.registry.auth import sign_request
from zkaudit.registry.keys import KeyPair


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def card_from(intended_use: str = "", training_data: str = "", claimed_metrics: Any = None) -> dict[str, str]:
    metrics = claimed_metrics if isinstance(claimed_metrics, str) else json.dumps(
        claimed_metrics or {}, sort_keys=True, separators=(",", ":"))
    return records.model_card(intended_use, training_data, metrics)


def sign_publication(key: KeyPair, art: PublicArtifacts, model: str, version: str,
                     card: dict[str, str], supersedes: str | None = None) -> bytes:
    stmt = records.publication(model=model, version=version, vendor=key.public_key, circuit_digest=art.circuit_digest,
                               weight_commitment_digest=art.weight_commitment_digest, summary_json=art.summary_json,
                               card=card, supersedes=supersedes)
    return key.sign(records.publication_message(stmt))


def publish_local(reg, key: KeyPair, art: PublicArtifacts, model: str, version: str,
                  card: dict[str, str], supersedes: str | None = None) -> dict[str, Any]:
    """Publish straight into a registry database (`store.Registry`) with `key`."""
    known = reg.signer_role(key.public_key) is not None
    return reg.publish(art, model=model, version=version, card=card, vendor=key.public_key,
                       signature=sign_publication(key, art, model, version, card, supersedes),
                       vendor_name=None if known else key.name, pop=None if known else key.proof_of_possession(),
                       supersedes=supersedes)


def build_request(key: KeyPair, action: str, audience: bytes, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a signed write request to the registry whose key is `audience`."""
    return {"payload": payload, "auth": sign_request(key, action, audience, payload).to_json()}


def publish_payload(key: KeyPair, art: PublicArtifacts, model: str, version: str, card: dict[str, str],
                    *, first_use: bool, supersedes: str | None = None) -> dict[str, Any]:
    payload = {
        "model": model,
        "version": version,
        "vendor_public_key": key.public_key.hex(),
        "circuit": b64(art.circuit_bin),
        "weight_commitment": b64(art.weight_commitment),
        "summary": art.summary,
        "model_card": card,
        "signature": sign_publication(key, art, model, version, card, supersedes).hex(),
    }
    if supersedes is not None:
        payload["supersedes"] = supersedes
    if first_use:
        payload["vendor_name"] = key.name
        payload["proof_of_possession"] = key.proof_of_possession().hex()
    return payload


# -- the consent chain -------------------------------------------------------


def _first_use(reg, key: KeyPair) -> dict[str, Any]:
    known = reg.signer_role(key.public_key) is not None
    return {"signer_name": None if known else key.name, "pop": None if known else key.proof_of_possession()}


def record_signature(key: KeyPair, tag: str, record_digest: bytes, signed: dict | None, what: str) -> bytes:
    """The signature a record file carries (`zkaudit data commit` / `consent commit`
    wrote it), which must be `key`'s; a record written unsigned is signed now."""
    from zkaudit.registry.errors import BadSignature

    if signed is None:
        return key.sign(records.data_record_message(tag, record_digest))
    try:
        pk, sig = bytes.fromhex(signed["public_key"]), bytes.fromhex(signed["signature"])
    except (KeyError, TypeError, ValueError):
        raise BadSignature(f"the {what}'s signature block is malformed") from None
    if pk != key.public_key:
        raise BadSignature(f"the {what} was signed by {signed.get('signer')!r} ({pk.hex()[:16]}...), not by "
                           f"--key {key.name!r}", hint="publish with the key that signed it")
    return sig


def publish_dataset_local(reg, key: KeyPair, record: dict, signed: dict | None) -> dict[str, Any]:
    from zkaudit.data.canonical import digest

    sig = record_signature(key, records.DATASET_RECORD, digest(record), signed, "dataset record")
    return reg.publish_dataset(record, signer=key.public_key, signature=sig, **_first_use(reg, key))


def publish_consent_local(reg, key: KeyPair, record: dict, signed: dict | None, proof: bytes) -> dict[str, Any]:
    from zkaudit.data.canonical import digest

    sig = record_signature(key, records.CONSENT_TABLE_RECORD, digest(record), signed, "consent-table record")
    return reg.publish_consent_table(record, proof, signer=key.public_key, signature=sig, **_first_use(reg, key))


def consent_proof_statement(proof: bytes, *, allow_not_zero_knowledge: bool) -> dict[str, Any]:
    """The statement a prover signs for `proof`: the records it names are read
    from the proof's own statement (parsed strictly; the registry verifies the
    whole proof and refuses a statement that does not match it)."""
    from zkaudit.data.canonical import digest
    from zkaudit.errors import MalformedProof
    from zkaudit.registry.encoding import sha256_hex
    from zkaudit.statements.consent.proof import STATEMENT, ConsentProof
    from zkaudit.statements.envelope import parse_envelope

    env = parse_envelope(proof)
    if env.statement != STATEMENT:
        raise MalformedProof("not a consent proof", where="envelope.statement", expected=STATEMENT,
                             got=env.statement)
    st = ConsentProof.from_bytes(env.body).statement
    try:
        ds, tb = digest(st["dataset"]).hex(), digest(st["consent_table"]).hex()
    except (KeyError, ValueError):
        raise MalformedProof("consent statement does not name its dataset and consent table", where="consent") \
            from None
    return records.consent_proof(proof_digest=sha256_hex(proof), dataset=ds, consent_table=tb,
                                 allow_not_zero_knowledge=allow_not_zero_knowledge)


def publish_consent_proof_local(reg, key: KeyPair, proof: bytes, *, allow_not_zero_knowledge: bool) -> dict[str, Any]:
    stmt = consent_proof_statement(proof, allow_not_zero_knowledge=allow_not_zero_knowledge)
    sig = key.sign(records.consent_proof_message(stmt))
    return reg.publish_consent_proof(proof, signer=key.public_key, signature=sig,
                                     allow_not_zero_knowledge=allow_not_zero_knowledge, **_first_use(reg, key))
