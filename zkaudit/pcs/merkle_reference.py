"""Naive recursive Merkle tree with the same hashing as `merkle.py`: the root
by recursion over halves, and single authentication paths. Tests hold the
fast tree and the multi-path proofs to these."""

from __future__ import annotations

import hashlib

import numpy as np

from zkaudit.pcs import merkle
from zkaudit.pcs.errors import MerkleProofShapeError, MerkleRootMismatch
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


def verify_multiproof(
    root: bytes, depth: int, indices: list[int], leaf_digests: list[bytes], proof: merkle.MultiProof
) -> None:
    """Recompute the root from the opened leaves' digests and the proof.
    Raises MerkleProofShapeError (wrong number of digests, bad indices) or
    MerkleRootMismatch; returns None when the paths authenticate: the
    reference `merkle.verify_multiproof` is tested against (a dict of known
    nodes per level, sorted each level)."""
    n = 1 << depth
    if len(indices) != len(leaf_digests) or not indices:
        raise MerkleProofShapeError("opened leaves and indices differ in number", expected=len(indices), got=len(leaf_digests))
    if any(not 0 <= i < n for i in indices) or any(a >= b for a, b in zip(indices, indices[1:])):
        raise MerkleProofShapeError("opened leaf indices are not sorted, distinct and in range")
    nodes = dict(zip(indices, leaf_digests))
    siblings = proof.siblings
    used = 0
    for height in range(depth):
        parents: dict[int, bytes] = {}
        for i in sorted(nodes):
            parent = i >> 1
            if parent in parents:
                continue  # already combined with its left sibling
            if i & 1 == 0 and i + 1 in nodes:
                left, right = nodes[i], nodes[i + 1]
            else:
                if used >= len(siblings):
                    raise MerkleProofShapeError("Merkle proof has too few digests", round=height, got=len(siblings))
                sib = siblings[used]
                used += 1
                left, right = (nodes[i], sib) if i & 1 == 0 else (sib, nodes[i])
            parents[parent] = merkle.hash_node(left, right)
        nodes = parents
    if used != len(siblings):
        raise MerkleProofShapeError("Merkle proof has unused digests", expected=used, got=len(siblings))
    got = nodes[0]
    if got != root:
        raise MerkleRootMismatch("opened columns do not authenticate against the commitment root", expected=root.hex(), got=got.hex())
