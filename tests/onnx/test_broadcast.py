"""Add/Sub/Mul of operands of different shapes: a computed operand that is
broadcast becomes an `Expand` node (an index map), a constant one a weight of
the output's shape; both agree with onnxruntime and prove."""

from __future__ import annotations

import numpy as np
import pytest

from oneop import compiled, max_error, model, prove_and_verify, samples

CASES = {
    # name: (op, input shapes, output shape, constant operands)
    "add_8_with_1x8": ("Add", {"a": (8,), "b": (1, 8)}, (1, 8), {}),
    "mul_row_by_matrix": ("Mul", {"a": (1, 8), "b": (4, 8)}, (4, 8), {}),
    "sub_column_and_row": ("Sub", {"a": (3, 1), "b": (1, 5)}, (3, 5), {}),
    "add_const_wider_than_input": ("Add", {"a": (5,)}, (2, 5), {"c": np.linspace(-1, 1, 10, dtype=np.float32)
                                                                .reshape(2, 5)}),
    "expand": ("Expand", {"a": (3, 1)}, (2, 3, 4), {"shape": np.array([2, 1, 4], np.int64)}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_broadcast_agrees_with_onnxruntime_and_proves(name):
    op, shapes, out_shape, inits = CASES[name]
    m = model(op, shapes, out_shape, inits)
    calib = samples(shapes, 16)
    circuit, weights = compiled(m, calib)
    assert any(n.op == "Expand" for n in circuit.nodes), [n.op for n in circuit.nodes]
    err, allowed = max_error(m, circuit, weights, samples(shapes, 8, seed=1))
    assert err <= allowed, (err, allowed)
    verdict = prove_and_verify(circuit, weights, {k: v[0] for k, v in samples(shapes, 1, seed=2).items()})
    assert verdict.valid, verdict.reason
