"""Whole-process times of the `zkaudit` console script against issue 22's targets.

Each command runs N times as a fresh process; the best wall time and the best
CPU time (user + system of that child, from `os.wait4`) are printed beside
the target. CPU time is the figure to compare on a shared machine: wall time
includes waiting for a busy core. The load average is printed with the
figures. For prove and verify, one more run in-process says whether the
command imported numba (a small circuit's should not). Nothing is asserted.

Targets (issue 22, 2-core machine, numba kernel cache warm):
    --help, --version, registry --help, keys --help
                  (start-up of any command)   <= 0.3 s
    prove logistic_risk                           <= 0.5 s
    verify of any zoo proof                       <= 1 s

Setup compiles the chosen zoo models into --workdir and proves each once (so
the kernel cache is warm); with an existing --workdir that is skipped. For
each verify the in-process time of `zkaudit.api.verify` (second call in one
process) is printed too, so what remains is start-up.

    python benchmarks/cli_startup.py                       # all zoo models
    python benchmarks/cli_startup.py --models logistic_risk clinical_mlp --repeat 5
    python benchmarks/cli_startup.py --workdir /tmp/zoo   # keep artifacts between runs

Before/after in one run: `--tree before=/tmp/base --tree after=.` times the
same commands with each checkout first on PYTHONPATH (a git worktree of the
baseline, say), interleaved run by run so both see the same machine load.
Every tree (this checkout too, without --tree) is byte-compiled first, as
`pip install` does and as Python does on a first import: with
PYTHONDONTWRITEBYTECODE set (this machine sets it) an editable checkout
otherwise recompiles every module in every command, 0.2-0.4 s; each command
is warmed by one untimed run (its numba kernel cache). Artifacts come from
the first tree.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or with -m
from _bytecode import byte_compile  # noqa: E402

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


def best_of_trees(argv: list[str], envs: dict[str, dict], repeat: int) -> dict[str, tuple[float, float, int]]:
    """best_of for each tree, the trees' runs interleaved."""
    runs: dict[str, list] = {name: [] for name in envs}
    for _ in range(repeat):
        for name, env in envs.items():
            runs[name].append(run_once(argv, env))
    return {name: (min(r[0] for r in rs), min(r[1] for r in rs), max(r[2] for r in rs)) for name, rs in runs.items()}


def tree_envs(trees: list[str], env: dict) -> dict[str, dict]:
    """{label: environment} for `--tree LABEL=DIR` (none: this checkout,
    byte-compiled like every tree)."""
    if not trees:
        byte_compile(ROOT / "zkaudit")
        return {"": env}
    out = {}
    for spec in trees:
        label, _, path = spec.rpartition("=")
        root = Path(path).resolve()
        if not (root / "zkaudit" / "__init__.py").exists():
            raise SystemExit(f"--tree {spec}: no zkaudit package under {root}")
        byte_compile(root / "zkaudit")
        out[label or str(root)] = {**env, "PYTHONPATH": str(root)}
    return out


def in_process_verify(proof: Path, circuit: Path, env: dict) -> float | None:
    """CPU seconds of the second `zkaudit verify` run through the CLI's
    `main()` in one process (what the command does, start-up paid)."""
    code = ("import contextlib, io, sys, time, json\nfrom zkaudit.cli.main import main\n"
            "argv = ['verify', sys.argv[1], '--circuit', sys.argv[2]]\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(argv)\n"
            "    t = time.process_time(); rc = main(argv); t = time.process_time() - t\n"
            "print(json.dumps([rc, t]))")
    # cwd away from any checkout: `python -c` puts the cwd ahead of PYTHONPATH
    out = subprocess.run([sys.executable, "-c", code, str(proof), str(circuit)], env=env, capture_output=True,
                         text=True, cwd=proof.parent)
    try:
        rc, seconds = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return seconds if rc == 0 else None


