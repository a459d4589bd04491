"""The salted weight commitment `p2gl8-tree-v2` (zero-knowledge.md §5, §8
item 2): the value a registry entry holds so that weights stay hidden
across unlimited proofs. `p2gl8-tree-v1` (byte digits, below) is still
read and proved against.

    root = MerkleRoot( salt || header || pack(W_1) || ... || pack(W_T) )

**Salt.** 2 field elements (~128 bits), uniform in F_p from the OS CSPRNG
(`zkaudit.field.randomness`). The vendor keeps it private; with it the root
is a random-oracle output on a high-entropy input, so it hides W. Only the
root is public: digests of subtrees that do not contain the salt (leaf 0's
path) are deterministic functions of the weights and must never be revealed
(the in-circuit proof keeps them inside its hiding commitment).

**Header** (8 elements, right after the salt):

    h_0, h_1   scheme id "p2gl8-tree-v2" (ASCII, 13 bytes) as 7-byte chunks
    h_2        n = number of weights, all tensors together
    h_3..h_7   layout digest (32 bytes) as 7-byte chunks (the last holds 4)

A 7-byte chunk is read little-endian into an integer < 2^56 < p, so every
byte string maps injectively to canonical elements. The layout digest is
SHA-256 over a domain prefix and the canonical JSON of the tensor list
(name, shape, declared range [lo, hi], in order: `layout_digest`), so the
same elements cannot be re-read as other shapes, another count or other
ranges.

**Packing**, per tensor, each tensor starting on a fresh element. A tensor
with declared range [lo, hi] stores the digit d = w - lo in
b = max(1, bits(hi - lo)) bits, k = floor(56 / b) digits per element (C
order):

    e_i = sum_{u < k} d_{k i + u} * 2^(b u)              (< 2^56 < p)

int8 weights pack 7 to an element, int16 3, 17..18-bit values 3, up to
56-bit values 1; 0/1 selectors (declared [-2, 1]: 2 bits) 28. A tensor
whose range needs more than 56 bits is stored raw, e = w mod p (signed
embedding, injective for |w| < p/2). The proof's hash link costs one
Poseidon2 permutation per 7 elements, so the digit width is what the
private-weights proof pays for a weight.

`p2gl8-tree-v1` (the first version, still read: a registered v1 root is
proved against as it stands) differs only in the digits: whole bytes,
b = max(1, ceil(bits(hi - lo) / 8)) bytes, k = floor(7 / b), 256^(b u).
Its id is in the header, so one message cannot be read under both. Missing
digits of a tensor's last element are zero. For fixed layouts (in the
header) packing is injective on weights inside their declared ranges; the
inference proof range-checks every weight to its range anyway
(`statements.inference.committed_range`), which is what makes the packed
element determine the weights in the proof.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from zkaudit.field import randomness
from zkaudit.field.constants import P
from zkaudit.hash.errors import MalformedWeightCommitment, WeightOpeningMismatch

U64 = np.uint64

SCHEME_ID = "p2gl8-tree-v2"  # what new commitments use
SCHEME_V1 = "p2gl8-tree-v1"  # byte digits; read and proved against
SCHEMES = (SCHEME_ID, SCHEME_V1)
SALT_LEN = 2
HEADER_LEN = 8
PREFIX_LEN = SALT_LEN + HEADER_LEN  # message elements before the first weight element
ELEMENT_BITS = 56  # bits a packed element holds (< 2^56 < p)
CHUNK_BYTES = 7  # bytes per header element
LAYOUT_DOMAIN = b"zkaudit/p2gl8-tree-v1/layout\x00"  # both versions: the layout means the same
ROOT_BYTES = 32
MAGICS = {SCHEME_ID: b"ZKAW/p2gl8-tree-v2\x00", SCHEME_V1: b"ZKAW/p2gl8-tree-v1\x00"}  # the file; tensor-code: b"ZPCC"
MAGIC = MAGICS[SCHEME_ID]


def bytes_to_elements(data: bytes, count: int) -> list[int]:
    """`data` as `count` little-endian 7-byte chunks (zero-filled)."""
    if len(data) > CHUNK_BYTES * count:
        raise ValueError(f"{len(data)} bytes do not fit in {count} elements")
    padded = data.ljust(CHUNK_BYTES * count, b"\x00")
    return [int.from_bytes(padded[CHUNK_BYTES * i : CHUNK_BYTES * (i + 1)], "little") for i in range(count)]


_SCHEME_ELEMENTS = {scheme: bytes_to_elements(scheme.encode("ascii"), 2) for scheme in SCHEMES}


@dataclass(frozen=True)
class TensorLayout:
    """One weight tensor as the commitment packs it (`scheme` fixes the
    digits; the layout digest does not depend on it)."""

    name: str
    shape: tuple[int, ...]
    lo: int
    hi: int
    scheme: str = SCHEME_ID

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown weight-commitment scheme {self.scheme!r}")
        if not (isinstance(self.lo, int) and isinstance(self.hi, int)) or self.lo > self.hi:
            raise ValueError(f"tensor {self.name!r}: declared range [{self.lo}, {self.hi}] is empty")
        if max(-self.lo, self.hi) >= P // 2:
            raise ValueError(f"tensor {self.name!r}: declared range exceeds the field")

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def digit_bits(self) -> int:
        bits = max(1, (self.hi - self.lo).bit_length())
        return 8 * -(-bits // 8) if self.scheme == SCHEME_V1 else bits

    @property
    def raw(self) -> bool:
        return self.digit_bits > ELEMENT_BITS

    @property
    def per_element(self) -> int:
        return 1 if self.raw else ELEMENT_BITS // self.digit_bits

    @property
    def num_elements(self) -> int:
        return -(-self.size // self.per_element)

    def to_json(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "lo": self.lo, "hi": self.hi}


def layouts_of(specs, scheme: str = SCHEME_ID) -> tuple[TensorLayout, ...]:
    """TensorLayouts from objects with name, shape, lo and hi (circuit weight specs)."""
    return tuple(TensorLayout(s.name, tuple(int(d) for d in s.shape), int(s.lo), int(s.hi), scheme) for s in specs)


def in_scheme(layouts: Sequence[TensorLayout], scheme: str) -> tuple[TensorLayout, ...]:
    """The same tensors packed as `scheme` packs them (a registered record's)."""
    return tuple(t if t.scheme == scheme else replace(t, scheme=scheme) for t in layouts)


def scheme_of(layouts: Sequence[TensorLayout]) -> str:
    schemes = {t.scheme for t in layouts}
    if len(schemes) != 1:
        raise ValueError(f"a message packs its tensors under one scheme, got {sorted(schemes)}")
    return schemes.pop()


def layout_digest(layouts: Sequence[TensorLayout]) -> bytes:
    """SHA-256 of the canonical JSON of the tensor list behind a domain prefix."""
    doc = [t.to_json() for t in layouts]
    canon = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    return hashlib.sha256(LAYOUT_DOMAIN + canon).digest()


def element_offsets(layouts: Sequence[TensorLayout]) -> list[int]:
    """Message position of each tensor's first element."""
    out, pos = [], PREFIX_LEN
    for t in layouts:
        out.append(pos)
        pos += t.num_elements
    return out


def header_elements(n_weights: int, digest: bytes, scheme: str = SCHEME_ID) -> list[int]:
    if not isinstance(n_weights, int) or not 0 < n_weights < P:
        raise ValueError("the weight count must be a positive integer below p")
    if len(digest) != 32:
        raise ValueError("the layout digest is 32 bytes")
    if scheme not in SCHEMES:
        raise ValueError(f"unknown weight-commitment scheme {scheme!r}")
    return _SCHEME_ELEMENTS[scheme] + [n_weights] + bytes_to_elements(digest, 5)


def _checked(layouts: Sequence[TensorLayout], values) -> list[np.ndarray]:
    values = list(values)
    if not layouts or len(values) != len(layouts):
        raise ValueError(f"{len(values)} tensors for a layout of {len(layouts)}")
    out = []
    for t, v in zip(layouts, values):
        arr = np.asarray(v)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"tensor {t.name!r}: weights must be integers, got {arr.dtype}")
        if tuple(arr.shape) != tuple(t.shape):
            raise ValueError(f"tensor {t.name!r}: shape {tuple(arr.shape)}, layout {t.shape}")
        arr = arr.astype(np.int64).reshape(-1)
        if arr.size and (int(arr.min()) < t.lo or int(arr.max()) > t.hi):
            raise ValueError(f"tensor {t.name!r}: a weight lies outside its declared range [{t.lo}, {t.hi}]")
        out.append(arr)
    return out


