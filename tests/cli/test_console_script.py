"""Usage mistakes and crashes through the installed `zkaudit` console script,
as a new user meets them (issue 22): one line and exit 2 for every usage
error on the typer/click that pip resolves, exit 3 with a please-report line
for an internal error (traceback only with --debug), JSON on stdout under
--json. Runs the real entry point in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "zkaudit"
USAGE, INTERNAL = 2, 3


def zkaudit(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    assert SCRIPT.exists(), f"the console script is not installed at {SCRIPT} (pip install -e .)"
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def one_error_line(proc) -> str:
    # a cold numba cache adds its one-line notice first (`cli/_kernels.py`): not part of the error
    lines = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("compiling kernels (")]
    assert "Traceback" not in proc.stderr and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


@pytest.mark.parametrize("argv, expected", [
    (["proove"], "No such command 'proove'. Did you mean 'prove'?"),
    (["prove", "somewhere", "--inputs", "x.json"], "No such option: --inputs"),
    (["prove", "somewhere"], "Missing option '--input'"),
    (["registry", "list", "--json", "true"], "unexpected extra argument"),
    (["registry", "lst"], "Did you mean 'list'?"),
    (["compile", "m.onnx", "--out", "o", "--percentile", "lots"], "'--percentile'"),
    (["verify"], "Missing argument"),
], ids=["typo_command", "unknown_option", "missing_option", "flag_given_a_value", "typo_subcommand",
        "bad_float_value", "missing_argument"])
def test_usage_mistake_is_one_line_exit_2(argv, expected, tmp_path):
    proc = zkaudit(*argv, cwd=tmp_path)
    assert proc.returncode == USAGE, proc
    if "--json" in argv:  # the error is the JSON document on stdout
        assert proc.stderr == ""
        line = json.loads(proc.stdout)["error"]
    else:
        line = one_error_line(proc)
        assert proc.stdout == ""
    assert expected in line and "--help" in line, line
    assert not list(tmp_path.iterdir())


def test_usage_mistake_under_json_is_a_json_error_on_stdout(tmp_path):
    proc = zkaudit("prove", "somewhere", "--inputs", "x.json", "--json", cwd=tmp_path)
    assert proc.returncode == USAGE and proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "zkaudit.error/1" and doc["code"] == "usage_error" and doc["exit_code"] == USAGE
    assert "No such option: --inputs" in doc["error"]


def test_input_error_under_json_is_a_json_error_on_stdout(tmp_path):
    proc = zkaudit("run", tmp_path / "nodir", "--input", tmp_path / "in.json", "--json")
    assert proc.returncode == USAGE and proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert doc["code"] == "input_error" and "compiled model directory not found" in doc["error"]


def test_flags_show_no_value_in_help():
    proc = zkaudit("verify", "--help", env={"COLUMNS": "100"})
    assert proc.returncode == 0
    assert "--json" in proc.stdout and "<bool>" not in proc.stdout


def test_help_and_version_exit_0():
    assert zkaudit("--version").stdout.strip().startswith("zkaudit ")
    root = zkaudit("--help", env={"COLUMNS": "120"})
    assert root.returncode == 0
    for command in ("compile", "prove", "verify", "registry", "keys", "commit-input"):
        assert command in root.stdout
    assert zkaudit().returncode == 0  # no arguments: the help


# A crash must not look like a rejected proof (exit 1). No command crashes on
# purpose, so the bug is planted: the root group's command lookup raises, in
# a child process running the real entry point.
CRASH = ("import sys; from zkaudit.cli import main as m; "
         "m._RootGroup.resolve_command = lambda *a, **k: (_ for _ in ()).throw(RuntimeError('boom'));"
         "sys.exit(m.main(sys.argv[1:]))")


def test_internal_error_exits_3_with_one_line_and_no_traceback():
    proc = subprocess.run([sys.executable, "-c", CRASH, "run", "x"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == INTERNAL
    line = one_error_line(proc)
    assert "internal error (RuntimeError: boom)" in line and "please report" in line and "--debug" in line


def test_internal_error_with_debug_prints_the_traceback():
    proc = subprocess.run([sys.executable, "-c", CRASH, "run", "x", "--debug"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == INTERNAL
    assert "Traceback" in proc.stderr and "RuntimeError: boom" in proc.stderr


def test_internal_error_under_json():
    proc = subprocess.run([sys.executable, "-c", CRASH, "run", "x", "--json"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == INTERNAL and proc.stderr == ""
    assert json.loads(proc.stdout)["code"] == "internal_error"


# The console script ends prove/verify/run/... with os._exit once their output
# is flushed (`main.run`): nothing may be lost, and the exit codes stand.
CRASH_FAST = CRASH.replace("sys.exit(m.main(sys.argv[1:]))", "sys.argv = ['zkaudit'] + sys.argv[1:]; m.run()")


def test_fast_exit_keeps_the_exit_code_of_a_crash():
    proc = subprocess.run([sys.executable, "-c", CRASH_FAST, "verify", "x", "--json"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == INTERNAL and json.loads(proc.stdout)["code"] == "internal_error"


def test_fast_exit_commands_write_their_whole_output(tmp_path):
    zoo = Path(__file__).resolve().parents[2] / "circuits" / "logistic_risk"
    out = tmp_path / "logistic"
    assert zkaudit("compile", zoo / "model.onnx", "--out", out, "--calibration", zoo / "calibration.npy",
                   cwd=tmp_path).returncode == 0
    proc = zkaudit("prove", out, "--input", zoo / "input.json", "--out", tmp_path / "p.zkp", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output"]  # the whole document arrived
    proc = zkaudit("verify", tmp_path / "p.zkp", "--circuit", out, "--json", cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["valid"] is True, proc.stdout
    text = zkaudit("verify", tmp_path / "p.zkp", "--circuit", out, cwd=tmp_path)
    assert text.returncode == 0 and text.stdout.startswith("valid") and "soundness" in text.stdout
    other = zkaudit("compile", zoo / "model.onnx", "--out", tmp_path / "other", "--calibration",
                    zoo / "calibration.npy", cwd=tmp_path)
    assert other.returncode == 0
    rejected = zkaudit("verify", tmp_path / "p.zkp", "--circuit", tmp_path / "other", "--json", cwd=tmp_path)
    assert rejected.returncode == 1 and json.loads(rejected.stdout)["valid"] is False


# One-shot commands run without the cyclic garbage collector from the start
# (`main.run`); a command that may live on (the registry's server) keeps it.
GC_PROBE = ("import gc, sys; import zkaudit.cli.main as m; "
            "m.main = lambda argv=None: print('gc', gc.isenabled()) or 0; "
            "sys.argv = ['zkaudit'] + sys.argv[1:]; m.run()")


@pytest.mark.parametrize("command, enabled", [("prove", False), ("verify", False), ("commit-input", False),
                                              ("registry", True), ("compile", True)])
def test_one_shot_commands_run_without_the_collector(command, enabled):
    proc = subprocess.run([sys.executable, "-c", GC_PROBE, command, "x"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"gc {enabled}", (proc.stdout, proc.stderr)
