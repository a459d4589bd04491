"""Committed-input mode: the proof binds the input by a commitment instead
of publishing it, the committed input is range-checked like the weights,
and a proof checked against the wrong model names that as the reason."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkaudit.circuit import Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.statements.envelope import encode_envelope, parse_envelope
from zkaudit.statements.inference.commitment import input_commitment
from zkaudit.statements.inference.proof import STATEMENT, InferenceBody
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof


OPENING = bytes(range(32))  # the input commitment's secret seed (fixed here so the test can recompute it)


def _circuit(name="committed"):
    x = TensorSpec("x", (1, 6), -128, 127, 0.1, 3)
    w1 = TensorSpec("w1", (6, 4), -127, 127)
    b1 = TensorSpec("b1", (4,), -5000, 5000)
    h = TensorSpec("h", (1, 4), -104822, 104822)
    s = TensorSpec("s", (1, 4), -209644, 209644)
    nodes = (Node.make("mm1", "MatMul", ["x", "w1", "b1"], "h", a_zero_point=3, b_zero_point=0),
             Node.make("add", "Add", ["h", "h"], "s", a_zero_point=0, b_zero_point=0))
    return Circuit(name, (x,), (s,), (w1, b1), nodes, (h, s))


@pytest.fixture(scope="module")
def setup():
    circuit = _circuit()
    rng = np.random.default_rng(3)
    weights = Weights({"w1": rng.integers(-127, 128, (6, 4)), "b1": rng.integers(-5000, 5000, (4,))})
    commitment = commit_weights(circuit, weights)[0].to_bytes()
    x = rng.integers(-128, 128, (1, 6))
    proof = prove(circuit, weights, {"x": x}, commit_input=True, input_opening=OPENING)
    return circuit, weights, commitment, x, proof


def _verify(circuit, commitment, proof, **expected):
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=commitment, **expected)


def _body(circuit, proof):
    return InferenceBody.from_bytes(parse_envelope(proof).body, circuit)


def test_committed_input_proof_verifies_without_the_input(setup):
    circuit, weights, commitment, x, proof = setup
    body = _body(circuit, proof)
    assert body.inputs is None and body.committed_input
    expected = input_commitment(circuit, {"x": x}, OPENING)
    assert body.input_commitment == expected  # the data holder recomputes it
    verdict = _verify(circuit, commitment, proof, input_commitment=expected)
    assert verdict.valid, verdict.reason
    assert verdict.output == {"s": circuit.execute(weights, {"x": x})["s"].tolist()}
    assert verdict.input_commitment == expected
    assert verdict.to_json()["input_commitment"] == expected.hex()
    # without an expected commitment it verifies too and reports the one it is bound to
    assert _verify(circuit, commitment, proof).input_commitment == expected


def test_proof_about_another_input_rejected(setup):
    circuit, _, commitment, x, proof = setup
    other = x.copy()
    other[0, 0] = other[0, 0] + 1 if other[0, 0] < 127 else other[0, 0] - 1
    verdict = _verify(circuit, commitment, proof, input_commitment=input_commitment(circuit, {"x": other}, OPENING))
    assert not verdict.valid and "another input" in verdict.reason


def test_public_input_proof_refused_where_a_committed_one_is_expected(setup):
    circuit, weights, commitment, x, _ = setup
    public = prove(circuit, weights, {"x": x})
    verdict = _verify(circuit, commitment, public, input_commitment=input_commitment(circuit, {"x": x}, OPENING))
    assert not verdict.valid and "publishes its input" in verdict.reason


def test_swapped_input_commitment_rejected(setup):
    """The prover proves on x but writes the commitment of another input."""
    circuit, _, commitment, x, proof = setup
    other = np.clip(x + 1, -128, 127)
    forged = encode_envelope(STATEMENT, dataclasses.replace(
        _body(circuit, proof), input_commitment=input_commitment(circuit, {"x": other}, OPENING)).to_bytes(circuit))
    assert not _verify(circuit, commitment, forged).valid


def test_wrong_output_rejected(setup):
    circuit, _, commitment, _, proof = setup
    body = _body(circuit, proof)
    s = body.outputs["s"].copy()
    s[0, 2] += 2
    forged = encode_envelope(STATEMENT, dataclasses.replace(body, outputs={"s": s}).to_bytes(circuit))
    assert not _verify(circuit, commitment, forged).valid


def test_dropped_input_opening_rejected(setup):
    circuit, _, commitment, _, proof = setup
    forged = encode_envelope(STATEMENT, dataclasses.replace(_body(circuit, proof), input_opening=b"")
                             .to_bytes(circuit))
    assert not _verify(circuit, commitment, forged).valid


def test_committed_input_outside_its_range_rejected(setup, monkeypatch):
    """A committed input beyond its declared int8 range could break the
    matmul's wrap-free argument; the honest prover refuses, and a prover
    that skips the check and fakes the range multiplicities is rejected by
    the input's range check."""
    import zkaudit.circuit.execute as execute
    from zkaudit.circuit import InputError
    from zkaudit.lookup import prover as lookup_prover

    circuit, weights, _, x, _ = setup
    bad = x.copy()
    bad[0, 1] = 900
    with pytest.raises(InputError, match="outside its range"):
        prove(circuit, weights, {"x": bad}, commit_input=True)
    monkeypatch.setattr(execute, "_checked", lambda spec, value, what: np.asarray(value, dtype=np.int64))
    real = lookup_prover.multiplicities

    def lenient(instance, columns):
        clipped = [[np.minimum(c, np.uint64((1 << instance.tables[lk.table].bits) - 1)) for c in cols]
                   for lk, cols in zip(instance.lookups, columns)]
        return real(instance, clipped)

    monkeypatch.setattr(lookup_prover, "multiplicities", lenient)
    forged = prove(circuit, weights, {"x": bad}, commit_input=True)
    verdict = _verify(circuit, commit_weights(circuit, weights)[0].to_bytes(), forged)
    assert not verdict.valid, "a committed input outside its declared range was accepted"
    # caught by the range check: its lookup (one limb) or its limbs' recomposition
    # disagreeing with the committed input (several limbs: found by the opening,
    # or in a zero-knowledge proof by the input's re-padding sum-check, where the
    # claims on the input first meet)
    assert any(k in verdict.reason for k in ("lookup", "[pcs]", "[inference.input")), verdict.reason


