"""Tree ensembles (`ai.onnx.ml` TreeEnsembleClassifier / TreeEnsembleRegressor,
as skl2onnx writes scikit-learn's decision trees, random forests and gradient
boosting) built from the circuit IR's ops. Two constructions, chosen by
CONSTRUCTION: "paths" (the default) walks each tree's path over its R real
nodes, no padding: by default every node's test once, one PointerWalk of
D steps from the T roots and two GatherRows, work O(R + T * D) (the walk
by doubled successor tables, O(R log D), and one GatherRows per level,
O(R * D), are kept as options, WALK); "dense" pads every tree to a
complete binary tree, cost T * 2^D, and needs no GatherRows. T trees, D
the deepest leaf's level, F features, H score columns.

Paths. The R real nodes of all trees (no padding) are laid out breadth
first over all trees at once: the T roots are rows 0..T-1, and a node's
false child is the row after its true child. Per node three committed
weights: f the feature it tests, Q its threshold on x's integer grid (Q_n
below) and t its true child's row. A leaf is a self-loop (f = 0, Q = x's
highest integer, so its test always holds, t = its own row). With the input
as a table X = Reshape(x, (F, 1)), by default (COMPARE_EVERY_NODE) every
node's test is made at once, giving each node's successor, and the walk
then follows the successors (`_walk_transitions`):

    v = GatherRows(X, f)                       (R, 1)  x[f_n] at every node
    s = Add(t, Clip(Sub(v, Q), 0, 1))          (R, 1)  each node's successor on this input:
                                                        t_n + [x[f_n] > Q_n] (the false branch)
    n_D = PointerWalk(s, roots, steps=D)       (T,)    D steps from the roots (a committed
                                                        0..T-1), all T*D in one lookup against s
    V = GatherRows(leaf values (R, H), n_D)    (T, H)  the reached leaves' values
    score = MatMul(ones (1, T), V, bias base)  (1, H)

Two GatherRows and one PointerWalk in all, O(R + T * D). WALK selects
the walk: "pointer" (the above, the default), "doubling" (successor tables
s_2 = GatherRows(s, s), s_4 = GatherRows(s_2, s_2), ... up to s_{2^k},
2^k >= D, then n_D = s_{2^k}[0..T-1]: ceil(log2 D) GatherRows of R rows,
O(R log D)) or "levels" (n_1 = s[0..T-1], n_{d+1} = GatherRows(s, n_d):
D - 1 GatherRows of T rows, each still paying for its table's R rows in
its proof, O(R D)). The R comparisons cost the prover O(R), the order of
the node table's own commitment (3R weights, range-checked and hashed).
Without COMPARE_EVERY_NODE each level tests only the nodes on the walk:
w = GatherRows(W (R, 3) = [f, Q, t], n_d), f, Q, t its columns (Gather),
v = GatherRows(X, f), n_{d+1} = t + Clip(v - Q, 0, 1): T*D comparisons but
ten IR nodes and two GatherRows per level, slower to prove and verify at
every depth measured (benchmarks/trees_bench.py). No way reads T*2^D
values: every leaf of depth < D loops to itself for the remaining levels. Where every tree scores one column only (gradient
boosting's one tree per class and round) the leaf table keeps one value per
node and the score is MatMul(Reshape(V, (1, T)), C, base) with C (T, H) the
trees' column one-hot: R + T H weights instead of R H. An index outside a
table has no row: the executor and the GatherRows and PointerWalk proofs refuse it. Trees
deeper than MAX_PATH_DEPTH or with more than MAX_PATH_NODES nodes in all are
refused. The public circuit reveals T, D, F, R and the output count: the
features tested, the thresholds, each tree's shape and the leaf values are
committed weights.

Dense. For T trees padded to complete binary trees of depth D (N = 2^D - 1
internal nodes in heap order, L = 2^D leaves):

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
finest that keeps the accumulator within int32 for the summed terms (T*L
leaves dense, T trees on paths); each tree adds
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
from zkaudit.circuit.ops import ACCUMULATOR_BITS, MAX_GATHER_COLUMNS, MAX_GATHER_ROWS_LOG
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
# "paths" (GatherRows along each tree's path, cost T * D) or "dense" (complete trees, cost T * 2^D); the tests
# and benchmarks set it to compare the two
CONSTRUCTION = "paths"
COMPARE_EVERY_NODE = True  # paths: every node's test at once, then the walk by successors (`_walk_transitions`)
# paths, every node's test at once: how the successors are followed. "pointer": one PointerWalk of D steps
# (O(R + T*D)); "doubling": successor tables S^(2^j) (ceil(log2 D) GatherRows, O(R log D)); "levels": one
# GatherRows per level (O(R D))
WALK = "pointer"
WALKS = ("pointer", "doubling", "levels")
MAX_PATH_DEPTH = 64  # paths: ten IR nodes per level on the walk, two per level by successors, two per doubling
MAX_PATH_NODES = 1 << 20  # paths: real nodes over all trees (rows of the node table, < 2^MAX_GATHER_ROWS_LOG)
MAX_TABLE_COLUMNS = MAX_GATHER_COLUMNS  # a GatherRows table's columns (circuit.infer refuses more): wider leaf tables go in blocks


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

    @property
    def sum_terms(self) -> int:
        """Bound on sum |indicator| over the leaf-value MatMul's inner axis: T*L (g + 1 in {0, 1})."""
        return self.trees << self.depth

    def scale_leaves(self, factor: float) -> None:
        self.leaves = self.leaves * factor


