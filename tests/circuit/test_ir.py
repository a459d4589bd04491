"""Validator, canonical encoding and digest, weights container, executor
checks and input files."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from zkaudit.circuit import (Circuit, InputError, InvalidCircuit, MalformedArtifact, Node, TensorSpec, Weights,
                             decode_circuit, encode_circuit, ops_in_group, read_inputs, validate)
from zkaudit.circuit.infer import infer


def small_circuit() -> tuple[Circuit, Weights]:
    x = TensorSpec("x", (1, 4), -128, 127, 0.05, 3)
    w = TensorSpec("w", (4, 2), -128, 127)
    b = TensorSpec("b", (2,), -512, 511)
    mm = Node.make("mm", "MatMul", ["x", "w", "b"], "mm", a_zero_point=3, b_zero_point=0)
    rq = Node.make("rq", "Requantize", ["mm"], "rq", axis=1, in_zero_point=0, multiplier=[1 << 30, 3 << 29],
                   shift=[38, 38], out_zero_point=-128, out_min=-128, out_max=127)
    specs = {"x": x, "w": w, "b": b}
    tensors = []
    for n in (mm, rq):
        shape, lo, hi = infer(n, [specs[i] for i in n.inputs])
        specs[n.output] = TensorSpec(n.output, shape, lo, hi)
        tensors.append(specs[n.output])
    out = dataclasses.replace(specs["rq"], scale=0.1, zero_point=-128)
    c = Circuit("small", (x,), (out,), (w, b), (mm, rq), tuple(tensors))
    weights = Weights({"w": np.arange(8).reshape(4, 2) - 4, "b": np.array([100, -100])})
    return c, weights


def test_valid_circuit_executes_and_returns_the_witness():
    c, w = small_circuit()
    validate(c)
    out = c.execute(w, np.array([[1, 2, 3, 4]]))
    assert set(out) == {"rq"}
    full = c.execute(w, np.array([[1, 2, 3, 4]]), return_all=True)
    assert set(full) == {"x", "w", "b", "mm", "rq"}
    assert full["mm"].tolist() == (np.array([[1, 2, 3, 4]]) - 3).dot(w["w"]).__add__(w["b"]).tolist()


def test_validator_names_the_node_and_the_reason():
    c, _ = small_circuit()
    lying = dataclasses.replace(c, tensors=(dataclasses.replace(c.tensors[0], hi=10),) + c.tensors[1:])
    with pytest.raises(InvalidCircuit, match="'mm'.*declared"):
        validate(lying)
    bad_op = dataclasses.replace(c, nodes=(dataclasses.replace(c.nodes[0], op="Frobnicate"),) + c.nodes[1:])
    with pytest.raises(InvalidCircuit, match="'mm': unknown op"):
        validate(bad_op)
    x = TensorSpec("x", (1, 200000), -128, 127)
    w = TensorSpec("w", (200000, 1), -128, 127)
    with pytest.raises(InvalidCircuit, match="does not fit int32"):
        infer(Node.make("big", "MatMul", ["x", "w"], "big", a_zero_point=0, b_zero_point=0), [x, w])
    t = Node.make("t", "Table", ["x"], "t", function="sigmoid", in_min=0, values=[0] * 10)
    with pytest.raises(InvalidCircuit, match="'t'.*outside the table domain"):
        infer(t, [TensorSpec("x", (1,), -128, 127)])


def test_encoding_is_canonical_and_strict():
    c, _ = small_circuit()
    data = encode_circuit(c)
    assert decode_circuit(data) == c
    with pytest.raises(MalformedArtifact, match="header says|trailing|length"):
        decode_circuit(data + b"\x00")
    with pytest.raises(MalformedArtifact):
        decode_circuit(data[:-5])
    with pytest.raises(MalformedArtifact, match="magic"):
        decode_circuit(b"X" + data[1:])
    spaced = data.replace(b'"name":"small"', b'"name": "small"')
    import struct

    header = len(b"ZKAUDIT-CIRCUIT\x00")
    spaced = spaced[:header] + struct.pack("<HI", 1, len(spaced) - header - 6) + spaced[header + 6:]
    with pytest.raises(MalformedArtifact, match="canonical"):
        decode_circuit(spaced)


def test_digest_covers_architecture_not_weight_values():
    c, _ = small_circuit()
    changed = dataclasses.replace(c, nodes=(c.nodes[0], Node.make(
        "rq", "Requantize", ["mm"], "rq", axis=1, in_zero_point=0, multiplier=[1 << 30, 3 << 29], shift=[38, 38],
        out_zero_point=-127, out_min=-128, out_max=127)))
    assert changed.digest() != c.digest()
    assert len(c.digest()) == 64


def test_weights_container_round_trip_and_strictness():
    _, w = small_circuit()
    data = w.encode()
    back = Weights.decode(data)
    assert set(back) == set(w) and all(np.array_equal(back[k], w[k]) for k in w)
    with pytest.raises(MalformedArtifact, match="truncated"):
        Weights.decode(data[:-1])
    with pytest.raises(MalformedArtifact, match="trailing"):
        Weights.decode(data + b"\x00")
    with pytest.raises(ValueError):
        back["w"][0, 0] = 5  # read-only


def test_executor_rejects_out_of_range_inputs_and_weights():
    c, w = small_circuit()
    with pytest.raises(InputError, match="outside its range"):
        c.execute(w, np.array([[1, 2, 3, 400]]))
    with pytest.raises(InputError, match="shape"):
        c.execute(w, np.array([1, 2, 3, 4]))
    bad = Weights({"w": np.full((4, 2), 1000), "b": np.array([0, 0])})
    with pytest.raises(InputError, match="weight 'w'"):
        c.execute(bad, np.array([[1, 2, 3, 4]]))


def test_read_inputs_accepts_both_formats_and_batches(tmp_path):
    c, _ = small_circuit()
    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps({"inputs": {"x": [[0.05, 0.1, -0.05, 0.0]]}}))
    single = read_inputs(ours, c)
    assert not single.batched and single.samples[0]["x"].tolist() == [[4, 5, 2, 3]]
    ezkl = tmp_path / "ezkl.json"
    ezkl.write_text(json.dumps({"input_data": [[0.05, 0.1, -0.05, 0.0] * 3]}))
    batch = read_inputs(ezkl, c)
    assert batch.batched and len(batch.samples) == 3 and batch.samples[2]["x"].tolist() == [[4, 5, 2, 3]]
    stacked = tmp_path / "stacked.json"
    stacked.write_text(json.dumps({"inputs_int": {"x": [[1, 2, 3, 4], [5, 6, 7, 8]]}}))
    assert [s["x"].tolist() for s in read_inputs(stacked, c).samples] == [[[1, 2, 3, 4]], [[5, 6, 7, 8]]]
    for doc, msg in [({"inputs": {"y": [1]}}, "exactly the inputs"), ({"input_data": [[1, 2, 3]]}, "multiple"),
                     ({"nothing": 1}, "needs 'inputs'")]:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(doc))
        with pytest.raises(InputError, match=msg):
            read_inputs(bad, c)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InputError, match="not valid JSON"):
        read_inputs(tmp_path / "broken.json", c)


def test_property_groups_are_queryable():
    assert set(ops_in_group("accumulate")) == {"MatMul", "Conv"}
    assert "Table" in ops_in_group("lookup") and "Softmax" in ops_in_group("lookup")
    assert {"Reshape", "Transpose", "Concat", "Pad", "Expand", "Gather"} == set(ops_in_group("index_map"))
