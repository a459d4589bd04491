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
