"""Convolution shapes lowered onto the existing Conv: ConvTranspose as a
Conv on a zero-stuffed, padded input (index maps), a Conv whose padding is
as wide as its window (an explicit Pad, so windows with no input give the
bias, as ONNX defines them), and BatchNormalization on inputs that are not
4-D (a depthwise 1x1 Conv on the input viewed as N, C, *, 1). Each a small
float model compared with onnxruntime within the README's tolerance
(`oneop.py`) and proven and verified."""

from __future__ import annotations

import numpy as np
import pytest

from oneop import compiled, max_error, model, prove_and_verify, samples
from zkaudit.onnx.errors import UnsupportedOp

RNG = np.random.default_rng(7)


def _w(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def _bn(c):
    return {"scale": np.linspace(0.5, 2, c, dtype=np.float32), "B": np.linspace(-1, 1, c, dtype=np.float32),
            "mean": np.linspace(-0.3, 0.3, c, dtype=np.float32), "var": np.linspace(0.5, 1.5, c, dtype=np.float32)}


# name: (op, input shape, output shape, constant inputs, attributes)
CASES = {
    "ConvTranspose_stride2_pad1": ("ConvTranspose", (1, 2, 3, 3), (1, 3, 6, 6), {"W": _w(2, 3, 4, 4),
                                                                                 "B": _w(3)},
                                   {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "ConvTranspose_groups_output_padding": ("ConvTranspose", (1, 4, 3, 3), (1, 4, 7, 7), {"W": _w(4, 2, 3, 3)},
                                            {"strides": [2, 2], "pads": [1, 1, 0, 0], "group": 2,
                                             "output_padding": [1, 1]}),
    "ConvTranspose_stride1_dilated": ("ConvTranspose", (1, 2, 4, 4), (1, 2, 8, 5), {"W": _w(2, 2, 3, 2)},
                                      {"dilations": [2, 1]}),
    "ConvTranspose_output_shape": ("ConvTranspose", (1, 1, 3, 3), (1, 2, 6, 6), {"W": _w(1, 2, 3, 3)},
                                   {"strides": [2, 2], "output_shape": [6, 6]}),
    "ConvTranspose_large_pads_crop": ("ConvTranspose", (1, 1, 3, 3), (1, 2, 7, 3), {"W": _w(1, 2, 3, 3)},
                                      {"strides": [3, 2], "pads": [1, 2, 1, 2]}),
    "ConvTranspose_1d": ("ConvTranspose", (1, 2, 5), (1, 1, 10), {"W": _w(2, 1, 2)}, {"strides": [2]}),
    "Conv_padding_wider_than_window": ("Conv", (1, 2, 3, 3), (1, 2, 8, 8), {"W": _w(2, 2, 2, 2),
                                                                            "B": np.array([0.5, -1], np.float32)},
                                       {"pads": [3, 3, 3, 3]}),
    "Conv_wide_padding_strided": ("Conv", (1, 1, 4, 4), (1, 2, 2, 4), {"W": _w(2, 1, 1, 1),
                                                                       "B": np.array([2.0, -0.5], np.float32)},
                                  {"pads": [1, 2, 1, 2], "strides": [3, 2]}),
    "BatchNormalization_2d": ("BatchNormalization", (4, 3), (4, 3), _bn(3), {}),
    "BatchNormalization_3d": ("BatchNormalization", (2, 3, 5), (2, 3, 5), _bn(3), {}),
}


def _built(name):
    op, shape, out, inits, attrs = CASES[name]
    m = model(op, {"x": shape}, out, inits, **attrs)
    data = samples({"x": shape}, 16)
    circuit, weights = compiled(m, data)
    return m, circuit, weights, data


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_onnxruntime_and_proves(name):
    m, circuit, weights, data = _built(name)
    from oneop import onnxruntime_outputs

    assert circuit.outputs[0].shape == CASES[name][2] == onnxruntime_outputs(m, {"x": data["x"][0]}).shape
    assert "Conv" in {n.op for n in circuit.nodes}
    err, allowed = max_error(m, circuit, weights, {"x": data["x"][:4]})
    assert err <= allowed, (err, allowed)
    verdict = prove_and_verify(circuit, weights, {"x": data["x"][5]})
    assert verdict.valid, verdict.reason


def test_windows_with_no_input_give_the_bias():
    """Every output cell whose window lies wholly in the padding is the
    bias, requantized: the ring outside the input's reach is constant per
    channel and equals onnxruntime's value there."""
    m, circuit, weights, data = _built("Conv_padding_wider_than_window")
    from oneop import onnxruntime_outputs
    from zkaudit.circuit import dequantize, quantize

    x_spec, y_spec = circuit.inputs[0], circuit.outputs[0]
    got = dequantize(y_spec, circuit.execute(weights, {x_spec.name: quantize(x_spec, data["x"][0])})[y_spec.name])
    want = onnxruntime_outputs(m, {"x": data["x"][0]})
    for c, bias in enumerate((0.5, -1.0)):
        ring = np.r_[got[0, c, 0, :], got[0, c, -1, :], got[0, c, :, 0]]
        assert np.allclose(ring, ring[0]) and abs(ring[0] - bias) <= y_spec.scale
        assert np.allclose(want[0, c, 0, :], bias)


def test_conv_transpose_of_a_3d_input_is_refused():
    m = model("ConvTranspose", {"x": (1, 1, 2, 2, 2)}, (1, 1, 3, 3, 3), {"W": _w(1, 1, 2, 2, 2)})
    with pytest.raises(UnsupportedOp, match="NCHW only"):
        compiled(m, samples({"x": (1, 1, 2, 2, 2)}, 4))
