"""Binary Merkle trees over Poseidon2-Goldilocks width 8 (zero-knowledge.md
§5.2, §8 item 2): the tree that the registered weight commitment uses and
that the in-circuit hash proof will re-run as one data-parallel batch.

    message   m_0 .. m_{L-1} in F_p, L >= 1
    leaves    m cut into blocks of 7, zero-padded to 2^k blocks (k >= 0 minimal)
    leaf i    H_i^0 = permute(m_{7i} .. m_{7i+6} || LEAF_TAG)[0:4]
    node      H_i^{h+1} = permute(H_{2i}^h || H_{2i+1}^h)[0:4]
    root      H_0^k (4 elements)

* **Domain separation.** Leaves spend their eighth lane on LEAF_TAG
  (`params.py`); internal compressions use all 8 lanes for the two child
  digests. The design note's 1/4 permutation per hashed element becomes 2/7
  (7 elements per leaf, one internal node per leaf).
* **Length.** Zero padding means m and m || 0 share a root: the tree binds
  the message only together with its length, which the caller must bind
  (the weight commitment's header holds the weight count).
* **Heap order.** Level h is an (2^{k-h}, 4) array; node i's children are
  rows 2i and 2i + 1 of the level below, which, viewed as (2^{k-h-1}, 8),
  is exactly the batch of compression inputs (no copying).
* **Paths** list the sibling digests from the leaf level up; at level h the
  current node is the left child iff bit h of the leaf index is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.hash.errors import MerklePathShapeError, MerkleRootMismatch
from zkaudit.hash.params import DIGEST_LEN, LEAF_RATE
from zkaudit.hash.poseidon2 import as_elements, compress_rows, hash_leaf_rows

U64 = np.uint64


def num_leaves_for(message_len: int) -> int:
    """2^k, the fewest power-of-two leaves that hold `message_len` elements."""
    if message_len < 1:
        raise ValueError("cannot hash an empty message")
    blocks = -(-message_len // LEAF_RATE)
    return 1 << (blocks - 1).bit_length()


def leaf_blocks(elements) -> np.ndarray:
    """(2^k, 7) zero-padded leaf blocks of a 1-D message."""
    msg = as_elements(elements, what="message")
    if msg.ndim != 1:
        raise ValueError(f"a message is 1-D, got shape {msg.shape}")
    n_leaves = num_leaves_for(msg.shape[0])
    blocks = np.zeros(n_leaves * LEAF_RATE, dtype=U64)
    blocks[: msg.shape[0]] = msg
    return blocks.reshape(n_leaves, LEAF_RATE)


def parent_level(level: np.ndarray) -> np.ndarray:
    """The level above a (2m, 4) level: compress rows 2i and 2i + 1."""
    return compress_rows(level.reshape(level.shape[0] // 2, 2 * DIGEST_LEN))


def _sparse_levels(elements) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """(blocks, real levels, padding digests). Padding blocks are all zero,
    so every padding subtree of height h has one digest pad[h]: level h is
    real[h] followed by copies of pad[h], and only the real rows (plus at
    most one pad row per level) are hashed. For 10^6 int8 weights this skips
    the 37% of leaves that power-of-two padding adds."""
    msg = as_elements(elements, what="message")
    blocks = leaf_blocks(msg)
    n_real = -(-msg.shape[0] // LEAF_RATE)
    pad = hash_leaf_rows(np.zeros((1, LEAF_RATE), dtype=U64))
    level = hash_leaf_rows(np.ascontiguousarray(blocks[:n_real]))
    size = blocks.shape[0]
    real, pads = [level], [pad]
    while size > 1:
        if level.shape[0] % 2:  # an odd real count only happens below a padded level
            level = np.concatenate([level, pad])
        level = parent_level(level)
        pad = parent_level(np.concatenate([pad, pad]))
        size //= 2
        real.append(level)
        pads.append(pad)
    return blocks, real, pads


class MerkleTree:
    """Every level of the tree, leaf digests first; `levels[-1]` is (1, 4)."""

    def __init__(self, elements):
        self.blocks, real, pads = _sparse_levels(elements)
        self.num_leaves = self.blocks.shape[0]
        self.depth = self.num_leaves.bit_length() - 1
        self.levels = []
        for h, (r, z) in enumerate(zip(real, pads)):
            width = self.num_leaves >> h
            self.levels.append(np.concatenate([r, np.repeat(z, width - r.shape[0], axis=0)]))

    @property
    def root(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.levels[-1][0])

    def path(self, leaf_index: int) -> np.ndarray:
        """(depth, 4) sibling digests from the leaf level up."""
        if not 0 <= leaf_index < self.num_leaves:
            raise ValueError(f"leaf index {leaf_index} outside [0, {self.num_leaves})")
        out = np.empty((self.depth, DIGEST_LEN), dtype=U64)
        i = leaf_index
        for h in range(self.depth):
            out[h] = self.levels[h][i ^ 1]
            i >>= 1
        return out

    def opening(self, leaf_index: int) -> MerklePath:
        return MerklePath(leaf_index, tuple(int(v) for v in self.blocks[leaf_index]),
                          tuple(tuple(int(v) for v in row) for row in self.path(leaf_index)))  # fmt: skip


def merkle_root(elements) -> tuple[int, ...]:
    _, real, _ = _sparse_levels(elements)
    return tuple(int(v) for v in real[-1][0])


@dataclass(frozen=True)
class MerklePath:
    """A leaf's 7 elements, its index and the sibling digests above it."""

    leaf_index: int
    leaf: tuple[int, ...]
    siblings: tuple[tuple[int, ...], ...]


def verify_path(root, depth: int, path: MerklePath) -> None:
    """Recompute the root from one leaf and its siblings; raises
    MerklePathShapeError or MerkleRootMismatch, returns None when it checks."""
    if len(path.siblings) != depth:
        raise MerklePathShapeError("Merkle path length is not the tree depth", expected=depth, got=len(path.siblings))
    if not isinstance(path.leaf_index, int) or not 0 <= path.leaf_index < (1 << depth):
        raise MerklePathShapeError("leaf index outside the tree", expected=f"[0, 2^{depth})", got=path.leaf_index)
    try:
        leaf = as_elements([list(path.leaf)], LEAF_RATE, "leaf")
        if any(len(s) != DIGEST_LEN for s in path.siblings):
            raise ValueError("a sibling digest is 4 elements")
        rows = [list(s) for s in path.siblings]
        sib = as_elements(rows, DIGEST_LEN, "sibling") if depth else np.zeros((0, DIGEST_LEN), dtype=U64)
        want = as_elements([list(root)], DIGEST_LEN, "root")[0]
    except (ValueError, TypeError) as exc:
        raise MerklePathShapeError(f"Merkle path does not parse: {exc}") from None
    node = hash_leaf_rows(leaf)
    i = path.leaf_index
    for h in range(depth):
        pair = np.concatenate([node, sib[h : h + 1]] if i & 1 == 0 else [sib[h : h + 1], node], axis=1)
        node = compress_rows(np.ascontiguousarray(pair))
        i >>= 1
    if not np.array_equal(node[0], want):
        raise MerkleRootMismatch("Merkle path does not lead to the root", expected=tuple(int(v) for v in want),
                                 got=tuple(int(v) for v in node[0]))  # fmt: skip
