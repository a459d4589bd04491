"""Window and axis reductions: MaxPool, GlobalMaxPool, AveragePool,
GlobalAveragePool, Softmax, ArgMax, and the com.microsoft QLinear pooling and
softmax forms."""

from __future__ import annotations

import math

import numpy as np

from zkaudit.circuit.fixed_point import multiplier_from_scale
from zkaudit.onnx.common import require_4d, spatial_attrs
from zkaudit.onnx.importer import node_attrs
from zkaudit.onnx.quant import QParams, dtype_range
from zkaudit.onnx.values import Act

EXP_TABLE_BITS = 16  # softmax exp table: round(2^16 * exp(d * scale))
SOFTMAX_MULTIPLIER_BITS = 16


def MaxPool(imp, node):
    x = imp.act(node.input[0])
    require_4d(imp, node, x)
    if len(node.output) > 1 and node.output[1]:
        raise imp.unsupported(node, "with an Indices output is not supported")
    at = node_attrs(node)
    kernel = tuple(at["kernel_shape"])
    attrs = spatial_attrs(imp, node, at, kernel, x.shape[2:])
    spec = imp.b.emit("MaxPool", [x.spec], node.name or node.output[0], kernel_shape=kernel, **attrs)
    imp.set(node.output[0], x.with_spec(spec))


def GlobalMaxPool(imp, node):
    x = imp.act(node.input[0])
    require_4d(imp, node, x)
    spec = imp.b.emit("MaxPool", [x.spec], node.name or node.output[0], kernel_shape=x.shape[2:], strides=(1, 1),
                      pads=(0, 0, 0, 0), dilations=(1, 1))
    imp.set(node.output[0], x.with_spec(spec))


def AveragePool(imp, node):
    """Keeps the input's scale: zp + rnd(sum(x - zp) / count)."""
    x = imp.act(node.input[0])
    require_4d(imp, node, x)
    at = node_attrs(node)
    if at.get("ceil_mode", 0):
        raise imp.unsupported(node, "with ceil_mode=1 is not supported")
    kernel = tuple(at["kernel_shape"])
    attrs = spatial_attrs(imp, node, at, kernel, x.shape[2:])
    if attrs.pop("dilations") != (1, 1):
        raise imp.unsupported(node, "with dilations is not supported")
    out = _qdq_pool_output(imp, node, x)
    if out is not None and (not any(attrs["pads"]) or at.get("count_include_pad", 0)):
        imp.set(node.output[0], _window_sum_requantized(imp, node, x, x.qparams, out, kernel, attrs["strides"],
                                                        attrs["pads"], is_float=True))
        return
    spec = imp.b.emit("AveragePool", [x.spec], node.name or node.output[0], kernel_shape=kernel,
                      count_include_pad=at.get("count_include_pad", 0), zero_point=x.zero_point, **attrs)
    imp.set(node.output[0], x.with_spec(spec))


def _qdq_pool_output(imp, node, x: Act) -> QParams | None:
    """In a QDQ model, DequantizeLinear -> AveragePool -> QuantizeLinear is run
    by onnxruntime as one QLinearAveragePool (a single rounding into the
    QuantizeLinear's scale); averaging at the input's scale and then
    requantizing would round twice. Returns the QuantizeLinear's parameters
    when the pool is such a triple and they differ from the input's (with the
    same scale, the AveragePool op's one rounding already is onnxruntime's)."""
    if not (imp.ort_exact and x.is_float and x.scale is not None):
        return None
    for c in imp.consumers.get(node.output[0], []):
        if c.op_type == "QuantizeLinear" and c.input[0] == node.output[0]:
            qp = imp._q_node_params(c)
            return None if qp is None or qp.same_as(x.qparams) else qp
    return None


