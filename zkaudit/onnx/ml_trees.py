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

The code lies in three modules: `ml_trees_parse` reads the attributes into
trees, `ml_trees_build` emits the constructions' circuit nodes and weights,
and this one holds the settings (read from here when called: the tests and
benchmarks set them here), the features' grid and the ops themselves.
"""

from __future__ import annotations

import math

import numpy as np

from zkaudit.circuit.ops import MAX_GATHER_COLUMNS
from zkaudit.onnx.ml_trees_build import (_dense_sums, _one_column, _path_sums, _static_range, emit_heads,
                                         leaf_indicators, leaf_scale, path_matrix, path_rows, score_tolerance,
                                         selection_grid)
from zkaudit.onnx.ml_trees_parse import (Ensemble, Forest, _attrs, _classifier_header, _regressor_header,
                                         grid_thresholds, parse, parse_paths)
from zkaudit.onnx.quant import QParams, from_range
from zkaudit.onnx.values import Act

# the ops and settings, and the names of ml_trees_parse / ml_trees_build that other modules, the tests and the
# benchmarks import from here
__all__ = [
    "COMPARE_EVERY_NODE", "CONSTRUCTION", "FACTORED_SELECTION", "INPUT_RANGE", "MAX_DEPTH", "MAX_LEAF_BITS",
    "MAX_LEAVES", "MAX_PATH_DEPTH", "MAX_PATH_NODES", "MAX_TABLE_COLUMNS", "MIN_FACTORED_SAVING", "ML", "OPS",
    "SCORE_RANGE", "WALK", "WALKS",
    "Ensemble", "Forest", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "_one_column", "emit_heads",
    "grid_thresholds", "leaf_indicators", "leaf_scale", "parse", "parse_paths", "path_matrix", "path_rows",
    "power_of_two_grid", "precheck", "score_tolerance", "selection_grid",
]

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


def _parse(node, fail, weight_prefix: str, columns: int):
    return (parse_paths if CONSTRUCTION == "paths" else parse)(node, fail, weight_prefix, columns)


def _reach(imp, x: Act, ens, scale: float, hint: str):
    """The `head_sum` of the construction `ens` was parsed for (its
    traversal emitted first)."""
    if isinstance(ens, Forest):
        return _path_sums(imp, path_rows(imp, x, ens, hint), ens, scale, hint)
    return _dense_sums(imp, leaf_indicators(imp, x, ens, hint), ens, scale)


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