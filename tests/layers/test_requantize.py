"""Requantize: honest reductions (per-tensor and per-channel, ties of both
signs, saturation on both sides, shift 0, wide shifts) discharge against the
real tensors and match the executor; lying advice is rejected."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from zkaudit.circuit import Node, TensorSpec, kernels
from zkaudit.layers.requantize import prover, verifier
from zkaudit.layers.shapes import UnsupportedLayer

_spec = importlib.util.spec_from_file_location("_clamp_helpers", pathlib.Path(__file__).with_name("test_clamp.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
discharge, forge, rejected, run_layer = _helpers.discharge, _helpers.forge, _helpers.rejected, _helpers.run_layer


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


P = 2**64 - 2**32 + 1


def _attack_setup(node, x, xlo=-(2**20), xhi=2**20):
    env, specs = _run(node, x, xlo, xhi)
    system = verifier.requantize_system(node, specs)
    values = prover.requantize_values(node, system.shape, x)
    return env, specs, system, values


def _with_quotient(node, env, system, values, i, q_new, **overrides):
    """Element i claims quotient q_new; every quantity follows from it by the
    honest formulas (so only the rounding rule can fail), then `overrides`."""
    a = node.a
    zi, zo, lo, hi = a["in_zero_point"], a["out_zero_point"], a["out_min"], a["out_max"]
    axis, ms, ss = verifier.channels(node, len(system.shape))
    c = np.unravel_index(i, system.shape)[axis] if len(ms) > 1 else 0
    m, s = ms[c], ss[c]
    t = (int(env["x"].flat[i]) - zi) * m
    u = zo + q_new
    y_new = min(max(u, lo), hi)
    pi = q_new & 1
    g1 = t - (q_new << s) + (1 << (s - 1)) - pi
    new = {"y_minus_lo": y_new - lo, "hi_minus_y": hi - y_new, "above": max(u - hi, 0), "below": max(lo - u, 0),
           "half_q": q_new >> 1, "parity": pi, "rem_lo": g1, "rem_hi": (1 << s) - 2 * pi - g1}
    new.update(overrides)
    vals = {k: np.array(v, dtype=object, copy=True) for k, v in values.items()}
    for k, v in new.items():
        if k != "y":
            vals[f"{node.name}/{k}"].flat[i] = v
    y = env["y"].copy()
    y.flat[i] = overrides.get("y", y_new)
    if "y" in overrides:
        vals[f"{node.name}/y_minus_lo"].flat[i] = overrides["y"] - lo
        vals[f"{node.name}/hi_minus_y"].flat[i] = hi - overrides["y"]
    return forge(system, vals, node.output, y)


def _quotient(values, node, i):
    return 2 * int(values[f"{node.name}/half_q"].flat[i]) + int(values[f"{node.name}/parity"].flat[i])


PLAIN = _node([1518500250], [38], zo=-3, lo=-1000, hi=1000)


def test_forged_honest_advice_is_accepted():
    x = np.random.default_rng(0).integers(-(2**20), 2**20, size=(4, 4))
    env, specs, system, values = _attack_setup(PLAIN, x)
    advice = _with_quotient(PLAIN, env, system, values, 3, _quotient(values, PLAIN, 3))
    assert rejected(prover, verifier, PLAIN, specs, env, advice) is None


def test_remainder_out_of_range_is_rejected():
    x = np.random.default_rng(0).integers(-(2**20), 2**20, size=(4, 4))
    env, specs, system, values = _attack_setup(PLAIN, x)
    for d in (1, -1, 2):
        q = _quotient(values, PLAIN, 5) + d
        assert rejected(prover, verifier, PLAIN, specs, env,
                        _with_quotient(PLAIN, env, system, values, 5, q)) == "LookupSumNonZero"


@pytest.mark.parametrize("s", [1, 5])
def test_tie_rounded_the_wrong_way_is_rejected(s):
    node = _node([1], [s], lo=-1000, hi=1000)
    x = _ties((4, 4), s, 1, np.random.default_rng(2))
    env, specs, system, values = _attack_setup(node, x)
    for i in (int(np.flatnonzero(x.ravel() > 0)[0]), int(np.flatnonzero(x.ravel() < 0)[0])):
        q = _quotient(values, node, i)
        for q_bad in (q + 1, q - 1):  # the other neighbour of a tie: odd
            assert rejected(prover, verifier, node, specs, env,
                            _with_quotient(node, env, system, values, i, q_bad)) == "LookupSumNonZero"
        # the odd neighbour with a lying parity bit: the half-quotient is not an integer
        q_bad = q + 1
        half = q_bad * pow(2, -1, P) % P
        advice = _with_quotient(node, env, system, values, i, q_bad, parity=0, half_q=half,
                                rem_lo=int(values[f"{node.name}/rem_lo"].flat[i]) - (1 << s),
                                rem_hi=int(values[f"{node.name}/rem_hi"].flat[i]) + (1 << s))
        assert rejected(prover, verifier, node, specs, env, advice) == "LookupSumNonZero"


def test_saturation_lie_is_rejected():
    node = _node([1 << 30], [30], lo=-128, hi=127)
    x = np.arange(-300, 300, 40).reshape(3, 5)
    env, specs, system, values = _attack_setup(node, x, -300, 300)
    i = int(np.flatnonzero(x.ravel() > 200)[0])
    above = int(values["rq/above"].flat[i])
    q = _quotient(values, node, i)
    # a and b swapped
    advice = _with_quotient(node, env, system, values, i, q, above=0, below=above)
    assert rejected(prover, verifier, node, specs, env, advice) == "RoundSumMismatch"
    # claims the value is not saturated but hi - 1 with a = above + 1
    advice = _with_quotient(node, env, system, values, i, q, y=126, above=above + 1)
    assert rejected(prover, verifier, node, specs, env, advice) == "RoundSumMismatch"


def test_output_off_by_one_is_rejected():
    x = np.random.default_rng(0).integers(-(2**20), 2**20, size=(4, 4))
    env, specs, system, values = _attack_setup(PLAIN, x)
    q = _quotient(values, PLAIN, 6)
    assert rejected(prover, verifier, PLAIN, specs, env,
                    _with_quotient(PLAIN, env, system, values, 6, q, y=int(env["y"].flat[6]) + 1)) == "RoundSumMismatch"
    # the remainder pair moved by one inside its range: the rounding relation fails
    g1, g2 = int(values["rq/rem_lo"].flat[6]), int(values["rq/rem_hi"].flat[6])
    assert rejected(prover, verifier, PLAIN, specs, env,
                    _with_quotient(PLAIN, env, system, values, 6, q, rem_lo=g1 + 1, rem_hi=g2 - 1)) == "RoundSumMismatch"


def test_per_channel_wrong_channel_multiplier_is_rejected():
    node = CASES["per_channel"][0]
    x = np.random.default_rng(4).integers(-(2**20), 2**20, size=(3, 4))
    env, specs, system, values = _attack_setup(node, x)
    # element in channel 1 answered with channel 0's multiplier and shift
    i = 1
    q_bad = int(np.asarray(kernels.requantize(np.array([[x.flat[i]]]), axis=1, in_zero_point=5,
                                              multiplier=[1073741824], out_max=127, out_min=-128,
                                              out_zero_point=0, shift=[31])).flat[0])
    if q_bad == _quotient(values, node, i):
        pytest.skip("same quotient under both channels")
    assert rejected(prover, verifier, node, specs, env, _with_quotient(node, env, system, values, i, q_bad)) == "LookupSumNonZero"
