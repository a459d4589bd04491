"""Naive recursive Merkle tree with the same hashing as `merkle.py`: the root
by recursion over halves, and single authentication paths. Tests hold the
fast tree and the multi-path proofs to these."""

from __future__ import annotations

import hashlib

import numpy as np

from zkaudit.pcs.merkle import LEAF_PREFIX, NODE_PREFIX


def leaf_digest(leaf: np.ndarray) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf.astype("<u8").tobytes()).digest()


def root(leaves: np.ndarray) -> bytes:
    if leaves.shape[0] == 1:
        return leaf_digest(leaves[0])
    half = leaves.shape[0] // 2
    return hashlib.sha256(NODE_PREFIX + root(leaves[:half]) + root(leaves[half:])).digest()


def path(leaves: np.ndarray, index: int) -> list[bytes]:
    """Sibling digests from the leaf up to the root's children."""
    if leaves.shape[0] == 1:
        return []
    half = leaves.shape[0] // 2
    if index < half:
        return path(leaves[:half], index) + [root(leaves[half:])]
    return path(leaves[half:], index - half) + [root(leaves[:half])]


def verify_path(root_digest: bytes, leaf: np.ndarray, index: int, siblings: list[bytes]) -> bool:
    node = leaf_digest(leaf)
    for sib in siblings:
        node = hashlib.sha256(NODE_PREFIX + (node + sib if index & 1 == 0 else sib + node)).digest()
        index >>= 1
    return node == root_digest
