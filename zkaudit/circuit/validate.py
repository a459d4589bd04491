"""The validator: a circuit is well formed when its nodes are in topological
order, every name is defined once, every op and attribute is in the closed
set, and every declared tensor spec equals what `infer` derives from the
node's inputs (so every declared range is sound). Failures name the node and
the reason."""

from __future__ import annotations

from zkaudit.circuit.errors import InvalidCircuit
from zkaudit.circuit.graph import Circuit
from zkaudit.circuit.infer import infer


def validate(circuit: Circuit) -> None:
    known = {}
    for group, label in ((circuit.inputs, "input"), (circuit.weights, "weight")):
        for s in group:
            if s.name in known:
                raise InvalidCircuit(s.name, f"{label} name defined twice")
            if s.lo > s.hi:
                raise InvalidCircuit(s.name, f"{label} range [{s.lo}, {s.hi}] is empty")
            if any(d < 1 for d in s.shape):
                raise InvalidCircuit(s.name, f"{label} shape {s.shape} has a non-positive dimension")
            known[s.name] = s
    declared = {s.name: s for s in circuit.tensors}
    if len(declared) != len(circuit.tensors):
        raise InvalidCircuit(circuit.name, "a tensor spec is declared twice")
    for node in circuit.nodes:
        missing = [i for i in node.inputs if i not in known]
        if missing:
            raise InvalidCircuit(node.name, f"inputs {missing} are not defined before this node")
        if node.output in known:
            raise InvalidCircuit(node.name, f"output {node.output!r} is already defined")
        shape, lo, hi = infer(node, [known[i] for i in node.inputs])
        spec = declared.get(node.output)
        if spec is None:
            raise InvalidCircuit(node.name, f"output {node.output!r} has no tensor spec")
        if (spec.shape, spec.lo, spec.hi) != (shape, lo, hi):
            raise InvalidCircuit(
                node.name, f"declared {spec.shape} [{spec.lo}, {spec.hi}] but the op gives {shape} [{lo}, {hi}]"
            )
        known[node.output] = spec
    if set(declared) != {n.output for n in circuit.nodes}:
        raise InvalidCircuit(circuit.name, "tensor specs and node outputs differ")
    if not circuit.outputs:
        raise InvalidCircuit(circuit.name, "the circuit has no outputs")
    for out in circuit.outputs:
        s = known.get(out.name)
        if s is None or (s.shape, s.lo, s.hi) != (out.shape, out.lo, out.hi):
            raise InvalidCircuit(out.name, "output spec does not match a defined tensor")
