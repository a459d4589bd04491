"""Tree ensembles (issue 17, zkaudit.onnx.ml_trees): skl2onnx's
TreeEnsembleClassifier / TreeEnsembleRegressor compile -- by the paths
construction (GatherRows along each tree's path, the default) and by the
dense one (MatMul, Clip and ArgMax over complete trees) -- agree with
onnxruntime under both (labels exactly on the input grid, scores within the
stated tolerance), prove and verify; a prover that lies about one branch is
refused. tests/onnx/test_ml_tree_paths.py holds what only the paths
construction has."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from zkaudit.circuit import dequantize, quantize
from zkaudit.onnx import OnnxImportError, compile_model
from zkaudit.onnx.compile import import_model
from zkaudit.onnx.fidelity import run_circuit
from zkaudit.onnx.load import load_model
from zkaudit.onnx.ml_trees import Ensemble, grid_thresholds, parse, path_matrix, score_tolerance
from zkaudit.onnx.values import Act

skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is in the dev extras (pip install -e .[dev])")

CONSTRUCTIONS = ["paths", "paths-doubling", "paths-levels", "paths-walk", "dense"]
PATH_OPS = {"GatherRows", "PointerWalk", "Gather", "Reshape", "Sub", "Clip", "Add", "MatMul"}
DENSE_OPS = {"MatMul", "Clip", "Reshape", "Pad", "Mul"}
HEAD_OPS = {"ArgMax", "Requantize", "Table", "Softmax"}


@pytest.fixture(params=CONSTRUCTIONS)
def construction(request, monkeypatch):
    """Each test taking it runs under both constructions (paths in its four
    walks: successors followed by one PointerWalk, successors doubled,
    successors level by level, tests on the walk)."""
    import zkaudit.onnx.ml_trees as ml_trees

    monkeypatch.setattr(ml_trees, "CONSTRUCTION", request.param.split("-")[0])
    monkeypatch.setattr(ml_trees, "COMPARE_EVERY_NODE", request.param != "paths-walk")
    monkeypatch.setattr(ml_trees, "WALK", {"paths-doubling": "doubling", "paths-levels": "levels"}.get(request.param,
                                                                                                       "pointer"))
    return request.param.split("-")[0]


@pytest.fixture
def dense(monkeypatch):
    """Tests of the dense construction's own parts (its selection, its path
    matrix, its branch tensor)."""
    import zkaudit.onnx.ml_trees as ml_trees

    monkeypatch.setattr(ml_trees, "CONSTRUCTION", "dense")


def gather_rows_provable() -> bool:
    """Whether the prover has a layer for GatherRows yet (the paths
    construction's proofs wait for it)."""
    from zkaudit.layers.dispatch_verifier import HANDLERS

    return "GatherRows" in HANDLERS


def _needs_gather_rows_layer(construction):
    if construction == "paths" and not gather_rows_provable():
        pytest.skip("GatherRows has no proof layer yet (zkaudit/layers/gather_rows)")


def _data(name):
    from sklearn.datasets import load_breast_cancer, load_iris

    if name == "iris":  # raw features of one decimal: thresholds such as 5.0 fall on data values
        x, y = load_iris(return_X_y=True)
        return x.astype(np.float32), y
    x, y = load_breast_cancer(return_X_y=True)
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32), y  # standardized outside the model


def _estimator(kind):
    import sklearn.ensemble as ens
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    return {
        "decision_tree": (lambda: DecisionTreeClassifier(max_depth=5, random_state=0), "cancer"),
        "random_forest_binary": (lambda: ens.RandomForestClassifier(12, max_depth=4, random_state=0), "cancer"),
        "random_forest_multiclass": (lambda: ens.RandomForestClassifier(8, max_depth=4, random_state=0), "iris"),
        "gradient_boosting_binary": (lambda: ens.GradientBoostingClassifier(n_estimators=12, max_depth=3,
                                                                            random_state=0), "cancer"),
        "gradient_boosting_multiclass": (lambda: ens.GradientBoostingClassifier(n_estimators=6, max_depth=3,
                                                                                random_state=0), "iris"),
        "extra_trees_binary": (lambda: ens.ExtraTreesClassifier(8, max_depth=4, random_state=0), "cancer"),
        "gradient_boosting_regressor": (lambda: ens.GradientBoostingRegressor(n_estimators=12, max_depth=3,
                                                                              random_state=0), "cancer"),
        "random_forest_regressor": (lambda: ens.RandomForestRegressor(8, max_depth=4, random_state=0), "cancer"),
        "decision_tree_regressor": (lambda: DecisionTreeRegressor(max_depth=4, random_state=0), "iris"),
    }[kind]


