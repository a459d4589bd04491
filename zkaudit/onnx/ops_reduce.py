"""Axis reductions on existing IR ops (no reduction op of their own):

    ReduceSum, ReduceMean     the reduced axes moved last and flattened to K,
                              MatMul by a constant all-ones (K, 1) column,
                              one Requantize (scale x 1 or 1/K): one rounding
    ReduceMax, ReduceMin      a MaxPool with a (1, K) window over the rows
                              laid out as (1, rows, 1, K); Min as
                              -max(-x), the negation a lookup table q -> 2zp - q
                              on each side (exact, the input's parameters)
    ReduceL1, ReduceSumSquare a table q -> |q - zp| or (q - zp)^2 (exact
                              integers), then the sum as above
    ReduceL2, ReduceLogSumExp sum of squares / of a table of exp, requantized
                              into a 2^14-step domain covering the output's
                              range, then a sqrt / log table into the output
    ArgMin                    ArgMax of the negated table

and LayerNormalization, InstanceNormalization, GroupNormalization: rows
centred exactly by a constant matrix, the inverse standard deviation by a
table over the requantized variance (block comment below). ReduceProd is not
supported (a product of data-dependent factors)."""

from __future__ import annotations

import math

import numpy as np

from zkaudit.onnx.importer import node_attrs
from zkaudit.onnx.ops_elementwise import emit_table
from zkaudit.onnx.quant import QParams
from zkaudit.onnx.values import Act

DOMAIN_BITS = 14  # the requantized sum a sqrt/log table reads (2^14 entries)
EXP_BITS = 15  # exp table entries: round(2^15 * exp(x - max x)) <= 2^15
MAX_TABLE = 1 << 16


def _reduce_axes(imp, node, rank: int):
    """The reduced axes, sorted, or None for the identity (noop_with_empty_axes)."""
    at = node_attrs(node)
    axes = None
    if len(node.input) > 1 and node.input[1]:
        if not imp.is_const(node.input[1]):
            raise imp.unsupported(node, "with computed axes is not supported")
        axes = np.asarray(imp.const(node.input[1], "axes")).reshape(-1)
    elif "axes" in at:
        axes = np.asarray(at["axes"]).reshape(-1)
    if axes is None or axes.size == 0:
        return None if at.get("noop_with_empty_axes", 0) else list(range(rank))
    return sorted({int(a) % rank for a in axes})


def _rows(imp, x: Act, axes, hint: str):
    """x with `axes` moved last and flattened: a (rows, K) spec; and the
    output shape (keepdims decides) the per-row results reshape to."""
    rank = len(x.shape)
    keep = [i for i in range(rank) if i not in axes]
    spec = x.spec
    if keep + axes != list(range(rank)):
        spec = imp.b.emit("Transpose", [spec], hint + "/last", perm=keep + axes)
    rows = math.prod(x.shape[i] for i in keep)
    k = math.prod(x.shape[i] for i in axes)
    if spec.shape != (rows, k):
        spec = imp.b.emit("Reshape", [spec], hint + "/rows", shape=(rows, k))
    return spec, rows, k


def _out_shape(node, x: Act, axes) -> tuple[int, ...]:
    if node_attrs(node).get("keepdims", 1):
        return tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def _finish(imp, spec, shape, hint: str):
    """`spec` reshaped to `shape`; `hint` names the last tensor emitted."""
    return spec if spec.shape == tuple(shape) else imp.b.emit("Reshape", [spec], hint, shape=tuple(shape))


def _last(hint: str, rows_spec_shape, shape) -> str:
    """The name for the op before `_finish`: the plain hint if no Reshape follows."""
    return hint if tuple(rows_spec_shape) == tuple(shape) else hint + "/rows"


def _sum_rows(imp, rows_spec, zero_point: int, k: int, hint: str):
    """Per-row sum of (x - zero_point): MatMul by a ones column (raw int32)."""
    ones = imp.b.add_weight(hint + "/ones", np.ones((k, 1), dtype=np.int64))
    return imp.b.emit("MatMul", [rows_spec, ones], hint + "/sum", a_zero_point=zero_point, b_zero_point=0)


