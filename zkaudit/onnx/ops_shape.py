"""Ops that only move values: Reshape, Flatten, Transpose, Squeeze,
Unsqueeze, Identity, Dropout (inference), Shape (a constant here, since
shapes are fixed), Concat and Pad, plus com.microsoft QLinearConcat; Tile,
DepthToSpace and SpaceToDepth (index maps); gathers with constant indices
(Gather, GatherElements, ScatterElements, Slice, Split) as the IR's Gather
index map; Resize as a Gather or one constant matrix per resized axis. They
keep their input's quantization parameters (Resize with interpolation
rescales); Concat requantizes an input only when its parameters differ
from the output's."""

from __future__ import annotations

import math

import numpy as np

from zkaudit.circuit import TensorSpec
from zkaudit.onnx import ops_integer
from zkaudit.onnx.importer import node_attrs
from zkaudit.onnx.quant import QParams, combined_scale, dtype_range, from_range, quantize_weights_per_channel
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


# -- gathers with constant indices ----------------------------------------
#
# A gather along one axis with constant indices is the IR's Gather, an index
# map (`layers.index_map`): each output cell reads one input cell, an input
# cell may be read several times or never, and the integers, scale, zero
# point and declared range pass through unchanged. (It was once a MatMul by a
# committed 0/1 selection matrix and a Requantize by 1 to bring the declared
# range back: two proven ops, a committed weight and a range check per
# selection.)


def linear_along(imp, x: Act, axis: int, w_int: np.ndarray, hint: str, finish=None) -> TensorSpec:
    """(x - zx) multiplied along `axis` by the constant integer matrix
    `w_int` (K, N): `axis` moved last, the rest flattened to rows, one IR
    MatMul (proven 2-D), `finish` applied to the 2-D accumulator (e.g. a
    Requantize), then the shape put back with N in place of K."""
    b = imp.b
    rank = len(x.shape)
    axis %= rank
    k, n = w_int.shape
    perm = [i for i in range(rank) if i != axis] + [axis]
    spec = x.spec
    if perm != list(range(rank)):
        spec = b.emit("Transpose", [spec], hint + "/last", perm=perm)
    lead = tuple(spec.shape[:-1])
    rows = math.prod(lead)
    if spec.shape != (rows, k):
        spec = b.emit("Reshape", [spec], hint + "/rows", shape=(rows, k))
    acc = b.emit("MatMul", [spec, b.add_weight(hint + "/W", w_int)], hint + "/acc", a_zero_point=x.zero_point,
                 b_zero_point=0)
    if finish is not None:
        acc = finish(acc)
    if acc.shape != lead + (n,):
        acc = b.emit("Reshape", [acc], hint + "/unrows", shape=lead + (n,))
    if perm != list(range(rank)):
        acc = b.emit("Transpose", [acc], hint + "/back", perm=[int(i) for i in np.argsort(perm)])
    return acc


def select_along(imp, x: Act, axis: int, indices, hint: str) -> Act:
    """x's cells at constant `indices` (1-D, in range) along `axis`: the same
    integers, scale and zero point. Nothing is emitted for the identity."""
    axis %= len(x.shape)
    k = x.shape[axis]
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if np.array_equal(idx, np.arange(k)):
        return x
    # one index-map node (a wiring, no arithmetic): a step of an unrolled
    # recurrent layer, a slice or a gather was once a MatMul by a committed
    # one-hot matrix, transposes around it and a Requantize back to x's range
    return x.with_spec(imp.b.emit("Gather", [x.spec], hint, axis=axis, indices=[int(i) for i in idx]))


def select_flat(imp, x: Act, flat_indices, shape, hint: str) -> Act:
    """A gather of arbitrary cells: x flattened to (1, size), the cells at
    `flat_indices` (row-major) selected, reshaped to `shape`."""
    flat = x.with_spec(x.spec if len(x.shape) == 1 else
                       imp.b.emit("Reshape", [x.spec], hint + "/flat", shape=(x.spec.size,)))
    flat_indices = np.asarray(flat_indices).reshape(-1)
    y = select_along(imp, flat, 0, flat_indices, hint if flat_indices.shape == tuple(shape) else hint + "/select")
    return _reshaped_act(imp, y, shape, hint)


def _reshaped_act(imp, x: Act, shape, hint: str) -> Act:
    shape = tuple(int(d) for d in shape)
    if shape == x.shape:
        return x
    return x.with_spec(imp.b.emit("Reshape", [x.spec], hint, shape=shape))


