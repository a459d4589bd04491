"""Review attacks on ops the shared sweep circuits leave out: a grouped Conv
with asymmetric pads, strides and both zero points, MaxPool with pads, and
ArgMax with select_last_index over a window with a guaranteed tie. Each
attack must be refused (a forged output accepted makes the test fail)."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec
from zkaudit.circuit.weights import Weights
from zkaudit.layers.tensor import padded_shape

from malicious_prover import Attack, coordinated, sweep
from small_circuits import INT8, _rq, chain


def _circuit():
    x = TensorSpec("x", (1, 4, 3, 3), *INT8, 0.1, 3)
    wc, bc = TensorSpec("wc", (6, 2, 3, 3), -127, 127), TensorSpec("bc", (6,), -3000, 3000)
    wf = TensorSpec("wf", (12, 3), -127, 127)
    nodes = [
        Node.make("conv", "Conv", ["x", "wc", "bc"], "cacc", dilations=(1, 1), group=2, pads=(1, 0, 1, 1),
                  strides=(1, 1), w_zero_point=1, x_zero_point=3),
        _rq("rqc", "cacc", "c", channels=6, shift=15),
        Node.make("mp", "MaxPool", ["c"], "p", dilations=(1, 1), kernel_shape=(2, 2), pads=(1, 0, 0, 1),
                  strides=(2, 2)),
        Node.make("rs", "Reshape", ["p"], "f", shape=(1, 12)),
        Node.make("fc", "MatMul", ["f", "wf"], "z", a_zero_point=0, b_zero_point=0),
        Node.make("am", "ArgMax", ["z"], "k", axis=1, keepdims=1, select_last_index=1),
    ]
    circuit = chain("review_conv_argmax", [x], [wc, bc, wf], nodes, ["k", "p"])
    rng = np.random.default_rng(7)
    w = rng.integers(-127, 128, (12, 3))
    w[:, 2] = w[:, 0]  # columns 0 and 2 of z are equal: a tie ArgMax must break to the last index
    weights = Weights({"wc": rng.integers(-127, 128, (6, 2, 3, 3)), "bc": rng.integers(-3000, 3001, (6,)),
                       "wf": w})
    return circuit, weights, {"x": rng.integers(-128, 128, (1, 4, 3, 3))}


@pytest.fixture(scope="module")
def attack():
    return Attack(*_circuit())


def test_honest_verifies(attack):
    out = attack.run(attack.honest)
    assert out.accepted and not out.forged, out.stage
    z = attack.honest.real("z").ravel()
    assert z[0] == z[2]  # the tie is there
    assert int(attack.honest.real("k").ravel()[0]) in (1, 2)


def test_conv_weight_and_bias_padding_of_padded_output_channels_refused(attack):
    """O = 6 pads to 8: output channels 6, 7 are padding. A weight or bias
    value there would land in cacc's channel padding (issue 13's Conv edge)."""
    pw = padded_shape((6, 2, 3, 3))
    per_channel = int(np.prod(pw[1:]))
    for o in (6, 7):
        assert not attack.attempt(("wc", o * per_channel, 5)).accepted
        assert not attack.attempt(("bc", o, 100)).accepted
        both = attack.attempt(("wc", o * per_channel, 5), ("bc", o, 100))
        assert not both.accepted, both.stage
    # kernel-padding (3x3 -> 4x4) and group-input padding cells in a real channel
    assert not attack.attempt(("wc", 3, 9)).accepted  # (0, 0, 0, 3)
    assert not attack.attempt(("wc", 12, 9)).accepted  # (0, 0, 3, 0)
    # a real weight is the vendor's to choose: accepted, but only with the executor's output
    assert not attack.attempt(("wc", 32, 9)).forged  # (1, 0, 0, 0)


def test_argmax_tie_moved_to_the_first_index_refused(attack):
    """select_last_index: of the tied slots 0 and 2 the index is 2. Moving the
    selector (and the index) to slot 0, or to any other slot, is refused."""
    honest = int(attack.honest.real("k").ravel()[0])
    slots = 4  # 3 cells pad to 4
    for other in range(slots):
        if other == honest:
            continue
        out = attack.attempt(("am/max/select", honest, 0), ("am/max/select", other, 1), ("k", 0, other))
        assert not out.accepted, (other, out.stage)


@pytest.mark.adversarial  # minutes of zero-knowledge proofs; test_sweep covers each circuit by default
def test_one_value_sweep_never_forges(attack):
    counts, forged = sweep(attack, np.random.default_rng(3), padding_cells=2, real_cells=1)
    assert not forged, forged[:3]
    assert counts.get("rejected", 0) > 0, counts


def test_coordinated_never_forges(attack):
    for changes in coordinated(attack):
        out = attack.attempt(*changes)
        assert not out.accepted, (changes, out.stage)