def _float_input(imp, node) -> Act:
    x = imp.act(node.input[0])
    if x.scale is None:
        raise imp.fail("input must be a quantized float tensor")
    return x


def _ratio(imp, num, den):
    return np.float32(num) / np.float32(den) if imp.ort_exact else float(num) / float(den)


def _summed(mean: bool):
    def convert(imp, node):
        x = imp.act(node.input[0])
        axes = _reduce_axes(imp, node, len(x.shape))
        if axes is None:
            imp.set(node.output[0], x)
            return
        hint = node.name or node.output[0]
        spec, rows, k = _rows(imp, x, axes, hint)
        acc = _sum_rows(imp, spec, x.zero_point, k, hint)
        shape = _out_shape(node, x, axes)
        if x.scale is None:
            if mean:
                raise imp.unsupported(node, "of raw integers is not supported (a mean needs a quantized float input)")
            imp.set(node.output[0], Act(_finish(imp, acc, shape, hint), None, 0, (acc.lo, acc.hi), False))
            return
        out = imp.out_qparams(node.output[0])
        ratio = _ratio(imp, x.scale, out.scale * (k if mean else 1))
        y = imp.b.requantize(acc, _last(hint, acc.shape, shape), ratio=ratio, in_zero_point=0,
                             out_zero_point=out.zero_point, out_range=(out.qmin, out.qmax),
                             exact_float32=imp.ort_exact)
        imp.set(node.output[0], Act(_finish(imp, y, shape, hint), out.scale, out.zero_point,
                                    (out.qmin, out.qmax), x.is_float))

    convert.__name__ = convert.__qualname__ = "ReduceMean" if mean else "ReduceSum"
    convert.__doc__ = (f"ONNX {convert.__name__}: MatMul by a constant ones column over the reduced axes "
                       "(moved last), one Requantize.")
    return convert


ReduceSum, ReduceMean = _summed(False), _summed(True)


def _table_of(imp, node, x: Act, values_fn, label: str, hint: str):
    """A table over x's integer range: values_fn(q) (exact integers)."""
    if x.spec.hi - x.spec.lo + 1 > MAX_TABLE:
        raise imp.unsupported(node, f"on an input range of {x.spec.hi - x.spec.lo + 1} integers is not supported "
                                    "(a lookup table holds at most 2^16)")
    domain = np.arange(x.spec.lo, x.spec.hi + 1, dtype=np.int64)
    return imp.b.emit("Table", [x.spec], hint, function=label, in_min=int(x.spec.lo), values=values_fn(domain))


def _negated(imp, node, x: Act, hint: str) -> Act:
    """-x with x's scale and zero point: q -> 2 zp - q, exactly."""
    zp = x.zero_point
    return x.with_spec(_table_of(imp, node, x, lambda q: 2 * zp - q, "neg", hint))


def _extreme(minimum: bool):
    def convert(imp, node):
        x = imp.act(node.input[0])
        axes = _reduce_axes(imp, node, len(x.shape))
        if axes is None:
            imp.set(node.output[0], x)
            return
        hint = node.name or node.output[0]
        if minimum:
            x = _negated(imp, node, x, hint + "/neg")
        spec, rows, k = _rows(imp, x, axes, hint)
        grid = imp.b.emit("Reshape", [spec], hint + "/grid", shape=(1, rows, 1, k))
        spec = imp.b.emit("MaxPool", [grid], hint + "/max", kernel_shape=(1, k), strides=(1, 1),
                          pads=(0, 0, 0, 0), dilations=(1, 1))
        y = x.with_spec(spec)
        shape = _out_shape(node, x, axes)
        if minimum:
            y = _negated(imp, node, y, _last(hint, y.shape, shape))
        imp.set(node.output[0], y.with_spec(_finish(imp, y.spec, shape, hint)))

    convert.__name__ = convert.__qualname__ = "ReduceMin" if minimum else "ReduceMax"
    convert.__doc__ = f"ONNX {convert.__name__}: a (1, K) MaxPool over the reduced axes (moved last)."
    return convert


