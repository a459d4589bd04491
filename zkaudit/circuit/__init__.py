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


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CircuitError(f"{what} not found: {path} (is this a directory written by `zkaudit compile`?)") from None
    except OSError as exc:
        raise CircuitError(f"cannot read {what} {path}: {exc}") from None


def load_circuit(directory) -> Circuit:
    """Parse and validate `DIR/public/circuit.bin`."""
    circuit = decode_circuit(_read(Path(directory) / CIRCUIT_FILE, "circuit file"))
    validate(circuit)
    return circuit


def load_weights(directory) -> Weights:
    """Parse `DIR/private/weights.bin` (check against a circuit with `Weights.check`)."""
    return Weights.decode(_read(Path(directory) / WEIGHTS_FILE, "weights file"))


__all__ = [
    "Circuit", "Node", "TensorSpec", "Weights", "InputBatch", "OPS", "ops_in_group", "validate",
    "encode_circuit", "decode_circuit", "circuit_digest", "load_circuit", "load_weights", "read_inputs",
    "quantize", "dequantize", "CircuitError", "InvalidCircuit", "MalformedArtifact", "InputError",
    "CIRCUIT_FILE", "SUMMARY_FILE", "WEIGHTS_FILE",
]
