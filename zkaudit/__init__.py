"""zkaudit: zero-knowledge model audits for clinical machine learning.

Layers, lowest first; a module imports only from layers below its own
(tests/test_layering.py walks the imports to keep this honest):

    errors       typed errors shared by every layer
    field        Goldilocks and its quadratic extension (scalars + numba kernels)
    poly         multilinear extensions, eq tables, univariate round polynomials
    transcript   the one Fiat-Shamir transcript
    sumcheck     generic sum-check prover/verifier
    pcs          Merkle trees, NTT/Reed-Solomon, the multilinear commitment
    lookup       LogUp with fractional-sum GKR, range checks, tables
    circuit      the integer circuit IR, validator, reference executor
    onnx         ONNX import and quantization
    layers       one prover/verifier pair per IR op
    train        DP-SGD policy, integer reference trainer, tape and coin, accountant
    statements   inference / audit / training-policy prove() and verify()
    registry     the public registry (never imports a prover)
    cli          one module per command
    api          the Python API: compile, prove, commit_input, verify (the CLI is a layer over it)
"""

import os as _os

# Multi-threaded numba calls stall for milliseconds under the default OpenMP
# spin-wait policy when the other core is busy; the work-queue layer does not.
_os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

__version__ = "0.1.0"

# The Python API (docs/python.md), imported on first use so `import zkaudit`
# stays cheap (no numpy, numba, onnx or SQLAlchemy until a function runs).
_API = ("compile", "prove", "commit_input", "verify", "Proof", "Verification")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from zkaudit import api

        return getattr(api, name)
    raise AttributeError(f"module 'zkaudit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
