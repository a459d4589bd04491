"""Elementwise ops: Add/Sub/Mul, activations (Relu and Clip as clamps; the
smooth ones as lookup tables over the input's integer domain), the
QuantizeLinear/DequantizeLinear boundary, and their QOperator forms."""

from __future__ import annotations

import math

import numpy as np
from onnx import helper

from zkaudit.circuit import TensorSpec
from zkaudit.onnx import ops_integer
from zkaudit.onnx.importer import node_attrs
from zkaudit.onnx.quant import QParams, dtype_range, from_range
from zkaudit.onnx.values import Act, QConst

INT32 = (-(2**31), 2**31 - 1)
COMMON_SCALE_MAX_BITS = 20  # extra fractional bits when adding tensors of different scales


def _ratio(imp, num, den):
    return np.float32(num) / np.float32(den) if imp.ort_exact else float(num) / float(den)


def _out(spec: TensorSpec, qp: QParams, is_float: bool) -> Act:
    return Act(spec, qp.scale, qp.zero_point, (qp.qmin, qp.qmax), is_float)


def _scaled(a: Act) -> Act:
    if a.scale is None:
        raise ValueError(a.spec.name)
    return a


def emit_binary(imp, op: str, a: Act, b: Act, out: QParams, hint: str) -> TensorSpec:
    """(a op b) requantized to `out`. Add/Sub of different scales first move
    both operands to a common finer scale s_c = min(sa, sb) / 2^k (k as large
    as int32 allows, so the two extra roundings are 2^-k of an input LSB).
    Operands of different shapes are first broadcast (`Expand`)."""
    bld = imp.b
    shape = _broadcast_shape(imp, a.shape, b.shape)
    a, b = _expanded(imp, a, shape), _expanded(imp, b, shape)
    rng = (out.qmin, out.qmax)
    if op == "Mul":
        acc = bld.emit("Mul", [a.spec, b.spec], hint + "/acc", a_zero_point=a.zero_point, b_zero_point=b.zero_point)
        ratio = (np.float32(a.scale) * np.float32(b.scale) / np.float32(out.scale) if imp.ort_exact
                 else a.scale * b.scale / out.scale)
        return bld.requantize(acc, hint, ratio=ratio, in_zero_point=0, out_zero_point=out.zero_point,
                              out_range=rng, exact_float32=imp.ort_exact)
    if np.float32(a.scale) == np.float32(b.scale):
        acc = bld.emit(op, [a.spec, b.spec], hint + "/acc", a_zero_point=a.zero_point, b_zero_point=b.zero_point)
        return bld.requantize(acc, hint, ratio=_ratio(imp, a.scale, out.scale), in_zero_point=0,
                              out_zero_point=out.zero_point, out_range=rng, exact_float32=imp.ort_exact)
    fine = min(a.scale, b.scale)
    span_a = max(abs(a.spec.lo - a.zero_point), abs(a.spec.hi - a.zero_point)) * a.scale / fine
    span_b = max(abs(b.spec.lo - b.zero_point), abs(b.spec.hi - b.zero_point)) * b.scale / fine
    k = COMMON_SCALE_MAX_BITS
    while k > 0 and (span_a + span_b + 2) * 2**k >= 2**30:
        k -= 1
    common = fine / 2**k
    parts = []
    for x, tag in ((a, "a"), (b, "b")):
        parts.append(bld.requantize(x.spec, f"{hint}/{tag}", ratio=x.scale / common, in_zero_point=x.zero_point,
                                    out_zero_point=0, out_range=INT32))
    acc = bld.emit(op, parts, hint + "/acc", a_zero_point=0, b_zero_point=0)
    return bld.requantize(acc, hint, ratio=common / out.scale, in_zero_point=0, out_zero_point=out.zero_point,
                          out_range=rng)


