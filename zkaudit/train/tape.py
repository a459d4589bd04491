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
proof (a run has one training proof).

**Chunked runs.** A run too large to prove in one piece (`TapeShape.of`:
the policy's `proving.chunk_steps`, or by size) is proven in K chunks of S
steps (`statements/training/chunked.py`). The tables are then laid out by
chunk: step k S + t' at row (k, t'), k in the high bits (2^(a_c) > S rows
per chunk), so each chunk reads a sub-cube. Each chunk re-pads its claim on
each table with a pad of its own (entries 3k .. 3k + 2), and the proof's
last part combines the K claims on each table with a zero-knowledge
sum-check whose mask also comes from this bank (`bank_entries`)."""

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


AUTO_CHUNK_VARS = 20  # a run whose largest per-record domain passes 2^20 rows is proven in chunks (memory)
CHUNK_VARS = 18  # ... of at most 2^18 rows each (an MLP chunk of 2^18 unit rows peaks near 2.3 GB: two side by side)


def auto_chunk_steps(policy) -> int:
    """Steps per chunk for a policy that does not choose: 0 (one piece) while
    the largest domain the proof sums over -- (t, j, u) for an MLP, the
    feature table (t, j, k) for logistic regression -- fits in 2^20 rows for
    an MLP (2^23 for logistic regression, whose rows are lighter); else
    2^s - 1 steps with s chosen so that a chunk's domain is 2^18 rows (2^21)."""
    b = _vars(policy.max_batch)
    if policy.hidden:
        inner, limit, target = b + _vars(policy.hidden[0]), AUTO_CHUNK_VARS, CHUNK_VARS
    else:
        inner, limit, target = b + _vars(policy.num_params), AUTO_CHUNK_VARS + 3, CHUNK_VARS + 3
    if max(1, policy.steps.bit_length()) + inner <= limit:
        return 0
    return (1 << max(1, target - inner)) - 1


