"""Canonical encoding of a circuit and its digest.

    circuit.bin = MAGIC || version (u16 LE) || length (u32 LE) || body

`body` is JSON with sorted keys, no whitespace, ASCII only, integers as JSON
integers and the few real numbers (input/output scales) as `float.hex`
strings, so one circuit has exactly one encoding. The parser rejects bad
magic, unknown versions, wrong lengths, trailing bytes and any body that does
not re-encode to the same bytes. The circuit digest is sha256(circuit.bin):
it covers architecture and quantization spec (ops, attributes, shapes,
ranges, scales, zero points, weight *shapes and ranges*), not weight values.
"""

from __future__ import annotations

import hashlib
import json
import struct

from zkaudit.circuit.errors import MalformedArtifact
from zkaudit.circuit.graph import Circuit, Node, TensorSpec

MAGIC = b"ZKAUDIT-CIRCUIT\x00"
VERSION = 1
_HEADER = struct.Struct("<HI")


def _spec_json(s: TensorSpec) -> dict:
    return {
        "name": s.name, "shape": list(s.shape), "lo": s.lo, "hi": s.hi,
        "scale": None if s.scale is None else float(s.scale).hex(), "zero_point": s.zero_point,
    }


def _node_json(n: Node) -> dict:
    return {
        "name": n.name, "op": n.op, "inputs": list(n.inputs), "output": n.output,
        "attrs": {k: list(v) if isinstance(v, tuple) else v for k, v in n.attrs},
    }


def encode_circuit(c: Circuit) -> bytes:
    body = {
        "name": c.name,
        "inputs": [_spec_json(s) for s in c.inputs],
        "outputs": [_spec_json(s) for s in c.outputs],
        "weights": [_spec_json(s) for s in c.weights],
        "tensors": [_spec_json(s) for s in c.tensors],
        "nodes": [_node_json(n) for n in c.nodes],
    }
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()
    return MAGIC + _HEADER.pack(VERSION, len(raw)) + raw


def circuit_digest(c: Circuit) -> str:
    return hashlib.sha256(encode_circuit(c)).hexdigest()


def _spec(d: dict) -> TensorSpec:
    scale = None if d["scale"] is None else float.fromhex(d["scale"])
    return TensorSpec(d["name"], tuple(d["shape"]), d["lo"], d["hi"], scale, d["zero_point"])


def _node(d: dict) -> Node:
    attrs = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d["attrs"].items()))
    return Node(d["name"], d["op"], tuple(d["inputs"]), d["output"], attrs)


def decode_circuit(data: bytes) -> Circuit:
    """Strict parse of `encode_circuit` output; MalformedArtifact otherwise."""
    if not data.startswith(MAGIC):
        raise MalformedArtifact("not a zkaudit circuit file (bad magic)")
    if len(data) < len(MAGIC) + _HEADER.size:
        raise MalformedArtifact("circuit file truncated in its header")
    version, length = _HEADER.unpack_from(data, len(MAGIC))
    if version != VERSION:
        raise MalformedArtifact(f"circuit format version {version} is not supported (expected {VERSION})")
    start = len(MAGIC) + _HEADER.size
    if len(data) != start + length:
        raise MalformedArtifact(f"circuit body is {len(data) - start} bytes, header says {length}")
    try:
        body = json.loads(data[start:])
        circuit = Circuit(
            name=body["name"],
            inputs=tuple(_spec(s) for s in body["inputs"]),
            outputs=tuple(_spec(s) for s in body["outputs"]),
            weights=tuple(_spec(s) for s in body["weights"]),
            nodes=tuple(_node(n) for n in body["nodes"]),
            tensors=tuple(_spec(s) for s in body["tensors"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedArtifact(f"circuit body does not parse: {exc}") from None
    if encode_circuit(circuit) != data:
        raise MalformedArtifact("circuit encoding is not canonical")
    object.__setattr__(circuit, "_digest", hashlib.sha256(data).hexdigest())  # = circuit.digest(), known now
    return circuit
