"""Integer Div and Mod (fmod 0 and 1): by a constant as exact floor divisions
(Requantize), of two computed tensors as a table over the pair. The circuit's
integers must equal onnxruntime's exactly, on every dividend of the input's
range; one sample is proven (zero knowledge, the default) and verified; a
prover that changes a quotient or a remainder is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from zkaudit.circuit import encode_circuit
from zkaudit.onnx import import_model

INT16_ALL = np.arange(-(2**15), 2**15, dtype=np.int16)


def _model(nodes, inputs: dict, shape, inits=()):
    g = helper.make_graph(nodes, "int", [helper.make_tensor_value_info(n, t, list(shape)) for n, t in inputs.items()],
                          [helper.make_tensor_value_info("y", next(iter(inputs.values())), list(shape))],
                          initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


def prove_and_verify(circuit, weights, feeds: dict):
    """A zero-knowledge inference proof of integer inputs, and the verifier's verdict."""
    from zkaudit.statements.inference.prover import commit_weights, prove
    from zkaudit.statements.verify import verify_proof

    commitment = commit_weights(circuit, weights)[0].to_bytes()
    proof = prove(circuit, weights, {k: np.asarray(v, np.int64) for k, v in feeds.items()},
                  weight_commitment=commitment)
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=commitment)


def _ort(m, feeds):
    return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(["y"], feeds)[0]


def _by_constant(op: str, c: int, **attrs):
    node = helper.make_node(op, ["x", "c"], ["y"], **attrs)
    return _model([node], {"x": TensorProto.INT16}, (INT16_ALL.size,),
                  [numpy_helper.from_array(np.array(c, np.int16), "c")])


CASES = [("Div", 3, {}), ("Div", -4, {}), ("Div", 7, {}), ("Div", 1, {}), ("Mod", 3, {}), ("Mod", -4, {}),
         ("Mod", 6, {"fmod": 1}), ("Mod", -5, {"fmod": 1})]


@pytest.mark.parametrize("op, c, attrs", CASES, ids=[f"{o}{c}{a}" for o, c, a in CASES])
def test_by_a_constant_matches_onnxruntime_on_every_int16(op, c, attrs):
    m = _by_constant(op, c, **attrs)
    circuit, weights = import_model(m, name="int")
    assert not circuit.weights  # nothing private: the divisor is in the circuit's public attributes
    got = circuit.execute(weights, {circuit.inputs[0].name: INT16_ALL.astype(np.int64)})[circuit.outputs[0].name]
    np.testing.assert_array_equal(got, _ort(m, {"x": INT16_ALL}))


def _small(op: str, c: int, **attrs):
    node = helper.make_node(op, ["x", "c"], ["y"], **attrs)
    return _model([node], {"x": TensorProto.INT16}, (2, 4), [numpy_helper.from_array(np.array(c, np.int16), "c")])


SAMPLE = np.array([[-32768, -301, -7, -1], [0, 5, 299, 32767]], np.int16)


@pytest.mark.parametrize("op, c, attrs", [("Div", -3, {}), ("Mod", 3, {}), ("Mod", -5, {"fmod": 1})])
def test_by_a_constant_proves_and_verifies(op, c, attrs):
    m = _small(op, c, **attrs)
    circuit, weights = import_model(m, name="int")
    v = prove_and_verify(circuit, weights, {"x": SAMPLE})
    assert v.valid, v.reason
    assert np.array_equal(np.asarray(v.output[circuit.outputs[0].name]).reshape(SAMPLE.shape), _ort(m, {"x": SAMPLE}))


def _attack(circuit, weights, x):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
    from malicious_prover import Attack

    attack = Attack(circuit, weights, {s.name: np.asarray(v, np.int64) for s, v in zip(circuit.inputs, x)})
    assert attack.run(attack.honest).accepted
    return attack


@pytest.mark.parametrize("op, attrs, tensor", [("Div", {}, "/floor"), ("Mod", {}, "/rem"),
                                                ("Mod", {"fmod": 1}, "/p/rem")])
def test_a_wrong_quotient_or_remainder_is_refused(op, attrs, tensor):
    """The floor quotient (a Requantize output) or the remainder (a Sub
    output) off by one in one cell, everything downstream recomputed: the
    remainder range check (or the Sub's sum-check) refuses it."""
    circuit, weights = import_model(_small(op, 7, **attrs), name="int")
    attack = _attack(circuit, weights, [SAMPLE])
    name = next(n.output for n in circuit.nodes if n.output.endswith(tensor))
    for cell in (1, 6):
        honest = int(attack.honest.table(name)[cell])
        for lie in (honest + 1, honest - 1, honest + 7):
            out = attack.attempt((name, cell, lie))
            assert out.stage.startswith("rejected"), (name, cell, lie, out.stage)


def _pair(op: str, **attrs):
    """y = op(a, b mod 7): the divisor a computed tensor of 7 values."""
    nodes = [helper.make_node("Mod", ["b", "seven"], ["d"]), helper.make_node(op, ["a", "d"], ["y"], **attrs)]
    return _model(nodes, {"a": TensorProto.INT8, "b": TensorProto.INT8}, (2, 4),
                  [numpy_helper.from_array(np.array(7, np.int8), "seven")])


@pytest.mark.parametrize("op, attrs", [("Div", {}), ("Mod", {}), ("Mod", {"fmod": 1})])
def test_of_two_computed_tensors(op, attrs):
    m = _pair(op, **attrs)
    circuit, weights = import_model(m, name="int")
    assert "Table" in {n.op for n in circuit.nodes}
    a = np.repeat(np.arange(-128, 128, dtype=np.int8), 6)
    b = np.tile(np.array([1, 2, 3, 4, 5, -1], np.int8), 256)  # b mod 7 never 0 (onnxruntime traps on it)
    feed_a, feed_b = a.reshape(-1, 2, 4), b.reshape(-1, 2, 4)
    for i in range(0, feed_a.shape[0], 37):
        got = circuit.execute(weights, {"a": feed_a[i].astype(np.int64), "b": feed_b[i].astype(np.int64)})
        np.testing.assert_array_equal(got[circuit.outputs[0].name], _ort(m, {"a": feed_a[i], "b": feed_b[i]}))
    x = {"a": np.array([[-128, -9, 9, 127], [-1, 0, 50, -50]], np.int8),
         "b": np.array([[3, 3, -1, 5], [2, 4, 6, -4]], np.int8)}
    v = prove_and_verify(circuit, weights, x)
    assert v.valid, v.reason
    assert np.array_equal(np.asarray(v.output[circuit.outputs[0].name]).reshape(2, 4), _ort(m, x))
    attack = _attack(circuit, weights, [x["a"], x["b"]])
    out = attack.attempt((circuit.outputs[0].name, 0, int(attack.honest.table(circuit.outputs[0].name)[0]) + 1))
    assert out.stage.startswith("rejected"), out.stage


def test_integer_division_by_zero_and_wrapping_are_refused():
    from zkaudit.onnx.errors import UnsupportedOp

    with pytest.raises(UnsupportedOp, match="constant 0"):
        import_model(_small("Div", 0), name="int")
    with pytest.raises(UnsupportedOp, match="wraps"):  # -32768 / -1 = 32768 is no int16
        import_model(_small("Div", -1), name="int")