def _const_indices(imp, node, index: int, what: str) -> np.ndarray:
    if not imp.is_const(node.input[index]):
        raise imp.unsupported(node, f"with computed {what} is not supported (a data-dependent gather; the {what} "
                                    "must be constants)")
    return np.asarray(imp.const(node.input[index], what)).astype(np.int64)


def _in_range(imp, node, idx: np.ndarray, dim: int, what: str) -> np.ndarray:
    if idx.size and (idx.min() < -dim or idx.max() >= dim):
        raise imp.fail(f"{what} {idx.min()}..{idx.max()} out of range for a dimension of {dim}")
    return np.where(idx < 0, idx + dim, idx)


def Gather(imp, node):
    """ONNX Gather with constant indices: a selection along `axis`, the
    indices' shape put in its place; from a constant table by computed
    indices, an embedding lookup (`ops_integer.embedding`)."""
    if imp.is_const(node.input[0]):  # an embedding table looked up by computed indices
        ops_integer.embedding(imp, node)
        return
    idx = _const_indices(imp, node, 1, "indices")
    x = imp.act(node.input[0])
    axis = node_attrs(node).get("axis", 0) % len(x.shape)
    idx = _in_range(imp, node, idx, x.shape[axis], "indices")
    if idx.size == 0:
        raise imp.unsupported(node, "with no indices (an empty output) is not supported")
    hint = node.name or node.output[0]
    shape = x.shape[:axis] + idx.shape + x.shape[axis + 1:]
    y = select_along(imp, x, axis, idx.reshape(-1), hint if idx.ndim == 1 else hint + "/select")
    imp.set(node.output[0], _reshaped_act(imp, y, shape, hint))


def GatherElements(imp, node):
    """ONNX GatherElements with constant indices: y[i..] = x[i.. with
    i_axis = idx[i..]], any cells of x, as one flat selection."""
    idx = _const_indices(imp, node, 1, "indices")
    x = imp.act(node.input[0])
    axis = node_attrs(node).get("axis", 0) % len(x.shape)
    if idx.ndim != len(x.shape):
        raise imp.fail(f"indices of rank {idx.ndim} for data of rank {len(x.shape)}")
    idx = _in_range(imp, node, idx, x.shape[axis], "indices")
    coords = list(np.indices(idx.shape))
    coords[axis] = idx
    flat = np.ravel_multi_index(tuple(coords), x.shape)
    imp.set(node.output[0], select_flat(imp, x, flat, idx.shape, node.name or node.output[0]))


def ScatterElements(imp, node):
    """ONNX ScatterElements (reduction none) with constant indices: every
    output cell reads either the data or one update, a flat selection from
    the two concatenated (each first requantized to the output's parameters
    where they differ)."""
    at = node_attrs(node)
    red = at.get("reduction", b"none")
    if (red.decode() if isinstance(red, bytes) else red) != "none":
        raise imp.unsupported(node, f"with reduction={red!r} is not supported (none only)")
    idx = _const_indices(imp, node, 1, "indices")
    x, u = imp.act(node.input[0]), imp.act(node.input[2])
    axis = at.get("axis", 0) % len(x.shape)
    if idx.shape != u.shape or idx.ndim != len(x.shape):
        raise imp.fail(f"indices {idx.shape} and updates {u.shape} must have one shape, of data's rank")
    idx = _in_range(imp, node, idx, x.shape[axis], "indices")
    hint = node.name or node.output[0]
    out = imp.out_qparams(node.output[0]) if x.is_float else x.qparams
    moved = []
    for part, tag in ((x, "data"), (u, "updates")):
        if not part.qparams.same_as(out):
            if part.scale is None or out.scale is None:
                raise imp.fail("updates and data must share their quantization when they are raw integers")
            part = Act(imp.b.requantize(part.spec, f"{hint}/{tag}", ratio=part.scale / out.scale,
                                        in_zero_point=part.zero_point, out_zero_point=out.zero_point,
                                        out_range=(out.qmin, out.qmax), exact_float32=imp.ort_exact),
                       out.scale, out.zero_point, (out.qmin, out.qmax), x.is_float)
        moved.append(part)
    x, u = moved
    source = np.arange(x.spec.size).reshape(x.shape)
    coords = list(np.indices(idx.shape))
    coords[axis] = idx
    source[tuple(coords)] = x.spec.size + np.arange(u.spec.size).reshape(u.shape)
    parts = [imp.b.emit("Reshape", [s.spec], f"{hint}/flat{i}", shape=(s.spec.size,)) for i, s in enumerate((x, u))]
    joined = x.with_spec(imp.b.emit("Concat", parts, hint + "/joined", axis=0))
    imp.set(node.output[0], select_flat(imp, joined, source, x.shape, hint))


