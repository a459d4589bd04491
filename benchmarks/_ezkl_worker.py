"""Subprocess entry point of `vs_ezkl.py` for EZKL (23.x Python API): one phase
of EZKL's pipeline per process, so the parent can measure each phase's peak
RSS (os.wait4) and enforce a wall-time limit. Writes a JSON object of figures
to --result; everything timed is timed inside this process (interpreter start
and `import ezkl` excluded).

Phases (artifacts in --work, shared between phases):
  setup   gen_settings, calibrate_settings (--calib data, EZKL JSON format),
          compile_circuit, gen_srs (local, logrows from the settings), setup
          (vk, pk), gen_witness (the input of --data)
  prove   prove (the witness from `setup`)
  verify  verify

    python benchmarks/_ezkl_worker.py PHASE --model M.onnx --work DIR --result R.json
        [--data input.json] [--calib calib.json] [--target resources]
        [--param-visibility fixed] [--input-visibility public] [--output-visibility public]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import time


def _call(fn, *args, **kwargs):
    """Call an ezkl function; some return awaitables (async in the Rust binding)."""
    out = fn(*args, **kwargs)
    if inspect.isawaitable(out):
        out = asyncio.run(_await(out))
    return out


async def _await(aw):
    return await aw


def _timed(times: dict, name: str, fn, *args, **kwargs):
    t = time.perf_counter()
    out = _call(fn, *args, **kwargs)
    times[name] = time.perf_counter() - t
    return out


def _paths(work: str) -> dict:
    names = {"settings": "settings.json", "compiled": "model.compiled", "srs": "kzg.srs", "vk": "vk.key",
             "pk": "pk.key", "witness": "witness.json", "proof": "proof.json"}
    return {k: os.path.join(work, v) for k, v in names.items()}


def _size(path: str) -> int | None:
    return os.path.getsize(path) if os.path.exists(path) else None


def _proof_bytes(path: str) -> int | None:
    """Length of the raw proof inside EZKL's proof JSON (its 'proof' field: hex string or byte list)."""
    try:
        doc = json.load(open(path))
    except (OSError, ValueError):
        return None
    p = doc.get("proof") if isinstance(doc, dict) else None
    if isinstance(p, str):
        h = p[2:] if p.startswith("0x") else p
        return len(h) // 2
    if isinstance(p, list):
        return len(p)
    return None


def phase_setup(a, p: dict, res: dict) -> None:
    import ezkl

    times = res.setdefault("times", {})
    run_args = ezkl.PyRunArgs()
    run_args.input_visibility = a.input_visibility
    run_args.output_visibility = a.output_visibility
    run_args.param_visibility = a.param_visibility
    ok = _timed(times, "gen_settings", ezkl.gen_settings, a.model, p["settings"], py_run_args=run_args)
    if ok is False:
        raise RuntimeError("gen_settings returned False")
    ok = _timed(times, "calibrate_settings", ezkl.calibrate_settings, a.calib, a.model, p["settings"], a.target)
    if ok is False:
        raise RuntimeError("calibrate_settings returned False")
    ok = _timed(times, "compile_circuit", ezkl.compile_circuit, a.model, p["compiled"], p["settings"])
    if ok is False:
        raise RuntimeError("compile_circuit returned False")
    settings = json.load(open(p["settings"]))
    ra = settings.get("run_args", {})
    res["logrows"] = ra.get("logrows")
    res["settings"] = {k: ra.get(k) for k in ("logrows", "input_scale", "param_scale", "scale_rebase_multiplier",
                                              "lookup_range", "input_visibility", "param_visibility",
                                              "output_visibility", "num_inner_cols")}
    res["settings"]["num_rows"] = settings.get("num_rows")
    res["settings"]["total_assignments"] = settings.get("total_assignments")
    _timed(times, "gen_srs", ezkl.gen_srs, p["srs"], int(res["logrows"]))
    ok = _timed(times, "setup", ezkl.setup, p["compiled"], p["vk"], p["pk"], p["srs"])
    if ok is False:
        raise RuntimeError("setup returned False")
    _timed(times, "gen_witness", ezkl.gen_witness, a.data, p["compiled"], p["witness"], p["vk"], p["srs"])
    res["sizes"] = {"srs": _size(p["srs"]), "vk": _size(p["vk"]), "pk": _size(p["pk"]),
                    "compiled": _size(p["compiled"])}


def phase_prove(a, p: dict, res: dict) -> None:
    import ezkl

    times = res.setdefault("times", {})
    ok = _timed(times, "prove", ezkl.prove, p["witness"], p["compiled"], p["pk"], p["proof"], p["srs"])
    if ok is False:
        raise RuntimeError("prove returned False")
    res["sizes"] = {"proof_file": _size(p["proof"]), "proof": _proof_bytes(p["proof"])}


def phase_verify(a, p: dict, res: dict) -> None:
    import ezkl

    times = res.setdefault("times", {})
    ok = _timed(times, "verify", ezkl.verify, p["proof"], p["settings"], p["vk"], p["srs"])
    res["valid"] = bool(ok)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=("setup", "prove", "verify"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--data")
    ap.add_argument("--calib")
    ap.add_argument("--target", default="resources")
    ap.add_argument("--param-visibility", default="fixed")
    ap.add_argument("--input-visibility", default="public")
    ap.add_argument("--output-visibility", default="public")
    a = ap.parse_args()
    res: dict = {"phase": a.phase}
    try:
        import ezkl

        res["ezkl_version"] = getattr(ezkl, "__version__", None)
        {"setup": phase_setup, "prove": phase_prove, "verify": phase_verify}[a.phase](a, _paths(a.work), res)
        res["ok"] = True
    except BaseException as exc:  # report, never hide: the parent prints it
        res["ok"] = False
        res["error"] = f"{type(exc).__name__}: {exc}"[:2000]
    from _rss import peak_rss_bytes  # beside this script

    res["peak_rss_bytes"] = peak_rss_bytes()  # this process's own: the parent's wait4 figure has a floor
    with open(a.result, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
