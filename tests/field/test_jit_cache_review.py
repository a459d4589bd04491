"""Review of `field.jit_cache`: which import forms its closure follows, and
that zkaudit's own kernels are stamped with every file they are built from.

The review found five import forms the closure missed, each loading a stale
kernel (a wrong result) in a throwaway package: relative imports (`from
.callee import v`, `from . import callee`, a relative re-export in the
package `__init__`), a backslash continuation, a ')' inside a comment of a
parenthesized import, and an import after a semicolon. zkaudit used none of
them (`test_every_kernel_dependency_of_zkaudit_is_in_its_closure` checks
its own kernels directly); `jit_cache` now reads all of them, and these
tests hold it to that.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from zkaudit.field import jit_cache

ROOT = Path(__file__).resolve().parents[2]
_count = itertools.count()

KERNEL_MODULES = (
    "zkaudit.field.arith", "zkaudit.field.kernels", "zkaudit.pcs.fastarith", "zkaudit.pcs.kernels",
    "zkaudit.pcs.ntt_kernels", "zkaudit.poly.kernels", "zkaudit.hash.kernels", "zkaudit.hash.gkr_kernels",
    "zkaudit.hash.gkr_zk_run", "zkaudit.layers.kernels", "zkaudit.layers.conv.kernels", "zkaudit.lookup.kernels",
    "zkaudit.lookup.joint_zk_run", "zkaudit.statements.consent.kernels", "zkaudit.sumcheck.kernels",
    "zkaudit.sumcheck.kernels_eq", "zkaudit.sumcheck.kernels_prod2", "zkaudit.sumcheck.zk_fused",
)
# the modules that decorate with numba's own njit (not `jit.njit`): stamped only if `jit.numba()`
# installed the locator before their decorators ran (today: their `field.arith` import does)
DIRECT_NUMBA_MODULES = ("zkaudit.field.arith", "zkaudit.field.kernels", "zkaudit.pcs.fastarith", "zkaudit.poly.kernels")


def _package(tmp: Path, monkeypatch, files: dict[str, str]) -> str:
    """A throwaway package (a fresh name: `closure` is cached per module name), importable."""
    name = f"jcreview{next(_count)}_{os.getpid()}"
    for rel, text in files.items():
        path = tmp / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).replace("PKG", name))
    monkeypatch.syspath_prepend(str(tmp))
    importlib.import_module(name)  # `closure` finds the package's root through sys.modules
    return name


def _closure_names(name: str, module: str) -> set[str]:
    here = Path(sys.modules[name].__file__).parent
    return {os.path.relpath(p, here).replace(os.sep, "/") for p in jit_cache.closure(f"{name}.{module}")}


# -- import forms the closure follows (checked) --------------------------------------------------


@pytest.mark.parametrize("caller", [
    "from PKG.b import mid\n",  # a -> b -> c: only c holds the callee
    "import PKG.b as m\n",
    "from PKG import b\n",
    "import PKG.b\n",
    "def _load():\n    from PKG.b import mid\n",  # imported lazily, inside a function
    "mid = jit.imported('PKG.b', 'mid')\n",
])
def test_the_closure_follows_these_forms_through_a_chain(tmp_path, monkeypatch, caller):
    name = _package(tmp_path, monkeypatch, {
        "__init__.py": "",
        "caller.py": "from zkaudit.field import jit\n" + caller,
        "b.py": "from PKG.c import value\nfrom PKG.consts import K\n",
        "c.py": "",
        "consts.py": "",
    })
    assert {"caller.py", "b.py", "c.py", "consts.py"} <= _closure_names(name, "caller")


def test_an_absolute_reexport_in_the_package_init_is_followed(tmp_path, monkeypatch):
    name = _package(tmp_path, monkeypatch, {
        "__init__.py": "from PKG.callee import value\n",
        "caller.py": "from PKG import value\n",
        "callee.py": "value = 1\n",
    })
    assert "callee.py" in _closure_names(name, "caller")


# -- import forms the closure misses (gaps: a stale kernel loads) ---------------------------------


GAPS = {
    "relative_module": ({"caller.py": "from .callee import value\n"}, "caller"),
    "relative_dot": ({"caller.py": "from . import callee\n"}, "caller"),
    "relative_in_subpackage": ({"sub/__init__.py": "", "sub/caller.py": "from ..callee import value\n"}, "sub.caller"),
    "relative_reexport_in_init": ({"__init__.py": "from .callee import value\n", "caller.py": "from PKG import value\n"},
                                  "caller"),
    "backslash_continuation": ({"caller.py": "from PKG import \\\n    callee\n"}, "caller"),
    "paren_comment_with_paren": ({"caller.py": "from PKG import (  # helpers (fast)\n    callee,\n)\n"}, "caller"),
}


@pytest.mark.parametrize("form", sorted(GAPS))
def test_the_closure_follows_relative_and_continued_imports(tmp_path, monkeypatch, form):
    files, module = GAPS[form]
    name = _package(tmp_path, monkeypatch, {"__init__.py": "", "callee.py": "value = 1\n", **files})
    assert "callee.py" in _closure_names(name, module)


def test_the_closure_follows_an_import_after_a_semicolon(tmp_path, monkeypatch):
    name = _package(tmp_path, monkeypatch, {"__init__.py": "", "callee.py": "",
                                           "caller.py": "import os; import PKG.callee as m\n"})
    assert "callee.py" in _closure_names(name, "caller")


# -- end to end: a relative import loads stale machine code ----------------------------------------

CALLEE = '''
from zkaudit.field import jit


@jit.njit(cache=True)
def value(x):
    return x * {scale}
'''

CALLER = '''
from zkaudit.field import jit
{imp}


@jit.njit(cache=True)
def run(x):
    return value(x) + 1000
'''

MAIN = '''
import importlib
m = importlib.import_module("{pkg}.caller")
print(m.run(3))
d = m.run  # the dispatcher, once built
print(sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values()))
'''


def _run(tmp: Path, pkg: str, env_extra: dict | None = None) -> tuple[int, int, int]:
    env = dict(os.environ, PYTHONPATH=f"{tmp}{os.pathsep}{ROOT}", NUMBA_NUM_THREADS="1")
    env.pop("NUMBA_CACHE_DIR", None)
    env.update(env_extra or {})
    out = subprocess.run([sys.executable, "-c", MAIN.format(pkg=pkg)], cwd=tmp, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    value, counts = out.stdout.strip().splitlines()[-2:]
    hits, misses = map(int, counts.split())
    return int(value), hits, misses


def _end_to_end(tmp: Path, imp: str, env_extra: dict | None = None) -> None:
    pkg = tmp / "jcreview_e2e"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "caller.py").write_text(CALLER.format(imp=imp))
    (pkg / "callee.py").write_text(CALLEE.format(scale=2))
    assert _run(tmp, "jcreview_e2e", env_extra) == (1006, 0, 1)
    assert _run(tmp, "jcreview_e2e", env_extra) == (1006, 1, 0)
    (pkg / "callee.py").write_text(CALLEE.format(scale=5))  # only the callee's file changes
    assert _run(tmp, "jcreview_e2e", env_extra)[:1] == (1015,)


def test_numba_cache_dir_kernels_are_closure_stamped_too(tmp_path):
    """NUMBA_CACHE_DIR (numba's user-provided locator) is wrapped like the in-tree one."""
    _end_to_end(tmp_path, "from jcreview_e2e.callee import value", {"NUMBA_CACHE_DIR": str(tmp_path / "cache")})


def test_a_relatively_imported_callee_change_recompiles(tmp_path):
    _end_to_end(tmp_path, "from .callee import value")


# -- zkaudit's own kernels -------------------------------------------------------------------------


def test_zkaudits_direct_numba_kernels_use_the_closure_locator():
    """The modules that decorate with numba's njit get the closure stamp only because `field.arith`
    (which calls `jit.numba()`) is imported before their decorators run: this fails if that order breaks."""
    from numba.core.registry import CPUDispatcher

    for module in DIRECT_NUMBA_MODULES:
        mod = importlib.import_module(module)
        cached = [v for v in vars(mod).values()
                  if isinstance(v, CPUDispatcher) and v.py_func.__module__ == module and v._cache is not None
                  and hasattr(v._cache, "_impl")]
        assert cached, module
        for d in cached:
            assert type(d._cache._impl.locator).__name__ == "ClosureStamped", (module, d.py_func.__name__)


def _py_func(v):
    from numba.core.registry import CPUDispatcher

    from zkaudit.field import jit

    if isinstance(v, (jit.Kernel, CPUDispatcher)):
        return v.py_func
    if isinstance(v, jit.Imported):
        return _py_func(v.resolve())
    return None


def _kernel_deps(f, seen: set) -> None:
    """Every kernel function `f` calls, transitively (through globals, module attributes, stand-ins, cells)."""
    if f in seen:
        return
    seen.add(f)
    codes = [f.__code__] + [c for c in f.__code__.co_consts if isinstance(c, types.CodeType)]
    names = set().union(*(c.co_names for c in codes))
    g = f.__globals__
    for n in names & g.keys():
        v = g[n]
        targets = [getattr(v, a, None) for a in names] if isinstance(v, types.ModuleType) else [v]
        for w in targets:
            h = _py_func(w) if w is not None else None
            if h is not None:
                _kernel_deps(h, seen)
    for cell in f.__closure__ or ():
        h = _py_func(cell.cell_contents)
        if h is not None:
            _kernel_deps(h, seen)


def test_every_kernel_dependency_of_zkaudit_is_in_its_closure():
    """For every kernel of zkaudit's kernel modules, the file of every kernel it calls (directly or
    through others) is in its module's closure: the stamp covers the code it inlines."""
    checked = 0
    for module in KERNEL_MODULES:
        mod = importlib.import_module(module)
        files = set(jit_cache.closure(module))
        for name, v in vars(mod).items():
            f = _py_func(v)
            if f is None or f.__module__ != module:
                continue
            seen: set = set()
            _kernel_deps(f, seen)
            checked += 1
            for h in seen:
                assert inspect.getsourcefile(h) in files, (module, name, h.__module__, h.__name__)
    assert checked > 200


def test_the_closures_stay_small():
    """A change outside a kernel module's closure leaves its cache alone: zkaudit's kernel modules'
    closures together hold a small part of the package (37 of ~320 files when reviewed)."""
    union = set().union(*(jit_cache.closure(m) for m in KERNEL_MODULES))
    total = sum(f.endswith(".py") for _, _, fs in os.walk(ROOT / "zkaudit") for f in fs)
    assert 0 < len(union) < total // 4
