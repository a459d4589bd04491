"""Say so when the numba kernels are about to compile.

The hot loops are numba functions with `cache=True`: the first run of a
command on a machine (or after an upgrade) compiles the kernels it needs,
which took 10-30 s here and looked like a hang. Numba's own cache cannot
say cheaply which kernels a command will need (helpers inlined into other
kernels never get an index file), so the CLI keeps a marker per command
beside numba's cache: written after the command first succeeds, it lists
the kernel sources and their modification times. A missing marker, or a
kernel source changed since, means the kernels will compile, and the CLI
prints one line first. Checking costs a few `stat` calls. When numba caches
elsewhere (NUMBA_CACHE_DIR, or a read-only install it redirects to a user
folder) nothing is said.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Measured on the 2-core reference machine: a first `prove` of the logistic
# model compiled for about 10 s, of digits_cnn for about 30 s.
FIRST_RUN_SECONDS = {"verify": 10, "prove": 30, "compile": 10, "commit-input": 10, "demo": 30, "mock": 5}


def _marker(command: str) -> Path:
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return ROOT / "__pycache__" / f"zkaudit-kernels-warm.{command}.{tag}.json"


def _usable() -> bool:
    if os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"):
        return False
    cache = ROOT / "__pycache__"
    return os.access(cache if cache.exists() else ROOT, os.W_OK)


def _kernel_sources() -> dict[str, float]:
    out = {}
    for source in ROOT.rglob("*.py"):
        if "cache=True" in source.read_text(errors="replace"):
            out[str(source.relative_to(ROOT))] = source.stat().st_mtime
    return out


def is_cold(command: str) -> bool:
    if command not in FIRST_RUN_SECONDS or not _usable():
        return False
    try:
        stamps = json.loads(_marker(command).read_text())
    except (OSError, ValueError):
        return True
    try:
        return any((ROOT / rel).stat().st_mtime != mtime for rel, mtime in stamps.items())
    except OSError:
        return True


def announce(command: str) -> None:
    print(f"compiling kernels (first run only, about {FIRST_RUN_SECONDS[command]} s)", file=sys.stderr, flush=True)


def mark_warm(command: str) -> None:
    """After the command succeeded: its kernels are in numba's cache now."""
    try:
        marker = _marker(command)
        marker.parent.mkdir(exist_ok=True)
        tmp = marker.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_kernel_sources()))
        tmp.replace(marker)
    except OSError:
        pass  # only the announcement is lost
