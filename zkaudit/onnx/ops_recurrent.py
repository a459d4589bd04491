"""Recurrent layers (RNN, GRU, LSTM) unrolled over their fixed sequence
length onto existing IR ops. Per step t and gate g:

    pre_g = x_t W_g^T + b_g  (+)  h_{t-1} R_g^T        two MatMuls (int8 weights per
                                                        tensor), Add + Requantize into
                                                        a 10-bit grid over [-8, 8]
    act_g = table(pre_g)                                sigmoid or tanh (Table)
    LSTM  c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)            Mul, Add, Table
    GRU   n = tanh(x W_n^T + (r * h) R_n^T + b)  (or r * (h R_n^T + Rb_n)),
          h_t = n + z * (h_{t-1} - n)                                 Mul, Sub, Add

x_t is the input's step t, a selection along the sequence axis. Every
intermediate has fixed parameters, not calibrated ones (the ONNX node hides
them): gate pre-activations saturate at +-8, where sigmoid and tanh are
within 3.4e-4 of their limits; hidden states lie in [-1, 1]; an LSTM cell
state in [-(|c_0| + t), |c_0| + t] (12-bit). Y stacks the hidden states
(Concat), Y_h / Y_c are the last ones."""

from __future__ import annotations

import numpy as np

from zkaudit.onnx.importer import node_attrs
from zkaudit.onnx.ops_elementwise import _out, emit_binary, emit_table
from zkaudit.onnx.ops_shape import select_along
from zkaudit.onnx.quant import QParams, from_range
from zkaudit.onnx.values import Act

GATE = QParams(8.0 / 511, 0, -511, 511)  # pre-activations: 10 bits over [-8, 8]
UNIT = from_range(-1.0, 1.0)  # tanh outputs and hidden states
PROB = from_range(0.0, 1.0)  # sigmoid outputs
CELL_BITS = 12
WEIGHT_MAX = (1 << 15) - 1  # recurrent weights: 16-bit, at the scale that makes both MatMuls add up

_FUNCTIONS = {"Sigmoid": ("sigmoid", lambda v: 1.0 / (1.0 + np.exp(-v)), PROB), "Tanh": ("tanh", np.tanh, UNIT)}


def _decoded(v):
    return v.decode() if isinstance(v, bytes) else v


