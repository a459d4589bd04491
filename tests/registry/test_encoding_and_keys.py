"""Canonical encoding (one encoding per value, strict decoding), domain
separation of signatures, and the keystore's file permissions."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st
from registry_helpers import key

from zkaudit.cli.main import main
from zkaudit.errors import ZkauditError
from zkaudit.registry import keys, records
from zkaudit.registry.encoding import EncodingError, decode, encode, message
from zkaudit.registry.errors import BadSignature

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**200), 2**200) | st.floats(allow_nan=False, allow_infinity=False)
    | st.binary(max_size=40) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(VALUES)
def test_round_trip_and_uniqueness(v):
    data = encode(v)
    assert encode(decode(data)) == data


@pytest.mark.parametrize(
    "data, why",
    [
        (b"i\x02\x00\x01", "non-minimal integer"),
        (b"i\x00", "non-minimal integer"),
        (b"NN", "trailing bytes"),
        (b"d\x00\x00\x00\x02\x00\x00\x00\x01bN\x00\x00\x00\x01aN", "keys not strictly sorted"),
        (b"d\x00\x00\x00\x02\x00\x00\x00\x01aN\x00\x00\x00\x01aN", "keys not strictly sorted"),
        (b"s\x00\x00\x00\x02\xff\xfe", "not UTF-8"),
        (b"b\x00\x00\x00\x05ab", "truncated"),
        (b"f\x80\x00\x00\x00\x00\x00\x00\x00", "non-canonical float"),
        (b"f\x7f\xf8\x00\x00\x00\x00\x00\x00", "non-canonical float"),
        (b"X", "unknown type tag"),
    ],
)
def test_decoder_rejects_non_canonical(data, why):
    with pytest.raises(EncodingError, match=why):
        decode(data)


def test_encoder_refuses_values_without_a_canonical_form():
    for bad in (float("nan"), float("inf"), {1: "int key"}, object()):
        with pytest.raises(EncodingError):
            encode(bad)


def test_tags_separate_domains():
    stmt = {"model": "m", "version": "1", "reason": "r"}
    assert message(records.REVOCATION, stmt) != message(records.ENDORSEMENT, stmt)
    # The tag is length-prefixed: no tag/value split can collide.
    assert message("ab", "c") != message("a", "bc")


def test_signature_for_one_statement_never_verifies_for_another():
    k = key("acme")
    stmt = {"model": "m", "version": "1", "reason": "retired"}
    sig = k.sign(message(records.REVOCATION, stmt))
    with pytest.raises(BadSignature):
        keys.verify(k.public_key, message(records.ENDORSEMENT, stmt), sig, what="endorsement")
    keys.verify(k.public_key, message(records.REVOCATION, stmt), sig, what="revocation")


def test_malformed_keys_and_signatures_are_bad_signatures_not_crashes():
    with pytest.raises(BadSignature):
        keys.verify(b"\x00" * 48, b"m", b"\x00" * 96, what="x")
    with pytest.raises(BadSignature):
        keys.verify_pop(b"\x01" * 47, b"\x00" * 96)
    with pytest.raises(BadSignature, match="distinct"):
        keys.verify_aggregate([key("a").public_key] * 2, b"m", b"\x00" * 96, what="x")


def test_keystore_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "v.key"
    assert main(["keys", "gen", "--out", str(path), "--name", "acme-health", "--json"]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = keys.read_keystore(path)
    assert loaded.name == "acme-health" and json.loads(path.read_text())["public_key"] == loaded.public_key.hex()
    assert main(["keys", "gen", "--out", str(path)]) == 2
    assert keys.read_keystore(path).secret_key == loaded.secret_key
    os.chmod(path, 0o644)
    with pytest.raises(ZkauditError, match="accessible by other users"):
        keys.read_keystore(path)


def test_keystore_with_mismatched_public_key_is_refused(tmp_path):
    path = tmp_path / "k.key"
    keys.write_keystore(path, key("acme"))
    doc = json.loads(path.read_text())
    doc["public_key"] = key("other").public_key.hex()
    path.write_text(json.dumps(doc))
    with pytest.raises(ZkauditError, match="does not match"):
        keys.read_keystore(path)