KINDS = ["decision_tree", "random_forest_binary", "random_forest_multiclass", "gradient_boosting_binary",
         "gradient_boosting_multiclass", "extra_trees_binary", "gradient_boosting_regressor",
         "random_forest_regressor", "decision_tree_regressor"]


def _export(kind, zipmap=False):
    make, data = _estimator(kind)
    x, y = _data(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make().fit(x, y if "regressor" not in kind else y.astype(np.float64) * 1.5 - 0.5)
        opts = {id(est): {"zipmap": False}} if hasattr(est, "predict_proba") and not zipmap else None
        return skl2onnx.to_onnx(est, x[:1], options=opts), x


def _ort(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [np.asarray(r) for r in sess.run(None, {sess.get_inputs()[0].name: x})]


def _circuit_outputs(circuit, weights, x):
    runs = run_circuit(circuit, weights, {circuit.inputs[0].name: x[:, None, :]})
    return [np.stack([dequantize(s, r[s.name]) for r in runs]).reshape(len(x), -1) for s in circuit.outputs]


def _on_grid(spec, x):
    """The inputs as the circuit sees them: each rounded to its grid point."""
    return dequantize(spec, quantize(spec, x)).astype(np.float32)


def _prob_tolerance(model):
    """Scores after LOGISTIC / SOFTMAX go through a 12-bit score grid and an
    int8 output: a few output steps; NONE scores: the leaf rounding bound."""
    post = {a.name: helper.get_attribute_value(a) for a in model.graph.node[0].attribute}.get("post_transform", b"NONE")
    return None if post == b"NONE" else 0.02


@pytest.mark.parametrize("kind", KINDS)
def test_trees_agree_with_onnxruntime_on_the_grid(tmp_path, kind, construction):
    model, x = _export(kind)
    onnx.save(model, tmp_path / "m.onnx")
    s = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x})
    assert set(s.summary["ops"]) <= (PATH_OPS if construction == "paths" else DENSE_OPS) | HEAD_OPS
    assert ("GatherRows" in s.summary["ops"]) == (construction == "paths")
    circuit = s.circuit
    from zkaudit.circuit import load_weights

    weights = load_weights(tmp_path / "out")
    grid = _on_grid(circuit.inputs[0], x)
    ref, ours = _ort(model, grid), _circuit_outputs(circuit, weights, grid)
    ens = parse(model.graph.node[0], OnnxImportError, "target" if "regressor" in kind else "class",
                1 if "regressor" in kind else int(ref[-1].shape[-1]))
    scale = circuit.outputs[-1].scale
    if "regressor" not in kind:
        np.testing.assert_array_equal(ours[0].reshape(-1).astype(np.int64), ref[0].reshape(-1))  # every label
    tol = _prob_tolerance(model) or score_tolerance(ens, scale) + 1e-6
    assert np.max(np.abs(ours[-1] - ref[-1].reshape(ours[-1].shape))) <= tol
    assert s.summary["fidelity"]["outputs"][0]["float_top1_agreement"] >= (0.97 if "iris" in kind else 0.98)


def test_default_export_with_zipmap_compiles(tmp_path, construction):
    model, x = _export("random_forest_binary", zipmap=True)
    assert "ZipMap" in {n.op_type for n in model.graph.node}
    onnx.save(model, tmp_path / "m.onnx")
    s = compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x})
    assert [o["name"] for o in s.summary["outputs"]] == ["output_label", "output_probability"]
    assert s.summary["fidelity"]["outputs"][0]["float_top1_agreement"] == 1.0


