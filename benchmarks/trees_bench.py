"""Tree ensembles (issue 17): scikit-learn models on the breast-cancer data
(30 features, standardized outside the model), exported by skl2onnx,
compiled, proved and verified, by each construction of
`zkaudit.onnx.ml_trees`: paths (the real nodes only, every node's test at
once, each tree's leaf reached by one PointerWalk; the default),
paths-doubling (the successor tables doubled), paths-levels (the successors
followed one level at a time), paths-walk (the nodes on the walk tested
level by level), dense (complete trees, cost T * 2^D). Each model
under each construction runs in its own process, one after the other.
Prints figures; asserts nothing.

    python benchmarks/trees_bench.py [--models gb100x6,rf100x6,gb50x4] [--constructions paths,dense] [--runs 3]

A model the dense construction refuses (deeper than ml_trees.MAX_DEPTH, e.g.
gb100x12) is reported as refused. Committed weights ("weights") are the
parameters the weight commitment range-checks and hashes; "nodes" the IR
nodes (each a proof layer).

Target on the 2-core machine: 100 trees of depth 6 prove in <= 1 s and verify
in <= 100 ms. Agreement with onnxruntime is measured on every sample of the
data set: labels (exact), scores (max |difference|, against the stated
tolerance `ml_trees.score_tolerance`). The first prove in the process is cold
(numba loads its kernels) and reported apart; warm figures are the best of --runs,
wall and CPU (time.process_time: the 2-core machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = {  # name -> (estimator, trees, depth)
    "gb100x6": ("GradientBoostingClassifier", 100, 6),
    "rf100x6": ("RandomForestClassifier", 100, 6),
    "gb50x4": ("GradientBoostingClassifier", 50, 4),
    "gbr100x6": ("GradientBoostingRegressor", 100, 6),
    "gb100x3": ("GradientBoostingClassifier", 100, 3),
    "gb100x12": ("GradientBoostingClassifier", 100, 12),  # depth 12: beyond the dense construction's limit
}
# paths: every node's test at once, then one PointerWalk (ml_trees.COMPARE_EVERY_NODE, WALK "pointer", the
# default); paths-doubling: successor tables doubled (WALK "doubling"); paths-levels: one GatherRows per level
# (WALK "levels"); paths-walk: each level's tests on the walk (two GatherRows per level); dense: complete trees
CONSTRUCTIONS = ("paths", "paths-doubling", "paths-levels", "paths-walk", "dense")


def breast_cancer():
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32), y


def export(name: str, path: Path):
    """Train and export one model of MODELS; returns (features, labels)."""
    import onnx
    import sklearn.ensemble as ens
    from skl2onnx import to_onnx

    kind, trees, depth = MODELS[name]
    x, y = breast_cancer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(ens, kind)(n_estimators=trees, max_depth=depth, random_state=0).fit(x, y)
        opts = {id(model): {"zipmap": False}} if hasattr(model, "predict_proba") else None
        onnx.save(to_onnx(model, x[:1], options=opts), path)
    return x, y


def dense_graph(src: Path, dst: Path) -> None:
    """The ensemble of the skl2onnx file `src` as dense tensors in standard
    ONNX ops, the way hummingbird-ml's GEMM strategy (EZKL's scikit-learn
    route) writes it: MatMul by a 0/1 feature-selection matrix, LessOrEqual
    against the thresholds, MatMul by the shared path matrix, Equal to the
    path lengths, MatMul by the leaf values (+ base values). Output: the raw
    scores (1, columns); for EZKL, which cannot read ai.onnx.ml. BRANCH_LEQ
    nodes only (what skl2onnx writes)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from zkaudit.onnx.errors import OnnxImportError
    from zkaudit.onnx.ml_trees import parse, path_matrix

    model = onnx.load(str(src))
    node = next(n for n in model.graph.node if n.op_type.startswith("TreeEnsemble"))
    classifier = node.op_type == "TreeEnsembleClassifier"
    at = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    columns = len(at["classlabels_int64s"]) if classifier else int(at.get("n_targets", 1))
    ens = parse(node, OnnxImportError, "class" if classifier else "target", columns)
    if ens.strict.any():
        raise ValueError("dense_graph: BRANCH_LEQ nodes only")
    t_count, n_int = ens.features.shape
    features = model.graph.input[0].type.tensor_type.shape.dim[-1].dim_value
    select = np.zeros((features, t_count * n_int), np.float32)
    cols = np.flatnonzero(ens.features.reshape(-1) >= 0)
    select[ens.features.reshape(-1)[cols], cols] = 1.0
    thresholds = np.where(ens.features >= 0, ens.thresholds, 0).reshape(1, -1).astype(np.float32)  # padding: 0 <= 0
    a, p = path_matrix(ens.depth)
    leaves = ens.leaves.reshape(-1, columns).astype(np.float32)
    inits = [numpy_helper.from_array(v, k) for k, v in (
        ("select", select), ("thresholds", thresholds), ("paths", a.astype(np.float32)),
        ("path_lengths", p.astype(np.float32)), ("leaf_values", leaves), ("base", ens.base.astype(np.float32)),
        ("by_tree", np.array([t_count, n_int], np.int64)), ("flat", np.array([1, -1], np.int64)))]
    nodes = [
        helper.make_node("MatMul", ["X", "select"], ["xs"]),
        helper.make_node("LessOrEqual", ["xs", "thresholds"], ["passed"]),
        helper.make_node("Cast", ["passed"], ["b"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["b", "by_tree"], ["b2"]),
        helper.make_node("MatMul", ["b2", "paths"], ["e"]),
        helper.make_node("Equal", ["e", "path_lengths"], ["reached"]),
        helper.make_node("Cast", ["reached"], ["g"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["g", "flat"], ["g2"]),
        helper.make_node("MatMul", ["g2", "leaf_values"], ["s"]),
        helper.make_node("Add", ["s", "base"], ["scores"]),
    ]
    graph = helper.make_graph(nodes, "dense_trees",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, features])],
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, columns])], inits)
    dense = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    dense.ir_version = 8
    onnx.checker.check_model(dense)
    onnx.save(dense, str(dst))