def pack_tensor(t: TensorLayout, w: np.ndarray) -> np.ndarray:
    """One tensor's elements (module docstring); w flat int64 inside [lo, hi]."""
    if t.raw:
        return np.where(w < 0, U64(P) - (-w).astype(U64), w.astype(U64)) if w.size else w.astype(U64)
    k, b = t.per_element, t.digit_bits
    digits = np.zeros(t.num_elements * k, dtype=U64)
    digits[: w.shape[0]] = (w - t.lo).astype(U64)
    digits = digits.reshape(t.num_elements, k)
    out = np.zeros(t.num_elements, dtype=U64)
    for u in range(k):
        out |= digits[:, u] << U64(b * u)
    return out


def pack(layouts: Sequence[TensorLayout], values) -> np.ndarray:
    return np.concatenate([pack_tensor(t, w) for t, w in zip(layouts, _checked(layouts, values))])


def unpack(layouts: Sequence[TensorLayout], packed) -> list[np.ndarray]:
    """The inverse of `pack`; ValueError for elements no in-range weights make."""
    arr = np.asarray(packed, dtype=U64)
    if arr.ndim != 1 or arr.shape[0] != sum(t.num_elements for t in layouts):
        raise ValueError("packed length does not match the layout")
    out, pos = [], 0
    for t in layouts:
        e = arr[pos : pos + t.num_elements]
        pos += t.num_elements
        if t.raw:
            w = np.array([int(v) if int(v) < P // 2 else int(v) - P for v in e.tolist()], dtype=np.int64)
        else:
            k, b = t.per_element, t.digit_bits
            mask = U64((1 << b) - 1)
            if bool((e >> U64(b * k)).any()):
                raise ValueError(f"tensor {t.name!r}: element above its digits")
            digits = np.stack([(e >> U64(b * u)) & mask for u in range(k)], axis=1).reshape(-1)
            if bool(digits[t.size :].any()):
                raise ValueError(f"tensor {t.name!r}: non-zero digits after the last weight")
            w = digits[: t.size].astype(np.int64) + t.lo
        if w.size and (int(w.min()) < t.lo or int(w.max()) > t.hi):
            raise ValueError(f"tensor {t.name!r}: a digit decodes outside [{t.lo}, {t.hi}]")
        out.append(w.reshape(t.shape))
    return out


def fresh_salt() -> tuple[int, int]:
    a, b = randomness.random_base(SALT_LEN)
    return int(a), int(b)


def _check_salt(salt) -> tuple[int, int]:
    salt = tuple(salt)
    if len(salt) != SALT_LEN or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= int(s) < P
                                    for s in salt):
        raise ValueError("the salt is 2 canonical field elements")
    return int(salt[0]), int(salt[1])


def message(layouts: Sequence[TensorLayout], values, salt: Sequence[int]) -> np.ndarray:
    """salt || header || packed tensors as one uint64 vector: the tree's message."""
    body = pack(layouts, values)
    n = sum(t.size for t in layouts)
    head = np.array(list(_check_salt(salt)) + header_elements(n, layout_digest(layouts), scheme_of(layouts)),
                    dtype=U64)
    return np.concatenate([head, body])


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

    def to_bytes(self) -> bytes:
        """The `public/weights.commitment` file: MAGIC || root (4 x u64) ||
        n_weights (u64) || layout digest (32 bytes)."""
        return MAGICS[self.scheme] + struct.pack("<4QQ", *self.root, self.n_weights) + self.layout_digest

    @staticmethod
    def from_bytes(data: bytes) -> "WeightCommitment":
        scheme = next((s for s, m in MAGICS.items() if data.startswith(m)), None)
        if scheme is None:
            raise MalformedWeightCommitment(f"not a {' or '.join(SCHEMES)} weight commitment (bad magic)")
        body = data[len(MAGICS[scheme]) :]
        if len(body) != 40 + 32:
            raise MalformedWeightCommitment(f"a {scheme} weight commitment is {len(MAGICS[scheme]) + 72} bytes, "
                                            f"got {len(data)}")
        *root, n = struct.unpack("<4QQ", body[:40])
        if any(v >= P for v in root) or n == 0:
            raise MalformedWeightCommitment("weight commitment holds a non-canonical root or a zero weight count")
        return WeightCommitment(scheme, tuple(root), n, body[40:])


def is_hashed_commitment(data: bytes) -> bool:
    return any(data.startswith(m) for m in MAGICS.values())


def commit_weights(layouts: Sequence[TensorLayout], values, salt: Sequence[int] | None = None):
    """(public WeightCommitment, private salt). A fresh salt is drawn unless
    one is given (re-deriving a registered root from a stored salt)."""
    layouts = tuple(layouts)
    from zkaudit.hash.merkle import merkle_root

    s = fresh_salt() if salt is None else _check_salt(salt)
    root = merkle_root(message(layouts, values, s))
    return WeightCommitment(scheme_of(layouts), root, sum(t.size for t in layouts), layout_digest(layouts)), s


def verify_weight_opening(commitment: WeightCommitment, layouts: Sequence[TensorLayout], values,
                          salt: Sequence[int]) -> None:
    """Recompute the root from weights and salt; raises WeightOpeningMismatch."""
    if commitment.scheme not in SCHEMES:
        raise WeightOpeningMismatch("unknown weight-commitment scheme", expected=SCHEMES, got=commitment.scheme)
    layouts = in_scheme(layouts, commitment.scheme)
    n = sum(t.size for t in layouts)
    if n != commitment.n_weights:
        raise WeightOpeningMismatch("weight count differs from the record", expected=commitment.n_weights, got=n)
    if layout_digest(layouts) != commitment.layout_digest:
        raise WeightOpeningMismatch("tensor layout differs from the record",
                                    expected=commitment.layout_digest.hex(), got=layout_digest(layouts).hex())
    from zkaudit.hash.merkle import merkle_root

    try:
        root = merkle_root(message(layouts, values, salt))
    except (ValueError, TypeError) as exc:
        raise WeightOpeningMismatch(f"weight opening does not parse: {exc}") from None
    if root != tuple(commitment.root):
        raise WeightOpeningMismatch("weights, salt and header do not hash to the registered root",
                                    expected=commitment.root_bytes().hex(),
                                    got=b"".join(v.to_bytes(8, "little") for v in root).hex())  # fmt: skip


# The salt file in a compiled model's private/ folder: two little-endian u64.
SALT_FILE_BYTES = 16


def salt_to_bytes(salt: Sequence[int]) -> bytes:
    return struct.pack("<2Q", *_check_salt(salt))


def salt_from_bytes(data: bytes) -> tuple[int, int]:
    if len(data) != SALT_FILE_BYTES:
        raise MalformedWeightCommitment(f"a weight salt file is {SALT_FILE_BYTES} bytes, got {len(data)}")
    a, b = struct.unpack("<2Q", data)
    if a >= P or b >= P:
        raise MalformedWeightCommitment("weight salt holds a non-canonical element")
    return a, b
