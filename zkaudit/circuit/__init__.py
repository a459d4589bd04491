"""The integer circuit IR: a closed op set (`ops`), frozen nodes and circuits
(`graph`), shape/range inference and the validator, the integer reference
executor that *is* the semantics (`kernels`, `execute`), the canonical
encoding and digest, the weights container and input files.

A compiled model directory holds `public/circuit.bin` (digest = its sha256),
`public/summary.json` and `private/weights.bin`.

Imports: `zkaudit.errors` (and `zkaudit.field`) only.
"""

from __future__ import annotations

from pathlib import Path

from zkaudit.circuit.encoding import circuit_digest, decode_circuit, encode_circuit
from zkaudit.circuit.errors import CircuitError, InputError, InvalidCircuit, MalformedArtifact
from zkaudit.circuit.graph import Circuit, Node, TensorSpec
from zkaudit.circuit.inputs import InputBatch, dequantize, quantize, read_inputs
from zkaudit.circuit.ops import OPS, ops_in_group
from zkaudit.circuit.validate import validate
from zkaudit.circuit.weights import Weights

CIRCUIT_FILE = Path("public") / "circuit.bin"
SUMMARY_FILE = Path("public") / "summary.json"
WEIGHTS_FILE = Path("private") / "weights.bin"


def _read(directory, rel: Path, what: str) -> bytes:
    """A file of a compiled model directory, or one line saying what is wrong."""
    directory = Path(directory)
    compile_hint = f"write one with `zkaudit compile MODEL.onnx --out {directory}`"
    if not directory.exists():
        raise CircuitError(f"compiled model directory not found: {directory}", hint=compile_hint)
    if not directory.is_dir():
        raise CircuitError(f"{directory} is a file, not a compiled model directory", hint=compile_hint)
    path = directory / rel
    try:
        return path.read_bytes()
    except FileNotFoundError:
        if rel == WEIGHTS_FILE and (directory / CIRCUIT_FILE).exists():
            raise CircuitError(f"{directory} has no {rel}: proving needs the vendor's private weights",
                               hint="use the directory `zkaudit compile` wrote, not a copy of its public/ folder"
                               ) from None
        raise CircuitError(f"{directory} is not a compiled model directory: no {rel}", hint=compile_hint) from None
    except OSError as exc:
        raise CircuitError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def load_circuit(directory) -> Circuit:
    """Parse and validate `DIR/public/circuit.bin`."""
    circuit = decode_circuit(_read(directory, CIRCUIT_FILE, "circuit file"))
    validate(circuit)
    return circuit


def load_weights(directory) -> Weights:
    """Parse `DIR/private/weights.bin` (check against a circuit with `Weights.check`)."""
    return Weights.decode(_read(directory, WEIGHTS_FILE, "weights file"))


__all__ = [
    "Circuit", "Node", "TensorSpec", "Weights", "InputBatch", "OPS", "ops_in_group", "validate",
    "encode_circuit", "decode_circuit", "circuit_digest", "load_circuit", "load_weights", "read_inputs",
    "quantize", "dequantize", "CircuitError", "InvalidCircuit", "MalformedArtifact", "InputError",
    "CIRCUIT_FILE", "SUMMARY_FILE", "WEIGHTS_FILE",
]
