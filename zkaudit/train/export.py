"""The trained model as ONNX: float, and quantized (QDQ) under declared scales.

Layers (logreg: one; MLP: two with a ReLU between) map theta to W (out x in)
and b at Q_w: real weights are theta / 2^w, and the bias input of x~ = [x, 2^f]
is 1.0, so real biases are theta_b / 2^w too. Float:
y = Sigmoid(Gemm(x, W, b)) (MLP: Gemm, Relu, Gemm, Sigmoid), x the features in
real units (the dataset's fixed-point values / 2^f).

Quantized (the link statement's relation, §3.8 of the design): per layer,
with float32 scales s_in (the layer input's: s_x = float32(max|x| / 127) from
the dataset's declared ranges, then the hidden activation's from the training
data) and s_w = float32(max|W| / 127), both exact dyadic rationals m 2^e,
and s_b = float32(s_in * s_w) (the scale the bias DequantizeLinear carries):

    W_q = clamp(floor(theta_W / (2^w s_w) + 1/2), -127, 127)      int8
    b_q = floor(theta_b / (2^w s_b) + 1/2)                        int32

in exact rational arithmetic, saturations counted. Both models take x of
shape (1, d_in) and give y = P(label = 1), shape (1, 1)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from zkaudit.train.policy import Policy


@dataclass(frozen=True)
class QuantLayer:
    weights: np.ndarray  # (out, in) int8 values as int64
    bias: np.ndarray  # (out,) int32 values as int64
    in_scale: float
    w_scale: float
    b_scale: float
    out_scale: float  # the activation after this layer (ReLU output or logit)
    saturated: int


def layers(policy: Policy, theta) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W, b)] as Python-int object arrays at Q_w, in forward order."""
    theta = np.array([int(v) for v in theta], dtype=object)
    d_in = policy.d_in
    if policy.family == "logreg":
        return [(theta[:d_in].reshape(1, d_in), theta[d_in:])]
    h = policy.hidden[0]
    return [(theta[:h * d_in].reshape(h, d_in), theta[h * d_in:h * d_in + h]),
            (theta[h * (d_in + 1):h * (d_in + 1) + h].reshape(1, h), theta[-1:])]


def _f32(x: float) -> float:
    return float(np.float32(x))


def _rhu(x: Fraction) -> int:
    return (x + Fraction(1, 2)).__floor__()


def quantize(policy: Policy, theta, x_abs_max: float, activation_abs_max: list[float]) -> list[QuantLayer]:
    """Per layer; `activation_abs_max[i]` is the largest |output| of layer i on the
    training data (the hidden ReLU output, then the logit)."""
    one = 1 << policy.weight_bits
    out, s_in = [], _f32(x_abs_max / 127) or _f32(1 / 127)
    for (W, b), act in zip(layers(policy, theta), activation_abs_max):
        wmax = max(abs(int(v)) for v in W.ravel()) or 1
        s_w = _f32(wmax / one / 127)
        s_b = float(np.float32(s_in) * np.float32(s_w))
        raw = [_rhu(Fraction(int(v), one) / Fraction(s_w)) for v in W.ravel()]
        q = [max(-127, min(127, v)) for v in raw]
        bq = [_rhu(Fraction(int(v), one) / Fraction(s_b)) for v in b]
        if any(not -(1 << 31) <= v < (1 << 31) for v in bq):
            raise ValueError("a quantized bias does not fit int32")
        s_out = _f32(max(act, 1e-6) / 127)
        out.append(QuantLayer(np.array(q, dtype=np.int64).reshape(W.shape), np.array(bq, dtype=np.int64), s_in, s_w,
                              s_b, s_out, sum(a != c for a, c in zip(raw, q))))
        s_in = s_out
    return out


