"""Review 0612: `merkle.verify_multiproof` (two parallel ordered lists)
against the dict-per-level `merkle_reference.verify_multiproof`.

Exhaustive over every index subset of small trees, with every single-sibling
substitution, adjacent swaps, truncation/extension, leaf-digest swaps and
index shifts; the outcome compared includes *any* exception type (not only
the two Merkle errors), and hostile shapes (wrong-length digests, depth 0,
indices longer than leaves) must end in the two Merkle errors only."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from zkaudit.field import vec
from zkaudit.pcs import merkle
from zkaudit.pcs import merkle_reference as ref
from zkaudit.pcs.errors import MerkleProofShapeError, MerkleRootMismatch

MERKLE_ERRORS = (MerkleProofShapeError, MerkleRootMismatch)


def _tree(depth: int, seed: int = 0):
    leaves = vec.random((1 << depth) * 2, np.random.default_rng(seed)).reshape(1 << depth, 2)
    tree = merkle.MerkleTree(leaves)
    digests = [tree.node(0, i) for i in range(1 << depth)]
    return tree, digests


def _outcome(fn, *args):
    """'accepted', or the exception's type name (whatever it is)."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - any type is part of the comparison
        return type(e).__name__
    return "accepted"


def _both(root, depth, idx, digs, sibs):
    proof = merkle.MultiProof(tuple(sibs))
    new = _outcome(merkle.verify_multiproof, root, depth, idx, digs, proof)
    old = _outcome(ref.verify_multiproof, root, depth, idx, digs, proof)
    assert new == old, (depth, idx, len(sibs), new, old)
    return new


def _mutations(idx, digs, sibs, depth):
    """(indices, digests, siblings) variants of an honest opening."""
    flip = lambda b: bytes([b[0] ^ 0x80]) + b[1:]  # noqa: E731
    for k in range(len(sibs)):
        s = list(sibs)
        s[k] = flip(s[k])
        yield idx, digs, s
        yield idx, digs, sibs[:k] + sibs[k + 1:]
        yield idx, digs, sibs[:k] + [sibs[k]] + sibs[k:]  # one duplicated
        if k + 1 < len(sibs):
            s = list(sibs)
            s[k], s[k + 1] = s[k + 1], s[k]
            yield idx, digs, s
    yield idx, digs, sibs + [bytes(32)]
    yield idx, digs, [bytes(32)] + sibs
    for j in range(len(digs)):
        d = list(digs)
        d[j] = flip(d[j])
        yield idx, d, sibs
        if j + 1 < len(digs):
            d = list(digs)
            d[j], d[j + 1] = d[j + 1], d[j]
            yield idx, d, sibs
        for delta in (-1, 1):  # an index moved by one, possibly out of range / unsorted
            moved = list(idx)
            moved[j] += delta
            yield moved, digs, sibs
    yield idx[::-1], digs[::-1], sibs
    yield idx + idx[-1:], digs + digs[-1:], sibs  # a duplicated index
    yield idx, digs + digs[-1:], sibs  # more leaves than indices
    yield idx + [idx[-1] + 1], digs, sibs  # more indices than leaves


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_every_subset_and_mutation_agrees_with_reference(depth):
    tree, digests = _tree(depth, depth)
    n = 1 << depth
    for r in range(1, n + 1):
        for idx in map(list, itertools.combinations(range(n), r)):
            digs = [digests[i] for i in idx]
            sibs = list(tree.open(idx).siblings)
            assert _both(tree.root, depth, idx, digs, sibs) == "accepted"
            for i, d, s in _mutations(idx, digs, sibs, depth):
                got = _both(tree.root, depth, i, d, s)
                if got == "accepted":  # only an equal opening may pass
                    assert (i, d, s) == (idx, digs, sibs), (idx, i)