ReduceMax, ReduceMin = _extreme(False), _extreme(True)


def _table_then_sum(imp, node, values_fn, label: str, power: int):
    """(rows spec of table(x) summed, out shape, scale of the sum)."""
    x = _float_input(imp, node)
    axes = _reduce_axes(imp, node, len(x.shape)) or list(range(len(x.shape)))
    hint = node.name or node.output[0]
    zp = x.zero_point
    t = x.with_spec(_table_of(imp, node, x, lambda q: values_fn(q - zp), label, hint + "/" + label))
    spec, rows, k = _rows(imp, t, axes, hint)
    return _sum_rows(imp, spec, 0, k, hint), _out_shape(node, x, axes), float(x.scale) ** power, hint


def _requantized_sum(imp, node, acc, shape, scale, hint):
    out = imp.out_qparams(node.output[0])
    y = imp.b.requantize(acc, _last(hint, acc.shape, shape), ratio=_ratio(imp, scale, out.scale), in_zero_point=0,
                         out_zero_point=out.zero_point, out_range=(out.qmin, out.qmax), exact_float32=imp.ort_exact)
    imp.set(node.output[0], Act(_finish(imp, y, shape, hint), out.scale, out.zero_point,
                                (out.qmin, out.qmax), True))


def ReduceL1(imp, node):
    """Sum of |x|: a table q -> |q - zp|, then the ones-column MatMul."""
    acc, shape, scale, hint = _table_then_sum(imp, node, np.abs, "abs", 1)
    _requantized_sum(imp, node, acc, shape, scale, hint)


def ReduceSumSquare(imp, node):
    """Sum of x^2: a table q -> (q - zp)^2, then the ones-column MatMul."""
    acc, shape, scale, hint = _table_then_sum(imp, node, np.square, "pow", 2)
    _requantized_sum(imp, node, acc, shape, scale, hint)


def _through_domain(imp, node, acc, shape, acc_scale: float, top: float, fn, label: str, hint: str):
    """fn(acc * acc_scale) into the output's parameters: the sum requantized
    onto 2^DOMAIN_BITS steps over [0, top], then a table of fn."""
    steps = (1 << DOMAIN_BITS) - 1
    dom = QParams(top / steps, 0, 0, steps)
    d = imp.b.requantize(acc, hint + "/domain", ratio=acc_scale / dom.scale, in_zero_point=0, out_zero_point=0,
                         out_range=(0, steps))
    out = imp.out_qparams(node.output[0])
    y = emit_table(imp, Act(d, dom.scale, 0, (0, steps), True), dom.scale, 0, out, fn, label,
                   _last(hint, d.shape, shape))
    imp.set(node.output[0], Act(_finish(imp, y, shape, hint), out.scale, out.zero_point,
                                (out.qmin, out.qmax), True))


def _output_top(imp, node) -> float:
    out = imp.out_qparams(node.output[0])
    return max((out.qmax - out.zero_point) * out.scale, out.scale)


def ReduceL2(imp, node):
    """sqrt of the sum of squares: the exact sum (as ReduceSumSquare),
    requantized onto [0, top^2] (top: the output's largest value), a sqrt
    table into the output."""
    acc, shape, scale, hint = _table_then_sum(imp, node, np.square, "pow", 2)
    _through_domain(imp, node, acc, shape, scale, _output_top(imp, node) ** 2, np.sqrt, "sqrt", hint)


