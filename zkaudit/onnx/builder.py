"""Assembles an IR circuit: unique names, weights with declared ranges, and
every tensor spec derived by `zkaudit.circuit.infer` (never guessed)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from zkaudit.circuit import Circuit, Node, TensorSpec, validate
from zkaudit.circuit.fixed_point import multiplier_from_float32, multiplier_from_scale
from zkaudit.circuit.infer import infer
from zkaudit.circuit.ops import signed_range


def declared_weight_range(values: np.ndarray) -> tuple[int, int]:
    """The smallest signed power-of-two range holding `values`: the public
    circuit reveals only a weight's bit width, not its extremes."""
    peak = int(np.max(np.abs(values))) if values.size else 0
    bits = 2
    while not (signed_range(bits)[0] <= -peak and peak <= signed_range(bits)[1]):
        bits += 1
    return signed_range(bits)


class Builder:
    def __init__(self, name: str):
        self.name = name
        self.inputs: list[TensorSpec] = []
        self.weight_specs: list[TensorSpec] = []
        self.weights: dict[str, np.ndarray] = {}
        self.nodes: list[Node] = []
        self.specs: dict[str, TensorSpec] = {}
        self._used: set[str] = set()
        self._renamed: dict[str, str] = {}

    def unique(self, hint: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_./:-]", "_", hint) or "t"
        name, i = base, 1
        while name in self._used:
            i += 1
            name = f"{base}~{i}"
        self._used.add(name)
        return name

    def add_input(self, hint: str, shape, lo: int, hi: int, scale, zero_point: int) -> TensorSpec:
        spec = TensorSpec(self.unique(hint), tuple(int(d) for d in shape), int(lo), int(hi),
                          None if scale is None else float(np.float32(scale)), int(zero_point))
        self.inputs.append(spec)
        self.specs[spec.name] = spec
        return spec

    def add_weight(self, hint: str, values) -> TensorSpec:
        values = np.asarray(values, dtype=np.int64)
        lo, hi = declared_weight_range(values)
        spec = TensorSpec(self.unique(hint), values.shape, lo, hi)
        self.weight_specs.append(spec)
        self.weights[spec.name] = values
        self.specs[spec.name] = spec
        return spec

    def emit(self, op: str, inputs: list[TensorSpec], hint: str, **attrs) -> TensorSpec:
        name = self.unique(hint)
        node = Node.make(name, op, [s.name for s in inputs], name, **attrs)
        shape, lo, hi = infer(node, list(inputs))
        spec = TensorSpec(name, shape, lo, hi)
        self.nodes.append(node)
        self.specs[name] = spec
        return spec

    def requantize(self, x: TensorSpec, hint: str, *, ratio, in_zero_point: int, out_zero_point: int,
                   out_range: tuple[int, int], axis: int = 0, exact_float32: bool = False) -> TensorSpec:
        """Rescale `x` by `ratio` (scalar or per channel along `axis`)."""
        ratios = np.atleast_1d(np.asarray(ratio))
        make = multiplier_from_float32 if exact_float32 else multiplier_from_scale
        pairs = [make(r) for r in ratios]
        if len(pairs) > 1 and len(set(pairs)) == 1:
            pairs = pairs[:1]
        return self.emit(
            "Requantize", [x], hint, axis=axis % max(len(x.shape), 1), in_zero_point=in_zero_point,
            multiplier=[m for m, _ in pairs], shift=[s for _, s in pairs], out_zero_point=out_zero_point,
            out_min=out_range[0], out_max=out_range[1],
        )

    def circuit(self, outputs: list[TensorSpec], names: list[str] | None = None) -> Circuit:
        """The validated circuit; output tensors are renamed to `names` (the
        ONNX graph's output names) where that collides with nothing."""
        if names:
            self._rename({o.name: n for o, n in zip(outputs, names)
                          if n not in self._used and o.name in {x.output for x in self.nodes}})
            outputs = [dataclasses.replace(o, name=self._renamed.get(o.name, o.name)) for o in outputs]
        produced = {n.output for n in self.nodes}
        c = Circuit(
            name=self.name,
            inputs=tuple(self.inputs),
            outputs=tuple(outputs),
            weights=tuple(self.weight_specs),
            nodes=tuple(self.nodes),
            tensors=tuple(self.specs[n.output] for n in self.nodes if n.output in produced),
        )
        validate(c)
        return c

    def _rename(self, mapping: dict[str, str]) -> None:
        self._renamed = mapping

        def r(name):
            return mapping.get(name, name)

        self.nodes = [dataclasses.replace(n, inputs=tuple(r(i) for i in n.inputs), output=r(n.output))
                      for n in self.nodes]
        self.specs = {r(k): dataclasses.replace(v, name=r(k)) for k, v in self.specs.items()}
