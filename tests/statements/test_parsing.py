"""Proof parsers (issue 14): every count and length is paid for by the
bytes present before anything is allocated or looped over, and each proof
has exactly one encoding (parse then re-encode gives the same bytes)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from zkaudit.circuit import Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.errors import MalformedProof
from zkaudit.layers.pool.proof import MAX_VALUES, read_exts
from zkaudit.lookup.proof import MAGIC as LOOKUP_MAGIC
from zkaudit.lookup.proof import LookupProof
from zkaudit.statements.envelope import encode_envelope, parse_envelope
from zkaudit.statements.inference.proof import PROTOCOL_VERSION, STATEMENT, InferenceBody, commitment_digest
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof


def _batchable():
    x = TensorSpec("x", (1, 6), -128, 127, 0.1, 3)
    w1 = TensorSpec("w1", (6, 4), -127, 127)
    b1 = TensorSpec("b1", (4,), -5000, 5000)
    h = TensorSpec("h", (1, 4), -104822, 104822)
    s = TensorSpec("s", (1, 4), -209644, 209644)
    nodes = (Node.make("mm1", "MatMul", ["x", "w1", "b1"], "h", a_zero_point=3, b_zero_point=0),
             Node.make("add", "Add", ["h", "h"], "s", a_zero_point=0, b_zero_point=0))
    return Circuit("batchable", (x,), (s,), (w1, b1), nodes, (h, s))


def _unbatchable():
    """Reshape (1, 4) -> (2, 2) moves the batch axis: `widen` refuses it."""
    x = TensorSpec("x", (1, 4), -128, 127)
    r = TensorSpec("r", (2, 2), -128, 127)
    return Circuit("unbatchable", (x,), (r,), (), (Node.make("rs", "Reshape", ["x"], "r", shape=(2, 2)),), (r,))


@pytest.fixture(scope="module")
def proofs():
    circuit = _batchable()
    rng = np.random.default_rng(14)
    weights = Weights({"w1": rng.integers(-127, 128, (6, 4)), "b1": rng.integers(-5000, 5000, (4,))})
    commitment = commit_weights(circuit, weights)[0].to_bytes()
    xs = [{"x": rng.integers(-128, 128, (1, 6))} for _ in range(3)]
    out = {"public": prove(circuit, weights, xs[0]), "batch": prove(circuit, weights, xs),
           "committed": prove(circuit, weights, xs[0], commit_input=True)}
    return circuit, commitment, out


def _body_bytes(proof: bytes) -> bytes:
    return parse_envelope(proof).body


@pytest.mark.parametrize("kind", ["public", "batch", "committed"])
def test_parse_then_encode_gives_the_same_bytes(proofs, kind):
    circuit, commitment, out = proofs
    raw = _body_bytes(out[kind])
    body = InferenceBody.from_bytes(raw, circuit, commitment)
    assert body.to_bytes(circuit) == raw
    assert encode_envelope(STATEMENT, raw) == out[kind]
    assert verify_proof(out[kind], circuit_bin=encode_circuit(circuit), weight_commitment=commitment).valid


def test_batch_size_not_paid_for_by_public_values_rejected_before_widening(proofs, monkeypatch):
    circuit, commitment, out = proofs
    raw = bytearray(_body_bytes(out["public"]))
    raw[2:6] = struct.pack("<I", 1 << 16)  # 65,536 samples, the bytes of one (after the u16 protocol version)
    import zkaudit.statements.inference.proof as proof_mod

    def no_widen(*args):  # the size check must come first
        raise AssertionError("circuit widened before the batch size was checked against the bytes")

    monkeypatch.setattr(proof_mod, "widen", no_widen)
    with pytest.raises(MalformedProof, match="batch size larger than the public values") as err:
        InferenceBody.from_bytes(bytes(raw), circuit, commitment)
    assert err.value.where == "inference.batch"


def test_batch_just_too_large_for_the_bytes_rejected(proofs):
    circuit, commitment, out = proofs
    raw = bytearray(_body_bytes(out["batch"]))
    raw[2:6] = struct.pack("<I", 4)  # three samples' values are present
    with pytest.raises(MalformedProof):
        InferenceBody.from_bytes(bytes(raw), circuit, commitment)


def test_batch_claimed_for_unbatchable_circuit_is_a_malformed_proof_not_a_user_error():
    circuit = _unbatchable()
    body = (struct.pack("<HI", PROTOCOL_VERSION, 2) + bytes.fromhex(circuit.digest()) + commitment_digest(b"") + b"\x00"
            + bytes(8 * (4 + 4) * 2) + struct.pack("<IIII", 0, 0, 0, 0))
    with pytest.raises(MalformedProof, match="cannot be batched") as err:
        InferenceBody.from_bytes(body, circuit)
    assert err.value.where == "inference.batch"
    verdict = verify_proof(encode_envelope(STATEMENT, body), circuit_bin=encode_circuit(circuit),
                           weight_commitment=b"")
    assert not verdict.valid and "cannot be batched" in verdict.reason


@pytest.mark.parametrize("section", range(4))
def test_section_length_beyond_the_body_rejected(proofs, section):
    circuit, commitment, out = proofs
    raw = _body_bytes(out["public"])
    body = InferenceBody.from_bytes(raw, circuit, commitment)
    pos = 2 + 4 + 32 + 32 + 1 + 8 * (6 + 4)  # protocol version, batch, digests, mode, public values
    for blob in [body.advice_commitment, body.layers, body.weight_opening, body.advice_opening][:section]:
        pos += 4 + len(blob)
    bad = raw[:pos] + b"\xff\xff\xff\xff" + raw[pos + 4 :]
    with pytest.raises(MalformedProof, match="truncated"):
        InferenceBody.from_bytes(bad, circuit, commitment)


@pytest.mark.parametrize("count,what", [(0, "table count"), (1, "tree count")])
def test_lookup_count_larger_than_the_bytes_left_rejected(count, what):
    prefix = LOOKUP_MAGIC + b"\x01" + (struct.pack("<I", 0) if count else b"")
    data = prefix + struct.pack("<I", 0xFFFFFFFF) + bytes(64)
    with pytest.raises(MalformedProof, match=f"implausible {what}"):
        LookupProof.from_bytes(data)


def test_lookup_layer_count_needs_nine_bytes_per_sum_check():
    tree = bytes(32) + struct.pack("<I", 4)  # (p, q) = (0, 0), four layers
    data = LOOKUP_MAGIC + b"\x01" + struct.pack("<II", 0, 1) + tree + bytes(4 * 9 - 1)
    with pytest.raises(MalformedProof, match="implausible layer count"):
        LookupProof.from_bytes(data)


def test_lookup_column_width_larger_than_the_bytes_left_rejected():
    data = LOOKUP_MAGIC + b"\x01" + struct.pack("<III", 0, 0, 1) + b"\xff" + bytes(16 * 10)
    with pytest.raises(MalformedProof, match="column values"):
        LookupProof.from_bytes(data)


def test_lookup_multiplicity_count_larger_than_the_bytes_left_rejected():
    data = LOOKUP_MAGIC + b"\x01" + struct.pack("<IIII", 0, 0, 0, 3) + bytes(2 * 16)
    with pytest.raises(MalformedProof, match="implausible multiplicity count"):
        LookupProof.from_bytes(data)


def test_empty_lookup_proof_round_trips():
    data = LOOKUP_MAGIC + b"\x01" + struct.pack("<IIII", 0, 0, 0, 0)
    assert LookupProof.from_bytes(data).to_bytes() == data


def test_pool_value_count_larger_than_the_bytes_left_rejected_before_the_loop():
    data = struct.pack("<I", MAX_VALUES) + bytes(16 * 3)
    with pytest.raises(MalformedProof, match="more values than the proof holds"):
        read_exts(data, 0, "limb values")
    values, end = read_exts(struct.pack("<I", 3) + bytes(48), 0, "limb values")
    assert len(values) == 3 and end == 52


def test_input_commitment_of_another_shape_rejected_at_parse(proofs):
    import dataclasses

    from zkaudit.pcs import Commitment

    circuit, commitment, out = proofs
    body = InferenceBody.from_bytes(_body_bytes(out["committed"]), circuit, commitment)
    com = Commitment.from_bytes(body.input_commitment)
    for num_vars in ((com.num_vars[0] + 1,), com.num_vars * 2):
        other = dataclasses.replace(com, num_vars=num_vars).to_bytes()
        raw = dataclasses.replace(body, input_commitment=other).to_bytes(circuit)
        with pytest.raises(MalformedProof, match="input commitment's tables do not fit") as err:
            InferenceBody.from_bytes(raw, circuit, commitment)
        assert err.value.where == "inference.input"


@pytest.mark.parametrize("version", [10, PROTOCOL_VERSION + 1, 0])
def test_another_inference_protocol_is_refused_naming_it(proofs, version):
    """The body's first field is its protocol version: a proof of an older
    (or newer) protocol is refused with that reason, before anything else is
    read, not at the first check its protocol does differently."""
    circuit, commitment, out = proofs
    raw = bytearray(_body_bytes(out["public"]))
    raw[0:2] = struct.pack("<H", version)
    with pytest.raises(MalformedProof, match=f"made by inference protocol {version},") as err:
        InferenceBody.from_bytes(bytes(raw), circuit, commitment)
    assert (err.value.where, err.value.expected, err.value.got) == ("inference.protocol", PROTOCOL_VERSION, version)
    verdict = verify_proof(encode_envelope(STATEMENT, bytes(raw)), circuit_bin=encode_circuit(circuit),
                           weight_commitment=commitment)
    assert not verdict.valid and "re-prove with this version" in verdict.reason


def test_a_format_3_inference_proof_is_refused_naming_its_protocols(proofs):
    """Format 3 bodies (inference protocols 4 to 10) have no version field:
    refused at the envelope, with the reason."""
    circuit, commitment, out = proofs
    old = encode_envelope(STATEMENT, _body_bytes(out["public"])[2:], version=3)
    verdict = verify_proof(old, circuit_bin=encode_circuit(circuit), weight_commitment=commitment)
    assert not verdict.valid
    assert "format 3" in verdict.reason and "4 to 10" in verdict.reason and "re-prove" in verdict.reason
