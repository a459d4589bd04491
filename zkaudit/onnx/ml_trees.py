"""Tree ensembles (`ai.onnx.ml` TreeEnsembleClassifier / TreeEnsembleRegressor,
as skl2onnx writes scikit-learn's decision trees, random forests and gradient
boosting) built from the circuit IR's existing ops -- no new op, no new layer
protocol. For T trees padded to complete binary trees of depth D (N = 2^D - 1
internal nodes in heap order, L = 2^D leaves), F features, H output columns:

    d = MatMul(x, -S, bias Q - zx)       (1, T*N)   d = Q_n - q[f_n]: S selects node n's feature
    c = Clip(d, -1, 0)                               c + 1 = b_n = [q[f_n] <= Q_n]  (the node's test)
    e = MatMul(c (T, N), A, bias -P)     (T, L)     zero point -1 on c, so it sums b_n * A[n, l]
    g = Clip(e, -1, 0)                               g + 1 = 1 on the leaf each tree reaches, else 0
    s = MatMul(g (1, T*L), V, bias base) (1, H)     the reached leaves' values summed (scale s_v)

A[n, l] is +1 when leaf l lies under node n's true branch, -1 under its false
branch, 0 elsewhere, and P[l] counts l's true-branch ancestors: e[t, l] =
(true ancestors passed) - (false ancestors wrongly passed) - P[l] is 0 exactly
on the reached leaf and <= -1 on every other, so each Clip is a step function
checked by a range check. A and P are the same for every tree (padding makes
the trees alike), so the middle MatMul costs N*L weights, not T*N*L. A leaf
above depth D is copied to every padded leaf under it; a padded node tests
nothing (its column of S and its Q are 0: always "true"). Where it saves
enough weights S is committed factored (`_select_factored`): the features laid
on a rows x cols grid, a one-hot over the columns (MatMul) and one over the
rows (Mul, then a sum), (rows + cols) * T * N weights in place of F * T * N
-- 12 instead of 30 per node for 30 features; the weight commitment's range
checks and hash link are paid per committed weight. The cost is linear in
T * 2^D; trees deeper than MAX_DEPTH are refused (train with max_depth). The public circuit reveals T, D, F and the output count
only: which feature each node tests, the thresholds, each tree's shape (which
nodes are padding) and the leaf values are all committed weights.

Thresholds, exactly. The comparison is made on the integer grid of the input
x (real value v(q) = (q - zx) * scale, computed as `dequantize` does, in
float32): for each node Q_n is the largest grid point whose value passes the
node's test in onnxruntime's arithmetic (float32 x against the threshold as
stored, float32 or double), so for every input on the grid the circuit takes
exactly onnxruntime's branch. mode BRANCH_LEQ tests v <= t, BRANCH_LT v < t
(both: "true" = take nodes_truenodeids); BRANCH_GTE / BRANCH_GT are the
negations of LT / LEQ with the branches swapped. A float threshold t nearly
always falls between two grid points q0 < t < q1: LEQ and LT then agree (both
send q0 left, q1 right). Where t is exactly a grid value, LEQ keeps it on the
true side and LT does not -- the one place the two modes differ. A raw float
input x between grid points is rounded to its nearest grid point first, so it
can take the other branch than in float only when a threshold lies between x
and that grid point (within half a step): the input's scale is the comparison's
resolution, which is why a graph input feeding only tree ensembles is given a
16-bit grid (one scale for all features: standardize features of very
different magnitudes before the model). Inputs cannot be NaN, so
nodes_missing_value_tracks_true never applies. BRANCH_EQ / BRANCH_NEQ are
refused.

Scores. Leaf values and base values are quantized with one scale s_v, the
finest that keeps the accumulator within int32 for T*L leaves; each tree adds
at most half a step of rounding, so a score is within (T + 1) / 2 * s_v of the
float sum (`score_tolerance`). Labels follow onnxruntime's rules, checked
against it in tests/onnx/test_ml_trees.py: argmax (first maximum) for three or
more classes; for two classes written as one score column (skl2onnx's binary
models) label 1 iff s > 0.5 when every weight is >= 0, else iff s > 0,
probabilities [1 - s, s] / [-s, s] / [1 - sigmoid(s), sigmoid(s)]; for two
columns label 1 iff the second score is > 0. Each label rule is an ArgMax over
two integer columns [threshold, s] (ties go to the first: strict >), proven as
[s > threshold] = Clip(s - threshold, 0, 1) (`_label`). LOGISTIC
and SOFTMAX rescale the exact score to a 12-bit grid over its static range and
apply a Sigmoid Table / integer Softmax; the label is taken from the exact score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from onnx import helper, numpy_helper

from zkaudit.circuit import dequantize
from zkaudit.circuit.ops import ACCUMULATOR_BITS
from zkaudit.onnx.quant import QParams, from_range
from zkaudit.onnx.values import Act

ML = "ai.onnx.ml"
MAX_DEPTH = 10  # 2^D leaves per tree and a shared (2^D - 1) x 2^D path matrix
MAX_LEAVES = 1 << 20  # T * 2^D
INPUT_RANGE = (-(1 << 15), (1 << 15) - 1)  # the grid of a graph input read only by tree ensembles
SCORE_RANGE = (-(1 << 11), (1 << 11) - 1)  # the exact score rescaled before a Sigmoid / Softmax table
MAX_LEAF_BITS = 21  # leaf values need no more resolution than this
FACTORED_SELECTION = True  # False: always the dense one-hot S (the reference `_select_factored` is tested against)
# The factored selection adds four layers (Pad, Reshape, MatMul, Mul) whose fixed cost is about that of
# 2^15 committed weights on the 2-core machine (50 trees of depth 4, 30 features, saving 13.5k weights:
# no faster; 100 trees of depth 6, saving 113k: prove CPU 2.7 -> 1.9 s), so smaller savings keep S dense.
MIN_FACTORED_SAVING = 1 << 15


@dataclass
class Ensemble:
    """Complete binary trees in heap order. features/q_le: (T, N) feature
    index (-1: padded node) and the float threshold test turned into `v <= t`
    or `v < t` (strict) per node; leaves: (T, L, C) float64 leaf values."""

    depth: int
    features: np.ndarray
    thresholds: np.ndarray
    strict: np.ndarray
    leaves: np.ndarray
    base: np.ndarray

    @property
    def trees(self) -> int:
        return self.features.shape[0]


def _attrs(node) -> dict:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if a.name.endswith("_as_tensor"):
            out[a.name[: -len("_as_tensor")]] = numpy_helper.to_array(v)
        else:
            out[a.name] = v
    return out


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def parse(node, fail, weight_prefix: str, columns: int) -> Ensemble:
    """The ensemble of a TreeEnsemble* node (`weight_prefix` 'class' or
    'target'), padded to complete trees; `fail(what)` builds the error."""
    at = _attrs(node)
    need = ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_truenodeids",
            "nodes_falsenodeids", "nodes_values"]
    missing = [k for k in need if k not in at]
    if missing:
        raise fail(f"attributes {missing} are missing")
    tree_ids = np.asarray(at["nodes_treeids"], np.int64)
    node_ids = np.asarray(at["nodes_nodeids"], np.int64)
    feats = np.asarray(at["nodes_featureids"], np.int64)
    modes = [_text(m) for m in at["nodes_modes"]]
    true_ids = np.asarray(at["nodes_truenodeids"], np.int64)
    false_ids = np.asarray(at["nodes_falsenodeids"], np.int64)
    values = np.asarray(at["nodes_values"])
    values = values if values.dtype == np.float64 else values.astype(np.float32)
    if len({len(tree_ids), len(node_ids), len(feats), len(modes), len(true_ids), len(false_ids), len(values)}) != 1:
        raise fail("the nodes_* attributes have different lengths")
    bad = sorted({m for m in modes if m not in ("LEAF", "BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT")})
    if bad:
        raise fail(f"node modes {bad} are not supported (BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT and LEAF are)")

    w_tree = np.asarray(at.get(f"{weight_prefix}_treeids", []), np.int64)
    w_node = np.asarray(at.get(f"{weight_prefix}_nodeids", []), np.int64)
    w_col = np.asarray(at.get(f"{weight_prefix}_ids", []), np.int64)
    w_val = np.asarray(at.get(f"{weight_prefix}_weights", []), np.float64)
    if not (len(w_tree) == len(w_node) == len(w_col) == len(w_val)):
        raise fail(f"the {weight_prefix}_* attributes have different lengths")
    if len(w_col) and (w_col.min() < 0 or w_col.max() >= columns):
        raise fail(f"{weight_prefix}_ids must lie in [0, {columns})")

    trees = sorted(set(tree_ids.tolist()))
    index = {(int(t), int(n)): i for i, (t, n) in enumerate(zip(tree_ids, node_ids))}
    leaf_values: dict[tuple[int, int], np.ndarray] = {}
    for t, n, c, v in zip(w_tree, w_node, w_col, w_val):
        leaf_values.setdefault((int(t), int(n)), np.zeros(columns))[c] += v

    # the depth of every tree, from its root (the node no other node points to)
    roots, depth = {}, 0
    order = np.argsort(tree_ids, kind="stable")
    bounds = np.searchsorted(tree_ids[order], trees + [int(tree_ids.max(initial=0)) + 1])
    for ti, t in enumerate(trees):
        members = order[bounds[ti]:bounds[ti + 1]].tolist()
        children = {int(true_ids[i]) for i in members if modes[i] != "LEAF"} | \
                   {int(false_ids[i]) for i in members if modes[i] != "LEAF"}
        root = [int(node_ids[i]) for i in members if int(node_ids[i]) not in children]
        if len(root) != 1:
            raise fail(f"tree {t} has {len(root)} roots")
        roots[t] = root[0]
        stack = [(root[0], 0)]
        seen = 0
        while stack:
            n, d = stack.pop()
            seen += 1
            if seen > len(members) or (t, n) not in index:
                raise fail(f"tree {t} is not a tree (node {n} is missing or reached twice)")
            i = index[(t, n)]
            if modes[i] == "LEAF":
                depth = max(depth, d)
            else:
                stack += [(int(true_ids[i]), d + 1), (int(false_ids[i]), d + 1)]
    depth = max(depth, 1)
    if depth > MAX_DEPTH or len(trees) << depth > MAX_LEAVES:
        raise fail(f"{len(trees)} trees of depth {depth}: at most depth {MAX_DEPTH} and {MAX_LEAVES} padded leaves "
                   f"(trees x 2^depth) are supported; train with a smaller max_depth")

    n_int, n_leaf = (1 << depth) - 1, 1 << depth
    features = np.full((len(trees), n_int), -1, np.int64)
    thresholds = np.zeros((len(trees), n_int), values.dtype)
    strict = np.zeros((len(trees), n_int), bool)
    leaves = np.zeros((len(trees), n_leaf, columns))
    for ti, t in enumerate(trees):
        stack = [(roots[t], 0, 0)]  # (node id, level, position in level)
        while stack:
            n, k, j = stack.pop()
            i = index[(t, n)]
            if modes[i] == "LEAF":
                span = 1 << (depth - k)
                leaves[ti, j * span:(j + 1) * span] = leaf_values.get((t, n), np.zeros(columns))
                continue
            heap = (1 << k) - 1 + j
            on_true, on_false = int(true_ids[i]), int(false_ids[i])
            if modes[i] in ("BRANCH_GTE", "BRANCH_GT"):  # x >= t is not (x < t): swap the branches
                on_true, on_false = on_false, on_true
            features[ti, heap] = feats[i]
            thresholds[ti, heap] = values[i]
            strict[ti, heap] = modes[i] in ("BRANCH_LT", "BRANCH_GTE")
            stack += [(on_true, k + 1, 2 * j), (on_false, k + 1, 2 * j + 1)]
    base = np.zeros(columns)
    if "base_values" in at and len(at["base_values"]):
        b = np.asarray(at["base_values"], np.float64).reshape(-1)
        if b.size == 1 and columns == 2:  # one score column: its base value (onnxruntime's binary case)
            b = np.array([b[0], 0.0])
        if b.size != columns:
            raise fail(f"base_values has {b.size} values, expected {columns}")
        base = b
    return Ensemble(depth, features, thresholds, strict, leaves, base)


def grid_thresholds(x: Act, ens: Ensemble) -> np.ndarray:
    """Q (T, N): the largest grid integer q whose value v(q) passes each
    node's test (v <= t, or v < t when strict), in onnxruntime's precision;
    x's lowest integer - 1 where none does. Padded nodes get 0."""
    spec = x.spec
    grid = np.arange(spec.lo, spec.hi + 1, dtype=np.int64)
    real = dequantize(spec.__class__(spec.name, spec.shape, spec.lo, spec.hi, x.scale, x.zero_point), grid)
    real = real.astype(np.float32).astype(ens.thresholds.dtype)  # the float32 input onnxruntime compares
    q = np.zeros(ens.features.shape, np.int64)
    real_nodes = ens.features >= 0
    t = ens.thresholds[real_nodes]
    side = np.where(ens.strict[real_nodes], 0, 1)
    passed = np.where(side == 1, np.searchsorted(real, t, side="right"), np.searchsorted(real, t, side="left"))
    q[real_nodes] = spec.lo + passed - 1
    return q


