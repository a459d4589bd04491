"""Small circuits with a dimension that is not a power of two almost
everywhere, one or two per op type, for the malicious-prover sweep. Tensor
ranges come from the IR's own inference rules (`circuit.infer`), as the
importer declares them."""

from __future__ import annotations

import numpy as np

from zkaudit.circuit import Circuit, Node, TensorSpec
from zkaudit.circuit.infer import infer
from zkaudit.circuit.weights import Weights

INT8 = (-128, 127)


def chain(name, inputs, weights, nodes, outputs) -> Circuit:
    specs = {s.name: s for s in (*inputs, *weights)}
    tensors = []
    for node in nodes:
        shape, lo, hi = infer(node, [specs[i] for i in node.inputs])
        spec = TensorSpec(node.output, tuple(shape), int(lo), int(hi))
        specs[node.output] = spec
        tensors.append(spec)
    return Circuit(name, tuple(inputs), tuple(specs[o] for o in outputs), tuple(weights), tuple(nodes),
                   tuple(tensors))


def _rq(name, x, y, channels=1, shift=14, out=INT8, zo=0):
    shifts = tuple(shift + (c % 3) for c in range(channels))
    return Node.make(name, "Requantize", [x], y, axis=1, in_zero_point=0, multiplier=(1 << 10,) * channels,
                     shift=shifts, out_min=out[0], out_max=out[1], out_zero_point=zo)


def _softmax_attrs(lo, hi):
    d = np.arange(-(hi - lo), 1, dtype=np.float64)
    exp_values = tuple(int(v) for v in np.rint(np.exp(d * 0.05) * 2**16))
    return dict(axis=1, exp_values=exp_values, out_multiplier=1 << 30, out_shift=22, out_zero_point=-128,
                out_min=-128, out_max=127)


def _rand(rng, spec):
    return rng.integers(spec.lo, spec.hi + 1, size=spec.shape)


def mlp_clip() -> tuple:
    """MatMul with zero points and bias, per-channel Requantize, Clip (not a
    power-of-two range), Relu with a zero point, Add, Mul, a second MatMul."""
    x = TensorSpec("x", (1, 5), *INT8, 0.1, 3)
    w1, b1 = TensorSpec("w1", (5, 3), -127, 127), TensorSpec("b1", (3,), -3000, 3000)
    w2 = TensorSpec("w2", (3, 5), -127, 127)
    nodes = [
        Node.make("mm1", "MatMul", ["x", "w1", "b1"], "acc1", a_zero_point=3, b_zero_point=0),
        _rq("rq1", "acc1", "h", channels=3),
        Node.make("cl", "Clip", ["h"], "c", lo=-20, hi=90),
        Node.make("re", "Relu", ["h"], "r", zero_point=-5),
        Node.make("add", "Add", ["c", "r"], "s", a_zero_point=0, b_zero_point=-5),
        Node.make("mul", "Mul", ["s", "h"], "m", a_zero_point=0, b_zero_point=0),
        Node.make("sub", "Sub", ["m", "h"], "d", a_zero_point=0, b_zero_point=2),
        Node.make("mm2", "MatMul", ["s", "w2"], "y", a_zero_point=0, b_zero_point=0),
    ]
    return chain("mlp_clip", [x], [w1, b1, w2], nodes, ["y", "d"]), [x], [w1, b1, w2]


def shapes_softmax() -> tuple:
    """MatMul -> Requantize -> Concat / Transpose / Reshape / Pad -> Softmax over 6."""
    x = TensorSpec("x", (1, 3), *INT8, 0.1, 0)
    w = TensorSpec("w", (3, 3), -127, 127)
    nodes = [
        Node.make("mm", "MatMul", ["x", "w"], "acc", a_zero_point=0, b_zero_point=0),
        _rq("rq", "acc", "h"),
        Node.make("cat", "Concat", ["h", "x"], "hx", axis=1),
        Node.make("tr", "Transpose", ["hx"], "t", perm=(1, 0)),
        Node.make("rs", "Reshape", ["t"], "u", shape=(2, 3)),
        Node.make("pad", "Pad", ["u"], "v", pads=(0, 1, 0, 2), value=-7),
        Node.make("sm", "Softmax", ["v"], "y", **_softmax_attrs(-128, 127)),
    ]
    return chain("shapes_softmax", [x], [w], nodes, ["y"]), [x], [w]