# -- thresholds, exactly -------------------------------------------------------

def _one_feature_model(thresholds, modes, weights, post="NONE", class_ids=None, base=None, labels=(0, 1)):
    """A chain of stumps on feature 0 (one tree per threshold), two classes."""
    nodes = dict(nodes_treeids=[], nodes_nodeids=[], nodes_featureids=[], nodes_values=[], nodes_modes=[],
                 nodes_truenodeids=[], nodes_falsenodeids=[])
    cls = dict(class_treeids=[], class_nodeids=[], class_ids=[], class_weights=[])
    for t, (th, mode) in enumerate(zip(thresholds, modes)):
        for key, vals in (("nodes_treeids", [t] * 3), ("nodes_nodeids", [0, 1, 2]), ("nodes_featureids", [0, 0, 0]),
                          ("nodes_values", [th, 0, 0]), ("nodes_modes", [mode, "LEAF", "LEAF"]),
                          ("nodes_truenodeids", [1, 0, 0]), ("nodes_falsenodeids", [2, 0, 0])):
            nodes[key] += vals
        for leaf, w in ((1, weights[t][0]), (2, weights[t][1])):
            for c, v in enumerate(np.atleast_1d(w)):
                cid = c if class_ids is None else class_ids[c]
                cls["class_treeids"].append(t)
                cls["class_nodeids"].append(leaf)
                cls["class_ids"].append(cid)
                cls["class_weights"].append(float(v))
    extra = {"base_values": base} if base is not None else {}
    node = helper.make_node("TreeEnsembleClassifier", ["X"], ["label", "probabilities"], domain="ai.onnx.ml",
                            classlabels_int64s=list(labels), post_transform=post, **nodes, **cls, **extra)
    graph = helper.make_graph([node], "trees", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 1])],
                              [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
                               helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                             [None, len(labels)])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 10
    return model


@pytest.fixture
def small_grid(monkeypatch):
    """Graph inputs of tree ensembles on an 8-bit grid, so that a test can
    run onnxruntime and the circuit on every grid point."""
    import zkaudit.onnx.ml_trees as ml_trees

    monkeypatch.setattr(ml_trees, "INPUT_RANGE", (-128, 127))


def _every_grid_point(tmp_path, model, calib):
    onnx.save(model, tmp_path / "m.onnx")
    loaded = load_model(tmp_path / "m.onnx")
    from zkaudit.onnx.load import fix_input_shapes

    fix_input_shapes(loaded, None, [])
    circuit, weights = import_model(loaded, ranges={"X": calib, "probabilities": (0.0, 1.0)}, name="m")
    spec = circuit.inputs[0]
    grid = dequantize(spec, np.arange(spec.lo, spec.hi + 1)).astype(np.float32).reshape(-1, 1)
    return circuit, weights, grid, _ort(model, grid), _circuit_outputs(circuit, weights, grid)


def test_every_grid_point_takes_onnxruntimes_branch_in_every_mode(tmp_path, small_grid, construction):
    """Thresholds on grid points, between them and beyond the range, in all
    four modes: on a small (8-bit) grid, every grid point's label and
    probabilities are onnxruntime's."""
    # grid step 2^-5 over [-4, 4): 1.0 and -0.5 are grid points, 0.3 and 1.01 are not
    thresholds = [1.0, 1.0, 1.0, 1.0, -0.5, 0.3, 0.3, 1.01, 9.0, -9.0]
    modes = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_LT", "BRANCH_LEQ", "BRANCH_GT",
             "BRANCH_LEQ", "BRANCH_LEQ", "BRANCH_GTE"]
    weights = [((0.1 * (t + 1), 0.0), (0.0, 0.05 * (t + 1))) for t in range(len(thresholds))]
    circuit, _, grid, ref, ours = _every_grid_point(tmp_path, _one_feature_model(thresholds, modes, weights),
                                                    (-4.0, 3.9))
    assert circuit.inputs[0].scale == 2.0 ** -5
    assert {1.0, -0.5} <= set(grid.reshape(-1).tolist())
    np.testing.assert_array_equal(ours[0].reshape(-1), ref[0].reshape(-1))
    np.testing.assert_allclose(ours[1], ref[1].reshape(ours[1].shape), atol=len(thresholds) * circuit.outputs[1].scale)