@dataclass
class Forest:
    """Real nodes only, R rows over all trees (the paths construction). Per
    row: features/thresholds/strict as in Ensemble (0 on leaves), leaf, the
    rows taken when the test `v <= t` (or `v < t`) holds (on_true) and when
    it fails (on_false) -- a leaf's own row for both --, values (R, C) leaf
    values (0 on internal rows), tree_of (R,) the row's tree; roots (T,)
    each tree's root row (0..T-1, `parse_paths`); depth the deepest leaf's
    level (>= 1)."""

    depth: int
    features: np.ndarray
    thresholds: np.ndarray
    strict: np.ndarray
    leaf: np.ndarray
    on_true: np.ndarray
    on_false: np.ndarray
    values: np.ndarray
    roots: np.ndarray
    tree_of: np.ndarray
    base: np.ndarray

    @property
    def trees(self) -> int:
        return len(self.roots)

    @property
    def rows(self) -> int:
        return len(self.features)

    @property
    def sum_terms(self) -> int:
        """Bound on sum |a| over the score MatMul's inner axis: T ones, each
        declared in [-2, 1] (`declared_weight_range`), hence 2T."""
        return 2 * self.trees

    @property
    def leaves(self) -> np.ndarray:
        """(T, L, C) every tree's leaf values, L the most leaves of a tree, a
        tree with fewer repeating its first (for per-tree minima and maxima)."""
        per_tree = [self.values[(self.tree_of == t) & self.leaf] for t in range(self.trees)]
        width = max(len(v) for v in per_tree)
        return np.stack([np.concatenate([v, np.repeat(v[:1], width - len(v), axis=0)]) for v in per_tree])

    def scale_leaves(self, factor: float) -> None:
        self.values = self.values * factor


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


@dataclass
class _Nodes:
    """The trees of a TreeEnsemble* node as read from its attributes,
    checked to be trees; `depth` is the deepest leaf's level (>= 1)."""

    trees: list
    roots: dict
    index: dict
    modes: list
    feats: np.ndarray
    values: np.ndarray
    true_ids: np.ndarray
    false_ids: np.ndarray
    leaf_values: dict
    depth: int
    base: np.ndarray

    def next_nodes(self, i: int) -> tuple[int, int]:
        """Node i's (true, false) children in the convention `v <= t` / `v < t`
        is "true": BRANCH_GTE / BRANCH_GT are the negations of LT / LEQ, so
        their branches are swapped."""
        on_true, on_false = int(self.true_ids[i]), int(self.false_ids[i])
        if self.modes[i] in ("BRANCH_GTE", "BRANCH_GT"):
            on_true, on_false = on_false, on_true
        return on_true, on_false

    def strict(self, i: int) -> bool:
        return self.modes[i] in ("BRANCH_LT", "BRANCH_GTE")