class _Cell:
    """What one direction of a recurrent node needs: weights per gate,
    biases, activations, and the emit helpers."""

    def __init__(self, imp, node, x: Act, gates: int, hidden: int, direction: int, hint: str):
        self.imp, self.node, self.hint, self.hidden = imp, node, hint, hidden
        w = np.asarray(imp.const(node.input[1], "W"), dtype=np.float64)[direction]
        r = np.asarray(imp.const(node.input[2], "R"), dtype=np.float64)[direction]
        b = np.zeros(2 * gates * hidden)
        if len(node.input) > 3 and node.input[3]:
            b = np.asarray(imp.const(node.input[3], "B"), dtype=np.float64)[direction]
        self.w = [w[g * hidden:(g + 1) * hidden] for g in range(gates)]
        self.r = [r[g * hidden:(g + 1) * hidden] for g in range(gates)]
        self.wb = [b[g * hidden:(g + 1) * hidden] for g in range(gates)]
        self.rb = [b[(gates + g) * hidden:(gates + g + 1) * hidden] for g in range(gates)]
        self.x = x
        self._weights: dict = {}

    def weight(self, hint: str, values: np.ndarray, context: tuple = ()):
        """One committed tensor per weight role: every step of the unrolled
        layer multiplies by the same W, R, P and biases, and each MatMul's
        claim on a shared tensor is opened like any other, so a GRU over 24
        steps commits its weights once, not 24 times. The key is the role
        (the hint without its step, `t7/z/x/W` -> `z/x/W`) and the step's
        structure (`context`: whether h_{t-1} and c_{t-1} exist, which sets
        the accumulator scale), never the values: the public circuit must
        read weights in a pattern that says nothing about them (two gates
        with equal weights still get two tensors). Within a key the values
        are equal by construction; a difference is a bug here."""
        values = np.asarray(values, dtype=np.int64)
        parts = hint[len(self.hint) + 1:].split("/")  # every hint is this cell's hint + "/" + tag
        if parts[0][:1] == "t" and parts[0][1:].isdigit():
            parts = parts[1:]
        role = "/".join(parts)
        key = (role, context, values.shape)
        hit = self._weights.get(key)
        if hit is None:
            spec = self.imp.b.add_weight(hint, values)
            self._weights[key] = (spec, values)
            return spec
        spec, first = hit
        if not np.array_equal(first, values):
            raise ValueError(f"recurrent weight {role!r} differs between steps")  # a bug in this module
        return spec

    def pre(self, x_t: Act, h: Act | None, g: int, tag: str, *, h_bias=True, out: QParams = None,
            peephole=None) -> Act:
        """x_t W_g^T + Wb_g (+ h R_g^T + Rb_g) (+ p * c, an LSTM peephole
        `(p, c)`) on the GATE grid: every term accumulates at one scale S
        (W, R and p quantized to 16 bits at S / s_x, S / s_h, S / s_c), so
        raw Adds and one Requantize suffice."""
        out = out or GATE
        bias = self.wb[g] + (self.rb[g] if h_bias else 0)
        w, r = self.w[g], self.r[g]
        p, c = peephole if peephole is not None else (None, None)
        peak = max(float(np.max(np.abs(w))) * float(x_t.scale),
                   float(np.max(np.abs(r))) * float(h.scale) if h is not None else 0.0,
                   float(np.max(np.abs(p))) * float(c.scale) if c is not None else 0.0, 1e-12)
        s = peak / WEIGHT_MAX
        b = self.imp.b
        context = (h is not None, c is not None)
        acc = self.accumulate(x_t, w, s / float(x_t.scale), bias, s, f"{tag}/x", context)
        if h is not None:
            hp = self.accumulate(h, r, s / float(h.scale), None, s, f"{tag}/h", context)
            acc = b.emit("Add", [acc, hp], f"{self.hint}/{tag}/sum", a_zero_point=0, b_zero_point=0)
        if c is not None:
            p_int = np.clip(np.rint(p * float(c.scale) / s), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int64)
            p_w = self.weight(f"{self.hint}/{tag}/P", np.broadcast_to(p_int, c.shape).copy(), context)
            pc = b.emit("Mul", [c.spec, p_w], f"{self.hint}/{tag}/peep", a_zero_point=c.zero_point, b_zero_point=0)
            acc = b.emit("Add", [acc, pc], f"{self.hint}/{tag}/sum_p", a_zero_point=0, b_zero_point=0)
        return self.requantized(Act(acc, s, 0, (acc.lo, acc.hi), True), out, f"{tag}/pre")

    def accumulate(self, a: Act, weight: np.ndarray, w_scale: float, bias, acc_scale: float, tag: str,
                   context: tuple = ()):
        """(a - za) @ round(weight^T / w_scale) (+ round(bias / acc_scale)): a raw int32 spec."""
        w_int = np.clip(np.rint(weight.T / w_scale), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int64)
        ins = [a.spec, self.weight(f"{self.hint}/{tag}/W", w_int, context)]
        if bias is not None:
            b_int = np.rint(np.asarray(bias) / acc_scale).astype(np.int64)
            ins.append(self.weight(f"{self.hint}/{tag}/B", b_int, context))
        return self.imp.b.emit("MatMul", ins, f"{self.hint}/{tag}", a_zero_point=a.zero_point, b_zero_point=0)

    def project(self, a: Act, weight: np.ndarray, bias, tag: str) -> Act:
        """a @ weight^T (+ bias): raw int32 at scale s_a * s_w (per-tensor int8 weight)."""
        peak = float(np.max(np.abs(weight))) if weight.size else 0.0
        s_w = peak / 127 if peak > 0 else 1.0
        w_int = np.clip(np.rint(weight.T / s_w), -127, 127).astype(np.int64)
        ins = [a.spec, self.weight(f"{self.hint}/{tag}/W", w_int)]
        scale = float(a.scale) * s_w
        if bias is not None:
            b_int = np.rint(np.asarray(bias) / scale).astype(np.int64)
            ins.append(self.weight(f"{self.hint}/{tag}/B", b_int))
        spec = self.imp.b.emit("MatMul", ins, f"{self.hint}/{tag}", a_zero_point=a.zero_point, b_zero_point=0)
        return Act(spec, scale, 0, (spec.lo, spec.hi), True)

    def requantized(self, a: Act, out: QParams, tag: str) -> Act:
        spec = self.imp.b.requantize(a.spec, f"{self.hint}/{tag}", ratio=a.scale / out.scale,
                                     in_zero_point=a.zero_point, out_zero_point=out.zero_point,
                                     out_range=(out.qmin, out.qmax))
        return _out(spec, out, True)

    def binary(self, op: str, a: Act, b: Act, out: QParams, tag: str) -> Act:
        return _out(emit_binary(self.imp, op, a, b, out, f"{self.hint}/{tag}"), out, True)

    def act(self, a: Act, fn: str, tag: str, out: QParams | None = None, negate: bool = False) -> Act:
        """fn(a) (or fn(-a): 1 - sigmoid(x) = sigmoid(-x)) as a Table into `out` (default: fn's range)."""
        label, f, default = _FUNCTIONS[fn]
        out = out or default
        g = (lambda v: f(-v)) if negate else f
        return _out(emit_table(self.imp, a, a.scale, a.zero_point, out, g, label, f"{self.hint}/{tag}"), out, True)

    def products_sum(self, pairs, out: QParams, tag: str) -> Act:
        """sum of a_k * b_k, all products at one scale (checked), one Requantize into `out`."""
        b = self.imp.b
        scales = {np.float32(np.float32(x.scale) * np.float32(y.scale)) for x, y in pairs}
        if len(scales) != 1:
            raise ValueError(f"products at different scales: {scales}")  # a bug in this module, not the model
        acc = None
        for k, (x, y) in enumerate(pairs):
            p = b.emit("Mul", [x.spec, y.spec], f"{self.hint}/{tag}/p{k}", a_zero_point=x.zero_point,
                       b_zero_point=y.zero_point)
            acc = p if acc is None else b.emit("Add", [acc, p], f"{self.hint}/{tag}/s{k}", a_zero_point=0,
                                               b_zero_point=0)
        scale = float(pairs[0][0].scale) * float(pairs[0][1].scale)
        return self.requantized(Act(acc, scale, 0, (acc.lo, acc.hi), True), out, tag)