def test_selection_grid_factors_only_where_smaller():
    from zkaudit.onnx.ml_trees import selection_grid

    nodes = 100 * 63  # 100 trees of depth 6
    assert selection_grid(30, nodes) == (4, 8)  # 12 weights per node instead of 30
    assert selection_grid(64, nodes) == (8, 8)
    assert selection_grid(30, 50 * 15) is None  # saves too few weights to pay for its layers
    assert [selection_grid(f, 1 << 20) for f in (1, 2, 3, 4, 5)] == [None] * 5  # the dense S is no larger


def test_rank_one_heads_commit_one_leaf_column(construction):
    from zkaudit.onnx.ml_trees import _one_column

    for coef, lam in (([[-1.0, 1.0], [0.0, 0.0]], [1, -1]), ([[0.0, 1.0], [0.0, 0.0]], [0, 1]),
                      ([[2.0, -2.0], [1.0, -1.0]], [1, -1])):
        v, got = _one_column(np.array(coef))
        assert got.tolist() == lam and np.allclose(v @ got[None, :].astype(float), coef)
    for coef in (np.eye(2), np.eye(3), np.array([[1.0], [0.0]]), np.zeros((2, 2)), np.array([[1.0, 0.5], [2.0, 1.0]]),
                 np.array([[1.0, -2.0], [0.5, -1.0]])):
        assert _one_column(coef) is None  # full rank, one column, nothing, a non-integer or a larger multiple
    # a binary gradient boosting model (one score column, labels from [1 - s, s]): one leaf value per leaf (dense:
    # T*L, paths: R), not two
    model, x = _export("gradient_boosting_binary")
    circuit, _ = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                       "probabilities": (0.0, 1.0)}, name="m")
    leaves = [w for w in circuit.weights if w.name.endswith("/leaf_values")]
    assert [tuple(w.shape)[1] for w in leaves] == [1]


@pytest.mark.parametrize("kind", ["gradient_boosting_binary", "random_forest_binary"])
def test_factored_selection_computes_the_dense_comparisons(monkeypatch, kind, dense):
    """The factored node->feature selection against the dense one-hot S (the
    reference): the same comparisons d, hence every output, on every sample."""
    import zkaudit.onnx.ml_trees as ml_trees

    model, x = _export(kind)
    monkeypatch.setattr(ml_trees, "MIN_FACTORED_SAVING", 1)  # these forests are small
    runs = {}
    for factored in (True, False):
        monkeypatch.setattr(ml_trees, "FACTORED_SELECTION", factored)
        circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                                 "probabilities": (0.0, 1.0)}, name="m")
        assert any(n.op == "Mul" for n in circuit.nodes) == factored
        spec = circuit.inputs[0]
        runs[factored] = [circuit.execute(weights, {spec.name: quantize(spec, row[None])}, return_all=True)
                          for row in x[::4]]
    compare = next(k for k in runs[True][0] if k.endswith("/compare"))
    for fact, dense in zip(runs[True], runs[False]):
        for name in [compare, *(s.name for s in circuit.outputs)]:
            np.testing.assert_array_equal(fact[name], dense[name])


def test_grid_thresholds_are_the_last_passing_grid_point():
    from zkaudit.circuit import TensorSpec

    spec = TensorSpec("x", (1, 1), -8, 7, 0.25, 0)  # grid -2.0 .. 1.75
    x = Act(spec, 0.25, 0, (-8, 7), True)
    ens = Ensemble(1, np.array([[0], [0], [0], [0], [0]]), np.array([[0.5], [0.5], [0.6], [5.0], [-5.0]],
                                                                      np.float32),
                   np.array([[False], [True], [False], [False], [False]]), np.zeros((5, 2, 1)), np.zeros(1))
    # v <= 0.5 -> q <= 2; v < 0.5 -> q <= 1; v <= 0.6 -> q <= 2; always -> 7; never -> -9
    assert grid_thresholds(x, ens).reshape(-1).tolist() == [2, 1, 2, 7, -9]


