"""numba's on-disk kernel cache, made to notice every file a kernel is built from.

numba stamps a cached kernel with its own source file only. A kernel that
calls another module's kernel (every kernel calls `field.arith`'s; the
zero-knowledge runs call `sumcheck.zk_fused`'s), or that freezes another
module's constants (the Poseidon2 round constants, p), compiles that code
into its own cache entry; when only the other file changes -- an upgrade, a
checkout -- numba would keep loading the stale machine code: a prover or
verifier computing with the old arithmetic.

`install(numba)` puts one locator in front of numba's own. For a function
of a stamped package (zkaudit, and the package of any `jit.njit` kernel) it
keeps the cache where numba's locator would put it, but stamps it with a
digest of every file of the function's module's import closure within its
package: the module's source, every module of the same package it imports
(`from pkg.a import b`, `import pkg.a`, relative imports, `imported("pkg.a",
...)` and any other quoted module name of the package; a module name built
at run time is not seen), transitively. Any change to any
of those files makes numba find the index stale and compile afresh; an
unchanged closure loads as before. The closure is read from the source
text once per module and process (a regular expression, not an import:
nothing is executed), each file's digest once per (mtime, size), as numba
does for its own stamp.

The closure over-approximates (an import used only by Python glue counts
too): a spurious recompile costs seconds once, a missed one a wrong result.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re

STAMP_VERSION = "zkaudit-closure-1"
_PACKAGES: set[str] = {"zkaudit"}  # top-level packages whose functions get the closure stamp
_INSTALLED = False

_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\((?:[^)#]|#[^\n]*)*\)|[^\n#;]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#]+)", re.M)
_CONTINUED = re.compile(r"\\\r?\n")  # a backslash continuation: the statement goes on on the next line
_COMMENT = re.compile(r"#[^\n]*")
_QUOTED = re.compile(r"[\"']([A-Za-z_]\w*(?:\.\w+)+)[\"']")


def stamp_package(name: str) -> None:
    """Functions of top-level package `name` get the closure stamp (`jit.njit` registers its kernels')."""
    _PACKAGES.add(name.split(".")[0])


def _package_root(top: str) -> str | None:
    import sys

    mod = sys.modules.get(top)
    init = getattr(mod, "__file__", None)
    if not init:
        return None
    init = os.path.abspath(init)
    here = os.path.dirname(init)  # a package's __init__.py sits one level further down than a module's file
    return os.path.dirname(here) if os.path.basename(init) == "__init__.py" else here


@functools.lru_cache(maxsize=None)
def module_file(root: str, name: str) -> str | None:
    """The source file of module `name` under sys.path entry `root`, if it is one."""
    base = os.path.join(root, *name.split("."))
    for path in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(path):
            return path
    return None


@functools.lru_cache(maxsize=None)
def _imports(path: str, top: str, package: str = "") -> frozenset[str]:
    """Module names of package `top` that the file's text imports or names
    (once per file and process: the closures of a process's kernel modules overlap);
    relative imports are read against `package`, the file's own package."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    names: set[str] = set(_QUOTED.findall(text))
    # one statement per line: backslash continuations joined, `a; import b` split (a ';' inside a string
    # only adds candidate names, which must still name a file of the package)
    text = _CONTINUED.sub(" ", text).replace(";", "\n")
    for mod, what in _FROM.findall(text):
        if mod.startswith("."):  # `from . import x`, `from ..a import b`: relative to the file's package
            level = len(mod) - len(mod.lstrip("."))
            parts = package.split(".") if package else []
            if level > len(parts):
                continue
            base = ".".join(parts[: len(parts) - level + 1])
            mod = f"{base}.{mod[level:]}" if mod[level:] else base
        names.add(mod)
        for part in _COMMENT.sub("", what).strip("()").replace("\n", ",").split(","):
            word = part.strip().split(" ")[0]
            if word.isidentifier():
                names.add(f"{mod}.{word}")  # `from pkg import module`: kept if it is a file
    for line in _IMPORT.findall(text):
        for part in line.split(","):
            names.add(part.strip().split(" ")[0])
    return frozenset(n for n in names if n == top or n.startswith(top + "."))


@functools.lru_cache(maxsize=None)
def closure(module: str) -> tuple[str, ...]:
    """Sorted source files of `module` and of every module of its top-level
    package that it imports, transitively."""
    top = module.split(".")[0]
    root = _package_root(top)
    start = module_file(root, module) if root else None
    if start is None:
        return ()
    seen, todo = {start}, [(start, module)]
    while todo:
        here, name = todo.pop()
        package = name if os.path.basename(here) == "__init__.py" else name.rpartition(".")[0]
        for name in _imports(here, top, package):
            path = module_file(root, name)
            if path is not None and path not in seen:
                seen.add(path)
                todo.append((path, name))
    return tuple(sorted(seen))


@functools.lru_cache(maxsize=None)
def _file_digest(path: str, mtime: float, size: int) -> bytes:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()


@functools.lru_cache(maxsize=None)
def stamp(module: str) -> str:
    """Digest of the module's closure: every file's path within its root and
    content (once per process: numba asks for it at every kernel's load and save)."""
    files = closure(module)
    if not files:
        return ""
    root = _package_root(module.split(".")[0])
    h = hashlib.sha256()
    for path in files:
        st = os.stat(path)
        h.update(os.path.relpath(path, root).encode() + b"\0" + _file_digest(path, st.st_mtime, st.st_size))
    return h.hexdigest()


def install(nb) -> None:
    """Put the closure-stamping locator in front of numba's (once per process).
    numba's locator classes are internal API: if they are not where this
    expects them, nothing is installed and numba's own stamps apply."""
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    try:
        from numba.core import caching
    except ImportError:
        return
    # the names moved between numba releases (0.68: CacheImpl, _CacheLocator)
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    base = getattr(caching, "_CacheLocator", None) or getattr(caching, "CacheLocator", None)
    own = list(getattr(impl, "_locator_classes", None) or ())
    if impl is None or base is None or not own:
        return

    class ClosureStamped(base):
        """numba's locator for the function, with the closure's digest added to its stamp."""

        def __init__(self, inner, module: str):
            self._inner, self._module = inner, module

        def ensure_cache_path(self):
            return self._inner.ensure_cache_path()

        def get_cache_path(self):
            return self._inner.get_cache_path()

        def get_disambiguator(self):
            return self._inner.get_disambiguator()

        def get_source_stamp(self):
            return (STAMP_VERSION, self._inner.get_source_stamp(), stamp(self._module))

        @classmethod
        def from_function(cls, py_func, py_file):
            module = getattr(py_func, "__module__", None) or ""
            if module.split(".")[0] not in _PACKAGES:
                return None
            for other in own:
                inner = other.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner, module)
            return None

    impl._locator_classes = [ClosureStamped] + own
    _INSTALLED_CLASS.append(ClosureStamped)


_INSTALLED_CLASS: list = []  # the locator class `install` put in front (empty: numba's own stamps apply)


def installed() -> bool:
    """The closure stamps are in use in this process (numba started)."""
    return bool(_INSTALLED_CLASS)