def _activations(imp, node, count: int) -> list[str]:
    at = node_attrs(node)
    names = [_decoded(a) for a in at.get("activations", [])]
    if names and (len(names) % count or any(n not in _FUNCTIONS for n in names)):
        raise imp.unsupported(node, f"with activations {names} is not supported (Sigmoid and Tanh only, one set "
                                    "per direction)")
    return names


def _common(imp, node, gates: int):
    """(x as (seq, batch, input), hidden, directions, hint) after the checks
    every recurrent op shares."""
    at = node_attrs(node)
    if at.get("layout", 0):
        raise imp.unsupported(node, "with layout=1 (batch first) is not supported")
    if at.get("clip") is not None:
        raise imp.unsupported(node, "with clip is not supported")
    for i, what in ((1, "W"), (2, "R"), (3, "B")):
        if len(node.input) > i and node.input[i] and not imp.is_const(node.input[i]):
            raise imp.unsupported(node, f"with a computed {what} is not supported (weights must be constants)")
    x = imp.act(node.input[0])
    if x.scale is None or len(x.shape) != 3:
        raise imp.fail(f"X must be a quantized float tensor (seq, batch, input), got {x.shape}")
    if len(node.input) > 4 and node.input[4]:
        lens = np.asarray(imp.const(node.input[4], "sequence_lens")).reshape(-1)
        if np.any(lens != x.shape[0]):
            raise imp.unsupported(node, "with sequence_lens shorter than the sequence is not supported")
    direction = _decoded(at.get("direction", "forward"))
    dirs = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}.get(direction)
    if dirs is None:
        raise imp.fail(f"unknown direction {direction!r}")
    return x, int(at["hidden_size"]), dirs, node.name or node.output[0]


def _initial(imp, node, index: int, cell: _Cell, direction: int, out: QParams, tag: str) -> Act | None:
    """initial_h / initial_c of one direction on `out`'s grid, or None for zeros."""
    if len(node.input) <= index or not node.input[index]:
        return None
    name = node.input[index]
    if imp.is_const(name):
        v = np.asarray(imp.const(name), dtype=np.float64)[direction]
        if not np.any(v):
            return None
    a = imp.act(name)
    if len(a.shape) == 3:
        a = select_along(imp, a, 0, [direction], f"{cell.hint}/{tag}/dir")
        a = a.with_spec(imp.b.emit("Reshape", [a.spec], f"{cell.hint}/{tag}/2d", shape=a.shape[1:]))
    return cell.requantized(a, out, tag)


def _steps(imp, x: Act, reverse: bool, hint: str):
    seq, batch, features = x.shape
    order = range(seq - 1, -1, -1) if reverse else range(seq)
    for t in order:
        x_t = select_along(imp, x, 0, [t], f"{hint}/x{t}")
        yield t, x_t.with_spec(imp.b.emit("Reshape", [x_t.spec], f"{hint}/x{t}/2d", shape=(batch, features)))


