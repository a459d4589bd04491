"""The weights link's witness built by tracing the Merkle tree level by level
into the GKR's batch (`LinkWitness._build`) against the sparse Merkle tree
build (`_build_reference`): the same digest table D, permutation inputs X
and salt, and the kept trace is `gkr_prover.trace(X)` exactly; the kernel
that traces into a column range writes what the whole-batch kernel writes.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.hash import gkr_prover
from zkaudit.hash import kernels as hk
from zkaudit.hash.merkle import merkle_root, num_leaves_for
from zkaudit.statements.inference import weights_link_prover as wlp

SALT = (11, 22)


def _plan(msg_len: int):
    """What `_build` reads of a LinkPlan: the leaf count, the dummy digest and the root."""
    return SimpleNamespace(num_leaves=num_leaves_for(msg_len), dummy_digest=(1, 2, 3, 4),
                           record=SimpleNamespace(root=(0, 0, 0, 0), root_bytes=lambda: b""))


def _reference(plan, msg) -> wlp.LinkWitness:
    out = wlp.LinkWitness.__new__(wlp.LinkWitness)
    out._build_reference(plan, msg, SALT, check=False)
    return out


# 1 leaf, 2, a power of two, padding leaves (the sparse build skips them), past 2^10 states
@pytest.mark.parametrize("msg_len", [1, 7, 8, 28, 29, 100, 7 * 700])
def test_traced_tree_equals_the_sparse_merkle_build(msg_len):
    rng = np.random.default_rng(msg_len)  # test data only
    msg = rng.integers(0, P, size=msg_len, dtype=np.uint64)
    msg[:3] = P - 1  # the largest elements
    plan = _plan(msg_len)
    fast = wlp.LinkWitness.from_message(plan, msg, SALT)
    ref = _reference(plan, msg)
    assert fast.layers is not None
    assert np.array_equal(fast.digests, ref.digests)
    assert np.array_equal(fast.states, ref.states)
    assert np.array_equal(fast.salt, ref.salt)
    assert tuple(int(v) for v in fast.digests[4:8]) == merkle_root(msg)
    assert np.array_equal(fast.take_layers(), gkr_prover.trace(ref.states))
    # handed over once; a second proof traces afresh
    assert fast.layers is None
    assert np.array_equal(fast.take_layers(), gkr_prover.trace(ref.states))


def test_big_trees_take_the_reference_build(monkeypatch):
    monkeypatch.setattr(wlp, "TRACE_KEPT_UP_TO", 4)
    msg = np.arange(100, dtype=np.uint64)
    plan = _plan(100)
    w = wlp.LinkWitness.from_message(plan, msg, SALT)
    assert w.layers is None
    assert np.array_equal(w.digests, _reference(plan, msg).digests)


def test_a_root_mismatch_is_refused_on_both_builds(monkeypatch):
    from zkaudit.hash import commitment as hc

    msg = np.arange(50, dtype=np.uint64)
    plan = _plan(50)
    for cap in (1 << 15, 4):
        monkeypatch.setattr(wlp, "TRACE_KEPT_UP_TO", cap)
        w = wlp.LinkWitness.__new__(wlp.LinkWitness)
        with pytest.raises(hc.WeightOpeningMismatch):
            w._build(plan, msg, SALT, check=True)
    plan.record.root = merkle_root(msg)
    w._build(plan, msg, SALT, check=True)


@pytest.mark.parametrize("n", [3, 40, 600])
def test_tracing_into_a_column_range_writes_the_whole_batch_trace(n):
    rng = np.random.default_rng(n)  # test data only
    states = rng.integers(0, P, size=(n, 8), dtype=np.uint64)
    whole = np.empty((31, 8, n), dtype=np.uint64)
    hk._trace_rows(states, whole, hk.RC_EXTERNAL, hk.RC_INTERNAL)
    wide = np.zeros((31, 8, n + 9), dtype=np.uint64)
    hk._trace_rows_into(states, wide, 5, hk.RC_EXTERNAL, hk.RC_INTERNAL)
    assert np.array_equal(wide[:, :, 5: 5 + n], whole)
    assert not wide[:, :, :5].any() and not wide[:, :, 5 + n:].any()
    serial = np.zeros((31, 8, n + 9), dtype=np.uint64)
    hk._trace_rows_into_serial(states, serial, 5, hk.RC_EXTERNAL, hk.RC_INTERNAL)
    assert np.array_equal(serial, wide)
    numpy_path = np.zeros((31, 8, n + 9), dtype=np.uint64)
    hk.trace_rows_numpy(states, numpy_path[:, :, 5: 5 + n], hk.RC_EXTERNAL, hk.RC_INTERNAL)
    assert np.array_equal(numpy_path, wide)


@pytest.mark.parametrize("msg_len", [1, 8, 100, 7 * 700])
def test_digest_values_from_one_fold_equal_eight_evaluations(msg_len):
    from zkaudit.field.scalar import Fp2

    rng = np.random.default_rng(msg_len)  # test data only
    msg = rng.integers(0, P, size=msg_len, dtype=np.uint64)
    w = wlp.LinkWitness.from_message(_plan(msg_len), msg, SALT)
    n = (2 * num_leaves_for(msg_len)).bit_length() - 1  # the GKR's instance variables
    z = [Fp2(int(a), int(b)) for a, b in rng.integers(0, P, size=(n, 2), dtype=np.uint64)]
    fast = wlp._digest_values(w.digests, z)
    assert fast == wlp._digest_values_reference(w.digests, z)
    assert b"".join(v.to_bytes() for v in fast) == b"".join(v.to_bytes() for v in
                                                            wlp._digest_values_reference(w.digests, z))
