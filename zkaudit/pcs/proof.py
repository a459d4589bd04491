"""Wire types of the commitment: `Commitment` and `OpeningProof`.

All integers little-endian; field elements canonical u64 words (< p), an
extension element as c0 then c1.

    Commitment (version 1)
        "ZPCC" | u16 version | u8 log_blowup | u8 log_cols
        | u32 num_polys | num_polys * u8 num_vars | 32-byte Merkle root

    OpeningProof (version 1)
        "ZPCO" | u16 version | 32-byte commitment digest
        | u32 num_rows R | u32 cols m
        | m * Fp2                        proximity row  u_prox
        | SumcheckProof                  (its own format, zkaudit.sumcheck.proof)
        | m * Fp2                        evaluation row u_eval
        | u32 q | q * u32 positions      opened codeword positions
        | q * R * u64                    the opened columns, position by position
        | u32 s | s * 32 bytes           Merkle multi-proof siblings

Parsing is strict (exact lengths, canonical elements, no trailing bytes) and
bounded: every count is checked against protocol maxima and against the
bytes actually present before anything is allocated, so parsing is linear
in the input. Canonical: positions strictly increasing, at least one row,
one position and a power-of-two row width of at least 2. A caller holding
the commitment and the parameters passes them to `from_bytes`, which then
rejects a shape that does not fit them (row count, row width, more
positions than queries) before reading any array. The verifier checks the
shape again.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np

from zkaudit.errors import MalformedProof
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.pcs.errors import MalformedOpening
from zkaudit.pcs.merkle import DIGEST_BYTES
from zkaudit.sumcheck.proof import SumcheckProof

COMMITMENT_MAGIC = b"ZPCC"
OPENING_MAGIC = b"ZPCO"
VERSION = 1
# The hiding opening's own version: 2 added the column check's sum-check
# (`pcs.column_check`); 3 dropped the proximity row, its blinding row and
# the positions (`pcs.hiding`); 4 made the column sum-check absent when the
# claims' blocks are small (`column_check.direct`), behind a flag byte. An
# earlier opening is refused by name.
HIDING_OPENING_VERSION = 4
_DIGEST_DOMAIN = b"zkaudit/pcs/commitment-digest/v1"

# Protocol maxima: a codeword has at most 2^32 positions (Goldilocks'
# two-adicity) and a table at most 2^40 entries; no parameter set asks for
# more than 2^16 queries.
MAX_LOG_VARS = 40
MAX_LOG_COLS = 32
MAX_QUERIES = 1 << 16
MAX_TABLES = 1 << 20


class _Reader:
    def __init__(self, data: bytes, what: str, offset: int = 0):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise MalformedOpening(f"{what}: expected bytes, got {type(data).__name__}")
        self.data = bytes(data)
        self.offset = offset
        self.what = what

    def take(self, n: int, part: str) -> bytes:
        if n < 0 or self.offset + n > len(self.data):
            raise MalformedOpening(f"{self.what} truncated in {part}", expected=self.offset + n, got=len(self.data))
        out = self.data[self.offset : self.offset + n]
        self.offset += n
        return out

    def unpack(self, fmt: str, part: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), part))

    def header(self, magic: bytes, version_wanted: int = VERSION) -> None:
        got = self.take(len(magic), "magic")
        if got != magic:
            raise MalformedOpening(f"{self.what}: wrong magic", expected=magic, got=got)
        (version,) = self.unpack("<H", "version")
        if version != version_wanted:
            raise MalformedOpening(f"{self.what}: unsupported version (a proof made by an earlier zkaudit?)",
                                   expected=version_wanted, got=version)

    def words(self, count: int, part: str) -> np.ndarray:
        raw = self.take(8 * count, part)
        a = np.frombuffer(raw, dtype="<u8").astype(np.uint64)
        if count and int(a.max()) >= P:
            raise MalformedOpening(f"{self.what}: non-canonical field element in {part} (>= p)", got=int(a.max()))
        return a

    def end(self) -> None:
        if self.offset != len(self.data):
            raise MalformedOpening(f"{self.what} has trailing bytes", expected=self.offset, got=len(self.data))


def _words_bytes(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype=np.uint64).astype("<u8", copy=False).tobytes()


@dataclass(frozen=True)
class Commitment:
    """What a verifier holds: the code, the matrix width, the tables' sizes
    and the Merkle root over the codeword columns."""

    log_blowup: int
    log_cols: int
    num_vars: tuple[int, ...]
    root: bytes

    def to_bytes(self) -> bytes:
        return b"".join([
            COMMITMENT_MAGIC,
            struct.pack("<HBBI", VERSION, self.log_blowup, self.log_cols, len(self.num_vars)),
            bytes(self.num_vars),
            self.root,
        ])

    @classmethod
    def from_bytes(cls, data: bytes) -> Commitment:
        r = _Reader(data, "commitment")
        r.header(COMMITMENT_MAGIC)
        log_blowup, log_cols, count = r.unpack("<BBI", "shape")
        if not 1 <= log_cols <= MAX_LOG_COLS or not 1 <= count <= MAX_TABLES:
            raise MalformedOpening("commitment: row width or table count out of range", got=(log_cols, count))
        num_vars = tuple(r.take(count, "table sizes"))
        if max(num_vars) > MAX_LOG_VARS:
            raise MalformedOpening("commitment: a table larger than 2^40 entries", expected=MAX_LOG_VARS,
                                   got=max(num_vars))
        root = r.take(DIGEST_BYTES, "root")
        r.end()
        return cls(log_blowup, log_cols, num_vars, root)

    def digest(self) -> bytes:
        """Names this commitment (opening proofs carry it)."""
        return hashlib.sha256(_DIGEST_DOMAIN + self.to_bytes()).digest()


@dataclass(frozen=True)
class OpeningProof:
    commitment_digest: bytes
    num_rows: int
    proximity_row: np.ndarray  # (m, 2) uint64
    sumcheck: SumcheckProof
    evaluation_row: np.ndarray  # (m, 2) uint64
    positions: tuple[int, ...]
    columns: np.ndarray  # (q, R) uint64, columns[i] = codeword position positions[i]
    siblings: tuple[bytes, ...]

    def to_bytes(self) -> bytes:
        m = self.proximity_row.shape[0]
        return b"".join([
            OPENING_MAGIC,
            struct.pack("<H", VERSION),
            self.commitment_digest,
            struct.pack("<II", self.num_rows, m),
            _words_bytes(self.proximity_row),
            self.sumcheck.to_bytes(),
            _words_bytes(self.evaluation_row),
            struct.pack("<I", len(self.positions)),
            struct.pack(f"<{len(self.positions)}I", *self.positions),
            _words_bytes(self.columns),
            struct.pack("<I", len(self.siblings)),
            b"".join(self.siblings),
        ])

    def num_bytes(self) -> int:
        return len(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes, *, num_rows: int | None = None, cols: int | None = None,
                   max_queries: int | None = None, sumcheck_rounds: int | None = None) -> OpeningProof:
        """Parse strictly. The keyword arguments, when given (the verifier's
        layout and parameters), bound the shape before any array is read."""
        r = _Reader(data, "opening proof")
        r.header(OPENING_MAGIC)
        digest = r.take(DIGEST_BYTES, "commitment digest")
        rows, m = r.unpack("<II", "shape")
        if rows < 1 or m < 2 or m & (m - 1):
            raise MalformedOpening("opening proof: row count must be >= 1 and row width a power of two >= 2",
                                   got=(rows, m))
        for name, wanted, got in (("row count", num_rows, rows), ("row width", cols, m)):
            if wanted is not None and got != wanted:
                raise MalformedOpening(f"opening proof: wrong {name}", expected=wanted, got=got)
        prox = r.words(2 * m, "proximity row").reshape(m, 2)
        try:
            sumcheck, r.offset = SumcheckProof.read(r.data, r.offset, num_rounds=sumcheck_rounds,
                                                    num_evals=None if sumcheck_rounds is None else 3)
        except MalformedOpening:
            raise
        except MalformedProof as e:
            raise MalformedOpening(f"opening proof: batching sum-check does not parse: {e}") from e
        evals = r.words(2 * m, "evaluation row").reshape(m, 2)
        (q,) = r.unpack("<I", "position count")
        limit = MAX_QUERIES if max_queries is None else max_queries
        if not 1 <= q <= limit:
            raise MalformedOpening("opening proof: position count outside 1..queries", expected=limit, got=q)
        positions = r.unpack(f"<{q}I", "positions")
        if any(a >= b for a, b in zip(positions, positions[1:])):
            raise MalformedOpening("opening proof: positions are not strictly increasing")
        columns = r.words(q * rows, "columns").reshape(q, rows)
        (s,) = r.unpack("<I", "sibling count")
        raw = r.take(s * DIGEST_BYTES, "Merkle siblings")
        siblings = tuple(raw[i * DIGEST_BYTES : (i + 1) * DIGEST_BYTES] for i in range(s))
        r.end()
        return cls(digest, rows, prox, sumcheck, evals, tuple(positions), columns, siblings)


HIDING_OPENING_MAGIC = b"ZPCH"


@dataclass(frozen=True)
class HidingOpeningProof:
    """Opening of a hiding commitment (`zkaudit.pcs.hiding`), version 4:

        "ZPCH" | u16 version | 32-byte commitment digest
        | u32 committed rows R' (data, b_z: R + 2) | u32 cols m | u32 pad l
        | Fp2 mask sum S | SumcheckProof
        | (m + l) * Fp2 evaluation row
        | u8 0, or u8 1 | SumcheckProof (column check, log2 m rounds)
        | u32 q | q * R' * u64 columns | q * 2 * u64 salts (raw) | u32 s | s * 32 siblings

    The q columns are at the transcript's distinct query positions, in
    increasing order: the verifier draws them itself and checks q. The
    column sum-check is absent (flag 0) exactly when the claims' blocks are
    small (`column_check.direct`): the verifier checks that after parsing.
    """

    commitment_digest: bytes
    num_rows: int
    pad_symbols: int
    mask_sum: Fp2
    sumcheck: SumcheckProof
    evaluation_row: np.ndarray
    column_sumcheck: SumcheckProof | None
    columns: np.ndarray
    salts: np.ndarray
    siblings: tuple[bytes, ...]

    def to_bytes(self) -> bytes:
        width = self.evaluation_row.shape[0]
        return b"".join([
            HIDING_OPENING_MAGIC,
            struct.pack("<H", HIDING_OPENING_VERSION),
            self.commitment_digest,
            struct.pack("<III", self.num_rows, width - self.pad_symbols, self.pad_symbols),
            self.mask_sum.to_bytes(),
            self.sumcheck.to_bytes(),
            _words_bytes(self.evaluation_row),
            b"\x00" if self.column_sumcheck is None else b"\x01" + self.column_sumcheck.to_bytes(),
            struct.pack("<I", self.columns.shape[0]),
            _words_bytes(self.columns),
            np.ascontiguousarray(self.salts, dtype=np.uint64).astype("<u8").tobytes(),
            struct.pack("<I", len(self.siblings)),
            b"".join(self.siblings),
        ])

    def num_bytes(self) -> int:
        return len(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes, *, num_rows: int | None = None, cols: int | None = None,
                   pad_symbols: int | None = None, max_queries: int | None = None,
                   sumcheck_rounds: int | None = None) -> HidingOpeningProof:
        from zkaudit.field.scalar import exts_from_bytes

        r = _Reader(data, "hiding opening proof")
        r.header(HIDING_OPENING_MAGIC, HIDING_OPENING_VERSION)
        digest = r.take(DIGEST_BYTES, "commitment digest")
        rows, m, pad = r.unpack("<III", "shape")
        if rows < 3 or m < 2 or m & (m - 1) or pad < 1 or pad > m:
            raise MalformedOpening("hiding opening proof: shape out of range", got=(rows, m, pad))
        for name, wanted, got in (("row count", num_rows, rows), ("row width", cols, m), ("padding", pad_symbols, pad)):
            if wanted is not None and got != wanted:
                raise MalformedOpening(f"hiding opening proof: wrong {name}", expected=wanted, got=got)
        width = m + pad
        (mask_sum,) = exts_from_bytes(r.take(16, "mask sum"), 0, 1)
        try:
            sumcheck, r.offset = SumcheckProof.read(r.data, r.offset, num_rounds=sumcheck_rounds,
                                                    num_evals=None if sumcheck_rounds is None else 3)
        except MalformedProof as e:
            raise MalformedOpening(f"hiding opening proof: batching sum-check does not parse: {e}") from e
        evals = r.words(2 * width, "evaluation row").reshape(width, 2)
        (flag,) = r.unpack("<B", "column sum-check flag")
        if flag > 1:
            raise MalformedOpening("hiding opening proof: column sum-check flag is not 0 or 1", got=flag)
        column_sc = None
        if flag:
            try:
                column_sc, r.offset = SumcheckProof.read(r.data, r.offset, num_rounds=m.bit_length() - 1,
                                                         num_evals=3)
            except MalformedProof as e:
                raise MalformedOpening(f"hiding opening proof: column sum-check does not parse: {e}") from e
        (q,) = r.unpack("<I", "column count")
        limit = MAX_QUERIES if max_queries is None else max_queries
        if not 1 <= q <= limit:
            raise MalformedOpening("hiding opening proof: column count outside 1..queries", expected=limit, got=q)
        columns = r.words(q * rows, "columns").reshape(q, rows)
        salts = np.frombuffer(r.take(16 * q, "salts"), dtype="<u8").astype(np.uint64).reshape(q, 2)
        (s,) = r.unpack("<I", "sibling count")
        raw = r.take(s * DIGEST_BYTES, "Merkle siblings")
        siblings = tuple(raw[i * DIGEST_BYTES : (i + 1) * DIGEST_BYTES] for i in range(s))
        r.end()
        return cls(digest, rows, pad, mask_sum, sumcheck, evals, column_sc, columns, salts, siblings)
