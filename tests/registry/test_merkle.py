"""Stored-node Merkle proofs equal the literal RFC 6962 definitions, verify
with the RFC 9162 algorithms, and fail for any wrong input."""

from __future__ import annotations

import pytest

import merkle_reference as ref
from zkaudit.registry import merkle

N = 40
DATA = [f"entry-{i}".encode() for i in range(N)]


@pytest.fixture(scope="module")
def nodes():
    fr = merkle.Frontier(0, [])
    store: dict[tuple[int, int], bytes] = {}
    roots = [fr.root()]
    for d in DATA:
        for lv, ix, h in fr.append(merkle.leaf_hash(d)):
            assert (lv, ix) not in store  # nodes are written once, never rewritten
            store[(lv, ix)] = h
        roots.append(fr.root())
    return store, roots


def _get(store):
    return lambda lv, ix: store[(lv, ix)]


def test_roots_match_reference(nodes):
    store, roots = nodes
    for n in range(N + 1):
        assert roots[n] == ref.mth(DATA[:n])
        assert merkle.subtree_hash(0, n, _get(store)) == ref.mth(DATA[:n])


def test_frontier_resumes_from_stored_nodes(nodes):
    store, roots = nodes
    size = 13
    fr = merkle.Frontier(size, [store[k] for k in merkle.decompose(0, size)])
    for d in DATA[size:20]:
        fr.append(merkle.leaf_hash(d))
    assert fr.root() == roots[20]


def test_inclusion_proofs(nodes):
    store, roots = nodes
    for n in range(1, N + 1):
        for m in range(n):
            got = [merkle.subtree_hash(s, z, _get(store)) for s, z in merkle.inclusion_ranges(m, n)]
            assert got == ref.path(m, DATA[:n])
            leaf = merkle.leaf_hash(DATA[m])
            assert merkle.verify_inclusion(leaf, m, n, got, roots[n])
            assert not merkle.verify_inclusion(merkle.leaf_hash(b"other"), m, n, got, roots[n])
            if got:
                bad = list(got)
                bad[-1] = bytes(32)
                assert not merkle.verify_inclusion(leaf, m, n, bad, roots[n])
                assert not merkle.verify_inclusion(leaf, m, n, got[:-1], roots[n])
            if n > 1:
                assert not merkle.verify_inclusion(leaf, (m + 1) % n, n, got, roots[n])


def test_consistency_proofs(nodes):
    store, roots = nodes
    for n in range(N + 1):
        for m in range(n + 1):
            got = [merkle.subtree_hash(s, z, _get(store)) for s, z in merkle.consistency_ranges(m, n)]
            assert got == ref.proof(m, DATA[:n])
            assert merkle.verify_consistency(m, n, roots[m], roots[n], got)
            if 0 < m < n:
                assert not merkle.verify_consistency(m, n, roots[m], bytes(32), got)
                assert not merkle.verify_consistency(m, n, bytes(32), roots[n], got)
                bad = list(got)
                bad[0] = bytes(32)
                assert not merkle.verify_consistency(m, n, roots[m], roots[n], bad)
                assert not merkle.verify_consistency(m, n, roots[m], roots[n], got[:-1])


def test_forked_history_is_not_consistent():
    a = DATA[:10]
    b = DATA[:6] + [b"rewritten"] + DATA[7:12]
    store: dict = {}
    fr = merkle.Frontier(0, [])
    for d in b:
        for lv, ix, h in fr.append(merkle.leaf_hash(d)):
            store[(lv, ix)] = h
    proof = [merkle.subtree_hash(s, z, _get(store)) for s, z in merkle.consistency_ranges(10, 12)]
    assert not merkle.verify_consistency(10, 12, ref.mth(a), fr.root(), proof)