def ReduceLogSumExp(imp, node):
    """log of the sum of exp: a table q -> round(2^15 exp(real(q) - m)) with
    m the input's largest real value (entries <= 2^15), summed, requantized
    onto [0, exp(top)] (top: the output's largest value), a log table into
    the output (log 0 saturates to its lowest value)."""
    x = _float_input(imp, node)
    m = (x.spec.hi - x.zero_point) * float(x.scale)
    s = float(x.scale)
    acc, shape, _, hint = _table_then_sum(
        imp, node, lambda d: np.rint(np.exp(d * s - m) * 2**EXP_BITS).astype(np.int64), "exp", 1)
    top = _output_top(imp, node)
    _through_domain(imp, node, acc, shape, math.exp(m) / 2**EXP_BITS, math.exp(top), np.log, "log", hint)


def ArgMin(imp, node):
    """ArgMax of the negated input (a table q -> 2 zp - q: order reversed)."""
    x = imp.act(node.input[0])
    at = node_attrs(node)
    hint = node.name or node.output[0]
    neg = _negated(imp, node, x, hint + "/neg")
    spec = imp.b.emit("ArgMax", [neg.spec], hint, axis=at.get("axis", 0) % len(x.shape),
                      keepdims=at.get("keepdims", 1), select_last_index=at.get("select_last_index", 0))
    imp.set(node.output[0], Act(spec, None, 0, (spec.lo, spec.hi), False))


def TopK(imp, node):
    """ONNX TopK with a constant k (sorted): k rounds over the rows (the axis
    moved last), each exact on the integers:

        v_j = max of the row                 MaxPool (1, N) window
        i_j = its first index                ArgMax (ONNX TopK also takes the
                                             lower index among equal values)
        x  <- x - (range + 1) * [n == i_j]   Sub of the Expand-ed index and a
                                             constant 0..N-1, a table of
                                             (d == 0) * (range + 1), Sub

    so a taken cell drops below every cell not taken. largest=0 runs on the
    negation (a table q -> 2zp - q) and negates the values back."""
    x = imp.act(node.input[0])
    at = node_attrs(node)
    if not at.get("sorted", 1):
        raise imp.unsupported(node, "with sorted=0 is not supported (the order of the results is unspecified)")
    if not imp.is_const(node.input[1]):
        raise imp.unsupported(node, "with a computed k is not supported")
    k = int(np.asarray(imp.const(node.input[1], "K")).reshape(-1)[0])
    rank = len(x.shape)
    axis = at.get("axis", -1) % rank
    n = x.shape[axis]
    if not 1 <= k <= n:
        raise imp.fail(f"k={k} outside 1..{n}")
    hint = node.name or node.output[0]
    b = imp.b
    smallest = not at.get("largest", 1)
    if smallest:
        x = _negated(imp, node, x, hint + "/neg")
    spec, rows, _ = _rows(imp, x, [axis], hint)
    span = x.spec.hi - x.spec.lo
    positions = b.add_weight(hint + "/positions", np.broadcast_to(np.arange(n, dtype=np.int64), (rows, n)).copy())
    values, indices = [], []
    for j in range(k):
        tag = f"{hint}/k{j}"
        grid = b.emit("Reshape", [spec], tag + "/grid", shape=(1, rows, 1, n))
        v = b.emit("MaxPool", [grid], tag + "/max", kernel_shape=(1, n), strides=(1, 1), pads=(0, 0, 0, 0),
                   dilations=(1, 1))
        values.append(b.emit("Reshape", [v], tag + "/value", shape=(rows, 1)))
        i = b.emit("ArgMax", [spec], tag + "/index", axis=1, keepdims=1, select_last_index=0)
        indices.append(i)
        if j == k - 1:
            break
        d = b.emit("Sub", [b.emit("Expand", [i], tag + "/index_row", shape=(rows, n)), positions], tag + "/offset",
                   a_zero_point=0, b_zero_point=0)
        dom = np.arange(d.lo, d.hi + 1, dtype=np.int64)
        drop = b.emit("Table", [d], tag + "/drop", function="sign", in_min=int(d.lo),
                      values=np.where(dom == 0, span + 1, 0))
        spec = b.emit("Sub", [spec, drop], tag + "/masked", a_zero_point=0, b_zero_point=0)
    keep = [i for i in range(rank) if i != axis]
    back = [int(p) for p in np.argsort(keep + [axis])]
    lead = tuple(x.shape[i] for i in keep)

    def placed(parts, name, what):
        t = parts[0] if len(parts) == 1 else b.emit("Concat", parts, f"{hint}/{what}", axis=1)
        t = b.emit("Reshape", [t], f"{hint}/{what}/shape", shape=lead + (k,)) if t.shape != lead + (k,) else t
        return b.emit("Transpose", [t], name, perm=back) if back != list(range(rank)) else t

    y = x.with_spec(placed(values, hint + ("/negated" if smallest else ""), "values"))
    if smallest:
        y = _negated(imp, node, y, hint)
    imp.set(node.output[0], y)
    if len(node.output) > 1 and node.output[1]:
        idx = placed(indices, node.output[1], "indices")
        imp.set(node.output[1], Act(idx, None, 0, (idx.lo, idx.hi), False))


