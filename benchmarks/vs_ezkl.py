"""zkaudit against EZKL on the same ONNX models, in one run (issue 6, "Measured
against the peer"). Prints figures and ratios; asserts nothing.

For each zoo model `circuits/<name>/` (model.onnx, input.json, calibration.npy):

* EZKL (`pip install ezkl`, 23.x API): its full pipeline -- gen_settings,
  calibrate_settings (calibration.npy in EZKL's JSON format), compile_circuit,
  a locally generated SRS (gen_srs, logrows from the settings: no network),
  setup (vk, pk), gen_witness, prove, verify. Each phase runs in its own
  subprocess (`_ezkl_worker.py`); the model has one wall-time budget
  (--ezkl-timeout) over all phases; the peak RSS of each phase is that
  subprocess's (os.wait4). A model EZKL cannot handle (error, timeout, killed
  e.g. out of memory) is reported as such.
* zkaudit (`_zkaudit_worker.py`): `zkaudit compile` (its own calibration from
  calibration.npy), then prove and verify the first input of input.json, each
  in a fresh process. Prove and verify run four times in their process: the
  warm figure is the best of the last three, cold (numba compiling or loading
  cached kernels) the first (EZKL's prove, 10-100 s, runs once). An op the
  inference prover does not support yet is reported as "not yet provable
  (<message>)".
* onnxruntime: the float model's inference time on the same input (reference).
* whole process: `zkaudit prove` and `zkaudit verify` of that sample through
  the installed console script, as a user runs them (start-up, imports, numba
  cache loading and files included; best of 3 with a warm kernel cache),
  beside EZKL's prove and verify phase processes (each a fresh process that
  imports ezkl and reads its keys). The ratios' `prove_process` and
  `verify_process` compare these.

Setup column: EZKL = gen_settings + calibrate + compile + gen_srs + setup;
zkaudit = compile (no setup, no SRS). Prove column: EZKL = gen_witness + prove
(zkaudit's prove executes the model itself). Peak RSS column: the prove
process's; the JSON also holds every phase's. Ratios are EZKL / zkaudit (warm).

    .venv/bin/python benchmarks/vs_ezkl.py [--models a,b] [--include-big] [--json]
        [--ezkl-visibility hashed]   (EZKL's hashed weights, zkaudit's default hashed commitment)
        [--ezkl-timeout 600] [--ezkl-calib-samples 32] [--ezkl-python PATH] [--keep DIR]

The big CNN (big_cnn) runs last and only with --include-big: EZKL measured here
took 147 s and 11 GB on a two-convolution 28x28 CNN.

Tree rows (issue 17; --trees, default gb50x4,rf100x6, '' for none): the
scikit-learn ensembles of `trees_bench.py` (breast-cancer data, standardized
outside the model), exported by skl2onnx as ai.onnx.ml TreeEnsembleClassifier
and built into a model folder like the zoo's; zkaudit compiles that file.
EZKL 23 loads ONNX through tract, which has no ai.onnx.ml ops: its settings
step fails on it ("[graph] [tract] Translating proto model to model", kept in
the row's JSON as `skl2onnx_file`). EZKL's own scikit-learn route converts the
trees to dense tensors with hummingbird-ml and torch.onnx first (neither is
installed here), so EZKL gets the same ensemble written that way by
`trees_bench.dense_graph` (MatMul by a feature-selection matrix, LessOrEqual,
MatMul by the path matrix, Equal, MatMul by the leaf values): raw scores,
without the final sigmoid/label, which costs EZKL a little less work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or with -m
from _bytecode import byte_compile  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CIRCUITS = ROOT / "circuits"
HERE = Path(__file__).resolve().parent
BIG = {"big_cnn"}
TREES = "gb50x4,rf100x6"  # trees_bench.MODELS rows measured by default
NOTES = ("EZKL: Halo2 PLONK with KZG commitments over BN254 -- needs a structured reference string (here "
         "gen_srs: locally generated, for testing only; production needs a ceremony's SRS) and a per-circuit "
         "setup (proving/verifying keys); zkaudit: GKR/sum-check with hash-based (Merkle) commitments -- "
         "transparent, no trusted setup, no SRS, no per-circuit keys.")


# ---------------------------------------------------------------- subprocesses

def run_measured(cmd: list[str], timeout: float, env: dict | None = None) -> dict:
    """Run `cmd` with a wall-time limit; returns rc, wall seconds, peak RSS (this child's, by wait4:
    at least this process's own at the spawn, see `_rss`; workers report their own),
    timed_out, signal and the tail of its output. A thread blocks in wait4 and takes the time as it
    returns: polling every 50 ms rounded a 0.2 s verify process up to the next 50 ms."""
    out = tempfile.TemporaryFile()
    done: dict = {}

    def reap():
        try:
            _, done["status"], done["usage"] = os.wait4(proc.pid, 0)
            done["wall"] = time.perf_counter() - t0
        except BaseException as e:  # handed to the caller, not lost in the thread
            done["error"] = e

    def kill():
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the session this call started
        except ProcessLookupError:
            pass

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    waiter = threading.Thread(target=reap, daemon=True)
    waiter.start()
    try:
        waiter.join(timeout)
        timed_out = waiter.is_alive()
        if timed_out:
            kill()
            waiter.join()
    except BaseException:  # Ctrl-C: the child's own session would outlive this script
        kill()
        raise
    if "error" in done:
        raise done["error"]
    status, usage, wall = done["status"], done["usage"], done["wall"]
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen consistent
    out.seek(0)
    tail = out.read().decode(errors="replace")[-1500:]
    out.close()
    rc = proc.returncode
    return {"rc": rc, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_bytes": usage.ru_maxrss * 1024, "timed_out": timed_out,
            "signal": -rc if rc < 0 else None, "output_tail": tail}


def run_worker(python: str, worker: str, phase: str, args: list[str], result: Path, timeout: float,
               env: dict | None = None) -> dict:
    """One worker phase: its own JSON result merged with the process measurements."""
    if result.exists():
        result.unlink()
    m = run_measured([python, str(HERE / worker), phase, "--result", str(result), *args], timeout, env)
    res = {}
    if result.exists():
        try:
            res = json.loads(result.read_text())
        except ValueError:
            res = {}
    res["process"] = {k: m[k] for k in ("rc", "wall_s", "peak_rss_bytes", "timed_out", "signal")}
    if isinstance(res.get("peak_rss_bytes"), int):  # the worker's own VmHWM (`_rss`): wait4's has a floor
        res["process"]["peak_rss_wait4_bytes"] = m["peak_rss_bytes"]
        res["process"]["peak_rss_bytes"] = res["peak_rss_bytes"]
    if not res.get("ok"):
        if m["timed_out"]:
            res["error"] = f"timed out after {timeout:.0f} s (wall-time limit)"
        elif m["signal"] is not None:
            why = " (SIGKILL: out of memory?)" if m["signal"] == signal.SIGKILL else ""
            res["error"] = f"killed by signal {m['signal']}{why}"
        elif "error" not in res:
            res["error"] = f"exit status {m['rc']}: {m['output_tail'][-600:].strip()}"
    return res


# ---------------------------------------------------------------- per model

def first_sample(model_dir: Path) -> np.ndarray:
    doc = json.loads((model_dir / "input.json").read_text())
    (values,) = (doc.get("inputs") or doc["inputs_int"]).values()  # features, or a sequence model's code ids
    return np.asarray(values, dtype=np.float32)[0]


def onnxruntime_time(model_dir: Path, reps: int = 50) -> dict:
    try:
        import onnxruntime as ort

        sess = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        x = first_sample(model_dir)
        shape = [d if isinstance(d, int) else 1 for d in inp.shape]
        x = x.reshape(shape).astype(np.int64 if inp.type == "tensor(int64)" else np.float32)
        sess.run(None, {inp.name: x})
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            sess.run(None, {inp.name: x})
            ts.append(time.perf_counter() - t)
        return {"ok": True, "median_s": float(np.median(ts)), "min_s": float(min(ts)), "reps": reps}
    except Exception as exc:  # noqa: BLE001 -- a reference figure; report the failure
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def run_zkaudit(model_dir: Path, work: Path, timeout: float, commit_input: bool = False) -> dict:
    py = sys.executable
    out = work / "compiled"
    common = ["--model", str(model_dir / "model.onnx"), "--out", str(out)]
    flag = ["--commit-input"] if commit_input else []
    rec: dict = {"phases": {}}
    c = run_worker(py, "_zkaudit_worker.py", "compile", common + ["--calibration", str(model_dir / "calibration.npy")],
                   work / "compile.json", timeout)
    rec["phases"]["compile"] = c
    if not c.get("ok"):
        rec["status"] = f"compile failed: {c.get('error')}"
        return rec
    p = run_worker(py, "_zkaudit_worker.py", "prove", common + flag + ["--data", str(model_dir / "input.json")],
                   work / "prove.json", timeout)
    rec["phases"]["prove"] = p
    if not p.get("ok"):
        rec["status"] = (f"not yet provable ({p['unsupported']})" if p.get("unsupported")
                         else f"prove failed: {p.get('error')}")
        return rec
    v = run_worker(py, "_zkaudit_worker.py", "verify", common + flag, work / "verify.json", timeout)
    rec["phases"]["verify"] = v
    if not v.get("ok"):
        rec["status"] = f"verify failed: {v.get('error')}"
    elif not v.get("valid"):
        rec["status"] = f"proof REJECTED by the verifier: {v.get('reason')}"
    else:
        rec["status"] = "ok"
        rec["whole_process"] = whole_process(model_dir, out, work, timeout, commit_input=commit_input)
    return rec


def whole_process(model_dir: Path, compiled: Path, work: Path, timeout: float, runs: int = 3,
                  commit_input: bool = False) -> dict:
    """What a user waits for: `zkaudit prove` and `zkaudit verify` of the same
    first sample as whole processes through the installed console script
    (interpreter start, imports, numba cache loading, file reading and
    writing included), best of `runs` after the worker warmed the cache.
    With `commit_input`: `prove --commit-input`, and `verify
    --input-commitment` the commitment written beside the proof.

    zkaudit's package is byte-compiled first (`_bytecode`), as `pip
    install` is; EZKL's, pip-installed, has its bytecode already."""
    byte_compile()
    script = Path(sys.executable).parent / "zkaudit"
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "zkaudit.cli.main"]
    x = first_sample(model_dir)
    one = work / "one_sample.json"
    one.write_text(json.dumps({"input_data": [x.ravel().astype(float).tolist()]}))
    proof = work / "cli.zkp"
    out: dict = {}
    prove_argv = cli + ["prove", str(compiled), "--input", str(one), "--out", str(proof), "--force"]
    verify_argv = cli + ["verify", str(proof), "--circuit", str(compiled)]
    if commit_input:
        prove_argv.append("--commit-input")
        verify_argv += ["--input-commitment", str(proof) + ".input-commitment"]
    for phase, argv in (("prove", prove_argv), ("verify", verify_argv)):
        walls, cpus = [], []
        for _ in range(runs):
            m = run_measured(argv, timeout)
            if m["rc"] != 0:
                out[f"{phase}_error"] = m["output_tail"][-400:].strip()
                break
            walls.append(m["wall_s"])
            cpus.append(m["cpu_s"])
        if walls:
            out[f"{phase}_s"] = min(walls)
            out[f"{phase}_runs_s"] = walls
            # CPU seconds (user + system): on a shared machine the wall time also counts others' load
            out[f"{phase}_cpu_s"] = min(cpus)
    return out


def explicit_defaults(src: Path, dst: Path) -> list[str]:
    """Copy the ONNX model with Conv/MaxPool/AveragePool default attributes written out (strides, pads,
    dilations, kernel_shape): the same function, but EZKL 23 rejects a node that omits them ("a node is
    missing required params: stride"). Returns what was added."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(str(src))
    inits = {t.name: t for t in m.graph.initializer}
    added = []
    for node in m.graph.node:
        if node.op_type not in ("Conv", "MaxPool", "AveragePool"):
            continue
        attrs = {a.name: a for a in node.attribute}
        if "kernel_shape" in attrs:
            k = list(helper.get_attribute_value(attrs["kernel_shape"]))
        elif node.op_type == "Conv" and node.input[1] in inits:
            k = list(numpy_helper.to_array(inits[node.input[1]]).shape[2:])
            node.attribute.append(helper.make_attribute("kernel_shape", k))
            added.append(f"{node.name}.kernel_shape")
        else:
            continue
        if attrs.get("auto_pad") and helper.get_attribute_value(attrs["auto_pad"]) not in (b"NOTSET", "NOTSET"):
            continue
        for name, val in (("strides", [1] * len(k)), ("pads", [0] * 2 * len(k)), ("dilations", [1] * len(k))):
            if name not in attrs and not (name == "dilations" and node.op_type == "AveragePool"):
                node.attribute.append(helper.make_attribute(name, val))
                added.append(f"{node.name}.{name}")
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))
    return added


def run_ezkl(model_dir: Path, work: Path, python: str, timeout: float, calib_samples: int, target: str,
             param_visibility: str, input_visibility: str = "public") -> dict:
    x = first_sample(model_dir)
    (work / "input.json").write_text(json.dumps({"input_data": [x.ravel().astype(float).tolist()]}))
    calib = np.load(model_dir / "calibration.npy").astype(np.float32)
    if calib_samples > 0:
        calib = calib[:calib_samples]
    (work / "calib.json").write_text(json.dumps({"input_data": [calib.ravel().astype(float).tolist()]}))
    model = model_dir / "model.onnx"
    rec: dict = {"phases": {}, "calibration_samples": int(len(calib)), "target": target,
                 "param_visibility": param_visibility, "input_visibility": input_visibility}
    if (model_dir / "model_dense.onnx").exists():  # a tree row: EZKL's route is the dense-tensor graph
        rec["skl2onnx_file"] = ezkl_reads(python, model, work)
        model = model_dir / "model_dense.onnx"
        rec["model"] = "model_dense.onnx (the same ensemble as dense tensors, hummingbird-style)"
    added = explicit_defaults(model, work / "model.onnx")
    if added:  # same model, default attributes spelled out for EZKL
        model = work / "model.onnx"
        rec["explicit_default_attributes"] = added
    common = ["--model", str(model), "--work", str(work)]
    deadline = time.perf_counter() + timeout
    phases = [("setup", ["--data", str(work / "input.json"), "--calib", str(work / "calib.json"), "--target", target,
                         "--param-visibility", param_visibility, "--input-visibility", input_visibility]),
              ("prove", []), ("verify", [])]
    for phase, extra in phases:
        left = deadline - time.perf_counter()
        if left <= 1:
            rec["status"] = f"timed out before {phase} (model budget {timeout:.0f} s)"
            return rec
        r = run_worker(python, "_ezkl_worker.py", phase, common + extra, work / f"{phase}.json", left)
        rec["phases"][phase] = r
        if not r.get("ok"):
            rec["status"] = f"{phase} failed: {r.get('error')}"
            return rec
    rec["status"] = "ok" if rec["phases"]["verify"].get("valid") else "proof REJECTED by EZKL's verifier"
    return rec


def tree_model_dir(name: str, root: Path) -> Path:
    """A zoo-like folder for the tree ensemble `name` of trees_bench.MODELS:
    model.onnx (skl2onnx), calibration.npy (every sample), input.json (the
    first sample)."""
    import trees_bench

    folder = root / "trees" / name
    folder.mkdir(parents=True, exist_ok=True)
    x, _ = trees_bench.export(name, folder / "model.onnx")
    trees_bench.dense_graph(folder / "model.onnx", folder / "model_dense.onnx")
    np.save(folder / "calibration.npy", x)
    kind, trees, depth = trees_bench.MODELS[name]
    (folder / "input.json").write_text(json.dumps({  # zkaudit proves model.onnx; EZKL gets model_dense.onnx
        "note": f"scikit-learn {kind}: {trees} trees of depth {depth} on 30 standardized breast-cancer features",
        "inputs": {"X": [x[0].astype(float).tolist()]}, "parameters": None}))
    return folder


def ezkl_reads(python: str, model: Path, work: Path) -> str:
    """What EZKL's gen_settings says about `model` ('ok' or its error)."""
    code = ("import sys, ezkl\ntry:\n    ezkl.gen_settings(sys.argv[1], sys.argv[2])\n    print('ok')\n"
            "except Exception as exc:\n    print(f'{type(exc).__name__}: {exc}')")
    done = subprocess.run([python, "-c", code, str(model), str(work / "probe_settings.json")], capture_output=True,
                          text=True, timeout=300)
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}: {done.stderr.strip()[-300:]}"


# ---------------------------------------------------------------- figures

def figures(rec: dict | None, tool: str) -> dict:
    """The table's figures from a tool's record (None where not measured)."""
    f = dict.fromkeys(("setup_s", "prove_s", "prove_cold_s", "verify_s", "verify_cold_s", "rss_prove",
                       "rss_max", "proof_bytes", "prove_process_s", "verify_process_s"))
    if not rec:
        return f
    ph = rec.get("phases", {})
    t = {k: v for p in ph.values() for k, v in p.get("times", {}).items()}
    rss = [p["process"]["peak_rss_bytes"] for p in ph.values() if "process" in p]
    f["rss_max"] = max(rss) if rss else None
    if "prove" in ph and "process" in ph["prove"]:
        f["rss_prove"] = ph["prove"]["process"]["peak_rss_bytes"]
    if tool == "ezkl":
        keys = ("gen_settings", "calibrate_settings", "compile_circuit", "gen_srs", "setup")
        if all(k in t for k in keys):
            f["setup_s"] = sum(t[k] for k in keys)
        if "prove" in t and "gen_witness" in t:
            f["prove_s"] = t["gen_witness"] + t["prove"]
        f["verify_s"] = t.get("verify")
        f["proof_bytes"] = ph.get("prove", {}).get("sizes", {}).get("proof")
        # each EZKL phase is its own process: its wall time is the whole-process figure
        f["prove_process_s"] = ph.get("prove", {}).get("process", {}).get("wall_s")
        f["verify_process_s"] = ph.get("verify", {}).get("process", {}).get("wall_s")
    else:
        wp = rec.get("whole_process", {})
        f["prove_process_s"], f["verify_process_s"] = wp.get("prove_s"), wp.get("verify_s")
        f["setup_s"] = t.get("compile")
        f["prove_s"], f["prove_cold_s"] = t.get("prove_warm"), t.get("prove_cold")
        f["verify_s"], f["verify_cold_s"] = t.get("verify_warm"), t.get("verify_cold")
        f["proof_bytes"] = ph.get("prove", {}).get("sizes", {}).get("proof")
    if rec.get("status") != "ok":  # a figure from a failed pipeline is not comparable
        f["prove_s"] = f["prove_s"] if ph.get("prove", {}).get("ok") else None
        f["verify_s"] = f["verify_s"] if ph.get("verify", {}).get("ok") and ph["verify"].get("valid") else None
    return f


def ratios(e: dict, z: dict) -> dict:
    out = {}
    for k in ("setup_s", "prove_s", "verify_s", "rss_prove", "rss_max", "proof_bytes", "prove_process_s",
              "verify_process_s"):
        if e.get(k) and z.get(k):
            out[k] = e[k] / z[k]
    return out


def _s(v) -> str:
    return "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def _mb(v) -> str:
    return "-" if v is None else f"{v / 2**20:.0f}"


def _b(v) -> str:
    return "-" if v is None else (f"{v}" if v < 10_000 else f"{v / 1024:.0f}K")


def print_table(results: list[dict]) -> None:
    hdr = (f"{'model':<18}{'tool':<9}{'setup s':>9}{'prove s':>9}{'(cold)':>9}{'verify s':>10}{'(cold)':>9}"
           f"{'RSS prove MB':>14}{'RSS max MB':>12}{'proof B':>9}  status")
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        for tool in ("ezkl", "zkaudit"):
            rec = r.get(tool)
            if rec is None:
                continue
            f = r["figures"][tool]
            status = rec.get("status", "")
            if tool == "zkaudit" and status.startswith("not yet provable"):
                status = "zkaudit: " + status
            print(f"{r['model']:<18}{tool:<9}{_s(f['setup_s']):>9}{_s(f['prove_s']):>9}{_s(f['prove_cold_s']):>9}"
                  f"{_s(f['verify_s']):>10}{_s(f['verify_cold_s']):>9}{_mb(f['rss_prove']):>14}{_mb(f['rss_max']):>12}"
                  f"{_b(f['proof_bytes']):>9}  {status}")
        ort = r.get("onnxruntime", {})
        extra = []
        if ort.get("ok"):
            extra.append(f"onnxruntime {ort['median_s'] * 1e6:.0f} us/inference")
        e = r.get("ezkl")
        if e and "setup" in e.get("phases", {}):
            st = e["phases"]["setup"]
            if e.get("explicit_default_attributes"):
                extra.append(f"EZKL given the model with {len(e['explicit_default_attributes'])} default "
                             "Conv/MaxPool attributes written out")
            if st.get("logrows"):
                extra.append(f"EZKL logrows {st['logrows']}, pk {_mb(st.get('sizes', {}).get('pk'))} MB")
        z = r["figures"].get("zkaudit", {})
        if z.get("prove_process_s") or z.get("verify_process_s"):
            e_f = r["figures"].get("ezkl", {})
            wp = r.get("zkaudit", {}).get("whole_process", {})
            extra.append(f"whole process: zkaudit prove {_s(z.get('prove_process_s'))} s "
                         f"(cpu {_s(wp.get('prove_cpu_s'))}), verify {_s(z.get('verify_process_s'))} s "
                         f"(cpu {_s(wp.get('verify_cpu_s'))}); EZKL prove {_s(e_f.get('prove_process_s'))} s, "
                         f"verify {_s(e_f.get('verify_process_s'))} s")
        rt = r.get("ratios", {})
        if rt:
            extra.append("EZKL/zkaudit: " + ", ".join(
                f"{k.replace('_s', '').replace('_bytes', '')} {v:.3g}x" for k, v in rt.items()))
        if extra:
            print(f"{'':<18}{'':<9}" + "; ".join(extra))
    print()
    print(NOTES)


# ---------------------------------------------------------------- main

def zoo() -> list[str]:
    """The zoo's models, smallest first; the tree ensembles (ai.onnx.ml) are
    measured by the tree rows instead (`--trees`: EZKL gets a dense twin)."""
    import onnx

    names = []
    for d in sorted(CIRCUITS.iterdir()):
        if (d / "model.onnx").exists() and (d / "input.json").exists():
            domains = {o.domain for o in onnx.load(str(d / "model.onnx"), load_external_data=False).opset_import}
            if "ai.onnx.ml" in domains:
                continue
            params = json.loads((d / "input.json").read_text()).get("parameters", 0)
            names.append((d.name in BIG, params, d.name))
    return [n for _, _, n in sorted(names)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", help="comma-separated zoo folders (default: all but the big CNN; '' for none)")
    ap.add_argument("--include-big", action="store_true", help="also run big_cnn (last)")
    ap.add_argument("--ezkl-timeout", type=float, default=600.0, help="wall-time limit per model for EZKL, s")
    ap.add_argument("--zkaudit-timeout", type=float, default=600.0, help="wall-time limit per zkaudit phase, s")
    ap.add_argument("--ezkl-calib-samples", type=int, default=32,
                    help="calibration samples given to EZKL's calibrate_settings (0: all of calibration.npy)")
    ap.add_argument("--ezkl-target", default="resources", choices=("resources", "accuracy"))
    ap.add_argument("--ezkl-input-visibility", default="public",
                    help="EZKL input_visibility: public (zkaudit's default: the input in the proof) or private "
                         "(against zkaudit's zero-knowledge proofs with a committed input, compare with "
                         "`--zkaudit-commit-input`)")
    ap.add_argument("--zkaudit-commit-input", action="store_true",
                    help="zkaudit proves with the input behind its hiding commitment (`prove --commit-input`) "
                         "and verifies against that commitment: the peer of EZKL's private input")
    ap.add_argument("--ezkl-param-visibility", "--ezkl-visibility", default="fixed",
                    help="EZKL param_visibility (default fixed: EZKL's default, weights in the circuit's fixed "
                         "columns). `hashed` is EZKL's private weights behind a published Poseidon hash: the "
                         "peer of zkaudit's default hashed weight commitment (weights hidden across proofs)")
    ap.add_argument("--ezkl-python", default=sys.executable, help="interpreter with ezkl installed")
    ap.add_argument("--trees", default=TREES,
                    help=f"tree-ensemble rows (trees_bench.py names; default {TREES}; '' for none)")
    ap.add_argument("--skip-ezkl", action="store_true")
    ap.add_argument("--skip-zkaudit", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the artifacts under this directory")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--json-out", type=Path, help="also write the JSON object to this file")
    a = ap.parse_args()

    available = zoo()
    if a.models is not None:  # '' for none (tree rows only)
        names = [n.strip() for n in a.models.split(",") if n.strip()]
        unknown = [n for n in names if n not in available]
        if unknown:
            ap.error(f"unknown models {unknown}; the zoo: {', '.join(available)}")
        names = sorted(names, key=available.index)  # big CNN last
    else:
        names = [n for n in available if n not in BIG]
    skipped = [n for n in names if n in BIG and not a.include_big]
    if a.include_big and not a.models:
        names = available
    names = [n for n in names if n not in skipped]

    ezkl_version, ezkl_error = None, None
    if not a.skip_ezkl:
        probe = subprocess.run([a.ezkl_python, "-c", "import ezkl; print(getattr(ezkl, '__version__', '?'))"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            ezkl_version = probe.stdout.strip()
        else:
            ezkl_error = ("ezkl is not importable by " + a.ezkl_python +
                          " (pip install 'zkaudit[ezkl]' or --ezkl-python PATH): " + probe.stderr.strip()[-300:])
    try:
        import onnxruntime
        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = None

    root = a.keep or Path(tempfile.mkdtemp(prefix="vs_ezkl_"))
    root.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        tree_names = [t.strip() for t in a.trees.split(",") if t.strip()]
        from trees_bench import MODELS as TREE_MODELS

        if set(tree_names) - set(TREE_MODELS):
            ap.error(f"unknown --trees {sorted(set(tree_names) - set(TREE_MODELS))}; known: {', '.join(TREE_MODELS)}")
        for name in names + tree_names:
            model_dir = tree_model_dir(name, root) if name in tree_names else CIRCUITS / name
            r: dict = {"model": name,
                       "parameters": json.loads((model_dir / "input.json").read_text()).get("parameters")}
            if not a.json:
                print(f"[{name}] onnxruntime ...", file=sys.stderr, flush=True)
            r["onnxruntime"] = onnxruntime_time(model_dir)
            if not a.skip_zkaudit:
                if not a.json:
                    print(f"[{name}] zkaudit compile/prove/verify ...", file=sys.stderr, flush=True)
                w = root / name / "zkaudit"
                w.mkdir(parents=True, exist_ok=True)
                r["zkaudit"] = run_zkaudit(model_dir, w, a.zkaudit_timeout, a.zkaudit_commit_input)
            if not a.skip_ezkl:
                if ezkl_error:
                    r["ezkl"] = {"status": ezkl_error, "phases": {}}
                else:
                    if not a.json:
                        print(f"[{name}] EZKL pipeline (limit {a.ezkl_timeout:.0f} s) ...", file=sys.stderr,
                              flush=True)
                    w = root / name / "ezkl"
                    w.mkdir(parents=True, exist_ok=True)
                    r["ezkl"] = run_ezkl(model_dir, w, a.ezkl_python, a.ezkl_timeout, a.ezkl_calib_samples,
                                         a.ezkl_target, a.ezkl_param_visibility, a.ezkl_input_visibility)
                    if not a.keep:
                        shutil.rmtree(w, ignore_errors=True)  # proving keys are large
            r["figures"] = {t: figures(r.get(t), t) for t in ("ezkl", "zkaudit")}
            r["ratios"] = ratios(r["figures"]["ezkl"], r["figures"]["zkaudit"]) \
                if r.get("ezkl", {}).get("status") == "ok" and r.get("zkaudit", {}).get("status") == "ok" else {}
            results.append(r)
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)

    doc = {"results": results, "skipped": {n: "big CNN: pass --include-big" for n in skipped},
           "environment": {"ezkl": ezkl_version, "onnxruntime": ort_version, "python": platform.python_version(),
                           "cpus": os.cpu_count(), "machine": platform.machine()},
           "ezkl_settings": {"calibration_samples": a.ezkl_calib_samples, "target": a.ezkl_target,
                             "param_visibility": a.ezkl_param_visibility,
                             "input_visibility": a.ezkl_input_visibility, "srs": "gen_srs (local)"},
           "zkaudit_settings": {"zero_knowledge": True, "weight_commitment": "hashed (compile's default)",
                                "input": "committed (hiding)" if a.zkaudit_commit_input else "public"},
           "notes": NOTES}
    if a.json_out:
        a.json_out.write_text(json.dumps(doc, indent=1, default=str))
    if a.json:
        print(json.dumps(doc, indent=1, default=str))
        return
    print(f"\nzkaudit vs EZKL {ezkl_version or '(unavailable)'} on {os.cpu_count()} cores; onnxruntime {ort_version}; "
          f"EZKL calibration: {a.ezkl_calib_samples or 'all'} samples, target {a.ezkl_target}, "
          f"param_visibility {a.ezkl_param_visibility}, input_visibility {a.ezkl_input_visibility}; zkaudit "
          f"zero-knowledge, hashed weights, input {'committed (hiding)' if a.zkaudit_commit_input else 'public'}, "
          "prove/verify warm (best of 3 after a cold run in process), cold in ().")
    print("setup: EZKL settings+calibrate+compile+gen_srs+setup, zkaudit compile; prove: EZKL gen_witness+prove; "
          "RSS: the prove process's peak / the max over all phases.\n")
    print_table(results)
    for n in skipped:
        print(f"skipped {n}: big CNN, pass --include-big")
    if ezkl_error:
        print(ezkl_error)


if __name__ == "__main__":
    main()
