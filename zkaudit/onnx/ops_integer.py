"""Ops on computed integers, built from the IR's proven ops only (no advice
op, no new layer): integer division and remainder (ONNX `Div` and `Mod` on
integer tensors), and the embedding lookup (`Gather` from a constant table
by computed indices, at the end).

ONNX (as onnxruntime computes it) for integers a, c != 0:

    Div           a / c   truncated toward zero
    Mod fmod=0    a - c * floor(a / c)     (the sign of the divisor c)
    Mod fmod=1    a - c * trunc(a / c)     (the sign of the dividend a)

By a constant c, with C = |c|, everything is built on one exact floor
division F(x) = floor(x / C), a single rounding Requantize:

    x = q*C + r, 0 <= r < C   =>   (2x - C + 1) / (2C) = q + (2r - C + 1) / (2C)

and |2r - C + 1| <= C - 1, so rnd((2x - C + 1) / (2C)) = q with no tie. The
Requantize multiplies by m / 2^shift ~ 1/(2C) rather than by 1/(2C) itself;
the result is still q when max|2x - C + 1| * |m / 2^shift - 1/(2C)| < 1/(2C),
which `_floor_div` checks exactly (it holds for 31-bit multipliers up to
|x| < 2^30). The Requantize layer range-checks its rounding remainder, so q is
the only quotient a proof can carry; the remainder is then x - C*q by an exact
Requantize (multiplier C, shift 0) and a Sub, and a final Clip to the result's
true range (a no-op on the honest value, a range check in the proof) makes the
declared range tight. Truncation and the negative cases come from the
positive and negative parts p = max(a, 0), n = p - a (one of them is 0):

    trunc(a / C) = F(p) - F(n)                 fmod=1: (p - C F(p)) - (n - C F(n))
    fmod=0, c > 0: a - C F(a)                  fmod=0, c < 0: -((-a) - C F(-a))

and a negative divisor negates the truncated quotient.

Of two integer tensors a and b (elementwise: b computed, or a constant
tensor, committed as a weight) whose ranges hold Na and Nb integers with
Na * Nb <= 2^16: one lookup table over the pair,
indexed by k = (a - a_lo) * Nb + (b - b_lo) (an exact Requantize by Nb and an
Add). A divisor of 0 reads 0 (ONNX leaves it undefined; onnxruntime traps).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from zkaudit.circuit.fixed_point import multiplier_from_scale
from zkaudit.circuit.ops import MAX_GATHER_COLUMNS, MAX_TABLE_LOG_SIZE
from zkaudit.onnx.common import accumulate_and_requantize, weight
from zkaudit.onnx.importer import node_attrs
from zkaudit.onnx.quant import combined_scale, quantize_weights_per_channel
from zkaudit.onnx.values import Act, QConst


def _integer_operand(imp, node, name: str) -> Act:
    """An ONNX integer tensor: its circuit integers are its values (a QOperator
    tensor's scale says what they mean elsewhere, not here)."""
    x = imp.act(name)
    if x.is_float:
        raise imp.unsupported(node, "of a float tensor is not supported (integer tensors only: a float remainder "
                                    "has no exact integer form)" if node.op_type == "Mod" else
                                    "of a float tensor by an integer one is not supported")
    return x


def _constant_divisor(imp, node) -> int:
    c = np.asarray(imp.const(node.input[1], "divisor"))
    if c.dtype.kind not in "iu":
        raise imp.unsupported(node, "of integers by a non-integer constant is not supported")
    value = int(c.reshape(-1)[0])
    if value == 0:
        raise imp.unsupported(node, "by the constant 0 is not defined")
    return value


def _floor_div(imp, x, divisor: int, hint: str):
    """floor(x / divisor) for divisor > 0: one rounding Requantize, exact."""
    if divisor == 1:
        return x
    b = imp.b
    lifted = b.emit("Add", [x, x], hint + "/lift", a_zero_point=0, b_zero_point=divisor - 1)  # 2x - C + 1
    m, shift = multiplier_from_scale(1.0 / (2 * divisor))
    peak = max(abs(lifted.lo), abs(lifted.hi))
    if peak * abs(Fraction(m, 2**shift) - Fraction(1, 2 * divisor)) >= Fraction(1, 2 * divisor):
        raise imp.fail(f"integer division by {divisor} of values up to {x.hi} cannot be rounded exactly")
    lo, hi = x.lo // divisor, x.hi // divisor
    return b.emit("Requantize", [lifted], hint + "/floor", axis=0, in_zero_point=0, multiplier=[m], shift=[shift],
                  out_zero_point=0, out_min=lo, out_max=hi)


def _times(imp, x, factor: int, hint: str):
    """factor * x exactly (a Requantize with shift 0 rounds nothing)."""
    if factor == 1:
        return x
    return imp.b.emit("Requantize", [x], hint, axis=0, in_zero_point=0, multiplier=[factor], shift=[0],
                      out_zero_point=0, out_min=x.lo * factor, out_max=x.hi * factor)


def _sub(imp, a, b, hint: str):
    return imp.b.emit("Sub", [a, b], hint, a_zero_point=0, b_zero_point=0)


def _negated(imp, x, hint: str):
    """-x as (x - x) - x: two exact Subs."""
    return _sub(imp, _sub(imp, x, x, hint + "/zero"), x, hint)


def _rem(imp, x, divisor: int, hint: str):
    """x - divisor * floor(x / divisor), in [0, divisor)."""
    return _sub(imp, x, _times(imp, _floor_div(imp, x, divisor, hint), divisor, hint + "/times"), hint + "/rem")


def _parts(imp, a, hint: str):
    """(p, n) = (max(a, 0), max(-a, 0)), or None for n when a >= 0."""
    if a.lo >= 0:
        return a, None
    p = imp.b.emit("Relu", [a], hint + "/pos", zero_point=0) if a.hi > 0 else None
    if p is None:
        return None, _negated(imp, a, hint + "/neg")
    return p, _sub(imp, p, a, hint + "/neg")


def _exact(imp, y, lo: int, hi: int, hint: str):
    """`y` declared in [lo, hi], its true range: a Clip that never changes an honest value."""
    if y.lo >= lo and y.hi <= hi:
        return y
    return imp.b.emit("Clip", [y], hint, lo=lo, hi=hi)


def _truncated_quotient_range(a, c: int) -> tuple[int, int]:
    ends = [int(np.trunc(v / c)) for v in (a.lo, a.hi)] + ([0] if a.lo <= 0 <= a.hi else [])
    return min(ends), max(ends)


def _divide_by_constant(imp, node, a: Act, c: int, fmod: int | None):
    """`fmod` None: the quotient; 0 or 1: the remainder (ONNX Mod)."""
    hint = node.name or node.output[0]
    C = abs(c)
    if fmod is None:
        p, n = _parts(imp, a.spec, hint)
        qp = _floor_div(imp, p, C, hint + "/p") if p is not None else None
        qn = _floor_div(imp, n, C, hint + "/n") if n is not None else None
        if qn is None:
            q = qp if c > 0 else _negated(imp, qp, hint + "/sign")
        elif qp is None:
            q = _negated(imp, qn, hint + "/sign") if c > 0 else qn
        else:
            q = _sub(imp, qp, qn, hint + "/q") if c > 0 else _sub(imp, qn, qp, hint + "/q")
        lo, hi = _truncated_quotient_range(a.spec, c)
        if lo < a.qrange[0] or hi > a.qrange[1]:
            raise imp.unsupported(node, f"by {c}: the quotient leaves the dividend's integer range {a.qrange} "
                                        "(ONNX wraps around)")
        return _exact(imp, q, lo, hi, hint)
    if fmod == 1:  # the sign of the dividend
        p, n = _parts(imp, a.spec, hint)
        rp = _rem(imp, p, C, hint + "/p") if p is not None else None
        rn = _rem(imp, n, C, hint + "/n") if n is not None else None
        if rn is None:
            r = rp
        elif rp is None:
            r = _negated(imp, rn, hint + "/sign")
        else:
            r = _sub(imp, rp, rn, hint + "/r")
        lo, hi = (-(C - 1) if a.spec.lo < 0 else 0), (C - 1 if a.spec.hi > 0 else 0)
        return _exact(imp, r, lo, hi, hint)
    if c > 0:  # fmod=0: the sign of the divisor
        return _exact(imp, _rem(imp, a.spec, C, hint), 0, C - 1, hint)
    r = _negated(imp, _rem(imp, _negated(imp, a.spec, hint + "/neg"), C, hint), hint + "/sign")
    return _exact(imp, r, -(C - 1), 0, hint)


def _pair_table(imp, node, a: Act, b: Act, fmod: int | None):
    """Div/Mod of two computed integer tensors: one table over the pair."""
    hint = node.name or node.output[0]
    shape = tuple(int(d) for d in np.broadcast_shapes(a.shape, b.shape))
    a, b = (x if x.shape == shape else x.with_spec(imp.b.emit("Expand", [x.spec], x.spec.name + "/expand",
                                                              shape=shape)) for x in (a, b))
    na, nb = a.spec.hi - a.spec.lo + 1, b.spec.hi - b.spec.lo + 1
    if na * nb > 2**MAX_TABLE_LOG_SIZE:
        raise imp.unsupported(node, f"of two computed integer tensors is supported when their ranges hold at most "
                                    f"2^{MAX_TABLE_LOG_SIZE} pairs (here {na} x {nb})")
    if nb == 1:  # one possible divisor: the dividend alone is the key
        key, in_min = a.spec, a.spec.lo
    else:
        row = imp.b.emit("Requantize", [a.spec], hint + "/row", axis=0, in_zero_point=a.spec.lo, multiplier=[nb],
                         shift=[0], out_zero_point=0, out_min=0, out_max=(na - 1) * nb)
        key = imp.b.emit("Add", [row, b.spec], hint + "/pair", a_zero_point=0, b_zero_point=b.spec.lo)
        in_min = 0
    xs = np.repeat(np.arange(a.spec.lo, a.spec.hi + 1, dtype=np.int64), nb)
    ys = np.tile(np.arange(b.spec.lo, b.spec.hi + 1, dtype=np.int64), na)
    safe = np.where(ys == 0, 1, ys)
    trunc = np.where(ys == 0, 0, np.sign(xs) * np.sign(safe) * (np.abs(xs) // np.abs(safe)))
    if fmod is None:
        values, label = trunc, "div"
    elif fmod == 1:
        values, label = np.where(ys == 0, 0, xs - safe * trunc), "mod"
    else:
        values, label = np.where(ys == 0, 0, xs - safe * np.floor_divide(xs, safe)), "mod"
    if fmod is None and (values.min() < a.qrange[0] or values.max() > a.qrange[1]):
        raise imp.unsupported(node, f"a quotient leaves the dividend's integer range {a.qrange} (ONNX wraps around)")
    return imp.b.emit("Table", [key], hint, function=label, in_min=in_min, values=values)


def integer_div(imp, node) -> None:
    """ONNX Div of an integer tensor (`Div` in ops_elementwise sends it here)."""
    _divide(imp, node, None)


def Mod(imp, node):
    """ONNX Mod of integer tensors, fmod 0 (the divisor's sign) or 1 (the dividend's)."""
    fmod = int(node_attrs(node).get("fmod", 0))
    if fmod not in (0, 1):
        raise imp.fail(f"fmod={fmod}: ONNX allows 0 or 1")
    _divide(imp, node, fmod)


def _divide(imp, node, fmod: int | None) -> None:
    a = _integer_operand(imp, node, node.input[0])
    if imp.is_const(node.input[1]) and np.size(imp.const(node.input[1])) == 1:
        c = _constant_divisor(imp, node)
        if np.broadcast_shapes(a.shape, np.shape(imp.const(node.input[1]))) != a.shape:
            raise imp.unsupported(node, "broadcasting the dividend to the divisor's shape is not supported")
        y = _divide_by_constant(imp, node, a, c, fmod)
    else:
        if imp.is_const(node.input[1]) and np.asarray(imp.const(node.input[1])).dtype.kind not in "iu":
            raise imp.unsupported(node, "of integers by a non-integer constant is not supported")
        y = _pair_table(imp, node, a, _integer_operand(imp, node, node.input[1]), fmod)
    imp.set(node.output[0], Act(y, None, 0, a.qrange, False))


# -- an embedding: Gather from a constant table by computed indices ---------------

def embedding(imp, node) -> None:
    """ONNX Gather(data, indices) with `data` a constant (V, ...) table (a
    weight: an embedding) and `indices` a computed integer tensor of N cells,
    along axis 0, an index i in [-V, V-1] (negative counts from the end):

        j_n       = i_n mod V                    Table over the indices' range (only when it holds negatives)
        r[n, :]   = E[j_n, :]                    GatherRows of the int8 table E (per column scales)
        y         = Requantize(r)                per column, to the output's scale

    GatherRows proves each row is E's row j_n with one lookup against E as a
    committed table (an index outside [0, V) has no row: ONNX refuses it
    too), so the cost is N + V cells, not N * V; E stays private (a committed
    weight). Where the indices' range holds negatives and spans more than a
    Table's 2^16 entries, the one-hot construction (`_one_hot_rows`) is
    used instead: d[n, v] = i_n - v (a MatMul), h = [d == 0 or d == -V] (a
    Table), y = h @ E + Requantize, N * V cells twice."""
    hint = node.name or node.output[0]
    if node_attrs(node).get("axis", 0) != 0:
        raise imp.unsupported(node, "of a constant table by computed indices is supported along axis 0 only (an "
                                    "embedding)")
    idx = imp.act(node.input[1])
    if idx.is_float:
        raise imp.fail("indices must be an integer tensor")
    data = imp.values[node.input[0]]
    table_shape = tuple(np.shape(data.values if isinstance(data, QConst) else data))
    if len(table_shape) < 2:
        raise imp.unsupported(node, f"of a {len(table_shape)}-D table by computed indices is not supported (rows of "
                                    "an embedding table: 2-D or more)")
    rows, width = table_shape[0], int(np.prod(table_shape[1:]))
    if idx.spec.lo < -rows or idx.spec.hi > rows - 1:
        raise imp.fail(f"indices range over [{idx.spec.lo}, {idx.spec.hi}], beyond the table's {rows} rows")
    if isinstance(data, QConst) and len(table_shape) == 2:
        w_int, w_scales = weight(imp, node.input[0], 1)
    else:
        w_int, w_scales = quantize_weights_per_channel(imp.const(node.input[0], "table").reshape(rows, width), 1)
    b = imp.b
    n = idx.spec.size
    out = imp.out_qparams(node.output[0])
    shape = idx.shape + table_shape[1:]
    lo, hi = int(idx.spec.lo), int(idx.spec.hi)
    if lo < 0 and hi - lo + 1 > 1 << MAX_TABLE_LOG_SIZE:
        y = _one_hot_rows(imp, idx, rows, w_int, w_scales, out, hint)
        imp.set(node.output[0], y.with_spec(b.emit("Reshape", [y.spec], hint, shape=shape)))
        return
    flat = idx.spec if idx.shape == (n,) else b.emit("Reshape", [idx.spec], hint + "/flat", shape=(n,))
    if lo < 0:
        flat = b.emit("Table", [flat], hint + "/index", function="mod", in_min=lo,
                      values=tuple(v % rows for v in range(lo, hi + 1)))
    # a GatherRows table has at most 63 columns (its lookup's width with the index): wider tables in blocks
    blocks = -(-width // MAX_GATHER_COLUMNS)
    edges = [width * k // blocks for k in range(blocks + 1)]
    parts = [b.emit("GatherRows", [b.add_weight(hint + (f"/W{k}" if blocks > 1 else "/W"), w_int[:, lo_:hi_]), flat],
                    hint + (f"/rows{k}" if blocks > 1 else "/rows"))
             for k, (lo_, hi_) in enumerate(zip(edges, edges[1:]))]
    taken = parts[0] if blocks == 1 else b.emit("Concat", parts, hint + "/rows", axis=1)
    ratio = combined_scale(1.0, w_scales, out.scale, float32=imp.ort_exact)
    y = b.requantize(taken, hint + "/rows_taken", ratio=ratio, in_zero_point=0, out_zero_point=out.zero_point,
                     out_range=(out.qmin, out.qmax), axis=1, exact_float32=imp.ort_exact)
    imp.set(node.output[0], Act(y, out.scale, out.zero_point, (out.qmin, out.qmax), True).with_spec(
        b.emit("Reshape", [y], hint, shape=shape)))


def _one_hot_rows(imp, idx, rows: int, w_int, w_scales, out, hint: str) -> Act:
    """E's rows at the indices by a one-hot: (N, V) cells twice (see `embedding`)."""
    b = imp.b
    n = idx.spec.size
    column = idx.spec if idx.shape == (n, 1) else b.emit("Reshape", [idx.spec], hint + "/column", shape=(n, 1))
    diff = b.emit("MatMul", [column, b.add_weight(hint + "/ones", np.ones((1, rows), np.int64)),
                             b.add_weight(hint + "/rows", -np.arange(rows, dtype=np.int64))],
                  hint + "/diff", a_zero_point=0, b_zero_point=0)
    domain = np.arange(diff.lo, diff.hi + 1, dtype=np.int64)
    one_hot = b.emit("Table", [diff], hint + "/one_hot", function="sign", in_min=int(domain[0]),
                     values=((domain == 0) | (domain == -rows)).astype(np.int64))
    return accumulate_and_requantize(imp, "MatMul", Act(one_hot, 1.0, 0, (0, 1), True), w_int, None, x_scale=1.0,
                                     w_scales=w_scales, out=out, hint=hint + "/rows_taken", channel_axis=1)


OPS = {("ai.onnx", "Mod"): Mod}
