"""Randomness the trainer can neither choose nor predict, and no one else sees.

    1. The trainer draws a secret tape R of 63-bit words (length fixed by the
       policy) and publishes c_R (`tape.py`: the digest of a hiding PCS
       commitment of R) in the run record, before any coin exists.
    2. The auditor's coin is its BLS signature over the run id (the digest of
       the run record, which holds c_R, h_Pi, the dataset and the auditor's
       public key): sig = Sign(sk_aud, COIN_DOMAIN || run_id). BLS signatures
       are unique, so neither side can grind it; coin = SHA-256(sig).
    3. m = SHAKE256(MASK_DOMAIN || coin || c_R || h_Pi), read as 8-byte
       little-endian words with the top bit cleared; the words used are

           u = R + m - c 2^63,   c in {0, 1}   (gadget G8)

       uniform whatever R is (m is uniform and fixed only after R), and
       secret (R is).

c_R is the digest of a hiding PCS commitment of the words (`tape.py`),
which the training proof opens inside its zero-knowledge argument and the
non-zero-knowledge checker (`check.py`) recomputes from the tape and its
seed.

BLS: the `G2ProofOfPossession` ciphersuite of IETF BLS on BLS12-381 (as in
`zkaudit.registry.keys`, so an auditor signs with a `zkaudit keys gen`
keystore). This layer sits below the registry and uses py_ecc directly."""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass

import numpy as np

from zkaudit.train.errors import CoinRejected, TapeRejected

WORD_BITS = 63
WORD_MASK = (1 << WORD_BITS) - 1
TAPE_DOMAIN = b"zkaudit/tape-commitment/v1\x00"
COIN_DOMAIN = b"zkaudit/coin/v1\x00"
COIN_VALUE_DOMAIN = b"zkaudit/coin-value/v1\x00"
MASK_DOMAIN = b"zkaudit/tape\x00"
SALT_LEN = 32
PUBKEY_LEN = 48
SIGNATURE_LEN = 96


@dataclass(frozen=True)
class Tape:
    """The secret tape: words in [0, 2^63) and the commitment's salt."""

    words: np.ndarray  # uint64
    salt: bytes

    @classmethod
    def generate(cls, num_words: int, rng: np.random.Generator | None = None) -> Tape:
        """Uniform words from the OS (or from `rng`, for reproducible tests only)."""
        if rng is None:
            raw = np.frombuffer(os.urandom(8 * num_words), dtype="<u8").astype(np.uint64)
            salt = os.urandom(SALT_LEN)
        else:
            raw = rng.integers(0, 1 << 64, size=num_words, dtype=np.uint64, endpoint=False)
            salt = rng.bytes(SALT_LEN)
        return cls(raw & np.uint64(WORD_MASK), salt)

    def commitment(self, shape) -> bytes:
        """c_R for a tape of this `tape.TapeShape` (the policy's T, B_max, d)."""
        return tape_commitment(self.words, self.salt, shape)


def tape_commitment(words: np.ndarray, salt: bytes, shape) -> bytes:
    """c_R = SHA-256 of the tape's hiding PCS commitment (`tape.py`), whose
    randomness comes from the 32-byte `salt` (the tape's secret seed)."""
    from zkaudit.train import tape as tape_pcs

    commitment, _ = tape_pcs.commit(np.ascontiguousarray(words, dtype=np.uint64), bytes(salt), shape)
    return tape_pcs.digest(commitment.to_bytes())


def check_words_shape(tape: Tape, shape) -> None:
    """The tape has the policy's length and seed length, every word below 2^63."""
    num_words = shape.num_words
    if len(tape.words) != num_words:
        raise TapeRejected("the tape has the wrong length", where="tape", expected=num_words, got=len(tape.words))
    if len(tape.salt) != SALT_LEN:
        raise TapeRejected("the tape's salt has the wrong length", where="tape", expected=SALT_LEN, got=len(tape.salt))
    if np.any(tape.words > np.uint64(WORD_MASK)):
        raise TapeRejected("a tape word is not below 2^63", where="tape")


def check_tape(tape: Tape, commitment: bytes, shape) -> None:
    """The tape opens c_R and has the policy's length, every word below 2^63."""
    check_words_shape(tape, shape)
    got = tape.commitment(shape)
    if got != commitment:
        raise TapeRejected("the tape does not open the run's tape commitment (the tape was changed)", where="tape",
                           expected=commitment.hex(), got=got.hex())


def coin_message(run_id: bytes) -> bytes:
    """The bytes the auditor signs: the coin is bound to this run, hence to c_R."""
    if len(run_id) != 32:
        raise ValueError("a run id is 32 bytes")
    return COIN_DOMAIN + bytes(run_id)


def _bls():
    limit = sys.getrecursionlimit()
    from py_ecc.bls import G2ProofOfPossession

    # py_ecc raises the recursion limit on import (see zkaudit/registry/keys.py); restore it
    sys.setrecursionlimit(limit)
    return G2ProofOfPossession


def sign_coin(secret_key: int, run_id: bytes) -> bytes:
    """The auditor's unique signature over the run (96 bytes)."""
    return bytes(_bls().Sign(secret_key, coin_message(run_id)))


def public_key(secret_key: int) -> bytes:
    return bytes(_bls().SkToPk(secret_key))


def verify_coin(auditor_public_key: bytes, run_id: bytes, signature: bytes) -> bytes:
    """The coin value SHA-256(COIN_VALUE_DOMAIN || sig), or CoinRejected."""
    pk, sig = bytes(auditor_public_key), bytes(signature)
    if len(pk) != PUBKEY_LEN or len(sig) != SIGNATURE_LEN:
        raise CoinRejected("the coin's public key or signature has the wrong length", where="coin",
                           expected=(PUBKEY_LEN, SIGNATURE_LEN), got=(len(pk), len(sig)))
    bls = _bls()
    try:
        ok = bls.KeyValidate(pk) and bls.Verify(pk, coin_message(run_id), sig)
    except Exception:  # py_ecc raises on bytes that are not curve points: just invalid
        ok = False
    if not ok:
        raise CoinRejected("the coin is not the auditor's signature over this run (invalid signature, another "
                           "key, or a run record changed after the coin)", where="coin")
    return coin_value(sig)


def coin_value(signature: bytes) -> bytes:
    return hashlib.sha256(COIN_VALUE_DOMAIN + bytes(signature)).digest()


def mask(coin: bytes, tape_commitment_: bytes, policy_digest: bytes, num_words: int) -> np.ndarray:
    """m: the public mask, 63-bit words (anyone with the coin recomputes it)."""
    raw = hashlib.shake_256(MASK_DOMAIN + bytes(coin) + bytes(tape_commitment_) + bytes(policy_digest)) \
        .digest(8 * num_words)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64) & np.uint64(WORD_MASK)


def masked_words(tape_words: np.ndarray, mask_words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u, c): u = R + m - c 2^63 with the carry c in {0, 1}."""
    total = tape_words.astype(np.uint64) + mask_words.astype(np.uint64)  # < 2^64: no wrap
    return total & np.uint64(WORD_MASK), (total >> np.uint64(WORD_BITS)).astype(np.uint8)
