"""The paths construction of tree ensembles (zkaudit.onnx.ml_trees,
CONSTRUCTION = "paths"): the node table's layout, a reference walk of it,
trees of uneven depth and single-leaf trees against onnxruntime, the circuit's
size (T (D + 1) rows gathered from committed tables, not T 2^D), trees too
deep for the dense construction, refusals, proofs end to end and a prover
that lies about a branch. What both constructions share (every sklearn
kind, the label rules, the thresholds in every mode) is in
tests/onnx/test_ml_trees.py, run under both."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from zkaudit.circuit import dequantize, quantize
from zkaudit.circuit.errors import CircuitError
from zkaudit.onnx import OnnxImportError
from zkaudit.onnx.compile import import_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_ml_trees import _circuit_outputs, _export, _lowered, _ort, gather_rows_provable  # noqa: E402

skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is in the dev extras (pip install -e .[dev])")


@pytest.fixture(autouse=True)
def paths(monkeypatch):
    import zkaudit.onnx.ml_trees as ml_trees

    monkeypatch.setattr(ml_trees, "CONSTRUCTION", "paths")


@pytest.fixture(params=["pointer", "doubling", "levels", "walk"])
def variant(request, monkeypatch):
    """The four walks: every node's test at once, then the successors
    followed by one PointerWalk (the default), by successor tables doubled
    or by one GatherRows per level; or the tests of the nodes on the walk,
    level by level (ml_trees.COMPARE_EVERY_NODE, WALK)."""
    import zkaudit.onnx.ml_trees as ml_trees

    monkeypatch.setattr(ml_trees, "COMPARE_EVERY_NODE", request.param != "walk")
    monkeypatch.setattr(ml_trees, "WALK", request.param if request.param in ml_trees.WALKS else "pointer")
    return request.param


needs_layer = pytest.mark.skipif(not gather_rows_provable(), reason="GatherRows has no proof layer yet")


# -- hand-built ensembles -------------------------------------------------------

# A tree is a leaf value (a float, or a tuple: one per target) or (feature, threshold, mode, true, false).
UNEVEN = [
    (0, 0.25, "BRANCH_LEQ", 1.0,  # a leaf at depth 1 beside a branch four levels deep
     (1, -0.5, "BRANCH_LT", (0, 1.0, "BRANCH_GT", 2.0, (1, 0.75, "BRANCH_GTE", 3.0, 4.0)), 5.0)),
    0.5,  # a single node: the root is a leaf
    (1, 0.0, "BRANCH_LEQ", -1.0, 1.25),
]


def _regressor(trees, features=2, base=None, targets=1, average=False):
    """A TreeEnsembleRegressor over `features` inputs from nested trees."""
    at = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                          "nodes_truenodeids", "nodes_falsenodeids", "target_treeids", "target_nodeids",
                          "target_ids", "target_weights")}

    def add(t, tree, ids):
        n = ids[0]
        ids[0] += 1
        if not isinstance(tree, tuple) or len(tree) != 5:
            row = (t, n, 0, 0.0, "LEAF", 0, 0)
            for c, v in enumerate(np.atleast_1d(tree)):
                for key, val in zip(("target_treeids", "target_nodeids", "target_ids", "target_weights"),
                                    (t, n, c, float(v))):
                    at[key].append(val)
        else:
            f, th, mode, yes, no = tree
            slot = len(at["nodes_treeids"])
            row = (t, n, f, th, mode, 0, 0)
            for key, val in zip(list(at)[:7], row):
                at[key].append(val)
            at["nodes_truenodeids"][slot] = add(t, yes, ids)
            at["nodes_falsenodeids"][slot] = add(t, no, ids)
            return n
        for key, val in zip(list(at)[:7], row):
            at[key].append(val)
        return n

    for t, tree in enumerate(trees):
        add(t, tree, [0])
    extra = {"base_values": list(base)} if base is not None else {}
    node = helper.make_node("TreeEnsembleRegressor", ["X"], ["Y"], domain="ai.onnx.ml", n_targets=targets,
                            aggregate_function="AVERAGE" if average else "SUM", **at, **extra)
    graph = helper.make_graph([node], "trees", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, features])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, targets])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 10
    return model


def _imported(model, calib):
    lowered = onnx.ModelProto()
    lowered.CopyFrom(model)
    from zkaudit.onnx.load import fix_input_shapes

    fix_input_shapes(lowered, None, [])
    return import_model(lowered, ranges={"X": calib}, name="m")


def _grid_samples(spec, features, count, seed=0, extra=()):
    """Grid points of every feature: `count` random ones plus `extra` values
    (thresholds and their neighbours) in every feature."""
    rng = np.random.default_rng(seed)
    q = rng.integers(spec.lo, spec.hi + 1, size=(count, features))
    special = quantize(spec, np.asarray(extra, np.float32)) if len(extra) else np.zeros(0, np.int64)
    near = np.unique(np.clip(np.concatenate([special - 1, special, special + 1]), spec.lo, spec.hi))
    grid_pairs = np.array(np.meshgrid(near, near)).reshape(2, -1).T[:, :features] if len(near) else q[:0]
    q = np.concatenate([q, grid_pairs])
    return dequantize(spec, q).astype(np.float32)


@pytest.fixture
def small_grid(monkeypatch):
    import zkaudit.onnx.ml_trees as ml_trees

    monkeypatch.setattr(ml_trees, "INPUT_RANGE", (-128, 127))


@pytest.mark.parametrize("average", [False, True])
def test_uneven_depths_and_a_single_leaf_tree_agree_with_onnxruntime(small_grid, average, variant):
    """Leaves at depths 0 (a tree that is one leaf), 1 and 4, all four
    branch modes, thresholds on grid points: every sampled grid point's
    score is onnxruntime's within the rounding bound."""
    from zkaudit.onnx.ml_trees import score_tolerance

    model = _regressor(UNEVEN, base=[0.125], average=average)
    circuit, weights = _imported(model, (-4.0, 3.9))
    spec = circuit.inputs[0]
    assert spec.scale == 2.0 ** -5  # 0.25, -0.5, 1.0, 0.75 are grid points
    x = _grid_samples(spec, 2, 300, extra=[0.25, -0.5, 1.0, 0.75, 0.0])
    ref, ours = _ort(model, x)[0], _circuit_outputs(circuit, weights, x)[0]
    forest = _forest(model, "target", 1)
    assert forest.depth == 4 and forest.trees == 3
    scale = circuit.outputs[0].scale
    assert np.max(np.abs(ours - ref.reshape(ours.shape))) <= score_tolerance(forest, scale) + 1e-6
    assert len({round(float(v), 4) for v in ref.reshape(-1)}) == 6  # every reachable pair of leaves of trees 0 and 2