def test_path_matrix_marks_exactly_the_reached_leaf():
    a, p = path_matrix(3)
    for bits in range(1 << 7):  # every assignment of the 7 node tests
        b = np.array([(bits >> i) & 1 for i in range(7)])
        e = b @ a - p
        assert (e <= 0).all() and np.count_nonzero(e == 0) == 1
        node, level = 0, 0  # walk the tree: true -> left child (heap 2n+1)
        while level < 3:
            node = 2 * node + 1 + (0 if b[node] else 1)
            level += 1
        assert int(np.flatnonzero(e == 0)[0]) == node - 7


@pytest.mark.parametrize("case", [
    ("one column, weights >= 0", dict(class_ids=[0], weights=[((0.3,), (0.7,)), ((0.1,), (0.0,))])),
    ("one column, mixed signs", dict(class_ids=[0], weights=[((0.3,), (-0.7,)), ((0.4,), (-0.1,))])),
    ("one column, base value", dict(class_ids=[0], weights=[((0.3,), (0.7,)), ((0.1,), (0.0,))], base=[-0.1])),
    ("one column, logistic", dict(class_ids=[0], weights=[((0.9,), (-1.7,)), ((0.4,), (-0.3,))], post="LOGISTIC",
                                  base=[0.2])),
    ("one column, logistic, weights >= 0", dict(class_ids=[0], weights=[((0.3,), (0.9,)), ((0.1,), (0.35,))],
                                                post="LOGISTIC")),
    ("two columns", dict(class_ids=None, weights=[((0.3, 0.2), (0.6, 0.9)), ((0.1, -0.3), (0.1, 0.05))])),
    ("three classes, ties", dict(class_ids=None, labels=(0, 1, 2),
                                 weights=[((0.3, 0.3, 0.1), (0.2, 0.2, 0.2)), ((0.0, 0.0, 0.2), (0.1, 0.1, 0.0))])),
    ("three classes, softmax", dict(class_ids=None, labels=(0, 1, 2), post="SOFTMAX", base=[0.1, 0.0, -0.2],
                                    weights=[((0.9, 0.3, 0.1), (0.2, 1.2, 0.2)), ((0.0, 0.0, 0.8), (0.1, 0.1, 0.0))])),
], ids=lambda c: c[0])
def test_two_class_and_multiclass_label_rules_are_onnxruntimes(tmp_path, small_grid, case, construction):
    _, kw = case
    model = _one_feature_model([0.25, -0.5], ["BRANCH_LEQ", "BRANCH_LEQ"], kw["weights"], post=kw.get("post", "NONE"),
                               class_ids=kw["class_ids"], base=kw.get("base"), labels=kw.get("labels", (0, 1)))
    circuit, _, grid, ref, ours = _every_grid_point(tmp_path, model, (-1.0, 1.0))
    np.testing.assert_array_equal(ours[0].reshape(-1), ref[0].reshape(-1))
    tol = 0.02 if kw.get("post", "NONE") != "NONE" else 3 * circuit.outputs[1].scale
    np.testing.assert_allclose(ours[1], ref[1].reshape(ours[1].shape), atol=tol)


