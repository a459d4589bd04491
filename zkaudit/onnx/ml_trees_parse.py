"""Tree ensembles' attributes read into trees (`zkaudit.onnx.ml_trees`):
the TreeEnsemble* node's nodes_* and weight attributes checked to be
trees (`_read`), laid out for the dense construction (`Ensemble`, complete
trees in heap order, `parse`) or the paths construction (`Forest`, the real
nodes breadth first, `parse_paths`); each node's threshold on the input's
integer grid (`grid_thresholds`); the classifier's and regressor's header
attributes checked. The limits (MAX_DEPTH, MAX_PATH_DEPTH, ...) are
`ml_trees`'s settings, read from there when called, so that what the tests
and benchmarks set there applies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import helper, numpy_helper

from zkaudit.circuit import dequantize
from zkaudit.onnx.values import Act


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
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
    nd = _read(node, fail, weight_prefix, columns)
    trees, depth = nd.trees, nd.depth
    if depth > ml_trees.MAX_DEPTH or len(trees) << depth > ml_trees.MAX_LEAVES:
        raise fail(f"{len(trees)} trees of depth {depth}: at most depth {ml_trees.MAX_DEPTH} and "
                   f"{ml_trees.MAX_LEAVES} padded leaves "
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
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
    nd = _read(node, fail, weight_prefix, columns)
    rows: dict[tuple[int, int], int] = {}
    queue = [(t, nd.roots[t]) for t in nd.trees]  # the roots are rows 0..T-1
    for t, n in queue:  # grows while it is walked: breadth first over all trees at once
        rows[(t, n)] = len(rows)
        i = nd.index[(t, n)]
        if nd.modes[i] != "LEAF":
            queue += [(t, c) for c in nd.next_nodes(i)]
    r_count = len(rows)
    if nd.depth > ml_trees.MAX_PATH_DEPTH or r_count > ml_trees.MAX_PATH_NODES:
        raise fail(f"{len(nd.trees)} trees of depth {nd.depth} with {r_count} nodes: at most depth "
                   f"{ml_trees.MAX_PATH_DEPTH} "
                   f"and {ml_trees.MAX_PATH_NODES} nodes are supported; train with a smaller max_depth")
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