def _operands(imp, left: str, right: str) -> tuple[Act, Act]:
    """Both operands as activations of the output's (broadcast) shape. A
    constant operand (x + 1.0, x * 0.5) is broadcast as a weight: the
    elementwise layers prove equal shapes only, and the weight costs a few
    cells. A computed operand of a smaller shape goes through an `Expand`
    node, an index map whose wiring reads each of its cells wherever numpy
    broadcasting reads it."""
    names = (left, right)
    consts = [imp.is_const(n) for n in names]
    if consts[0] == consts[1]:
        return imp.act(left), imp.act(right)
    ci = consts.index(True)
    other = imp.act(names[1 - ci])
    value = imp.values[names[ci]]
    shape = _broadcast_shape(imp, np.shape(value.values if isinstance(value, QConst) else value), other.shape)
    if isinstance(value, QConst):
        if np.shape(value.values) != shape and not value.per_axis:
            value = QConst(np.broadcast_to(value.values, shape).copy(), value.scale, value.zero_point, value.axis)
    elif np.shape(value) != shape:
        value = np.broadcast_to(value, shape).copy()
    const = imp.const_act(names[ci], value)
    return (const, other) if ci == 0 else (other, const)


def _broadcast_shape(imp, a, b) -> tuple[int, ...]:
    try:
        return tuple(int(d) for d in np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise imp.fail(f"operand shapes {tuple(a)} and {tuple(b)} do not broadcast") from None


def _expanded(imp, x: Act, shape: tuple[int, ...]) -> Act:
    """`x` broadcast to `shape`; the same integers, so scale and zero point stay."""
    if x.shape == shape:
        return x
    return x.with_spec(imp.b.emit("Expand", [x.spec], x.spec.name + "/expand", shape=shape))


def Expand(imp, node):
    """ONNX Expand with a constant shape: bidirectional broadcasting of the
    input and `shape`, an index map (`Expand` in the IR)."""
    x = imp.act(node.input[0])
    target = np.asarray(imp.const(node.input[1], "shape"), dtype=np.int64).reshape(-1)
    imp.set(node.output[0], _expanded(imp, x, _broadcast_shape(imp, x.shape, tuple(int(d) for d in target))))


def _binary(op):
    def convert(imp, node):
        a, b = _operands(imp, node.input[0], node.input[1])
        if a.scale is None or b.scale is None:
            raise imp.fail(f"{op} needs quantized float operands")
        out = imp.out_qparams(node.output[0])
        imp.set(node.output[0], _out(emit_binary(imp, op, a, b, out, node.name or node.output[0]), out, True))

    convert.__name__ = op
    convert.__doc__ = f"ONNX {op}: both operands requantized into the output's scale."
    return convert


Add, Sub, Mul = _binary("Add"), _binary("Sub"), _binary("Mul")


def Div(imp, node):
    """ONNX Div by a constant (PyTorch writes GELU below opset 20 as
    x * 0.5 * (1 + Erf(x / 1.4142))). A positive scalar divisor only changes
    what the integers mean: real = (q - zp) * (scale / c), no op and no
    rounding. Other constant divisors become a Mul by 1 / c; a computed
    divisor a Mul by a lookup table of its reciprocal (`_divide_by_tensor`).
    Integer tensors divide exactly, truncating (`ops_integer`)."""
    if not imp.act(node.input[0]).is_float:
        ops_integer.integer_div(imp, node)
        return
    if not imp.is_const(node.input[1]):
        _divide_by_tensor(imp, node)
        return
    c = np.asarray(imp.const(node.input[1], "divisor"), dtype=np.float64)
    if np.any(c == 0) or not np.all(np.isfinite(c)):
        raise imp.unsupported(node, "by a constant holding 0 or a non-finite value is not supported")
    a = imp.act(node.input[0])
    if a.scale is None or not a.is_float:
        raise imp.unsupported(node, "of integer tensors (integer division) is not supported: quantized float "
                                    "operands only")
    hint = node.name or node.output[0]
    out_shape = np.broadcast_shapes(a.shape, c.shape)
    if c.size == 1 and float(c.reshape(-1)[0]) > 0 and out_shape == a.shape:
        scale = float(np.float32(a.scale) / np.float32(c.reshape(-1)[0]))
        imp.set(node.output[0], Act(a.spec, scale, a.zero_point, a.qrange, True))
        return
    if out_shape != a.shape:
        raise imp.unsupported(node, f"broadcasting the dividend {a.shape} to {out_shape} is not supported")
    b = imp.const_act(hint + "/reciprocal", np.broadcast_to(1.0 / c, a.shape).astype(np.float32))
    out = imp.out_qparams(node.output[0])
    imp.set(node.output[0], _out(emit_binary(imp, "Mul", a, b, out, hint), out, True))


RECIPROCAL_BITS = 15  # 1/y as a signed 16-bit integer


def _divide_by_tensor(imp, node) -> None:
    """x / y for a computed y: a lookup table of 1/y over y's integer range
    (int16, symmetric), then Mul (broadcast as Mul is) + Requantize. The
    reciprocal saturates at R = min(1/s_y, max|out| / s_x): past R every
    nonzero x would give a quotient beyond the output's range anyway; 1/0
    saturates to +R (ONNX: an infinity, or NaN for 0/0)."""
    a, y = imp.act(node.input[0]), imp.act(node.input[1])
    if a.scale is None or y.scale is None or not (a.is_float and y.is_float):
        raise imp.unsupported(node, "of raw integer tensors is not supported (quantized float operands only)")
    if y.spec.hi - y.spec.lo + 1 > 2**16:
        raise imp.unsupported(node, "by a tensor of more than 2^16 integer values is not supported")
    out = imp.out_qparams(node.output[0])
    hint = node.name or node.output[0]
    out_peak = max(abs(out.qmin - out.zero_point), abs(out.qmax - out.zero_point)) * out.scale
    top = min(1.0 / y.scale, out_peak / a.scale)
    r_max = (1 << RECIPROCAL_BITS) - 1
    r_scale = top / r_max
    domain = np.arange(y.spec.lo, y.spec.hi + 1, dtype=np.int64)
    real = (domain - y.zero_point) * float(y.scale)
    with np.errstate(divide="ignore"):
        recip = np.where(real == 0, top, 1.0 / np.where(real == 0, 1.0, real))
    values = np.clip(np.rint(recip / r_scale), -r_max, r_max).astype(np.int64)
    r = imp.b.emit("Table", [y.spec], hint + "/reciprocal", function="reciprocal", in_min=int(domain[0]),
                   values=values)
    r_act = Act(r, r_scale, 0, (-r_max, r_max), True)
    imp.set(node.output[0], _out(emit_binary(imp, "Mul", a, r_act, out, hint), out, True))


# -- comparisons, Where, Cast ---------------------------------------------------
#
# A comparison's result is a 0/1 integer tensor (ONNX bool), computed by a
# lookup table: of x itself against a constant scalar, or of the difference
# of two computed operands (raw, at a common scale, small enough for a table).
# Where(c, a, b) = b + c * (a - b): Sub, Mul by the 0/1 tensor, Add.

_COMPARE = {"Less": np.less, "LessOrEqual": np.less_equal, "Greater": np.greater,
            "GreaterOrEqual": np.greater_equal, "Equal": np.equal}
COMPARE_BITS = 15  # the difference of two operands compared: |d| < 2^15


def _real(q, x: Act) -> np.ndarray:
    """What onnxruntime sees for the integers q of x: float32 (q - zp) * scale."""
    return (q - x.zero_point).astype(np.float32) * np.float32(x.scale if x.scale is not None else 1.0)


def _difference(imp, a: Act, b: Act, hint: str) -> tuple:
    """(spec of a - b as raw integers, their scale): exact when the scales
    agree, else both moved to a common scale min(sa, sb) / 2^k with k as
    large as keeps |a - b| below 2^COMPARE_BITS."""
    shape = _broadcast_shape(imp, a.shape, b.shape)
    a, b = _expanded(imp, a, shape), _expanded(imp, b, shape)
    sa, sb = (1.0 if x.scale is None else x.scale for x in (a, b))
    if np.float32(sa) == np.float32(sb):
        return imp.b.emit("Sub", [a.spec, b.spec], hint + "/diff", a_zero_point=a.zero_point,
                          b_zero_point=b.zero_point), sa
    fine = min(sa, sb)
    spans = [max(abs(x.spec.lo - x.zero_point), abs(x.spec.hi - x.zero_point)) * s / fine
             for x, s in ((a, sa), (b, sb))]
    k = 0
    while (sum(spans) + 2) * 2 ** (k + 1) < 2**COMPARE_BITS:
        k += 1
    common = fine / 2**k
    lim = (1 << (COMPARE_BITS - 1)) - 1
    parts = [imp.b.requantize(x.spec, f"{hint}/{t}", ratio=s / common, in_zero_point=x.zero_point, out_zero_point=0,
                              out_range=(-lim, lim)) for x, s, t in ((a, sa, "a"), (b, sb, "b"))]
    return imp.b.emit("Sub", parts, hint + "/diff", a_zero_point=0, b_zero_point=0), common


def _compare(op):
    fn = _COMPARE[op]

    def convert(imp, node):
        hint = node.name or node.output[0]
        names = list(node.input[:2])
        consts = [imp.is_const(n) for n in names]
        if all(consts):
            raise imp.fail("both operands constant")  # folded before dispatch; kept for direct calls
        if any(consts):
            ci = consts.index(True)
            c = np.asarray(imp.const(names[ci], "operand"), dtype=np.float32)
            if c.size != 1 and not np.all(c == c.reshape(-1)[0]):
                raise imp.unsupported(node, "with a constant operand that varies along the tensor is not supported "
                                            "(a scalar only: one lookup table per tensor)")
            x = imp.act(names[1 - ci])
            cval = np.float32(c.reshape(-1)[0])
            domain = np.arange(x.spec.lo, x.spec.hi + 1, dtype=np.int64)
            real = _real(domain, x)
            values = (fn(real, cval) if ci == 1 else fn(cval, real)).astype(np.int64)
            shape = _broadcast_shape(imp, x.shape, c.shape)
            x = _expanded(imp, x, shape)
            spec = imp.b.emit("Table", [x.spec], hint, function="sign", in_min=int(domain[0]), values=values)
        else:
            a, b = imp.act(names[0]), imp.act(names[1])
            diff, _ = _difference(imp, a, b, hint)
            if diff.hi - diff.lo + 1 > 2**16:
                raise imp.unsupported(node, "of operands whose difference spans more than 2^16 integers is not "
                                            "supported")
            domain = np.arange(diff.lo, diff.hi + 1, dtype=np.int64)
            values = fn(domain, 0).astype(np.int64)
            spec = imp.b.emit("Table", [diff], hint, function="sign", in_min=int(domain[0]), values=values)
        imp.set(node.output[0], Act(spec, None, 0, (0, 1), False))

    convert.__name__ = convert.__qualname__ = op
    convert.__doc__ = (f"ONNX {op}: a 0/1 lookup table, of the operand against a constant scalar or of the "
                       "difference of two operands.")
    return convert


Less, LessOrEqual, Greater, GreaterOrEqual, Equal = (_compare(op) for op in _COMPARE)


def _as_real(x: Act) -> Act:
    """A raw integer tensor (a 0/1 mask, an integer input) read as real values: scale 1."""
    return x if x.scale is not None else Act(x.spec, 1.0, 0, x.qrange, True)


def Where(imp, node):
    """ONNX Where(c, a, b) = b + c * (a - b), c a 0/1 tensor: Sub into the
    span of a - b, Mul by c, Add (each requantized; a constant a or b is a
    weight of the output's shape)."""
    c = imp.act(node.input[0])
    if c.is_float or c.spec.lo < 0 or c.spec.hi > 1:
        raise imp.unsupported(node, "with a condition that is not a computed 0/1 (bool) tensor is not supported")
    hint = node.name or node.output[0]
    out = imp.out_qparams(node.output[0])
    if imp.is_const(node.input[1]) and imp.is_const(node.input[2]):
        a, b = (np.asarray(imp.const(n), dtype=np.float32) for n in node.input[1:3])
        if a.size == 1 and b.size == 1:  # a table of the condition: 0 -> b, 1 -> a
            values = out.quantize(np.array([b.reshape(-1)[0], a.reshape(-1)[0]], np.float32))
            spec = imp.b.emit("Table", [c.spec], hint, function="sign", in_min=0, values=values[c.spec.lo:])
            imp.set(node.output[0], _out(spec, out, True))
            return
        shape = _broadcast_shape(imp, _broadcast_shape(imp, a.shape, b.shape), c.shape)
        a = imp.const_act(node.input[1], np.broadcast_to(a, shape).copy())
        b = imp.const_act(node.input[2], np.broadcast_to(b, shape).copy())
    else:
        a, b = (_as_real(x) for x in _operands(imp, node.input[1], node.input[2]))
    lo = (a.spec.lo - a.zero_point) * a.scale - (b.spec.hi - b.zero_point) * b.scale
    hi = (a.spec.hi - a.zero_point) * a.scale - (b.spec.lo - b.zero_point) * b.scale
    top = (1 << 15) - 1
    dq = QParams(max(abs(lo), abs(hi), 1e-12) / top, 0, -top, top)  # symmetric: c * d stays within +-top
    diff = _out(emit_binary(imp, "Sub", a, b, dq, hint + "/diff"), dq, True)
    pq = dq
    picked = _out(emit_binary(imp, "Mul", Act(c.spec, 1.0, 0, (0, 1), True), diff, pq, hint + "/picked"), pq, True)
    imp.set(node.output[0], _out(emit_binary(imp, "Add", b, picked, out, hint), out, True))


def Cast(imp, node):
    """ONNX Cast on the data path: to a float type it relabels (a 0/1 mask
    or integers become reals of scale 1; a float stays as it is); to an
    integer type only from an integer (the same integers)."""
    x = imp.act(node.input[0])
    to = helper.tensor_dtype_to_np_dtype(node_attrs(node)["to"])
    if to.kind == "f":
        imp.set(node.output[0], _as_real(x) if not x.is_float else x)
    elif not x.is_float and to.kind in "iub" and (to.kind != "b" or (x.spec.lo >= 0 and x.spec.hi <= 1)):
        imp.set(node.output[0], x)
    else:
        raise imp.unsupported(node, f"from a quantized float to {to} is not supported (a float to integer or bool "
                                    "conversion of a computed tensor)")


def Relu(imp, node):
    x = imp.act(node.input[0])
    if x.spec.lo >= x.zero_point:  # already clamped by the producer's Requantize: nothing to prove
        imp.set(node.output[0], x)
        return
    imp.set(node.output[0], x.with_spec(imp.b.emit("Relu", [x.spec], node.name or node.output[0],
                                                  zero_point=x.zero_point)))


def Clip(imp, node):
    x = imp.act(node.input[0])
    at = node_attrs(node)
    lo_f = imp.opt_const(node, 1, np.asarray(at.get("min", -np.inf)))
    hi_f = imp.opt_const(node, 2, np.asarray(at.get("max", np.inf)))
    if x.is_float:
        qp = x.qparams
        lo = int(qp.quantize(lo_f)) if np.isfinite(lo_f) else x.spec.lo
        hi = int(qp.quantize(hi_f)) if np.isfinite(hi_f) else x.spec.hi
    else:
        lo, hi = int(max(lo_f, x.spec.lo)), int(min(hi_f, x.spec.hi))
    if x.spec.lo >= lo and x.spec.hi <= hi:
        imp.set(node.output[0], x)
        return
    imp.set(node.output[0], x.with_spec(imp.b.emit("Clip", [x.spec], node.name or node.output[0], lo=lo, hi=hi)))


def emit_table(imp, x: Act, x_scale: float, x_zp: int, out: QParams, fn, label: str, hint: str) -> TensorSpec:
    """values[q - lo] = quantize_out(fn(dequantize_in(q))) for every q in x's range."""
    domain = np.arange(x.spec.lo, x.spec.hi + 1, dtype=np.int64)
    real = (domain - x_zp).astype(np.float32) * np.float32(x_scale)
    with np.errstate(all="ignore"):
        y = np.asarray(fn(real.astype(np.float64)), dtype=np.float64)
    # Outside a function's domain (Sqrt or Log of a negative input, 1/0) ONNX
    # gives NaN or an infinity, which no integer holds: NaN becomes 0 and an
    # infinity saturates to the end of the output's range.
    edge = (out.qmax - out.qmin + 1) * float(out.scale)
    y = np.clip(np.nan_to_num(y, nan=0.0), (out.qmin - out.zero_point) * out.scale - edge,
                (out.qmax - out.zero_point) * out.scale + edge)
    values = out.quantize(y.astype(np.float32))
    return imp.b.emit("Table", [x.spec], hint, function=label, in_min=int(domain[0]), values=values)


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _gelu(approximate: str):
    if approximate == "tanh":
        return lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))
    return lambda v: 0.5 * v * (1 + _erf(v / math.sqrt(2)))


