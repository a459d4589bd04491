"""Prove and verify one layer whose output is advice (GatherRows,
PointerWalk) as a cheating prover would: the prover's own deferred checks
skipped, tables editable after embedding (`tamper`: padding the prover
controls); then discharge the verifier's claims against the tables."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np

from zkaudit.errors import ProofRejected
from zkaudit.layers.stream import ProofReader
from zkaudit.layers.tensor import embed

_spec = importlib.util.spec_from_file_location("_clamp_helpers", pathlib.Path(__file__).with_name("test_clamp.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
_t, discharge = _helpers._t, _helpers.discharge


def run(prover, verifier, node, specs, env, advice=None, tamper=None, verify_node=None):
    """The verifier's claims and the tables, or the rejection's class name
    (verifying as `verify_node` when given)."""
    advice = prover._advice(node, specs, env) if advice is None else advice
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    if tamper is not None:
        tamper(tables)
    out: list[bytes] = []
    honest_check = verifier.check_equal
    verifier.check_equal = lambda *a, **k: None  # the prover's own checks: a cheating prover skips them
    try:
        pclaims = prover._handler(node, specs, None, tables, _t(), out)
    finally:
        verifier.check_equal = honest_check
    reader = ProofReader(b"".join(out))
    try:
        vclaims = verifier._handler(verify_node or node, specs, None, reader, _t())
        reader.finish()
    except ProofRejected as exc:
        return type(exc).__name__, tables
    assert pclaims == vclaims
    return vclaims, tables


def rejected(prover, verifier, node, specs, env, advice=None, tamper=None) -> str | None:
    """The rejection's class name, "opening:<tensor>" for a claim the tables
    contradict, or None when everything holds."""
    claims, tables = run(prover, verifier, node, specs, env, advice, tamper)
    if isinstance(claims, str):
        return claims
    bad = discharge(claims, tables)
    return f"opening:{bad}" if bad else None