def measure(name: str, runs: int, construction: str = "paths") -> dict:
    import numpy as np
    import onnxruntime as ort

    import zkaudit.onnx.ml_trees as ml_trees

    ml_trees.CONSTRUCTION = "dense" if construction == "dense" else "paths"
    ml_trees.COMPARE_EVERY_NODE = construction != "paths-walk"
    ml_trees.WALK = {"paths-doubling": "doubling", "paths-levels": "levels"}.get(construction, "pointer")

    from zkaudit.circuit import load_circuit, load_weights
    from zkaudit.circuit.inputs import parse_inputs
    from zkaudit.api import weight_salt
    from zkaudit.cli.compile import _weight_commitment
    from zkaudit.errors import ZkauditError
    from zkaudit.onnx import compile_model
    from zkaudit.onnx.fidelity import run_circuit
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE
    from zkaudit.statements.inference.prover import prove
    from zkaudit.statements.verify import verify_proof

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "model.onnx", Path(tmp) / "compiled"
        x, _ = export(name, src)
        t = time.perf_counter()
        try:
            summary = compile_model(src, out, calibration={"X": x}, extra_files=_weight_commitment).summary
        except ZkauditError as exc:
            return {"model": name, "construction": construction, "refused": str(exc)[:200]}
        compile_s = time.perf_counter() - t
        circuit, weights = load_circuit(out), load_weights(out)
        circuit_bin = (out / "public" / "circuit.bin").read_bytes()
        commitment = (out / COMMITMENT_FILE).read_bytes()
        salt = weight_salt(out, commitment)  # compile's default hashed commitment

        # agreement with onnxruntime on every sample, as the user's floats (rounded to the grid)
        sess = ort.InferenceSession(src.read_bytes(), providers=["CPUExecutionProvider"])
        ref = [np.asarray(r) for r in sess.run(None, {"X": x})]
        ours = run_circuit(circuit, weights, {"X": x[:, None, :]})
        from zkaudit.circuit import dequantize

        got = [np.stack([dequantize(s, o[s.name]) for o in ours]).reshape(r.shape)
               for s, r in zip(circuit.outputs, ref)]
        trees = [n for n in circuit.nodes if n.op == "GatherRows"]
        res = {"model": name, "construction": construction, "compile_s": compile_s, "nodes": summary["nodes"],
               "parameters": summary["parameters"], "samples": len(x), "gather_rows": len(trees),
               "pointer_walks": sum(n.op == "PointerWalk" for n in circuit.nodes)}
        if len(ref) == 2:  # classifier: label, probabilities
            res["label_agreement"] = float(np.mean(ref[0] == got[0]))
        res["score_max_abs_diff"] = float(np.max(np.abs(ref[-1] - got[-1])))

        samples = parse_inputs({"inputs": {"X": x[:1].tolist()}}, circuit).samples
        t = time.perf_counter()
        prove(circuit, weights, samples[0], weight_commitment=commitment, weight_salt=salt)
        res["prove_cold_s"] = time.perf_counter() - t
        times, cpu, proof = [], [], None
        for _ in range(runs):
            t, c = time.perf_counter(), time.process_time()
            proof = prove(circuit, weights, samples[0], weight_commitment=commitment, weight_salt=salt)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        res["prove_s"], res["prove_cpu_s"] = min(times), min(cpu)
        times, cpu, verdict = [], [], None
        for _ in range(runs):
            t, c = time.perf_counter(), time.process_time()
            verdict = verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        res["verify_s"], res["verify_cpu_s"] = min(times), min(cpu)
        res["proof_bytes"] = len(proof)
        res["valid"] = bool(verdict.valid)
        from _rss import peak_rss_bytes  # beside this script

        res["peak_rss_mb"] = peak_rss_bytes() / 2**20
        return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="gb100x6,rf100x6,gb50x4")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--constructions", default=",".join(CONSTRUCTIONS),
                    help=f"ml_trees constructions to compare ({', '.join(CONSTRUCTIONS)}), each model under each")
    ap.add_argument("--construction", default="paths", help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help="one JSON object per model instead of the table")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(measure(a.worker, a.runs, a.construction)))
        return
    constructions = [c for c in a.constructions.split(",") if c]
    if set(constructions) - set(CONSTRUCTIONS):
        ap.error(f"unknown --constructions {sorted(set(constructions) - set(CONSTRUCTIONS))}")
    results = []
    for name in a.models.split(","):
        for construction in constructions:  # one process each, one after the other: the same machine state
            cmd = [sys.executable, __file__, "--worker", name, "--runs", str(a.runs), "--construction", construction]
            done = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT, env=os.environ)
            if done.returncode != 0:
                print(f"{name} ({construction}): failed\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if a.json:
        for r in results:
            print(json.dumps(r))
        return
    print(f"{'model':<10} {'build':<14} {'nodes':>5} {'weights':>8} {'compile':>8} {'cold':>7} {'prove':>7} {'(cpu)':>7} "
          f"{'verify':>8} {'(cpu)':>8} {'proof':>7} "
          f"{'labels':>8} {'score diff':>10} {'RSS':>7}")
    for r in results:
        if "refused" in r:
            print(f"{r['model']:<10} {r['construction']:<14} refused: {r['refused'][:90]}")
            continue
        labels = f"{r['label_agreement']:.2%}" if "label_agreement" in r else "-"
        print(f"{r['model']:<10} {r['construction']:<14} {r['nodes']:>5} {r['parameters']:>8} {r['compile_s']:7.2f}s "
              f"{r['prove_cold_s']:6.2f}s "
              f"{r['prove_s']:6.3f}s {r['prove_cpu_s']:6.3f}s {r['verify_s'] * 1000:6.1f}ms "
              f"{r['verify_cpu_s'] * 1000:6.1f}ms {r['proof_bytes'] / 1024:5.0f}KB "
              f"{labels:>8} {r['score_max_abs_diff']:10.2e} {r['peak_rss_mb']:5.0f}MB"
              + ("" if r["valid"] else "  INVALID"))
    done = [r for r in results if "samples" in r]
    print(f"agreement with onnxruntime over all {done[0]['samples'] if done else '?'} samples "
          f"(raw floats, rounded to the input grid); warm figures are the best of {a.runs}")


if __name__ == "__main__":
    main()
