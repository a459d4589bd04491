"""Signed HTTP write requests: who sent it, that it is fresh, and what it covers.

A write request carries `auth = {signer, nonce, timestamp, signature}` next
to its JSON `payload`. The signer signs `records.request(...)`: the action,
this registry's public key (the audience), the nonce, the timestamp and
sha256(encode(payload)). The registry refuses a timestamp more than
`MAX_SKEW_S` away from its clock and a nonce it has already accepted (nonces
are stored in the same transaction as the write), so a captured request can
be neither replayed nor retargeted, and no byte of its payload can change.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from zkaudit.registry import encoding, records
from zkaudit.registry.errors import RegistryError, ReplayedRequest
from zkaudit.registry.keys import KeyPair, signature_item, verify

MAX_SKEW_S = 300
_NONCE_RE = re.compile(r"[0-9a-f]{32,64}")


def payload_digest(payload: Any) -> str:
    return encoding.sha256_hex(encoding.encode(payload))


@dataclass(frozen=True)
class RequestAuth:
    action: str
    signer: bytes
    nonce: str
    timestamp: int
    payload_digest: str
    signature: bytes

    def message(self, audience: bytes) -> bytes:
        return records.request(action=self.action, audience=audience, signer=self.signer, nonce=self.nonce,
                               timestamp=self.timestamp, payload_digest=self.payload_digest)

    def check_fresh(self, now: float | None = None) -> None:
        if _NONCE_RE.fullmatch(self.nonce) is None:
            raise RegistryError("request nonce must be 32-64 lowercase hex digits")
        skew = (time.time() if now is None else now) - self.timestamp
        if abs(skew) > MAX_SKEW_S:
            raise ReplayedRequest(f"request timestamp is {int(skew)} s away from the registry clock (limit {MAX_SKEW_S} s)")

    def verify(self, audience: bytes) -> None:
        verify(self.signer, self.message(audience), self.signature, what=f"{self.action} request")

    def batch_item(self, audience: bytes) -> tuple[bytes, bytes, bytes, str]:
        """This request's signature as a `keys.verify_batch` item (the signer's
        other signatures in the same request are checked with it, at once)."""
        return signature_item(self.message(audience), self.signature, what=f"{self.action} request")

    def to_json(self) -> dict[str, Any]:
        return {"signer": self.signer.hex(), "nonce": self.nonce, "timestamp": self.timestamp,
                "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, action: str, doc: Any, payload: Any) -> "RequestAuth":
        try:
            return cls(action, bytes.fromhex(doc["signer"]), str(doc["nonce"]), int(doc["timestamp"]),
                       payload_digest(payload), bytes.fromhex(doc["signature"]))
        except (KeyError, TypeError, ValueError, encoding.EncodingError) as exc:
            raise RegistryError(f"malformed request auth: {exc}") from None


def sign_request(key: KeyPair, action: str, audience: bytes, payload: Any) -> RequestAuth:
    unsigned = RequestAuth(action, key.public_key, secrets.token_hex(16), int(time.time()), payload_digest(payload), b"")
    return RequestAuth(**{**unsigned.__dict__, "signature": key.sign(unsigned.message(audience))})
