"""Which command lives in which module, found without importing any of them.

`zkaudit --help` and `zkaudit --version` must answer in well under a second,
and `zkaudit verify` must not pay for the registry's BLS and SQLAlchemy
imports. So the root command group learns its commands by reading the
source of every module in this package: inside `register(app)` a call
`app.command("NAME")(function)` or `app.add_typer(group, name="NAME")`
names a command, and the function's docstring (or the group's `help=`)
gives its one-line help. A module is imported only when one of its
commands runs or its full help is asked for. A module whose `register`
does anything else is imported eagerly, so a new command shape is never
lost, only slower (tests/cli/test_lazy.py keeps this table equal to the
imported commands).

Parsing the sources (19 of them when measured) cost ~25 ms of every command, so what a source
yields is kept in `__pycache__/zkaudit-cli-commands.<tag>.json` beside the
package's byte code, keyed by each file's modification time (ns) and size:
a source edited since is parsed again, and a cache that cannot be read or
written only costs the parse."""

from __future__ import annotations

import ast
import inspect
import json
import os
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    name: str
    module: str  # zkaudit.cli.<module>
    help: str | None  # the command's help as `--help` shows it; None: import the module to learn it


def first_paragraphs(text: str | None) -> str | None:
    """Each paragraph on one line, as main.py reflows command help."""
    if not text:
        return None
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _constant(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _module_entries(module: str, source: str) -> list[Entry] | None:
    """The commands `register` adds, or None when its shape is not understood."""
    tree = ast.parse(source)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    groups = {}
    for n in tree.body:
        if (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
                and isinstance(n.value, ast.Call)):
            kw = {k.arg: _constant(k.value) for k in n.value.keywords}
            groups[n.targets[0].id] = kw.get("help")
    register = functions.get("register")
    if register is None:
        return []
    entries = []
    for stmt in register.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not isinstance(call, ast.Call):
            return None
        inner = call.func
        # app.command("NAME")(function)
        if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "command"
                and inner.args and _constant(inner.args[0]) and len(call.args) == 1
                and isinstance(call.args[0], ast.Name) and call.args[0].id in functions):
            doc = ast.get_docstring(functions[call.args[0].id], clean=False)
            entries.append(Entry(_constant(inner.args[0]), module, first_paragraphs(doc)))
            continue
        # app.add_typer(group, name="NAME")
        if isinstance(inner, ast.Attribute) and inner.attr == "add_typer" and call.args:
            kw = {k.arg: _constant(k.value) for k in call.keywords}
            group = call.args[0].id if isinstance(call.args[0], ast.Name) else None
            if kw.get("name") and group in groups:
                entries.append(Entry(kw["name"], module, first_paragraphs(groups[group])))
                continue
        return None
    return entries


_CACHE_FORMAT = 1


def _cache_path(package_dir: Path) -> Path:
    return package_dir / "__pycache__" / f"zkaudit-cli-commands.{sys.implementation.cache_tag}.json"


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT or not isinstance(data.get("modules"), dict):
        return {}
    return data["modules"]


def _write_cache(path: Path, modules: dict) -> None:
    try:
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"format": _CACHE_FORMAT, "modules": modules}))
        tmp.replace(path)
    except OSError:
        pass  # a read-only install: every command parses the sources


def _cached_entries(module: str, stamp: list, hit) -> tuple[bool, list[Entry] | None]:
    """(usable, entries) from a cache record [mtime_ns, size, entries or None]."""
    if not isinstance(hit, list) or len(hit) != 3 or hit[:2] != stamp:
        return False, None
    if hit[2] is None:
        return True, None
    try:
        return True, [Entry(str(name), module, help if help is None else str(help)) for name, help in hit[2]]
    except (TypeError, ValueError):
        return False, None


def discover() -> tuple[list[Entry], list[str]]:
    """(commands found by reading the sources, modules that must be imported)."""
    import zkaudit.cli as pkg

    package_dir = Path(pkg.__path__[0])
    cache_path = _cache_path(package_dir)
    cache = _read_cache(cache_path)
    fresh: dict = {}
    changed = False
    entries: list[Entry] = []
    eager: list[str] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name == "main" or info.name.startswith("_"):
            continue
        module = f"zkaudit.cli.{info.name}"
        path = package_dir / f"{info.name}.py"
        try:
            st = path.stat()
            stamp = [st.st_mtime_ns, st.st_size]
        except OSError:
            stamp = None
        usable, found = _cached_entries(module, stamp, cache.get(module)) if stamp else (False, None)
        if not usable:
            changed = True
            try:
                found = _module_entries(module, path.read_text())
            except (OSError, SyntaxError, UnicodeDecodeError):
                found = None
        if stamp is not None:
            fresh[module] = [*stamp, None if found is None else [[e.name, e.help] for e in found]]
        if found is None:
            eager.append(module)
        else:
            entries.extend(found)
    if changed or set(fresh) != set(cache):
        _write_cache(cache_path, fresh)
    return entries, eager