def test_an_ensemble_of_single_leaf_trees_is_its_constant(small_grid, variant):
    model = _regressor([0.75, (-0.25, ), 2.0], base=[0.5])
    circuit, weights = _imported(model, (-1.0, 1.0))
    x = _grid_samples(circuit.inputs[0], 2, 20)
    ours = _circuit_outputs(circuit, weights, x)[0]
    np.testing.assert_allclose(ours.reshape(-1), _ort(model, x)[0].reshape(-1), atol=3 * circuit.outputs[0].scale)
    np.testing.assert_allclose(ours.reshape(-1), 3.0, atol=3 * circuit.outputs[0].scale)


def _forest(model, prefix, columns):
    from zkaudit.onnx.ml_trees import parse_paths

    return parse_paths(model.graph.node[0], OnnxImportError, prefix, columns)


# -- the node table --------------------------------------------------------------

def test_node_table_layout():
    """Breadth first over all trees at once (the roots are rows 0..T-1), a
    false child right after its true child, leaves as self-loops, leaf
    values on leaves only."""
    f = _forest(_regressor(UNEVEN), "target", 1)
    inner = ~f.leaf
    assert f.rows == 9 + 1 + 3 and f.roots.tolist() == [0, 1, 2]  # 4 + 5 nodes, a leaf, 1 + 2
    assert f.tree_of.tolist() == [0, 1, 2, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0]
    assert np.array_equal(f.on_false[inner], f.on_true[inner] + 1) and np.all(f.on_true[inner] > np.flatnonzero(inner))
    rows = np.arange(f.rows)
    assert np.array_equal(f.on_true[f.leaf], rows[f.leaf]) and np.array_equal(f.on_false[f.leaf], rows[f.leaf])
    assert not f.values[inner].any() and np.all(f.tree_of[f.on_true] == f.tree_of)
    assert sorted(f.values[f.leaf, 0].tolist()) == sorted([1.0, 2.0, 3.0, 4.0, 5.0, 0.5, -1.0, 1.25])


