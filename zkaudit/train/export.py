"""The trained model as ONNX: float, and quantized (QDQ) under declared scales.

Float: y = Sigmoid(Gemm(x, W, b)), W = theta_w / 2^w, b = theta_b / 2^w, x the
features in real units (the dataset's fixed-point values / 2^f).

Quantized (the link statement's relation, §3.8 of the design): with float32
scales s_x = float32(max|x| / 127) (max|x| from the dataset's declared
ranges), s_w = float32(max|theta_w| / (127 2^w)) -- both exact dyadic
rationals m 2^e --

    W_q[k] = clamp(floor(theta_k / (2^w s_w) + 1/2), -127, 127)          int8
    b_q    = floor(theta_b / (2^w s_x s_w) + 1/2)                        int32

computed in exact rational arithmetic (saturations counted); the logit
and the probability get activation scales from the training data. Both
models take x of shape (1, d_in) and give y = P(label = 1), shape (1, 1)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from zkaudit.train.policy import Policy


@dataclass(frozen=True)
class Quantized:
    weights: np.ndarray  # int8 values (as int64), one per feature
    bias: int  # int32
    x_scale: float
    w_scale: float
    logit_scale: float
    saturated: int  # weights clamped to +-127


def _f32(x: float) -> float:
    return float(np.float32(x))


def _rhu(x: Fraction) -> int:
    return (x + Fraction(1, 2)).__floor__()


def quantize(policy: Policy, theta: np.ndarray, x_abs_max: float, logit_abs_max: float) -> Quantized:
    one = 1 << policy.weight_bits
    theta = [int(v) for v in theta]
    w, b = theta[:policy.d_in], theta[policy.d_in]
    wmax = max(abs(v) for v in w) or 1
    s_x = _f32(x_abs_max / 127) or _f32(1 / 127)
    s_w = _f32(wmax / one / 127)
    fx, fw = Fraction(s_x), Fraction(s_w)
    raw = [_rhu(Fraction(v, one) / fw) for v in w]
    q = [max(-127, min(127, v)) for v in raw]
    bq = _rhu(Fraction(b, one) / (fx * fw))
    if not -(1 << 31) <= bq < (1 << 31):
        raise ValueError("the quantized bias does not fit int32")
    s_l = _f32(max(logit_abs_max, 1e-6) / 127)
    return Quantized(np.array(q, dtype=np.int64), bq, s_x, s_w, s_l, sum(a != c for a, c in zip(raw, q)))


def float_model(policy: Policy, theta: np.ndarray):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    one = float(1 << policy.weight_bits)
    W = (np.asarray(theta[:policy.d_in], dtype=np.float64) / one).astype(np.float32).reshape(1, -1)
    b = np.array([theta[policy.d_in] / one], dtype=np.float32)
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["logit"], transB=1, name="fc"),
             helper.make_node("Sigmoid", ["logit"], ["y"], name="sigmoid")]
    graph = helper.make_graph(nodes, "dpsgd_logreg",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, policy.d_in])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
                              [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="zkaudit-train")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def quantized_model(policy: Policy, q: Quantized):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def scalar(name, value, dtype):
        return numpy_helper.from_array(np.array(value, dtype=dtype), name)

    inits = [numpy_helper.from_array(q.weights.astype(np.int8).reshape(1, -1), "W_q"),
             numpy_helper.from_array(np.array([q.bias], dtype=np.int32), "b_q"),
             scalar("s_x", q.x_scale, np.float32), scalar("s_w", q.w_scale, np.float32),
             scalar("s_b", np.float32(q.x_scale) * np.float32(q.w_scale), np.float32),
             scalar("s_l", q.logit_scale, np.float32), scalar("s_y", 1 / 255, np.float32),
             scalar("zp8", 0, np.int8), scalar("zpu8", 0, np.uint8), scalar("zp32", 0, np.int32)]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s_x", "zp8"], ["x_q"], name="x_quant"),
        helper.make_node("DequantizeLinear", ["x_q", "s_x", "zp8"], ["x_dq"], name="x_dequant"),
        helper.make_node("DequantizeLinear", ["W_q", "s_w", "zp8"], ["W"], name="w_dequant"),
        helper.make_node("DequantizeLinear", ["b_q", "s_b", "zp32"], ["b"], name="b_dequant"),
        helper.make_node("Gemm", ["x_dq", "W", "b"], ["logit"], transB=1, name="fc"),
        helper.make_node("QuantizeLinear", ["logit", "s_l", "zp8"], ["logit_q"], name="logit_quant"),
        helper.make_node("DequantizeLinear", ["logit_q", "s_l", "zp8"], ["logit_dq"], name="logit_dequant"),
        helper.make_node("Sigmoid", ["logit_dq"], ["p"], name="sigmoid"),
        helper.make_node("QuantizeLinear", ["p", "s_y", "zpu8"], ["p_q"], name="y_quant"),
        helper.make_node("DequantizeLinear", ["p_q", "s_y", "zpu8"], ["y"], name="y_dequant"),
    ]
    graph = helper.make_graph(nodes, "dpsgd_logreg_qdq",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, policy.d_in])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="zkaudit-train")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
