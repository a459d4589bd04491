"""Inference proofs end to end on circuits built from the ops proven so far,
and the attack catalogue on the proof file."""

from __future__ import annotations

import dataclasses
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkaudit.circuit.infer import with_inferred_specs
from zkaudit.circuit import Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.errors import MalformedProof, ZkauditError
from zkaudit.statements.envelope import encode_envelope, parse_envelope
from zkaudit.statements.inference.proof import STATEMENT, InferenceBody
from zkaudit.statements.inference.prover import commit_weights, prove
from zkaudit.statements.verify import verify_proof

ACC = (-(2**31), 2**31 - 1)


def _circuit(name="linear"):
    """A small graph touching every op proven so far: MatMul with bias and
    zero point, Reshape/Transpose/Reshape, Add, Mul (h is used three times,
    so claims on it are combined), a second MatMul; two outputs."""
    x = TensorSpec("x", (1, 6), -128, 127, 0.1, 3)
    w1 = TensorSpec("w1", (6, 4), -7, 7)  # small enough that Mul's product fits int32
    b1 = TensorSpec("b1", (4,), -5000, 5000)
    w2 = TensorSpec("w2", (4, 3), -127, 127)
    h = TensorSpec("h", (1, 4), -200000, 200000)
    r = TensorSpec("r", (2, 2), -200000, 200000)
    t = TensorSpec("t", (2, 2), -200000, 200000)
    f = TensorSpec("f", (1, 4), -200000, 200000)
    s = TensorSpec("s", (1, 4), -400000, 400000)
    m = TensorSpec("m", (1, 4), -(2**40), 2**40)
    y = TensorSpec("y", (1, 3), *ACC)
    nodes = (
        Node.make("mm1", "MatMul", ["x", "w1", "b1"], "h", a_zero_point=3, b_zero_point=0),
        Node.make("rs1", "Reshape", ["h"], "r", shape=(2, 2)),
        Node.make("tr", "Transpose", ["r"], "t", perm=(1, 0)),
        Node.make("rs2", "Reshape", ["t"], "f", shape=(1, 4)),
        Node.make("add", "Add", ["h", "f"], "s", a_zero_point=0, b_zero_point=0),
        Node.make("mul", "Mul", ["s", "h"], "m", a_zero_point=0, b_zero_point=1),
        Node.make("mm2", "MatMul", ["s", "w2"], "y", a_zero_point=0, b_zero_point=0),
    )
    return with_inferred_specs(Circuit(name, (x,), (y, m), (w1, b1, w2), nodes, (h, r, t, f, s, m, y)))


@pytest.fixture(scope="module")
def setup():
    circuit = _circuit()
    rng = np.random.default_rng(0)
    weights = Weights({"w1": rng.integers(-7, 8, (6, 4)), "b1": rng.integers(-5000, 5000, (4,)),
                       "w2": rng.integers(-127, 128, (4, 3))})
    commitment, _ = commit_weights(circuit, weights)
    x = rng.integers(-128, 128, (1, 6))
    proof = prove(circuit, weights, {"x": x})
    return circuit, weights, commitment.to_bytes(), x, proof


def _verify(circuit, commitment, proof):
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=commitment)


def test_honest_proof_verifies_and_output_is_the_reference(setup):
    circuit, weights, commitment, x, proof = setup
    verdict = _verify(circuit, commitment, proof)
    assert verdict.valid, verdict.reason
    ref = circuit.execute(weights, {"x": x})
    assert verdict.output == {k: v.tolist() for k, v in ref.items()}


def _rewrite(circuit, proof, **changes):
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    return encode_envelope(STATEMENT, dataclasses.replace(body, **changes).to_bytes(circuit))


def test_wrong_output_rejected(setup):
    circuit, _, commitment, _, proof = setup
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    y = body.outputs["y"].copy()
    y[0, 1] += 1
    verdict = _verify(circuit, commitment, _rewrite(circuit, proof, outputs={**body.outputs, "y": y}))
    assert not verdict.valid


def test_wrong_input_rejected(setup):
    circuit, _, commitment, _, proof = setup
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    x = body.inputs["x"].copy()
    x[0, 0] = x[0, 0] + 1 if x[0, 0] < 127 else x[0, 0] - 1
    verdict = _verify(circuit, commitment, _rewrite(circuit, proof, inputs={"x": x}))
    assert not verdict.valid


def test_replay_with_another_weight_commitment_rejected(setup):
    circuit, weights, _, _, proof = setup
    other = Weights({k: (v + 1 if k == "b1" else v) for k, v in weights.items()})
    other_commitment, _ = commit_weights(circuit, other)
    assert not _verify(circuit, other_commitment.to_bytes(), proof).valid


def test_replay_with_another_circuit_rejected(setup):
    circuit, _, commitment, _, proof = setup
    assert not _verify(_circuit("renamed"), commitment, proof).valid


def test_weights_changed_after_commitment_rejected(setup):
    circuit, weights, commitment, x, _ = setup
    other = Weights({k: (v + 1 if k == "w2" else v) for k, v in weights.items()})
    with pytest.raises(ZkauditError, match="published weight commitment"):
        prove(circuit, other, {"x": x}, weight_commitment=commitment)
    # and a proof made with the changed weights does not verify against the published commitment
    forged = prove(circuit, other, {"x": x})
    assert not _verify(circuit, commitment, forged).valid