def _read(node, fail, weight_prefix: str, columns: int) -> _Nodes:
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
    base = np.zeros(columns)
    if "base_values" in at and len(at["base_values"]):
        b = np.asarray(at["base_values"], np.float64).reshape(-1)
        if b.size == 1 and columns == 2:  # one score column: its base value (onnxruntime's binary case)
            b = np.array([b[0], 0.0])
        if b.size != columns:
            raise fail(f"base_values has {b.size} values, expected {columns}")
        base = b
    return _Nodes(trees, roots, index, modes, feats, values, true_ids, false_ids, leaf_values, max(depth, 1), base)


def parse(node, fail, weight_prefix: str, columns: int) -> Ensemble:
    """The ensemble of a TreeEnsemble* node (`weight_prefix` 'class' or
    'target'), padded to complete trees; `fail(what)` builds the error."""
    nd = _read(node, fail, weight_prefix, columns)
    trees, depth = nd.trees, nd.depth
    if depth > MAX_DEPTH or len(trees) << depth > MAX_LEAVES:
        raise fail(f"{len(trees)} trees of depth {depth}: at most depth {MAX_DEPTH} and {MAX_LEAVES} padded leaves "
                   f"(trees x 2^depth) are supported by the dense construction; train with a smaller max_depth")

    n_int, n_leaf = (1 << depth) - 1, 1 << depth
    features = np.full((len(trees), n_int), -1, np.int64)
    thresholds = np.zeros((len(trees), n_int), nd.values.dtype)
    strict = np.zeros((len(trees), n_int), bool)
    leaves = np.zeros((len(trees), n_leaf, columns))
    for ti, t in enumerate(trees):
        stack = [(nd.roots[t], 0, 0)]  # (node id, level, position in level)
        while stack:
            n, k, j = stack.pop()
            i = nd.index[(t, n)]
            if nd.modes[i] == "LEAF":
                span = 1 << (depth - k)
                leaves[ti, j * span:(j + 1) * span] = nd.leaf_values.get((t, n), np.zeros(columns))
                continue
            heap = (1 << k) - 1 + j
            on_true, on_false = nd.next_nodes(i)
            features[ti, heap] = nd.feats[i]
            thresholds[ti, heap] = nd.values[i]
            strict[ti, heap] = nd.strict(i)
            stack += [(on_true, k + 1, 2 * j), (on_false, k + 1, 2 * j + 1)]
    return Ensemble(depth, features, thresholds, strict, leaves, nd.base)


