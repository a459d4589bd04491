"""Accumulating ops: float Gemm/MatMul/Conv (our PTQ or QDQ), and the
QOperator forms QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger and
com.microsoft QGemm. Each lowers to one IR MatMul/Conv (int32 accumulator)
plus, where the ONNX op has an output scale, one Requantize."""

from __future__ import annotations

import numpy as np

from zkaudit.onnx.common import (accumulate_and_requantize, bias_from, bias_ints, int_weight, require_4d, spatial_attrs,
                                 weight)
from zkaudit.onnx.importer import node_attrs
from zkaudit.onnx.quant import QParams, dtype_range, quantize_weights_per_channel
from zkaudit.onnx.values import Act, QConst


def _float_act(imp, name):
    a = imp.act(name)
    if not a.is_float or a.scale is None:
        raise imp.fail(f"input {name!r} must be a quantized float tensor")
    return a


def _transpose_act(imp, a: Act, hint: str) -> Act:
    perm = list(range(len(a.shape)))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return a.with_spec(imp.b.emit("Transpose", [a.spec], hint, perm=perm))


def Gemm(imp, node):
    at = node_attrs(node)
    a = _float_act(imp, node.input[0])
    if at.get("transA", 0):
        a = _transpose_act(imp, a, node.name + "/transA")
    if len(a.shape) != 2:
        raise imp.fail(f"Gemm input A must be 2-D, got {a.shape}")
    if not imp.is_const(node.input[1]):
        raise imp.unsupported(node, "with a computed B is not supported (B must be a weight)")
    trans_b = at.get("transB", 0)
    w, scales = weight(imp, node.input[1], 0 if trans_b else 1)
    if trans_b:
        w = w.T
    scales = scales * np.float32(at.get("alpha", 1.0))
    bias = None
    if len(node.input) > 2 and node.input[2]:
        c = imp.const(node.input[2], "C") * at.get("beta", 1.0)
        if c.size not in (1, w.shape[1]):
            raise imp.unsupported(node, f"with a bias C of shape {c.shape} is not supported (need (N,))")
        bias = bias_from(np.broadcast_to(c.reshape(-1), (w.shape[1],)).astype(np.float64), a.scale, scales,
                         w.shape[1])
    out = imp.out_qparams(node.output[0])
    imp.set(node.output[0], accumulate_and_requantize(
        imp, "MatMul", a, w, bias, x_scale=a.scale, w_scales=scales, out=out, hint=node.name or node.output[0],
        channel_axis=1))


def MatMul(imp, node):
    a = _float_act(imp, node.input[0])
    hint = node.name or node.output[0]
    out = imp.out_qparams(node.output[0])
    if imp.is_const(node.input[1]):
        w_shape = np.shape(imp.const(node.input[1]))
        if len(w_shape) != 2:
            raise imp.unsupported(node, f"with a {len(w_shape)}-D weight is not supported (2-D only)")
        w, scales = weight(imp, node.input[1], 1)
        imp.set(node.output[0], accumulate_and_requantize(
            imp, "MatMul", a, w, None, x_scale=a.scale, w_scales=scales, out=out, hint=hint,
            channel_axis=len(a.shape) - 1))
        return
    bact = _float_act(imp, node.input[1])
    if len(bact.shape) > 2:
        imp.set(node.output[0], _batched_matmul(imp, node, a, bact, out, hint))
        return
    if len(bact.shape) != 2:
        raise imp.unsupported(node, f"with a computed {len(bact.shape)}-D B is not supported (2-D or batched)")
    imp.set(node.output[0], _matmul_2d(imp, a, bact, out, hint))