def test_random_subsets_of_a_deeper_tree_agree_and_consume_exactly_the_proof():
    depth = 7
    tree, digests = _tree(depth, 11)
    rng = np.random.default_rng(3)
    for _ in range(60):
        r = int(rng.integers(1, 40))
        idx = sorted(set(int(x) for x in rng.integers(0, 1 << depth, size=r)))
        digs = [digests[i] for i in idx]
        sibs = list(tree.open(idx).siblings)
        assert _both(tree.root, depth, idx, digs, sibs) == "accepted"
        # one digest short: the shape error, never an IndexError
        assert sibs == [] or _both(tree.root, depth, idx, digs, sibs[:-1]) == "MerkleProofShapeError"
        # a sibling stolen from another level/position: mismatch
        if sibs:
            k = int(rng.integers(0, len(sibs)))
            s = list(sibs)
            s[k] = tree.node(int(rng.integers(0, depth)), 0) if s[k] != tree.node(0, 0) else tree.node(0, 1)
            assert _both(tree.root, depth, idx, digs, s) in ("MerkleRootMismatch", "accepted")
            if s != sibs:
                assert _both(tree.root, depth, idx, digs, s) == "MerkleRootMismatch"


def test_adjacent_pairs_take_no_sibling_for_each_other():
    """Leaves 2k, 2k+1 both opened combine directly: a proof that supplies a
    digest for one of them anyway has an unused digest, in both versions."""
    depth = 3
    tree, digests = _tree(depth, 5)
    for idx in ([0, 1], [2, 3], [0, 1, 6, 7], [1, 2], [3, 4], [0, 1, 2, 3, 4, 5, 6, 7]):
        digs = [digests[i] for i in idx]
        sibs = list(tree.open(idx).siblings)
        assert _both(tree.root, depth, idx, digs, sibs) == "accepted"
        padded = [tree.node(0, idx[0] ^ 1)] + sibs
        assert _both(tree.root, depth, idx, digs, padded) in ("MerkleProofShapeError", "MerkleRootMismatch")
    # 1 and 2 are adjacent but not siblings: each needs its own sibling
    assert len(tree.open([1, 2]).siblings) == 2 + 1  # 0, 3 at level 0; the parent 1's sibling at level 1
    assert len(tree.open([0, 1]).siblings) == depth - 1


def test_depth_zero_is_the_leaf_itself():
    tree, digests = _tree(0)
    assert tree.root == digests[0]
    assert _both(tree.root, 0, [0], digests, []) == "accepted"
    assert _both(tree.root, 0, [0], digests, [bytes(32)]) == "MerkleProofShapeError"
    assert _both(tree.root, 0, [0], [bytes(32)], []) == "MerkleRootMismatch"
    assert _both(tree.root, 0, [1], digests, []) == "MerkleProofShapeError"
    assert _both(tree.root, 0, [], [], []) == "MerkleProofShapeError"


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33, b"\x00" * 64, bytearray(32), memoryview(bytes(32))])
def test_wrong_length_or_type_digests_are_refused_as_merkle_errors(bad):
    """Whatever byte strings the siblings or leaf digests are, the verifier
    ends in a Merkle error (as the reference does), never a crash."""
    depth = 3
    tree, digests = _tree(depth, 9)
    idx = [1, 4, 5]
    digs = [digests[i] for i in idx]
    sibs = list(tree.open(idx).siblings)
    for k in range(len(sibs)):
        s = list(sibs)
        s[k] = bad
        assert _both(tree.root, depth, idx, digs, s) == "MerkleRootMismatch"
    for j in range(len(digs)):
        d = list(digs)
        d[j] = bad
        assert _both(tree.root, depth, idx, d, sibs) == "MerkleRootMismatch"


def test_a_node_cannot_pass_as_a_leaf_one_level_up():
    """The prefixes: opening a level-1 node as if it were a leaf of a tree one
    level shallower (same root) fails, and the honest opening needs the depth."""
    depth = 3
    tree, digests = _tree(depth, 2)
    node = tree.node(1, 2)
    sibs = [tree.node(1, 3), tree.node(2, 0)]
    # at the committed depth a level-1 node is no leaf: too few digests, or a mismatch
    assert _both(tree.root, depth, [2], [node], sibs) == "MerkleProofShapeError"
    assert _both(tree.root, depth, [4], [node], sibs + [bytes(32)]) == "MerkleRootMismatch"


def test_numpy_integer_indices_behave_like_ints():
    depth = 4
    tree, digests = _tree(depth, 4)
    idx = [0, 1, 5, 9, 14]
    digs = [digests[i] for i in idx]
    sibs = list(tree.open(idx).siblings)
    for kind in (np.int64, np.int32, np.uint64):
        assert _both(tree.root, depth, [kind(i) for i in idx], digs, sibs) == "accepted"
    assert _both(tree.root, depth, np.array(idx).tolist(), digs, sibs[1:]) == "MerkleProofShapeError"
