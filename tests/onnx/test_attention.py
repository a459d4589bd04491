"""Multi-head attention as PyTorch exports it: MatMuls of two activations
batched over heads, a Div by sqrt(d) (or a Mul by its inverse), Softmax,
Transpose/Reshape. Two graphs, built with onnx.helper (torch is not a
dependency): a hand-written batch-first block (4-D, Div by sqrt(d)) and the
node sequence torch.onnx.export writes for nn.MultiheadAttention with
need_weights (sequence-first, packed in-projection split by Gather, Mul by
1/sqrt(d), 3-D bmm, Gemm out-projection, the head-averaged weights as a second
output). Each is compared with onnxruntime within the README's tolerance
(`oneop.py`), the torch graph proven (zero knowledge) and verified, and so is
a small transformer over codes (embedding, attention, LayerNormalization,
feed-forward, pooling); a prover that changes one attention score, or one
cell of a head it selects, is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from oneop import compiled, max_error, prove_and_verify, samples

SEQ, WIDTH, HEADS = 4, 8, 2
HEAD = WIDTH // HEADS
F = TensorProto.FLOAT


def _w(rng, *shape, scale=0.4):
    return (rng.normal(0, scale, shape)).astype(np.float32)


def _i64(*v):
    return np.array(v, np.int64)


def _model(nodes, inputs: dict, outputs: dict, inits: dict):
    g = helper.make_graph(nodes, "attention", [helper.make_tensor_value_info(k, F, list(v)) for k, v in inputs.items()],
                          [helper.make_tensor_value_info(k, F, list(v)) for k, v in outputs.items()],
                          initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def hand_written_block():
    """Batch-first x (1, S, E): per-head q, k, v by Reshape/Transpose, scores
    q @ k^T (1, H, S, S), Div by sqrt(d), Softmax, @ v, heads merged, out-projection."""
    rng = np.random.default_rng(0)
    node = helper.make_node
    nodes = [node("MatMul", ["x", "wq"], ["q0"]), node("MatMul", ["x", "wk"], ["k0"]),
             node("MatMul", ["x", "wv"], ["v0"]),
             node("Reshape", ["q0", "heads_shape"], ["q1"]), node("Transpose", ["q1"], ["q"], perm=[0, 2, 1, 3]),
             node("Reshape", ["k0", "heads_shape"], ["k1"]), node("Transpose", ["k1"], ["kt"], perm=[0, 2, 3, 1]),
             node("Reshape", ["v0", "heads_shape"], ["v1"]), node("Transpose", ["v1"], ["v"], perm=[0, 2, 1, 3]),
             node("MatMul", ["q", "kt"], ["s"]), node("Div", ["s", "sqrt_d"], ["z"]),
             node("Softmax", ["z"], ["p"], axis=-1), node("MatMul", ["p", "v"], ["o"]),
             node("Transpose", ["o"], ["o1"], perm=[0, 2, 1, 3]), node("Reshape", ["o1", "merged_shape"], ["o2"]),
             node("MatMul", ["o2", "wo"], ["y"])]
    inits = {"wq": _w(rng, WIDTH, WIDTH), "wk": _w(rng, WIDTH, WIDTH), "wv": _w(rng, WIDTH, WIDTH),
             "wo": _w(rng, WIDTH, WIDTH), "heads_shape": _i64(1, SEQ, HEADS, HEAD),
             "merged_shape": _i64(1, SEQ, WIDTH), "sqrt_d": np.array(np.sqrt(HEAD), np.float32)}
    return _model(nodes, {"x": (1, SEQ, WIDTH)}, {"y": (1, SEQ, WIDTH)}, inits), {"x": (1, SEQ, WIDTH)}


def torch_multihead_attention():
    """The graph torch.onnx.export (opset 17) writes for
    nn.MultiheadAttention(E, H)(x, x, x) with x (S, B=1, E), need_weights=True."""
    rng = np.random.default_rng(1)
    node = helper.make_node
    nodes = [node("MatMul", ["x", "in_proj_weight_t"], ["proj0"]), node("Add", ["proj0", "in_proj_bias"], ["proj1"]),
             node("Reshape", ["proj1", "unflatten"], ["proj2"]),  # unflatten(-1, (3, E))
             node("Unsqueeze", ["proj2", "axes0"], ["proj3"]),
             node("Transpose", ["proj3"], ["proj4"], perm=[3, 1, 2, 0, 4]),  # transpose(0, -2)
             node("Squeeze", ["proj4", "axes_m2"], ["proj"]),  # squeeze(-2): (3, S, B, E)
             *(node("Gather", ["proj", f"i{j}"], [t], axis=0) for j, t in enumerate(("q0", "k0", "v0"))),
             *(node("Reshape", [f"{t}0", "per_head"], [f"{t}1"]) for t in "qkv"),  # view(S, B*H, hd)
             *(node("Transpose", [f"{t}1"], [f"{t}"], perm=[1, 0, 2]) for t in "qkv"),
             node("Mul", ["q", "inv_sqrt_d"], ["q_scaled"]),
             node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
             node("MatMul", ["q_scaled", "kt"], ["s"]), node("Softmax", ["s"], ["p"], axis=-1),
             node("MatMul", ["p", "v"], ["o"]),
             node("Transpose", ["o"], ["o1"], perm=[1, 0, 2]), node("Reshape", ["o1", "rows"], ["o2"]),
             node("Gemm", ["o2", "out_proj_weight", "out_proj_bias"], ["o3"], transB=1),
             node("Reshape", ["o3", "seq_first"], ["y"]),
             node("Reshape", ["p", "per_batch"], ["p4"]), node("ReduceMean", ["p4"], ["weights"], axes=[1],
                                                                  keepdims=0)]
    inits = {"in_proj_weight_t": _w(rng, WIDTH, 3 * WIDTH), "in_proj_bias": _w(rng, 3 * WIDTH, scale=0.1),
             "unflatten": _i64(SEQ, 1, 3, WIDTH), "axes0": _i64(0), "axes_m2": _i64(-2),
             "i0": np.array(0, np.int64), "i1": np.array(1, np.int64), "i2": np.array(2, np.int64),
             "per_head": _i64(SEQ, HEADS, HEAD), "inv_sqrt_d": np.array(1 / np.sqrt(HEAD), np.float32),
             "rows": _i64(SEQ, WIDTH), "out_proj_weight": _w(rng, WIDTH, WIDTH),
             "out_proj_bias": _w(rng, WIDTH, scale=0.1), "seq_first": _i64(SEQ, 1, WIDTH),
             "per_batch": _i64(1, HEADS, SEQ, SEQ)}
    return (_model(nodes, {"x": (SEQ, 1, WIDTH)}, {"y": (SEQ, 1, WIDTH), "weights": (1, SEQ, SEQ)}, inits),
            {"x": (SEQ, 1, WIDTH)})


@pytest.mark.parametrize("build", [hand_written_block, torch_multihead_attention])
def test_attention_matches_onnxruntime(build):
    m, shapes = build()
    data = samples(shapes, 24, lo=-2, hi=2)
    circuit, weights = compiled(m, data)
    heads = [n for n in circuit.nodes if n.op == "MatMul" and "/head" in n.name]
    assert len(heads) == 2 * HEADS  # scores and mixing, per head, on the IR's 2-D MatMul
    for output in (o.name for o in m.graph.output):  # the torch graph's head-averaged weights too
        err, allowed = max_error(m, circuit, weights, {k: v[:6] for k, v in data.items()}, output=output)
        assert err <= allowed, (output, err, allowed)


def test_torch_multihead_attention_proves():
    m, shapes = torch_multihead_attention()
    data = samples(shapes, 24, lo=-2, hi=2)
    circuit, weights = compiled(m, data)
    v = prove_and_verify(circuit, weights, {k: v[7] for k, v in data.items()})
    assert v.valid, v.reason


def test_many_heads_select_each_matrix_within_its_range():
    """16 heads of (1 x 128) @ (128 x 1): a head's selection is one Gather
    index map, whose cells keep the input's declared range (a bare one-hot
    MatMul would declare them 32 times wider and let the accumulator's range
    leave int32) -- still onnxruntime's result."""
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    m = _model([node], {"a": (16, 1, 128), "b": (16, 128, 1)}, {"y": (16, 1, 1)}, {})
    data = samples({"a": (16, 1, 128), "b": (16, 128, 1)}, 8, lo=-1, hi=1)
    circuit, weights = compiled(m, data)
    specs = circuit.specs()
    picks = [n for n in circuit.nodes if n.op == "Gather"]
    assert len(picks) == 2 * 16
    for n in picks:
        src, out = specs[n.inputs[0]], specs[n.output]
        assert (out.lo, out.hi) == (src.lo, src.hi)
    err, allowed = max_error(m, circuit, weights, {k: v[:4] for k, v in data.items()})
    assert err <= allowed, (err, allowed)