def _table_op(label, make_fn):
    def convert(imp, node):
        x = imp.act(node.input[0])
        if not x.is_float or x.scale is None:
            raise imp.fail("input must be a quantized float tensor")
        out = imp.out_qparams(node.output[0])
        fn = make_fn(node_attrs(node))
        imp.set(node.output[0], _out(emit_table(imp, x, x.scale, x.zero_point, out, fn, label,
                                                node.name or node.output[0]), out, True))

    convert.__doc__ = f"ONNX {label}: a lookup table over the input's integer range."
    return convert


def _named(name, convert):
    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = f"ONNX {name}: a lookup table over the input's integer range."
    return convert


def _decode(v, default):
    return v.decode() if isinstance(v, bytes) else (v if v is not None else default)


Sigmoid = _table_op("sigmoid", lambda at: _sigmoid)
Tanh = _table_op("tanh", lambda at: np.tanh)
Exp = _table_op("exp", lambda at: np.exp)
Erf = _table_op("erf", lambda at: _erf)
Gelu = _table_op("gelu", lambda at: _gelu(_decode(at.get("approximate"), "none")))
LeakyRelu = _table_op("leaky_relu", lambda at: (lambda v, a=at.get("alpha", 0.01): np.where(v >= 0, v, a * v)))

_SELU_ALPHA, _SELU_GAMMA = 1.67326319217681884765625, 1.05070102214813232421875


