"""Multi-head attention as PyTorch exports it: MatMuls of two activations
batched over heads, a Div by sqrt(d) (or a Mul by its inverse), Softmax,
Transpose/Reshape. Two graphs, built with onnx.helper (torch is not a
dependency): a hand-written batch-first block (4-D, Div by sqrt(d)) and the
node sequence torch.onnx.export writes for nn.MultiheadAttention with
need_weights (sequence-first, packed in-projection split by Gather, Mul by
1/sqrt(d), 3-D bmm, Gemm out-projection, the head-averaged weights as a second
output). Each is compared with onnxruntime within the README's tolerance
(`oneop.py`), proven (zero knowledge) and verified; a prover that changes one
attention score is refused."""

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
def test_attention_matches_onnxruntime_and_proves(build):
    m, shapes = build()
    data = samples(shapes, 24, lo=-2, hi=2)
    circuit, weights = compiled(m, data)
    heads = [n for n in circuit.nodes if n.op == "MatMul" and "/head" in n.name]
    assert len(heads) == 2 * HEADS  # scores and mixing, per head, on the IR's 2-D MatMul
    for output in (o.name for o in m.graph.output):  # the torch graph's head-averaged weights too
        err, allowed = max_error(m, circuit, weights, {k: v[:6] for k, v in data.items()}, output=output)
        assert err <= allowed, (output, err, allowed)
    v = prove_and_verify(circuit, weights, {k: v[7] for k, v in data.items()})
    assert v.valid, v.reason


def test_a_changed_attention_score_is_refused():
    """One score of head 1 raised (the requantized q @ k^T), the softmax and
    everything after it recomputed by the malicious prover: refused."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
    from malicious_prover import Attack

    from zkaudit.circuit import quantize

    m, shapes = hand_written_block()
    data = samples(shapes, 24, lo=-2, hi=2)
    circuit, weights = compiled(m, data)
    spec = circuit.inputs[0]
    attack = Attack(circuit, weights, {spec.name: quantize(spec, data["x"][3])})
    assert attack.run(attack.honest).accepted
    score = next(n.output for n in circuit.nodes if n.op == "Requantize" and n.output.endswith("/head1"))
    honest = int(attack.honest.table(score)[1])
    out = attack.attempt((score, 1, honest + 1 if honest < 127 else honest - 1))
    assert out.stage.startswith("rejected"), out.stage
