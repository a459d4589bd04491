"""Helpers shared by the op functions: weights, accumulate-then-requantize,
and pooling/convolution attribute handling with ONNX's defaults."""

from __future__ import annotations

import math

import numpy as np

from zkaudit.onnx.quant import QParams, combined_scale, quantize_bias, quantize_weights_per_channel
from zkaudit.onnx.values import Act, QConst


def weight(imp, name: str, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """A weight input as (integers with the zero point folded in, float scale
    per channel along `axis`). Float constants are quantized here (our PTQ);
    QConst (DequantizeLinear of an initializer) keeps the model's integers."""
    v = imp.values.get(name)
    if isinstance(v, QConst):
        vals = v.values.astype(np.int64)
        channels = vals.shape[axis]
        if v.per_axis and v.axis % vals.ndim != axis % vals.ndim:
            raise imp.fail(f"weight {name!r} is quantized along axis {v.axis}, expected the output-channel axis")
        zp = np.asarray(v.zero_point, dtype=np.int64)
        shape = [1] * vals.ndim
        shape[axis] = -1
        vals = vals - (zp.reshape(shape) if zp.size > 1 else zp.reshape(()))
        return vals, np.broadcast_to(np.asarray(v.scale, dtype=np.float32), (channels,)).copy()
    w = imp.const(name, "weight")
    if w.dtype.kind not in "f":
        raise imp.fail(f"weight {name!r} is {w.dtype}, expected float (or DequantizeLinear of integers)")
    return quantize_weights_per_channel(w, axis)


def int_weight(imp, node, w_index: int, zp_index: int, axis: int) -> np.ndarray:
    """An integer weight of a QOperator op with its zero point (scalar or per
    channel along `axis`) folded in."""
    w = np.asarray(imp.const(node.input[w_index], "weight"), dtype=np.int64)
    zp = np.asarray(imp.opt_const(node, zp_index, 0), dtype=np.int64)
    if zp.ndim:
        shape = [1] * w.ndim
        shape[axis] = -1
        zp = zp.reshape(shape)
    return w - zp


def bias_ints(imp, node, index: int, x_scale: float, w_scales: np.ndarray, channels: int):
    """Bias at the accumulator's scale (int32 initializers are taken as is)."""
    if len(node.input) <= index or not node.input[index]:
        return None
    v = imp.values.get(node.input[index])
    if isinstance(v, QConst) and v.values.dtype.kind in "iu" and not np.any(v.zero_point):
        # A QDQ bias (int32 at scale x_scale * w_scale, as onnxruntime writes it): keep its integers when
        # its scale is the accumulator's, so nothing is rounded twice.
        acc_scale = np.float32(x_scale) * np.asarray(w_scales, dtype=np.float32)
        if np.array_equal(np.broadcast_to(np.asarray(v.scale, np.float32).reshape(-1), acc_scale.shape), acc_scale):
            return np.broadcast_to(v.values.astype(np.int64).reshape(-1), (channels,)).copy()
    return bias_from(v if isinstance(v, np.ndarray) else imp.const(node.input[index], "bias"),
                     x_scale, w_scales, channels)


def bias_from(value: np.ndarray, x_scale: float, w_scales: np.ndarray, channels: int) -> np.ndarray:
    if value.dtype.kind in "iu":
        b = value.astype(np.int64)
    else:
        acc_scale = np.float32(x_scale) * np.asarray(w_scales, dtype=np.float32)
        b = quantize_bias(value.reshape(-1) if value.size == channels else value, acc_scale)
    return np.broadcast_to(b.reshape(-1) if b.size == channels else b, (channels,)).copy()


def accumulate_and_requantize(imp, op: str, x: Act, w_int: np.ndarray, bias, *, x_scale, w_scales, out: QParams,
                              hint: str, channel_axis: int, **attrs) -> Act:
    """Emit MatMul/Conv with an int32 accumulator, then one Requantize to `out`.
    A MatMul input of rank > 2 is flattened to rows first and its shape put
    back after (the MatMul layer proves 2-D operands)."""
    b = imp.b
    if op == "MatMul" and len(x.shape) > 2:
        rows = x.with_spec(b.emit("Reshape", [x.spec], hint + "/rows", shape=(math.prod(x.shape[:-1]), x.shape[-1])))
        y = accumulate_and_requantize(imp, op, rows, w_int, bias, x_scale=x_scale, w_scales=w_scales, out=out,
                                      hint=hint + "/2d", channel_axis=1)
        return y.with_spec(b.emit("Reshape", [y.spec], hint, shape=x.shape[:-1] + (w_int.shape[1],)))
    w = b.add_weight(hint + "/W", w_int)
    ins = [x.spec, w] + ([b.add_weight(hint + "/B", bias)] if bias is not None else [])
    if op == "MatMul":
        acc = b.emit("MatMul", ins, hint + "/acc", a_zero_point=x.zero_point, b_zero_point=0)
    else:
        acc = b.emit("Conv", ins, hint + "/acc", x_zero_point=x.zero_point, w_zero_point=0, **attrs)
    ratio = combined_scale(x_scale, w_scales, out.scale, float32=imp.ort_exact)
    y = b.requantize(acc, hint, ratio=ratio, in_zero_point=0, out_zero_point=out.zero_point,
                     out_range=(out.qmin, out.qmax), axis=channel_axis, exact_float32=imp.ort_exact)
    return Act(y, out.scale, out.zero_point, (out.qmin, out.qmax), True)


def spatial_attrs(imp, node, attrs: dict, kernel, in_hw) -> dict:
    """strides / dilations / pads for a 2-D window op, resolving auto_pad."""
    if len(kernel) != 2:
        raise imp.unsupported(node, f"with a {len(kernel)}-D kernel is not supported (2-D only)")
    strides = tuple(attrs.get("strides", (1, 1)))
    dilations = tuple(attrs.get("dilations", (1, 1)))
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0, 0, 0, 0]
        for i in range(2):
            span = dilations[i] * (kernel[i] - 1) + 1
            total = max((math.ceil(in_hw[i] / strides[i]) - 1) * strides[i] + span - in_hw[i], 0)
            small = total // 2
            begin = small if auto_pad == "SAME_UPPER" else total - small
            pads[i], pads[i + 2] = begin, total - begin
    elif auto_pad == "VALID":
        pads = [0, 0, 0, 0]
    else:
        pads = list(attrs.get("pads", (0, 0, 0, 0)))
    if attrs.get("ceil_mode", 0):
        for i in range(2):
            span = dilations[i] * (kernel[i] - 1) + 1
            full = in_hw[i] + pads[i] + pads[i + 2] - span
            out_ceil = -(-full // strides[i]) + 1
            if (out_ceil - 1) * strides[i] >= in_hw[i] + pads[i]:  # ONNX drops a window starting in the end padding
                out_ceil -= 1
            pads[i + 2] += max(0, (out_ceil - 1) * strides[i] + span - (in_hw[i] + pads[i] + pads[i + 2]))
    return {"strides": strides, "dilations": dilations, "pads": tuple(pads)}


def require_4d(imp, node, act: Act) -> None:
    if len(act.shape) != 4:
        raise imp.unsupported(node, f"on a {len(act.shape)}-D input {act.shape} is not supported (NCHW only)")
