"""Tree ensembles' circuit nodes and weights (`zkaudit.onnx.ml_trees`,
whose docstring describes both constructions): the dense construction's
node tests and leaf indicators (`leaf_indicators`, the feature selection
dense or factored) and sums (`_dense_sums`); the paths construction's walk
to the reached leaves (`path_rows`, `_walk_transitions`) and sums
(`_path_sums`); the leaf values' scale and the score heads shared by both
(`leaf_scale`, `emit_heads`, `score_tolerance`). The settings (WALK,
COMPARE_EVERY_NODE, MAX_TABLE_COLUMNS, ...) are `ml_trees`'s, read from
there when called, so that what the tests and benchmarks set there
applies."""

from __future__ import annotations

import math

import numpy as np

from zkaudit.circuit.ops import ACCUMULATOR_BITS, MAX_GATHER_ROWS_LOG
from zkaudit.onnx.ml_trees_parse import Ensemble, Forest, grid_thresholds
from zkaudit.onnx.values import Act


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
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
    log = max(0, (f_count - 1).bit_length())
    rows, cols = 1 << (log // 2), 1 << (log - log // 2)
    saving = (f_count - rows - cols) * nodes
    return (rows, cols) if saving > 0 and saving >= ml_trees.MIN_FACTORED_SAVING else None


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
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
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
    grid = selection_grid(f_count, ens.features.size) if ml_trees.FACTORED_SELECTION else None
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
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
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
    if ml_trees.COMPARE_EVERY_NODE:
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
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
    if ml_trees.WALK not in ml_trees.WALKS:
        raise imp.fail(f"internal error: ml_trees.WALK is {ml_trees.WALK!r}, not one of {ml_trees.WALKS}")
    b = imp.b
    t_count, r_count = forest.trees, forest.rows
    f = b.add_weight(hint + "/node_features", forest.features)
    thr = b.add_weight(hint + "/node_thresholds", q.reshape(r_count, 1))
    on_true = b.add_weight(hint + "/node_true", forest.on_true.reshape(r_count, 1))
    xv = b.emit("GatherRows", [feature_table, f], hint + "/node_values")  # (R, 1): x[f_n]
    c = b.emit("Sub", [xv, thr], hint + "/compare", a_zero_point=0, b_zero_point=0)
    bit = b.emit("Clip", [c], hint + "/branch", lo=0, hi=1)  # 1 iff x[f_n] > Q_n: the false branch
    successor = b.emit("Add", [on_true, bit], hint + "/successor", a_zero_point=0, b_zero_point=0)  # (R, 1)
    if ml_trees.WALK == "pointer":
        roots = b.add_weight(hint + "/roots", np.arange(t_count))  # the roots are rows 0..T-1
        return b.emit("PointerWalk", [successor, roots], f"{hint}/rows", steps=forest.depth)
    if ml_trees.WALK == "doubling":
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
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
    pieces = []
    for j, block in enumerate(blocks):
        lo, hi = j * ml_trees.MAX_TABLE_COLUMNS, j * ml_trees.MAX_TABLE_COLUMNS + block.shape[1]
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
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
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
            for first in range(0, table.shape[1], ml_trees.MAX_TABLE_COLUMNS):
                part = ("" if table.shape[1] <= ml_trees.MAX_TABLE_COLUMNS
                        else f"/block{first // ml_trees.MAX_TABLE_COLUMNS}")
                values = b.add_weight(name + "/leaf_values" + part, table[:, first:first + ml_trees.MAX_TABLE_COLUMNS])
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


def leaf_scale(ens: Ensemble | Forest, heads: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """One scale for every head's leaf values: as fine as the int32 accumulator
    allows for the summed terms (T*L leaves dense, T trees on paths; and
    MAX_LEAF_BITS), coarse enough for the biases."""
    from zkaudit.onnx import ml_trees  # the settings, read when called (see the module docstring)
    bits = min(ml_trees.MAX_LEAF_BITS, int(math.floor(math.log2(2 ** (ACCUMULATOR_BITS - 2) / ens.sum_terms))))
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
