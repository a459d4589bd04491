"""One entry point for checking any proof file: `verify_proof`.

It parses the envelope, looks the statement name up in `VERIFIERS` and runs
that statement's verifier against the registered circuit and weight
commitment. Statement verifiers register themselves with
`register_verifier`; the table is filled by importing every module named
`verifier` in a `zkaudit.statements` subpackage (e.g.
`zkaudit/statements/inference/verifier.py`), so adding a statement never
edits this file and only verifier modules are imported -- never a prover;
a proof's check imports them until its statement's verifier is found.

A verifier is `fn(body: bytes, *, circuit_bin: bytes, weight_commitment:
bytes, **expected) -> output | Verified` where output is JSON-serialisable
(the public outputs the proof establishes) and `Verified` adds the input
commitment a committed-input proof is bound to; `expected` (e.g.
`input_commitment=`) is passed only when the caller gives it. It rejects
only by raising `ProofRejected`. Every failure
becomes a `Verdict` with `valid=False` and the exact reason; nothing here is
ever accepted on trust.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zkaudit import __version__
from zkaudit.errors import ProofRejected
from zkaudit.gc_pause import paused
from zkaudit.statements.envelope import FORMAT_VERSION, parse_envelope

StatementVerifier = Callable[..., Any]

VERIFIERS: dict[str, StatementVerifier] = {}
# the inference protocols each older proof format carried
_OLD_INFERENCE = {2: "3, not zero-knowledge", 3: "4 to 10"}
VERIFIER_VERSION = f"zkaudit-verify {__version__} (envelope v{FORMAT_VERSION})"
_discovered = False


@dataclass(frozen=True)
class Verified:
    """A statement verifier's result when it binds more than the output."""

    output: Any
    input_commitment: bytes | None = None  # committed-input proofs: what the input is bound to
    soundness_bits: float | None = None  # -log2 of the run's error bound (`Transcript.soundness_bits`)
    privacy: dict | None = None  # what the proof hides and what it reveals (`zero_knowledge`, ...)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one proof. `output` and `input_commitment`
    are set only when valid."""

    valid: bool
    statement: str | None
    output: Any
    reason: str
    verifier_version: str = VERIFIER_VERSION
    input_commitment: bytes | None = None
    soundness_bits: float | None = None
    privacy: dict | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "statement": self.statement,
            "output": self.output,
            "input_commitment": None if self.input_commitment is None else self.input_commitment.hex(),
            "soundness_bits": None if self.soundness_bits is None else round(self.soundness_bits, 1),
            "reason": self.reason,
            "verifier_version": self.verifier_version,
            "privacy": self.privacy,
        }


def register_verifier(name: str) -> Callable[[StatementVerifier], StatementVerifier]:
    """Decorator: make `fn` the verifier for proofs whose envelope names `name`."""

    def deco(fn: StatementVerifier) -> StatementVerifier:
        existing = VERIFIERS.get(name)
        if existing is not None and existing is not fn:
            raise ValueError(f"statement {name!r} already has a verifier ({existing.__module__})")
        VERIFIERS[name] = fn
        return fn

    return deco


def _statement_packages() -> list[str]:
    import zkaudit.statements as pkg

    return [info.name for info in pkgutil.iter_modules(pkg.__path__) if info.ispkg]


def _import_verifier(package: str) -> None:
    try:
        importlib.import_module(f"zkaudit.statements.{package}.verifier")
    except ModuleNotFoundError as exc:
        if exc.name != f"zkaudit.statements.{package}.verifier":
            raise


def _discover(statement: str | None = None) -> None:
    """Import `zkaudit.statements.<pkg>.verifier` for every statement package;
    with `statement`, stop once it has a verifier (the other verifiers'
    imports are start-up a `zkaudit verify` does not need). The package
    named like the statement is tried first: a name from the proof only ever
    selects among the packages found here."""
    global _discovered
    if _discovered or (statement is not None and statement in VERIFIERS):
        return
    packages = _statement_packages()
    if statement in packages:
        packages.remove(statement)
        packages.insert(0, statement)
    for name in packages:
        _import_verifier(name)
        if statement is not None and statement in VERIFIERS:
            return
    _discovered = True


def verify_proof(proof_bytes: bytes, *, circuit_bin: bytes, weight_commitment: bytes,
                 input_commitment: bytes | None = None, inputs=None, input_opening: bytes | None = None) -> Verdict:
    """Check `proof_bytes` against a circuit artifact and a weight commitment
    (and, when given, the input commitment or the inputs themselves the proof
    must be about; see the statement's verifier)."""
    try:
        env = parse_envelope(proof_bytes)
    except ProofRejected as exc:
        return Verdict(False, None, None, str(exc))
    if env.statement == "inference" and env.version != FORMAT_VERSION:
        ran = _OLD_INFERENCE.get(env.version, "an older one")
        return Verdict(False, env.statement, None, f"[envelope.version] made by zkaudit proof format {env.version}, "
                       f"whose inference protocol ({ran}) this verifier no longer runs; re-prove with this version")
    _discover(env.statement)
    verifier = VERIFIERS.get(env.statement)
    if verifier is None:
        reason = f"statement {env.statement!r} is not supported by verifier version {VERIFIER_VERSION}"
        return Verdict(False, env.statement, None, reason)
    expected = {k: v for k, v in (("input_commitment", input_commitment), ("inputs", inputs),
                                  ("input_opening", input_opening)) if v is not None}
    try:
        with paused():  # the collector walks the verifier's many live objects: a fifth of a big verify
            result = verifier(env.body, circuit_bin=circuit_bin, weight_commitment=weight_commitment, **expected)
    except ProofRejected as exc:
        return Verdict(False, env.statement, None, str(exc))
    if isinstance(result, Verified):
        return Verdict(True, env.statement, result.output, "proof verified", input_commitment=result.input_commitment,
                       soundness_bits=result.soundness_bits, privacy=result.privacy)
    return Verdict(True, env.statement, result, "proof verified")
