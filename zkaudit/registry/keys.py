"""BLS12-381 keys and signatures (IETF BLS, proof-of-possession scheme).

Public keys are G1 points (48 bytes), signatures G2 points (96 bytes), as in
`py_ecc.bls.G2ProofOfPossession`. The PoP scheme is what makes aggregation
safe: every key is registered with a proof of possession (a signature on
the key itself, under a separate hash-to-curve domain), which rules out
rogue-key attacks, so several signers' signatures on *one* statement can be
checked with one `FastAggregateVerify`.

Every message passed in here comes from `encoding.message(tag, value)`:
canonical and domain-separated per statement type.

Cost (pure Python, 2-core machine): sign ~0.3 s, verify ~0.7 s, PoP verify
~0.6 s, aggregate verify of two ~0.9 s. Callers keep the count low.

Keystore: a JSON file created with mode 0600 (O_EXCL: never overwritten),
holding the 32-byte secret key, the public key and a display name. Loading
refuses a file that group or others can read, like ssh does.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from py_ecc.bls import G2ProofOfPossession as _bls
from py_ecc.optimized_bls12_381 import curve_order

from zkaudit.errors import ZkauditError
from zkaudit.registry.errors import BadSignature

PUBKEY_LEN = 48
SIGNATURE_LEN = 96
KEYSTORE_VERSION = 1
KEYSTORE_SCHEME = "bls12-381-g2-pop"


@dataclass(frozen=True)
class KeyPair:
    """A signing key with its public key and the name it signs as."""

    name: str
    secret_key: int
    public_key: bytes

    @classmethod
    def generate(cls, name: str) -> "KeyPair":
        sk = _bls.KeyGen(os.urandom(32))
        return cls(name=name, secret_key=sk, public_key=bytes(_bls.SkToPk(sk)))

    def sign(self, msg: bytes) -> bytes:
        return bytes(_bls.Sign(self.secret_key, msg))

    def proof_of_possession(self) -> bytes:
        return bytes(_bls.PopProve(self.secret_key))


def write_keystore(path: Path, key: KeyPair) -> None:
    """Create `path` (mode 0600); refuse to overwrite an existing file."""
    doc = {
        "version": KEYSTORE_VERSION,
        "scheme": KEYSTORE_SCHEME,
        "name": key.name,
        "public_key": key.public_key.hex(),
        "secret_key": key.secret_key.to_bytes(32, "big").hex(),
    }
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ZkauditError(f"{path} already exists; refusing to overwrite a key") from None
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")


def read_keystore(path: Path) -> KeyPair:
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ZkauditError(f"key file {path} not found", hint="create one with `zkaudit keys gen --out FILE`") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ZkauditError(f"key file {path} is accessible by other users (mode {oct(mode & 0o777)})", hint="chmod 600 it")
    try:
        doc = json.loads(path.read_text())
        if doc.get("version") != KEYSTORE_VERSION or doc.get("scheme") != KEYSTORE_SCHEME:
            raise ValueError(f"unsupported keystore version/scheme {doc.get('version')!r}/{doc.get('scheme')!r}")
        sk = int.from_bytes(bytes.fromhex(doc["secret_key"]), "big")
        pk = bytes.fromhex(doc["public_key"])
        name = str(doc["name"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ZkauditError(f"key file {path} is not a zkaudit keystore: {exc}") from None
    if not 0 < sk < curve_order:
        raise ZkauditError(f"key file {path} is not a zkaudit keystore: its secret key is not in [1, group order)")
    if bytes(_bls.SkToPk(sk)) != pk:
        raise ZkauditError(f"key file {path}: public key does not match the secret key")
    return KeyPair(name=name, secret_key=sk, public_key=pk)


def check_public_key(pk: bytes) -> None:
    if len(pk) != PUBKEY_LEN or not _bls.KeyValidate(pk):
        raise BadSignature("public key is not a valid BLS12-381 G1 point", hint=f"{len(pk)} bytes")


def verify(pk: bytes, msg: bytes, sig: bytes, *, what: str) -> None:
    """Raise `BadSignature` unless `sig` is `pk`'s signature on `msg`."""
    if len(sig) != SIGNATURE_LEN or not _safe(_bls.Verify, pk, msg, sig):
        raise BadSignature(f"invalid signature on {what}")


def verify_pop(pk: bytes, pop: bytes) -> None:
    check_public_key(pk)
    if len(pop) != SIGNATURE_LEN or not _safe(_bls.PopVerify, pk, pop):
        raise BadSignature("invalid proof of possession for the public key")


def aggregate(signatures: list[bytes]) -> bytes:
    return bytes(_bls.Aggregate(signatures))


def verify_aggregate(pks: list[bytes], msg: bytes, sig: bytes, *, what: str) -> None:
    """All of `pks` signed `msg` (keys must have been registered with a PoP)."""
    if not pks or len(set(pks)) != len(pks):
        raise BadSignature(f"co-signers of {what} must be distinct and non-empty")
    if len(sig) != SIGNATURE_LEN or not _safe(_bls.FastAggregateVerify, pks, msg, sig):
        raise BadSignature(f"invalid aggregate signature on {what}")


def _safe(fn, *args) -> bool:
    # py_ecc raises on bytes that are not curve points; that is just "invalid".
    try:
        return bool(fn(*args))
    except Exception:
        return False
