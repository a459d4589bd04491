"""Subprocess entry point of `vs_ezkl.py` for zkaudit: one phase per process,
so the parent measures each phase's peak RSS (os.wait4) in a fresh process.
Writes a JSON object of figures to --result; timed inside this process.

  compile  `zkaudit compile` (compile_model with the CLI's weight commitment;
           its own calibration from --calibration) into --out
  prove    prove one input (sample --index of --data) WARM_RUNS + 1 times in
           this process: the first run is cold (numba compiles or loads its
           cached kernels), the warm figure is the best of the others (the
           machine is shared and noisy); writes --out/proof.bin. With
           --commit-input the input is behind its hiding commitment (the
           proof carries the commitment, not the record); the commitment is
           written to --out/input.commitment
  verify   verify --out/proof.bin the same way (cold, best warm); with
           --commit-input it must be about --out/input.commitment, as a
           hospital holding that commitment checks it

A model with an op the inference prover does not support yet stops `prove`
with UnsupportedLayer: reported as {"ok": false, "unsupported": "..."}.

    python benchmarks/_zkaudit_worker.py PHASE --model M.onnx --out DIR --result R.json
        [--calibration calibration.npy] [--data input.json] [--index 0] [--commit-input]
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from pathlib import Path


WARM_RUNS = 3


def phase_compile(a, res: dict) -> None:
    from zkaudit.cli.compile import _weight_commitment
    from zkaudit.onnx import compile_model

    t = time.perf_counter()
    result = compile_model(Path(a.model), Path(a.out), calibration=Path(a.calibration) if a.calibration else None,
                           extra_files=_weight_commitment)
    res["times"] = {"compile": time.perf_counter() - t}
    s = result.summary
    res["summary"] = {k: s.get(k) for k in ("kind", "nodes", "ops", "parameters", "digest")}
    res["fidelity"] = s.get("fidelity")


def _load(a):
    from zkaudit.circuit import load_circuit, load_weights, read_inputs
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE

    out = Path(a.out)
    circuit = load_circuit(out)
    weights = load_weights(out)
    commitment = (out / COMMITMENT_FILE).read_bytes()  # public/weights.commitment
    return out, circuit, weights, commitment, read_inputs


def phase_prove(a, res: dict) -> None:
    from zkaudit.api import weight_salt
    from zkaudit.field.randomness import new_seed
    from zkaudit.layers.shapes import UnsupportedLayer
    from zkaudit.statements.inference.commitment import input_commitment
    from zkaudit.statements.inference.prover import prove

    out, circuit, weights, commitment, read_inputs = _load(a)
    salt = weight_salt(out, commitment)  # compile's default hashed commitment: proofs need its salt
    sample = read_inputs(a.data, circuit).samples[a.index]
    times = res.setdefault("times", {})
    proof = None
    # one secret opening for the committed input, as the record's holder keeps it: each proof is still fresh
    opening = new_seed() if a.commit_input else None
    try:
        runs = []
        for _ in range(WARM_RUNS + 1):
            t = time.perf_counter()
            proof = prove(circuit, weights, sample, weight_commitment=commitment, weight_salt=salt,
                          commit_input=a.commit_input, input_opening=opening)
            runs.append(time.perf_counter() - t)
        times.update(prove_cold=runs[0], prove_warm=min(runs[1:]), prove_warm_runs=runs[1:])
    except UnsupportedLayer as exc:
        res["unsupported"] = str(exc)
        raise
    (out / "proof.bin").write_bytes(proof)
    if a.commit_input:
        (out / "input.commitment").write_bytes(input_commitment(circuit, [sample], opening))
    res["sizes"] = {"proof": len(proof), "circuit_bin": (out / "public" / "circuit.bin").stat().st_size,
                    "weights_commitment": len(commitment)}


def phase_verify(a, res: dict) -> None:
    from zkaudit.statements.verify import verify_proof

    out, circuit, weights, commitment, _ = _load(a)
    proof = (out / "proof.bin").read_bytes()
    circuit_bin = (out / "public" / "circuit.bin").read_bytes()
    committed = (out / "input.commitment").read_bytes() if a.commit_input else None
    times = res.setdefault("times", {})
    verdict, runs = None, []
    for _ in range(WARM_RUNS + 1):
        t = time.perf_counter()
        verdict = verify_proof(proof, circuit_bin=circuit_bin, weight_commitment=commitment,
                               input_commitment=committed)
        runs.append(time.perf_counter() - t)
    times.update(verify_cold=runs[0], verify_warm=min(runs[1:]), verify_warm_runs=runs[1:])
    res["valid"] = bool(verdict.valid)
    res["reason"] = verdict.reason


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=("compile", "prove", "verify"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--calibration")
    ap.add_argument("--data")
    ap.add_argument("--index", type=int, default=0)
    ap.add_argument("--commit-input", action="store_true")
    a = ap.parse_args()
    res: dict = {"phase": a.phase}
    try:
        {"compile": phase_compile, "prove": phase_prove, "verify": phase_verify}[a.phase](a, res)
        res["ok"] = True
    except BaseException as exc:  # reported by the parent, never hidden
        res["ok"] = False
        res["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        if "unsupported" not in res:
            res["traceback"] = traceback.format_exc()[-3000:]
    from _rss import peak_rss_bytes  # beside this script

    res["peak_rss_bytes"] = peak_rss_bytes()  # this process's own: the parent's wait4 figure has a floor
    with open(a.result, "w") as f:
        json.dump(res, f, default=str)


if __name__ == "__main__":
    main()