def parse_paths(node, fail, weight_prefix: str, columns: int) -> Forest:
    """The ensemble of a TreeEnsemble* node as a table of its real nodes
    (`Forest`, the paths construction): breadth first over all trees at
    once -- the T roots are rows 0..T-1, then the nodes of level 1, ... --
    a node's true child directly followed by its false child."""
    nd = _read(node, fail, weight_prefix, columns)
    rows: dict[tuple[int, int], int] = {}
    queue = [(t, nd.roots[t]) for t in nd.trees]  # the roots are rows 0..T-1
    for t, n in queue:  # grows while it is walked: breadth first over all trees at once
        rows[(t, n)] = len(rows)
        i = nd.index[(t, n)]
        if nd.modes[i] != "LEAF":
            queue += [(t, c) for c in nd.next_nodes(i)]
    r_count = len(rows)
    if nd.depth > MAX_PATH_DEPTH or r_count > MAX_PATH_NODES:
        raise fail(f"{len(nd.trees)} trees of depth {nd.depth} with {r_count} nodes: at most depth {MAX_PATH_DEPTH} "
                   f"and {MAX_PATH_NODES} nodes are supported; train with a smaller max_depth")
    features = np.zeros(r_count, np.int64)
    thresholds = np.zeros(r_count, nd.values.dtype)
    strict = np.zeros(r_count, bool)
    leaf = np.zeros(r_count, bool)
    on_true = np.arange(r_count, dtype=np.int64)  # a leaf loops to itself
    on_false = np.arange(r_count, dtype=np.int64)
    values = np.zeros((r_count, columns))
    for (t, n), r in rows.items():
        i = nd.index[(t, n)]
        if nd.modes[i] == "LEAF":
            leaf[r] = True
            values[r] = nd.leaf_values.get((t, n), np.zeros(columns))
            continue
        yes, no = nd.next_nodes(i)
        features[r], thresholds[r], strict[r] = nd.feats[i], nd.values[i], nd.strict(i)
        on_true[r], on_false[r] = rows[(t, yes)], rows[(t, no)]
    position = {t: ti for ti, t in enumerate(nd.trees)}
    tree_of = np.array([position[t] for (t, _) in rows], np.int64)
    roots = np.array([rows[(t, nd.roots[t])] for t in nd.trees], np.int64)
    return Forest(nd.depth, features, thresholds, strict, leaf, on_true, on_false, values, roots, tree_of, nd.base)


def grid_thresholds(x: Act, ens: Ensemble | Forest) -> np.ndarray:
    """Q (T, N), or (R,) for a Forest: the largest grid integer q whose
    value v(q) passes each node's test (v <= t, or v < t when strict), in
    onnxruntime's precision; x's lowest integer - 1 where none does. Padded
    nodes and leaves get 0."""
    spec = x.spec
    grid = np.arange(spec.lo, spec.hi + 1, dtype=np.int64)
    real = dequantize(spec.__class__(spec.name, spec.shape, spec.lo, spec.hi, x.scale, x.zero_point), grid)
    real = real.astype(np.float32).astype(ens.thresholds.dtype)  # the float32 input onnxruntime compares
    q = np.zeros(ens.features.shape, np.int64)
    real_nodes = ~ens.leaf if isinstance(ens, Forest) else ens.features >= 0
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


def path_rows(imp, x: Act, forest: Forest, hint: str):
    """The spec of n_D (T,): the row of the leaf each tree reaches (see the
    module docstring, "Paths"): by the nodes' successors (`_walk_transitions`,
    COMPARE_EVERY_NODE) or, here, one level per step testing the nodes on
    the walk."""
    b = imp.b
    t_count, f_count = forest.trees, x.shape[-1]
    if len(x.shape) != 2 or x.shape[0] != 1:
        raise imp.fail(f"input of shape {x.shape}: tree ensembles take one row of features (1, F)")
    if forest.features.max(initial=0) >= f_count:
        raise imp.fail(f"a node tests feature {int(forest.features.max())} but the input has {f_count} features")
    if forest.rows > 1 << MAX_GATHER_ROWS_LOG:
        raise imp.fail(f"{forest.rows} tree nodes: at most 2^{MAX_GATHER_ROWS_LOG} are supported")
    inner = ~forest.leaf
    if np.any(forest.on_false[inner] != forest.on_true[inner] + 1):
        raise imp.fail("internal error: a node's false child is not the row after its true child")
    if not np.array_equal(forest.roots, np.arange(t_count)):
        raise imp.fail("internal error: the trees' roots are not the table's first rows")
    # per node f, Q and the true child t; the false child is the next row, so n' = t + b. A leaf tests
    # x[0] <= x's highest integer (always true) and loops to itself.
    q = np.where(inner, grid_thresholds(x, forest), x.spec.hi)
    feature_table = b.emit("Reshape", [x.spec], hint + "/feature_table", shape=(f_count, 1))
    if COMPARE_EVERY_NODE:
        return _walk_transitions(imp, forest, q, feature_table, hint)
    table = b.add_weight(hint + "/nodes", np.stack([forest.features, q, forest.on_true], axis=1))
    n = None
    for d in range(forest.depth):
        level = f"{hint}/level{d}"
        row = (b.emit("Gather", [table], level + "/node", axis=0, indices=list(range(t_count))) if n is None
               else b.emit("GatherRows", [table, n], level + "/node"))  # (T, 3); level 0: the roots, rows 0..T-1
        f = b.emit("Gather", [row], level + "/feature", axis=1, indices=[0])
        f = b.emit("Reshape", [f], level + "/feature_index", shape=(t_count,))
        thr = b.emit("Gather", [row], level + "/threshold", axis=1, indices=[1])
        on_true = b.emit("Gather", [row], level + "/on_true", axis=1, indices=[2])
        xv = b.emit("GatherRows", [feature_table, f], level + "/value")  # (T, 1): x[f_n]
        c = b.emit("Sub", [xv, thr], level + "/compare", a_zero_point=0, b_zero_point=0)
        bit = b.emit("Clip", [c], level + "/branch", lo=0, hi=1)  # 1 iff x[f_n] > Q_n: the false branch
        nxt = b.emit("Add", [on_true, bit], level + "/next", a_zero_point=0, b_zero_point=0)
        n = b.emit("Reshape", [nxt], level + "/rows", shape=(t_count,))
    return n


