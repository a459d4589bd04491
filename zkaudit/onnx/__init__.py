"""ONNX import: float models (with our calibration and quantizer), QDQ and
QOperator models from onnxruntime, into the circuit IR.

Imports: circuit, field."""