def _slice_params(imp, node, rank):
    at = node_attrs(node)
    if imp.opsets.get("ai.onnx", 13) < 10:
        starts, ends = at["starts"], at["ends"]
        axes, steps = at.get("axes"), None
    else:
        starts, ends = _const_indices(imp, node, 1, "starts"), _const_indices(imp, node, 2, "ends")
        axes = _const_indices(imp, node, 3, "axes") if len(node.input) > 3 and node.input[3] else None
        steps = _const_indices(imp, node, 4, "steps") if len(node.input) > 4 and node.input[4] else None
    starts, ends = np.asarray(starts).reshape(-1), np.asarray(ends).reshape(-1)
    axes = np.arange(len(starts)) if axes is None else np.asarray(axes).reshape(-1)
    steps = np.ones(len(starts), dtype=np.int64) if steps is None else np.asarray(steps).reshape(-1)
    return [(int(a) % rank, int(s), int(e), int(st)) for a, s, e, st in zip(axes, starts, ends, steps)]


def Slice(imp, node):
    """ONNX Slice with constant starts/ends/axes/steps: one selection per
    sliced axis (any step, negative too)."""
    x = imp.act(node.input[0])
    hint = node.name or node.output[0]
    for axis, start, end, step in _slice_params(imp, node, len(x.shape)):
        if step == 0:
            raise imp.fail("a slice step of 0")
        idx = np.arange(*slice(start, end, step).indices(x.shape[axis]))
        if idx.size == 0:
            raise imp.unsupported(node, f"with an empty result on axis {axis} is not supported")
        x = select_along(imp, x, axis, idx, f"{hint}/axis{axis}")
    imp.set(node.output[0], x)


