"""From an IR node to the public shape object its layer protocol takes.
Shared by the prover and verifier dispatch tables."""

from __future__ import annotations

from zkaudit.circuit.graph import Node, TensorSpec
from zkaudit.errors import ZkauditError
from zkaudit.layers.elementwise.proof import ElementwiseShape
from zkaudit.layers.index_map.wiring import Wiring, wiring
from zkaudit.layers.matmul.proof import MatMulShape

INDEX_MAP_OPS = ("Reshape", "Transpose", "Concat", "Pad", "Expand", "Gather")


class UnsupportedLayer(ZkauditError):
    """A node the inference prover cannot prove yet (named, with the reason)."""


def matmul_shape(node: Node, specs: dict[str, TensorSpec]) -> MatMulShape:
    a, b = specs[node.inputs[0]], specs[node.inputs[1]]
    if len(a.shape) != 2 or len(b.shape) != 2:
        raise UnsupportedLayer(f"node {node.name!r} (MatMul): only 2-D operands are proven yet, got {a.shape} @ {b.shape}")
    attrs = node.a
    return MatMulShape(a.shape[0], a.shape[1], b.shape[1], int(attrs.get("a_zero_point", 0)),
                       int(attrs.get("b_zero_point", 0)), len(node.inputs) == 3)


def elementwise_shape(node: Node, specs: dict[str, TensorSpec]) -> ElementwiseShape:
    a, b, y = specs[node.inputs[0]], specs[node.inputs[1]], specs[node.output]
    if a.shape != y.shape or b.shape != y.shape:
        raise UnsupportedLayer(f"node {node.name!r} ({node.op}): broadcasting {a.shape} with {b.shape} is not proven yet")
    attrs = node.a
    return ElementwiseShape(node.op, y.shape, int(attrs.get("a_zero_point", 0)), int(attrs.get("b_zero_point", 0)))


def index_wiring(node: Node, specs: dict[str, TensorSpec]) -> Wiring:
    return wiring(node.op, node.a, [specs[i].shape for i in node.inputs], specs[node.output].shape)


def discover(side: str, handlers: dict, advice: dict) -> None:
    """Layer packages register themselves: every `zkaudit/layers/<pkg>/<side>.py`
    that defines `register(HANDLERS, ADVICE...)` adds its ops, so a new layer
    never edits the dispatch files."""
    import importlib
    import pkgutil

    import zkaudit.layers as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"zkaudit.layers.{info.name}.{side}")
        except ModuleNotFoundError as exc:
            if exc.name == f"zkaudit.layers.{info.name}.{side}":
                continue
            raise
        register = getattr(module, "register", None)
        if register is not None:
            register(handlers, advice)
