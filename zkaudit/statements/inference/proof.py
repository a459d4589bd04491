"""The inference proof body (inside the `inference` envelope):

    u32 batch size n              (the circuit is widened to n samples, `batch.py`)
    for each circuit input, then each output: size(shape) * i64   public values
    u32 len | advice commitment   (empty: no advice)
    u32 len | layer proofs        (walk order, see `layers.stream`)
    u32 len | weight opening      (empty: no claim on weights)
    u32 len | advice opening      (empty: no advice)

Sizes of the public values come from the circuit, so the parser needs it.
Parsing is strict: every section exact, no trailing bytes, every public value
inside its tensor's declared range.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from zkaudit.circuit.graph import Circuit
from zkaudit.errors import MalformedProof
from zkaudit.statements.inference.batch import MAX_BATCH, widen

STATEMENT = "inference"
PROTOCOL = "zkaudit/inference"
PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class InferenceBody:
    inputs: dict[str, np.ndarray]  # int64, in the circuit's shapes
    outputs: dict[str, np.ndarray]
    advice_commitment: bytes
    layers: bytes
    weight_opening: bytes
    advice_opening: bytes
    batch: int = 1

    def to_bytes(self, circuit: Circuit) -> bytes:
        circuit = widen(circuit, self.batch)
        parts = [struct.pack("<I", self.batch)]
        for spec in circuit.inputs:
            parts.append(np.ascontiguousarray(self.inputs[spec.name], dtype="<i8").tobytes())
        for spec in circuit.outputs:
            parts.append(np.ascontiguousarray(self.outputs[spec.name], dtype="<i8").tobytes())
        for blob in (self.advice_commitment, self.layers, self.weight_opening, self.advice_opening):
            parts.append(struct.pack("<I", len(blob)) + blob)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes, circuit: Circuit) -> InferenceBody:
        """`circuit` is the registered (batch-1) circuit; the body says n."""
        if len(data) < 4:
            raise MalformedProof("proof truncated before the batch size", where="inference.batch", expected=4,
                                 got=len(data))
        (batch,) = struct.unpack_from("<I", data, 0)
        if not 1 <= batch <= MAX_BATCH:
            raise MalformedProof("batch size out of range", where="inference.batch", expected=f"1..{MAX_BATCH}",
                                 got=batch)
        circuit = widen(circuit, batch)
        offset = 4
        values: dict[str, dict[str, np.ndarray]] = {"input": {}, "output": {}}
        for kind, specs in (("input", circuit.inputs), ("output", circuit.outputs)):
            for spec in specs:
                n = 8 * spec.size
                if offset + n > len(data):
                    raise MalformedProof(f"proof truncated in public {kind} {spec.name!r}", where="inference.public",
                                         expected=offset + n, got=len(data))
                arr = np.frombuffer(data[offset : offset + n], dtype="<i8").astype(np.int64).reshape(spec.shape)
                offset += n
                if arr.size and (int(arr.min()) < spec.lo or int(arr.max()) > spec.hi):
                    raise MalformedProof(f"public {kind} {spec.name!r} lies outside its declared range",
                                         where="inference.public", expected=(spec.lo, spec.hi),
                                         got=(int(arr.min()), int(arr.max())))
                values[kind][spec.name] = arr
        blobs = []
        for what in ("advice commitment", "layer proofs", "weight opening", "advice opening"):
            if offset + 4 > len(data):
                raise MalformedProof(f"proof truncated before the {what}", where="inference.sections",
                                     expected=offset + 4, got=len(data))
            (n,) = struct.unpack_from("<I", data, offset)
            offset += 4
            if offset + n > len(data):
                raise MalformedProof(f"proof truncated in the {what}", where="inference.sections",
                                     expected=offset + n, got=len(data))
            blobs.append(bytes(data[offset : offset + n]))
            offset += n
        if offset != len(data):
            raise MalformedProof("proof has trailing bytes", where="inference", expected=offset, got=len(data))
        return cls(values["input"], values["output"], *blobs, batch=batch)
