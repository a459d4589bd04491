"""Poseidon2-Goldilocks width 8: Plonky3's published test vector, and the
numba kernels held to the plain-Python reference on random states."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.hash import kernels as K
from zkaudit.hash import poseidon2
from zkaudit.hash import reference as R
from zkaudit.hash.params import LEAF_TAG

# Plonky3 goldilocks/src/poseidon2.rs, test_default_goldilocks_poseidon2_width_8.
PLONKY3_IN = list(range(8))
PLONKY3_OUT = [
    0x020CF04A1B214D14, 0x84E14AAAEACAED25, 0x1AE0F640E81C7457, 0xA4D204CBAEB0D8A5,
    0x0CF637B627B3A7FF, 0x788D304D948B486B, 0x7327133EA1949AF4, 0xF415ABB924DA395B,
]  # fmt: skip


def _random_states(n: int, seed: int) -> np.ndarray:
    # Test data only (a seeded generator is fine here; no prover randomness).
    rng = np.random.default_rng(seed)
    s = rng.integers(0, P, size=(n, 8), dtype=np.uint64, endpoint=False)
    edges = np.array([[0] * 8, [P - 1] * 8, [1] * 8, [P - 1, 0, P - 1, 0, 1, P - 2, 2, (P - 1) // 2]], dtype=np.uint64)
    return np.concatenate([edges, s])


def test_reference_reproduces_plonky3_vector():
    assert R.permute(PLONKY3_IN) == PLONKY3_OUT


def test_kernel_reproduces_plonky3_vector():
    out = poseidon2.permute(np.array(PLONKY3_IN, dtype=np.uint64))
    assert out.tolist() == PLONKY3_OUT


def test_kernel_equals_reference_on_random_states():
    states = _random_states(60, seed=1)
    out = poseidon2.permute(states)
    assert out.dtype == np.uint64 and out.shape == states.shape
    for s, o in zip(states.tolist(), out.tolist()):
        assert o == R.permute(s)
    assert int(out.max()) < P


def test_unrolled_linear_layers_equal_the_matrices():
    for s in _random_states(40, seed=2).tolist():
        u = [np.uint64(v) for v in s]
        assert [int(v) for v in K._external_linear(*u)] == R.external_linear(s)
        assert [int(v) for v in K._internal_linear(*u)] == R.internal_linear(s)
        assert [int(K._sbox(v)) for v in u] == [pow(v, 7, P) for v in s]
        assert [int(K._halve(v)) for v in u] == [v * pow(2, P - 2, P) % P for v in s]


def test_batch_rows_are_independent():
    states = _random_states(17, seed=3)
    whole = poseidon2.permute(states)
    for i in range(states.shape[0]):
        assert np.array_equal(poseidon2.permute(states[i]), whole[i])


def test_permute_rejects_bad_input():
    with pytest.raises(ValueError):
        poseidon2.permute(np.array([P] + [0] * 7, dtype=np.uint64))
    with pytest.raises(ValueError):
        poseidon2.permute(np.zeros((3, 7), dtype=np.uint64))
    with pytest.raises(ValueError):
        poseidon2.permute([-1] + [0] * 7)
    with pytest.raises(TypeError):
        poseidon2.permute(np.zeros(8, dtype=np.float64))
    # Python ints >= 2^63 mixed with small ones are taken exactly, not as floats.
    assert poseidon2.permute([P - 1] + [0] * 7).tolist() == R.permute([P - 1] + [0] * 7)


def test_compress_is_the_truncated_permutation():
    s = _random_states(20, seed=4)
    got = poseidon2.compress(s[:, :4], s[:, 4:])
    assert np.array_equal(got, poseidon2.permute(s)[:, :4])
    for row, g in zip(s.tolist(), got.tolist()):
        assert g == R.compress(row[:4], row[4:])
    # Order matters: the left child is lanes 0..3.
    assert not np.array_equal(poseidon2.compress(s[:, :4], s[:, 4:]), poseidon2.compress(s[:, 4:], s[:, :4]))


def test_leaf_hash_is_the_tagged_truncated_permutation():
    s = _random_states(20, seed=5)[:, :7]
    got = poseidon2.hash_leaves(s)
    for row, g in zip(s.tolist(), got.tolist()):
        assert g == R.hash_leaf(row) == R.permute(row + [LEAF_TAG])[:4]


# Pinned: the leaf and internal compressions on the same 7 leading lanes.
LEAF_0_TO_6 = [0x85B7C0EF1E907E48, 0x54CB72DFADF02FD0, 0xF4D2AD42FAEE765D, 0x7FD030C1937E0BD9]
NODE_0_TO_7 = [0x020CF04A1B214D14, 0x84E14AAAEACAED25, 0x1AE0F640E81C7457, 0xA4D204CBAEB0D8A5]


def test_leaf_and_internal_compressions_are_separated():
    assert R.hash_leaf(list(range(7))) == LEAF_0_TO_6
    assert R.compress([0, 1, 2, 3], [4, 5, 6, 7]) == NODE_0_TO_7 == PLONKY3_OUT[:4]
    blk = np.arange(7, dtype=np.uint64).reshape(1, 7)
    assert poseidon2.hash_leaves(blk)[0].tolist() == LEAF_0_TO_6
    # The two domains meet only where an internal node's last lane is the tag.
    for last in (0, 7, LEAF_TAG - 1, LEAF_TAG + 1, P - 1):
        assert R.compress([0, 1, 2, 3], [4, 5, 6, last]) != LEAF_0_TO_6
    assert R.compress([0, 1, 2, 3], [4, 5, 6, LEAF_TAG]) == LEAF_0_TO_6
