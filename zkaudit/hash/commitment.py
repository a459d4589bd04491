"""The salted weight commitment `p2gl8-tree-v1` (zero-knowledge.md §5, §8
item 2): the value a registry entry will hold so that weights stay hidden
across unlimited proofs.

    root = MerkleRoot( salt || header || pack(W) )        (zkaudit.hash.merkle)

**Salt.** 2 field elements (~128 bits), uniform in F_p from the OS CSPRNG
(`zkaudit.field.randomness`). The vendor keeps it private; with it the root
is a random-oracle output on a high-entropy input, so it hides W. Only the
root is public: digests of subtrees that do not contain the salt (leaf 0's
path) are deterministic functions of the weights and must never be revealed
(the in-circuit proof keeps them inside its hiding commitment).

**Header** (8 elements, right after the salt):

    h_0, h_1   scheme id "p2gl8-tree-v1" (ASCII, 13 bytes) as 7-byte chunks
    h_2        n = number of weights
    h_3..h_7   layout digest (32 bytes) as 7-byte chunks (the last holds 4)

A 7-byte chunk is read little-endian into an integer < 2^56 < p, so every
byte string maps injectively to canonical elements. The layout digest is
SHA-256 over a domain prefix and canonical JSON of the caller's tensor list
(names, shapes, dtypes, scales: `layout_digest`), so the same bytes cannot
be re-read as other shapes, another count or another quantization.

**Packing** (offset-binary, 7 weights per element):

    e_i = sum_{j=0..6} (w_{7i+j} + 128) * 256^j        (< 2^56 < p)

weights in the given (flattened, C) order; missing weights of the last
element are zero bytes. For a fixed n (in the header) this is injective on
int8^n, and `unpack_int8` inverts it; in the proof each w must be
range-checked to [-128, 127] for the packed element to determine W.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkaudit.field import randomness
from zkaudit.field.constants import P
from zkaudit.hash.errors import WeightOpeningMismatch
from zkaudit.hash.merkle import merkle_root

U64 = np.uint64

SCHEME_ID = "p2gl8-tree-v1"
SALT_LEN = 2
HEADER_LEN = 8
WEIGHTS_PER_ELEMENT = 7
OFFSET = 128  # offset-binary: int8 w -> byte w + 128
CHUNK_BYTES = 7  # bytes per header element (< 2^56 < p)
LAYOUT_DOMAIN = b"zkaudit/p2gl8-tree-v1/layout\x00"
ROOT_BYTES = 32


def bytes_to_elements(data: bytes, count: int) -> list[int]:
    """`data` as `count` little-endian 7-byte chunks (zero-filled)."""
    if len(data) > CHUNK_BYTES * count:
        raise ValueError(f"{len(data)} bytes do not fit in {count} elements")
    padded = data.ljust(CHUNK_BYTES * count, b"\x00")
    return [int.from_bytes(padded[CHUNK_BYTES * i : CHUNK_BYTES * (i + 1)], "little") for i in range(count)]


_SCHEME_ELEMENTS = bytes_to_elements(SCHEME_ID.encode("ascii"), 2)


def layout_digest(layout) -> bytes:
    """SHA-256 of a JSON-serializable description of the weight tensors
    (e.g. [{"name": ..., "shape": [...], "dtype": "int8", "scale": [...]}]),
    canonicalized (sorted keys, no spaces) behind a domain prefix."""
    canon = json.dumps(layout, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    return hashlib.sha256(LAYOUT_DOMAIN + canon).digest()


def header_elements(n_weights: int, digest: bytes) -> list[int]:
    if not isinstance(n_weights, int) or not 0 < n_weights < P:
        raise ValueError("the weight count must be a positive integer below p")
    if len(digest) != 32:
        raise ValueError("the layout digest is 32 bytes")
    return _SCHEME_ELEMENTS + [n_weights] + bytes_to_elements(digest, 5)


def flatten_weights(weights) -> np.ndarray:
    """One int8 vector from an int8 array or a sequence of them (C order)."""
    parts = [weights] if isinstance(weights, np.ndarray) else list(weights)
    if not parts:
        raise ValueError("no weights")
    for w in parts:
        if not isinstance(w, np.ndarray) or w.dtype != np.int8:
            raise TypeError("weights must be int8 numpy arrays")
    return np.concatenate([np.ascontiguousarray(w).reshape(-1) for w in parts])


def pack_int8(weights) -> np.ndarray:
    """ceil(n / 7) elements, 7 offset-binary bytes each (see module docstring)."""
    w = flatten_weights(weights)
    n_elem = -(-w.shape[0] // WEIGHTS_PER_ELEMENT)
    body = np.zeros(n_elem * WEIGHTS_PER_ELEMENT, dtype=np.uint8)
    body[: w.shape[0]] = (w.astype(np.int16) + OFFSET).astype(np.uint8)
    raw = np.zeros((n_elem, 8), dtype=np.uint8)  # byte 7 (the top one) stays 0
    raw[:, :WEIGHTS_PER_ELEMENT] = body.reshape(n_elem, WEIGHTS_PER_ELEMENT)
    return raw.reshape(-1).view("<u8").astype(U64)


def unpack_int8(packed, n_weights: int) -> np.ndarray:
    """The inverse of `pack_int8` for a known count; ValueError for a
    packing no int8 vector of that length produces."""
    arr = np.ascontiguousarray(np.asarray(packed, dtype=U64))
    if arr.ndim != 1 or arr.shape[0] != -(-n_weights // WEIGHTS_PER_ELEMENT):
        raise ValueError("packed length does not match the weight count")
    raw = arr.astype("<u8").view(np.uint8).reshape(-1, 8)
    if raw[:, 7].any():
        raise ValueError("packed element above 2^56")
    body = raw[:, :WEIGHTS_PER_ELEMENT].reshape(-1)
    if body[n_weights:].any():
        raise ValueError("non-zero padding after the last weight")
    return (body[:n_weights].astype(np.int16) - OFFSET).astype(np.int8)


def fresh_salt() -> tuple[int, int]:
    a, b = randomness.random_base(SALT_LEN)
    return int(a), int(b)


def message(weights, digest: bytes, salt: Sequence[int]) -> np.ndarray:
    """salt || header || pack(W) as one uint64 vector: the tree's message."""
    w = flatten_weights(weights)
    if len(salt) != SALT_LEN or any(not isinstance(s, int) or not 0 <= s < P for s in salt):
        raise ValueError("the salt is 2 canonical field elements")
    head = np.array(list(salt) + header_elements(int(w.shape[0]), digest), dtype=U64)
    return np.concatenate([head, pack_int8(w)])


