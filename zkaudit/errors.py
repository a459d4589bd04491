"""Errors shared by every layer.

Two families reach a user:

* `ZkauditError` -- the user asked for something we cannot do (missing file,
  unsupported ONNX op, dynamic shape, unknown registry entry). Its message is
  one line saying what is wrong and, where we know, what to do. CLI exit code 2.
* `ProofRejected` -- a proof or artifact failed verification. Subclasses name
  the cause and carry where it happened (component, round/layer) and the
  expected and actual values. CLI exit code 1.

Verifiers reject only by raising a `ProofRejected` subclass: never `assert`
(Python drops asserts under -O) and never a bare exception leaking from a
parser.
"""

from __future__ import annotations

from typing import Any


class ZkauditError(Exception):
    """A user-facing error: one clear line, no traceback."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class ProofRejected(ZkauditError):
    """A proof was rejected. `where` names the component (e.g. 'sumcheck'),
    `round` the round or layer index where known."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        where: str = "",
        round: int | None = None,
        expected: Any = None,
        got: Any = None,
    ):
        self.where = where
        self.round = round
        self.expected = expected
        self.got = got
        parts = [message]
        if where:
            parts.insert(0, f"[{where}{'' if round is None else f' round {round}'}]")
        if expected is not None or got is not None:
            parts.append(f"(expected {expected!r}, got {got!r})")
        super().__init__(" ".join(parts))


class MalformedProof(ProofRejected):
    """Bytes that do not parse: wrong magic/version/length, trailing bytes,
    non-canonical field elements."""