def test_truncated_and_padded_rejected(setup):
    circuit, _, commitment, _, proof = setup
    for bad in (proof[:-1], proof[: len(proof) // 2], proof + b"\x00"):
        verdict = _verify(circuit, commitment, bad)
        assert not verdict.valid


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_single_byte_change_rejected(setup, data):
    circuit, _, commitment, _, proof = setup
    pos = data.draw(st.integers(0, len(proof) - 1))
    raw = bytearray(proof)
    raw[pos] = (raw[pos] + data.draw(st.integers(1, 255))) % 256
    assert not _verify(circuit, commitment, bytes(raw)).valid


def test_body_parser_rejects_out_of_range_public_values(setup):
    circuit, _, _, _, proof = setup
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    x = body.inputs["x"].copy()
    x[0, 0] = 500  # outside [-128, 127]
    raw = dataclasses.replace(body, inputs={"x": x}).to_bytes(circuit)
    with pytest.raises(MalformedProof, match="range"):
        InferenceBody.from_bytes(raw, circuit)


def test_weights_outside_their_declared_range_rejected(setup, monkeypatch):
    """The vendor commits a weight beyond its declared int8 range (so that an
    accumulator could leave the range every layer's argument assumes). The
    honest prover refuses; a prover that fakes the range multiplicities is
    rejected by the verifier."""
    import zkaudit.circuit.execute as execute
    from zkaudit.circuit import InputError
    from zkaudit.lookup import prover as lookup_prover

    circuit, weights, _, x, _ = setup
    w1 = np.array(weights["w1"])
    w1[0, 0] = 300  # declared range [-127, 127]
    bad = Weights({**dict(weights.items()), "w1": w1})
    bad_commitment, _ = commit_weights(circuit, bad)
    with pytest.raises(InputError, match="outside its range"):
        prove(circuit, bad, {"x": x})

    # The malicious prover skips the executor's range check and fakes the
    # range-table multiplicities so that its own bookkeeping balances.
    monkeypatch.setattr(execute, "_checked", lambda spec, value, what: np.asarray(value, dtype=np.int64))
    real = lookup_prover.multiplicities

    def lenient(instance, columns):  # count only the rows that are in the table
        clipped = [[np.minimum(c, np.uint64((1 << instance.tables[lk.table].bits) - 1)) for c in cols]
                   for lk, cols in zip(instance.lookups, columns)]
        return real(instance, clipped)

    monkeypatch.setattr(lookup_prover, "multiplicities", lenient)
    forged = prove(circuit, bad, {"x": x})
    verdict = _verify(circuit, bad_commitment.to_bytes(), forged)
    assert not verdict.valid, "a weight outside its declared range was accepted"
    # rejected by the weight range check itself: its lookup (one limb) or its
    # limbs' recomposition disagreeing with the committed weight (the opening)
    assert "lookup" in verdict.reason or "[pcs]" in verdict.reason, verdict.reason


def _batchable():
    x = TensorSpec("x", (1, 6), -128, 127, 0.1, 3)
    w1 = TensorSpec("w1", (6, 4), -127, 127)
    b1 = TensorSpec("b1", (4,), -5000, 5000)
    h = TensorSpec("h", (1, 4), -104822, 104822)  # validator-exact: 6*131*127 + 5000
    s = TensorSpec("s", (1, 4), -209644, 209644)
    nodes = (Node.make("mm1", "MatMul", ["x", "w1", "b1"], "h", a_zero_point=3, b_zero_point=0),
             Node.make("add", "Add", ["h", "h"], "s", a_zero_point=0, b_zero_point=0))
    return Circuit("batchable", (x,), (s,), (w1, b1), nodes, (h, s))


def test_batch_proof_verifies_and_binds_every_sample(setup):
    _, weights, _, _, _ = setup
    circuit = _batchable()
    weights = Weights({k: weights[k] for k in ("w1", "b1")})
    commitment = commit_weights(circuit, weights)[0].to_bytes()
    rng = np.random.default_rng(7)
    xs = [{"x": rng.integers(-128, 128, (1, 6))} for _ in range(3)]
    proof = prove(circuit, weights, xs)
    verdict = _verify(circuit, commitment, proof)
    assert verdict.valid, verdict.reason
    for i, x in enumerate(xs):
        assert verdict.output["s"][i] == circuit.execute(weights, x)["s"][0].tolist()
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    assert body.batch == 3 and body.inputs["x"].shape == (3, 6)
    s = body.outputs["s"].copy()
    s[2, 0] += 1  # the last sample's output
    assert not _verify(circuit, commitment, _rewrite(circuit, proof, outputs={**body.outputs, "s": s})).valid


def test_batch_refused_when_an_op_mixes_samples(setup):
    from zkaudit.statements.inference.batch import BatchUnsupported

    circuit, weights, _, x, _ = setup  # reshapes (1, 4) into (2, 2): no batch axis
    with pytest.raises(BatchUnsupported, match="batch axis") as caught:
        prove(circuit, weights, [{"x": x}, {"x": x}])
    # several samples given to a model that proves one at a time: said first, with what to do
    assert caught.value.message.startswith("the input holds 2 samples, and this model proves one sample per proof")
    assert "one by one" in str(caught.value)


def test_advice_commitment_of_other_shapes_rejected_by_name(setup):
    """The advice commitment must hold exactly the circuit's advice tables."""
    from zkaudit.pcs import commit
    from zkaudit.statements.inference.commitment import params
    from zkaudit.field import vec

    circuit, _, commitment, _, proof = setup
    other = commit([vec.from_int64(np.arange(8))], params())[0].to_bytes()
    body = InferenceBody.from_bytes(parse_envelope(proof).body, circuit)
    if not body.advice_commitment:  # this circuit has no advice: add some
        forged = encode_envelope(STATEMENT, dataclasses.replace(body, advice_commitment=other).to_bytes(circuit))
    else:
        forged = _rewrite(circuit, proof, advice_commitment=other)
    verdict = _verify(circuit, commitment, forged)
    assert not verdict.valid and "advice" in verdict.reason, verdict.reason
