"""Poseidon2 Merkle tree: the numba tree equals the Python-int reference;
paths verify, and every tampering is rejected with its typed error."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.hash import merkle as M
from zkaudit.hash import reference as R
from zkaudit.hash.errors import MerklePathShapeError, MerkleRootMismatch


def _message(n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)  # test data only
    return [int(v) for v in rng.integers(0, P, size=n, dtype=np.uint64)]


# 1 element .. several levels, on and off the 7-element leaf boundary.
LENGTHS = [1, 6, 7, 8, 14, 15, 29, 57, 113]


@pytest.mark.parametrize("n", LENGTHS)
def test_kernel_tree_equals_reference(n):
    msg = _message(n, seed=n)
    levels = R.tree_levels(msg)
    tree = M.MerkleTree(msg)
    assert tree.depth == len(levels) - 1 and tree.num_leaves == len(levels[0])
    for mine, ref in zip(tree.levels, levels):
        assert mine.tolist() == ref
    assert tree.root == tuple(R.merkle_root(msg)) == M.merkle_root(msg)


def test_paths_equal_reference_and_verify():
    msg = _message(57, seed=7)  # 9 blocks -> 16 leaves, depth 4
    tree = M.MerkleTree(msg)
    for i in range(tree.num_leaves):
        assert tree.path(i).tolist() == R.merkle_path(msg, i)
        op = tree.opening(i)
        M.verify_path(tree.root, tree.depth, op)
        assert R.root_from_path(list(op.leaf), i, op.siblings) == list(tree.root)


def test_golden_root():
    assert M.merkle_root(list(range(21))) == (
        0xD00C3C4BDA135219, 0xEF10ECABA8FA006B, 0x56FB1B843B011941, 0xE06986F0EEE7788D,
    )  # fmt: skip


def test_single_leaf_tree_has_an_empty_path():
    tree = M.MerkleTree([5])
    assert tree.depth == 0 and tree.path(0).shape == (0, 4)
    assert tree.root == tuple(R.hash_leaf([5, 0, 0, 0, 0, 0, 0]))
    M.verify_path(tree.root, 0, tree.opening(0))


def test_every_one_element_change_changes_the_root():
    msg = _message(30, seed=9)
    root = M.merkle_root(msg)
    seen = {root}
    for i in range(len(msg)):
        other = list(msg)
        other[i] = (other[i] + 1) % P
        r = M.merkle_root(other)
        assert r != root
        seen.add(r)
    assert len(seen) == len(msg) + 1


def test_swapping_two_leaves_changes_the_root():
    msg = list(range(28))  # 4 leaves
    swapped = msg[7:14] + msg[:7] + msg[14:]
    assert M.merkle_root(msg) != M.merkle_root(swapped)


def test_zero_padding_is_bound_only_with_the_length():
    # Documented: m and m || 0 share a root; callers bind the length.
    assert M.merkle_root([1, 2, 3]) == M.merkle_root([1, 2, 3, 0])


# ---- attacks on a path ----


@pytest.fixture(scope="module")
def tree():
    return M.MerkleTree(_message(60, seed=11))


def test_tampered_sibling_rejected(tree):
    op = tree.opening(3)
    for h in range(tree.depth):
        sib = [list(s) for s in op.siblings]
        sib[h][h % 4] = (sib[h][h % 4] + 1) % P
        bad = dataclasses.replace(op, siblings=tuple(tuple(s) for s in sib))
        with pytest.raises(MerkleRootMismatch):
            M.verify_path(tree.root, tree.depth, bad)


def test_tampered_leaf_rejected(tree):
    op = tree.opening(2)
    for j in range(7):
        leaf = list(op.leaf)
        leaf[j] = (leaf[j] + 1) % P
        with pytest.raises(MerkleRootMismatch):
            M.verify_path(tree.root, tree.depth, dataclasses.replace(op, leaf=tuple(leaf)))


def test_path_for_another_index_rejected(tree):
    op = tree.opening(4)
    with pytest.raises(MerkleRootMismatch):
        M.verify_path(tree.root, tree.depth, dataclasses.replace(op, leaf_index=5))


def test_wrong_root_rejected(tree):
    root = list(tree.root)
    root[0] = (root[0] + 1) % P
    with pytest.raises(MerkleRootMismatch):
        M.verify_path(tuple(root), tree.depth, tree.opening(0))


def test_internal_node_passed_off_as_a_leaf_rejected(tree):
    # The two children of a level-1 node, as a "leaf" one level up: the
    # tagged leaf hash differs from the node compression.
    children = np.concatenate([tree.levels[0][0], tree.levels[0][1]]).tolist()
    fake = M.MerklePath(0, tuple(children[:7]), tuple(tuple(int(v) for v in r) for r in tree.path(0)[1:]))
    with pytest.raises(MerkleRootMismatch):
        M.verify_path(tree.root, tree.depth - 1, fake)


def test_malformed_paths_rejected(tree):
    op = tree.opening(1)
    with pytest.raises(MerklePathShapeError):
        M.verify_path(tree.root, tree.depth, dataclasses.replace(op, siblings=op.siblings[:-1]))
    with pytest.raises(MerklePathShapeError):
        M.verify_path(tree.root, tree.depth, dataclasses.replace(op, siblings=op.siblings + ((0, 0, 0, 0),)))
    with pytest.raises(MerklePathShapeError):
        M.verify_path(tree.root, tree.depth, dataclasses.replace(op, leaf_index=tree.num_leaves))
    with pytest.raises(MerklePathShapeError):
        M.verify_path(tree.root, tree.depth, dataclasses.replace(op, leaf_index=-1))
    with pytest.raises(MerklePathShapeError):
        M.verify_path(tree.root, tree.depth, dataclasses.replace(op, leaf=op.leaf[:6]))
    sib = [list(s) for s in op.siblings]
    sib[0][0] += P  # same residue, non-canonical encoding
    with pytest.raises(MerklePathShapeError):
        M.verify_path(tree.root, tree.depth, dataclasses.replace(op, siblings=tuple(tuple(s) for s in sib)))
    sib[0] = sib[0][:3]
    with pytest.raises(MerklePathShapeError):
        M.verify_path(tree.root, tree.depth, dataclasses.replace(op, siblings=tuple(tuple(s) for s in sib)))


def test_empty_message_rejected():
    with pytest.raises(ValueError):
        M.merkle_root([])
