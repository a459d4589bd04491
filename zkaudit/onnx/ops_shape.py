"""Ops that only move values: Reshape, Flatten, Transpose, Squeeze,
Unsqueeze, Identity, Dropout (inference), Shape (a constant here, since
shapes are fixed), Concat and Pad, plus com.microsoft QLinearConcat. They
keep their input's quantization parameters; Concat requantizes an input
only when its parameters differ from the output's."""

from __future__ import annotations

import numpy as np

from zkaudit.onnx.importer import node_attrs
from zkaudit.onnx.quant import QParams, dtype_range
from zkaudit.onnx.values import Act


def _reshaped(imp, node, shape) -> None:
    x = imp.act(node.input[0])
    shape = tuple(int(d) for d in shape)
    if shape == x.shape:
        imp.set(node.output[0], x)
        return
    imp.set(node.output[0], x.with_spec(imp.b.emit("Reshape", [x.spec], node.name or node.output[0], shape=shape)))


def Reshape(imp, node):
    x = imp.act(node.input[0])
    target = [int(d) for d in imp.const(node.input[1], "shape")]
    allowzero = node_attrs(node).get("allowzero", 0)
    target = [x.shape[i] if d == 0 and not allowzero else d for i, d in enumerate(target)]
    if target.count(-1) == 1:
        known = int(np.prod([d for d in target if d != -1]))
        target[target.index(-1)] = int(np.prod(x.shape)) // max(known, 1)
    if int(np.prod(target)) != int(np.prod(x.shape)):
        raise imp.fail(f"cannot reshape {x.shape} to {target}")
    _reshaped(imp, node, target)


def Flatten(imp, node):
    x = imp.act(node.input[0])
    axis = node_attrs(node).get("axis", 1)
    axis = axis + len(x.shape) if axis < 0 else axis
    _reshaped(imp, node, (int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))))


def _axes(imp, node, rank):
    at = node_attrs(node)
    axes = imp.opt_const(node, 1, None)
    axes = at.get("axes") if axes is None else axes
    return None if axes is None else sorted(int(a) % rank for a in np.asarray(axes).reshape(-1))


def Squeeze(imp, node):
    x = imp.act(node.input[0])
    axes = _axes(imp, node, len(x.shape))
    axes = [i for i, d in enumerate(x.shape) if d == 1] if axes is None else axes
    if any(x.shape[a] != 1 for a in axes):
        raise imp.fail(f"cannot squeeze axes {axes} of shape {x.shape}")
    _reshaped(imp, node, [d for i, d in enumerate(x.shape) if i not in axes])


def Unsqueeze(imp, node):
    x = imp.act(node.input[0])
    axes = _axes(imp, node, len(x.shape) + len(np.asarray(imp.opt_const(node, 1, node_attrs(node).get("axes", [])))
                                                   .reshape(-1)))
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    _reshaped(imp, node, shape)


def Transpose(imp, node):
    x = imp.act(node.input[0])
    perm = node_attrs(node).get("perm", list(range(len(x.shape)))[::-1])
    if list(perm) == list(range(len(x.shape))):
        imp.set(node.output[0], x)
        return
    imp.set(node.output[0], x.with_spec(imp.b.emit("Transpose", [x.spec], node.name or node.output[0], perm=perm)))


def Identity(imp, node):
    imp.set(node.output[0], imp.act(node.input[0]))


def Dropout(imp, node):
    """Inference: the identity (the mask output, if any, is not supported)."""
    if len(node.output) > 1 and node.output[1]:
        raise imp.unsupported(node, "with a mask output is not supported")
    training = imp.opt_const(node, 2, np.asarray(False))
    if bool(np.asarray(training).reshape(())):
        raise imp.unsupported(node, "with training_mode=1 (a random mask) is not supported")
    imp.set(node.output[0], imp.act(node.input[0]))


def Shape(imp, node):
    x = imp.act(node.input[0])
    at = node_attrs(node)
    rank = len(x.shape)
    start, end = at.get("start", 0), at.get("end", rank)
    imp.values[node.output[0]] = np.asarray(x.shape[slice(start, end)], dtype=np.int64)


