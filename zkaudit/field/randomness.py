"""Prover randomness: the one source of every mask, padding symbol, blinding
row and salt in zkaudit.

Everything comes from the operating system's CSPRNG (`os.urandom`, the same
source as `secrets`), never from `numpy.random` or any seeded generator: a
mask drawn from a predictable stream is a mask the verifier can subtract.
`os.urandom` keeps no state in this process, so a forked worker never
repeats its parent's draws (no reseeding needed after `fork`).

Field elements are drawn by rejection: a little-endian u64 word is kept when
it is < p and redrawn otherwise (probability 2^-32 per word), so every
element is exactly uniform in F_p; an extension element is two such words.
`tests/test_randomness.py` checks statically that no module under
zkaudit/field, zkaudit/sumcheck or zkaudit/pcs imports numpy.random or a
seedable generator to make prover randomness.
"""

from __future__ import annotations

import os

import numpy as np

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2

U64 = np.uint64
SALT_BYTES = 16  # 128-bit Merkle leaf salts


def random_words(count: int) -> np.ndarray:
    """`count` uniform u64 words (not reduced: for salts)."""
    if count < 0:
        raise ValueError("negative count")
    return np.frombuffer(os.urandom(8 * count), dtype="<u8").astype(U64)


def random_base(count: int) -> np.ndarray:
    """`count` independent uniform elements of F_p as a uint64 array."""
    out = np.empty(count, dtype=U64)
    filled = 0
    while filled < count:
        # Draw a little more than needed: rejections are ~2^-32 per word.
        want = count - filled
        words = random_words(want + 2)
        good = words[words < U64(P)][:want]
        out[filled : filled + good.shape[0]] = good
        filled += good.shape[0]
    return out


def random_ext(count: int) -> np.ndarray:
    """`count` independent uniform elements of GF(p^2) as a (count, 2) array."""
    return random_base(2 * count).reshape(count, 2)


def random_fp2() -> Fp2:
    a, b = random_base(2)
    return Fp2(int(a), int(b))


def random_fp2s(count: int) -> list[Fp2]:
    flat = random_base(2 * count)
    return [Fp2(int(flat[2 * i]), int(flat[2 * i + 1])) for i in range(count)]


def random_salts(count: int) -> np.ndarray:
    """(count, 2) u64 words: one 128-bit salt per Merkle leaf."""
    return random_words(2 * count).reshape(count, 2)


class SeededStream:
    """Uniform field elements and words from SHAKE-256(domain || seed): the
    randomness of a hiding commitment that its holder must be able to
    recompute (a committed patient input, whose 32-byte seed is the
    commitment's *opening*). The seed itself comes from `os.urandom`
    (`new_seed`), so the stream is as unpredictable as the OS CSPRNG to
    anyone without the seed; each (domain, seed) pair is used for one
    commitment only. Same rejection sampling as `random_base`."""

    def __init__(self, seed: bytes, domain: bytes):
        import hashlib

        if len(seed) < 32:
            raise ValueError("a seed has at least 256 bits")
        self._xof = hashlib.shake_256(domain + b"\x00" + seed)
        self._used = 0

    def _take(self, nbytes: int) -> bytes:
        # shake_256 has no incremental squeeze: re-derive and slice (commitment
        # randomness is small next to the tables it hides)
        out = self._xof.digest(self._used + nbytes)[self._used :]
        self._used += nbytes
        return out

    def words(self, count: int) -> np.ndarray:
        return np.frombuffer(self._take(8 * count), dtype="<u8").astype(U64)

    def base(self, count: int) -> np.ndarray:
        out = np.empty(count, dtype=U64)
        filled = 0
        while filled < count:
            want = count - filled
            w = self.words(want + 2)
            good = w[w < U64(P)][:want]
            out[filled : filled + good.shape[0]] = good
            filled += good.shape[0]
        return out

    def salts(self, count: int) -> np.ndarray:
        return self.words(2 * count).reshape(count, 2)


class OsStream:
    """The default: the OS CSPRNG, through the functions above."""

    words = staticmethod(random_words)
    base = staticmethod(random_base)
    salts = staticmethod(random_salts)


def new_seed() -> bytes:
    return os.urandom(32)
