"""Prover side of the per-op dispatch (mirrors `dispatch_verifier`)."""

from __future__ import annotations

from collections.abc import Callable

from zkaudit.circuit.graph import Node, TensorSpec
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.elementwise import prover as elementwise
from zkaudit.layers.index_map import prover as index_map
from zkaudit.layers.matmul import prover as matmul
from zkaudit.layers.shapes import (
    INDEX_MAP_OPS,
    UnsupportedLayer,
    discover,
    elementwise_shape,
    index_wiring,
    matmul_shape,
)
from zkaudit.transcript import Transcript

# tables: name -> embedded table (lazy); out: list the handler appends proof bytes to
Handler = Callable[..., list[TensorClaim]]


def _matmul(node, specs, claim, tables, transcript, out):
    shape = matmul_shape(node, specs)
    names = (node.inputs[0], node.inputs[1], node.inputs[2] if shape.has_bias else None)
    bias = tables[node.inputs[2]] if shape.has_bias else None
    proof, claims = matmul.prove(shape, names, claim, tables[node.inputs[0]], tables[node.inputs[1]], bias, transcript)
    out.append(proof.to_bytes())
    return claims


def _elementwise(node, specs, claim, tables, transcript, out):
    shape = elementwise_shape(node, specs)
    proof, claims = elementwise.prove(shape, tuple(node.inputs), claim, tables[node.inputs[0]],
                                      tables[node.inputs[1]], transcript)
    out.append(proof.to_bytes())
    return claims


def _index_map(node, specs, claim, tables, transcript, out):
    w = index_wiring(node, specs)
    proof, claims = index_map.prove(w, [specs[i].shape for i in node.inputs], list(node.inputs), claim,
                                    [tables[i] for i in node.inputs], transcript)
    out.append(proof.to_bytes())
    return claims


HANDLERS: dict[str, Handler] = {"MatMul": _matmul, "Add": _elementwise, "Sub": _elementwise, "Mul": _elementwise}
HANDLERS.update({op: _index_map for op in INDEX_MAP_OPS})

# Ops whose proof needs committed advice: op -> fn(node, specs, env) -> {name: int array}.
# Advice is computed from the witness before any challenge and committed in
# one commitment per proof. If the node's own output is among its advice,
# claims on that output are discharged by the advice opening and the handler
# is called with claim=None (it proves the op's relation instead).
ADVICE: dict[str, Callable] = {}


discover("prover", HANDLERS, ADVICE)


def advice_for(nodes, specs, env) -> dict:
    out = {}
    for node in nodes:
        fn = ADVICE.get(node.op)
        if fn is not None:
            out.update(fn(node, specs, env))
    return out


def prove_node(node: Node, specs: dict[str, TensorSpec], claim: TensorClaim, tables, transcript: Transcript,
               out: list[bytes]) -> list[TensorClaim]:
    handler = HANDLERS.get(node.op)
    if handler is None:
        raise UnsupportedLayer(f"node {node.name!r}: op {node.op} has no proof protocol yet "
                               f"(proven ops: {', '.join(sorted(HANDLERS))})")
    return handler(node, specs, claim, tables, transcript, out)


def check_supported(nodes) -> None:
    """Fail before any work if some node cannot be proven (names the first)."""
    for node in nodes:
        if node.op not in HANDLERS:
            raise UnsupportedLayer(f"node {node.name!r}: op {node.op} has no proof protocol yet "
                                   f"(proven ops: {', '.join(sorted(HANDLERS))})")
