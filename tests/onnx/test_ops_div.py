"""Division on existing IR ops: by a computed tensor as a Mul by a lookup
table of the divisor's reciprocal, and by constants (a rescale, or a Mul by
1/c); and an attention score block (MatMul of two activations, Div by
sqrt(d), Softmax) built from them. Each compared with onnxruntime within the
README's tolerance (`oneop.py`) and proven and verified."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from oneop import compiled, max_error, model, prove_and_verify, samples


def _data(shapes, n, seed=0):
    """x uniform in [-3, 3]; divisors d in [0.5, 3] with a random sign (away from 0)."""
    out = samples({k: v for k, v in shapes.items() if k == "x"}, n, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for k, s in shapes.items():
        if k != "x":
            out[k] = (rng.uniform(0.5, 3.0, (n, *s)) * rng.choice([-1.0, 1.0], (n, *s))).astype(np.float32)
    return out


@pytest.mark.parametrize("shapes, out", [({"x": (3, 4), "d": (3, 4)}, (3, 4)),
                                         ({"x": (3, 4), "d": (3, 1)}, (3, 4))])
def test_division_by_a_tensor(shapes, out):
    m = model("Div", shapes, out)
    data = _data(shapes, 24)
    circuit, weights = compiled(m, data)
    assert "Table" in {n.op for n in circuit.nodes}
    err, allowed = max_error(m, circuit, weights, {k: v[:6] for k, v in data.items()})
    assert err <= allowed, (err, allowed)
    assert prove_and_verify(circuit, weights, {k: v[7] for k, v in data.items()}).valid


@pytest.mark.parametrize("divisor", [np.array(4.0, np.float32), np.array([1.0, -2.0, 0.5, 3.0], np.float32)])
def test_division_by_a_constant(divisor):
    m = model("Div", {"x": (3, 4)}, (3, 4), {"c": divisor})
    data = samples({"x": (3, 4)}, 16)
    circuit, weights = compiled(m, data)
    err, allowed = max_error(m, circuit, weights, {"x": data["x"][:6]})
    assert err <= allowed, (err, allowed)
    assert prove_and_verify(circuit, weights, {"x": data["x"][7]}).valid


def test_attention_scores():
    """softmax(q @ k^T / sqrt(d)) for one head, q and k computed (inputs)."""
    d = 8
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], perm=[1, 0]),
             helper.make_node("MatMul", ["q", "kt"], ["s"]),
             helper.make_node("Div", ["s", "sqrt_d"], ["z"]),
             helper.make_node("Softmax", ["z"], ["y"], axis=-1)]
    g = helper.make_graph(nodes, "attn", [helper.make_tensor_value_info(n, TensorProto.FLOAT, [4, d])
                                          for n in ("q", "k")],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4])],
                          initializer=[helper.make_tensor("sqrt_d", TensorProto.FLOAT, [], [float(np.sqrt(d))])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    data = samples({"q": (4, d), "k": (4, d)}, 16, lo=-1, hi=1)
    circuit, weights = compiled(m, data)
    assert {"MatMul", "Softmax"} <= {n.op for n in circuit.nodes}
    err, allowed = max_error(m, circuit, weights, {k: v[:4] for k, v in data.items()})
    assert err <= allowed, (err, allowed)
    assert prove_and_verify(circuit, weights, {k: v[5] for k, v in data.items()}).valid