def _outputs(imp, node, hs: list[list[Act]], last: list[dict], hint: str) -> None:
    """Y (seq, dirs, batch, hidden) from the per-step hidden states, and the
    last states (Y_h, Y_c)."""
    b = imp.b
    seq = len(hs[0])
    batch, hidden = hs[0][0].shape
    if len(node.output) > 0 and node.output[0]:
        cells = [b.emit("Reshape", [hs[d][t].spec], f"{hint}/Y{t}/{d}", shape=(1, 1, batch, hidden))
                 for t in range(seq) for d in range(len(hs))]  # time-major, then direction
        spec = cells[0] if len(cells) == 1 else b.emit("Concat", cells, f"{hint}/Y", axis=0)
        if len(hs) > 1:
            spec = b.emit("Reshape", [spec], f"{hint}/Y/dirs", shape=(seq, len(hs), batch, hidden))
        imp.set(node.output[0], _out(spec, UNIT, True))
    for index, key in ((1, "h"), (2, "c")):
        if len(node.output) > index and node.output[index]:
            states = [s[key] for s in last]
            parts = [b.emit("Reshape", [s.spec], f"{hint}/Y_{key}/{d}", shape=(1, batch, hidden))
                     for d, s in enumerate(states)]
            spec = parts[0] if len(parts) == 1 else b.emit("Concat", parts, f"{hint}/Y_{key}", axis=0)
            imp.set(node.output[index], _out(spec, states[0].qparams, True))


def _cell_grid(bound: float) -> QParams:
    top = (1 << (CELL_BITS - 1)) - 1
    return QParams(max(bound, 1e-6) / top, 0, -top, top)


def LSTM(imp, node):
    """ONNX LSTM (gates i, o, f, c; peepholes P; input_forget 0)."""
    x, hidden, dirs, hint = _common(imp, node, 4)
    at = node_attrs(node)
    if at.get("input_forget", 0):
        raise imp.unsupported(node, "with input_forget=1 is not supported")
    peep = None
    if len(node.input) > 7 and node.input[7]:
        if not imp.is_const(node.input[7]):
            raise imp.unsupported(node, "with computed peephole weights P is not supported")
        peep = np.asarray(imp.const(node.input[7], "P"), dtype=np.float64)
    acts = _activations(imp, node, 3) or ["Sigmoid", "Tanh", "Tanh"] * len(dirs)
    hs, last = [], []
    for d, reverse in enumerate(dirs):
        f_act, g_act, h_act = acts[3 * d:3 * d + 3]
        tag = f"{hint}/d{d}"
        cell = _Cell(imp, node, x, 4, hidden, d, tag)
        h = _initial(imp, node, 5, cell, d, UNIT, "h0")
        c0 = _initial(imp, node, 6, cell, d, from_range(-8.0, 8.0), "c0")
        c0_peak = 0.0 if c0 is None else max(abs(c0.spec.lo), abs(c0.spec.hi)) * c0.scale
        grid = _cell_grid(c0_peak + x.shape[0])  # |c_t| <= |c_0| + t: one grid for every step
        c = None if c0 is None else cell.requantized(c0, grid, "c0/grid")
        g_grid = QParams(grid.scale, 0, -int(np.ceil(1 / grid.scale)), int(np.ceil(1 / grid.scale)))
        out_h = []
        for t, x_t in _steps(imp, x, reverse, tag):
            s = f"t{t}"
            # peepholes P = [p_i, p_o, p_f]: i and f see c_{t-1}, o sees c_t
            pk = [None if peep is None else peep[d][k * hidden:(k + 1) * hidden] for k in range(3)]
            i = cell.act(cell.pre(x_t, h, 0, f"{s}/i", peephole=None if c is None or pk[0] is None else (pk[0], c)),
                         f_act, f"{s}/i/act")
            f = cell.act(cell.pre(x_t, h, 2, f"{s}/f", peephole=None if c is None or pk[2] is None else (pk[2], c)),
                         f_act, f"{s}/f/act")
            g = cell.act(cell.pre(x_t, h, 3, f"{s}/g"), g_act, f"{s}/g/act", out=g_grid)  # on the cell's scale
            pairs = [(i, g)] if c is None else [(f, c), (i, g)]  # f * c and i * g at one scale
            c = cell.products_sum(pairs, grid, f"{s}/c")
            o = cell.act(cell.pre(x_t, h, 1, f"{s}/o", peephole=None if pk[1] is None else (pk[1], c)),
                         f_act, f"{s}/o/act")
            h = cell.products_sum([(o, cell.act(c, h_act, f"{s}/c/act"))], UNIT, f"{s}/h")
            out_h.append(h)
        hs.append(out_h[::-1] if reverse else out_h)
        last.append({"h": h, "c": c})
    _outputs(imp, node, hs, last, hint)