def _walk_transitions(imp, forest: Forest, q: np.ndarray, feature_table, hint: str):
    """n_D by a transition table: every node's test first, on all R rows at
    once, then the walk along the successors:

        v = GatherRows(X, f)        (R, 1)   x[f_n] for every node (f, Q, t committed (R,))
        s = Add(t, Clip(Sub(v, Q), 0, 1))    each node's successor on this input
        n_D = PointerWalk(s, roots, steps=D)   (WALK "pointer")

    R comparisons where the walk makes T*D, but the node table is
    committed anyway (3R weights, range-checked and hashed), so the prover's
    work stays O(R + T*D): the PointerWalk proves all T*D steps with one
    lookup against s (`layers.pointer_walk`), roots a committed 0..T-1.

    WALK "doubling": successor tables S_{2j} = GatherRows(S_j, S_j) (R, 1)
    -- where each node is 2j steps on -- until 2^k >= D steps (a leaf loops
    to itself, so extra steps keep it), and n_D = S_{2^k}[0..T-1], a
    constant Gather: ceil(log2 D) GatherRows of R rows. WALK "levels":
    n_1 = Reshape(Gather(s, rows 0..T-1), (T,)), n_{d+1} =
    Reshape(GatherRows(s, n_d), (T,)): D - 1 GatherRows of T rows, each
    paying for its table's R rows (benchmarks/trees_bench.py compares them)."""
    if WALK not in WALKS:
        raise imp.fail(f"internal error: ml_trees.WALK is {WALK!r}, not one of {WALKS}")
    b = imp.b
    t_count, r_count = forest.trees, forest.rows
    f = b.add_weight(hint + "/node_features", forest.features)
    thr = b.add_weight(hint + "/node_thresholds", q.reshape(r_count, 1))
    on_true = b.add_weight(hint + "/node_true", forest.on_true.reshape(r_count, 1))
    xv = b.emit("GatherRows", [feature_table, f], hint + "/node_values")  # (R, 1): x[f_n]
    c = b.emit("Sub", [xv, thr], hint + "/compare", a_zero_point=0, b_zero_point=0)
    bit = b.emit("Clip", [c], hint + "/branch", lo=0, hi=1)  # 1 iff x[f_n] > Q_n: the false branch
    successor = b.emit("Add", [on_true, bit], hint + "/successor", a_zero_point=0, b_zero_point=0)  # (R, 1)
    if WALK == "pointer":
        roots = b.add_weight(hint + "/roots", np.arange(t_count))  # the roots are rows 0..T-1
        return b.emit("PointerWalk", [successor, roots], f"{hint}/rows", steps=forest.depth)
    if WALK == "doubling":
        jump, steps = successor, 1  # jump[n] = the row `steps` steps on from row n
        while steps < forest.depth:
            rows = b.emit("Reshape", [jump], f"{hint}/steps{steps}/rows", shape=(r_count,))
            jump, steps = b.emit("GatherRows", [jump, rows], f"{hint}/steps{2 * steps}"), 2 * steps
        reached = b.emit("Gather", [jump], f"{hint}/reached_rows", axis=0, indices=list(range(t_count)))
        return b.emit("Reshape", [reached], f"{hint}/rows", shape=(t_count,))
    n = None
    for d in range(forest.depth):
        nxt = (b.emit("Gather", [successor], f"{hint}/level{d}/next", axis=0, indices=list(range(t_count)))
               if n is None else b.emit("GatherRows", [successor, n], f"{hint}/level{d}/next"))  # (T, 1)
        n = b.emit("Reshape", [nxt], f"{hint}/level{d}/rows", shape=(t_count,))
    return n