def _model(policy: Policy, nodes, inits, name: str):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, policy.d_in])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="zkaudit-train")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def float_model(policy: Policy, theta):
    from onnx import helper, numpy_helper

    one = float(1 << policy.weight_bits)
    nodes, inits, cur = [], [], "x"
    ls = layers(policy, theta)
    for i, (W, b) in enumerate(ls):
        inits += [numpy_helper.from_array((W.astype(np.float64) / one).astype(np.float32), f"W{i}"),
                  numpy_helper.from_array((b.astype(np.float64) / one).astype(np.float32), f"b{i}")]
        nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [f"a{i}"], transB=1, name=f"fc{i}"))
        cur = f"a{i}"
        if i < len(ls) - 1:
            nodes.append(helper.make_node("Relu", [cur], [f"r{i}"], name=f"relu{i}"))
            cur = f"r{i}"
    nodes.append(helper.make_node("Sigmoid", [cur], ["y"], name="sigmoid"))
    return _model(policy, nodes, inits, f"dpsgd_{policy.family}")


def quantized_model(policy: Policy, qlayers: list[QuantLayer]):
    from onnx import helper, numpy_helper

    def scalar(name, value, dtype):
        return numpy_helper.from_array(np.array(value, dtype=dtype), name)

    inits = [scalar("zp8", 0, np.int8), scalar("zpu8", 0, np.uint8), scalar("zp32", 0, np.int32),
             scalar("s_x", qlayers[0].in_scale, np.float32), scalar("s_y", 1 / 255, np.float32)]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s_x", "zp8"], ["x_q"], name="x_quant"),
             helper.make_node("DequantizeLinear", ["x_q", "s_x", "zp8"], ["x_dq"], name="x_dequant")]
    cur = "x_dq"
    for i, q in enumerate(qlayers):
        inits += [numpy_helper.from_array(q.weights.astype(np.int8), f"W{i}_q"),
                  numpy_helper.from_array(q.bias.astype(np.int32), f"b{i}_q"),
                  scalar(f"s_w{i}", q.w_scale, np.float32), scalar(f"s_b{i}", q.b_scale, np.float32),
                  scalar(f"s_a{i}", q.out_scale, np.float32)]
        last = i == len(qlayers) - 1
        nodes += [helper.make_node("DequantizeLinear", [f"W{i}_q", f"s_w{i}", "zp8"], [f"W{i}"], name=f"w{i}_dequant"),
                  helper.make_node("DequantizeLinear", [f"b{i}_q", f"s_b{i}", "zp32"], [f"b{i}"],
                                   name=f"b{i}_dequant"),
                  helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [f"a{i}"], transB=1, name=f"fc{i}")]
        pre = f"a{i}"
        if not last:
            nodes.append(helper.make_node("Relu", [pre], [f"r{i}"], name=f"relu{i}"))
            pre = f"r{i}"
        nodes += [helper.make_node("QuantizeLinear", [pre, f"s_a{i}", "zp8"], [f"a{i}_q"], name=f"a{i}_quant"),
                  helper.make_node("DequantizeLinear", [f"a{i}_q", f"s_a{i}", "zp8"], [f"a{i}_dq"],
                                   name=f"a{i}_dequant")]
        cur = f"a{i}_dq"
    nodes += [helper.make_node("Sigmoid", [cur], ["p"], name="sigmoid"),
              helper.make_node("QuantizeLinear", ["p", "s_y", "zpu8"], ["p_q"], name="y_quant"),
              helper.make_node("DequantizeLinear", ["p_q", "s_y", "zpu8"], ["y"], name="y_dequant")]
    return _model(policy, nodes, inits, f"dpsgd_{policy.family}_qdq")


def activation_ranges(policy: Policy, theta, X_fixed: np.ndarray) -> list[float]:
    """The largest |output| of each layer on the training data, in real units
    (float, from the integer semantics' forward pass)."""
    from zkaudit.train.trainer import logits, split_mlp, augmented

    F = 1 << (policy.weight_bits + policy.feature_bits)
    out = []
    if policy.family == "mlp":
        W1, _ = split_mlp(np.asarray(theta, dtype=np.int64), policy.d_in, policy.hidden[0])
        pre = augmented(X_fixed, policy.feature_bits) @ W1.T
        out.append(float(np.maximum(pre, 0).max()) / F)
    out.append(float(np.abs(logits(policy, theta, X_fixed)).max()) / F)
    return out