def _matmul_2d(imp, a: Act, bact: Act, out: QParams, hint: str) -> Act:
    """A (..., K) @ B (K, N), B computed; A of rank > 2 flattened to rows and back."""
    lead = a.shape[:-1]
    if len(a.shape) != 2:
        a = a.with_spec(imp.b.emit("Reshape", [a.spec], hint + "/rows", shape=(int(np.prod(lead)), a.shape[-1])))
    acc = imp.b.emit("MatMul", [a.spec, bact.spec], hint + "/acc", a_zero_point=a.zero_point,
                     b_zero_point=bact.zero_point)
    y = imp.b.requantize(acc, hint if len(lead) == 1 else hint + "/2d", ratio=_ratio(imp, a.scale, bact.scale,
                                                                                   out.scale),
                         in_zero_point=0, out_zero_point=out.zero_point, out_range=(out.qmin, out.qmax),
                         exact_float32=imp.ort_exact)
    if len(lead) != 1:
        y = imp.b.emit("Reshape", [y], hint, shape=lead + (bact.shape[1],))
    return Act(y, out.scale, out.zero_point, (out.qmin, out.qmax), True)


def _batched_matmul(imp, node, a: Act, bact: Act, out: QParams, hint: str) -> Act:
    """A (..., M, K) @ B (..., K, N), both computed (attention's scores and
    mixing, per head), on the IR's 2-D MatMul: the batch axes broadcast
    (Expand) and flattened to G rows of matrices (Reshape to (G, M*K)); matrix
    g taken out by a Gather of row g (an index map: the same integers and
    declared range); one 2-D MatMul per matrix; the G accumulators joined
    (Concat), requantized once (they share the scale sa * sb) and put back in
    shape. Every step is an existing, proven op."""
    if len(a.shape) < 2:
        raise imp.unsupported(node, f"of a {len(a.shape)}-D A by a batched B is not supported")
    try:
        batch = tuple(int(d) for d in np.broadcast_shapes(a.shape[:-2], bact.shape[:-2]))
    except ValueError:
        raise imp.fail(f"batch shapes of {a.shape} and {bact.shape} do not broadcast") from None
    (m, k), (k2, n) = a.shape[-2:], bact.shape[-2:]
    if k != k2:
        raise imp.fail(f"inner dimensions of {a.shape} and {bact.shape} differ")
    groups = int(np.prod(batch, dtype=np.int64))
    b = imp.b

    def rows_of(x: Act, rows: int, cols: int, tag: str) -> Act:
        if x.shape != batch + (rows, cols):
            x = x.with_spec(b.emit("Expand", [x.spec], f"{hint}/{tag}/expand", shape=batch + (rows, cols)))
        return x.with_spec(b.emit("Reshape", [x.spec], f"{hint}/{tag}/stack", shape=(groups, rows * cols)))

    a2, b2 = rows_of(a, m, k, "a"), rows_of(bact, k, n, "b")
    parts = []
    for g in range(groups):
        ag, bg = (_matrix_of(imp, x2, g, groups, shape, f"{hint}/{tag}{g}")
                  for x2, shape, tag in ((a2, (m, k), "a"), (b2, (k, n), "b")))
        acc = b.emit("MatMul", [ag.spec, bg.spec], f"{hint}/head{g}", a_zero_point=ag.zero_point,
                     b_zero_point=bg.zero_point)
        parts.append(b.emit("Reshape", [acc], f"{hint}/head{g}/stack", shape=(1, m * n)))
    # every head's accumulator has the scale sa * sb: one Requantize for all of them
    joined = b.emit("Concat", parts, hint + "/heads", axis=0) if groups > 1 else parts[0]
    y = b.requantize(joined, hint + "/requantized", ratio=_ratio(imp, a.scale, bact.scale, out.scale),
                     in_zero_point=0, out_zero_point=out.zero_point, out_range=(out.qmin, out.qmax),
                     exact_float32=imp.ort_exact)
    y = b.emit("Reshape", [y], hint, shape=batch + (m, n))
    return Act(y, out.scale, out.zero_point, (out.qmin, out.qmax), True)


