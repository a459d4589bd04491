"""RNN, GRU and LSTM unrolled over their sequence onto existing IR ops
(MatMul, Add, Requantize, Table, Mul, Concat): tiny float models built with
onnx.helper, compared with onnxruntime within the README's tolerance
(`oneop.py`) on every output, and proven and verified."""

from __future__ import annotations

import re
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from oneop import FLOAT_TOLERANCE, compiled, prove_and_verify, samples
from zkaudit.circuit import dequantize, quantize
from zkaudit.onnx.errors import UnsupportedOp

SEQ, BATCH, INPUT, HIDDEN = 2, 1, 3, 2
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _model(op, *, dirs=1, initial_h=False, peepholes=False, seq=SEQ, **attrs):
    rng = np.random.default_rng(len(op) + dirs)
    g = GATES[op]
    inits = {"W": rng.normal(0, 0.5, (dirs, g * HIDDEN, INPUT)), "R": rng.normal(0, 0.5, (dirs, g * HIDDEN, HIDDEN)),
             "B": rng.normal(0, 0.3, (dirs, 2 * g * HIDDEN))}
    ins = ["x", "W", "R", "B"] + (["", "h0"] if initial_h else [])
    if peepholes:
        inits["P"] = rng.normal(0, 0.5, (dirs, 3 * HIDDEN))
        ins = ["x", "W", "R", "B", "", "", "", "P"]
    outs = ["y", "y_h"] + (["y_c"] if op == "LSTM" else [])
    shapes = {"y": [seq, dirs, BATCH, HIDDEN], "y_h": [dirs, BATCH, HIDDEN], "y_c": [dirs, BATCH, HIDDEN]}
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [seq, BATCH, INPUT])]
    if initial_h:
        inputs.append(helper.make_tensor_value_info("h0", TensorProto.FLOAT, [dirs, BATCH, HIDDEN]))
    graph = helper.make_graph([helper.make_node(op, ins, outs, hidden_size=HIDDEN, **attrs)], op.lower(), inputs,
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o]) for o in outs],
                              initializer=[numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


CASES = {
    "RNN": ("RNN", {}), "RNN_reverse_sigmoid": ("RNN", {"direction": "reverse", "activations": ["Sigmoid"]}),
    "RNN_initial_h": ("RNN", {"initial_h": True}),
    "GRU": ("GRU", {}), "GRU_linear_before_reset": ("GRU", {"linear_before_reset": 1}),
    "LSTM": ("LSTM", {}), "LSTM_peepholes": ("LSTM", {"peepholes": True}),
    "RNN_bidirectional": ("RNN", {"direction": "bidirectional", "dirs": 2}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_onnxruntime_on_every_output_and_proves(name):
    op, attrs = CASES[name]
    m = _model(op, **attrs)
    shapes = {i.name: tuple(d.dim_value for d in i.type.tensor_type.shape.dim) for i in m.graph.input}
    data = samples(shapes, 16, lo=-2, hi=2)
    data = {k: (v / 2 if k == "h0" else v) for k, v in data.items()}  # a hidden state lies in [-1, 1]
    circuit, weights = compiled(m, data)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in m.graph.output]
    for i in range(4):
        feeds = {k: v[i] for k, v in data.items()}
        wants = sess.run(names, feeds)
        got = circuit.execute(weights, {s.name: quantize(s, feeds[s.name]) for s in circuit.inputs})
        for spec, want in zip(circuit.outputs, wants):
            assert spec.shape == want.shape
            err = np.max(np.abs(dequantize(spec, got[spec.name]) - want))
            assert err <= FLOAT_TOLERANCE * np.ptp(wants[0]) + 2 * spec.scale, (spec.name, err)
    verdict = prove_and_verify(circuit, weights, {k: v[5] for k, v in data.items()})
    assert verdict.valid, verdict.reason


@pytest.mark.parametrize("attrs, match", [({"clip": 1.0}, "clip"),
                                          ({"activations": ["Relu"]}, "Sigmoid and Tanh only")])
def test_refusals_name_the_reason(attrs, match):
    m = _model("RNN", **attrs)
    with pytest.raises(UnsupportedOp, match=match):
        compiled(m, samples({"x": (SEQ, BATCH, INPUT)}, 4))


@pytest.mark.parametrize("op", sorted(GATES))
def test_the_unrolled_steps_share_one_committed_copy_of_each_weight(op):
    """Every step multiplies by the same integers: the circuit commits each
    weight role once (a GRU over 24 steps is not 24 GRUs' worth of committed
    weights), each later step's MatMul reads the shared tensor, and the
    committed weights do not grow with the sequence."""
    counts = {}
    for seq in (2, 5):
        m = _model(op, seq=seq)
        circuit, _ = compiled(m, samples({"x": (seq, BATCH, INPUT)}, 16, lo=-2, hi=2))
        names = {w.name for w in circuit.weights}
        readers = {}
        for node in circuit.nodes:
            for name in node.inputs:
                if name in names:
                    readers[name] = readers.get(name, 0) + 1
        recurrent = [w for w in circuit.weights if w.name.endswith("/h/W")]
        assert recurrent and all(readers[w.name] == seq - 1 for w in recurrent)  # step 0 has no h_{-1}
        # the cell's weights (named by the step that first used them), not x_t's per-step selections
        counts[seq] = sum(1 for w in circuit.weights if re.search(r"/t\d+/", w.name))
    assert counts[2] == counts[5]
