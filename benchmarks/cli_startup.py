"""Whole-process times of the `zkaudit` console script against issue 22's targets.

Each command runs N times as a fresh process; the best wall time and the best
CPU time (user + system of that child, from `os.wait4`) are printed beside
the target. CPU time is the figure to compare on a shared machine: wall time
includes waiting for a busy core. The load average is printed with the
figures. Nothing is asserted.

Targets (issue 22, 2-core machine, numba kernel cache warm):
    --help, --version (start-up of any command)   <= 0.3 s
    prove logistic_risk                           <= 0.5 s
    verify of any zoo proof                       <= 1 s

Setup compiles the chosen zoo models into --workdir and proves each once (so
the kernel cache is warm); with an existing --workdir that is skipped. For
each verify the in-process time of `zkaudit.api.verify` (second call in one
process) is printed too, so what remains is start-up.

    python benchmarks/cli_startup.py                       # all zoo models
    python benchmarks/cli_startup.py --models logistic_risk clinical_mlp --repeat 5
    python benchmarks/cli_startup.py --workdir /tmp/zoo   # keep artifacts between runs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "circuits"
TARGETS = {"help": 0.3, "version": 0.3, "prove": 0.5, "verify": 1.0}


def _zkaudit() -> list[str]:
    script = Path(sys.executable).parent / "zkaudit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "zkaudit.cli.main"]


def run_once(argv: list[str], env: dict) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child, exit status)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, proc.returncode


def best_of(argv: list[str], env: dict, repeat: int) -> tuple[float, float, int]:
    runs = [run_once(argv, env) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def in_process_verify(proof: Path, circuit: Path, env: dict) -> float | None:
    code = ("import sys, time, json\nfrom zkaudit import api\n"
            "api.verify(sys.argv[1], circuit=sys.argv[2])\n"
            "t = time.process_time(); v = api.verify(sys.argv[1], circuit=sys.argv[2])\n"
            "print(json.dumps([v.valid, time.process_time() - t]))")
    out = subprocess.run([sys.executable, "-c", code, str(proof), str(circuit)], env=env, capture_output=True,
                         text=True)
    try:
        valid, seconds = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return seconds if valid else None


def setup(models: list[str], work: Path, env: dict) -> None:
    for name in models:
        compiled, proof = work / name, work / f"{name}.zkp"
        if proof.exists():
            continue
        src = ZOO / name
        t0 = time.perf_counter()
        subprocess.run(_zkaudit() + ["compile", str(src / "model.onnx"), "--out", str(compiled),
                                     "--calibration", str(src / "calibration.npy")],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(_zkaudit() + ["prove", str(compiled), "--input", str(src / "input.json"),
                                     "--out", str(proof), "--force"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"  setup {name}: compiled and proved in {time.perf_counter() - t0:.1f} s", flush=True)


def row(label: str, wall: float, cpu: float, target: float, status: int, extra: str = "") -> None:
    verdict = "meets" if cpu <= target else f"misses by {cpu - target:.2f} s"
    bad = "" if status == 0 else f"  EXIT {status}"
    print(f"  {label:<28} wall {wall:6.3f} s   cpu {cpu:6.3f} s   target {target:.1f} s: {verdict}{extra}{bad}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    zoo = sorted(p.name for p in ZOO.iterdir() if (p / "model.onnx").exists())
    ap.add_argument("--models", nargs="+", default=zoo, choices=zoo, metavar="NAME")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command; the best is printed")
    ap.add_argument("--workdir", type=Path, help="keep compiled models and proofs here (reused when present)")
    args = ap.parse_args()

    env = dict(os.environ)
    env.setdefault("NUMBA_NUM_THREADS", "2")
    env.setdefault("ZKAUDIT_KNOWN_HEADS", str(Path(tempfile.gettempdir()) / "zkaudit-bench-heads"))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="zkaudit-startup-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"cli_startup: best of {args.repeat}, {os.cpu_count()} cores, load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; workdir {work}")
    setup(args.models, work, env)
    zk = _zkaudit()

    print("start-up")
    for label, extra_args, key in (("--help", ["--help"], "help"), ("--version", ["--version"], "version")):
        wall, cpu, status = best_of(zk + extra_args, env, args.repeat)
        row(label, wall, cpu, TARGETS[key], status)

    if "logistic_risk" in args.models:
        print("prove")
        src = ZOO / "logistic_risk"
        wall, cpu, status = best_of(zk + ["prove", str(work / "logistic_risk"), "--input", str(src / "input.json"),
                                          "--out", str(work / "bench.zkp"), "--force"], env, args.repeat)
        row("prove logistic_risk", wall, cpu, TARGETS["prove"], status)

    print("verify (in-process = the second api.verify in one process, CPU)")
    for name in args.models:
        wall, cpu, status = best_of(zk + ["verify", str(work / f"{name}.zkp"), "--circuit", str(work / name)],
                                    env, args.repeat)
        inproc = in_process_verify(work / f"{name}.zkp", work / name, env)
        extra = f"   in-process {inproc:.3f} s" if inproc is not None else "   in-process: failed"
        row(f"verify {name}", wall, cpu, TARGETS["verify"], status, extra)
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
