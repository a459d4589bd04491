"""Review attacks: AveragePool with pads, count_include_pad = 0 and a zero
point (its counts differ per cell, its padding slots must read nothing), and
Softmax along a non-last axis (the permuted-view argument). One-value sweeps
and coordinated changes must never forge."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec
from zkaudit.circuit.weights import Weights

from malicious_prover import Attack, coordinated, sweep
from small_circuits import INT8, _rq, _softmax_attrs, chain


def _circuit():
    x = TensorSpec("x", (1, 3, 3, 3), *INT8, 0.1, 0)
    w = TensorSpec("w", (3, 3), -127, 127)
    nodes = [
        Node.make("ap", "AveragePool", ["x"], "a", count_include_pad=0, kernel_shape=(2, 2), pads=(1, 1, 0, 0),
                  strides=(2, 2), zero_point=-3),
        Node.make("sm", "Softmax", ["a"], "s", **{**_softmax_attrs(-128, 127), "axis": 1}),
        Node.make("rs", "Reshape", ["s"], "f", shape=(1, 3, 4)),
        Node.make("tr", "Transpose", ["f"], "t", perm=(0, 2, 1)),
        Node.make("rs2", "Reshape", ["t"], "g", shape=(4, 3)),
        Node.make("mm", "MatMul", ["g", "w"], "y", a_zero_point=-128, b_zero_point=0),
    ]
    circuit = chain("review_avg_softmax", [x], [w], nodes, ["y", "a"])
    rng = np.random.default_rng(11)
    return circuit, Weights({"w": rng.integers(-127, 128, (3, 3))}), {"x": rng.integers(-128, 128, (1, 3, 3, 3))}


@pytest.fixture(scope="module")
def attack():
    return Attack(*_circuit())


def test_honest_verifies(attack):
    out = attack.run(attack.honest)
    assert out.accepted and not out.forged, out.stage


@pytest.mark.adversarial  # minutes of zero-knowledge proofs; test_sweep covers each circuit by default
def test_one_value_sweep_never_forges(attack):
    counts, forged = sweep(attack, np.random.default_rng(5), padding_cells=2, real_cells=1)
    assert not forged, forged[:3]
    assert counts.get("rejected", 0) > 0, counts


def test_average_output_off_by_one_refused(attack):
    """The pooled value moved by one in each real cell (the rounding's other
    side), with everything downstream recomputed: refused."""
    _, real = attack.cells("a")
    for i in real[:4]:
        v = int(attack.honest.table("a")[i])
        for d in (-1, 1):
            out = attack.attempt(("a", int(i), v + d))
            assert not out.accepted, (int(i), d, out.stage)


def test_coordinated_never_forges(attack):
    for changes in coordinated(attack):
        out = attack.attempt(*changes)
        assert not out.accepted, (changes, out.stage)
