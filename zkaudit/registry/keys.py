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
~0.6 s, aggregate verify of two ~0.9 s. Callers keep the count low: several
signatures by one key are checked as one batch (`verify_batch`), and a
key's validation (decompression, subgroup check) is cached.

Keystore: a JSON file created with mode 0600 (O_EXCL: never overwritten),
holding the 32-byte secret key, the public key and a display name. Loading
refuses a file that group or others can read, like ssh does.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_recursion_limit = sys.getrecursionlimit()
from py_ecc.bls import G2ProofOfPossession as _bls  # noqa: E402
from py_ecc.bls.g2_primitives import pubkey_to_G1, signature_to_G2, subgroup_check  # noqa: E402
from py_ecc.bls.hash_to_curve import clear_cofactor_G2, hash_to_field_FQ2, map_to_curve_G2  # noqa: E402
from py_ecc.optimized_bls12_381 import FQ12, G1, Z2, add, curve_order, final_exponentiate, multiply, neg, pairing  # noqa: E402

from zkaudit.errors import ZkauditError  # noqa: E402
from zkaudit.registry.errors import BadSignature  # noqa: E402

# py_ecc's __init__ raises the interpreter's recursion limit to 100000, after
# which a deeply nested JSON document (an input file, a request body) overflows
# the C stack instead of raising RecursionError. Its recursive scalar
# multiplication needs ~640 frames at most (the G2 cofactor), within the default.
sys.setrecursionlimit(_recursion_limit)

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


@lru_cache(maxsize=4096)
def _pubkey_point(pk: bytes):
    """The G1 point of a valid public key (decompressed, on the curve, in the
    subgroup, not the identity), or None. Cached: a registered signer's key is
    validated once per process, not on every request."""
    if len(pk) != PUBKEY_LEN or not _safe(_bls.KeyValidate, pk):
        return None
    return pubkey_to_G1(pk)


def check_public_key(pk: bytes) -> None:
    if _pubkey_point(bytes(pk)) is None:
        raise BadSignature("public key is not a valid BLS12-381 G1 point", hint=f"{len(pk)} bytes")


def verify(pk: bytes, msg: bytes, sig: bytes, *, what: str) -> None:
    """Raise `BadSignature` unless `sig` is `pk`'s signature on `msg`."""
    verify_batch(pk, [(msg, sig, _bls.DST, f"invalid signature on {what}")])


def verify_pop(pk: bytes, pop: bytes) -> None:
    check_public_key(pk)
    verify_batch(pk, [pop_item(pk, pop)])


def pop_item(pk: bytes, pop: bytes) -> tuple[bytes, bytes, bytes, str]:
    """A proof of possession as a `verify_batch` item: `pk` signed under the PoP domain."""
    return (bytes(pk), pop, _bls.POP_TAG, "invalid proof of possession for the public key")


def signature_item(msg: bytes, sig: bytes, *, what: str) -> tuple[bytes, bytes, bytes, str]:
    return (msg, sig, _bls.DST, f"invalid signature on {what}")


def verify_batch(pk: bytes, items: list[tuple[bytes, bytes, bytes, str]]) -> None:
    """Check several signatures by one key at once: items are (message,
    signature, hash-to-curve DST, error message). Raises `BadSignature` with
    the first failing item's message.

    Each signature s_i must satisfy e(s_i, g1) = e(H_i(m_i), pk). With fresh
    random 64-bit r_i the batch checks

        e(sum r_i s_i, g1) * e(sum r_i H_i, -pk) = 1

    which an invalid item passes with probability <= 2^-64 (the r_i are
    chosen after the signatures; each s_i is first checked to lie in the
    prime-order subgroup, so no component can cancel outside it). Cost: two
    Miller loops and one final exponentiation for the batch instead of per
    signature, and one cofactor clearing: H_i = h_eff * (q0_i + q1_i), so
    sum r_i H_i = h_eff * sum r_i (q0_i + q1_i). A publish (PoP + request +
    statement) drops from ~2.4 s to ~1 s in py_ecc. A failing batch is
    re-checked item by item only to name the culprit."""
    point = _pubkey_point(bytes(pk))
    if point is None:
        raise BadSignature("public key is not a valid BLS12-381 G1 point", hint=f"{len(pk)} bytes")
    sig_sum, hash_sum = Z2, Z2
    for msg, sig, dst, err in items:
        s = _signature_point(sig)
        if s is None:
            raise BadSignature(err)
        r = secrets.randbits(64) | 1
        u0, u1 = hash_to_field_FQ2(msg, 2, dst, _bls.xmd_hash_function)
        q = add(map_to_curve_G2(u0), map_to_curve_G2(u1))
        sig_sum, hash_sum = add(sig_sum, multiply(s, r)), add(hash_sum, multiply(q, r))
    h = clear_cofactor_G2(hash_sum)
    if final_exponentiate(pairing(sig_sum, G1, final_exponentiate=False)
                          * pairing(h, neg(point), final_exponentiate=False)) == FQ12.one():
        return
    for msg, sig, dst, err in items:
        if not _safe(_bls._CoreVerify, bytes(pk), msg, sig, dst):
            raise BadSignature(err)
    raise BadSignature(items[0][3])  # unreachable unless py_ecc disagrees with the batch: refuse anyway


def _signature_point(sig: bytes):
    if len(sig) != SIGNATURE_LEN:
        return None
    try:
        s = signature_to_G2(sig)
    except Exception:  # not a point encoding: just "invalid"
        return None
    return s if subgroup_check(s) else None


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
