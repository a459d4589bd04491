"""Where numba comes in, and when a kernel is worth it.

Every kernel module reaches numba through `numba()`, which imports it once
and initialises its CPU target without scipy: numba's `numba.np.arraymath`
imports `scipy.linalg.cython_blas` at import time to decide whether
`np.dot` on floats may call BLAS, and that import (scipy.linalg, numpy.f2py,
unittest, ...) cost 0.13-0.38 s of CPU in every command here that ran a
kernel. No zkaudit kernel does floating-point linear algebra (they are all
uint64 field arithmetic), so the import is masked for that one check: numba
then uses its own loops for `np.dot`, and a float `np.dot`/`np.linalg` call
inside a kernel would fail to compile, loudly. A scipy imported before
(by onnx compilation, say) is left alone, and so is any later import.

`use_kernel(n, threshold)` is the policy of the numpy fast paths: tables of
verifier size are cheaper in numpy than the first numba call in a process
(importing numba ~0.2 s, initialising its target ~0.1 s, loading each cached
kernel 2-10 ms), but once numba is loaded a kernel beats numpy at every size.
"""

from __future__ import annotations

import sys

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

    return nb


def loaded() -> bool:
    """numba is already in this process: its fixed start-up cost is paid."""
    return "numba" in sys.modules


def use_kernel(n: int, threshold: int) -> bool:
    """Run the numba kernel for a job of size n (else the numpy path)."""
    return n >= threshold or "numba" in sys.modules
