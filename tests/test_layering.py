"""Imports only go down the layer order in zkaudit/__init__.py, and no
verifier module imports a prover module."""

from __future__ import annotations

import ast
from pathlib import Path

import zkaudit

ROOT = Path(zkaudit.__file__).parent

# Lowest first. A module in layer i may import layers 0..i (its own included).
ORDER = [
    "errors",
    "field",
    "poly",
    "transcript",
    "sumcheck",
    "pcs",
    "lookup",
    "hash",
    "circuit",
    "onnx",
    "layers",
    "data",
    "train",
    "statements",
    "registry",
    "api",
    "cli",
]


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "zkaudit":
        return None
    if len(parts) == 1:
        return "errors"  # the package root holds only version / env setup
    return parts[1] if parts[1] in ORDER else "errors"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    pkg = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    if path.name == "__init__.py":
        pkg = pkg.rsplit(".", 1)[0] + ".__init__"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: -node.level]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append(mod)
            out.extend(f"{mod}.{a.name}" for a in node.names)
    return out


def _all_modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if len(rel.parts) == 1:  # top-level module: transcript.py, errors.py, __init__.py
            layer = path.stem if path.stem in ORDER else "errors"
        else:
            layer = rel.parts[0]
        yield path, layer


def test_imports_only_go_down():
    bad = []
    for path, layer in _all_modules():
        if layer not in ORDER:
            bad.append(f"{path}: layer {layer!r} is not in the layer order")
            continue
        mine = ORDER.index(layer)
        for mod in _imports(path):
            target = _layer_of(mod)
            if target is None or target not in ORDER:
                continue
            if path == ROOT / "__init__.py" and mod in ("zkaudit", "zkaudit.api"):
                continue  # `zkaudit.compile` etc.: the API re-exported on first attribute access (PEP 562)
            if ORDER.index(target) > mine:
                bad.append(f"{path.relative_to(ROOT)} ({layer}) imports {mod} ({target})")
    assert not bad, "\n".join(bad)


def test_verifiers_never_import_provers():
    bad = []
    for path, _ in _all_modules():
        if "verif" not in path.name:
            continue
        for mod in _imports(path):
            if mod.startswith("zkaudit") and any(p.startswith("prover") for p in mod.split(".")):
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_registry_never_imports_a_prover():
    bad = []
    for path in (ROOT / "registry").rglob("*.py"):
        for mod in _imports(path):
            if mod.startswith("zkaudit") and any("prove" in p and "verif" not in p for p in mod.split(".")):
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)



def test_verifiers_load_no_prover_code():
    """STYLE: the verifier never imports the prover -- not even through a
    package's __init__ (a fresh interpreter imports every statement verifier)."""
    import subprocess
    import sys

    # prover modules whose name does not say so: the hiding commitment's prover (its shared part is hiding_claims)
    named = ("zkaudit.pcs.hiding",)
    code = ("import sys, zkaudit.statements.verify as v; v._discover(); "
            "print(sorted(m for m in sys.modules if m.startswith('zkaudit') and "
            f"('prover' in m.rsplit('.', 1)[-1] or m in {named!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", out
