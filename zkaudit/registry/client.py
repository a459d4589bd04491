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
                     card: dict[str, str]) -> bytes:
    stmt = records.publication(model=model, version=version, vendor=key.public_key, circuit_digest=art.circuit_digest,
                               weight_commitment_digest=art.weight_commitment_digest, summary_json=art.summary_json,
                               card=card)
    return key.sign(records.publication_message(stmt))


def publish_local(reg, key: KeyPair, art: PublicArtifacts, model: str, version: str,
                  card: dict[str, str]) -> dict[str, Any]:
    """Publish straight into a registry database (`store.Registry`) with `key`."""
    known = reg.signer_role(key.public_key) is not None
    return reg.publish(art, model=model, version=version, card=card, vendor=key.public_key,
                       signature=sign_publication(key, art, model, version, card),
                       vendor_name=None if known else key.name, pop=None if known else key.proof_of_possession())


def build_request(key: KeyPair, action: str, audience: bytes, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a signed write request to the registry whose key is `audience`."""
    return {"payload": payload, "auth": sign_request(key, action, audience, payload).to_json()}


def publish_payload(key: KeyPair, art: PublicArtifacts, model: str, version: str, card: dict[str, str],
                    *, first_use: bool) -> dict[str, Any]:
    payload = {
        "model": model,
        "version": version,
        "vendor_public_key": key.public_key.hex(),
        "circuit": b64(art.circuit_bin),
        "weight_commitment": b64(art.weight_commitment),
        "summary": art.summary,
        "model_card": card,
        "signature": sign_publication(key, art, model, version, card).hex(),
    }
    if first_use:
        payload["vendor_name"] = key.name
        payload["proof_of_possession"] = key.proof_of_possession().hex()
    return payload
