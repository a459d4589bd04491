"""The first run of a command that compiles numba kernels says so in one
line (issue 22: the first CNN prove took 32 s without a word), and only
until the command has succeeded once with the current kernel sources."""

from __future__ import annotations

import os

from zkaudit.cli import _kernels
from zkaudit.cli.main import main


def fake_package(tmp_path, monkeypatch):
    root = tmp_path / "pkg"
    (root / "field").mkdir(parents=True)
    kernel = root / "field" / "kernels.py"
    kernel.write_text("@njit(cache=True)\ndef add(a, b):\n    return a + b\n")
    (root / "plain.py").write_text("x = 1\n")
    monkeypatch.setattr(_kernels, "ROOT", root)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    return kernel


def test_cold_until_marked_and_again_after_a_kernel_changes(tmp_path, monkeypatch):
    kernel = fake_package(tmp_path, monkeypatch)
    assert _kernels.is_cold("verify") and _kernels.is_cold("prove")
    _kernels.mark_warm("verify")
    assert not _kernels.is_cold("verify") and _kernels.is_cold("prove")
    os.utime(kernel, (1, 1))
    assert _kernels.is_cold("verify")
    assert not _kernels.is_cold("registry")  # a command without kernels never announces


def test_no_notice_when_numba_caches_elsewhere(tmp_path, monkeypatch):
    fake_package(tmp_path, monkeypatch)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert not _kernels.is_cold("verify")


def test_first_run_prints_the_notice_once(tmp_path, monkeypatch, capsys):
    """Through the CLI: a failing run keeps the notice for next time, a
    successful one retires it; --json and --help never print it."""
    fake_package(tmp_path, monkeypatch)
    argv = ["verify", str(tmp_path / "none.zkp"), "--circuit", str(tmp_path)]
    assert main(argv) == 2
    assert "compiling kernels (first run only, about 10 s)" in capsys.readouterr().err
    assert main(argv + ["--json"]) == 2 and capsys.readouterr().err == ""
    assert main(["verify", "--help"]) == 0 and "compiling kernels" not in capsys.readouterr().err
    assert _kernels.is_cold("verify")
    _kernels.mark_warm("verify")  # what a successful run does
    assert main(argv) == 2 and "compiling kernels" not in capsys.readouterr().err


def test_a_usage_error_prints_no_notice(tmp_path, monkeypatch, capsys):
    """The notice comes once the arguments have parsed: a command line that
    click refuses compiles nothing, so it says nothing about compiling, and
    the notice stays due."""
    fake_package(tmp_path, monkeypatch)
    for command in ("prove", "verify", "compile", "demo", "commit-input", "mock"):
        assert main([command, "--no-such-option"]) == 2, command
        err = capsys.readouterr().err
        assert "compiling kernels" not in err and "no-such-option" in err.lower(), (command, err)
        assert _kernels.is_cold(command)
    assert main(["prove", str(tmp_path)]) == 2  # --input missing
    assert "compiling kernels" not in capsys.readouterr().err
    from zkaudit.cli import main as cli_main

    assert cli_main._PENDING_NOTICE == [None]  # nothing left owed to a command run later, with or without main()