def GlobalAveragePool(imp, node):
    x = imp.act(node.input[0])
    require_4d(imp, node, x)
    out = _qdq_pool_output(imp, node, x)
    if out is not None:
        imp.set(node.output[0], _window_sum_requantized(imp, node, x, x.qparams, out, x.shape[2:], (1, 1),
                                                        (0, 0, 0, 0), is_float=True))
        return
    spec = imp.b.emit("AveragePool", [x.spec], node.name or node.output[0], kernel_shape=x.shape[2:],
                      strides=(1, 1), pads=(0, 0, 0, 0), count_include_pad=1, zero_point=x.zero_point)
    imp.set(node.output[0], x.with_spec(spec))


def _qp(imp, node, si, zi) -> QParams:
    zp = np.asarray(imp.opt_const(node, zi, np.zeros((), np.uint8)))
    return QParams(float(np.asarray(imp.const(node.input[si])).reshape(())), int(zp.reshape(())),
                   *dtype_range(zp.dtype))


def _window_sum_requantized(imp, node, x: Act, xq: QParams, out: QParams, kernel, strides, pads, *,
                            is_float: bool = False) -> Act:
    """Average as onnxruntime computes it: one rounding of sum * sx / (sy * count),
    the sum taken by a depthwise all-ones Conv."""
    c = x.shape[1]
    hint = node.name or node.output[0]
    ones = imp.b.add_weight(hint + "/ones", np.ones((c, 1) + tuple(kernel), dtype=np.int64))
    acc = imp.b.emit("Conv", [x.spec, ones], hint + "/sum", x_zero_point=xq.zero_point, w_zero_point=0,
                     group=c, strides=strides, pads=pads, dilations=(1, 1))
    count = int(np.prod(kernel))
    ratio = np.float32(xq.scale) / (np.float32(out.scale) * np.float32(count))
    spec = imp.b.requantize(acc, hint, ratio=ratio, in_zero_point=0, out_zero_point=out.zero_point,
                            out_range=(out.qmin, out.qmax), exact_float32=True)
    return Act(spec, out.scale, out.zero_point, (out.qmin, out.qmax), is_float)


def QLinearGlobalAveragePool(imp, node):
    x = imp.act(node.input[0])
    if node_attrs(node).get("channels_last", 0):
        raise imp.unsupported(node, "with channels_last=1 is not supported")
    require_4d(imp, node, x)
    imp.set(node.output[0], _window_sum_requantized(imp, node, x, _qp(imp, node, 1, 2), _qp(imp, node, 3, 4),
                                                    x.shape[2:], (1, 1), (0, 0, 0, 0)))


def QLinearAveragePool(imp, node):
    x = imp.act(node.input[0])
    at = node_attrs(node)
    if at.get("channels_last", 0) or at.get("ceil_mode", 0):
        raise imp.unsupported(node, "with channels_last=1 or ceil_mode=1 is not supported")
    require_4d(imp, node, x)
    kernel = tuple(at["kernel_shape"])
    attrs = spatial_attrs(imp, node, at, kernel, x.shape[2:])
    xq, out = _qp(imp, node, 1, 2), _qp(imp, node, 3, 4)
    if any(attrs["pads"]) and not at.get("count_include_pad", 0):
        # Edge windows divide by their own cell counts: the IR's AveragePool at the input's scale (one
        # rounding), then a Requantize where the output's scale differs (a second one: within 1 LSB).
        hint = node.name or node.output[0]
        attrs.pop("dilations")
        spec = imp.b.emit("AveragePool", [x.spec], hint + ("/avg" if not xq.same_as(out) else ""),
                          kernel_shape=kernel, count_include_pad=0, zero_point=xq.zero_point, **attrs)
        if not xq.same_as(out):
            spec = imp.b.requantize(spec, hint, ratio=np.float32(xq.scale) / np.float32(out.scale),
                                    in_zero_point=xq.zero_point, out_zero_point=out.zero_point,
                                    out_range=(out.qmin, out.qmax), exact_float32=True)
        imp.set(node.output[0], Act(spec, out.scale, out.zero_point, (out.qmin, out.qmax), False))
        return
    imp.set(node.output[0], _window_sum_requantized(imp, node, x, xq, out, kernel, attrs["strides"], attrs["pads"]))