def test_committed_batch(setup):
    circuit, weights, commitment, _, _ = setup
    rng = np.random.default_rng(11)
    xs = [{"x": rng.integers(-128, 128, (1, 6))} for _ in range(3)]
    proof = prove(circuit, weights, xs, commit_input=True, input_opening=OPENING)
    expected = input_commitment(circuit, xs, OPENING)
    verdict = _verify(circuit, commitment, proof, input_commitment=expected)
    assert verdict.valid, verdict.reason
    assert [row for row in verdict.output["s"]] == [circuit.execute(weights, x)["s"][0].tolist() for x in xs]
    # the same samples in another order are another input
    assert not _verify(circuit, commitment, proof, input_commitment=input_commitment(circuit, xs[::-1], OPENING)).valid


def test_proof_for_another_model_names_the_reason(setup):
    circuit, weights, commitment, _, proof = setup
    verdict = _verify(_circuit("another"), commitment, proof)
    assert not verdict.valid and "made for a different model" in verdict.reason
    other = Weights({"w1": np.asarray(weights["w1"]), "b1": np.asarray(weights["b1"]) + 1})
    verdict = _verify(circuit, commit_weights(circuit, other)[0].to_bytes(), proof)
    assert not verdict.valid and "different weight commitment" in verdict.reason


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_single_byte_change_rejected(setup, data):
    circuit, _, commitment, _, proof = setup
    pos = data.draw(st.integers(0, len(proof) - 1))
    raw = bytearray(proof)
    raw[pos] = (raw[pos] + data.draw(st.integers(1, 255))) % 256
    assert not _verify(circuit, commitment, bytes(raw)).valid
