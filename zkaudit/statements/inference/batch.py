"""Data-parallel batches: one proof for N inputs, the weights paid once.

A compiled circuit has a leading batch axis of size 1 on its inputs and
activations. `widen(circuit, n)` is the same computation on n samples: that
axis becomes n everywhere, and every op must act on samples independently
(no reduction, concatenation, padding or transposition along axis 0), which
is checked here. Weight tensors are unchanged, so the weight commitment and
its opening serve the whole batch. Both prover and verifier derive the
widened circuit from the registered one and n (n is in the proof, and the
widened circuit's digest, bound in the statement, depends on it).
"""

from __future__ import annotations

import dataclasses

from zkaudit.circuit import Circuit, Node, validate
from zkaudit.errors import ZkauditError

MAX_BATCH = 1 << 16


class BatchUnsupported(ZkauditError):
    """The circuit cannot be run on a batch (names the tensor or node)."""


def _axis(node: Node, ndim: int) -> int:
    axis = int(node.a.get("axis", -1))
    return axis + ndim if axis < 0 else axis


def widen(circuit: Circuit, n: int) -> Circuit:
    if n == 1:
        return circuit
    if not 1 <= n <= MAX_BATCH:
        raise BatchUnsupported(f"batch size {n} outside 1..{MAX_BATCH}")
    batched = {}
    for spec in (*circuit.inputs, *circuit.tensors):
        if not spec.shape or spec.shape[0] != 1:
            raise BatchUnsupported(f"tensor {spec.name!r} has shape {spec.shape}: batch proofs need a leading "
                                   "batch axis of size 1 on every input and activation")
        batched[spec.name] = dataclasses.replace(spec, shape=(n, *spec.shape[1:]))
    ndim = {s.name: len(s.shape) for s in (*circuit.inputs, *circuit.tensors, *circuit.weights)}
    nodes = []
    for node in circuit.nodes:
        attrs = dict(node.attrs)
        if node.op in ("Reshape", "Expand"):
            attrs["shape"] = (n, *tuple(attrs["shape"])[1:])
        elif node.op == "Transpose" and tuple(attrs["perm"])[0] != 0:
            raise BatchUnsupported(f"node {node.name!r} (Transpose) moves the batch axis")
        elif node.op in ("Concat", "Softmax", "ArgMax") and _axis(node, ndim[node.inputs[0]]) == 0:
            raise BatchUnsupported(f"node {node.name!r} ({node.op}) works along the batch axis")
        elif node.op == "Gather" and _axis(node, ndim[node.inputs[0]]) == 0:
            raise BatchUnsupported(f"node {node.name!r} (Gather) selects along the batch axis")
        elif node.op == "GatherRows":  # rows gathered from one table: a batch would share it across samples
            raise BatchUnsupported(f"node {node.name!r} (GatherRows) gathers table rows; prove one sample at a time")
        elif node.op == "PointerWalk":  # a walk through one table: a batch would share it across samples
            raise BatchUnsupported(f"node {node.name!r} (PointerWalk) walks a table's rows; prove one sample at a time")
        elif node.op == "Pad":
            pads = tuple(attrs["pads"])
            if pads[0] or pads[len(pads) // 2]:
                raise BatchUnsupported(f"node {node.name!r} (Pad) pads the batch axis")
        elif node.op == "Requantize" and len(attrs.get("multiplier", ())) > 1 and _axis(node, ndim[node.inputs[0]]) == 0:
            raise BatchUnsupported(f"node {node.name!r} (Requantize) has per-channel parameters along the batch axis")
        for name in node.inputs:
            if name not in batched and name not in {w.name for w in circuit.weights}:
                raise BatchUnsupported(f"node {node.name!r} reads {name!r}, which is neither an activation nor a weight")
        nodes.append(Node.make(node.name, node.op, node.inputs, node.output, **attrs))
    wide = Circuit(
        circuit.name,
        tuple(batched[s.name] for s in circuit.inputs),
        tuple(batched[s.name] for s in circuit.outputs),
        circuit.weights,
        tuple(nodes),
        tuple(batched[s.name] for s in circuit.tensors),
    )
    validate(wide)
    return wide


def stack(circuit: Circuit, samples) -> tuple[Circuit, dict]:
    """The circuit widened to len(samples) and the samples' inputs stacked
    along the batch axis, each checked against its declared shape and range.
    `samples` is one input dict or a list of them."""
    import numpy as np

    from zkaudit.circuit.execute import _checked

    samples = samples if isinstance(samples, (list, tuple)) else [samples]
    if not samples:
        raise BatchUnsupported("no input samples given")
    try:
        wide = widen(circuit, len(samples))
    except BatchUnsupported as exc:
        if len(samples) == 1:
            raise
        # the user gave several samples to a model that proves one at a time: say that first
        raise BatchUnsupported(f"the input holds {len(samples)} samples, and this model proves one sample per "
                               f"proof: {exc.message}", hint="give each sample its own input file (one row per "
                               "input) and prove them one by one") from None
    inputs = {}
    for spec in circuit.inputs:
        for sample in samples:
            if spec.name not in sample:
                raise BatchUnsupported(f"an input sample lacks {spec.name!r}")
        inputs[spec.name] = np.concatenate([_checked(spec, s[spec.name], "input") for s in samples], axis=0)
    return wide, inputs
