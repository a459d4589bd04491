"""The salted weight commitment p2gl8-tree-v2 (and v1, still read): per-tensor packing is
injective on in-range weights, and the root moves with any weight, the salt,
and every header field (count, layout: names, shapes, ranges)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkaudit.field.constants import P
from zkaudit.hash import commitment as C
from zkaudit.hash import reference as R
from zkaudit.hash.errors import MalformedWeightCommitment, WeightOpeningMismatch

INT8 = (-128, 127)


def _layout(*tensors) -> tuple[C.TensorLayout, ...]:
    return tuple(C.TensorLayout(f"t{i}", tuple(shape), lo, hi) for i, (shape, lo, hi) in enumerate(tensors))


def _weights(layouts, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)  # test data only
    return [rng.integers(t.lo, t.hi + 1, size=t.shape, dtype=np.int64) for t in layouts]


LAYOUT = _layout(((10, 10), *INT8))
DIGEST = C.layout_digest(LAYOUT)


# ---- packing ----


def test_int8_packing_layout():
    w = np.arange(9, dtype=np.int64) - 4
    t = C.TensorLayout("w", (9,), *INT8)
    assert (t.digit_bits, t.per_element, t.num_elements, t.raw) == (8, 7, 2, False)
    packed = C.pack([t], [w])
    assert packed.dtype == np.uint64 and packed.shape == (2,)
    assert int(packed[0]) == sum((int(v) + 128) << (8 * j) for j, v in enumerate(w[:7]))
    assert int(packed[1]) == (int(w[7]) + 128) + ((int(w[8]) + 128) << 8)


def test_digit_widths_follow_the_declared_range():
    # v2: digits of bits(hi - lo) bits, floor(56 / bits) to an element
    cases = {(0, 1): (1, 56), (-2, 1): (2, 28), (-8, 7): (4, 14), (-128, 127): (8, 7), (0, 255): (8, 7),
             (0, 256): (9, 6), (-2**14, 2**14 - 1): (15, 3), (-2**15, 2**15 - 1): (16, 3), (-2**17, 2**17 - 1): (18, 3),
             (0, 2**24 - 1): (24, 2), (-2**31, 2**31 - 1): (32, 1), (0, 2**56 - 1): (56, 1), (0, 2**56): (57, 1)}
    for (lo, hi), (b, k) in cases.items():
        t = C.TensorLayout("w", (5,), lo, hi)
        assert (t.digit_bits, t.per_element) == (b, k), (lo, hi)
    assert C.TensorLayout("w", (5,), 0, 2**56).raw and not C.TensorLayout("w", (5,), 0, 2**56 - 1).raw
    # v1: whole bytes
    v1 = {(0, 1): (8, 7), (-2, 1): (8, 7), (0, 256): (16, 3), (-2**17, 2**17 - 1): (24, 2), (0, 2**56): (64, 1)}
    for (lo, hi), (b, k) in v1.items():
        t = C.TensorLayout("w", (5,), lo, hi, C.SCHEME_V1)
        assert (t.digit_bits, t.per_element) == (b, k), (lo, hi)


def test_sub_byte_packing_and_unpacking():
    # 0/1 selectors declared [-2, 1]: 28 two-bit digits to an element, exactly inverted by unpack
    t = C.TensorLayout("s", (3, 20), -2, 1)
    w = _weights([t], seed=5)[0]
    packed = C.pack([t], [w])
    assert packed.shape == (3,) and all(int(e) < 1 << 56 for e in packed)
    flat = w.reshape(-1)
    assert int(packed[0]) == sum((int(v) + 2) << (2 * j) for j, v in enumerate(flat[:28]))
    assert np.array_equal(C.unpack([t], packed)[0], w)
    bad = packed.copy()
    bad[2] |= np.uint64(1) << np.uint64(2 * 4)  # a digit past the tensor's last weight (60 = 2 * 28 + 4)
    with pytest.raises(ValueError, match="non-zero digits"):
        C.unpack([t], bad)


def test_schemes_pack_apart_and_bind_their_id():
    # the same sub-byte weights: v1 and v2 messages differ (digits and header), and each root
    # verifies only under its own scheme's record
    t2 = C.TensorLayout("s", (40,), -2, 1)
    t1 = C.TensorLayout("s", (40,), -2, 1, C.SCHEME_V1)
    w = _weights([t2], seed=6)
    assert C.layout_digest([t1]) == C.layout_digest([t2])
    assert C.pack([t1], w).shape == (6,) and C.pack([t2], w).shape == (2,)
    c2, salt = C.commit_weights([t2], w, salt=(3, 4))
    c1, _ = C.commit_weights([t1], w, salt=(3, 4))
    assert (c2.scheme, c1.scheme) == (C.SCHEME_ID, C.SCHEME_V1) and c1.root != c2.root
    for com in (c1, c2):
        back = C.WeightCommitment.from_bytes(com.to_bytes())
        assert back == com and C.is_hashed_commitment(com.to_bytes())
        C.verify_weight_opening(back, [t2], w, salt)  # the record's scheme decides the packing
    with pytest.raises(WeightOpeningMismatch):  # a v1 root presented as v2
        C.verify_weight_opening(dataclasses.replace(c1, scheme=C.SCHEME_ID), [t2], w, salt)
    with pytest.raises(ValueError, match="one scheme"):
        C.message([t1, dataclasses.replace(t2, name="u")], w + w, salt)
    with pytest.raises(ValueError, match="unknown"):
        C.TensorLayout("s", (4,), 0, 1, "p2gl8-tree-v9")


def test_packing_is_injective_per_position():
    # Every value at each of the 7 digit positions of one element: distinct, canonical, < 2^56.
    t = C.TensorLayout("w", (7,), *INT8)
    base = _weights([t], seed=1)[0]
    for j in range(7):
        seen = set()
        for v in range(-128, 128):
            w = base.copy()
            w[j] = v
            e = int(C.pack([t], [w])[0])
            assert e < 1 << 56 < P
            seen.add(e)
        assert len(seen) == 256


RANGES = st.sampled_from([INT8, (0, 1), (-5, 300), (-2**31, 2**31 - 1), (-2**62, 2**62)])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 20), RANGES), min_size=1, max_size=3), st.integers(0, 2**32))
def test_unpack_inverts_pack(tensors, seed):
    layouts = _layout(*[((n,), lo, hi) for n, (lo, hi) in tensors])
    w = _weights(layouts, seed)
    back = C.unpack(layouts, C.pack(layouts, w))
    assert all(np.array_equal(a, b) for a, b in zip(w, back))


def test_out_of_range_and_non_integer_weights_refused():
    t = C.TensorLayout("w", (3,), *INT8)
    with pytest.raises(ValueError, match="outside its declared range"):
        C.pack([t], [np.array([0, 128, 0])])
    with pytest.raises(TypeError):
        C.pack([t], [np.zeros(3)])
    with pytest.raises(ValueError, match="shape"):
        C.pack([t], [np.zeros(4, dtype=np.int64)])
    with pytest.raises(ValueError):
        C.TensorLayout("w", (3,), 5, 4)


def test_unpack_rejects_packings_no_weights_make():
    t = C.TensorLayout("w", (9,), *INT8)
    packed = C.pack([t], [np.zeros(9, dtype=np.int64)])
    bad = packed.copy()
    bad[1] |= np.uint64(1) << np.uint64(40)  # a digit after the last weight
    with pytest.raises(ValueError):
        C.unpack([t], bad)
    bad = packed.copy()
    bad[0] |= np.uint64(1) << np.uint64(60)  # above the 7 digits
    with pytest.raises(ValueError):
        C.unpack([t], bad)
    with pytest.raises(ValueError):
        C.unpack([C.TensorLayout("w", (15,), *INT8)], packed)


# ---- header ----


def test_header_layout():
    h = C.header_elements(100, DIGEST)
    assert len(h) == C.HEADER_LEN and all(0 <= v < 1 << 56 for v in h)
    assert h[:2] == [int.from_bytes(b"p2gl8-t", "little"), int.from_bytes(b"ree-v2", "little")]
    assert C.header_elements(100, DIGEST, C.SCHEME_V1)[:2] == [h[0], int.from_bytes(b"ree-v1", "little")]
    assert h[2] == 100
    assert b"".join(v.to_bytes(7, "little") for v in h[3:])[:32] == DIGEST


def test_layout_digest_is_canonical_and_sensitive():
    t = LAYOUT[0]
    for change in ({"shape": (100, 1)}, {"lo": -127}, {"hi": 126}, {"name": "fc2.weight"}):
        assert C.layout_digest([dataclasses.replace(t, **change)]) != DIGEST
    assert C.layout_digest(_layout(((10, 10), *INT8))) == DIGEST


# ---- the root ----


def test_kernel_root_equals_reference_root():
    for n in (1, 7, 8, 50, 300):
        layouts = _layout(((n,), *INT8), ((3,), -2**31, 2**31 - 1))
        w = _weights(layouts, seed=n)
        com, salt = C.commit_weights(layouts, w)
        msg = C.message(layouts, w, salt).tolist()
        assert msg[:2] == list(salt) and msg[2:10] == C.header_elements(n + 3, C.layout_digest(layouts))
        assert tuple(R.merkle_root(msg)) == com.root


def test_golden_commitment():
    w = [(np.arange(100) % 256 - 128).reshape(10, 10)]
    com, salt = C.commit_weights(LAYOUT, w, salt=(1, 2))
    assert salt == (1, 2)
    record = com.to_record()
    assert record["scheme"] == "p2gl8-tree-v2" and record["n_weights"] == 100
    assert record["shape_hash"] == DIGEST.hex()
    # Pinned: a change to packing, header or tree shows here.
    assert record["root"] == GOLDEN_ROOT
    # the first version's root of the same weights and salt, pinned when v1 was current: still reproduced
    v1 = C.commit_weights(C.in_scheme(LAYOUT, C.SCHEME_V1), w, salt=(1, 2))[0]
    assert v1.to_record()["root"] == GOLDEN_ROOT_V1 and v1.scheme == "p2gl8-tree-v1"


GOLDEN_ROOT_V1 = "7c252ab0a098e3ad57214b220966992d47f466ee70ccd5b3850f3cc4149506fa"
GOLDEN_ROOT = "232a564151ef581dc02254e5c2d5239e613896828f7ef256697b9553229e5ebf"


def test_every_weight_changes_the_root():
    layouts = _layout(((150,), *INT8))
    w = _weights(layouts, seed=3)[0]
    salt = (11, 22)
    root = C.commit_weights(layouts, [w], salt)[0].root
    roots = {root}
    for i in range(w.shape[0]):
        other = w.copy()
        other[i] = other[i] + 1 if other[i] < 127 else -128
        r = C.commit_weights(layouts, [other], salt)[0].root
        assert r != root
        roots.add(r)
    assert len(roots) == w.shape[0] + 1


def test_salt_changes_the_root():
    w = _weights(LAYOUT, seed=4)
    root = C.commit_weights(LAYOUT, w, (5, 6))[0].root
    assert C.commit_weights(LAYOUT, w, (5, 7))[0].root != root
    assert C.commit_weights(LAYOUT, w, (4, 6))[0].root != root
    assert C.commit_weights(LAYOUT, w, (6, 5))[0].root != root


def test_fresh_salts_are_fresh_and_canonical():
    w = _weights(LAYOUT, seed=5)
    (c1, s1), (c2, s2) = C.commit_weights(LAYOUT, w), C.commit_weights(LAYOUT, w)
    assert s1 != s2 and c1.root != c2.root
    assert all(0 <= v < P for v in s1 + s2)


def test_header_changes_change_the_root():
    w = _weights(LAYOUT, seed=6)
    salt = (1, 1)
    root = C.commit_weights(LAYOUT, w, salt)[0].root
    reshaped = _layout(((4, 25), *INT8))
    assert C.commit_weights(reshaped, [w[0].reshape(4, 25)], salt)[0].root != root
    msg = C.message(LAYOUT, w, salt)
    msg[2] ^= np.uint64(1)  # another scheme id in the header
    assert tuple(R.merkle_root(msg.tolist())) != root


def test_count_in_the_header_separates_trailing_lo():
    # lo packs to a zero digit, like padding; only the header's count tells
    # w from w || lo.
    a = _layout(((13,), *INT8))
    b = _layout(((14,), *INT8))
    w = _weights(a, seed=7)[0]
    longer = np.concatenate([w, [-128]])
    assert np.array_equal(C.pack(a, [w]), C.pack(b, [longer]))
    assert C.commit_weights(a, [w], (3, 4))[0].root != C.commit_weights(b, [longer], (3, 4))[0].root


def test_tensor_split_is_bound_by_the_layout():
    one = _layout(((30,), *INT8), ((70,), *INT8))
    other = _layout(((70,), *INT8), ((30,), *INT8))
    w = _weights(one, seed=8)
    flat = np.concatenate(w)
    assert C.commit_weights(one, w, (8, 9))[0].root != C.commit_weights(other, [flat[:70], flat[70:]], (8, 9))[0].root


# ---- files and opening ----


def test_commitment_and_salt_files_round_trip_and_refuse_garbage():
    com, salt = C.commit_weights(LAYOUT, _weights(LAYOUT, seed=9))
    data = com.to_bytes()
    assert C.WeightCommitment.from_bytes(data) == com and C.is_hashed_commitment(data)
    assert C.salt_from_bytes(C.salt_to_bytes(salt)) == salt
    for bad in (data[:-1], b"ZPCC" + data[4:], data + b"\x00"):
        with pytest.raises(MalformedWeightCommitment):
            C.WeightCommitment.from_bytes(bad)
    with pytest.raises(MalformedWeightCommitment):
        C.salt_from_bytes(b"\xff" * 16)


def test_opening_accepts_the_honest_weights():
    w = _weights(LAYOUT, seed=10)
    com, salt = C.commit_weights(LAYOUT, w)
    C.verify_weight_opening(com, LAYOUT, w, salt)


def test_opening_rejections():
    w = _weights(LAYOUT, seed=11)
    com, salt = C.commit_weights(LAYOUT, w)
    other = [w[0].copy()]
    other[0][5, 0] ^= 1
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, LAYOUT, other, salt)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, LAYOUT, w, (salt[0], (salt[1] + 1) % P))
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, _layout(((99,), *INT8)), [w[0].reshape(-1)[:-1]], salt)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(dataclasses.replace(com, layout_digest=bytes(32)), LAYOUT, w, salt)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(dataclasses.replace(com, scheme="p2gl8-tree-v9"), LAYOUT, w, salt)
    with pytest.raises(WeightOpeningMismatch):  # the header carries the scheme: a v2 root is no v1 root
        C.verify_weight_opening(dataclasses.replace(com, scheme=C.SCHEME_V1), LAYOUT, w, salt)
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, LAYOUT, w, (salt[0], P))  # non-canonical salt
    with pytest.raises(WeightOpeningMismatch):
        C.verify_weight_opening(com, LAYOUT, w, (salt[0],))
