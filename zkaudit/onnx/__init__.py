"""ONNX import: float models (with our calibration and per-channel int8 PTQ),
QDQ and QOperator models from onnxruntime, into the circuit IR. One function
per ONNX op (`ops_*`, named as the op, ONNX attribute names and defaults),
an import driver (`importer`), calibration and fidelity measurement, and
`compile_model`, which writes a compiled directory.

Imports: circuit, field (and errors).
"""

from zkaudit.onnx.compile import CompileSummary, compile_model, import_model, model_kind
from zkaudit.onnx.errors import DynamicShape, MalformedModel, MissingCalibration, OnnxImportError, UnsupportedOp
from zkaudit.onnx.load import parse_shape_option
from zkaudit.onnx.registry import supported_ops

__all__ = [
    "CompileSummary", "compile_model", "import_model", "model_kind", "parse_shape_option", "supported_ops",
    "OnnxImportError", "MalformedModel", "DynamicShape", "UnsupportedOp", "MissingCalibration",
]
