"""Elementwise functions by lookup table over the input's integer range: each
built as a one-node float model with onnx.helper, compiled with calibration,
compared with onnxruntime on random inputs (the README's tolerance, in
`oneop.py`), and one sample proven and verified."""

from __future__ import annotations

import numpy as np
import pytest

from oneop import compiled, max_error, model, prove_and_verify, samples

SHAPE = (2, 6)
SCALAR = {"e": np.array(2.0, np.float32)}

# name: (op, attributes, constant inputs, input interval)
CASES = {
    "Elu": ("Elu", {}, {}, (-3, 3)),
    "Elu_alpha": ("Elu", {"alpha": 0.5}, {}, (-3, 3)),
    "Selu": ("Selu", {}, {}, (-3, 3)),
    "Celu": ("Celu", {"alpha": 2.0}, {}, (-3, 3)),
    "Softplus": ("Softplus", {}, {}, (-3, 3)),
    "Softsign": ("Softsign", {}, {}, (-3, 3)),
    "HardSigmoid": ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, {}, (-4, 4)),
    "HardSwish": ("HardSwish", {}, {}, (-5, 5)),
    "Mish": ("Mish", {}, {}, (-3, 3)),
    "LeakyRelu": ("LeakyRelu", {"alpha": 0.2}, {}, (-3, 3)),
    "PRelu_scalar": ("PRelu", {}, {"slope": np.array([0.25], np.float32)}, (-3, 3)),
    "PRelu_per_channel": ("PRelu", {}, {"slope": np.linspace(-0.5, 0.5, 6, dtype=np.float32)}, (-3, 3)),
    "Sqrt": ("Sqrt", {}, {}, (0, 4)),
    "Log": ("Log", {}, {}, (0.5, 4)),
    "Exp": ("Exp", {}, {}, (-2, 2)),
    "Reciprocal": ("Reciprocal", {}, {}, (0.5, 4)),
    "Neg": ("Neg", {}, {}, (-3, 3)),
    "Abs": ("Abs", {}, {}, (-3, 3)),
    "Round": ("Round", {}, {}, (-3, 3)),
    "Sign": ("Sign", {}, {}, (-3, 3)),
    "Pow_square": ("Pow", {}, SCALAR, (-2, 2)),
    "Pow_sqrt": ("Pow", {}, {"e": np.array(0.5, np.float32)}, (0, 4)),
}


def _built(name):
    op, attrs, inits, (lo, hi) = CASES[name]
    m = model(op, {"x": SHAPE}, SHAPE, inits, **attrs)
    calib = samples({"x": SHAPE}, 32, lo=lo, hi=hi)
    circuit, weights = compiled(m, calib)
    return m, circuit, weights, (lo, hi)


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_onnxruntime(name):
    m, circuit, weights, (lo, hi) = _built(name)
    ops = {n.op for n in circuit.nodes}
    assert ops & {"Table", "Mul"}, ops
    err, allowed = max_error(m, circuit, weights, samples({"x": SHAPE}, 16, seed=1, lo=lo, hi=hi),
                             snap=name in ("Sign", "Round"))
    assert err <= allowed, (err, allowed)


@pytest.mark.parametrize("name", ["Mish", "PRelu_per_channel", "Log"])
def test_proves_and_verifies(name):
    _, circuit, weights, (lo, hi) = _built(name)
    verdict = prove_and_verify(circuit, weights, {"x": samples({"x": SHAPE}, 1, seed=2, lo=lo, hi=hi)["x"][0]})
    assert verdict.valid, verdict.reason


def test_round_halves_go_to_even():
    m, circuit, weights, _ = _built("Round")
    spec = circuit.outputs[0]
    from zkaudit.circuit import dequantize, quantize

    x_spec = circuit.inputs[0]
    halves = np.array([[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]] * 2, np.float32)
    q = quantize(x_spec, halves)
    real_in = (q - x_spec.zero_point).astype(np.float32) * np.float32(x_spec.scale)
    got = dequantize(spec, circuit.execute(weights, {x_spec.name: q})[spec.name])
    assert np.max(np.abs(got - np.rint(real_in))) <= 2 * spec.scale


def test_pow_with_a_computed_exponent_is_refused():
    from zkaudit.onnx.errors import UnsupportedOp

    m = model("Pow", {"x": SHAPE, "e": SHAPE}, SHAPE)
    with pytest.raises(UnsupportedOp, match="exponent must be a constant"):
        compiled(m, samples({"x": SHAPE, "e": SHAPE}, 4, lo=0.5, hi=2))
