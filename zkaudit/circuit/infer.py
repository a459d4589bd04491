"""Shape and range inference, one rule per op.

`infer(node, inputs)` returns the output's shape and a *sound* integer range:
every value the kernel can produce from inputs in their declared ranges lies
in it. The importer declares tensors with these ranges and the validator
recomputes them, so a declared range is never a guess. Accumulator bounds use
the worst case over the inner dimension (sum of |a - za| * |w - zw|).
"""

from __future__ import annotations

import numpy as np

from zkaudit.circuit.errors import InvalidCircuit
from zkaudit.circuit.fixed_point import div_round, rshift_round
from zkaudit.circuit.graph import Node, TensorSpec
from zkaudit.circuit.ops import (ACCUMULATOR_BITS, MAX_GATHER_COLUMNS, MAX_GATHER_ROWS_LOG, MAX_SHIFT,
                                 MAX_TABLE_LOG_SIZE, MAX_WALK_STEPS_LOG, OPS, TABLE_FUNCTIONS, signed_range)

INT32_LO, INT32_HI = signed_range(ACCUMULATOR_BITS)


def _centred(spec: TensorSpec, zp: int) -> tuple[int, int]:
    return spec.lo - zp, spec.hi - zp


def _product_range(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    corners = [x * y for x in a for y in b]
    return min(corners), max(corners)


def _fits_accumulator(node: Node, lo: int, hi: int) -> None:
    if lo < INT32_LO or hi > INT32_HI:
        raise InvalidCircuit(node.name, f"{node.op} result range [{lo}, {hi}] does not fit int32")


def _broadcast(node: Node, a, b) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        raise InvalidCircuit(node.name, f"shapes {a} and {b} do not broadcast") from None


def _pool_out(node: Node, shape, kernel, strides, pads, dilations=(1, 1)) -> tuple[int, ...]:
    if len(shape) != 4:
        raise InvalidCircuit(node.name, f"{node.op} needs an NCHW input, got shape {shape}")
    if len(kernel) != 2 or len(strides) != 2 or len(pads) != 4 or len(dilations) != 2:
        raise InvalidCircuit(node.name, "kernel/strides/dilations need 2 entries and pads 4")
    if min(strides) < 1 or min(dilations) < 1 or min(kernel) < 1 or min(pads) < 0:
        raise InvalidCircuit(node.name, "kernel, strides and dilations must be >= 1 and pads >= 0")
    dims = []
    for i in range(2):
        span = dilations[i] * (kernel[i] - 1) + 1
        full = shape[2 + i] + pads[i] + pads[i + 2]
        if full < span:
            raise InvalidCircuit(node.name, f"window {span} larger than padded input {full}")
        if pads[i] >= span or pads[i + 2] >= span:
            raise InvalidCircuit(node.name, "a padding as wide as the window leaves windows with no input")
        dims.append((full - span) // strides[i] + 1)
    return (shape[0], shape[1], dims[0], dims[1])


def _matmul(node, ins):
    a, b = ins[0], ins[1]
    at = node.a
    if len(b.shape) != 2 or len(a.shape) < 1 or a.shape[-1] != b.shape[0]:
        raise InvalidCircuit(node.name, f"MatMul needs A (..., K) and B (K, N); got {a.shape} and {b.shape}")
    lo, hi = _product_range(_centred(a, at["a_zero_point"]), _centred(b, at["b_zero_point"]))
    k = b.shape[0]
    lo, hi = lo * k, hi * k
    if len(ins) == 3:
        if ins[2].shape != (b.shape[1],):
            raise InvalidCircuit(node.name, f"bias shape {ins[2].shape} is not ({b.shape[1]},)")
        lo, hi = lo + ins[2].lo, hi + ins[2].hi
    _fits_accumulator(node, lo, hi)
    return a.shape[:-1] + (b.shape[1],), lo, hi


def _conv(node, ins):
    x, w = ins[0], ins[1]
    at = node.a
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise InvalidCircuit(node.name, f"Conv needs 4-D X and W, got {x.shape} and {w.shape}")
    group = at["group"]
    m, cg, kh, kw = w.shape
    if group < 1 or x.shape[1] != cg * group or m % group:
        raise InvalidCircuit(node.name, f"channels {x.shape[1]} and weight {w.shape} disagree with group={group}")
    out = _pool_out(node, x.shape, (kh, kw), at["strides"], at["pads"], at["dilations"])
    lo, hi = _product_range(_centred(x, at["x_zero_point"]), _centred(w, at["w_zero_point"]))
    # Padding contributes 0, which lies between lo and hi only if they straddle it.
    lo, hi = min(lo, 0), max(hi, 0)
    k = cg * kh * kw
    lo, hi = lo * k, hi * k
    if len(ins) == 3:
        if ins[2].shape != (m,):
            raise InvalidCircuit(node.name, f"bias shape {ins[2].shape} is not ({m},)")
        lo, hi = lo + ins[2].lo, hi + ins[2].hi
    _fits_accumulator(node, lo, hi)
    return (out[0], m, out[2], out[3]), lo, hi


def _elementwise(kind):
    def rule(node, ins):
        a, b = ins
        at = node.a
        ra, rb = _centred(a, at["a_zero_point"]), _centred(b, at["b_zero_point"])
        if kind == "Add":
            lo, hi = ra[0] + rb[0], ra[1] + rb[1]
        elif kind == "Sub":
            lo, hi = ra[0] - rb[1], ra[1] - rb[0]
        else:
            lo, hi = _product_range(ra, rb)
        _fits_accumulator(node, lo, hi)
        return _broadcast(node, a.shape, b.shape), lo, hi

    return rule


def _requantize(node, ins):
    (x,) = ins
    at = node.a
    m, s = at["multiplier"], at["shift"]
    if len(m) != len(s) or not m:
        raise InvalidCircuit(node.name, "multiplier and shift need the same non-zero length")
    if len(m) > 1 and (not -len(x.shape) <= at["axis"] < len(x.shape) or x.shape[at["axis"]] != len(m)):
        raise InvalidCircuit(node.name, f"{len(m)} per-channel multipliers do not match axis {at['axis']} of {x.shape}")
    if min(m) <= 0 or max(m) >= 2**31 or min(s) < 0 or max(s) > MAX_SHIFT:
        raise InvalidCircuit(node.name, "multipliers must lie in (0, 2^31) and shifts in [0, 62]")
    xl, xh = _centred(x, at["in_zero_point"])
    if max(abs(xl), abs(xh)) * max(m) >= 2**62:
        raise InvalidCircuit(node.name, "input times multiplier overflows 62 bits")
    if at["out_min"] > at["out_max"]:
        raise InvalidCircuit(node.name, "out_min > out_max")
    # every channel's ends in one vectorised call (thousands of channels in a big model)
    ends = rshift_round(np.array([[xl], [xh]], dtype=np.int64) * np.asarray(m, dtype=np.int64), np.asarray(s))
    lo = max(at["out_min"], at["out_zero_point"] + int(ends.min()))
    hi = min(at["out_max"], at["out_zero_point"] + int(ends.max()))
    return x.shape, min(lo, at["out_max"]), max(hi, at["out_min"])


def _relu(node, ins):
    (x,) = ins
    zp = node.a["zero_point"]
    return x.shape, max(x.lo, zp), max(x.hi, zp)


def _clip(node, ins):
    (x,) = ins
    lo, hi = node.a["lo"], node.a["hi"]
    if lo > hi:
        raise InvalidCircuit(node.name, f"Clip lo {lo} > hi {hi}")
    return x.shape, min(max(x.lo, lo), hi), max(min(x.hi, hi), lo)


def _table(node, ins):
    (x,) = ins
    at = node.a
    values = at["values"]
    if at["function"] not in TABLE_FUNCTIONS:
        raise InvalidCircuit(node.name, f"unknown table function {at['function']!r}")
    if not values or len(values) > 2**MAX_TABLE_LOG_SIZE:
        raise InvalidCircuit(node.name, f"a table needs 1 to 2^{MAX_TABLE_LOG_SIZE} entries, got {len(values)}")
    if x.lo < at["in_min"] or x.hi > at["in_min"] + len(values) - 1:
        raise InvalidCircuit(node.name, f"input range [{x.lo}, {x.hi}] is outside the table domain")
    used = values[x.lo - at["in_min"]: x.hi - at["in_min"] + 1]
    return x.shape, min(used), max(used)


def _maxpool(node, ins):
    (x,) = ins
    at = node.a
    return _pool_out(node, x.shape, at["kernel_shape"], at["strides"], at["pads"], at["dilations"]), x.lo, x.hi


def _averagepool(node, ins):
    (x,) = ins
    at = node.a
    out = _pool_out(node, x.shape, at["kernel_shape"], at["strides"], at["pads"])
    zp = at["zero_point"]
    lo, hi = min(x.lo, zp), max(x.hi, zp)  # a padded window averages in zeros (= zp)
    return out, lo, hi


def _reshape(node, ins):
    (x,) = ins
    shape = tuple(node.a["shape"])
    if min(shape, default=1) < 1 or int(np.prod(shape, dtype=np.int64)) != x.size:
        raise InvalidCircuit(node.name, f"cannot reshape {x.shape} to {shape}")
    return shape, x.lo, x.hi


def _transpose(node, ins):
    (x,) = ins
    perm = node.a["perm"]
    if sorted(perm) != list(range(len(x.shape))):
        raise InvalidCircuit(node.name, f"perm {perm} is not a permutation of {len(x.shape)} axes")
    return tuple(x.shape[p] for p in perm), x.lo, x.hi


def _concat(node, ins):
    axis = node.a["axis"]
    rank = len(ins[0].shape)
    if not 0 <= axis < rank:
        raise InvalidCircuit(node.name, f"axis {axis} out of range for rank {rank}")
    for s in ins:
        if len(s.shape) != rank or any(s.shape[i] != ins[0].shape[i] for i in range(rank) if i != axis):
            raise InvalidCircuit(node.name, f"input shapes {[s.shape for s in ins]} do not concatenate on axis {axis}")
    shape = list(ins[0].shape)
    shape[axis] = sum(s.shape[axis] for s in ins)
    return tuple(shape), min(s.lo for s in ins), max(s.hi for s in ins)


def _pad(node, ins):
    (x,) = ins
    pads, value = node.a["pads"], node.a["value"]
    rank = len(x.shape)
    if len(pads) != 2 * rank or min(pads, default=0) < 0:
        raise InvalidCircuit(node.name, f"pads {pads} must hold 2*{rank} non-negative entries")
    shape = tuple(x.shape[i] + pads[i] + pads[i + rank] for i in range(rank))
    return shape, min(x.lo, value), max(x.hi, value)


def _expand(node, ins):
    (x,) = ins
    shape = tuple(node.a["shape"])
    if min(shape, default=1) < 1 or len(shape) < len(x.shape) or _broadcast(node, x.shape, shape) != shape:
        raise InvalidCircuit(node.name, f"cannot broadcast {x.shape} to {shape}")
    return shape, x.lo, x.hi


def _gather(node, ins):
    (x,) = ins
    axis, idx = node.a["axis"], list(node.a["indices"])
    if not 0 <= axis < len(x.shape):
        raise InvalidCircuit(node.name, f"axis {axis} out of range for rank {len(x.shape)}")
    if not idx or min(idx) < 0 or max(idx) >= x.shape[axis]:
        raise InvalidCircuit(node.name, f"indices must be a nonempty list in [0, {x.shape[axis]})")
    shape = x.shape[:axis] + (len(idx),) + x.shape[axis + 1:]
    return shape, x.lo, x.hi


def _softmax(node, ins):
    (x,) = ins
    at = node.a
    table = at["exp_values"]
    rank = len(x.shape)
    if not 0 <= at["axis"] < rank:
        raise InvalidCircuit(node.name, f"axis {at['axis']} out of range for rank {rank}")
    if len(table) < x.hi - x.lo + 1 or len(table) > 2**MAX_TABLE_LOG_SIZE:
        raise InvalidCircuit(node.name, f"exp table of {len(table)} entries does not cover the input span")
    if min(table) < 0 or table[-1] <= 0 or max(table) >= 2**20:
        raise InvalidCircuit(node.name, "exp table entries must lie in [0, 2^20) with a positive last entry")
    if not 0 < at["out_multiplier"] < 2**31 or not 0 <= at["out_shift"] <= 24:
        raise InvalidCircuit(node.name, "out_multiplier must lie in (0, 2^31) and out_shift in [0, 24]")
    if x.shape[at["axis"]] * 2**20 * 2 ** at["out_shift"] >= 2**62:
        raise InvalidCircuit(node.name, "softmax axis too long for 62-bit sums")
    top = at["out_zero_point"] + int(div_round(np.int64(at["out_multiplier"]), np.int64(1 << at["out_shift"])))
    lo = max(at["out_min"], at["out_zero_point"])
    return x.shape, min(lo, at["out_max"]), max(min(at["out_max"], top), at["out_min"])


def _argmax(node, ins):
    (x,) = ins
    at = node.a
    rank = len(x.shape)
    if not 0 <= at["axis"] < rank:
        raise InvalidCircuit(node.name, f"axis {at['axis']} out of range for rank {rank}")
    shape = list(x.shape)
    n = shape[at["axis"]]
    if at["keepdims"]:
        shape[at["axis"]] = 1
    else:
        del shape[at["axis"]]
    return tuple(shape), 0, n - 1


def _gather_rows(node, ins):
    table, idx = ins
    if len(table.shape) != 2 or min(table.shape) < 1:
        raise InvalidCircuit(node.name, f"GatherRows needs a 2-D table (rows, columns), got shape {table.shape}")
    if len(idx.shape) != 1 or idx.shape[0] < 1:
        raise InvalidCircuit(node.name, f"GatherRows needs 1-D indices, got shape {idx.shape}")
    if table.shape[1] > MAX_GATHER_COLUMNS:
        raise InvalidCircuit(node.name, f"a GatherRows table has at most {MAX_GATHER_COLUMNS} columns, got "
                                        f"{table.shape[1]}")
    if table.shape[0] > 1 << MAX_GATHER_ROWS_LOG:
        raise InvalidCircuit(node.name, f"a GatherRows table has at most 2^{MAX_GATHER_ROWS_LOG} rows, got {table.shape[0]}")
    # The indices' declared range may be wider than [0, rows): the rows an
    # honest run reaches are the model's business; the proof admits only
    # rows of the table (an index outside has no row to match).
    return (idx.shape[0], table.shape[1]), table.lo, table.hi


def _pointer_walk(node, ins):
    table, start = ins
    if len(table.shape) != 2 or table.shape[0] < 1 or table.shape[1] != 1:
        raise InvalidCircuit(node.name, f"PointerWalk needs a successor table of shape (rows, 1), got {table.shape}")
    if len(start.shape) != 1 or start.shape[0] < 1:
        raise InvalidCircuit(node.name, f"PointerWalk needs 1-D start indices, got shape {start.shape}")
    if table.shape[0] > 1 << MAX_GATHER_ROWS_LOG or start.shape[0] > 1 << MAX_GATHER_ROWS_LOG:
        raise InvalidCircuit(node.name, f"a PointerWalk table and its start indices have at most "
                                        f"2^{MAX_GATHER_ROWS_LOG} rows, got {table.shape[0]} and {start.shape[0]}")
    steps = node.a["steps"]
    if not 1 <= steps <= 1 << MAX_WALK_STEPS_LOG:
        raise InvalidCircuit(node.name, f"PointerWalk takes 1..2^{MAX_WALK_STEPS_LOG} steps, got {steps}")
    # every value reached is an entry of the table (as for GatherRows, an
    # index outside [0, rows) is refused by the executor and has no row in
    # the proof)
    return (start.shape[0],), table.lo, table.hi


RULES = {
    "MatMul": _matmul, "Conv": _conv, "Add": _elementwise("Add"), "Sub": _elementwise("Sub"),
    "Mul": _elementwise("Mul"), "Requantize": _requantize, "Relu": _relu, "Clip": _clip, "Table": _table,
    "MaxPool": _maxpool, "AveragePool": _averagepool, "Reshape": _reshape, "Transpose": _transpose,
    "Concat": _concat, "Pad": _pad, "Expand": _expand, "Gather": _gather, "Softmax": _softmax, "ArgMax": _argmax,
    "GatherRows": _gather_rows, "PointerWalk": _pointer_walk,
}


_INT_TYPES = {int, bool}  # a tuple of these is all ints at C speed (a Table's 2^16 values); else the isinstance walk


def check_attrs(node: Node) -> None:
    spec = OPS.get(node.op)
    if spec is None:
        raise InvalidCircuit(node.name, f"unknown op {node.op!r}; the IR ops are {sorted(OPS)}")
    n = len(node.inputs)
    if n < spec.min_inputs or (spec.max_inputs >= 0 and n > spec.max_inputs):
        raise InvalidCircuit(node.name, f"{node.op} takes {spec.min_inputs}..{spec.max_inputs} inputs, got {n}")
    have = {k for k, _ in node.attrs}
    want = {k for k, _ in spec.attrs}
    if have != want:
        raise InvalidCircuit(node.name, f"{node.op} attributes must be exactly {sorted(want)}, got {sorted(have)}")
    for key, kind in spec.attrs:
        v = node.a[key]
        ok = (isinstance(v, int) if kind == "int" else isinstance(v, str) if kind == "str"
              else isinstance(v, tuple) and (set(map(type, v)) <= _INT_TYPES or all(isinstance(i, int) for i in v)))
        if not ok:
            raise InvalidCircuit(node.name, f"attribute {key!r} must be {kind}, got {v!r}")


def infer(node: Node, ins: list[TensorSpec]) -> tuple[tuple[int, ...], int, int]:
    """(shape, lo, hi) of `node`'s output; raises InvalidCircuit with the reason."""
    check_attrs(node)
    shape, lo, hi = RULES[node.op](node, ins)
    return tuple(int(d) for d in shape), int(lo), int(hi)


def with_inferred_specs(circuit):
    """The circuit with every node output's spec (and the outputs') replaced
    by what `infer` derives: the declared ranges a valid circuit must have
    (the validator checks equality; every proof's wrap-free arguments read
    them). For circuits built by hand; importers declare these already."""
    import dataclasses

    specs = {s.name: s for s in (*circuit.inputs, *circuit.weights)}
    for node in circuit.nodes:
        shape, lo, hi = infer(node, [specs[i] for i in node.inputs])
        old = next((t for t in circuit.tensors if t.name == node.output), None)
        specs[node.output] = TensorSpec(node.output, tuple(shape), int(lo), int(hi),
                                        old.scale if old else None, old.zero_point if old else 0)
    return dataclasses.replace(circuit, outputs=tuple(specs[o.name] for o in circuit.outputs),
                               tensors=tuple(specs[t.name] for t in circuit.tensors))
