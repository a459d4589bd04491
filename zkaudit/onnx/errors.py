"""Import errors. Every user mistake in a model file is one of these (all
`ZkauditError`s), so the CLI prints one line instead of a traceback."""

from __future__ import annotations

from zkaudit.errors import ZkauditError


class OnnxImportError(ZkauditError):
    """A model we cannot import, with the reason."""


class MalformedModel(OnnxImportError):
    """Not an ONNX model, truncated, or failing the ONNX checker."""


class DynamicShape(OnnxImportError):
    """An input has a dimension without a fixed size."""


class UnsupportedOp(OnnxImportError):
    """An op (or an op's attribute value) outside what we import. The first
    such node is named in full (`node_name`, `op_type`, ...); `others` holds
    one line for each further unsupported node of the model, so a user sees
    every problem at once. `fix` says what to do when a fix is known."""

    def __init__(self, node_name: str, op_type: str, domain: str, opset: int, what: str, supported,
                 fix: str | None = None, others=()):
        self.node_name, self.op_type, self.domain, self.opset = node_name, op_type, domain or "ai.onnx", opset
        self.fix, self.others = fix, tuple(others)
        message = f"node {node_name!r}: op {op_type} (domain {self.domain}, opset {opset}) {what}"
        if fix:
            message += f" [fix: {fix}]"
        if self.others:
            message += f"; {len(self.others)} more unsupported node(s): " + "; ".join(self.others)
        super().__init__(message, hint="supported ops: " + ", ".join(supported))


class MissingCalibration(OnnxImportError):
    """A float tensor needs quantization parameters nobody gave us."""
