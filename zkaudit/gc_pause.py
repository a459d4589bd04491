"""Python's cyclic garbage collector, paused around a verification and
around the provers (inference, training, consent, link).

A verifier allocates hundreds of thousands of small objects (field
elements, Hidden forms, claims) and keeps many of them alive until it
ends. CPython's collector runs every 700 net allocations and, now and
then, walks every tracked object: measured on the zoo's vitals_gru
(9,157 advice claims), collection was a fifth of its verification, 0.86 s
with it and 0.67 s without. What a verifier allocates is freed by
reference counting (the few cycles -- a recursive closure, an exception's
traceback -- are small and are collected once the collector runs again),
so it runs with the collector paused and resumes it when done. The
provers are alike: a proof's cycles are ~1,100-1,200 small objects and no
arrays (inference proofs of digits_cnn and breast_cancer_gb, a six-step
training proof, counted with `gc.DEBUG_SAVEALL`), while a full collection
struck now and then for 5-200 ms.

`paused()` nests and is safe across threads: the collector resumes when
the last paused section ends, and only if it was enabled when the first
began (a caller that disabled it itself keeps it disabled).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading

_lock = threading.Lock()
_depth = 0
_resume = False


@contextlib.contextmanager
def paused():
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


def pausing(fn):
    """`fn` run inside `paused()` (a prover's entry point)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with paused():
            return fn(*args, **kwargs)
    return run