def cnn_odd() -> tuple:
    """Conv (3 channels, 5x5, pads 1) -> Requantize -> MaxPool 2x2 and
    AveragePool 3x3 -> Reshape -> MatMul -> ArgMax over 3."""
    x = TensorSpec("x", (1, 3, 5, 5), *INT8, 0.1, 0)
    wc, bc = TensorSpec("wc", (3, 3, 3, 3), -127, 127), TensorSpec("bc", (3,), -3000, 3000)
    wf = TensorSpec("wf", (12, 3), -127, 127)
    nodes = [
        Node.make("conv", "Conv", ["x", "wc", "bc"], "cacc", dilations=(1, 1), group=1, pads=(1, 1, 1, 1),
                  strides=(1, 1), w_zero_point=0, x_zero_point=0),
        _rq("rqc", "cacc", "c", channels=3, shift=16),
        Node.make("mp", "MaxPool", ["c"], "p", dilations=(1, 1), kernel_shape=(2, 2), pads=(0, 0, 0, 0),
                  strides=(2, 2)),
        Node.make("ap", "AveragePool", ["c"], "a", count_include_pad=0, kernel_shape=(3, 3), pads=(0, 0, 0, 0),
                  strides=(2, 2), zero_point=0),
        Node.make("rs", "Reshape", ["p"], "f", shape=(1, 12)),
        Node.make("fc", "MatMul", ["f", "wf"], "z", a_zero_point=0, b_zero_point=0),
        Node.make("am", "ArgMax", ["z"], "k", axis=1, keepdims=1, select_last_index=0),
    ]
    return chain("cnn_odd", [x], [wc, bc, wf], nodes, ["k", "a"]), [x], [wc, bc, wf]


def mlp_exact() -> tuple:
    """x -> MatMul (4x3) -> Requantize to int8 (exactly 2^8 values) -> MatMul
    (3x2): the review's forgery shape (inner size 3 pads to 4)."""
    x = TensorSpec("x", (1, 4), *INT8, 0.1, 0)
    w1, w2 = TensorSpec("w1", (4, 3), -127, 127), TensorSpec("w2", (3, 2), -127, 127)
    nodes = [Node.make("mm1", "MatMul", ["x", "w1"], "acc1", a_zero_point=0, b_zero_point=0),
             _rq("rq", "acc1", "h"),
             Node.make("mm2", "MatMul", ["h", "w2"], "y", a_zero_point=0, b_zero_point=0)]
    return chain("mlp_exact", [x], [w1, w2], nodes, ["y"]), [x], [w1, w2]


def argmax_table() -> tuple:
    """MatMul -> ArgMax over 5 slots (padded to 8) -> a 16-entry Table, and
    the index Concat-ed with an int8 activation: Concat's declared range is
    the union, so only the proof stands between a forged index and the
    public output (the review's shape)."""
    x = TensorSpec("x", (1, 3), *INT8, 0.1, 0)
    w = TensorSpec("w", (3, 5), -127, 127)
    nodes = [Node.make("mm", "MatMul", ["x", "w"], "acc", a_zero_point=0, b_zero_point=0),
             _rq("rq", "acc", "h"),
             Node.make("am", "ArgMax", ["acc"], "idx", axis=1, keepdims=1, select_last_index=0),
             Node.make("cat", "Concat", ["idx", "h"], "out", axis=1),
             Node.make("tb", "Table", ["idx"], "t", function="exp", in_min=0,
                       values=tuple(100 * i for i in range(16)))]
    return chain("argmax_table", [x], [w], nodes, ["out", "t"]), [x], [w]