def _softplus(v):
    return np.logaddexp(0.0, v)


def _hard_sigmoid(alpha, beta):
    return lambda v: np.clip(alpha * v + beta, 0.0, 1.0)


Elu = _named("Elu", _table_op("elu", lambda at: (lambda v, a=at.get("alpha", 1.0): np.where(v < 0, a * np.expm1(v), v))))
Selu = _named("Selu", _table_op("selu", lambda at: (
    lambda v, a=at.get("alpha", _SELU_ALPHA), g=at.get("gamma", _SELU_GAMMA): g * np.where(v > 0, v, a * np.expm1(v)))))
Celu = _named("Celu", _table_op("celu", lambda at: (
    lambda v, a=at.get("alpha", 1.0): np.maximum(v, 0.0) + np.minimum(0.0, a * np.expm1(v / a)))))
Softplus = _named("Softplus", _table_op("softplus", lambda at: _softplus))
Softsign = _named("Softsign", _table_op("softsign", lambda at: (lambda v: v / (1.0 + np.abs(v)))))
HardSigmoid = _named("HardSigmoid", _table_op("hard_sigmoid", lambda at: _hard_sigmoid(at.get("alpha", 0.2), at.get("beta", 0.5))))
HardSwish = _named("HardSwish", _table_op("hard_swish", lambda at: (lambda v: v * _hard_sigmoid(1 / 6, 0.5)(v))))
Mish = _named("Mish", _table_op("mish", lambda at: (lambda v: v * np.tanh(_softplus(v)))))
Sqrt = _named("Sqrt", _table_op("sqrt", lambda at: np.sqrt))
Log = _named("Log", _table_op("log", lambda at: np.log))
Reciprocal = _named("Reciprocal", _table_op("reciprocal", lambda at: (lambda v: 1.0 / v)))
Neg = _named("Neg", _table_op("neg", lambda at: np.negative))
Abs = _named("Abs", _table_op("abs", lambda at: np.abs))
Round = _named("Round", _table_op("round", lambda at: np.rint))  # ONNX Round: halves to even, as rint
Sign = _named("Sign", _table_op("sign", lambda at: np.sign))