# -- normalization over rows --------------------------------------------------
#
# Each row of K values (q, scale s, zero point z) is normalized with integer
# ops only, every step one of the IR's:
#
#   d  = (q - z) @ (K I - 1)        exact: K (x - mean) at scale s / K (MatMul)
#   db = rnd(d * ratio)             signed, |db| <= D with 2 K D^2 < 2^31 (Requantize)
#   ss = sum_j db_j^2               Mul(db, db), then MatMul by a ones column
#   v  = rnd(ss / K onto 2^14 steps of [0, V])   V = (range / 2)^2, the largest
#                                   variance values in x's range can have (Requantize)
#   r  = table(v) ~ 1 / sqrt(var + eps), 15 bits (Table; 0 steps give its top)
#   n  = rnd(db * r onto int16)     the normalized row, |n| <= sqrt(K) (Mul, Requantize)
#   y  = n * gamma + beta           per-channel depthwise 1x1 Conv + Requantize
#
# The mean is exact; the variance is rounded twice (db, v) and the inverse
# square root once, each far below the int8 output's step for rows whose
# variance is above ~V / 2^12 (rows of nearly constant values lose precision).

NORM_BITS = 15  # the inverse square root and the normalized row: 15-bit magnitudes


def _normalized_rows(imp, node, x: Act, rows_spec, k: int, eps: float, hint: str) -> tuple[Act, Act]:
    """(rows, K) -> the rows normalized to mean 0, variance 1, int16 at
    scale sqrt(K) / 2^15 (see the block comment above); and the (rows, 1)
    inverse standard deviations."""
    b = imp.b
    span = (x.spec.hi - x.spec.lo) * float(x.scale)
    if 2 * k * k * (x.spec.hi - x.spec.lo) >= 2**31:
        raise imp.unsupported(node, f"over {k} values per row is not supported (the exact centring needs "
                                    "K^2 * range < 2^31)")
    centre = b.add_weight(hint + "/centre", k * np.eye(k, dtype=np.int64) - 1)
    d = b.emit("MatMul", [rows_spec, centre], hint + "/centred", a_zero_point=x.zero_point, b_zero_point=0)
    # the sum of squares' declared range is 2 K d_max^2 (a ones column is declared in [-2, 1])
    d_max = min(int(math.isqrt((2**31 - 1) // (2 * k))), (1 << NORM_BITS) - 1)
    s_d = span / d_max if span > 0 else 1.0
    db = b.requantize(d, hint + "/dev", ratio=float(x.scale) / k / s_d, in_zero_point=0, out_zero_point=0,
                      out_range=(-d_max, d_max))
    sq = b.emit("Mul", [db, db], hint + "/square", a_zero_point=0, b_zero_point=0)
    ones = b.add_weight(hint + "/ones", np.ones((k, 1), dtype=np.int64))
    ss = b.emit("MatMul", [sq, ones], hint + "/sumsq", a_zero_point=0, b_zero_point=0)
    steps = (1 << DOMAIN_BITS) - 1
    s_v = max((span / 2) ** 2, 1e-12) / steps
    v = b.requantize(ss, hint + "/var", ratio=s_d * s_d / k / s_v, in_zero_point=0, out_zero_point=0,
                     out_range=(0, steps))
    r_top = (1 << NORM_BITS) - 1
    r_max = 1.0 / math.sqrt(s_v / 2 + eps)
    s_r = r_max / r_top
    domain = np.arange(0, steps + 1, dtype=np.float64)
    values = np.clip(np.rint(1.0 / np.sqrt(domain * s_v + eps) / s_r), 0, r_top).astype(np.int64)
    r_rows = b.emit("Table", [v], hint + "/rsqrt", function="pow", in_min=0, values=values)
    r = b.emit("Expand", [r_rows], hint + "/rsqrt_rows", shape=db.shape)
    n = b.emit("Mul", [db, r], hint + "/scaled", a_zero_point=0, b_zero_point=0)
    n_top = (1 << NORM_BITS) - 1
    s_n = math.sqrt(k) / n_top
    ns = b.requantize(n, hint + "/normalized", ratio=s_d * s_r / s_n, in_zero_point=0, out_zero_point=0,
                      out_range=(-n_top, n_top))
    return Act(ns, s_n, 0, (-n_top, n_top), True), Act(r_rows, s_r, 0, (0, r_top), True)


def _set_rescaled(imp, name: str, spec, scale: float, shape, hint: str) -> None:
    """ONNX tensor `name` := `spec` (raw integers at `scale`) requantized into
    its own parameters and reshaped to `shape`."""
    out = imp.out_qparams(name)
    y = imp.b.requantize(spec, hint + "/rows", ratio=scale / out.scale, in_zero_point=0,
                         out_zero_point=out.zero_point, out_range=(out.qmin, out.qmax))
    imp.set(name, Act(imp.b.emit("Reshape", [y], hint, shape=shape), out.scale, out.zero_point,
                      (out.qmin, out.qmax), True))


def _norm_params(imp, node, index: int, what: str):
    if len(node.input) <= index or not node.input[index]:
        return None
    if not imp.is_const(node.input[index]):
        raise imp.unsupported(node, f"with a computed {what} is not supported (a constant only)")
    return np.asarray(imp.const(node.input[index], what), dtype=np.float64)


def LayerNormalization(imp, node):
    """ONNX LayerNormalization over axes [axis, rank): rows normalized by
    integer ops (`_normalized_rows`), then Scale and B per element of the
    normalized shape as a depthwise 1x1 Conv over the rows viewed as
    (rows, K, 1, 1). The optional Mean and InvStdDev outputs are the row
    sums and the inverse-square-root table's values, each requantized."""
    from zkaudit.onnx.ops_linear import channel_affine

    x = _float_input(imp, node)
    at = node_attrs(node)
    rank = len(x.shape)
    axis = at.get("axis", -1) % rank
    hint = node.name or node.output[0]
    rows = math.prod(x.shape[:axis])
    k = math.prod(x.shape[axis:])
    spec = x.spec if x.shape == (rows, k) else imp.b.emit("Reshape", [x.spec], hint + "/rows", shape=(rows, k))
    n, r = _normalized_rows(imp, node, x, spec, k, float(at.get("epsilon", 1e-5)), hint)
    stat_shape = x.shape[:axis] + (1,) * (rank - axis)
    if len(node.output) > 1 and node.output[1]:  # Mean: the row sums over K, one Requantize
        total = _sum_rows(imp, spec, x.zero_point, k, hint + "/mean")
        _set_rescaled(imp, node.output[1], total, float(x.scale) / k, stat_shape, hint + "/Mean")
    if len(node.output) > 2 and node.output[2]:  # InvStdDev: the table's values, rescaled
        _set_rescaled(imp, node.output[2], r.spec, r.scale, stat_shape, hint + "/InvStdDev")
    gamma = _norm_params(imp, node, 1, "Scale")
    beta = _norm_params(imp, node, 2, "B")
    tail = x.shape[axis:]
    gamma = np.broadcast_to(np.ones(()) if gamma is None else gamma, tail).reshape(-1)
    beta = None if beta is None else np.broadcast_to(beta, tail).reshape(-1)
    grid = n.with_spec(imp.b.emit("Reshape", [n.spec], hint + "/grid", shape=(rows, k, 1, 1)))
    y = channel_affine(imp, grid, gamma, beta, imp.out_qparams(node.output[0]), hint + "/affine")
    imp.set(node.output[0], y.with_spec(imp.b.emit("Reshape", [y.spec], hint, shape=x.shape)))


def InstanceNormalization(imp, node):
    """ONNX InstanceNormalization: each (n, c) plane normalized by integer
    ops (`_normalized_rows`), then scale and B per channel as a depthwise
    1x1 Conv over (N, C, plane, 1)."""
    from zkaudit.onnx.ops_linear import channel_affine

    x = _float_input(imp, node)
    if len(x.shape) < 3:
        raise imp.unsupported(node, f"on a {len(x.shape)}-D input is not supported (N, C, D1, ... expected)")
    hint = node.name or node.output[0]
    n_, c = x.shape[:2]
    k = math.prod(x.shape[2:])
    spec = imp.b.emit("Reshape", [x.spec], hint + "/rows", shape=(n_ * c, k))
    n, _ = _normalized_rows(imp, node, x, spec, k, float(node_attrs(node).get("epsilon", 1e-5)), hint)
    gamma = _norm_params(imp, node, 1, "scale")
    beta = _norm_params(imp, node, 2, "B")
    grid = n.with_spec(imp.b.emit("Reshape", [n.spec], hint + "/grid", shape=(n_, c, k, 1)))
    y = channel_affine(imp, grid, gamma, beta, imp.out_qparams(node.output[0]), hint + "/affine")
    imp.set(node.output[0], y.with_spec(imp.b.emit("Reshape", [y.spec], hint, shape=x.shape)))


def GroupNormalization(imp, node):
    """ONNX GroupNormalization: each (n, group) block of C/G channels x the
    spatial cells normalized by integer ops (`_normalized_rows`), then scale
    and bias per channel (opset 21; per group before it, spread over the
    group's channels) as a depthwise 1x1 Conv over (N, C, plane, 1)."""
    from zkaudit.onnx.ops_linear import channel_affine

    x = _float_input(imp, node)
    at = node_attrs(node)
    groups = int(at["num_groups"])
    if len(x.shape) < 3 or groups < 1 or x.shape[1] % groups:
        raise imp.unsupported(node, f"with {groups} groups on input {x.shape} is not supported (N, C, D1, ... with "
                                    "C a multiple of num_groups)")
    hint = node.name or node.output[0]
    n_, c = x.shape[:2]
    plane = math.prod(x.shape[2:])
    k = c // groups * plane
    spec = imp.b.emit("Reshape", [x.spec], hint + "/rows", shape=(n_ * groups, k))
    n, _ = _normalized_rows(imp, node, x, spec, k, float(at.get("epsilon", 1e-5)), hint)
    gamma, beta = _norm_params(imp, node, 1, "scale"), _norm_params(imp, node, 2, "bias")
    if gamma is not None and gamma.size == groups != c:
        gamma, beta = np.repeat(gamma, c // groups), None if beta is None else np.repeat(beta, c // groups)
    grid = n.with_spec(imp.b.emit("Reshape", [n.spec], hint + "/grid", shape=(n_, c, plane, 1)))
    y = channel_affine(imp, grid, np.ones(c) if gamma is None else gamma, beta, imp.out_qparams(node.output[0]),
                       hint + "/affine")
    imp.set(node.output[0], y.with_spec(imp.b.emit("Reshape", [y.spec], hint, shape=x.shape)))


OPS = {("ai.onnx", f.__name__): f for f in (ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceL1, ReduceL2,
                                             ReduceSumSquare, ReduceLogSumExp, ArgMin, LayerNormalization,
                                             InstanceNormalization, GroupNormalization, TopK)}
