"""The table of importable ops: (domain, op_type) -> function named as the op."""

from zkaudit.onnx import ops_elementwise, ops_linear, ops_pool, ops_shape

OPS = {**ops_linear.OPS, **ops_elementwise.OPS, **ops_shape.OPS, **ops_pool.OPS}


def supported_ops() -> list[str]:
    return sorted(op if d == "ai.onnx" else f"{d}:{op}" for d, op in OPS)