def broadcast_add_mul() -> tuple:
    """Add and Mul whose operands are broadcast by Expand (index maps where
    one input cell feeds many output cells): (5, 3) and (1, 5, 3) to
    (2, 5, 3), a column (5, 1) to (5, 3); 3 pads to 4 and 5 to 8 throughout."""
    x = TensorSpec("x", (1, 5, 3), *INT8, 0.1, 0)
    w, w2 = TensorSpec("w", (3, 3), -127, 127), TensorSpec("w2", (3, 1), -127, 127)
    nodes = [
        Node.make("rs", "Reshape", ["x"], "x2", shape=(5, 3)),
        Node.make("mm", "MatMul", ["x2", "w"], "acc", a_zero_point=0, b_zero_point=0),
        _rq("rq", "acc", "h"),
        Node.make("mm2", "MatMul", ["x2", "w2"], "acc2", a_zero_point=0, b_zero_point=0),
        _rq("rq2", "acc2", "c"),
        Node.make("ex1", "Expand", ["h"], "hb", shape=(2, 5, 3)),
        Node.make("ex2", "Expand", ["x"], "xb", shape=(2, 5, 3)),
        Node.make("add", "Add", ["hb", "xb"], "s", a_zero_point=0, b_zero_point=3),
        Node.make("ex3", "Expand", ["c"], "cb", shape=(5, 3)),
        Node.make("mul", "Mul", ["h", "cb"], "m", a_zero_point=-2, b_zero_point=0),
    ]
    return chain("broadcast_add_mul", [x], [w, w2], nodes, ["s", "m"]), [x], [w, w2]


def gather_select() -> tuple:
    """Gather index maps (constant selections, as slices, gathers and the
    steps of an unrolled recurrent layer compile): rows 4, 0, 0, 2 of a
    (5, 3) tensor (one row read twice, rows 1 and 3 never read; 5 pads to 8)
    and column 2 of the MatMul's output, and its top three rows (a crop
    whose cells keep their positions: not an identity map)."""
    x = TensorSpec("x", (1, 5, 3), *INT8, 0.1, 0)
    w = TensorSpec("w", (3, 3), -127, 127)
    nodes = [
        Node.make("g1", "Gather", ["x"], "xg", axis=1, indices=(4, 0, 0, 2)),
        Node.make("rs", "Reshape", ["xg"], "x2", shape=(4, 3)),
        Node.make("mm", "MatMul", ["x2", "w"], "acc", a_zero_point=0, b_zero_point=0),
        _rq("rq", "acc", "h"),
        Node.make("g2", "Gather", ["h"], "col", axis=1, indices=(2,)),
        # a crop that keeps every kept cell in place (rows 0-2 of 4): no identity, row 3 must not leak
        # into the output's padding
        Node.make("g3", "Gather", ["h"], "top", axis=0, indices=(0, 1, 2)),
        Node.make("mm2", "MatMul", ["top", "w"], "acc2", a_zero_point=0, b_zero_point=0),
    ]
    return chain("gather_select", [x], [w], nodes, ["h", "col", "acc2"]), [x], [w]


