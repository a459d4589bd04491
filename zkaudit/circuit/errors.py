"""Errors raised by the circuit IR. All are `ZkauditError`s: a user who hands
us a bad circuit, weights file or input file gets one clear line."""

from __future__ import annotations

from zkaudit.errors import ZkauditError


class CircuitError(ZkauditError):
    """Base class for circuit-layer errors."""


class InvalidCircuit(CircuitError):
    """The validator rejected a node; `node` names it, `reason` says why."""

    def __init__(self, node: str, reason: str):
        self.node = node
        self.reason = reason
        super().__init__(f"invalid circuit: node {node!r}: {reason}")


class MalformedArtifact(CircuitError):
    """A circuit.bin / weights.bin that does not parse strictly (bad magic,
    version, length, trailing bytes, non-canonical encoding)."""


class InputError(CircuitError):
    """An input file or array that does not fit the circuit's inputs."""