def _walk(forest, real_x: np.ndarray) -> np.ndarray:
    """The reference: each tree walked on the float input in the
    thresholds' precision, as onnxruntime compares (v <= t, or v < t)."""
    out = []
    for root in forest.roots:
        n = int(root)
        while not forest.leaf[n]:
            v = forest.thresholds.dtype.type(real_x[forest.features[n]])
            t = forest.thresholds[n]
            n = int(forest.on_true[n] if (v < t if forest.strict[n] else v <= t) else forest.on_false[n])
        out.append(n)
    return np.array(out)


@pytest.mark.parametrize("kind", ["random_forest_multiclass", "gradient_boosting_binary", "decision_tree_regressor"])
def test_circuit_walk_reaches_the_reference_walks_leaf(kind, variant):
    """The integer walk (Q on x's grid, b = Clip(x[f] - Q, 0, 1), n' = t +
    b) reaches, in every tree and on every sample, the leaf the float
    reference walk reaches."""
    model, x = _export(kind)
    circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                             "probabilities": (0.0, 1.0)}, name="m")
    node = model.graph.node[0]
    prefix = "target" if "Regressor" in node.op_type else "class"
    columns = 1 if prefix == "target" else int(_ort(model, x[:1])[-1].shape[-1])
    forest = _forest(model, prefix, columns)
    spec = circuit.inputs[0]
    last = next(n.inputs[1] for n in circuit.nodes if n.op == "GatherRows" and n.inputs[0].endswith("/leaf_values"))
    for row in x[::7]:
        q = quantize(spec, row[None])
        got = circuit.execute(weights, {spec.name: q}, return_all=True)[last]
        real = dequantize(spec, q).astype(np.float32).reshape(-1)
        np.testing.assert_array_equal(got, _walk(forest, real))


# -- size ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["random_forest_binary", "gradient_boosting_multiclass", "decision_tree"])
def test_rows_gathered_are_trees_times_depth_plus_one(kind, variant):
    """The walk reads T rows per level (the roots' level by a constant
    Gather, the others by GatherRows) and T leaf-value rows: T*(D+1), not
    T*2^D. x is read at the T*D nodes of the walk, or at all R nodes when
    every node's test is made at once; the doubling walk gathers ceil(log2 D)
    successor tables of R rows instead; the pointer walk gathers nothing but
    x and the leaf values and takes its T*D steps in one PointerWalk."""
    model, x = _export(kind)
    circuit, _ = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                       "probabilities": (0.0, 1.0)}, name="m")
    node = model.graph.node[0]
    assert node.op_type == "TreeEnsembleClassifier"
    forest = _forest(model, "class", int(_ort(model, x[:1])[-1].shape[-1]))
    t, d, r = forest.trees, forest.depth, forest.rows
    specs = circuit.specs()
    gathered = {}
    for n in circuit.nodes:
        if n.op == "GatherRows":
            table = n.inputs[0].rsplit("/", 1)[-1]
            gathered[table] = gathered.get(table, 0) + specs[n.output].shape[0]
    walked = sum(v for k, v in gathered.items() if k != "feature_table")
    if variant == "walk":
        assert gathered == {"nodes": t * (d - 1), "feature_table": t * d, "leaf_values": t}
        assert len(circuit.nodes) <= 10 * d + 12  # ten IR nodes per level, then the head
    elif variant == "levels":
        assert gathered == {"successor": t * (d - 1), "feature_table": r, "leaf_values": t}
        assert len(circuit.nodes) <= 2 * d + 16  # two IR nodes per level
    elif variant == "pointer":
        walks = [n for n in circuit.nodes if n.op == "PointerWalk"]
        assert gathered == {"feature_table": r, "leaf_values": t}
        assert len(walks) == 1 and walks[0].a["steps"] == d and specs[walks[0].output].shape == (t,)
        assert specs[walks[0].inputs[0]].shape == (r, 1) and specs[walks[0].inputs[1]].shape == (t,)
        assert sum(n.op == "GatherRows" for n in circuit.nodes) == 2
    if variant in ("levels", "walk"):
        assert walked + t == t * (d + 1)  # with the roots' level, a constant Gather
    elif variant == "doubling":  # ceil(log2 D) successor tables of R rows, then the leaf values at the roots' ends
        doublings = (d - 1).bit_length()
        assert gathered["feature_table"] == r and walked == r * doublings + t
        assert sum(n.op == "GatherRows" for n in circuit.nodes) == doublings + 2
    assert r < t * (1 << (d + 1))  # real nodes, no padding
    committed = {w.name.rsplit("/", 1)[-1]: w.shape for w in circuit.weights}
    tables = ("nodes",) if variant == "walk" else ("node_features", "node_thresholds", "node_true")
    assert sum(int(np.prod(committed[k])) for k in tables) == 3 * r


