"""The proof envelope parser is strict, and `verify_proof` rejects (never
crashes on, never accepts) what no registered verifier can check."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.statements import verify as verify_mod
from zkaudit.statements.envelope import FORMAT_VERSION, MAGIC, encode_envelope, parse_envelope
from zkaudit.statements.verify import VERIFIER_VERSION, register_verifier, verify_proof

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=64)


@given(NAMES, st.binary(max_size=200))
def test_round_trip(name, body):
    env = parse_envelope(encode_envelope(name, body))
    assert (env.version, env.statement, env.body) == (FORMAT_VERSION, name, body)


@pytest.mark.parametrize(
    "data, where, expected, got",
    [
        (b"", "envelope", ">= 11 bytes", 0),
        (b"ZKAUDIX\x00\x01\x00\x03abc", "envelope.magic", MAGIC, b"ZKAUDIX\x00"),
        (MAGIC + struct.pack("<HB", FORMAT_VERSION + 1, 3) + b"abc", "envelope.version", FORMAT_VERSION,
         FORMAT_VERSION + 1),
        (MAGIC + struct.pack("<HB", 0, 3) + b"abc", "envelope.version", FORMAT_VERSION, 0),
        (MAGIC + struct.pack("<HB", FORMAT_VERSION, 0), "envelope.statement", "1..64", 0),
        (MAGIC + struct.pack("<HB", FORMAT_VERSION, 65) + b"a" * 65, "envelope.statement", "1..64", 65),
        (MAGIC + struct.pack("<HB", FORMAT_VERSION, 9) + b"infer", "envelope.statement", ">= 20 bytes", 16),
        (MAGIC + struct.pack("<HB", FORMAT_VERSION, 3) + b"A\xffc", "envelope.statement", "[a-z0-9_-]+", b"A\xffc"),
    ],
    ids=["empty", "bad-magic", "future-version", "zero-version", "empty-name", "long-name", "truncated-name",
         "non-ascii-name"],
)
def test_malformed_envelopes_name_the_part(data, where, expected, got):
    with pytest.raises(MalformedProof) as exc:
        parse_envelope(data)
    assert (exc.value.where, exc.value.expected, exc.value.got) == (where, expected, got)


def test_encoder_refuses_bad_names():
    for name in ("", "Inference", "a" * 65, "in ference"):
        with pytest.raises(ValueError):
            encode_envelope(name, b"")


def test_malformed_proof_is_a_rejection_not_a_crash():
    v = verify_proof(b"garbage", circuit_bin=b"c", weight_commitment=b"w")
    assert not v.valid and v.statement is None and v.output is None
    assert "[envelope] proof is shorter than the envelope header" in v.reason


def test_unknown_statement_is_rejected_with_the_verifier_version():
    v = verify_proof(encode_envelope("telepathy", b"\x01\x02"), circuit_bin=b"c", weight_commitment=b"w")
    assert not v.valid
    assert v.reason == f"statement 'telepathy' is not supported by verifier version {VERIFIER_VERSION}"


def test_dispatch_passes_body_and_artifacts_and_reports_the_rejection(monkeypatch):
    seen = {}

    def strict(body, *, circuit_bin, weight_commitment):
        seen.update(body=body, circuit=circuit_bin, commitment=weight_commitment)
        raise ProofRejected("opening does not match the commitment", where="pcs", round=3)

    monkeypatch.setitem(verify_mod.VERIFIERS, "strict-test", strict)
    v = verify_proof(encode_envelope("strict-test", b"BODY"), circuit_bin=b"CIRC", weight_commitment=b"COMM")
    assert seen == {"body": b"BODY", "circuit": b"CIRC", "commitment": b"COMM"}
    assert not v.valid and v.reason == "[pcs round 3] opening does not match the commitment"


def test_a_statement_cannot_be_registered_twice(monkeypatch):
    monkeypatch.setattr(verify_mod, "VERIFIERS", {})
    register_verifier("dup")(lambda body, **kw: None)
    with pytest.raises(ValueError, match="already has a verifier"):
        register_verifier("dup")(lambda body, **kw: None)


def test_unsound_format_version_is_refused_with_the_reason():
    from zkaudit.statements.envelope import UNSOUND_VERSIONS, UnsoundVersion

    for version in UNSOUND_VERSIONS:
        with pytest.raises(UnsoundVersion, match="re-prove") as exc:
            parse_envelope(MAGIC + struct.pack("<HB", version, 3) + b"abc")
        assert (exc.value.where, exc.value.expected, exc.value.got) == ("envelope.version", FORMAT_VERSION, version)