@dataclass(frozen=True)
class WeightCommitment:
    """The public record: what a registry entry stores and signs."""

    scheme: str
    root: tuple[int, int, int, int]
    n_weights: int
    layout_digest: bytes

    def root_bytes(self) -> bytes:
        return b"".join(v.to_bytes(8, "little") for v in self.root)

    def to_record(self) -> dict:
        return {"scheme": self.scheme, "root": self.root_bytes().hex(), "n_weights": self.n_weights,
                "shape_hash": self.layout_digest.hex()}  # fmt: skip


def commit_weights(weights, digest: bytes, salt: Sequence[int] | None = None):
    """(public WeightCommitment, private salt). A fresh salt is drawn unless
    one is given (re-deriving a registered root from a stored salt)."""
    s = tuple(fresh_salt() if salt is None else (int(v) for v in salt))
    w = flatten_weights(weights)
    root = merkle_root(message(w, digest, s))
    return WeightCommitment(SCHEME_ID, root, int(w.shape[0]), bytes(digest)), s


def verify_weight_opening(commitment: WeightCommitment, weights, salt: Sequence[int]) -> None:
    """Recompute the root from weights and salt; raises WeightOpeningMismatch."""
    if commitment.scheme != SCHEME_ID:
        raise WeightOpeningMismatch("unknown weight-commitment scheme", expected=SCHEME_ID, got=commitment.scheme)
    w = flatten_weights(weights)
    if int(w.shape[0]) != commitment.n_weights:
        raise WeightOpeningMismatch("weight count differs from the record", expected=commitment.n_weights,
                                    got=int(w.shape[0]))  # fmt: skip
    try:
        root = merkle_root(message(w, commitment.layout_digest, tuple(salt)))
    except (ValueError, TypeError) as exc:
        raise WeightOpeningMismatch(f"weight opening does not parse: {exc}") from None
    if root != tuple(commitment.root):
        raise WeightOpeningMismatch("weights, salt and header do not hash to the registered root",
                                    expected=commitment.root_bytes().hex(),
                                    got=b"".join(v.to_bytes(8, "little") for v in root).hex())  # fmt: skip
