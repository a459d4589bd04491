"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof checking.

    leaf hash      H(0x00 || entry)
    node hash      H(0x01 || left || right)
    MTH(D[0:n])    for n > 1: k = largest power of two < n,
                   H(0x01 || MTH(D[0:k]) || MTH(D[k:n]));  MTH([]) = H("")

Every subtree the RFC recursion touches starts at a multiple of the largest
power of two not exceeding its size, so it splits into O(log n) *complete*
aligned subtrees. The store keeps each complete subtree's hash as a node
`(level, index)` -- the hash of leaves [index * 2^level, (index + 1) * 2^level)
-- written once when its last leaf is appended (one extra node per leaf on
average) and never changed. A root, an inclusion proof or a consistency
proof then costs O(log n) node reads instead of rehashing the log.

Proof generation is two-phase so a database can answer it in one query:
`*_ranges` say which subtrees are needed, `nodes_for` which stored nodes those
need, and `subtree_hash` combines them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

Node = tuple[int, int]  # (level, index)
HASH_LEN = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """Largest power of two strictly less than `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def decompose(start: int, size: int) -> list[Node]:
    """The complete aligned subtrees whose hashes make up MTH(D[start:start+size]), left to right."""
    out: list[Node] = []
    while size > 0:
        if _is_pow2(size):
            level = size.bit_length() - 1
            out.append((level, start >> level))
            break
        k = _split(size)
        level = k.bit_length() - 1
        out.append((level, start >> level))
        start, size = start + k, size - k
    return out


def subtree_hash(start: int, size: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH(D[start:start+size]) from stored complete-subtree hashes."""
    if size == 0:
        return EMPTY_ROOT
    parts = [node(lv, ix) for lv, ix in decompose(start, size)]
    acc = parts[-1]
    for h in reversed(parts[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Subtrees (start, size) whose hashes form PATH(index, D[0:size]), leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} outside a tree of size {size}")
    out: list[tuple[int, int]] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            out.append((start + k, n - k))
            n = k
        else:
            out.append((start, k))
            start, n, m = start + k, n - k, m - k
    out.reverse()
    return out


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """Subtrees (start, size) whose hashes form PROOF(old, D[0:new]) (RFC 6962 2.1.2)."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old == 0 or old == new:
        return []
    out: list[tuple[int, int]] = []
    start, n, m, whole = 0, new, old, True
    while m != n:
        k = _split(n)
        if m <= k:
            out.append((start + k, n - k))
            n = k
        else:
            out.append((start, k))
            start, n, m, whole = start + k, n - k, m - k, False
    if not whole:
        out.append((start, m))
    out.reverse()
    return out


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    need: set[Node] = set()
    for start, size in ranges:
        need.update(decompose(start, size))
    return need


class Frontier:
    """The right edge of the tree: hashes of the complete subtrees making up D[0:size].

    Appending a leaf merges equal-sized neighbours; each merge is a new
    stored node. The root is the right-to-left fold of the frontier."""

    def __init__(self, size: int, nodes: Sequence[bytes]):
        self.size = size
        self.stack: list[tuple[int, int, bytes]] = [
            (lv, ix, h) for (lv, ix), h in zip(decompose(0, size), nodes, strict=True)
        ]

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the new nodes (level, index, hash), the leaf included."""
        new = [(0, self.size, leaf)]
        self.stack.append(new[0])
        while len(self.stack) >= 2 and self.stack[-1][0] == self.stack[-2][0]:
            lv, ix, right = self.stack.pop()
            _, _, left = self.stack.pop()
            merged = (lv + 1, ix >> 1, node_hash(left, right))
            self.stack.append(merged)
            new.append(merged)
        self.size += 1
        return new

    def copy(self) -> "Frontier":
        twin = Frontier(0, [])
        twin.size, twin.stack = self.size, list(self.stack)
        return twin

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        acc = self.stack[-1][2]
        for _, _, h in reversed(self.stack[:-1]):
            acc = node_hash(h, acc)
        return acc


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: is `leaf` at `index` in the tree of `size` with `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree (new, new_root) an extension of (old, old_root)?"""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if _is_pow2(old):
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