def Pow(imp, node):
    """ONNX Pow with a constant scalar exponent: a lookup table of x^e over
    the input's integer range (a negative base with a fractional exponent,
    NaN in ONNX, gives 0)."""
    if not imp.is_const(node.input[1]):
        raise imp.unsupported(node, "with a computed exponent is not supported (the exponent must be a constant)")
    e = np.asarray(imp.const(node.input[1], "exponent"), dtype=np.float64)
    if e.size != 1:
        raise imp.unsupported(node, f"with an exponent of shape {e.shape} is not supported (a scalar only)")
    exponent = float(e.reshape(-1)[0])
    _table_op("pow", lambda at: (lambda v: np.power(v, exponent)))(imp, node)


def PRelu(imp, node):
    """ONNX PRelu with a constant slope. One slope value: a lookup table.
    A slope varying along the tensor: Relu(x) + slope * min(x, 0), the
    negative part by Clip at the zero point and a Mul by the slope weight,
    requantized (two roundings instead of one)."""
    if not imp.is_const(node.input[1]):
        raise imp.unsupported(node, "with a computed slope is not supported (the slope must be a constant)")
    slope = np.asarray(imp.const(node.input[1], "slope"), dtype=np.float64)
    x = imp.act(node.input[0])
    if not x.is_float or x.scale is None:
        raise imp.fail("input must be a quantized float tensor")
    try:
        slope = np.broadcast_to(slope, x.shape) if slope.ndim <= len(x.shape) else None
    except ValueError:
        slope = None
    if slope is None:
        raise imp.unsupported(node, "with a slope that does not broadcast to the input is not supported")
    if np.all(slope == slope.reshape(-1)[0]):
        a = float(slope.reshape(-1)[0])
        _table_op("prelu", lambda at: (lambda v: np.where(v >= 0, v, a * v)))(imp, node)
        return
    hint = node.name or node.output[0]
    bld = imp.b
    pos = x.with_spec(bld.emit("Relu", [x.spec], hint + "/pos", zero_point=x.zero_point))
    neg = x.with_spec(bld.emit("Clip", [x.spec], hint + "/neg", lo=x.spec.lo, hi=x.zero_point))
    s = imp.const_act(hint + "/slope", slope.astype(np.float32))
    lo_real = (x.spec.lo - x.zero_point) * x.scale
    corners = [lo_real * float(slope.min()), lo_real * float(slope.max()), 0.0]
    product = from_range(min(corners), max(corners))
    scaled = _out(emit_binary(imp, "Mul", neg, s, product, hint + "/scaled"), product, True)
    out = imp.out_qparams(node.output[0])
    imp.set(node.output[0], _out(emit_binary(imp, "Add", pos, scaled, out, hint), out, True))


