"""Private weights (issue 16): what the hashed weight commitment costs a
zero-knowledge inference proof, per zoo model. Prints figures; asserts nothing.

Each model is compiled twice: `--weight-commitment plain` (the tensor-code
commitment every proof opens, so proofs leak the weights) and `hashed` (the
salted Poseidon2 root, never opened: each proof re-commits the weights and
proves with the Poseidon2 GKR that they hash to it). Both prove and verify
the first sample of input.json, zero-knowledge, interleaved; best of --runs
after one warm-up, in wall time and in this process's CPU time (steadier on
a shared machine). The overhead per weight is (hashed - plain) / weights.

    NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/weights_link_bench.py [--models a,b] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "logistic_risk,clinical_mlp,wide_mlp,digits_cnn,big_cnn"


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def best(fn, runs: int):
    fn()  # warm: kernels loaded, bank size learned
    rows = [timed(fn) for _ in range(runs)]
    return min(r[0] for r in rows), min(r[1] for r in rows), rows[-1][2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=DEFAULT)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    import zkaudit.api as api
    from zkaudit.circuit import load_circuit

    print(f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', '(default)')}")
    print(f"{'model':<14}{'weights':>10} {'prove plain':>12} {'hashed':>9} {'+ cpu':>8} {'us/weight':>10}"
          f" {'verify plain':>13} {'hashed':>8} {'bytes plain':>12} {'hashed':>9}")
    work = Path(tempfile.mkdtemp(prefix="zkaudit-wlink-"))
    for name in [m for m in a.models.split(",") if m]:
        src = ROOT / "circuits" / name
        res = {}
        for scheme in ("plain", "hashed"):
            out = work / f"{name}-{scheme}"
            api.compile(src / "model.onnx", out, calibration=src / "calibration.npy", weight_commitment=scheme)
            pw, pc, proof = best(lambda: api.prove(out, src / "input.json"), a.runs)
            vw, vc, verdict = best(lambda: api.verify(proof.proof, circuit=out), a.runs)
            if not verdict.valid:
                raise SystemExit(f"{name} {scheme}: {verdict.reason}")
            res[scheme] = (pw, pc, vw, vc, len(proof.proof))
        n = sum(s.size for s in load_circuit(work / f"{name}-hashed").weights)
        (ppw, ppc, pvw, pvc, pb), (hpw, hpc, hvw, hvc, hb) = res["plain"], res["hashed"]
        print(f"{name:<14}{n:>10,} {ppw:>10.3f} s {hpw:>7.3f} s {hpc - ppc:>6.3f} s {(hpc - ppc) / n * 1e6:>9.2f}"
              f" {pvw:>11.3f} s {hvw:>6.3f} s {pb:>12,} {hb:>9,}")
        print(f"{'':<14}{'':>10} cpu {ppc:>6.3f} s {hpc:>7.3f} s {'':>8} {'':>10} cpu {pvc:>7.3f} s {hvc:>6.3f} s",
              flush=True)


if __name__ == "__main__":
    main()
