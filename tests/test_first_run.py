"""A newcomer's first run: a clean clone, the README's first command verbatim
(fresh virtual environment, pip install, `zkaudit demo` with numba compiling
its kernels cold), then a second `zkaudit demo` with the kernels cached.

It clones the repository's HEAD, so it tests committed code only. The wall
times are printed (`pytest -s`) and written to $TMPDIR/zkaudit-first-run.json.
The README's second command (the test suite) is only compared with what
`.ci/run` executes, not run: it would run this test again."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECORD = Path(tempfile.gettempdir()) / "zkaudit-first-run.json"
INSTALL_TIMEOUT_S = 20 * 60
DEMO_TIMEOUT_S = 10 * 60

pytestmark = pytest.mark.first_run


def readme_commands() -> list[str]:
    """The lines of the README's first ```bash block."""
    block = re.search(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    assert block, "README.md has no ```bash block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def ci_commands() -> list[str]:
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_readme_test_command_is_what_ci_runs():
    commands = readme_commands()
    assert len(commands) == 2, f"the README should open with two commands, found {commands}"
    assert commands[1] in ci_commands(), f"{commands[1]!r} is not what .ci/run executes"
    assert ci_commands()[-1] == commands[1], ".ci/run should end with the README's test command"


def _newcomer_env() -> dict[str, str]:
    """This process's environment minus what a fresh shell would not have:
    our virtual environment, a numba cache elsewhere, pytest's settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "NUMBA_CACHE_DIR", "NUMBA_THREADING_LAYER")
           and not k.startswith("PYTEST_")}
    venv = os.environ.get("VIRTUAL_ENV") or str(Path(sys.prefix))
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not p.startswith(venv) and not p.startswith(str(REPO)))
    return env


def _steps(trace: str, end: float) -> dict[str, float]:
    """Seconds per simple command, from bash's xtrace lines `+ EPOCHREALTIME command`."""
    starts = [(float(m.group(1)), m.group(2)) for m in re.finditer(r"^\+ (\d+\.\d+) (.*)$", trace, re.MULTILINE)]
    bounds = [t for t, _ in starts[1:]] + [end]
    return {cmd: round(b - t, 1) for (t, cmd), b in zip(starts, bounds)}


def _demo_ok(out: str) -> None:
    assert re.search(r"verdict\s+VALID", out), out[-3000:]
    assert re.search(r"verdict\s+REJECTED", out), out[-3000:]
    assert "demo complete" in out, out[-3000:]


def test_readme_first_command_in_a_clean_clone(tmp_path):
    if shutil.which("git") is None or subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"],
                                                     capture_output=True, check=False).returncode != 0:
        pytest.skip("not a git checkout: nothing to clone")
    first = readme_commands()[0]
    clone = tmp_path / "zkaudit"
    env = _newcomer_env()
    try:
        subprocess.run(["git", "clone", "-q", "--no-local", str(REPO), str(clone)], check=True, env=env)
        assert not list(clone.rglob("__pycache__")), "a clean clone has no compiled caches"
        started = time.perf_counter()
        # xtrace with a timestamp in PS4 times each step of the verbatim command line
        # (set in the script: bash does not take PS4 from the environment when run as root)
        traced = "PS4='+ $EPOCHREALTIME '; set -x\n" + first
        run = subprocess.run(["bash", "-c", traced], cwd=clone, env=env,
                             capture_output=True, text=True, check=False, timeout=INSTALL_TIMEOUT_S + DEMO_TIMEOUT_S)
        first_total = time.perf_counter() - started
        end = time.time()
        assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
        _demo_ok(run.stdout)
        steps = _steps(run.stderr, end)
        pip_s = next(s for cmd, s in steps.items() if "pip install" in cmd)
        demo_cold_s = next(s for cmd, s in steps.items() if cmd.endswith("zkaudit demo"))

        started = time.perf_counter()
        again = subprocess.run([".venv/bin/zkaudit", "demo"], cwd=clone, env=env, capture_output=True, text=True,
                               check=False, timeout=DEMO_TIMEOUT_S)
        demo_warm_s = round(time.perf_counter() - started, 1)
        assert again.returncode == 0, f"{again.stdout[-3000:]}\n{again.stderr[-3000:]}"
        _demo_ok(again.stdout)
    finally:
        shutil.rmtree(clone, ignore_errors=True)  # the venv is ~1 GB

    record = {"command": first, "first_command_s": round(first_total, 1), "steps_s": steps,
              "pip_install_s": pip_s, "demo_first_run_s": demo_cold_s, "demo_second_run_s": demo_warm_s}
    RECORD.write_text(json.dumps(record, indent=2))
    print(f"\nfirst command: {first_total:.1f} s (pip install {pip_s:.1f} s, first demo {demo_cold_s:.1f} s "
          f"with numba compiling); second demo {demo_warm_s:.1f} s; recorded in {RECORD}")