def QuantizeLinear(imp, node):
    at = node_attrs(node)
    if at.get("block_size", 0):
        raise imp.unsupported(node, "with block_size (blocked quantization) is not supported")
    qp = imp._q_node_params(node)
    if qp is None:
        raise imp.unsupported(node, "with per-axis, non-constant or non-8/16-bit integer parameters is not supported")
    x = imp.act(node.input[0])
    if not x.is_float or x.scale is None:
        raise imp.fail("QuantizeLinear input must be a quantized float tensor")
    if x.qparams.same_as(qp):
        imp.set(node.output[0], Act(x.spec, qp.scale, qp.zero_point, (qp.qmin, qp.qmax), False))
        return
    spec = imp.b.requantize(x.spec, node.name or node.output[0], ratio=_ratio(imp, x.scale, qp.scale),
                            in_zero_point=x.zero_point, out_zero_point=qp.zero_point, out_range=(qp.qmin, qp.qmax),
                            exact_float32=imp.ort_exact)
    imp.set(node.output[0], _out(spec, qp, False))


def DequantizeLinear(imp, node):
    at = node_attrs(node)
    if at.get("block_size", 0):
        raise imp.unsupported(node, "with block_size (blocked quantization) is not supported")
    scale = np.asarray(imp.const(node.input[1]), dtype=np.float32)
    zp = np.asarray(imp.opt_const(node, 2, np.zeros((), np.int64)))
    if imp.is_const(node.input[0]):  # a quantized weight
        q = np.asarray(imp.values[node.input[0]])
        if q.dtype.kind not in "iu":
            raise imp.unsupported(node, f"on a {q.dtype} constant is not supported")
        imp.set(node.output[0], QConst(q, scale, zp, at.get("axis", 1)))
        return
    x = imp.act(node.input[0])
    if x.is_float:
        raise imp.fail("DequantizeLinear input must be an integer tensor")
    if scale.size != 1 or zp.size != 1:
        raise imp.unsupported(node, "with a per-axis scale on a computed tensor is not supported")
    imp.set(node.output[0], Act(x.spec, float(scale.reshape(())), int(zp.reshape(())), x.qrange, True))