def test_one_score_column_per_tree_commits_one_value_per_node():
    """Gradient boosting with three classes scores one class per tree: the
    leaf table keeps one column and a (T, 3) one-hot sends each tree's value
    to its class."""
    model, x = _export("gradient_boosting_multiclass")
    circuit, _ = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                       "probabilities": (0.0, 1.0)}, name="m")
    forest = _forest(model, "class", 3)
    shapes = {w.name.rsplit("/", 1)[-1]: w.shape for w in circuit.weights}
    assert shapes["leaf_values"] == (forest.rows, 1) and shapes["tree_columns"] == (forest.trees, 3)


# -- deep trees, refusals, bad indices ----------------------------------------------

def _deep_tree():
    from sklearn.tree import DecisionTreeRegressor

    x = np.random.default_rng(0).normal(size=(1024, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = DecisionTreeRegressor(random_state=0).fit(x, np.random.default_rng(1).normal(size=1024))
        return skl2onnx.to_onnx(est, x[:1]), x, est.get_depth()


def test_a_tree_too_deep_for_the_dense_construction_is_walked(tmp_path, variant):
    import zkaudit.onnx.ml_trees as ml_trees

    model, x, depth = _deep_tree()
    assert depth > ml_trees.MAX_DEPTH
    circuit, weights = _imported(model, (float(x.min()), float(x.max())))
    xs = dequantize(circuit.inputs[0], quantize(circuit.inputs[0], x[:64])).astype(np.float32)
    ours, ref = _circuit_outputs(circuit, weights, xs)[0], _ort(model, xs)[0]
    assert np.max(np.abs(ours - ref.reshape(ours.shape))) <= 1.5 * circuit.outputs[0].scale + 1e-6


def test_trees_deeper_than_the_path_limit_are_refused_with_the_fix(monkeypatch):
    import zkaudit.onnx.ml_trees as ml_trees

    model, x, depth = _deep_tree()
    monkeypatch.setattr(ml_trees, "MAX_PATH_DEPTH", depth - 1)
    with pytest.raises(OnnxImportError) as err:
        _imported(model, (float(x.min()), float(x.max())))
    assert "max_depth" in str(err.value) and f"depth {depth}" in str(err.value)


def test_a_child_outside_the_node_table_is_an_execution_error(small_grid, variant):
    """A committed true child past the table's last row (another model than
    any tree ensemble writes) makes the executor refuse the run at the next
    level's GatherRows (or the PointerWalk), naming the node."""
    circuit, weights = _imported(_regressor(UNEVEN), (-4.0, 3.9))
    name = next(w.name for w in circuit.weights if w.name.endswith(("/nodes", "/node_true")))
    bad = {w.name: np.array(weights[w.name]) for w in circuit.weights}
    table = bad[name].reshape(len(bad[name]), -1)
    table[0, -1] = len(table)  # the first root's true child: one past the last row
    bad[name] = table.reshape(bad[name].shape)
    spec = circuit.inputs[0]
    circuit.execute(weights, {spec.name: np.zeros(spec.shape, np.int64)})
    with pytest.raises(CircuitError, match="PointerWalk" if variant == "pointer" else "GatherRows"):
        circuit.execute(bad, {spec.name: np.zeros(spec.shape, np.int64)})


# -- proofs ----------------------------------------------------------------------

@needs_layer
@pytest.mark.parametrize("kind", ["gradient_boosting_multiclass", "random_forest_regressor"])
def test_paths_prove_and_verify_end_to_end(tmp_path, kind):
    from zkaudit import api

    model, x = _export(kind)
    onnx.save(model, tmp_path / "m.onnx")
    s = api.compile(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x})
    assert "GatherRows" in s.summary["ops"] and "PointerWalk" in s.summary["ops"]  # the default walk
    proof = api.prove(tmp_path / "out", {"X": [x[5].tolist()]})
    v = api.verify(proof.proof, circuit=tmp_path / "out")
    assert v.valid
    grid = dequantize(s.circuit.inputs[0], quantize(s.circuit.inputs[0], x[5:6])).astype(np.float32)
    ref = _ort(model, grid)
    out = s.circuit.outputs[0]
    got = np.asarray(v.outputs[out.name]["output_int"]).reshape(-1)
    if "regressor" in kind:
        np.testing.assert_allclose(dequantize(out, got), ref[0].reshape(-1), atol=10 * out.scale)
    else:
        assert got.tolist() == ref[0].reshape(-1).tolist()


@needs_layer
def test_uneven_trees_prove_and_verify(tmp_path, small_grid):
    from zkaudit import api

    model = _regressor(UNEVEN, base=[0.125])
    onnx.save(model, tmp_path / "m.onnx")
    x = np.array([[0.5, -1.0], [0.0, 0.0], [1.5, 0.8]], np.float32)
    s = api.compile(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": np.array([[-4.0, -4.0], [3.9, 3.9]],
                                                                                      np.float32)})
    for row in x:
        v = api.verify(api.prove(tmp_path / "out", {"X": [row.tolist()]}).proof, circuit=tmp_path / "out")
        assert v.valid
        out = s.circuit.outputs[0]
        got = dequantize(out, np.asarray(v.outputs[out.name]["output_int"]))
        np.testing.assert_allclose(got.reshape(-1), _ort(model, row[None])[0].reshape(-1), atol=3 * out.scale)