def _matrix_of(imp, x2: Act, g: int, groups: int, shape, hint: str) -> Act:
    """Matrix g of the rows x2 (G, R*C), as an (R, C) activation: row g by a
    Gather index map (the same integers, range and zero point)."""
    from zkaudit.onnx.ops_shape import select_along

    b = imp.b
    if groups == 1:  # one matrix: nothing to select
        return x2.with_spec(b.emit("Reshape", [x2.spec], hint + "/matrix", shape=shape))
    row = select_along(imp, x2, 0, [g], hint)
    return row.with_spec(b.emit("Reshape", [row.spec], hint + "/matrix", shape=shape))


def _ratio(imp, sa, sb, sy):
    if imp.ort_exact:
        return np.float32(sa) * np.float32(sb) / np.float32(sy)
    return float(sa) * float(sb) / float(sy)


def _conv_attrs(imp, node, x: Act, kernel) -> dict:
    at = node_attrs(node)
    attrs = spatial_attrs(imp, node, at, kernel, x.shape[2:])
    attrs["group"] = at.get("group", 1)
    return attrs


def padded_input(imp, x: Act, pads, hint: str) -> Act:
    """x padded by `pads` (top, left, bottom, right) with its zero point,
    as an explicit Pad (an index map)."""
    top, left, bottom, right = (int(p) for p in pads)
    if not (top or left or bottom or right):
        return x
    return x.with_spec(imp.b.emit("Pad", [x.spec], hint, pads=(0, 0, top, left, 0, 0, bottom, right),
                                  value=x.zero_point))


def _wide_padding(imp, x: Act, kernel, attrs: dict, hint: str) -> tuple[Act, dict]:
    """A padding as wide as the window leaves windows with no input, whose
    outputs ONNX defines as the bias. The IR's Conv refuses such padding,
    so it is moved into an explicit Pad with the input's zero point (which
    contributes 0, exactly as Conv's own padding does): every window of the
    padded input then holds cells, and an all-padding window gives the bias."""
    spans = [attrs["dilations"][i] * (int(kernel[i]) - 1) + 1 for i in range(2)]
    pads = attrs["pads"]
    if all(pads[i] < spans[i % 2] for i in range(4)):
        return x, attrs
    return padded_input(imp, x, pads, hint + "/pad"), {**attrs, "pads": (0, 0, 0, 0)}


def Conv(imp, node):
    x = _float_act(imp, node.input[0])
    require_4d(imp, node, x)
    w, scales = weight(imp, node.input[1], 0)
    bias = bias_ints(imp, node, 2, x.scale, scales, w.shape[0])
    out = imp.out_qparams(node.output[0])
    hint = node.name or node.output[0]
    x, attrs = _wide_padding(imp, x, w.shape[2:], _conv_attrs(imp, node, x, w.shape[2:]), hint)
    imp.set(node.output[0], accumulate_and_requantize(
        imp, "Conv", x, w, bias, x_scale=x.scale, w_scales=scales, out=out, hint=hint, channel_axis=1, **attrs))


def _transpose_pads(imp, node, at: dict, in_hw, kernel, strides, dilations) -> list[int]:
    """ConvTranspose's pads (top, left, bottom, right), from output_shape or
    auto_pad as the ONNX spec computes them."""
    out_pad = list(at.get("output_padding", (0, 0)))
    auto = at.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    target = at.get("output_shape")
    if target is not None and len(target) > 2:
        target = list(target)[-2:]
    if target is None and auto in ("SAME_UPPER", "SAME_LOWER"):
        target = [in_hw[i] * strides[i] for i in range(2)]
    if auto == "VALID" and target is None:
        return [0, 0, 0, 0]
    if target is None:
        return list(at.get("pads", (0, 0, 0, 0)))
    pads = [0, 0, 0, 0]
    for i in range(2):
        total = strides[i] * (in_hw[i] - 1) + out_pad[i] + (kernel[i] - 1) * dilations[i] + 1 - int(target[i])
        if auto == "SAME_UPPER":
            pads[i], pads[i + 2] = total // 2, total - total // 2
        else:
            pads[i], pads[i + 2] = total - total // 2, total // 2
    return pads


