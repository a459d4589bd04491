"""The salted weight commitment p2gl8-tree-v1: packing is injective on int8,
and the root moves with any weight, the salt, and every header field."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkaudit.field.constants import P
from zkaudit.hash import commitment as C
from zkaudit.hash import reference as R
from zkaudit.hash.errors import WeightOpeningMismatch

LAYOUT = [{"name": "fc1.weight", "shape": [10, 10], "dtype": "int8", "scale": 0.25}]
DIGEST = C.layout_digest(LAYOUT)


def _weights(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)  # test data only
    return rng.integers(-128, 128, size=n, dtype=np.int8)


# ---- packing ----


def test_packing_layout():
    w = np.array([-128, -127, 0, 1, 127, -1, 5, 9], dtype=np.int8)
    packed = C.pack_int8(w)
    assert packed.dtype == np.uint64 and packed.shape == (2,)
    assert int(packed[0]) == sum((int(v) + 128) << (8 * j) for j, v in enumerate(w[:7]))
    assert int(packed[1]) == 9 + 128


def test_packing_is_injective_per_position():
    # All 256 values at each of the 7 byte positions of one element, the
    # other weights fixed: 256 distinct elements, all canonical and < 2^56.
    base = _weights(7, seed=1)
    for j in range(7):
        seen = set()
        for v in range(-128, 128):
            w = base.copy()
            w[j] = v
            e = int(C.pack_int8(w)[0])
            assert e < 1 << 56 < P
            seen.add(e)
        assert len(seen) == 256


@given(st.lists(st.integers(-128, 127), min_size=1, max_size=60))
def test_unpack_inverts_pack(values):
    w = np.array(values, dtype=np.int8)
    packed = C.pack_int8(w)
    assert packed.shape == (-(-len(values) // 7),)
    assert np.array_equal(C.unpack_int8(packed, len(values)), w)


@given(st.lists(st.integers(-128, 127), min_size=1, max_size=30), st.lists(st.integers(-128, 127), min_size=1, max_size=30))
def test_distinct_vectors_of_one_length_pack_differently(a, b):
    n = min(len(a), len(b))
    wa, wb = np.array(a[:n], dtype=np.int8), np.array(b[:n], dtype=np.int8)
    assert np.array_equal(C.pack_int8(wa), C.pack_int8(wb)) == np.array_equal(wa, wb)


def test_unpack_rejects_packings_no_int8_vector_makes():
    packed = C.pack_int8(np.zeros(9, dtype=np.int8))
    bad = packed.copy()
    bad[1] |= np.uint64(1 << 40)  # a byte after the 9th weight
    with pytest.raises(ValueError):
        C.unpack_int8(bad, 9)
    bad = packed.copy()
    bad[0] |= np.uint64(1 << 60)  # above 2^56
    with pytest.raises(ValueError):
        C.unpack_int8(bad, 9)
    with pytest.raises(ValueError):
        C.unpack_int8(packed, 15)


def test_non_int8_weights_rejected():
    with pytest.raises(TypeError):
        C.pack_int8(np.zeros(4, dtype=np.int16))
    with pytest.raises(TypeError):
        C.commit_weights([np.zeros(3, dtype=np.int8), np.zeros(3, dtype=np.int32)], DIGEST)


# ---- header ----


def test_header_layout():
    h = C.header_elements(100, DIGEST)
    assert len(h) == C.HEADER_LEN and all(0 <= v < 1 << 56 for v in h)
    assert h[:2] == [int.from_bytes(b"p2gl8-t", "little"), int.from_bytes(b"ree-v1", "little")]
    assert h[2] == 100
    assert b"".join(v.to_bytes(7, "little") for v in h[3:])[:32] == DIGEST


def test_layout_digest_is_canonical_and_sensitive():
    assert C.layout_digest([{"shape": [10, 10], "name": "fc1.weight", "scale": 0.25, "dtype": "int8"}]) == DIGEST
    for change in ({"shape": [100, 1]}, {"scale": 0.5}, {"dtype": "uint8"}, {"name": "fc2.weight"}):
        assert C.layout_digest([{**LAYOUT[0], **change}]) != DIGEST


# ---- the root ----


def test_kernel_root_equals_reference_root():
    for n in (1, 7, 8, 50, 300):
        w = _weights(n, seed=n)
        com, salt = C.commit_weights(w, DIGEST)
        msg = C.message(w, DIGEST, salt).tolist()
        assert msg[:2] == list(salt) and msg[2:10] == C.header_elements(n, DIGEST)
        assert tuple(R.merkle_root(msg)) == com.root


def test_golden_commitment():
    w = (np.arange(100) % 256 - 128).astype(np.int8)
    com, salt = C.commit_weights(w, DIGEST, salt=(1, 2))
    assert salt == (1, 2)
    assert com.to_record() == {
        "scheme": "p2gl8-tree-v1",
        "root": "a959574959dd9a27196c5a4dd8cb6e569c5ad249d386cd3502958116190798da",
        "n_weights": 100,
        "shape_hash": "09d36eb565c093f6e614f56f96bf97c228dcbcfb67d7c853aea37db70cb5118c",
    }


def test_every_weight_changes_the_root():
    w = _weights(150, seed=3)
    salt = (11, 22)
    root = C.commit_weights(w, DIGEST, salt)[0].root
    roots = {root}
    for i in range(w.shape[0]):
        other = w.copy()
        other[i] = np.int8(int(other[i]) + 1 if other[i] < 127 else -128)
        r = C.commit_weights(other, DIGEST, salt)[0].root
        assert r != root
        roots.add(r)
    assert len(roots) == w.shape[0] + 1


def test_salt_changes_the_root():
    w = _weights(40, seed=4)
    root = C.commit_weights(w, DIGEST, (5, 6))[0].root
    assert C.commit_weights(w, DIGEST, (5, 7))[0].root != root
    assert C.commit_weights(w, DIGEST, (4, 6))[0].root != root
    assert C.commit_weights(w, DIGEST, (6, 5))[0].root != root


def test_fresh_salts_are_fresh_and_canonical():
    w = _weights(20, seed=5)
    (c1, s1), (c2, s2) = C.commit_weights(w, DIGEST), C.commit_weights(w, DIGEST)
    assert s1 != s2 and c1.root != c2.root
    assert all(0 <= v < P for v in s1 + s2)


def test_header_changes_change_the_root():
    w = _weights(40, seed=6)
    salt = (1, 1)
    root = C.commit_weights(w, DIGEST, salt)[0].root
    other_layout = C.layout_digest([{**LAYOUT[0], "shape": [4, 10]}])
    assert C.commit_weights(w, other_layout, salt)[0].root != root
    # Another scheme id in the header: same salt, weights and layout.
    msg = C.message(w, DIGEST, salt)
    msg[2] ^= np.uint64(1)
    assert tuple(R.merkle_root(msg.tolist())) != root


def test_count_in_the_header_separates_trailing_minus_128():
    # -128 packs to a zero byte, like padding; only the header's count tells
    # w from w || -128 (and the tree's zero padding from real elements).
    w = _weights(13, seed=7)
    longer = np.concatenate([w, np.array([-128], dtype=np.int8)])
    assert np.array_equal(C.pack_int8(w), C.pack_int8(longer))
    salt = (3, 4)
    assert C.commit_weights(w, DIGEST, salt)[0].root != C.commit_weights(longer, DIGEST, salt)[0].root


def test_tensor_split_is_bound_by_the_layout_only():
    # The root is over the flattened weights; the layout digest says where one
    # tensor ends. Same bytes, different layout digests -> different roots.
    a, b = _weights(30, seed=8), _weights(70, seed=9)
    salt = (8, 9)
    one = C.commit_weights([a, b], DIGEST, salt)[0]
    assert one.root == C.commit_weights(np.concatenate([a, b]), DIGEST, salt)[0].root
    split = C.layout_digest([{"name": "x", "shape": [30]}, {"name": "y", "shape": [70]}])
    assert C.commit_weights([a, b], split, salt)[0].root != one.root


# ---- opening ----


def test_opening_accepts_the_honest_weights():
    w = _weights(99, seed=10)
    com, salt = C.commit_weights(w, DIGEST)
    C.verify_weight_opening(com, w, salt)


def test_opening_rejections():
    w = _weights(99, seed=11)
    com, salt = C.commit_weights(w, DIGEST)
    other = w.copy()
    other[50] = np.int8(int(other[50]) ^ 1)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, other, salt)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, w, (salt[0], (salt[1] + 1) % P))
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, w[:-1], salt)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(dataclasses.replace(com, layout_digest=bytes(32)), w, salt)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(dataclasses.replace(com, scheme="p2gl8-tree-v2"), w, salt)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, w, (salt[0], P))  # non-canonical salt
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, w, (salt[0],))
