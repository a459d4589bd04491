"""numba's kernel cache notices a change to any file a kernel is built from
(`field.jit_cache`), not only the kernel's own file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from zkaudit.field import jit_cache

ROOT = Path(__file__).resolve().parents[2]

CALLEE = '''
from zkaudit.field import jit

SCALE = {scale}


@jit.njit(cache=True)
def value(x):
    return x * SCALE + {offset}
'''

CALLER = '''
from zkaudit.field import jit
from kcachepkg.callee import value


@jit.njit(cache=True)
def run(x):
    return value(x) + 1000
'''

MAIN = '''
import sys
from kcachepkg import caller

print(caller.run(3))
d = caller.run  # the dispatcher, once built
print(sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values()))
'''


def _write_callee(pkg: Path, scale: int, offset: int) -> None:
    (pkg / "callee.py").write_text(CALLEE.format(scale=scale, offset=offset))


def _run(tmp: Path) -> tuple[int, int, int]:
    env = dict(os.environ, PYTHONPATH=f"{tmp}{os.pathsep}{ROOT}", NUMBA_NUM_THREADS="1")
    env.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", MAIN], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    value, counts = out.stdout.strip().splitlines()[-2:]
    hits, misses = map(int, counts.split())
    return int(value), hits, misses


def test_a_changed_callee_file_recompiles_its_callers_cache(tmp_path):
    pkg = tmp_path / "kcachepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "caller.py").write_text(textwrap.dedent(CALLER))
    _write_callee(pkg, 2, 0)
    assert _run(tmp_path) == (1006, 0, 1)  # compiled, then cached
    assert _run(tmp_path) == (1006, 1, 0)  # unchanged: loaded from the cache
    # only the callee's file changes (a constant the caller's machine code froze, and the code):
    # numba's own stamp (the caller's file) would load 1006 again
    _write_callee(pkg, 5, 7)
    assert _run(tmp_path) == (1022, 0, 1)
    assert _run(tmp_path) == (1022, 1, 0)


def test_the_closure_follows_imports_within_the_package():
    files = {os.path.relpath(p, ROOT / "zkaudit") for p in jit_cache.closure("zkaudit.hash.gkr_zk_run")}
    # the fused runs compile zk_fused's and arith's kernels and hash.constants' round constants into their own code
    assert {"hash/gkr_zk_run.py", "sumcheck/zk_fused.py", "field/arith.py", "field/constants.py",
            "hash/constants.py"} <= files
    assert all(not f.startswith("..") for f in files)  # nothing outside the package
    assert jit_cache.closure("not_a_package.module") == ()
    # a stamp is a digest of contents: the same in a second computation
    assert jit_cache.stamp("zkaudit.hash.gkr_zk_run") == jit_cache.stamp("zkaudit.hash.gkr_zk_run") != ""


def test_imports_are_read_in_every_form(tmp_path):
    f = tmp_path / "m.py"
    f.write_text(textwrap.dedent('''
        import zkaudit.a, os
        import zkaudit.b as bee
        from zkaudit.c import (d,
                               e as eh)  # a comment
        from zkaudit import f
        from numpy import g
        def later():
            from zkaudit.h import i
        k = imported("zkaudit.j", "x")
        '''))
    got = jit_cache._imports(str(f), "zkaudit")
    assert {"zkaudit.a", "zkaudit.b", "zkaudit.c", "zkaudit.c.d", "zkaudit.c.e", "zkaudit", "zkaudit.f",
            "zkaudit.h", "zkaudit.h.i", "zkaudit.j"} <= got
    assert not any(n.startswith("numpy") or n == "os" for n in got)


def test_the_locator_is_in_front_of_numbas_own():
    """If numba moves its locator classes, this fails rather than the stamps silently not applying."""
    from numba.core import caching

    from zkaudit.field import jit

    jit.numba()
    assert jit_cache.installed()
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl")
    assert impl._locator_classes[0].__name__ == "ClosureStamped"