def _concat(imp, node, parts: list[Act], out: QParams, is_float: bool, axis: int) -> None:
    hint = node.name or node.output[0]
    specs = []
    for i, p in enumerate(parts):
        if p.scale is not None and p.qparams.same_as(out):
            specs.append(p.spec)
            continue
        if p.scale is None:
            raise imp.fail("Concat of raw integer tensors with different meanings is not supported")
        ratio = np.float32(p.scale) / np.float32(out.scale) if imp.ort_exact else p.scale / out.scale
        specs.append(imp.b.requantize(p.spec, f"{hint}/in{i}", ratio=ratio, in_zero_point=p.zero_point,
                                      out_zero_point=out.zero_point, out_range=(out.qmin, out.qmax),
                                      exact_float32=imp.ort_exact))
    spec = imp.b.emit("Concat", specs, hint, axis=axis % len(parts[0].shape))
    imp.set(node.output[0], Act(spec, out.scale, out.zero_point, (out.qmin, out.qmax), is_float))


def Concat(imp, node):
    parts = [imp.act(i) for i in node.input]
    axis = node_attrs(node)["axis"]
    if all(not p.is_float for p in parts) and len({p.qparams for p in parts}) == 1:
        out = parts[0].qparams
    else:
        out = imp.out_qparams(node.output[0])
    _concat(imp, node, parts, out, parts[0].is_float, axis)


def QLinearConcat(imp, node):
    """com.microsoft QLinearConcat: Y_scale, Y_zp, then (X, X_scale, X_zp) per input."""
    def qp(si, zi):
        zp = np.asarray(imp.const(node.input[zi]))
        return QParams(float(np.asarray(imp.const(node.input[si])).reshape(())), int(zp.reshape(())),
                       *dtype_range(zp.dtype))

    out = qp(0, 1)
    parts = []
    for i in range(2, len(node.input), 3):
        p = qp(i + 1, i + 2)
        x = imp.act(node.input[i])
        parts.append(Act(x.spec, p.scale, p.zero_point, (p.qmin, p.qmax), False))
    _concat(imp, node, parts, out, False, node_attrs(node)["axis"])


def Pad(imp, node):
    x = imp.act(node.input[0])
    at = node_attrs(node)
    mode = at.get("mode", b"constant")
    if (mode.decode() if isinstance(mode, bytes) else mode) != "constant":
        raise imp.unsupported(node, f"with mode={mode!r} is not supported (constant only)")
    rank = len(x.shape)
    pads = imp.opt_const(node, 1, None)
    pads = np.asarray(at.get("pads") if pads is None else pads, dtype=np.int64).reshape(-1)
    axes = imp.opt_const(node, 3, None)
    if axes is not None:
        full = np.zeros(2 * rank, dtype=np.int64)
        axes = [int(a) % rank for a in np.asarray(axes).reshape(-1)]
        for j, a in enumerate(axes):
            full[a], full[a + rank] = pads[j], pads[j + len(axes)]
        pads = full
    if len(pads) != 2 * rank or pads.min(initial=0) < 0:
        raise imp.unsupported(node, f"with pads {pads.tolist()} is not supported (non-negative, one pair per axis)")
    value = float(np.asarray(imp.opt_const(node, 2, np.asarray(at.get("value", 0.0)))).reshape(()))
    qvalue = int(x.qparams.quantize(value)) if x.is_float else int(value)
    if not pads.any():
        imp.set(node.output[0], x)
        return
    imp.set(node.output[0], x.with_spec(imp.b.emit("Pad", [x.spec], node.name or node.output[0], pads=pads,
                                                  value=qvalue)))


OPS = {
    ("ai.onnx", "Reshape"): Reshape, ("ai.onnx", "Flatten"): Flatten, ("ai.onnx", "Squeeze"): Squeeze,
    ("ai.onnx", "Unsqueeze"): Unsqueeze, ("ai.onnx", "Transpose"): Transpose, ("ai.onnx", "Identity"): Identity,
    ("ai.onnx", "Dropout"): Dropout, ("ai.onnx", "Shape"): Shape, ("ai.onnx", "Concat"): Concat,
    ("ai.onnx", "Pad"): Pad, ("com.microsoft", "QLinearConcat"): QLinearConcat,
}