def GRU(imp, node):
    """ONNX GRU (gates z, r, h; linear_before_reset 0 or 1)."""
    x, hidden, dirs, hint = _common(imp, node, 3)
    lbr = node_attrs(node).get("linear_before_reset", 0)
    acts = _activations(imp, node, 2) or ["Sigmoid", "Tanh"] * len(dirs)
    hs, last = [], []
    for d, reverse in enumerate(dirs):
        f_act, g_act = acts[2 * d:2 * d + 2]
        tag = f"{hint}/d{d}"
        cell = _Cell(imp, node, x, 3, hidden, d, tag)
        h = _initial(imp, node, 5, cell, d, UNIT, "h0")
        out_h = []
        for t, x_t in _steps(imp, x, reverse, tag):
            s = f"t{t}"
            z_pre = cell.pre(x_t, h, 0, f"{s}/z")
            z = cell.act(z_pre, f_act, f"{s}/z/act")
            if h is None and not (lbr and np.any(cell.rb[2])):  # r * (0 R + Rb) or (r * 0) R + Rb: no r
                n_pre = cell.pre(x_t, None, 2, f"{s}/n", h_bias=True)
            elif lbr:
                xp = cell.project(x_t, cell.w[2], cell.wb[2], f"{s}/n/x")
                if h is None:  # h R_n^T + Rb_n = Rb_n, a constant of the batch's shape
                    hp = imp.const_act(f"{s}/n/rb", np.broadcast_to(cell.rb[2], z.shape).astype(np.float32))
                else:
                    hp = cell.requantized(cell.project(h, cell.r[2], cell.rb[2], f"{s}/n/h"), GATE, f"{s}/n/hg")
                r = cell.act(cell.pre(x_t, h, 1, f"{s}/r"), f_act, f"{s}/r/act")
                rh = cell.binary("Mul", r, hp, GATE, f"{s}/n/rh")
                n_pre = cell.binary("Add", xp, rh, GATE, f"{s}/n/pre")
            else:
                r = cell.act(cell.pre(x_t, h, 1, f"{s}/r"), f_act, f"{s}/r/act")
                rh = cell.products_sum([(r, h)], UNIT, f"{s}/n/rh")
                n_pre = cell.pre(x_t, rh, 2, f"{s}/n")
            n = cell.act(n_pre, g_act, f"{s}/n/act")
            # h_t = (1 - z) * n + z * h_{t-1}; 1 - sigmoid(v) = sigmoid(-v), a second table of z's input
            keep = cell.act(z_pre, f_act, f"{s}/z/keep", negate=True) if f_act == "Sigmoid" else None
            if keep is None:
                raise imp.unsupported(node, "with an update gate other than Sigmoid is not supported")
            pairs = [(keep, n)] if h is None else [(keep, n), (z, h)]
            h = cell.products_sum(pairs, UNIT, f"{s}/h")
            out_h.append(h)
        hs.append(out_h[::-1] if reverse else out_h)
        last.append({"h": h})
    _outputs(imp, node, hs, last, hint)


def RNN(imp, node):
    """ONNX RNN: h_t = f(x_t W^T + h_{t-1} R^T + Wb + Rb), f Tanh (default) or Sigmoid."""
    x, hidden, dirs, hint = _common(imp, node, 1)
    acts = _activations(imp, node, 1) or ["Tanh"] * len(dirs)
    hs, last = [], []
    for d, reverse in enumerate(dirs):
        tag = f"{hint}/d{d}"
        cell = _Cell(imp, node, x, 1, hidden, d, tag)
        h = _initial(imp, node, 5, cell, d, UNIT, "h0")
        out_h = []
        for t, x_t in _steps(imp, x, reverse, tag):
            h = cell.act(cell.pre(x_t, h, 0, f"t{t}"), acts[d], f"t{t}/act")
            if h.qparams != UNIT:  # a Sigmoid's output, on [0, 1]: moved to the hidden grid
                h = cell.requantized(h, UNIT, f"t{t}/h")
            out_h.append(h)
        hs.append(out_h[::-1] if reverse else out_h)
        last.append({"h": h})
    _outputs(imp, node, hs, last, hint)


OPS = {("ai.onnx", f.__name__): f for f in (RNN, GRU, LSTM)}