def gather_rows(index_hi: int = 6) -> tuple:
    """GatherRows at run-time indices (how tree ensembles are walked): rows
    of a (7, 3) weight table at 5 input indices (7 rows pad to 8, 3 columns
    to 4, 5 indices to 8), then a column of the rows clipped into [0, 5] as
    indices into an activation table (the input features, (6, 1)), and the
    gathered rows consumed by a MatMul (which reads their padding).
    `index_hi` 7 declares the input index over the padded table (index 7
    names its padding row, which the executor refuses)."""
    idx = TensorSpec("idx", (5,), 0, index_hi)
    x = TensorSpec("x", (1, 6), *INT8, 0.1, 0)
    table = TensorSpec("table", (7, 3), *INT8)
    w = TensorSpec("w", (3, 2), -127, 127)
    nodes = [
        Node.make("rows", "GatherRows", ["table", "idx"], "r"),
        Node.make("mm", "MatMul", ["r", "w"], "acc", a_zero_point=0, b_zero_point=0),
        Node.make("c0", "Gather", ["r"], "c01", axis=1, indices=(0,)),
        Node.make("c0r", "Reshape", ["c01"], "c0", shape=(5,)),
        Node.make("clip", "Clip", ["c0"], "j", lo=0, hi=5),
        Node.make("xT", "Reshape", ["x"], "xT", shape=(6, 1)),
        Node.make("feat", "GatherRows", ["xT", "j"], "xv"),
    ]
    name = "gather_rows" if index_hi == 6 else f"gather_rows_to_{index_hi}"
    return chain(name, [idx, x], [table, w], nodes, ["acc", "xv"]), [idx, x], [table, w]


def pointer_walk() -> tuple:
    """PointerWalk as tree ensembles use it: every node's successor on the
    input (7 nodes, a node table pads to 8 rows: f (7,) feature, Q (7, 1)
    threshold, t (7, 1) true child in [0, 5], so t + [x[f] > Q] is a row),
    then 3 steps from 5 input start rows (levels (3, 5) pad to (4, 8));
    the reached rows' values gathered and the reached rows themselves fed to
    a MatMul (whose inner dimension, 5 padded to 8, reads the walk's output
    padding); and one step through a weight table from the reached rows."""
    x = TensorSpec("x", (1, 6), *INT8, 0.1, 0)
    start = TensorSpec("start", (5,), 0, 6)
    f, q = TensorSpec("f", (7,), 0, 5), TensorSpec("q", (7, 1), *INT8)
    t, vals = TensorSpec("t", (7, 1), 0, 5), TensorSpec("vals", (7, 2), *INT8)
    w, hop = TensorSpec("w", (5, 2), -127, 127), TensorSpec("hop", (7, 1), 0, 6)
    nodes = [
        Node.make("xT", "Reshape", ["x"], "xT", shape=(6, 1)),
        Node.make("feat", "GatherRows", ["xT", "f"], "v"),
        Node.make("cmp", "Sub", ["v", "q"], "c", a_zero_point=0, b_zero_point=0),
        Node.make("branch", "Clip", ["c"], "b", lo=0, hi=1),
        Node.make("succ", "Add", ["t", "b"], "s", a_zero_point=0, b_zero_point=0),
        Node.make("walk", "PointerWalk", ["s", "start"], "reached", steps=3),
        Node.make("leaf", "GatherRows", ["vals", "reached"], "leaf"),
        Node.make("row", "Reshape", ["reached"], "row", shape=(1, 5)),
        Node.make("mm", "MatMul", ["row", "w"], "acc", a_zero_point=0, b_zero_point=0),
        Node.make("hop1", "PointerWalk", ["hop", "reached"], "next", steps=1),
    ]
    return chain("pointer_walk", [x, start], [f, q, t, vals, w, hop], nodes, ["leaf", "acc", "next"]), \
        [x, start], [f, q, t, vals, w, hop]


def instance(builder, seed=0, batch=0):
    """(circuit, weights, inputs) with random in-range values; `batch` > 0:
    a list of that many samples (one batch proof)."""
    circuit, ins, ws = builder()
    rng = np.random.default_rng(seed)
    weights = Weights({s.name: _rand(rng, s) for s in ws})
    if batch:
        return circuit, weights, [{s.name: _rand(rng, s) for s in ins} for _ in range(batch)]
    return circuit, weights, {s.name: _rand(rng, s) for s in ins}


BUILDERS = {"mlp_clip": mlp_clip, "shapes_softmax": shapes_softmax, "cnn_odd": cnn_odd, "mlp_exact": mlp_exact,
            "argmax_table": argmax_table, "broadcast_add_mul": broadcast_add_mul, "gather_select": gather_select,
            "gather_rows": gather_rows, "pointer_walk": pointer_walk}