def _tree_columns(forest: Forest, table: np.ndarray) -> np.ndarray | None:
    """(T, H) one-hot of the one column each tree's leaves score, when every
    tree scores at most one of H >= 2 columns (gradient boosting writes one
    tree per class and round); else None."""
    if table.shape[1] < 2:
        return None
    used = np.zeros((forest.trees, table.shape[1]), bool)
    np.logical_or.at(used, forest.tree_of, table != 0)
    return used.astype(np.int64) if np.all(used.sum(axis=1) <= 1) else None


def _columns(b, blocks, start: int, stop: int, hint: str):
    """Columns start..stop-1 of the blocks laid side by side (each block
    MAX_TABLE_COLUMNS wide but the last): a block itself, a Gather of one
    block's columns, or the Concat of pieces of several."""
    pieces = []
    for j, block in enumerate(blocks):
        lo, hi = j * MAX_TABLE_COLUMNS, j * MAX_TABLE_COLUMNS + block.shape[1]
        a, z = max(start, lo), min(stop, hi)
        if a >= z:
            continue
        whole = (a, z) == (lo, hi)
        pieces.append(block if whole else b.emit("Gather", [block], hint + (f"/block{j}" if len(blocks) > 1 else ""),
                                                  axis=1, indices=list(range(a - lo, z - lo))))
    return pieces[0] if len(pieces) == 1 else b.emit("Concat", pieces, hint, axis=1)


def _path_sums(imp, reached, forest: Forest, scale: float, hint: str):
    """The paths construction's sums. Every head's leaf-value columns are
    one committed table (R, H) gathered once at the reached rows (T, H);
    each head's columns (a Gather where there are several heads) are summed
    over the trees by MatMul(ones (1, T), ., bias base). Where each tree
    scores one column only (`_tree_columns`), a head keeps one value per
    node and the sum is MatMul(values (1, T), one-hot (T, H), bias base):
    R + T*H weights instead of R*H."""
    b = imp.b
    shared: dict = {}

    def head_sum(plans, k):
        if not shared:  # every head's columns, gathered once (in blocks of at most MAX_TABLE_COLUMNS)
            tables = [np.rint(forest.values @ cols / scale).astype(np.int64) for cols, *_ in plans]
            picks = [_tree_columns(forest, t) for t in tables]
            tables = [t if p is None else t.sum(axis=1, keepdims=True) for t, p in zip(tables, picks)]
            name = plans[0][2] if len(plans) == 1 else hint + "/heads"
            table = np.concatenate(tables, axis=1)
            blocks = []
            for first in range(0, table.shape[1], MAX_TABLE_COLUMNS):
                part = "" if table.shape[1] <= MAX_TABLE_COLUMNS else f"/block{first // MAX_TABLE_COLUMNS}"
                values = b.add_weight(name + "/leaf_values" + part, table[:, first:first + MAX_TABLE_COLUMNS])
                blocks.append(b.emit("GatherRows", [values, reached], name + "/reached" + part))  # (T, <= 63)
            shared.update(blocks=blocks, starts=np.cumsum([0] + [t.shape[1] for t in tables]).tolist(), picks=picks)
        _, base, weight_hint, name = plans[k]
        start, stop, pick = shared["starts"][k], shared["starts"][k + 1], shared["picks"][k]
        v = _columns(b, shared["blocks"], start, stop, weight_hint + "/reached")
        bias = b.add_weight(weight_hint + "/base", base)
        if pick is None:
            if "ones" not in shared:
                shared["ones"] = b.add_weight(hint + "/sum_trees", np.ones((1, forest.trees), np.int64))
            return b.emit("MatMul", [shared["ones"], v, bias], name, a_zero_point=0, b_zero_point=0)
        v = b.emit("Reshape", [v], weight_hint + "/by_tree", shape=(1, forest.trees))
        return b.emit("MatMul", [v, b.add_weight(weight_hint + "/tree_columns", pick), bias], name,
                      a_zero_point=0, b_zero_point=0)

    return head_sum


