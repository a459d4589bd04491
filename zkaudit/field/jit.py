"""Where numba comes in, and when a kernel is worth it.

Every kernel module reaches numba through this module, and none imports
numba when it is imported itself:

* `njit` and `prange` stand in for numba's. `@njit(...)` wraps the function
  in a `Kernel`, which imports numba and builds the real dispatcher (with
  the same options, so numba's on-disk cache is the same) on its first call
  or attribute access. A command that never runs a kernel never pays for
  numba (importing it ~0.2 s, initialising its CPU target ~0.1 s) nor for
  loading a cached kernel (2-20 ms each).
* `imported(module, *names)` names kernels of a module that imports numba
  itself (`field.arith`, `pcs.fastarith`); a kernel that calls them resolves
  them when it is built, so the importing module stays numba-free.

When a Kernel is built, every Kernel, `imported` name and `prange` that its
code names is resolved in its module's globals (and, recursively, in theirs)
to the real object, so numba types, inlines (`inline="always"`) and caches
exactly as if `numba.njit` had been applied at import. The module attribute
is then the numba dispatcher itself.

numba is loaded without scipy: numba's `numba.np.arraymath` imports
`scipy.linalg.cython_blas` at import time to decide whether `np.dot` on
floats may call BLAS, and that import (scipy.linalg, numpy.f2py, unittest,
...) cost 0.13-0.38 s of CPU. No zkaudit kernel does floating-point linear
algebra (they are all uint64 field arithmetic), so the import is masked for
that one check: numba then uses its own loops for `np.dot`, and a float
`np.dot`/`np.linalg` call inside a kernel would fail to compile, loudly. A
scipy imported before (by onnx compilation, say) is left alone, and so is
any later import.

`use_kernel(n, threshold, kernel)` is the policy of the numpy fast paths:
a job of n elements runs the numba kernel when that kernel is already
loaded in this process (then it is the faster at every size), or when n is
past `threshold` (`COLD_BELOW` while numba is not started at all, until
`COLD_BUDGET` elements of such jobs have run in numpy); otherwise the numpy
path, which costs less than loading the kernel. Once numba is started, a
kernel's small jobs that add up to `threshold` (each at least `CALL_WORK`)
load it too: a big prover's many small GKR rounds then run on their kernel.

That policy only sees the jobs so far. A caller that knows its whole work
up front (a verifier: the circuit's sizes) says so with `planned(work)`:
below `PLAN_KERNELS_FROM` elements every job takes numpy while numba is not
started (a mid-sized proof's verification: numba's start-up is more than
its numpy work), from it on numba from each job's threshold, at once (a
big proof's: numpy work before the budget ran out would be wasted).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types

from zkaudit.field import jit_cache

# While numba is not started, jobs below this many elements take the numpy
# path: about what numba's start-up costs (numba's first kernel 0.3-0.5 s on
# the 2-core machine; the numpy NTT, batched over coset blocks, encodes a
# 2^17-cell hiding commitment in well under that). The zoo's logistic
# model's first proof -- its bank the estimate's, 94,208 cells to encode --
# loaded numba at 2^16 and took 0.71 s CPU; on numpy 0.46 s.
COLD_BELOW = 1 << 17
# ... until such jobs add up to this many elements (numpy at ~1 us per
# element of these jobs: about numba's start-up).
COLD_BUDGET = 1 << 18
_cold_work = 0
# `planned` work from which numba pays for itself. Measured on the 2-core
# machine, whole `zkaudit verify` CPU time, numpy paths only vs this policy:
# digits_cnn (2^19.5 elements of advice) 0.96 vs 1.36 s, wide_mlp (2^18.6)
# 1.00 vs 1.31 s, big_cnn (2^24.5) 5.4 vs 2.2 s; numpy's extra per element
# over numba is about 0.15 us, numba's start-up about 0.45 s. Since the
# hiding opening's claim inner products moved into a sum-check
# (`pcs.column_check`), clinical_transformer (2^22.0) verifies in 1.0-1.2 s
# CPU on numpy against 1.5-1.8 s with numba (measured on a loaded machine,
# interleaved): the line is above it.
PLAN_KERNELS_FROM = 1 << 23
_plan: bool | None = None  # inside `planned`: whether kernels pay
# Once numba is started, the numpy work done in place of each unloaded Kernel
# (id -> elements; a call counts at least CALL_WORK, about what a small numpy
# path's dozens of array operations cost): a kernel only ever given small
# jobs (a GKR's serial rounds below SERIAL_PAIRS) is loaded once they add up
# to its threshold, instead of running in numpy for the rest of the process.
_warm_work: dict[int, int] = {}
CALL_WORK = 1 << 8

# numba imports `scipy` to check its version and `scipy.linalg.cython_blas`
# for the BLAS check; both are masked while numba loads unless already there.
_MASKED = ("scipy", "scipy.linalg.cython_blas")


def numba():
    """The numba module, its CPU target registries loaded without scipy."""
    if "numba.np.arraymath" not in sys.modules:
        # a module that imported numba first has loaded scipy itself; its
        # scipy.linalg (the costly part) can still be masked
        masked = [] if "scipy.linalg" in sys.modules else [m for m in _MASKED if m not in sys.modules]
        for name in masked:
            sys.modules[name] = None  # `import` of a None entry fails at once
        try:
            import numba.np.arraymath  # noqa: F401  (runs both checks)
        finally:
            for name in masked:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
    import numba as nb

    jit_cache.install(nb)  # before any cached dispatcher is made: stamps cover every file a kernel is built from
    return nb


def loaded() -> bool:
    """numba is already imported in this process."""
    return "numba" in sys.modules


def warm() -> bool:
    """numba's CPU target is initialised: some kernel has been compiled or
    loaded from the cache in this process (the target's first use imports
    its implementation registries, `numba.cpython.cmathimpl` among them)."""
    return "numba.cpython.cmathimpl" in sys.modules


def num_threads() -> int:
    """`numba.get_num_threads()`, without importing numba while it is not
    loaded: then the size numba's pool will have (NUMBA_NUM_THREADS, else the
    CPUs this process may run on, as numba's config reads them). For sizing
    work split across the pool: a number that only tunes speed."""
    if loaded():
        return sys.modules["numba"].get_num_threads()
    import os

    try:
        return max(1, int(os.environ["NUMBA_NUM_THREADS"]))
    except (KeyError, ValueError):
        pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def is_loaded(kernel) -> bool:
    """The kernel has a compiled (or cache-loaded) signature in this process."""
    if isinstance(kernel, Kernel):
        kernel = kernel._dispatcher
        if kernel is None:
            return False
    return bool(getattr(kernel, "overloads", None))


def use_kernel(n: int, threshold: int, kernel=None) -> bool:
    """Run the numba kernel for a job of size n (else the numpy path): always
    when the kernel is loaded already; when numba's target is initialised,
    from `threshold` on (and for any size when no kernel is named); while it
    is not, from `COLD_BELOW` on, or from `threshold` on once the jobs sent
    to numpy only because numba was not started add up to `COLD_BUDGET`
    elements (a prover's many mid-sized jobs: then starting numba is cheaper)."""
    global _cold_work
    if kernel is not None and is_loaded(kernel):
        return True
    if warm():
        if kernel is None or n >= threshold:
            return True
        if isinstance(kernel, Kernel):  # small jobs that add up to a big one pay for loading it
            done = _warm_work.get(id(kernel), 0) + max(n, CALL_WORK)
            _warm_work[id(kernel)] = done
            return done >= threshold
        return False
    if _plan is not None:
        return _plan and n >= threshold
    if n < threshold:
        return False
    if n >= COLD_BELOW or _cold_work + n > COLD_BUDGET:
        return True
    _cold_work += n
    return False


@contextlib.contextmanager
def planned(work: int):
    """Within the block, `use_kernel` follows the caller's estimate of its
    total work in elements (see the module docstring); blocks nest, the
    innermost wins. Only speed depends on it: both paths are exact."""
    global _plan
    outer = _plan
    _plan = work >= PLAN_KERNELS_FROM
    try:
        yield
    finally:
        _plan = outer


def prange(*args):
    """numba.prange inside a kernel; `range` when the function runs as Python."""
    return range(*args)


class Imported:
    """`name` of `module`, looked up when a kernel that calls it is built."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module = module
        self.name = name

    def resolve(self):
        return getattr(importlib.import_module(self.module), self.name)

    def __call__(self, *args):  # a kernel run as plain Python
        return self.resolve()(*args)

    def __repr__(self) -> str:
        return f"<imported {self.module}.{self.name}>"


def imported(module: str, *names: str):
    """Stand-ins for `from module import names` in a kernel module (one name:
    one stand-in; several: a tuple). Write `module` as a literal string: the
    kernel cache's stamps (`jit_cache`) find it by reading the source."""
    refs = tuple(Imported(module, n) for n in names)
    return refs[0] if len(refs) == 1 else refs


class Kernel:
    """A numba function built on first use (see the module docstring)."""

    def __init__(self, func, options: dict):
        self.py_func = func
        self.options = options
        self._dispatcher = None
        self.__name__ = func.__name__
        self.__qualname__ = func.__qualname__
        self.__module__ = func.__module__
        self.__doc__ = func.__doc__
        self.__wrapped__ = func
        jit_cache.stamp_package(func.__module__)

    def dispatcher(self):
        """The numba dispatcher (importing numba and building it if needed)."""
        if self._dispatcher is None:
            _build(self)
        return self._dispatcher

    def __call__(self, *args, **kwargs):
        return self.dispatcher()(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__") or name == "_dispatcher":
            raise AttributeError(name)
        return getattr(self.dispatcher(), name)

    def __repr__(self) -> str:
        state = "built" if self._dispatcher is not None else "not built"
        return f"<kernel {self.__module__}.{self.__qualname__} ({state})>"


def njit(*args, **options):
    """`numba.njit` on first use: `@njit`, `@njit(cache=True, parallel=True)`."""
    if args and callable(args[0]) and not options and len(args) == 1:
        return Kernel(args[0], {})
    if args:
        raise TypeError("njit: give options by keyword (explicit signatures are not supported here)")

    def wrap(func):
        return Kernel(func, options)

    return wrap


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _resolve(value, nb):
    if isinstance(value, Kernel):
        return value.dispatcher()
    if isinstance(value, Imported):
        return value.resolve()
    if value is prange:
        return nb.prange
    return value


def _build(kernel: Kernel) -> None:
    nb = numba()
    _register_typeof(nb)
    func = kernel.py_func
    dispatcher = nb.njit(**kernel.options)(func)
    kernel._dispatcher = dispatcher  # set first: a recursive reference resolves to it
    g = func.__globals__
    for name in _code_names(func.__code__):
        value = g.get(name)
        resolved = _resolve(value, nb)
        if resolved is not value:
            g[name] = resolved
    if g.get(func.__name__) is kernel:
        g[func.__name__] = dispatcher


_TYPEOF_REGISTERED = False


def _register_typeof(nb) -> None:
    """A plain numba function whose globals hold a Kernel types it as the
    Kernel's dispatcher (numba's inliner finds `targetoptions` and
    `py_func` through `Kernel.__getattr__`)."""
    global _TYPEOF_REGISTERED
    if _TYPEOF_REGISTERED:
        return
    from numba.core import types as nbtypes
    from numba.core.typing.typeof import typeof_impl

    @typeof_impl.register(Kernel)
    def _typeof_kernel(val, c):
        return nbtypes.Dispatcher(val.dispatcher())

    _TYPEOF_REGISTERED = True