def Split(imp, node):
    """ONNX Split with constant sizes: each output one selection."""
    x = imp.act(node.input[0])
    at = node_attrs(node)
    axis = at.get("axis", 0) % len(x.shape)
    dim = x.shape[axis]
    outs = [o for o in node.output]
    if len(node.input) > 1 and node.input[1]:
        sizes = [int(v) for v in _const_indices(imp, node, 1, "split").reshape(-1)]
    elif "split" in at:
        sizes = [int(v) for v in at["split"]]
    else:
        parts = at.get("num_outputs", len(outs))
        chunk = -(-dim // parts)
        sizes = [min(chunk, dim - i * chunk) for i in range(parts)]
    if sum(sizes) != dim or len(sizes) != len(outs) or min(sizes) < 1:
        raise imp.fail(f"split sizes {sizes} do not cover axis {axis} of {x.shape} with {len(outs)} outputs")
    start = 0
    for name, size in zip(outs, sizes):
        if name:
            imp.set(name, select_along(imp, x, axis, np.arange(start, start + size), name))
        start += size


def _repeat_axis(imp, x: Act, axis: int, times: int, hint: str, *, whole: bool) -> Act:
    """Each cell repeated `times` along `axis` (whole=False: a a b b, nearest
    upsampling) or the whole axis repeated (whole=True: a b a b, Tile): a
    Reshape adding a unit axis, an Expand (index map) and a Reshape back."""
    if times == 1:
        return x
    shape = list(x.shape)
    unit = axis if whole else axis + 1
    spaced = shape[:unit] + [1] + shape[unit:]
    grown = list(spaced)
    grown[unit] = times
    shape[axis] *= times
    spec = imp.b.emit("Reshape", [x.spec], hint + "/unit", shape=spaced)
    spec = imp.b.emit("Expand", [spec], hint + "/expand", shape=grown)
    return x.with_spec(imp.b.emit("Reshape", [spec], hint, shape=shape))


def Tile(imp, node):
    x = imp.act(node.input[0])
    reps = _const_indices(imp, node, 1, "repeats").reshape(-1)
    if len(reps) != len(x.shape) or reps.min(initial=1) < 1:
        raise imp.unsupported(node, f"with repeats {reps.tolist()} is not supported (one positive count per axis)")
    hint = node.name or node.output[0]
    for axis, r in enumerate(reps):
        x = _repeat_axis(imp, x, axis, int(r), f"{hint}/axis{axis}", whole=True)
    imp.set(node.output[0], x)


def _space_depth(imp, node, x: Act, to_space: bool) -> None:
    """DepthToSpace / SpaceToDepth: Reshape, Transpose, Reshape (index maps)."""
    if len(x.shape) != 4:
        raise imp.unsupported(node, f"on a {len(x.shape)}-D input is not supported (NCHW only)")
    at = node_attrs(node)
    bs = int(at["blocksize"])
    if (x.shape[1] % (bs * bs) if to_space else x.shape[2] % bs or x.shape[3] % bs):
        raise imp.fail(f"blocksize {bs} does not divide the input {x.shape}")
    n, c, h, w = x.shape
    hint = node.name or node.output[0]
    if to_space:
        mode = at.get("mode", b"DCR")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode == "DCR":
            first, perm = (n, bs, bs, c // (bs * bs), h, w), (0, 3, 4, 1, 5, 2)
        else:
            first, perm = (n, c // (bs * bs), bs, bs, h, w), (0, 1, 4, 2, 5, 3)
        last = (n, c // (bs * bs), h * bs, w * bs)
    else:  # SpaceToDepth; newer onnx versions give it a mode too (CRD: channel-major blocks)
        mode = _decoded(at.get("mode"), "DCR")
        first, perm = (n, c, h // bs, bs, w // bs, bs), (0, 3, 5, 1, 2, 4) if mode == "DCR" else (0, 1, 3, 5, 2, 4)
        last = (n, c * bs * bs, h // bs, w // bs)
    spec = imp.b.emit("Reshape", [x.spec], hint + "/split", shape=first)
    spec = imp.b.emit("Transpose", [spec], hint + "/move", perm=perm)
    imp.set(node.output[0], x.with_spec(imp.b.emit("Reshape", [spec], hint, shape=last)))


def DepthToSpace(imp, node):
    _space_depth(imp, node, imp.act(node.input[0]), True)


def SpaceToDepth(imp, node):
    _space_depth(imp, node, imp.act(node.input[0]), False)


# -- Resize: one constant matrix per resized axis ---------------------------

def _decoded(v, default: str) -> str:
    return default if v is None else (v.decode() if isinstance(v, bytes) else v)


def _resize_matrix(imp, node, attrs: dict, k: int, scale=None, size=None) -> np.ndarray:
    """The (K, N) matrix of ONNX Resize along one axis of length K: Resize
    is separable and linear in its input for every mode (nearest, linear,
    cubic, antialias) outside tf_crop_and_resize, so resizing the identity
    I_K along its last axis gives the matrix, row j the image of e_j. Taken
    from onnx's reference implementation, so the coordinate rules are ONNX's."""
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    opset = imp.opsets.get("ai.onnx", 13)
    inits = []
    if scale is not None:
        inits.append(numpy_helper.from_array(np.asarray([1.0, scale], np.float32), "scales"))
        names = ["X", "scales"] if opset < 11 else ["X", "roi", "scales"]
    else:
        inits.append(numpy_helper.from_array(np.asarray([k, size], np.int64), "sizes"))
        names = ["X", "roi", "", "sizes"]
    if opset >= 11:
        inits.append(numpy_helper.from_array(np.zeros(0, np.float32), "roi"))
    keep = {a: v for a, v in attrs.items() if a not in ("axes", "keep_aspect_ratio_policy")}
    graph = helper.make_graph([helper.make_node("Resize", names, ["Y"], **keep)], "axis",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [k, k])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return np.asarray(ReferenceEvaluator(model).run(None, {"X": np.eye(k, dtype=np.float32)})[0], np.float64)


def Resize(imp, node):
    """ONNX Resize with constant scales or sizes. Per resized axis, the
    axis's constant matrix (`_resize_matrix`): a selection for nearest
    modes (an Expand when every cell is repeated an integer number of
    times, else a gather), otherwise (linear, cubic) a MatMul by the int8
    quantized interpolation weights + Requantize, after the selections;
    the last one rescales to the output's parameters, earlier ones keep the
    input's (interpolation stays within the input's range)."""
    x = imp.act(node.input[0])
    at = node_attrs(node)
    rank = len(x.shape)
    if _decoded(at.get("coordinate_transformation_mode"), "half_pixel") == "tf_crop_and_resize":
        raise imp.unsupported(node, "with coordinate_transformation_mode=tf_crop_and_resize is not supported")
    if _decoded(at.get("keep_aspect_ratio_policy"), "stretch") != "stretch":
        raise imp.unsupported(node, "with keep_aspect_ratio_policy other than stretch is not supported")
    scale_index = 1 if imp.opsets.get("ai.onnx", 13) < 11 else 2
    scales = imp.opt_const(node, scale_index, None)
    sizes = imp.opt_const(node, 3, None) if scale_index == 2 else None
    scales = None if scales is None or np.size(scales) == 0 else np.asarray(scales, np.float64).reshape(-1)
    given = scales if scales is not None else (None if sizes is None else np.asarray(sizes).reshape(-1))
    if given is None:
        raise imp.unsupported(node, "without constant scales or sizes is not supported")
    axes = [int(a) % rank for a in at.get("axes", range(rank))]
    if len(axes) != len(given):
        raise imp.fail(f"{len(given)} scales/sizes for {len(axes)} axes")
    hint = node.name or node.output[0]
    plans = []
    for a, g in zip(axes, given):
        k = x.shape[a]
        m = (_resize_matrix(imp, node, at, k, scale=float(g)) if scales is not None
             else _resize_matrix(imp, node, at, k, size=int(g)))
        if m.shape[1] == 0:
            raise imp.unsupported(node, f"with an empty output on axis {a} is not supported")
        if m.shape == (k, k) and np.array_equal(m, np.eye(k)):
            continue
        selection = np.all((m == 0) | (m == 1)) and np.all(m.sum(axis=0) == 1)
        plans.append((not selection, a, m))
    linear = [p for p in sorted(plans, key=lambda p: p[0]) if p[0]]
    for is_linear, a, m in sorted(plans, key=lambda p: p[0]):
        if not is_linear:
            idx = m.argmax(axis=0)
            times = m.shape[1] // m.shape[0]
            if m.shape[1] % m.shape[0] == 0 and np.array_equal(idx, np.repeat(np.arange(m.shape[0]), times)):
                x = _repeat_axis(imp, x, a, times, f"{hint}/axis{a}", whole=False)
            else:
                x = select_along(imp, x, a, idx, f"{hint}/axis{a}")
            continue
        last = a == linear[-1][1]
        out = imp.out_qparams(node.output[0]) if last else _interpolated_range(x, m)
        x = _interpolate(imp, x, a, m, out, f"{hint}/axis{a}")
    imp.set(node.output[0], x)


def _interpolated_range(x: Act, m: np.ndarray) -> QParams:
    """Parameters for an intermediate interpolation result: the input's when
    every weight is >= 0 (a convex combination stays in range), else int8
    over the worst case of the matrix's columns (cubic overshoots)."""
    if m.min() >= 0:
        return x.qparams
    lo, hi = ((q - x.zero_point) * x.scale for q in x.qrange)
    col_lo = np.minimum(m * lo, m * hi).sum(axis=0)
    col_hi = np.maximum(m * lo, m * hi).sum(axis=0)
    return from_range(float(col_lo.min()), float(col_hi.max()))


def _interpolate(imp, x: Act, axis: int, m: np.ndarray, out: QParams, hint: str) -> Act:
    """x times the real matrix `m` along `axis`, into `out`'s parameters."""
    if x.scale is None:
        raise imp.fail("interpolation needs a quantized float input")
    w, scales = quantize_weights_per_channel(m, 1)
    ratio = combined_scale(x.scale, scales, out.scale, float32=imp.ort_exact)

    def rescale(acc):
        return imp.b.requantize(acc, hint, ratio=ratio, in_zero_point=0, out_zero_point=out.zero_point,
                                out_range=(out.qmin, out.qmax), axis=1, exact_float32=imp.ort_exact)

    spec = linear_along(imp, x, axis, w, hint, rescale)
    return Act(spec, out.scale, out.zero_point, (out.qmin, out.qmax), x.is_float)


OPS = {
    ("ai.onnx", "Reshape"): Reshape, ("ai.onnx", "Flatten"): Flatten, ("ai.onnx", "Squeeze"): Squeeze,
    ("ai.onnx", "Unsqueeze"): Unsqueeze, ("ai.onnx", "Transpose"): Transpose, ("ai.onnx", "Identity"): Identity,
    ("ai.onnx", "Dropout"): Dropout, ("ai.onnx", "Shape"): Shape, ("ai.onnx", "Concat"): Concat,
    ("ai.onnx", "Pad"): Pad, ("com.microsoft", "QLinearConcat"): QLinearConcat,
    **{("ai.onnx", f.__name__): f for f in (Gather, GatherElements, ScatterElements, Slice, Split, Tile,
                                             DepthToSpace, SpaceToDepth, Resize)},
}