def path_matrix(depth: int) -> tuple[np.ndarray, np.ndarray]:
    """A (N, L) with +1 / -1 where leaf l is under node n's true / false
    branch, and P (L,) the number of true-branch ancestors of each leaf."""
    n_int, n_leaf = (1 << depth) - 1, 1 << depth
    a = np.zeros((n_int, n_leaf), np.int64)
    for k in range(depth):
        span = 1 << (depth - k)
        for j in range(1 << k):
            heap = (1 << k) - 1 + j
            a[heap, j * span: j * span + span // 2] = 1
            a[heap, j * span + span // 2: (j + 1) * span] = -1
    return a, np.maximum(a, 0).sum(axis=0)


def selection_grid(f_count: int, nodes: int) -> tuple[int, int] | None:
    """(rows, cols) of the grid the features are laid on for the factored
    selection (`rows * cols >= F`, both powers of two, rows <= cols), or None
    when it would not save MIN_FACTORED_SAVING weights: the factored form
    commits (rows + cols) * nodes weights in place of F * nodes."""
    log = max(0, (f_count - 1).bit_length())
    rows, cols = 1 << (log // 2), 1 << (log - log // 2)
    saving = (f_count - rows - cols) * nodes
    return (rows, cols) if saving > 0 and saving >= MIN_FACTORED_SAVING else None


def _select_dense(imp, x: Act, ens: Ensemble, bias: np.ndarray, hint: str):
    """d = MatMul(x, -S, bias): S (F, T*N) one-hot in each real node's column."""
    b = imp.b
    f_count = x.shape[-1]
    select = np.zeros((f_count, ens.features.size), np.int64)
    cols = np.flatnonzero(ens.features.reshape(-1) >= 0)
    select[ens.features.reshape(-1)[cols], cols] = -1
    return b.emit("MatMul", [x.spec, b.add_weight(hint + "/select", select), b.add_weight(hint + "/thresholds", bias)],
                  hint + "/compare", a_zero_point=x.zero_point, b_zero_point=0)


def _select_factored(imp, x: Act, ens: Ensemble, bias: np.ndarray, grid: tuple[int, int], hint: str):
    """The same d with the one-hot S factored over a (rows, cols) grid of the
    features, feature f at (f // cols, f % cols):

        X = Reshape(Pad(x, zx), (rows, cols))        X[i, j] - zx = x[cols i + j] - zx
        Y = MatMul(X, C)          (rows, T*N)        C (cols, T*N): column n one-hot at f_n % cols
        Z = Mul(Y, R)             (rows, T*N)        R (rows, T*N): column n one-hot at f_n // cols
        d = MatMul(-1 (1, rows), Z, bias)  (1, T*N)  = bias_n - (x[f_n] - zx)

    (rows + cols) * T * N committed weights instead of F * T * N (30
    features: 12 per node instead of 30). Padded nodes have zero columns in
    C and R, so d = bias = 0 there as in the dense form. The circuit
    computes d for whatever C and R hold, like the dense MatMul for
    whatever S holds: the weights are the model, fixed by the commitment."""
    b = imp.b
    rows, cols = grid
    f_count = x.shape[-1]
    feats = ens.features.reshape(-1)
    real = np.flatnonzero(feats >= 0)
    pick_col = np.zeros((cols, feats.size), np.int64)
    pick_col[feats[real] % cols, real] = 1
    pick_row = np.zeros((rows, feats.size), np.int64)
    pick_row[feats[real] // cols, real] = 1
    xs = x.spec
    if rows * cols > f_count:
        xs = b.emit("Pad", [xs], hint + "/features_padded", pads=(0, 0, 0, rows * cols - f_count), value=x.zero_point)
    grid_x = b.emit("Reshape", [xs], hint + "/feature_grid", shape=(rows, cols))
    y = b.emit("MatMul", [grid_x, b.add_weight(hint + "/select_col", pick_col)], hint + "/feature_cols",
               a_zero_point=x.zero_point, b_zero_point=0)
    z = b.emit("Mul", [y, b.add_weight(hint + "/select_row", pick_row)], hint + "/feature_picked",
               a_zero_point=0, b_zero_point=0)
    return b.emit("MatMul", [b.add_weight(hint + "/negate_sum", -np.ones((1, rows), np.int64)), z,
                             b.add_weight(hint + "/thresholds", bias)],
                  hint + "/compare", a_zero_point=0, b_zero_point=0)


def leaf_indicators(imp, x: Act, ens: Ensemble, hint: str):
    """The spec of g (1, T*L): g + 1 is 1 on each tree's reached leaf."""
    b = imp.b
    t_count, n_int = ens.features.shape
    n_leaf = 1 << ens.depth
    f_count = x.shape[-1]
    if len(x.shape) != 2 or x.shape[0] != 1:
        raise imp.fail(f"input of shape {x.shape}: tree ensembles take one row of features (1, F)")
    if ens.features.max(initial=-1) >= f_count:
        raise imp.fail(f"a node tests feature {int(ens.features.max())} but the input has {f_count} features")
    q = grid_thresholds(x, ens)
    bias = np.where(ens.features >= 0, q - x.zero_point, 0).reshape(-1)
    grid = selection_grid(f_count, ens.features.size) if FACTORED_SELECTION else None
    d = _select_factored(imp, x, ens, bias, grid, hint) if grid else _select_dense(imp, x, ens, bias, hint)
    c = b.emit("Clip", [d], hint + "/branch", lo=-1, hi=0)
    c = b.emit("Reshape", [c], hint + "/branch_by_tree", shape=(t_count, n_int))
    a, p = path_matrix(ens.depth)
    e = b.emit("MatMul", [c, b.add_weight(hint + "/paths", a), b.add_weight(hint + "/path_lengths", -p)],
               hint + "/path", a_zero_point=-1, b_zero_point=0)
    g = b.emit("Clip", [e], hint + "/leaf", lo=-1, hi=0)
    return b.emit("Reshape", [g], hint + "/leaves", shape=(1, t_count * n_leaf))


def leaf_scale(ens: Ensemble, heads: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """One scale for every head's leaf values: as fine as the int32 accumulator
    allows for T*L leaves (and MAX_LEAF_BITS), coarse enough for the biases."""
    leaves = ens.trees << ens.depth
    bits = min(MAX_LEAF_BITS, int(math.floor(math.log2(2 ** (ACCUMULATOR_BITS - 2) / leaves))))
    peak_leaf = max(float(np.max(np.abs(ens.leaves @ coef), initial=0.0)) for coef, _ in heads)
    peak_bias = max(float(np.max(np.abs(ens.base @ coef + const), initial=0.0)) for coef, const in heads)
    scale = max(peak_leaf / (2 ** bits - 1), peak_bias / 2 ** (ACCUMULATOR_BITS - 3), 1e-30)
    return float(np.float32(scale))


def _one_column(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(v, lam) with coef = v lam^T, lam in {-1, 0, 1}, when every column of
    a several-column coef is 0 or +-1 times one column v (the binary heads
    [-s, s] and [0, s]); else None. Larger multiples would multiply each
    tree's rounding error, which `score_tolerance` does not allow for."""
    if coef.shape[1] < 2:
        return None
    nonzero = [j for j in range(coef.shape[1]) if np.any(coef[:, j])]
    if not nonzero:
        return None
    v = coef[:, nonzero[0]]
    pivot = int(np.flatnonzero(v)[0])
    lam = coef[pivot] / v[pivot]
    if not np.allclose(lam, np.rint(lam)) or np.any(np.abs(np.rint(lam)) > 1) or not np.allclose(np.outer(v, lam), coef):
        return None
    return v[:, None], np.rint(lam).astype(np.int64)


def head(imp, g, ens: Ensemble, coef: np.ndarray, const: np.ndarray, scale: float, hint: str, parts=None):
    """The scores s = base @ coef + const + sum of reached leaves @ coef, as
    integers at `scale`: a MatMul of the leaf indicators by the leaf values.
    When the columns are integer multiples of one (a binary model's [c - s,
    s]), the leaves are committed once, for s, and the columns come from a
    (1, 1) x (1, H) MatMul: T*L weights instead of T*L*H (the weight
    commitment's range checks and hash link are paid per weight)."""
    b = imp.b
    single = _one_column(coef)
    cols = single[0] if single else coef
    values = np.rint((ens.leaves @ cols).reshape(-1, cols.shape[1]) / scale).astype(np.int64)
    base = np.rint((ens.base @ cols + (0 if single else const)) / scale).astype(np.int64)
    s = b.emit("MatMul", [g, b.add_weight(hint + "/leaf_values", values), b.add_weight(hint + "/base", base)],
               hint if single is None else hint + "/score", a_zero_point=-1, b_zero_point=0)
    if single is None:
        return s
    lam = single[1]
    bias = np.rint(np.asarray(const, np.float64) / scale).astype(np.int64)
    if parts is not None:  # the caller's label test reads s, the multiples and the offsets
        parts.update(score=s, multiples=lam, offsets=bias)
    return b.emit("MatMul", [s, b.add_weight(hint + "/columns", lam[None, :]), b.add_weight(hint + "/offsets", bias)],
                  hint, a_zero_point=0, b_zero_point=0)


def score_tolerance(ens: Ensemble, scale: float) -> float:
    """The most an exact score differs from the float sum: half a step per
    tree, for the base value and for a one-column head's offset (the
    thresholds add nothing on the grid)."""
    return (ens.trees + 2) / 2 * scale


def _static_range(ens: Ensemble, coef, const) -> tuple[float, float]:
    per_tree = ens.leaves @ coef  # (T, L, H)
    lo = ens.base @ coef + const + per_tree.min(axis=1).sum(axis=0)
    hi = ens.base @ coef + const + per_tree.max(axis=1).sum(axis=0)
    return float(lo.min()), float(hi.max())


def power_of_two_grid(lo: float, hi: float, qrange=INPUT_RANGE) -> QParams:
    """A grid over [lo, hi] (0 included) whose step is a power of two: every
    number with few binary digits -- integers, halves, 5.0 or 1.5, where
    scikit-learn's midpoint thresholds often fall on data of one decimal --
    is then a grid point, so an input equal to a threshold compares exactly."""
    qmin, qmax = qrange
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    span = hi - lo
    scale = 2.0 ** math.ceil(math.log2(span / (qmax - qmin))) if span > 0 else 1.0
    zp = int(np.clip(np.rint(qmin - lo / scale), qmin, qmax))
    return QParams(scale, zp, qmin, qmax)


def _features(imp, name: str) -> Act:
    """The input as an Act; a graph input read only by tree ensembles gets a
    16-bit grid over its calibrated range (the comparisons' resolution)."""
    if name in imp.graph_inputs and name not in imp.values and imp.ranges is not None and name in imp.ranges \
            and all(c.domain == ML and c.op_type.startswith("TreeEnsemble") for c in imp.consumers.get(name, [])):
        qp = power_of_two_grid(*imp.ranges[name], qrange=INPUT_RANGE)
        vi = imp.graph_inputs[name]
        shape = tuple(d.dim_value for d in vi.type.tensor_type.shape.dim)
        act = Act(imp.b.add_input(name, shape, qp.qmin, qp.qmax, qp.scale, qp.zero_point), qp.scale, qp.zero_point,
                  (qp.qmin, qp.qmax), True)
        imp.set(name, act)
        return act
    x = imp.act(name)
    if not x.is_float or x.scale is None:
        raise imp.fail("input must be a quantized float tensor")
    return x


def _exact(spec, scale: float) -> Act:
    return Act(spec, scale, 0, (spec.lo, spec.hi), True)


def _rescaled(imp, s, scale: float, bounds, hint: str) -> Act:
    """The exact score on a 12-bit grid over its static range (a table's input)."""
    qp = from_range(*bounds, qrange=SCORE_RANGE)
    y = imp.b.requantize(s, hint + "/rescaled", ratio=scale / qp.scale, in_zero_point=0, out_zero_point=qp.zero_point,
                         out_range=(qp.qmin, qp.qmax))
    return Act(y, qp.scale, qp.zero_point, (qp.qmin, qp.qmax), True)


def TreeEnsembleRegressor(imp, node):
    """ai.onnx.ml TreeEnsembleRegressor: post_transform NONE, SUM or AVERAGE."""
    at = _attrs(node)
    hint = node.name or node.output[0]
    if _text(at.get("post_transform", "NONE")) != "NONE":
        raise imp.fail(f"post_transform {_text(at['post_transform'])} is not supported (NONE is)")
    agg = _text(at.get("aggregate_function", "SUM"))
    if agg not in ("SUM", "AVERAGE"):
        raise imp.fail(f"aggregate_function {agg} is not supported (SUM and AVERAGE are)")
    targets = int(at.get("n_targets", 1))
    ens = parse(node, imp.fail, "target", targets)
    if agg == "AVERAGE":  # onnxruntime: the mean over trees, then the base values
        ens.leaves = ens.leaves / ens.trees
    x = _features(imp, node.input[0])
    g = leaf_indicators(imp, x, ens, hint)
    heads = [(np.eye(targets), np.zeros(targets))]
    scale = leaf_scale(ens, heads)
    imp.set(node.output[0], _exact(head(imp, g, ens, *heads[0], scale, hint + "/scores"), scale))


def _label(imp, label_scores, parts: dict, hint: str):
    """ArgMax (first maximum) over the label-score columns. For a binary
    model's rank-one head [l0 s + o0, l1 s + o1] (`head`) it is the integer
    test [d s + e > 0], d = l1 - l0, e = o1 - o0 (ties go to the first
    column), i.e. [m >= 1] for the margin m = s - floor(-e / d) (d > 0) or
    m = ceil(e / -d) - s (d < 0): a (1, 1) MatMul of s and a Clip(m, 0, 1),
    whose range check joins the proof's lookup batch, where ArgMax's
    window-max argument runs a lookup of its own."""
    b = imp.b
    d = int(parts["multiples"][1] - parts["multiples"][0]) if "score" in parts else 0
    if d == 0:
        return b.emit("ArgMax", [label_scores], hint + "/label", axis=1, keepdims=0, select_last_index=0)
    e = int(parts["offsets"][1] - parts["offsets"][0])
    sign, beta = (1, -((-e) // d)) if d > 0 else (-1, -((-e) // -d))  # -floor(-e/d); ceil(e/-d) = -floor(-e/-d)
    m = b.emit("MatMul", [parts["score"], b.add_weight(hint + "/label_sign", np.array([[sign]], np.int64)),
                          b.add_weight(hint + "/label_offset", np.array([beta], np.int64))],
               hint + "/label_margin", a_zero_point=0, b_zero_point=0)
    bit = b.emit("Clip", [m], hint + "/label_bit", lo=0, hi=1)
    return b.emit("Reshape", [bit], hint + "/label", shape=(1,))


def TreeEnsembleClassifier(imp, node):
    """ai.onnx.ml TreeEnsembleClassifier with integer class labels 0..K-1."""
    at = _attrs(node)
    hint = node.name or node.output[0]
    labels = at.get("classlabels_int64s")
    if labels is None or list(labels) != list(range(len(labels))) or len(labels) < 2:
        raise imp.fail("class labels must be the integers 0..K-1 (K >= 2); string labels are not supported: "
                       "encode the targets as 0..K-1 before training")
    k = len(labels)
    post = _text(at.get("post_transform", "NONE"))
    if post not in ("NONE", "LOGISTIC", "SOFTMAX"):
        raise imp.fail(f"post_transform {post} is not supported (NONE, LOGISTIC and SOFTMAX are)")
    ens = parse(node, imp.fail, "class", k)
    used = set(np.asarray(at.get("class_ids", []), np.int64).tolist())
    eye, zeros = np.eye(k), np.zeros(k)
    if k > 2:
        label_head = prob_head = (eye, zeros)
    elif used == {0}:  # one score column s (onnxruntime's "binary case")
        if len(np.atleast_1d(at.get("base_values", []))) > 1 or post == "SOFTMAX":
            raise imp.fail("a two-class model with one score column takes at most one base value and no SOFTMAX")
        # label 1 iff s > 0.5 (every weight >= 0) or s > 0: the argmax of [1 - s, s] or [-s, s] (a tie
        # goes to the first), which are also the probabilities (sigmoid(-s) = 1 - sigmoid(s)): one head
        positive = bool(np.all(np.asarray(at.get("class_weights", [0.0])) >= 0))
        label_head = prob_head = (np.array([[-1.0, 1.0], [0.0, 0.0]]),
                                  np.array([1.0 if positive and post == "NONE" else 0.0, 0.0]))
        if post != "NONE" and positive:  # the label still tests s > 0.5 on the raw score
            label_head = (np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([0.5, 0.0]))
    elif used <= {0, 1} and 1 in used:
        if post == "SOFTMAX" or np.any(ens.base):
            raise imp.fail("a two-class model with two score columns is supported without base values or SOFTMAX")
        label_head = (np.array([[0.0, 0.0], [0.0, 1.0]]), zeros)  # label 1 iff the second score > 0
        prob_head = (eye, zeros)
    else:
        raise imp.fail(f"a two-class model scoring only class ids {sorted(used)} is not supported")

    x = _features(imp, node.input[0])
    g = leaf_indicators(imp, x, ens, hint)
    scale = leaf_scale(ens, [label_head, prob_head])
    same = all(np.array_equal(a, b) for a, b in zip(label_head, prob_head))
    parts: dict = {}
    label_scores = head(imp, g, ens, *label_head, scale, hint + "/label_scores", parts if k == 2 else None)
    scores = label_scores if same else head(imp, g, ens, *prob_head, scale, hint + "/scores")
    label = _label(imp, label_scores, parts, hint)
    imp.set(node.output[0], Act(label, None, 0, (label.lo, label.hi), False))
    if len(node.output) < 2 or not node.output[1]:
        return
    if post == "NONE":
        imp.set(node.output[1], _exact(scores, scale))
        return
    from zkaudit.onnx.ops_elementwise import _sigmoid, emit_table
    from zkaudit.onnx.ops_pool import emit_softmax

    raw = _rescaled(imp, scores, scale, _static_range(ens, *prob_head), hint)
    out: QParams = imp.out_qparams(node.output[1])
    if post == "LOGISTIC":
        y = emit_table(imp, raw, raw.scale, raw.zero_point, out, _sigmoid, "sigmoid", hint + "/logistic")
    else:
        y = emit_softmax(imp, raw, raw.scale, out, 1, hint + "/softmax")
    imp.set(node.output[1], Act(y, out.scale, out.zero_point, (out.qmin, out.qmax), True))


OPS = {(ML, "TreeEnsembleClassifier"): TreeEnsembleClassifier, (ML, "TreeEnsembleRegressor"): TreeEnsembleRegressor}
