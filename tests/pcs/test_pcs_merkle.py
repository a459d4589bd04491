"""Merkle tree: the fast tree against the naive recursive one, multi-path
openings against single paths, and strict rejection of bad openings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkaudit.errors import MalformedProof
from zkaudit.field import vec
from zkaudit.pcs import merkle
from zkaudit.pcs import merkle_reference as ref
from zkaudit.pcs.errors import MerkleProofShapeError, MerkleRootMismatch


def _leaves(depth: int, width: int, seed: int = 0) -> np.ndarray:
    return vec.random((1 << depth) * width, np.random.default_rng(seed)).reshape(1 << depth, width)


def _digests(leaves, idx):
    return [ref.leaf_digest(leaves[i]) for i in idx]


@pytest.mark.parametrize("depth", range(0, 7))
@pytest.mark.parametrize("width", [1, 3, 256])
def test_root_matches_naive(depth, width):
    leaves = _leaves(depth, width, depth)
    assert merkle.MerkleTree(leaves).root == ref.root(leaves)


@pytest.mark.parametrize("depth", range(0, 6))
def test_single_openings_are_the_naive_paths(depth):
    leaves = _leaves(depth, 2, depth)
    tree = merkle.MerkleTree(leaves)
    for i in range(1 << depth):
        path = ref.path(leaves, i)
        assert list(tree.open([i]).siblings) == path
        assert ref.verify_path(tree.root, leaves[i], i, path)
        merkle.verify_multiproof(tree.root, depth, [i], _digests(leaves, [i]), tree.open([i]))


@given(st.integers(1, 7), st.data())
def test_multiproofs_verify_and_share_nodes(depth, data):
    leaves = _leaves(depth, 2, depth)
    tree = merkle.MerkleTree(leaves)
    idx = sorted(data.draw(st.sets(st.integers(0, (1 << depth) - 1), min_size=1)))
    proof = tree.open(idx)
    merkle.verify_multiproof(tree.root, depth, idx, _digests(leaves, idx), proof)
    # Never more digests than the separate paths; strictly fewer once two paths meet.
    assert len(proof.siblings) <= depth * len(idx)
    if len(idx) > 1:
        assert len(proof.siblings) < depth * len(idx)


def test_full_opening_needs_no_siblings():
    leaves = _leaves(3, 1)
    tree = merkle.MerkleTree(leaves)
    proof = tree.open(list(range(8)))
    assert proof.siblings == ()
    merkle.verify_multiproof(tree.root, 3, list(range(8)), _digests(leaves, range(8)), proof)


def test_leaf_and_node_hashes_are_domain_separated():
    a, b = merkle.hash_leaf(b"x"), merkle.hash_leaf(b"y")
    assert merkle.hash_node(a, b) != merkle.hash_leaf(a + b)
    # A two-leaf tree's root is not the digest of a leaf holding both digests.
    leaves = _leaves(1, 4)
    tree = merkle.MerkleTree(leaves)
    inner = tree.levels[0]
    assert tree.root != merkle.hash_leaf(inner)


class TestRejections:
    depth = 5

    def setup_method(self):
        self.leaves = _leaves(self.depth, 3, 9)
        self.tree = merkle.MerkleTree(self.leaves)
        self.idx = [1, 2, 17, 30]
        self.proof = self.tree.open(self.idx)
        self.digests = _digests(self.leaves, self.idx)

    def verify(self, root=None, idx=None, digests=None, proof=None):
        merkle.verify_multiproof(root or self.tree.root, self.depth, self.idx if idx is None else idx,
                                 self.digests if digests is None else digests, proof or self.proof)

    def test_honest(self):
        self.verify()

    def test_tampered_sibling(self):
        sib = list(self.proof.siblings)
        sib[3] = bytes([sib[3][0] ^ 1]) + sib[3][1:]
        with pytest.raises(MerkleRootMismatch):
            self.verify(proof=merkle.MultiProof(tuple(sib)))

    def test_tampered_leaf(self):
        bad = self.leaves[17].copy()
        bad[0] ^= 1
        digests = list(self.digests)
        digests[2] = ref.leaf_digest(bad)
        with pytest.raises(MerkleRootMismatch):
            self.verify(digests=digests)

    def test_leaf_claimed_at_another_index(self):
        with pytest.raises(MerkleRootMismatch):
            self.verify(idx=[1, 2, 17, 31])

    def test_wrong_root(self):
        with pytest.raises(MerkleRootMismatch):
            self.verify(root=bytes(32))

    def test_missing_and_extra_digests(self):
        with pytest.raises(MerkleProofShapeError):
            self.verify(proof=merkle.MultiProof(self.proof.siblings[:-1]))
        with pytest.raises(MerkleProofShapeError):
            self.verify(proof=merkle.MultiProof(self.proof.siblings + (bytes(32),)))

    def test_bad_indices(self):
        for idx in ([2, 1, 17, 30], [1, 1, 17, 30], [1, 2, 17, 32], [-1, 2, 17, 30]):
            with pytest.raises(MerkleProofShapeError):
                self.verify(idx=idx)
        with pytest.raises(MerkleProofShapeError):
            self.verify(digests=self.digests[:-1])
        assert issubclass(MerkleProofShapeError, MalformedProof)


def test_tree_rejects_bad_leaf_counts():
    with pytest.raises(ValueError):
        merkle.MerkleTree(np.zeros((3, 2), dtype=np.uint64))
    with pytest.raises(TypeError):
        merkle.MerkleTree(np.zeros(4, dtype=np.uint64))
    with pytest.raises(ValueError):
        merkle.MerkleTree(_leaves(2, 1)).open([2, 1])


def _outcome(fn, *args):
    try:
        fn(*args)
    except (MerkleProofShapeError, MerkleRootMismatch) as e:
        return type(e).__name__
    return "accepted"


@given(st.integers(0, 7), st.data())
def test_multiproof_verifier_agrees_with_reference(depth, data):
    """The list-based verifier and the dict-based reference accept and refuse
    the same openings, with the same error: honest ones, and ones with a
    sibling flipped, dropped, added or two swapped, a leaf digest changed,
    or an index moved."""
    leaves = _leaves(depth, 2, depth)
    tree = merkle.MerkleTree(leaves)
    idx = sorted(data.draw(st.sets(st.integers(0, (1 << depth) - 1), min_size=1)))
    digests = _digests(leaves, idx)
    sib = list(tree.open(idx).siblings)
    cases = [(idx, digests, sib)]
    if sib:
        k = data.draw(st.integers(0, len(sib) - 1))
        flipped = list(sib)
        flipped[k] = bytes([sib[k][0] ^ 1]) + sib[k][1:]
        cases += [(idx, digests, flipped), (idx, digests, sib[:k] + sib[k + 1:]),
                  (idx, digests, sib[::-1])]
    cases.append((idx, digests, sib + [bytes(32)]))
    j = data.draw(st.integers(0, len(idx) - 1))
    changed = list(digests)
    changed[j] = merkle.hash_leaf(b"other")
    cases.append((idx, changed, sib))
    moved = list(idx)
    moved[j] = data.draw(st.integers(-1, 1 << depth))
    cases.append((moved, digests, sib))
    for i, d, s in cases:
        proof = merkle.MultiProof(tuple(s))
        assert (_outcome(merkle.verify_multiproof, tree.root, depth, i, d, proof)
                == _outcome(ref.verify_multiproof, tree.root, depth, i, d, proof))
    assert _outcome(merkle.verify_multiproof, tree.root, depth, idx, digests, merkle.MultiProof(tuple(sib))) == "accepted"