def ConvTranspose(imp, node):
    """ConvTranspose as a Conv on a zero-stuffed, padded input:

        stuff   x (N,C,H,W) -> Reshape (N,C,H,1,W,1) -> Pad the unit axes to
                (sh, sw) with x's zero point -> Reshape (N,C,H*sh,W*sw)
        pad     d(k-1) - pad_begin before, d(k-1) - pad_end + output_padding
                - (s-1) after (the stuffing's trailing s-1 cells counted)
        conv    stride 1, the same dilations and group, the weight
                (C_in, C_out/g, kh, kw) regrouped to (C_out, C_in/g, kh, kw)
                and flipped in both spatial axes

    All index maps and one Conv + Requantize, the same integers an
    ordinary Conv would see. A padding that comes out negative (large ONNX
    pads) is a crop of the output instead: the rows are dropped by a
    selection (`ops_shape.select_along`). A 1-D ConvTranspose runs as 2-D
    with a unit width."""
    from zkaudit.onnx.ops_shape import select_along

    x = _float_act(imp, node.input[0])
    at = node_attrs(node)
    hint = node.name or node.output[0]
    one_d = len(x.shape) == 3
    if one_d:  # (N, C, L) as (N, C, L, 1); attributes get a unit second axis
        x = x.with_spec(imp.b.emit("Reshape", [x.spec], hint + "/2d", shape=x.shape + (1,)))
        at = {**at, **{k: list(at[k]) + [e] for k, e in (("strides", 1), ("dilations", 1), ("output_padding", 0),
                                                          ("output_shape", 1), ("kernel_shape", 1)) if k in at}}
        if "pads" in at:
            at["pads"] = [at["pads"][0], 0, at["pads"][1], 0]
    require_4d(imp, node, x)
    group = at.get("group", 1)
    v = imp.values.get(node.input[1])
    raw = np.asarray(v.values if isinstance(v, QConst) else imp.const(node.input[1], "weight"))
    if one_d and raw.ndim == 3:
        raw = raw[..., None]
    if raw.ndim != 4 or raw.shape[0] != x.shape[1] or raw.shape[0] % group:
        raise imp.unsupported(node, f"with weight {raw.shape} on input {x.shape} is not supported (a 1-D or 2-D "
                                    "kernel (C_in, C_out/group, kh, kw))")
    c_in, cog, kh, kw = raw.shape

    def regroup(a):  # (C_in, C_out/g, kh, kw) -> (C_out, C_in/g, kh, kw), flipped
        a = a.reshape(group, c_in // group, cog, kh, kw).transpose(0, 2, 1, 3, 4)
        return a.reshape(group * cog, c_in // group, kh, kw)[:, :, ::-1, ::-1].copy()

    if isinstance(v, QConst):
        w_int, scales = weight(imp, node.input[1], 1)
        w, scales = regroup(w_int.reshape(raw.shape)), np.tile(scales, group)
    else:
        w, scales = quantize_weights_per_channel(regroup(np.asarray(raw, dtype=np.float64)), 0)
    strides = tuple(at.get("strides", (1, 1)))
    dilations = tuple(at.get("dilations", (1, 1)))
    pads = _transpose_pads(imp, node, at, x.shape[2:], (kh, kw), strides, dilations)
    out_pad = list(at.get("output_padding", (0, 0)))
    begin = [dilations[i] * ((kh, kw)[i] - 1) - pads[i] for i in range(2)]
    end = [dilations[i] * ((kh, kw)[i] - 1) - pads[i + 2] + out_pad[i] - (strides[i] - 1) for i in range(2)]
    n, c, h, wd = x.shape
    if strides != (1, 1):
        sh, sw = strides
        spec = imp.b.emit("Reshape", [x.spec], hint + "/unit", shape=(n, c, h, 1, wd, 1))
        spec = imp.b.emit("Pad", [spec], hint + "/stuff", pads=(0, 0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0, sw - 1),
                          value=x.zero_point)
        x = x.with_spec(imp.b.emit("Reshape", [spec], hint + "/stuffed", shape=(n, c, h * sh, wd * sw)))
    x = padded_input(imp, x, [max(p, 0) for p in begin + end], hint + "/pad")
    bias = bias_ints(imp, node, 2, x.scale, scales, w.shape[0])
    out = imp.out_qparams(node.output[0])
    crop = [max(-p, 0) for p in begin + end]
    y = accumulate_and_requantize(
        imp, "Conv", x, w, bias, x_scale=x.scale, w_scales=scales, out=out,
        hint=hint + ("/full" if any(crop) or one_d else ""), channel_axis=1,
        strides=(1, 1), dilations=dilations, pads=(0, 0, 0, 0), group=group)
    for i in range(2):
        if crop[i] or crop[i + 2]:
            size = y.shape[2 + i]
            if crop[i] + crop[i + 2] >= size:
                raise imp.fail(f"pads {pads} leave no output on spatial axis {i}")
            y = select_along(imp, y, 2 + i, np.arange(crop[i], size - crop[i + 2]), f"{hint}/crop{i}")
    if one_d:
        y = y.with_spec(imp.b.emit("Reshape", [y.spec], hint, shape=y.shape[:3]))
    imp.set(node.output[0], y)


# -- QOperator forms ------------------------------------------------------

def _int_act(imp, name) -> Act:
    a = imp.act(name)
    if a.is_float:
        raise imp.fail(f"input {name!r} must be an integer (quantized) tensor")
    return a


def _qp(imp, node, scale_index, zp_index) -> QParams:
    scale = np.asarray(imp.const(node.input[scale_index]), dtype=np.float32)
    zp = np.asarray(imp.opt_const(node, zp_index, np.zeros((), np.uint8)))
    if scale.size != 1 or zp.size != 1:
        raise imp.unsupported(node, "with a per-axis activation scale or zero point is not supported")
    return QParams(float(scale.reshape(())), int(zp.reshape(())), *dtype_range(zp.dtype))


def _scales(imp, node, index, channels) -> np.ndarray:
    s = np.asarray(imp.const(node.input[index]), dtype=np.float32).reshape(-1)
    return np.broadcast_to(s, (channels,)).copy()


def _input_zp(imp, node, index) -> int:
    zp = np.asarray(imp.opt_const(node, index, 0))
    if zp.size != 1:
        raise imp.unsupported(node, "with a per-row input zero point is not supported")
    return int(zp.reshape(()))


def _q_act(x: Act, zero_point: int) -> Act:
    return Act(x.spec, x.scale, zero_point, x.qrange, False)


def QLinearMatMul(imp, node):
    x = _q_act(_int_act(imp, node.input[0]), _input_zp(imp, node, 2))
    xq = _qp(imp, node, 1, 2)
    out = _qp(imp, node, 6, 7)
    hint = node.name or node.output[0]
    if imp.is_const(node.input[3]):
        w = int_weight(imp, node, 3, 5, 1)
        if w.ndim != 2:
            raise imp.unsupported(node, f"with a {w.ndim}-D B is not supported (2-D only)")
        y = accumulate_and_requantize(imp, "MatMul", x, w, None, x_scale=xq.scale,
                                      w_scales=_scales(imp, node, 4, w.shape[1]), out=out, hint=hint,
                                      channel_axis=len(x.shape) - 1)
    else:
        bact = _int_act(imp, node.input[3])
        bq = _qp(imp, node, 4, 5)
        if len(bact.shape) != 2:
            raise imp.unsupported(node, f"with a computed {len(bact.shape)}-D B is not supported (2-D only)")
        acc = imp.b.emit("MatMul", [x.spec, bact.spec], hint + "/acc", a_zero_point=x.zero_point,
                         b_zero_point=bq.zero_point)
        spec = imp.b.requantize(acc, hint, ratio=_ratio(imp, xq.scale, bq.scale, out.scale), in_zero_point=0,
                                out_zero_point=out.zero_point, out_range=(out.qmin, out.qmax),
                                exact_float32=imp.ort_exact)
        y = Act(spec, out.scale, out.zero_point, (out.qmin, out.qmax), True)
    imp.set(node.output[0], Act(y.spec, out.scale, out.zero_point, (out.qmin, out.qmax), False))


def QLinearConv(imp, node):
    x = _q_act(_int_act(imp, node.input[0]), _input_zp(imp, node, 2))
    require_4d(imp, node, x)
    xq = _qp(imp, node, 1, 2)
    out = _qp(imp, node, 6, 7)
    w = int_weight(imp, node, 3, 5, 0)
    bias = None
    if len(node.input) > 8 and node.input[8]:
        bias = np.asarray(imp.const(node.input[8], "bias"), dtype=np.int64).reshape(-1)
    hint = node.name or node.output[0]
    x, attrs = _wide_padding(imp, x, w.shape[2:], _conv_attrs(imp, node, x, w.shape[2:]), hint)
    y = accumulate_and_requantize(imp, "Conv", x, w, bias, x_scale=xq.scale,
                                  w_scales=_scales(imp, node, 4, w.shape[0]), out=out,
                                  hint=hint, channel_axis=1, **attrs)
    imp.set(node.output[0], Act(y.spec, out.scale, out.zero_point, (out.qmin, out.qmax), False))


def _raw(spec) -> Act:
    return Act(spec, None, 0, (spec.lo, spec.hi), False)


def MatMulInteger(imp, node):
    a = _int_act(imp, node.input[0])
    za = _input_zp(imp, node, 2)
    hint = node.name or node.output[0]
    if imp.is_const(node.input[1]):
        w = int_weight(imp, node, 1, 3, 1)
        if w.ndim != 2:
            raise imp.unsupported(node, f"with a {w.ndim}-D B is not supported (2-D only)")
        spec = imp.b.emit("MatMul", [a.spec, imp.b.add_weight(hint + "/W", w)], hint, a_zero_point=za,
                          b_zero_point=0)
    else:
        bact = _int_act(imp, node.input[1])
        if len(bact.shape) != 2:
            raise imp.unsupported(node, f"with a computed {len(bact.shape)}-D B is not supported (2-D only)")
        spec = imp.b.emit("MatMul", [a.spec, bact.spec], hint, a_zero_point=za,
                          b_zero_point=_input_zp(imp, node, 3))
    imp.set(node.output[0], _raw(spec))


def ConvInteger(imp, node):
    x = _int_act(imp, node.input[0])
    require_4d(imp, node, x)
    w = int_weight(imp, node, 1, 3, 0)
    hint = node.name or node.output[0]
    x = _q_act(x, _input_zp(imp, node, 2))
    x, attrs = _wide_padding(imp, x, w.shape[2:], _conv_attrs(imp, node, x, w.shape[2:]), hint)
    spec = imp.b.emit("Conv", [x.spec, imp.b.add_weight(hint + "/W", w)], hint,
                      x_zero_point=x.zero_point, w_zero_point=0, **attrs)
    imp.set(node.output[0], _raw(spec))


def QGemm(imp, node):
    """com.microsoft QGemm: A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp."""
    at = node_attrs(node)
    x = _q_act(_int_act(imp, node.input[0]), _input_zp(imp, node, 2))
    if at.get("transA", 0):
        x = _transpose_act(imp, x, (node.name or node.output[0]) + "/transA")
    xq = _qp(imp, node, 1, 2)
    trans_b = at.get("transB", 0)
    w = int_weight(imp, node, 3, 5, 0 if trans_b else 1)
    w = w.T if trans_b else w
    scales = _scales(imp, node, 4, w.shape[1]) * np.float32(at.get("alpha", 1.0))
    bias = None
    if len(node.input) > 6 and node.input[6]:
        bias = np.broadcast_to(np.asarray(imp.const(node.input[6]), dtype=np.int64).reshape(-1), (w.shape[1],))
    if not (len(node.input) > 7 and node.input[7]):
        raise imp.unsupported(node, "without y_scale (a float output) is not supported")
    out = _qp(imp, node, 7, 8)
    y = accumulate_and_requantize(imp, "MatMul", x, w, bias, x_scale=xq.scale, w_scales=scales, out=out,
                                  hint=node.name or node.output[0], channel_axis=1)
    imp.set(node.output[0], Act(y.spec, out.scale, out.zero_point, (out.qmin, out.qmax), False))


def channel_affine(imp, x: Act, factor, shift, out: QParams, hint: str) -> Act:
    """y = x * factor[c] + shift[c] over the channels of an NCHW `x`: a
    depthwise 1x1 Conv with int8 per-channel weights and an int32 bias,
    then one Requantize into `out`, like any Conv."""
    channels = x.shape[1]
    factor = np.broadcast_to(np.asarray(factor, dtype=np.float64).reshape(-1), (channels,))
    w, scales = quantize_weights_per_channel(factor.reshape(channels, 1, 1, 1), 0)
    bias = None
    if shift is not None:
        shift = np.broadcast_to(np.asarray(shift, dtype=np.float64).reshape(-1), (channels,))
        bias = bias_from(shift.astype(np.float64), x.scale, scales, channels)
    return accumulate_and_requantize(
        imp, "Conv", x, w, bias, x_scale=x.scale, w_scales=scales, out=out, hint=hint, channel_axis=1,
        strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), group=channels)


def BatchNormalization(imp, node):
    """Folded into the Conv/Gemm before it at load time when it directly
    follows one (`load.fold_batchnorm`). One that is left -- onnxruntime's
    quantizer keeps BatchNormalization in float between DequantizeLinear and
    QuantizeLinear when the model was not pre-processed -- is a per-channel
    affine map y = x * g / sqrt(v + eps) + (beta - mean * g / sqrt(v + eps))
    (`channel_affine`); an input of another rank is viewed as (N, C, *, 1)."""
    at = node_attrs(node)
    if at.get("training_mode", 0) or (len(node.output) > 1 and any(node.output[1:])):
        raise imp.unsupported(node, "in training mode is not supported")
    if not all(imp.is_const(i) for i in node.input[1:5]):
        raise imp.unsupported(node, "with computed scale, bias, mean or variance is not supported")
    x = _float_act(imp, node.input[0])
    hint = node.name or node.output[0]
    shape = x.shape
    if len(shape) < 2:
        raise imp.unsupported(node, f"on a {len(shape)}-D input is not supported (N, C, ... expected)")
    grid = (shape[0], shape[1], int(np.prod(shape[2:], dtype=np.int64)), 1)
    if len(shape) != 4:  # (N, C, D1, ...) viewed as NCHW (N, C, D1*..., 1): the same per-channel map
        x = x.with_spec(imp.b.emit("Reshape", [x.spec], hint + "/nchw", shape=grid))
    gamma, beta, mean, var = (np.asarray(imp.const(i), dtype=np.float64).reshape(-1) for i in node.input[1:5])
    factor = gamma / np.sqrt(var + at.get("epsilon", 1e-5))
    y = channel_affine(imp, x, factor, beta - mean * factor, imp.out_qparams(node.output[0]),
                       hint + ("/nchw" * (len(shape) != 4)))
    if len(shape) != 4:
        y = y.with_spec(imp.b.emit("Reshape", [y.spec], hint, shape=shape))
    imp.set(node.output[0], y)


OPS = {
    ("ai.onnx", "BatchNormalization"): BatchNormalization,
    ("ai.onnx", "Gemm"): Gemm, ("ai.onnx", "MatMul"): MatMul, ("ai.onnx", "Conv"): Conv,
    ("ai.onnx", "ConvTranspose"): ConvTranspose,
    ("ai.onnx", "QLinearMatMul"): QLinearMatMul, ("ai.onnx", "QLinearConv"): QLinearConv,
    ("ai.onnx", "MatMulInteger"): MatMulInteger, ("ai.onnx", "ConvInteger"): ConvInteger,
    ("com.microsoft", "QGemm"): QGemm,
}
