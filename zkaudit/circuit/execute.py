"""The integer reference executor: runs `kernels` node by node.

Inputs and weights are checked against their declared shapes and ranges
before anything runs (a value outside its range is a user error, never a
silent wrap); every node's output is checked against its declared range
after it runs, so a range bug in an importer cannot pass unnoticed.
"""

from __future__ import annotations

import numpy as np

from zkaudit.circuit.errors import CircuitError, InputError
from zkaudit.circuit.graph import Circuit, TensorSpec
from zkaudit.circuit.kernels import KERNELS


def _checked(spec: TensorSpec, value, what: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.rint(arr) == arr):
            arr = arr.astype(np.int64)
        else:
            raise InputError(f"{what} {spec.name!r} must hold integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.shape != spec.shape:
        raise InputError(f"{what} {spec.name!r} has shape {arr.shape}, the circuit expects {spec.shape}")
    if arr.size and (arr.min() < spec.lo or arr.max() > spec.hi):
        raise InputError(
            f"{what} {spec.name!r} holds values in [{arr.min()}, {arr.max()}], outside its range [{spec.lo}, {spec.hi}]"
        )
    return arr


def execute(circuit: Circuit, weights, inputs, *, return_all: bool = False) -> dict[str, np.ndarray]:
    if not isinstance(inputs, dict):
        if len(circuit.inputs) != 1:
            raise InputError(f"the circuit has {len(circuit.inputs)} inputs: pass a dict name -> array")
        inputs = {circuit.inputs[0].name: inputs}
    unknown = set(inputs) - {s.name for s in circuit.inputs}
    if unknown:
        raise InputError(f"unknown inputs {sorted(unknown)}; the circuit takes {[s.name for s in circuit.inputs]}")
    env: dict[str, np.ndarray] = {}
    for spec in circuit.inputs:
        if spec.name not in inputs:
            raise InputError(f"missing input {spec.name!r}")
        env[spec.name] = _checked(spec, inputs[spec.name], "input")
    for spec in circuit.weights:
        if spec.name not in weights:
            raise InputError(f"the weights file lacks tensor {spec.name!r}")
        env[spec.name] = _checked(spec, weights[spec.name], "weight")
    specs = {s.name: s for s in circuit.tensors}
    for node in circuit.nodes:
        try:
            out = KERNELS[node.op](*(env[i] for i in node.inputs), **node.a)
        except ValueError as exc:  # an input the op cannot take (a GatherRows or PointerWalk index outside its table)
            raise CircuitError(f"node {node.name!r} ({node.op}): {exc}") from None
        spec = specs[node.output]
        if out.shape != spec.shape or (out.size and (out.min() < spec.lo or out.max() > spec.hi)):
            raise CircuitError(
                f"node {node.name!r} produced shape {out.shape} range [{out.min()}, {out.max()}] "
                f"outside its spec {spec.shape} [{spec.lo}, {spec.hi}] (an importer bug)"
            )
        env[node.output] = out
    if return_all:
        return env
    return {s.name: env[s.name] for s in circuit.outputs}