def loads_numba(argv: list[str], env: dict) -> bool | None:
    """Whether the command imports numba at all (one extra in-process run):
    a small circuit's prove and verify should not (issue 22)."""
    code = ("import contextlib, io, sys\nfrom zkaudit.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    rc = main(sys.argv[1:])\n"
            "print('NUMBA', rc, 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    lines = [ln.split() for ln in out.stdout.splitlines() if ln.startswith("NUMBA ")]
    return lines[-1][2] == "True" if lines and lines[-1][1] == "0" else None


def _one_sample(src: Path, compiled: Path, work: Path) -> Path:
    """The zoo's input.json, or its first sample where the circuit cannot prove the file as one
    batch (clinical_transformer has activations without a leading batch axis)."""
    from zkaudit.circuit import load_circuit, read_inputs
    from zkaudit.statements.inference.batch import BatchUnsupported, widen

    circuit = load_circuit(compiled)
    samples = read_inputs(src / "input.json", circuit).samples
    try:
        widen(circuit, len(samples))
        return src / "input.json"
    except BatchUnsupported:
        single = work / f"{src.name}.input.json"
        single.write_text(json.dumps({"inputs_int": {k: v.tolist() for k, v in samples[0].items()}}))
        return single


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
        subprocess.run(_zkaudit() + ["prove", str(compiled), "--input", str(_one_sample(src, compiled, work)),
                                     "--out", str(proof), "--force"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"  setup {name}: compiled and proved in {time.perf_counter() - t0:.1f} s", flush=True)


def row(label: str, wall: float, cpu: float, target: float, status: int, extra: str = "") -> None:
    verdict = "meets" if cpu <= target else f"misses by {cpu - target:.2f} s"
    bad = "" if status == 0 else f"  EXIT {status}"
    print(f"  {label:<38} wall {wall:6.3f} s   cpu {cpu:6.3f} s   target {target:.1f} s: {verdict}{extra}{bad}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    zoo = sorted(p.name for p in ZOO.iterdir() if (p / "model.onnx").exists())
    ap.add_argument("--models", nargs="+", default=zoo, choices=zoo, metavar="NAME")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command; the best is printed")
    ap.add_argument("--workdir", type=Path, help="keep compiled models and proofs here (reused when present)")
    ap.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR",
                    help="time the checkout at DIR (repeat for before/after; runs interleaved)")
    args = ap.parse_args()

    env = dict(os.environ)
    env.setdefault("NUMBA_NUM_THREADS", "2")
    env.setdefault("ZKAUDIT_KNOWN_HEADS", str(Path(tempfile.gettempdir()) / "zkaudit-bench-heads"))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="zkaudit-startup-"))
    work.mkdir(parents=True, exist_ok=True)
    envs = tree_envs(args.tree, env)
    print(f"cli_startup: best of {args.repeat}, {os.cpu_count()} cores, load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; workdir {work}"
          + ("; PYTHONDONTWRITEBYTECODE is set" if env.get("PYTHONDONTWRITEBYTECODE") else ""))
    setup(args.models, work, next(iter(envs.values())))
    zk = _zkaudit()

    commands = [("--help", ["--help"], "help", None), ("--version", ["--version"], "version", None),
                # the command groups whose modules import the most (registry: SQLAlchemy; keys: BLS)
                ("registry --help", ["registry", "--help"], "help", None), ("keys --help", ["keys", "--help"], "help", None)]
    if "logistic_risk" in args.models:
        src = ZOO / "logistic_risk"
        commands.append(("prove logistic_risk", ["prove", str(work / "logistic_risk"), "--input",
                                                 str(src / "input.json"), "--out", str(work / "bench.zkp"),
                                                 "--force"], "prove", None))
    for name in args.models:
        commands.append((f"verify {name}", ["verify", str(work / f"{name}.zkp"), "--circuit", str(work / name)],
                         "verify", name))
    if len(envs) > 1:  # one untimed run each: the tree's own kernel cache
        for _, argv, _, _ in commands:
            for tree_env in envs.values():
                run_once(zk + argv, tree_env)

    for label, argv, key, model in commands:
        for tree, (wall, cpu, status) in best_of_trees(zk + argv, envs, args.repeat).items():
            extra = ""
            if key in ("prove", "verify"):
                numba = loads_numba(argv, envs[tree])
                extra = "   numba: " + {True: "loaded", False: "no", None: "? (failed)"}[numba]
            if model is not None:
                inproc = in_process_verify(work / f"{model}.zkp", work / model, envs[tree])
                extra += f"   in-process {inproc:.3f} s" if inproc is not None else "   in-process: failed"
            row(f"{label}{f' [{tree}]' if tree else ''}", wall, cpu, TARGETS[key], status, extra)
    print("(in-process = the second `zkaudit verify` through main() in one process, CPU; "
          "numba = whether the command imported numba)")
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