@needs_layer
def test_a_prover_lying_about_one_branch_is_refused(variant):
    """The honest witness with the root's branch bit of the first tree
    flipped (0 <-> 1), everything downstream recomputed by the malicious
    prover: the verifier refuses it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
    from malicious_prover import Attack

    model, x = _export("decision_tree")
    circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                             "probabilities": (0.0, 1.0)}, name="m")
    attack = Attack(circuit, weights, {circuit.inputs[0].name: quantize(circuit.inputs[0], x[:1])})
    assert attack.run(attack.honest).accepted
    branch = next(n.output for n in circuit.nodes if n.output.endswith("/branch"))  # row 0: tree 0's root
    bit = int(attack.honest.table(branch)[0])
    out = attack.attempt((branch, 0, 1 - bit))
    assert not out.accepted and not out.forged


@needs_layer
def test_no_forgery_through_the_walk(variant):
    """Every tensor of the walk's first two levels, the node table, the
    tests of the nodes, the leaf table and the sum, each changed in up to two padding cells and
    one real cell by a prover that recomputes the rest: no output but the
    executor's on the committed values is accepted."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
    from malicious_prover import Attack, sweep

    model, x = _export("decision_tree")
    circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                             "probabilities": (0.0, 1.0)}, name="m")
    attack = Attack(circuit, weights, {circuit.inputs[0].name: quantize(circuit.inputs[0], x[:1])})
    parts = ("/nodes", "/node_", "/sum_trees", "/leaf_values", "/label_scores/base", "/reached", "/level0/",
             "/level1/", "/branch", "/successor", "/steps2", "/steps4", "/rows", "/roots")
    names = [n for n in attack.committed() + attack.advice() if any(p in n for p in parts) and "/limb" not in n]
    assert len(names) >= 12 and any(n.endswith("/mult") for n in names), names
    counts, forged = sweep(attack, np.random.default_rng(11), padding_cells=2, real_cells=1, names=names)
    assert not forged, forged[:3]
    assert counts.get("rejected", 0) >= 8, counts