# -- com.microsoft QOperator forms ----------------------------------------

def _qp_at(imp, node, si, zi) -> QParams:
    scale = np.asarray(imp.const(node.input[si]), dtype=np.float32)
    zp = np.asarray(imp.opt_const(node, zi, np.zeros((), np.uint8)))
    if scale.size != 1 or zp.size != 1:
        raise imp.unsupported(node, "with per-axis parameters is not supported")
    return QParams(float(scale.reshape(())), int(zp.reshape(())), *dtype_range(zp.dtype))


def _int_operand(imp, name: str, qp: QParams) -> Act:
    x = imp.act(name)
    return Act(x.spec, qp.scale, qp.zero_point, x.qrange, False)


def _qlinear_binary(op):
    def convert(imp, node):
        aq, bq, out = _qp_at(imp, node, 1, 2), _qp_at(imp, node, 4, 5), _qp_at(imp, node, 6, 7)
        a, b = _int_operand(imp, node.input[0], aq), _int_operand(imp, node.input[3], bq)
        imp.set(node.output[0], _out(emit_binary(imp, op, a, b, out, node.name or node.output[0]), out, False))

    convert.__doc__ = f"com.microsoft QLinear{op}: A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp."
    return convert


QLinearAdd, QLinearMul = _qlinear_binary("Add"), _qlinear_binary("Mul")