def _parse(node, fail, weight_prefix: str, columns: int):
    return (parse_paths if CONSTRUCTION == "paths" else parse)(node, fail, weight_prefix, columns)


def _reach(imp, x: Act, ens, scale: float, hint: str):
    """The `head_sum` of the construction `ens` was parsed for (its
    traversal emitted first)."""
    if isinstance(ens, Forest):
        return _path_sums(imp, path_rows(imp, x, ens, hint), ens, scale, hint)
    return _dense_sums(imp, leaf_indicators(imp, x, ens, hint), ens, scale)


def leaf_scale(ens: Ensemble | Forest, heads: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """One scale for every head's leaf values: as fine as the int32 accumulator
    allows for the summed terms (T*L leaves dense, T trees on paths; and
    MAX_LEAF_BITS), coarse enough for the biases."""
    bits = min(MAX_LEAF_BITS, int(math.floor(math.log2(2 ** (ACCUMULATOR_BITS - 2) / ens.sum_terms))))
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


def _dense_sums(imp, g, ens: Ensemble, scale: float):
    """The dense construction's sums: for each head, MatMul(g, leaf values,
    bias base) -- the reached leaves' values (g + 1 is their indicator)."""
    b = imp.b

    def head_sum(plans, k):
        cols, base, weight_hint, name = plans[k]
        values = np.rint((ens.leaves @ cols).reshape(-1, cols.shape[1]) / scale).astype(np.int64)
        return b.emit("MatMul", [g, b.add_weight(weight_hint + "/leaf_values", values),
                                 b.add_weight(weight_hint + "/base", base)], name, a_zero_point=-1, b_zero_point=0)

    return head_sum


def emit_heads(imp, head_sum, ens, heads, scale: float, parts=None) -> list:
    """The scores s = base @ coef + const + sum of reached leaves @ coef, as
    integers at `scale`, for each head (coef, const, hint); `head_sum(plans,
    k)` emits head k's sum of the reached leaves' values (`_dense_sums`,
    `_path_sums`). When a head's columns are integer multiples of one (a
    binary model's [c - s, s]), the leaves are committed once, for s, and the
    columns come from a (1, 1) x (1, H) MatMul: one leaf value per leaf
    instead of H (the weight commitment's range checks and hash link are paid
    per weight); `parts` (if given) receives the first head's s, multiples
    and offsets for the label test."""
    b = imp.b
    plans, singles = [], []
    for coef, const, hint in heads:
        single = _one_column(coef)
        cols = single[0] if single else coef
        base = np.rint((ens.base @ cols + (0 if single else const)) / scale).astype(np.int64)
        plans.append((cols, base, hint, hint if single is None else hint + "/score"))
        singles.append(single)
    out = []
    for k, (single, (coef, const, hint)) in enumerate(zip(singles, heads)):
        s = head_sum(plans, k)
        if single is None:
            out.append(s)
            continue
        lam = single[1]
        bias = np.rint(np.asarray(const, np.float64) / scale).astype(np.int64)
        if parts is not None and k == 0:  # the caller's label test reads s, the multiples and the offsets
            parts.update(score=s, multiples=lam, offsets=bias)
        out.append(b.emit("MatMul", [s, b.add_weight(hint + "/columns", lam[None, :]),
                                     b.add_weight(hint + "/offsets", bias)],
                          hint, a_zero_point=0, b_zero_point=0))
    return out


def score_tolerance(ens: Ensemble | Forest, scale: float) -> float:
    """The most an exact score differs from the float sum: half a step per
    tree, for the base value and for a one-column head's offset (the
    thresholds add nothing on the grid)."""
    return (ens.trees + 2) / 2 * scale


def _static_range(ens: Ensemble | Forest, coef, const) -> tuple[float, float]:
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


def _regressor_header(at, fail) -> tuple[str, int]:
    """(aggregate function, targets) of a supported TreeEnsembleRegressor."""
    if _text(at.get("post_transform", "NONE")) != "NONE":
        raise fail(f"post_transform {_text(at['post_transform'])} is not supported (NONE is)")
    agg = _text(at.get("aggregate_function", "SUM"))
    if agg not in ("SUM", "AVERAGE"):
        raise fail(f"aggregate_function {agg} is not supported (SUM and AVERAGE are)")
    return agg, int(at.get("n_targets", 1))


def _classifier_header(at, fail) -> tuple[int, str]:
    """(classes, post_transform) of a supported TreeEnsembleClassifier."""
    labels = at.get("classlabels_int64s")
    if labels is None or list(labels) != list(range(len(labels))) or len(labels) < 2:
        raise fail("class labels must be the integers 0..K-1 (K >= 2); string labels are not supported: "
                   "encode the targets as 0..K-1 before training")
    post = _text(at.get("post_transform", "NONE"))
    if post not in ("NONE", "LOGISTIC", "SOFTMAX"):
        raise fail(f"post_transform {post} is not supported (NONE, LOGISTIC and SOFTMAX are)")
    return len(labels), post


def precheck(node, fail) -> None:
    """A tree ensemble's attributes and trees checked before anything runs
    the model: compile calibrates by running the float model, and
    onnxruntime's output for a variant we refuse (PROBIT) held non-finite
    values on some runs, which then hid the refusal by name."""
    at = _attrs(node)
    if node.op_type == "TreeEnsembleClassifier":
        k, _ = _classifier_header(at, fail)
        _parse(node, fail, "class", k)
    elif node.op_type == "TreeEnsembleRegressor":
        _, targets = _regressor_header(at, fail)
        _parse(node, fail, "target", targets)


def TreeEnsembleRegressor(imp, node):
    """ai.onnx.ml TreeEnsembleRegressor: post_transform NONE, SUM or AVERAGE."""
    at = _attrs(node)
    hint = node.name or node.output[0]
    agg, targets = _regressor_header(at, imp.fail)
    ens = _parse(node, imp.fail, "target", targets)
    if agg == "AVERAGE":  # onnxruntime: the mean over trees, then the base values
        ens.scale_leaves(1.0 / ens.trees)
    x = _features(imp, node.input[0])
    heads = [(np.eye(targets), np.zeros(targets))]
    scale = leaf_scale(ens, heads)
    (scores,) = emit_heads(imp, _reach(imp, x, ens, scale, hint), ens, [(*heads[0], hint + "/scores")], scale)
    imp.set(node.output[0], _exact(scores, scale))


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
    k, post = _classifier_header(at, imp.fail)
    ens = _parse(node, imp.fail, "class", k)
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
    scale = leaf_scale(ens, [label_head, prob_head])
    same = all(np.array_equal(a, b) for a, b in zip(label_head, prob_head))
    parts: dict = {}
    heads = [(*label_head, hint + "/label_scores")] + ([] if same else [(*prob_head, hint + "/scores")])
    outs = emit_heads(imp, _reach(imp, x, ens, scale, hint), ens, heads, scale, parts if k == 2 else None)
    label_scores, scores = outs[0], outs[-1]
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