@dataclass(frozen=True)
class TapeShape:
    steps: int
    max_batch: int
    num_params: int
    d_in: int = 0
    hidden: int = 0
    chunk_steps: int = 0  # S: steps per proof chunk; 0 or >= steps: one piece

    @classmethod
    def of(cls, policy) -> TapeShape:
        chunk = getattr(policy, "chunk_steps", 0) or auto_chunk_steps(policy)
        return cls(policy.steps, policy.max_batch, policy.num_params, policy.d_in,
                   policy.hidden[0] if policy.hidden else 0, chunk if 0 < chunk < policy.steps else 0)

    @property
    def chunked(self) -> bool:
        return self.chunk_steps > 0

    @property
    def num_chunks(self) -> int:
        return -(-self.steps // self.chunk_steps) if self.chunked else 1

    @property
    def chunk_vars(self) -> int:
        """Variables of the chunk index (the tables' highest), 0 in one piece."""
        return max(1, (self.num_chunks - 1).bit_length()) if self.chunked else 0

    @property
    def chunk_step_vars(self) -> int:
        """a_c: a chunk's step variables (2^a_c > S: its state table holds S + 1 rows)."""
        return max(1, self.chunk_steps.bit_length()) if self.chunked else self.step_vars

    def chunk_range(self, k: int) -> tuple[int, int]:
        """Steps [s0, s1) of chunk k."""
        if not self.chunked:
            return 0, self.steps
        return k * self.chunk_steps, min(self.steps, (k + 1) * self.chunk_steps)

    def chunk_shape(self, k: int) -> TapeShape:
        """Chunk k as a run of its own (its words, its split, its positions)."""
        s0, s1 = self.chunk_range(k)
        return TapeShape(s1 - s0, self.max_batch, self.num_params, self.d_in, self.hidden)

    @property
    def table_vars(self) -> tuple[int, int, int]:
        """Variables of the gap, last and noise tables."""
        return (self.step_vars + self.slot_vars, self.step_vars, self.step_vars + self.coord_vars)

    @property
    def bank_entries(self) -> int:
        """GF(p^2) pads the tape commitment holds: one per table in one piece;
        chunked, one per table and chunk plus each table's combination
        sum-check (its mask and its pad)."""
        if not self.chunked:
            return len(TABLES)
        from zkaudit.sumcheck.zk import mask_size

        return len(TABLES) * self.num_chunks + sum(mask_size(n, 2) + 1 for n in self.table_vars)

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
        """a: 2^a > T (the state table holds theta_0 .. theta_T); chunked, the
        tables' step variables (chunk index, then a_c)."""
        if self.chunked:
            return self.chunk_vars + self.chunk_step_vars
        return max(1, self.steps.bit_length())

    @property
    def slot_vars(self) -> int:
        return _vars(self.max_batch)

    @property
    def coord_vars(self) -> int:
        return coord_layout(self.d_in, self.hidden)[0] if self.hidden else _vars(self.num_params)

    def split(self, words: np.ndarray) -> list[np.ndarray]:
        """(gap, last, noise) padded tables of a flat word array (tape or mask)."""
        if self.chunked:
            w = np.asarray(words, dtype=np.uint64).reshape(self.steps, self.words_per_step)
            parts = []
            for k in range(1 << self.chunk_vars):
                if k < self.num_chunks:
                    s0, s1 = self.chunk_range(k)
                    sub = TapeShape(s1 - s0, self.max_batch, self.num_params, self.d_in, self.hidden)
                    parts.append(sub.split_rows(w[s0:s1].reshape(-1), self.chunk_step_vars))
                else:
                    parts.append([np.zeros_like(x) for x in parts[0]])
            return [np.concatenate([p[i] for p in parts]) for i in range(len(TABLES))]
        return self.split_rows(words, self.step_vars)

    def split_rows(self, words: np.ndarray, step_vars: int) -> list[np.ndarray]:
        """`split` with 2^step_vars rows (>= steps; a chunk takes its run's a_c)."""
        T, B = self.steps, self.max_batch
        w = np.asarray(words, dtype=np.uint64).reshape(T, self.words_per_step)
        gap = np.zeros((1 << step_vars, 1 << self.slot_vars), dtype=np.uint64)
        gap[:T, :B] = w[:, :B]
        last = np.zeros(1 << step_vars, dtype=np.uint64)
        last[:T] = w[:, B]
        noise = np.zeros((1 << step_vars, 1 << self.coord_vars), dtype=np.uint64)
        noise[:T, self.positions] = w[:, B + 1:]
        return [gap.reshape(-1), last, noise.reshape(-1)]


def bank_table(seed: bytes, entries: int = len(TABLES)) -> np.ndarray:
    from zkaudit.data.records import bank_vars
    from zkaudit.field.randomness import SeededStream

    words = SeededStream(seed, SEED_DOMAIN + b"/bank").base(2 * entries)
    out = np.zeros(1 << bank_vars(entries), dtype=np.uint64)
    out[: words.shape[0]] = words
    return out


def bank(seed: bytes, entries: int = len(TABLES)) -> np.ndarray:
    """The pads as (entries, 2) GF(p^2) words (`TapeShape.bank_entries`): in
    one piece, pad i hides the claim on table i."""
    return bank_table(seed, entries)[: 2 * entries].reshape(entries, 2)


def commit(words: np.ndarray, seed: bytes, shape: TapeShape):
    """(PCS commitment, prover data) of the tape; deterministic given the seed."""
    from zkaudit import pcs
    from zkaudit.data.records import hiding_params
    from zkaudit.field.randomness import SeededStream

    if len(seed) != 32:
        raise ValueError(f"a tape seed is 32 bytes, got {len(seed)}")
    if np.asarray(words).shape != (shape.num_words,):
        raise ValueError(f"the tape has {np.asarray(words).size} words, the policy {shape.num_words}")
    return pcs.commit(shape.split(words) + [bank_table(seed, shape.bank_entries)], hiding_params(),
                      stream=SeededStream(seed, SEED_DOMAIN))


def digest(commitment_bytes: bytes) -> bytes:
    """c_R: what the run record holds."""
    return hashlib.sha256(TAPE_DOMAIN + bytes(commitment_bytes)).digest()