def _qlinear_table(label, make_fn):
    def convert(imp, node):
        xq, out = _qp_at(imp, node, 1, 2), _qp_at(imp, node, 3, 4)
        x = _int_operand(imp, node.input[0], xq)
        spec = emit_table(imp, x, xq.scale, xq.zero_point, out, make_fn(node_attrs(node)), label,
                          node.name or node.output[0])
        imp.set(node.output[0], _out(spec, out, False))

    return convert


QLinearSigmoid = _qlinear_table("sigmoid", lambda at: _sigmoid)
QLinearLeakyRelu = _qlinear_table(
    "leaky_relu", lambda at: (lambda v, a=at.get("alpha", 0.01): np.where(v >= 0, v, a * v)))


OPS = {
    ("ai.onnx", "Add"): Add, ("ai.onnx", "Sub"): Sub, ("ai.onnx", "Mul"): Mul, ("ai.onnx", "Div"): Div,
    ("ai.onnx", "Relu"): Relu, ("ai.onnx", "Expand"): Expand,
    ("ai.onnx", "Clip"): Clip, ("ai.onnx", "Sigmoid"): Sigmoid, ("ai.onnx", "Tanh"): Tanh, ("ai.onnx", "Exp"): Exp,
    ("ai.onnx", "Erf"): Erf, ("ai.onnx", "Gelu"): Gelu, ("ai.onnx", "LeakyRelu"): LeakyRelu,
    **{("ai.onnx", f.__name__): f for f in (Elu, Selu, Celu, Softplus, Softsign, HardSigmoid, HardSwish, Mish, Sqrt,
                                             Log, Reciprocal, Neg, Abs, Round, Sign, Pow, PRelu)},
    **{("ai.onnx", f.__name__): f for f in (Less, LessOrEqual, Greater, GreaterOrEqual, Equal, Where, Cast)},
    ("ai.onnx", "QuantizeLinear"): QuantizeLinear, ("ai.onnx", "DequantizeLinear"): DequantizeLinear,
    ("com.microsoft", "QLinearAdd"): QLinearAdd, ("com.microsoft", "QLinearMul"): QLinearMul,
    ("com.microsoft", "QLinearSigmoid"): QLinearSigmoid, ("com.microsoft", "QLinearLeakyRelu"): QLinearLeakyRelu,
}