def emit_softmax(imp, x: Act, x_scale: float, out: QParams, axis: int, hint: str):
    span = x.spec.hi - x.spec.lo
    d = np.arange(-span, 1, dtype=np.float64)
    exp_values = np.rint(np.exp(d * x_scale) * 2**EXP_TABLE_BITS).astype(np.int64)
    if imp.ort_exact:  # onnxruntime's QLinearSoftmax multiplies by floor(1 / y_scale), in float32
        m, s = int(np.floor(np.float32(1.0) / np.float32(out.scale))), 0
    else:
        m, s = multiplier_from_scale(1.0 / out.scale, bits=SOFTMAX_MULTIPLIER_BITS)
    return imp.b.emit("Softmax", [x.spec], hint, axis=axis, exp_values=exp_values, out_multiplier=m, out_shift=s,
                      out_zero_point=out.zero_point, out_min=out.qmin, out_max=out.qmax)


def _softmax_axis(imp, node, x: Act, default_axis: int):
    """The axis, reshaping first for opset < 13 (which coerces to 2-D at axis)."""
    rank = len(x.shape)
    axis = node_attrs(node).get("axis", default_axis) % rank
    if default_axis == 1 and axis != rank - 1 and math.prod(x.shape[axis + 1:]) > 1:
        flat = (math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))
        return imp.b.emit("Reshape", [x.spec], (node.name or node.output[0]) + "/2d", shape=flat), 1
    return x.spec, axis


def Softmax(imp, node):
    x = imp.act(node.input[0])
    if not x.is_float or x.scale is None:
        raise imp.fail("input must be a quantized float tensor")
    spec, axis = _softmax_axis(imp, node, x, -1 if imp.opsets.get("ai.onnx", 13) >= 13 else 1)
    out = imp.out_qparams(node.output[0])
    y = emit_softmax(imp, x.with_spec(spec), x.scale, out, axis, node.name or node.output[0])
    if y.shape != x.shape:
        y = imp.b.emit("Reshape", [y], (node.name or node.output[0]) + "/nd", shape=x.shape)
    imp.set(node.output[0], Act(y, out.scale, out.zero_point, (out.qmin, out.qmax), True))


def QLinearSoftmax(imp, node):
    """com.microsoft QLinearSoftmax: X, X_scale, x_zp, y_scale, y_zp."""
    x = imp.act(node.input[0])
    xq, out = _qp(imp, node, 1, 2), _qp(imp, node, 3, 4)
    legacy = node_attrs(node).get("opset", 13) < 13
    spec, axis = _softmax_axis(imp, node, x, 1 if legacy else -1)
    y = emit_softmax(imp, x.with_spec(spec), xq.scale, out, axis, node.name or node.output[0])
    if y.shape != x.shape:
        y = imp.b.emit("Reshape", [y], (node.name or node.output[0]) + "/nd", shape=x.shape)
    imp.set(node.output[0], Act(y, out.scale, out.zero_point, (out.qmin, out.qmax), False))


def ArgMax(imp, node):
    """Index of the maximum: order-preserving, so it works on the integers."""
    x = imp.act(node.input[0])
    at = node_attrs(node)
    spec = imp.b.emit("ArgMax", [x.spec], node.name or node.output[0], axis=at.get("axis", 0) % len(x.shape),
                      keepdims=at.get("keepdims", 1), select_last_index=at.get("select_last_index", 0))
    imp.set(node.output[0], Act(spec, None, 0, (spec.lo, spec.hi), False))


OPS = {
    ("ai.onnx", "MaxPool"): MaxPool, ("ai.onnx", "GlobalMaxPool"): GlobalMaxPool,
    ("ai.onnx", "AveragePool"): AveragePool, ("ai.onnx", "GlobalAveragePool"): GlobalAveragePool,
    ("ai.onnx", "Softmax"): Softmax, ("ai.onnx", "ArgMax"): ArgMax,
    ("com.microsoft", "QLinearGlobalAveragePool"): QLinearGlobalAveragePool,
    ("com.microsoft", "QLinearAveragePool"): QLinearAveragePool, ("com.microsoft", "QLinearSoftmax"): QLinearSoftmax,
}