# -- wide leaf tables -------------------------------------------------------------

def _two_heads():
    """Two classes scored in two columns: a one-column label head and a
    two-column probability head, three leaf columns in all."""
    from test_ml_trees import _one_feature_model

    model = _one_feature_model([0.25, -0.5], ["BRANCH_LEQ", "BRANCH_LEQ"],
                               [((0.3, 0.2), (0.6, 0.9)), ((0.1, -0.3), (0.1, 0.05))])
    return model, np.linspace(-1, 1, 41, dtype=np.float32)[:, None]


@pytest.mark.parametrize("kind", ["random_forest_multiclass", "two_heads"])
def test_leaf_tables_split_into_blocks_give_the_same_outputs(monkeypatch, kind):
    """A GatherRows table has at most 63 columns: wider leaf tables are
    gathered in blocks and a head's columns taken from one block (Gather) or
    several (Concat). With blocks of 2 columns the outputs are those of the
    one-table circuit on every sample."""
    import zkaudit.onnx.ml_trees as ml_trees

    model, x = _two_heads() if kind == "two_heads" else _export(kind)
    outputs = {}
    for width in (63, 2):
        monkeypatch.setattr(ml_trees, "MAX_TABLE_COLUMNS", width)
        circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                                 "probabilities": (0.0, 1.0)}, name="m")
        tables = [w.shape[1] for w in circuit.weights if "/leaf_values" in w.name]
        assert tables == ([3] if width == 63 else [2, 1])
        spec = circuit.inputs[0]
        outputs[width] = [circuit.execute(weights, {spec.name: quantize(spec, row[None])}) for row in x[::4]]
    assert any(n.op == "Concat" for n in circuit.nodes)
    for wide, split in zip(outputs[63], outputs[2]):
        for name in wide:
            np.testing.assert_array_equal(wide[name], split[name])


def test_seventy_classes_agree_with_onnxruntime():
    """70 score columns: two leaf-table blocks (63 + 7), labels as onnxruntime's."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(3)
    x = rng.normal(size=(700, 4)).astype(np.float32)
    y = np.arange(700) % 70
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = RandomForestClassifier(3, max_depth=6, random_state=0).fit(x, y)
        model = skl2onnx.to_onnx(est, x[:1], options={id(est): {"zipmap": False}})
    circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                             "probabilities": (0.0, 1.0)}, name="m")
    assert sorted(w.shape[1] for w in circuit.weights if "/leaf_values" in w.name) == [7, 63]
    grid = dequantize(circuit.inputs[0], quantize(circuit.inputs[0], x[::5])).astype(np.float32)
    ref, ours = _ort(model, grid), _circuit_outputs(circuit, weights, grid)
    np.testing.assert_array_equal(ours[0].reshape(-1).astype(np.int64), ref[0].reshape(-1))


@needs_layer
def test_split_leaf_tables_prove_and_verify(tmp_path, monkeypatch):
    import zkaudit.onnx.ml_trees as ml_trees
    from zkaudit import api

    monkeypatch.setattr(ml_trees, "MAX_TABLE_COLUMNS", 2)
    model, x = _two_heads()
    onnx.save(model, tmp_path / "m.onnx")
    s = api.compile(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x})
    assert "Concat" in s.summary["ops"]
    for row in x[[3, 30]]:
        v = api.verify(api.prove(tmp_path / "out", {"X": [row.tolist()]}).proof, circuit=tmp_path / "out")
        assert v.valid
        grid = dequantize(s.circuit.inputs[0], quantize(s.circuit.inputs[0], row[None])).astype(np.float32)
        assert v.outputs["label"]["output_int"] == _ort(model, grid)[0].reshape(-1).tolist()
