"""Frozen IR values: tensor specs, nodes, and the circuit.

A `TensorSpec` carries the integer range `[lo, hi]` every value of the tensor
lies in: the prover range-checks against it, the validator proves it from
the op's inputs, and the executor checks it at run time. `scale` and
`zero_point` say what the integers mean (real = (q - zero_point) * scale) and
are set on circuit inputs and outputs (None where the integers are raw, e.g.
an accumulator or an ArgMax index).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    lo: int
    hi: int
    scale: float | None = None
    zero_point: int = 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(int(v) for v in value)
    if isinstance(value, (bool, np.integer)):
        return int(value)
    return value


@dataclass(frozen=True)
class Node:
    """One op application. `attrs` is a sorted tuple of (name, value) pairs so
    the node is hashable, immutable and encodes canonically."""

    name: str
    op: str
    inputs: tuple[str, ...]
    output: str
    attrs: tuple[tuple[str, Any], ...] = ()

    @staticmethod
    def make(name: str, op: str, inputs, output: str, **attrs: Any) -> "Node":
        frozen = tuple(sorted((k, _freeze(v)) for k, v in attrs.items()))
        return Node(name, op, tuple(inputs), output, frozen)

    @property
    def a(self) -> dict[str, Any]:
        return dict(self.attrs)


@dataclass(frozen=True)
class Circuit:
    """Architecture + quantization spec. Weight *values* live in `Weights`;
    only their names, shapes and declared ranges are here, so the digest of
    the encoding names the model without revealing it."""

    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    weights: tuple[TensorSpec, ...]
    nodes: tuple[Node, ...]
    tensors: tuple[TensorSpec, ...] = field(default=())  # every node output

    def spec(self, name: str) -> TensorSpec:
        for group in (self.inputs, self.weights, self.tensors):
            for s in group:
                if s.name == name:
                    return s
        raise KeyError(name)

    def specs(self) -> dict[str, TensorSpec]:
        return {s.name: s for g in (self.inputs, self.weights, self.tensors) for s in g}

    @property
    def parameter_count(self) -> int:
        return sum(s.size for s in self.weights)

    def execute(self, weights, inputs, *, return_all: bool = False):
        """Run the integer reference executor (the semantics). `inputs`: a
        dict name -> int array (or one array for a one-input circuit). Returns
        the outputs by name, or every tensor (the full witness) when
        `return_all`."""
        from zkaudit.circuit.execute import execute

        return execute(self, weights, inputs, return_all=return_all)

    def digest(self) -> str:
        """sha256 of the canonical encoding, computed once per object (the
        fields are immutable; a verifier asks several times)."""
        cached = self.__dict__.get("_digest")
        if cached is None:
            from zkaudit.circuit.encoding import circuit_digest

            cached = circuit_digest(self)
            object.__setattr__(self, "_digest", cached)
        return cached
