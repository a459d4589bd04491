"""Commands are found by reading their modules' source (`cli/_lazy.py`), so
`zkaudit --help` imports none of them: the table must equal what importing
them registers, and the help must not pull in the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

from zkaudit.cli._lazy import _module_entries, discover
from zkaudit.cli.main import root_command


def test_source_table_equals_the_registered_commands():
    entries, eager = discover()
    assert eager == [], f"register() not understood in {eager}: they are imported on every run"
    root = root_command(load_all=True)
    assert {e.name for e in entries} == set(root.commands)
    for e in entries:
        assert e.help == root.commands[e.name].help, e.name


def _last_line(code: str) -> str:
    """The last line a fresh interpreter prints running `code`."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def test_help_and_version_import_no_command_module():
    code = ("import sys; from zkaudit.cli.main import main; rc = main(['--help']); main(['--version']); "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'numba', 'onnx', 'sqlalchemy', "
            "'py_ecc', 'scipy') or (m.startswith('zkaudit.') and m.split('.')[1] not in ('cli', 'errors'))); "
            "cmds = sorted(m for m in sys.modules if m.startswith('zkaudit.cli.') and not m.split('.')[2].startswith('_') "
            "and m != 'zkaudit.cli.main'); print(heavy, cmds)")
    assert _last_line(code) == "[] []"


def test_verify_imports_neither_the_registry_nor_the_prover(tmp_path):
    from pathlib import Path

    import numpy as np

    import zkaudit

    zoo = Path(__file__).resolve().parents[2] / "circuits" / "logistic_risk"
    zkaudit.compile(zoo / "model.onnx", tmp_path / "m", calibration=zoo / "calibration.npy")
    zkaudit.prove(tmp_path / "m", np.load(zoo / "calibration.npy")[0], out=tmp_path / "p.zkp")
    code = (f"import sys; from zkaudit.cli.main import main; "
            f"assert main(['verify', {str(tmp_path / 'p.zkp')!r}, '--circuit', {str(tmp_path / 'm')!r}]) == 0; "
            "print(sorted(m for m in sys.modules if m.startswith(('zkaudit.registry', 'py_ecc', 'sqlalchemy', "
            "'zkaudit.cli.registry', 'zkaudit.cli.keys', 'zkaudit.statements.inference.prover', 'onnx'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_an_unusual_register_is_imported_eagerly():
    source = "def register(app):\n    for name in ('a', 'b'):\n        app.command(name)(f)\n"
    assert _module_entries("zkaudit.cli.x", source) is None
    simple = '''def f():\n    """Do f.\n\n    More."""\n\ndef register(app):\n    app.command("f")(f)\n'''
    (entry,) = _module_entries("zkaudit.cli.x", simple)
    assert (entry.name, entry.help) == ("f", "Do f.\n\nMore.")


def test_discovery_cache_is_keyed_by_each_source(tmp_path, monkeypatch):
    """What the sources yield is cached per file (mtime in ns, size): a record
    whose stamp matches is used as is, one whose stamp differs (an edited
    source) is parsed again, and an unreadable cache only costs the parse."""
    import json

    from zkaudit.cli import _lazy

    cache = tmp_path / "commands.json"
    monkeypatch.setattr(_lazy, "_cache_path", lambda package_dir: cache)
    cache.write_text("{not json")
    entries, eager = _lazy.discover()
    assert eager == [] and {e.name for e in entries} == {e.name for e in discover()[0]}
    data = json.loads(cache.read_text())
    record = data["modules"]["zkaudit.cli.verify"]
    assert record[2] == [["verify", next(e.help for e in entries if e.name == "verify")]]

    def no_parse(module, source):
        raise AssertionError(f"{module} parsed although its cache record is current")

    # a current record is used without parsing: a planted help shows through
    record[2] = [["verify", "planted"]]
    cache.write_text(json.dumps(data))
    monkeypatch.setattr(_lazy, "_module_entries", no_parse)
    assert next(e.help for e in _lazy.discover()[0] if e.name == "verify") == "planted"

    # a stale stamp (the source changed since) is parsed again
    monkeypatch.undo()
    monkeypatch.setattr(_lazy, "_cache_path", lambda package_dir: cache)
    record[0] -= 1
    cache.write_text(json.dumps(data))
    assert next(e.help for e in _lazy.discover()[0] if e.name == "verify") != "planted"
    assert json.loads(cache.read_text())["modules"]["zkaudit.cli.verify"][2][0][1] != "planted"


def test_group_help_imports_no_registry_or_bls():
    """`zkaudit registry --help` and `zkaudit keys --help` list subcommands
    without importing the registry (SQLAlchemy, alembic) or BLS (py_ecc):
    the command modules import them inside the commands."""
    code = ("import sys, contextlib, io; from zkaudit.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['registry', '--help']) == 0 and main(['keys', '--help']) == 0\n"
            "    assert main(['registry', 'list', '--help']) == 0\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'py_ecc', 'numpy') "
            "or m.startswith('zkaudit.registry')))")
    assert _last_line(code) == "[]"
