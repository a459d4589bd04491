"""The entry point: exit codes and one-line errors."""


def test_cli_exit_codes_reach_the_shell(tmp_path):
    """typer.Exit(n) inside a command must become the process exit code."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "zkaudit.cli.main", "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and "zkaudit" in ok.stdout
    missing = subprocess.run([sys.executable, "-m", "zkaudit.cli.main", "run", str(tmp_path / "nope"), "--input",
                              str(tmp_path / "nope.json")], capture_output=True, text=True)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
