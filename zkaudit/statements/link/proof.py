"""Link proof file and statement.

The envelope (`statements/envelope.py`, statement name "link-quant") holds:

    magic b"ZKLQ" | u8 version (1)
    | u32 len | statement: canonical JSON (below)
    | u32 len | the hiding advice commitment (theta, the circuit's weight
                tensors, the witness columns, both links' tables, the bank)
    | u32 len | the proof stream (zero-check, wiring, range checks, both hash links)
    | u32 len | the advice opening

Statement (type "link-quant/v1"): the circuit digest, c_theta and c_W
(hex of their canonical bytes), theta's layout (num_params d, limit L,
weight_bits w), the quant spec (rounding, weight clamp, per layer the
float32 scales s_in, s_w, s_b, s_out as their IEEE bit patterns: JSON
carries no floats), the
parameter map pi (per circuit weight tensor: offset and strides into
theta, role, layer) and the saturation count. Floats never enter: a scale
is read back from its bits, so both sides use the same exact dyadic
rational.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np

from zkaudit.data.canonical import canonical_json, parse_canonical
from zkaudit.errors import MalformedProof

STATEMENT = "link-quant"
STATEMENT_TYPE = "link-quant/v1"
PROTOCOL_VERSION = 3  # 2: the hiding openings batch their claims one pair per row point;
# 3: the weight links' tensor sum-checks batched, one per tensor size (`inference.weights_link` step 4)
MAGIC = b"ZKLQ"
BODY_VERSION = 1
WHERE = "link"
ROUNDING = "half-up"
SCALES = ("in_scale", "w_scale", "b_scale", "out_scale")
PI_DOMAIN = b"zkaudit/link/pi/v1\x00"
QUANT_DOMAIN = b"zkaudit/link/quant/v1\x00"


def f32_bits(x: float) -> int:
    return int(np.array(x, dtype=np.float32).view(np.uint32))


def f32_value(bits: int) -> float:
    return float(np.array(bits, dtype=np.uint32).view(np.float32))


def section_digest(doc, domain: bytes) -> bytes:
    return hashlib.sha256(domain + canonical_json(doc)).digest()


def quant_digest(statement: dict) -> bytes:
    """Over the rounding, clamp, every layer's scales and theta's fixed-point
    weight_bits (the multipliers 1 / (2^w s) depend on it; c_theta's layout
    pins d and L but not w)."""
    return section_digest({"weight_bits": statement["theta"]["weight_bits"], **statement["quant"]}, QUANT_DOMAIN)


def pi_digest(statement: dict) -> bytes:
    return section_digest(statement["pi"], PI_DOMAIN)


def default_pi(circuit) -> list[dict]:
    """The map `zkaudit train` exports (trainer.py's theta layout): layers in
    forward order, each W (out x in, row-major) then b; the circuit stores
    a Gemm's W as (in, out), so W[i, j] = theta[off + j in + i]. Raises
    ValueError for a circuit that is not such a chain of MatMul layers."""
    weights = {s.name: s for s in circuit.weights}
    out, off, used = [], 0, []
    layer = 0
    for node in circuit.nodes:
        if node.op != "MatMul":
            continue
        if len(node.inputs) != 3 or node.inputs[1] not in weights or node.inputs[2] not in weights:
            raise ValueError(f"layer {node.name!r} is not x W + b with committed W and b")
        w, b = weights[node.inputs[1]], weights[node.inputs[2]]
        if len(w.shape) != 2 or tuple(b.shape) != (w.shape[1],):
            raise ValueError(f"layer {node.name!r}: W {w.shape}, b {b.shape} is not (in, out), (out,)")
        n_in, n_out = w.shape
        out.append({"tensor": w.name, "role": "weight", "layer": layer, "offset": off, "strides": [1, n_in]})
        off += n_in * n_out
        out.append({"tensor": b.name, "role": "bias", "layer": layer, "offset": off, "strides": [1]})
        off += n_out
        used += [w.name, b.name]
        layer += 1
    if sorted(used) != sorted(weights) or not used:
        raise ValueError("the circuit has weights outside its MatMul layers (or none)")
    return out


def build_statement(*, circuit_digest: str, theta_commitment: bytes, weight_commitment: bytes, d: int, limit: int,
                    weight_bits: int, layers: list[dict], pi: list[dict], saturated: int) -> dict:
    """`layers`: per layer {"in_scale", "w_scale", "b_scale", "out_scale"} as floats (float32 values)."""
    return {"type": STATEMENT_TYPE, "protocol_version": PROTOCOL_VERSION, "circuit_digest": circuit_digest,
            "theta_commitment": theta_commitment.hex(), "weight_commitment": weight_commitment.hex(),
            "theta": {"num_params": int(d), "limit": int(limit), "weight_bits": int(weight_bits)},
            "quant": {"rounding": ROUNDING, "weight_clamp": [-127, 127],
                      "layers": [{k: f32_bits(v[k]) for k in SCALES} for v in layers]},
            "pi": pi, "saturated": int(saturated), "zero_knowledge": True}


@dataclass(frozen=True)
class LinkProof:
    statement: dict
    advice_commitment: bytes
    stream: bytes
    opening: bytes

    def to_bytes(self) -> bytes:
        parts = [canonical_json(self.statement), self.advice_commitment, self.stream, self.opening]
        return MAGIC + bytes([BODY_VERSION]) + b"".join(struct.pack("<I", len(p)) + p for p in parts)

    @classmethod
    def from_bytes(cls, body: bytes) -> "LinkProof":
        body = bytes(body)
        head = len(MAGIC) + 1
        if body[: len(MAGIC)] != MAGIC or len(body) < head:
            raise MalformedProof("not a link proof body (bad magic)", where=WHERE, expected=MAGIC, got=body[:4])
        if body[len(MAGIC)] != BODY_VERSION:
            raise MalformedProof("unsupported link proof body version", where=WHERE, expected=BODY_VERSION,
                                 got=body[len(MAGIC)])
        parts, off = [], head
        for i in range(4):
            if off + 4 > len(body):
                raise MalformedProof("link proof truncated", where=WHERE, expected=off + 4, got=len(body))
            (n,) = struct.unpack_from("<I", body, off)
            off += 4
            if off + n > len(body):
                raise MalformedProof("link proof truncated", where=WHERE, expected=off + n, got=len(body))
            parts.append(body[off: off + n])
            off += n
        if off != len(body):
            raise MalformedProof("link proof has trailing bytes", where=WHERE, expected=off, got=len(body))
        statement = parse_canonical(parts[0], "link statement")
        if not isinstance(statement, dict):
            raise MalformedProof("link statement must be a JSON object", where=WHERE)
        return cls(statement, parts[1], parts[2], parts[3])
