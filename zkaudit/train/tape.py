"""The tape commitment c_R: a hiding PCS commitment the training proof opens.

The trainer's secret tape R (T steps of W = B_max + 1 + d words, step t's
words at t W .. t W + W - 1: B_max + 1 gap words, then d noise words) is
committed as three tables laid out the way the training proof reads them
(t in the high bits, padded with zeros):

    gap     (2^a, 2^b)  R[t, j]          j < B_max    (the slots' gap words)
    last    (2^a,)      R[t, B_max]                   (the terminating gap word)
    noise   (2^a, 2^c)  R[t, B_max + 1 + k] at pos(k)   k < d

with 2^a > T (the proof's state table has T + 1 rows), 2^b >= B_max. For
logistic regression pos(k) = k and 2^c >= d; for an MLP the proof lays
theta out by layer (`coord_layout`) and the noise words follow it,
followed by a bank of one GF(p^2) pad per table (as a dataset commitment's:
the proof re-pads its one combined claim on each table with it, so opening
reveals nothing). All randomness of the hiding commitment comes from the
tape's secret 32-byte seed, so the trainer can recompute it at proving
time. The run record holds c_R = SHA-256(TAPE_DOMAIN || commitment bytes):
32 bytes, fixed before the coin; the proof carries the commitment bytes and
the verifier checks their digest against the record.

One opening: the pads are used once, so the tape is opened by exactly one
proof (a run has one training proof)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

TAPE_DOMAIN = b"zkaudit/tape-commitment/pcs-v1\x00"
SEED_DOMAIN = b"zkaudit/tape-commitment/pcs-v1/stream"
SCHEME = "pcs-hiding-tape/v1"
TABLES = ("gap", "last", "noise")


def _vars(n: int) -> int:
    return max(1, (n - 1).bit_length())


def coord_layout(d_in: int, hidden: int) -> tuple[int, np.ndarray]:
    """(c, pos): where the training proof keeps parameter k of theta in its
    2^c coordinates. Logistic regression: pos(k) = k. An MLP d_in-h-1, theta =
    [W1 (h x d_in, row-major), b1, w2, b2]: the index is (blk, u, k) with 1,
    e = log h and c1 = log(d_in + 1) bits, so that W~1 = [W1 | b1] is block 0
    as an h x (d_in + 1) matrix (row u, column k; b1 in column d_in) and
    w~2 = [w2, b2] is block 1 with entry v at (u, k) = (v mod 2^e, v >> e):
    every tensor a sum-check reads is then a sub-cube of the layout."""
    if not hidden:
        return _vars(d_in + 1), np.arange(d_in + 1, dtype=np.int64)
    e, c1 = _vars(hidden), _vars(d_in + 1)
    u = np.arange(hidden, dtype=np.int64)
    w1 = (u[:, None] << c1) + np.arange(d_in, dtype=np.int64)[None, :]
    b1 = (u << c1) + d_in
    v = np.arange(hidden + 1, dtype=np.int64)
    w2 = (1 << (e + c1)) + ((v % (1 << e)) << c1) + (v >> e)
    return 1 + e + c1, np.concatenate([w1.ravel(), b1, w2])


@dataclass(frozen=True)
class TapeShape:
    steps: int
    max_batch: int
    num_params: int
    d_in: int = 0
    hidden: int = 0

    @classmethod
    def of(cls, policy) -> TapeShape:
        return cls(policy.steps, policy.max_batch, policy.num_params, policy.d_in,
                   policy.hidden[0] if policy.hidden else 0)

    @property
    def positions(self) -> np.ndarray:
        """pos(k) for k < d (see `coord_layout`)."""
        if not self.hidden:
            return np.arange(self.num_params, dtype=np.int64)
        return coord_layout(self.d_in, self.hidden)[1]

    @property
    def words_per_step(self) -> int:
        return self.max_batch + 1 + self.num_params

    @property
    def num_words(self) -> int:
        return self.steps * self.words_per_step

    @property
    def step_vars(self) -> int:
        """a: 2^a > T (the state table holds theta_0 .. theta_T)."""
        return max(1, self.steps.bit_length())

    @property
    def slot_vars(self) -> int:
        return _vars(self.max_batch)

    @property
    def coord_vars(self) -> int:
        return coord_layout(self.d_in, self.hidden)[0] if self.hidden else _vars(self.num_params)

    def split(self, words: np.ndarray) -> list[np.ndarray]:
        """(gap, last, noise) padded tables of a flat word array (tape or mask)."""
        T, B, d = self.steps, self.max_batch, self.num_params
        w = np.asarray(words, dtype=np.uint64).reshape(T, self.words_per_step)
        gap = np.zeros((1 << self.step_vars, 1 << self.slot_vars), dtype=np.uint64)
        gap[:T, :B] = w[:, :B]
        last = np.zeros(1 << self.step_vars, dtype=np.uint64)
        last[:T] = w[:, B]
        noise = np.zeros((1 << self.step_vars, 1 << self.coord_vars), dtype=np.uint64)
        noise[:T, self.positions] = w[:, B + 1:]
        return [gap.reshape(-1), last, noise.reshape(-1)]


def bank_table(seed: bytes) -> np.ndarray:
    from zkaudit.data.records import bank_vars
    from zkaudit.field.randomness import SeededStream

    words = SeededStream(seed, SEED_DOMAIN + b"/bank").base(2 * len(TABLES))
    out = np.zeros(1 << bank_vars(len(TABLES)), dtype=np.uint64)
    out[: words.shape[0]] = words
    return out


def bank(seed: bytes) -> np.ndarray:
    """The pads as (3, 2) GF(p^2) words: pad i hides the claim on table i."""
    return bank_table(seed)[: 2 * len(TABLES)].reshape(len(TABLES), 2)


def commit(words: np.ndarray, seed: bytes, shape: TapeShape):
    """(PCS commitment, prover data) of the tape; deterministic given the seed."""
    from zkaudit import pcs
    from zkaudit.data.records import hiding_params
    from zkaudit.field.randomness import SeededStream

    if len(seed) != 32:
        raise ValueError(f"a tape seed is 32 bytes, got {len(seed)}")
    if np.asarray(words).shape != (shape.num_words,):
        raise ValueError(f"the tape has {np.asarray(words).size} words, the policy {shape.num_words}")
    return pcs.commit(shape.split(words) + [bank_table(seed)], hiding_params(), stream=SeededStream(seed, SEED_DOMAIN))


def digest(commitment_bytes: bytes) -> bytes:
    """c_R: what the run record holds."""
    return hashlib.sha256(TAPE_DOMAIN + bytes(commitment_bytes)).digest()