def test_a_changed_attention_score_is_refused():
    """The malicious prover changes one value and recomputes everything
    after it: a requantized attention score off by one, one score of head 1
    before rounding (its q @ k^T accumulator), one cell of head 1's k where
    it is selected from the stacked heads. Each is refused."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
    from malicious_prover import Attack

    from zkaudit.circuit import quantize

    m, shapes = hand_written_block()
    data = samples(shapes, 24, lo=-2, hi=2)
    circuit, weights = compiled(m, data)
    spec = circuit.inputs[0]
    attack = Attack(circuit, weights, {spec.name: quantize(spec, data["x"][3])})
    assert attack.run(attack.honest).accepted
    scores = next(n.output for n in circuit.nodes if n.op == "Requantize" and n.inputs[0] == "s/heads")
    accumulator = next(n.output for n in circuit.nodes if n.op == "MatMul" and n.output == "s/head1")
    pick = next(n.output for n in circuit.nodes if n.op == "Gather" and n.output.endswith("/b1"))
    for name, step in ((scores, 1), (accumulator, 5), (pick, 3)):
        honest = int(attack.honest.table(name)[1])
        out = attack.attempt((name, 1, honest + step if honest + step <= 127 or name != scores else honest - step))
        assert out.stage.startswith("rejected"), (name, out.stage)


def transformer_over_codes(*, layers=1, heads=HEADS, width=WIDTH, seq=SEQ, vocab=20, classes=3, seed=2):
    """A small encoder over a sequence of codes, shaped as PyTorch writes one:
    an embedding (Gather from a weight table by int64 ids) plus a learned
    position table, `layers` post-norm blocks (multi-head self-attention with
    Div by sqrt(d), residual Add, LayerNormalization, a ReLU feed-forward,
    residual Add, LayerNormalization), mean over the sequence, a Gemm head."""
    rng = np.random.default_rng(seed)
    node = helper.make_node
    d = width // heads
    nodes = [node("Gather", ["embed", "ids"], ["e"]), node("Add", ["e", "pos"], ["h0"])]
    inits = {"embed": _w(rng, vocab, width, scale=1.0), "pos": _w(rng, 1, seq, width, scale=0.3),
             "heads_shape": _i64(1, seq, heads, d), "merged_shape": _i64(1, seq, width),
             "sqrt_d": np.array(np.sqrt(d), np.float32), "head_w": _w(rng, classes, width),
             "head_b": _w(rng, classes, scale=0.1), "flat": _i64(1, width)}
    h = "h0"
    for i in range(layers):
        p = f"l{i}_"
        for t in "qkvo":
            inits[p + "w" + t] = _w(rng, width, width, scale=width ** -0.5)
        inits[p + "w1"], inits[p + "w2"] = _w(rng, width, 2 * width, scale=width ** -0.5), \
            _w(rng, 2 * width, width, scale=(2 * width) ** -0.5)
        for n in ("g1", "g2"):
            inits[p + n] = (1 + _w(rng, width, scale=0.1)).astype(np.float32)
        for n in ("b1", "b2"):
            inits[p + n] = _w(rng, width, scale=0.1)
        nodes += [node("MatMul", [h, p + "wq"], [p + "q0"]), node("MatMul", [h, p + "wk"], [p + "k0"]),
                  node("MatMul", [h, p + "wv"], [p + "v0"]),
                  node("Reshape", [p + "q0", "heads_shape"], [p + "q1"]),
                  node("Transpose", [p + "q1"], [p + "q"], perm=[0, 2, 1, 3]),
                  node("Reshape", [p + "k0", "heads_shape"], [p + "k1"]),
                  node("Transpose", [p + "k1"], [p + "kt"], perm=[0, 2, 3, 1]),
                  node("Reshape", [p + "v0", "heads_shape"], [p + "v1"]),
                  node("Transpose", [p + "v1"], [p + "v"], perm=[0, 2, 1, 3]),
                  node("MatMul", [p + "q", p + "kt"], [p + "s"]), node("Div", [p + "s", "sqrt_d"], [p + "z"]),
                  node("Softmax", [p + "z"], [p + "a"], axis=-1), node("MatMul", [p + "a", p + "v"], [p + "o"]),
                  node("Transpose", [p + "o"], [p + "o1"], perm=[0, 2, 1, 3]),
                  node("Reshape", [p + "o1", "merged_shape"], [p + "o2"]),
                  node("MatMul", [p + "o2", p + "wo"], [p + "att"]), node("Add", [h, p + "att"], [p + "r1"]),
                  node("LayerNormalization", [p + "r1", p + "g1", p + "b1"], [p + "n1"], axis=-1),
                  node("MatMul", [p + "n1", p + "w1"], [p + "f0"]), node("Relu", [p + "f0"], [p + "f1"]),
                  node("MatMul", [p + "f1", p + "w2"], [p + "f2"]), node("Add", [p + "n1", p + "f2"], [p + "r2"]),
                  node("LayerNormalization", [p + "r2", p + "g2", p + "b2"], [p + "n2"], axis=-1)]
        h = p + "n2"
    nodes += [node("ReduceMean", [h], ["pooled"], axes=[1], keepdims=0), node("Reshape", ["pooled", "flat"], ["pf"]),
              node("Gemm", ["pf", "head_w", "head_b"], ["y"], transB=1)]
    g = helper.make_graph(nodes, "codes", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, seq])],
                          [helper.make_tensor_value_info("y", F, [1, classes])],
                          initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m, vocab


def test_a_small_transformer_over_codes_matches_onnxruntime_and_proves():
    m, vocab = transformer_over_codes()
    ids = np.random.default_rng(5).integers(0, vocab, size=(24, 1, SEQ)).astype(np.int64)
    circuit, weights = compiled(m, {"ids": ids})
    err, allowed = max_error(m, circuit, weights, {"ids": ids[:6]})
    assert err <= allowed, (err, allowed)
    v = prove_and_verify(circuit, weights, {"ids": ids[7]})
    assert v.valid, v.reason