# -- refusals ------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    (dict(nodes_modes=["BRANCH_EQ", "LEAF", "LEAF"]), "BRANCH_EQ"),
    (dict(classlabels_int64s=[3, 7]), "0..K-1"),
    (dict(post_transform="PROBIT"), "PROBIT"),
])
def test_unsupported_tree_variants_are_refused_by_name(tmp_path, change, message, construction):
    model = _one_feature_model([0.25], ["BRANCH_LEQ"], [((0.3,), (0.7,))], class_ids=[0])
    node = model.graph.node[0]
    for key, value in change.items():
        for a in node.attribute:
            if a.name == key:
                node.attribute.remove(a)
                break
        node.attribute.append(helper.make_attribute(key, value))
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(OnnxImportError) as err:
        compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": np.zeros((4, 1), np.float32)})
    assert message in str(err.value) and "TreeEnsembleClassifier" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_too_deep_trees_are_refused_with_the_fix(tmp_path, dense):
    from sklearn.tree import DecisionTreeRegressor

    x = np.random.default_rng(0).normal(size=(4096, 3)).astype(np.float32)
    est = DecisionTreeRegressor(random_state=0).fit(x, np.random.default_rng(1).normal(size=4096))
    onnx.save(skl2onnx.to_onnx(est, x[:1]), tmp_path / "m.onnx")
    with pytest.raises(OnnxImportError) as err:
        compile_model(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x})
    assert "max_depth" in str(err.value)


# -- proofs --------------------------------------------------------------------

def test_forest_proves_and_verifies(tmp_path, construction):
    from zkaudit import api

    _needs_gather_rows_layer(construction)
    model, x = _export("gradient_boosting_binary")
    onnx.save(model, tmp_path / "m.onnx")
    s = api.compile(tmp_path / "m.onnx", tmp_path / "out", calibration={"X": x})
    proof = api.prove(tmp_path / "out", {"X": [x[3].tolist()]})
    v = api.verify(proof.proof, circuit=tmp_path / "out")
    assert v.valid
    expected = _ort(model, _on_grid(s.circuit.inputs[0], x[3:4]))[0]
    assert v.outputs["label"]["output_int"] == expected.reshape(-1).tolist()


def test_a_prover_lying_about_one_branch_is_refused(dense):
    """The honest witness with one node's test flipped (the Clip output of
    one comparison), everything downstream recomputed by the malicious
    prover: the verifier refuses it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
    from malicious_prover import Attack

    model, x = _export("decision_tree")
    circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                             "probabilities": (0.0, 1.0)}, name="m")
    sample = {circuit.inputs[0].name: quantize(circuit.inputs[0], x[:1])}
    attack = Attack(circuit, weights, sample)
    assert attack.run(attack.honest).accepted
    branch = next(n.output for n in circuit.nodes if n.output.endswith("/branch"))
    root = attack.honest.table(branch)[0]
    out = attack.attempt((branch, 0, -1 - root))  # the root's test flipped: 0 <-> -1
    assert not out.accepted


def test_no_forgery_through_the_factored_selection(monkeypatch, dense):
    """The factored selection's tensors -- the two committed one-hots, the
    summing row, the thresholds and the feature grid's padding -- each
    changed in padding and real cells by a prover that recomputes the rest:
    the verifier accepts no output the executor does not compute on the
    committed values (a real weight cell changed is another committed model)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial"))
    import zkaudit.onnx.ml_trees as ml_trees
    from malicious_prover import Attack, sweep

    monkeypatch.setattr(ml_trees, "MIN_FACTORED_SAVING", 1)
    model, x = _export("decision_tree")
    circuit, weights = import_model(_lowered(model), ranges={"X": (float(x.min()), float(x.max())),
                                                             "probabilities": (0.0, 1.0)}, name="m")
    attack = Attack(circuit, weights, {circuit.inputs[0].name: quantize(circuit.inputs[0], x[:1])})
    names = [s.name for s in circuit.weights if s.name.rsplit("/", 1)[-1] in
             ("select_col", "select_row", "negate_sum", "thresholds")]
    assert len(names) == 4
    counts, forged = sweep(attack, np.random.default_rng(7), padding_cells=2, real_cells=1, names=names)
    assert not forged, forged
    assert sum(counts.values()) >= 8


def _lowered(model):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    from zkaudit.onnx.ml import lower_ml

    lower_ml(m)
    from zkaudit.onnx.load import fix_input_shapes

    fix_input_shapes(m, None, [])
    return m
