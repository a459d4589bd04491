"""Verifier side of the per-op dispatch: node + claim on its output -> claims
on its inputs (and parameters). A handler reads its proof from the stream."""

from __future__ import annotations

from collections.abc import Callable

from zkaudit.circuit.graph import Node, TensorSpec
from zkaudit.errors import ProofRejected
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.elementwise import verifier as elementwise
from zkaudit.layers.elementwise.proof import LinearProof, MulProof
from zkaudit.layers.index_map import verifier as index_map
from zkaudit.layers.index_map.proof import IndexMapProof
from zkaudit.layers.matmul import verifier as matmul
from zkaudit.layers.matmul.proof import MatMulProof
from zkaudit.layers.shapes import (
    INDEX_MAP_OPS,
    UnsupportedLayer,
    discover,
    elementwise_shape,
    index_wiring,
    matmul_shape,
)
from zkaudit.layers.stream import ProofReader
from zkaudit.transcript import Transcript

Handler = Callable[[Node, dict, TensorClaim, ProofReader, Transcript], list[TensorClaim]]


def _matmul(node, specs, claim, reader, transcript):
    shape = matmul_shape(node, specs)
    names = (node.inputs[0], node.inputs[1], node.inputs[2] if shape.has_bias else None)
    return matmul.verify(shape, names, claim, reader.read(MatMulProof), transcript, where=f"node {node.name} (MatMul)")


def _elementwise(node, specs, claim, reader, transcript):
    shape = elementwise_shape(node, specs)
    proof = reader.read(MulProof if node.op == "Mul" else LinearProof)
    return elementwise.verify(shape, tuple(node.inputs), claim, proof, transcript, where=f"node {node.name} ({node.op})")


def _index_map(node, specs, claim, reader, transcript):
    w = index_wiring(node, specs)
    return index_map.verify(w, [specs[i].shape for i in node.inputs], list(node.inputs), claim,
                            reader.read(IndexMapProof), transcript, where=f"node {node.name} ({node.op})")


HANDLERS: dict[str, Handler] = {"MatMul": _matmul, "Add": _elementwise, "Sub": _elementwise, "Mul": _elementwise}
HANDLERS.update({op: _index_map for op in INDEX_MAP_OPS})

# Ops whose proof needs committed advice: op -> fn(node, specs) -> {name: shape},
# the public layout of what `dispatch_prover.ADVICE` computes (same names).
ADVICE_SHAPES: dict[str, Callable] = {}


discover("verifier", HANDLERS, ADVICE_SHAPES)


class AmbiguousAdvice(ProofRejected):
    """Two nodes name the same advice tensor, or an advice tensor has the
    name of another node's output: claims are routed by name, so one
    tensor's claims would be discharged as the other's (a node output
    taken for advice is never checked against its op)."""


def advice_shapes(nodes, specs) -> dict:
    """Every advice tensor's shape, by name; each name belongs to one node
    and is no other node's output (advice names are built from node names,
    which a circuit could repeat or imitate)."""
    out, owner = {}, {}
    outputs = {node.output: node.name for node in nodes}
    for node in nodes:
        fn = ADVICE_SHAPES.get(node.op)
        if fn is None:
            continue
        for name, shape in fn(node, specs).items():
            if name in owner:
                raise AmbiguousAdvice(f"advice tensor {name!r} belongs to node {owner[name]!r} and to node "
                                      f"{node.name!r} (node names must be distinct)", where="inference.names")
            if name != node.output and name in outputs:
                raise AmbiguousAdvice(f"advice tensor {name!r} of node {node.name!r} has the name of node "
                                      f"{outputs[name]!r}'s output", where="inference.names")
            owner[name] = node.name
            out[name] = shape
    return out


def verify_node(node: Node, specs: dict[str, TensorSpec], claim: TensorClaim, reader: ProofReader,
                transcript: Transcript) -> list[TensorClaim]:
    handler = HANDLERS.get(node.op)
    if handler is None:
        raise UnsupportedLayer(f"node {node.name!r}: op {node.op} has no proof protocol yet "
                               f"(proven ops: {', '.join(sorted(HANDLERS))})")
    return handler(node, specs, claim, reader, transcript)


def check_provable(nodes, specs) -> None:
    """Build every node's public proof layout, so a circuit the prover would
    refuse (an unsupported op, a 3-D MatMul, a Requantize whose relations
    could wrap mod p, ...) is refused when it is compiled, naming the node
    and the reason, rather than at the first `prove`."""
    for node in nodes:
        if node.op not in HANDLERS:
            raise UnsupportedLayer(f"node {node.name!r}: op {node.op} has no proof protocol yet "
                                   f"(proven ops: {', '.join(sorted(HANDLERS))})")
        if node.op == "MatMul":
            matmul_shape(node, specs)
        elif node.op in ("Add", "Sub", "Mul"):
            elementwise_shape(node, specs)
        elif node.op in INDEX_MAP_OPS:
            index_wiring(node, specs)
        fn = ADVICE_SHAPES.get(node.op)
        if fn is not None:
            fn(node, specs)
