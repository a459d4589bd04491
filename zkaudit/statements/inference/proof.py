"""The inference proof body (inside the `inference` envelope, format 4):

    u16 protocol version          (PROTOCOL_VERSION; another is refused, naming it)
    u32 batch size n              (the circuit is widened to n samples, `batch.py`)
    32 bytes circuit digest       (of the registered circuit)
    32 bytes weight-commitment digest (sha256 of the published commitment)
    u8 input mode                 0: inputs public, 1: inputs committed (plain proofs)
                                  2: inputs public, 3: inputs committed (zero-knowledge, `zk.py`)
    modes 0, 2: for each circuit input: size(shape) * i64   public values
    modes 1, 3: u32 len | input commitment
    for each circuit output: size(shape) * i64          public values
    u32 len | advice commitment   (empty: no advice)
    u32 len | layer proofs        (walk order, see `layers.stream`)
    u32 len | weight opening      (empty: no claim on weights)
    u32 len | advice opening      (empty: no advice)
    modes 1, 3: u32 len | input opening
    modes 2, 3: u32 count | count * Fp2   the weights' evaluations (`zk.py` item 4)

The protocol version and the two digests are bound by the transcript
anyway; they are in the body so that a proof of an older protocol, or one
checked against the wrong model, is rejected with that reason before
anything else is parsed. Sizes of the public values come
from the circuit, so the parser needs it. Parsing is strict: every section
exact, no trailing bytes, every public value inside its tensor's declared
range.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np

from zkaudit.circuit.graph import Circuit
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field.scalar import exts_from_bytes
from zkaudit.layers.tensor import num_vars
from zkaudit.pcs import Commitment
from zkaudit.statements.common.statement import other_protocol
from zkaudit.statements.inference.batch import MAX_BATCH, BatchUnsupported, widen

STATEMENT = "inference"
PROTOCOL = "zkaudit/inference"
PROTOCOL_VERSION = 11  # 3: padding proven zero, two-sided committed ranges, ArgMax index masked; 4: zero-knowledge;
# 5: the constraint systems' range lookups batched into one argument (`layers.lookup_batch`)
# 6: the hiding openings batch their claims one pair per row point (`pcs.hiding.row_groups`)
# 7: the committed tensors' range lookup joins that batch (`committed_range.register`)
# 8: a hashed-weights link's partial rounds as one block, their S-box inputs committed (`hash.gkr_block`),
#    its tensor sum-checks batched, one per tensor size
# 9: a small hidden weight tensor's link sum joins its claims' combination (`zk.worth_merging`)
# 10: the weight tensors' claim combinations batched, one sum-check per tensor size (`zk.size_groups`);
#     GatherRows' and PointerWalk's LogUp trees proven in lock step (`lookup.committed_table`, version 3)
# 11: a one-entry advice table's claims after its first become deferred equalities with it (`zk.discharge`)
PUBLIC_INPUT, COMMITTED_INPUT = 0, 1
ZK_MODE = 2  # added to the input mode of a zero-knowledge proof
_DIGEST = 32


class WrongModel(ProofRejected):
    """The proof names another circuit or another weight commitment than
    the one it is checked against."""


def commitment_digest(commitment: bytes) -> bytes:
    return hashlib.sha256(commitment).digest()


@dataclass(frozen=True)
class InferenceBody:
    inputs: dict[str, np.ndarray] | None  # int64, in the circuit's shapes; None when committed
    outputs: dict[str, np.ndarray]
    advice_commitment: bytes
    layers: bytes
    weight_opening: bytes
    advice_opening: bytes
    batch: int = 1
    circuit_digest: bytes = b""  # filled by the prover; checked by `from_bytes`
    weights_digest: bytes = b""
    input_commitment: bytes | None = None  # set exactly when inputs is None
    input_opening: bytes = b""
    zero_knowledge: bool = False
    weight_values: tuple = ()  # Fp2 evaluations of the weights (zero-knowledge proofs)

    @property
    def committed_input(self) -> bool:
        return self.input_commitment is not None

    @property
    def mode(self) -> int:
        return (COMMITTED_INPUT if self.committed_input else PUBLIC_INPUT) + (ZK_MODE if self.zero_knowledge else 0)

    def to_bytes(self, circuit: Circuit) -> bytes:
        if (self.inputs is None) == (self.input_commitment is None):
            raise ValueError("a body has either public inputs or an input commitment")
        wide = widen(circuit, self.batch)
        parts = [struct.pack("<HI", PROTOCOL_VERSION, self.batch), self.circuit_digest, self.weights_digest,
                 bytes([self.mode])]
        if self.committed_input:
            parts.append(struct.pack("<I", len(self.input_commitment)) + self.input_commitment)
        else:
            for spec in wide.inputs:
                parts.append(np.ascontiguousarray(self.inputs[spec.name], dtype="<i8").tobytes())
        for spec in wide.outputs:
            parts.append(np.ascontiguousarray(self.outputs[spec.name], dtype="<i8").tobytes())
        blobs = [self.advice_commitment, self.layers, self.weight_opening, self.advice_opening]
        if self.committed_input:
            blobs.append(self.input_opening)
        for blob in blobs:
            parts.append(struct.pack("<I", len(blob)) + blob)
        if self.zero_knowledge:
            parts.append(struct.pack("<I", len(self.weight_values)))
            parts += [v.to_bytes() for v in self.weight_values]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes, circuit: Circuit, weight_commitment: bytes | None = None) -> InferenceBody:
        """`circuit` is the registered (batch-1) circuit; the body says n.
        With `weight_commitment`, a proof for other weights is refused here."""
        reader = _Reader(data)
        (protocol,) = struct.unpack("<H", reader.take(2, "protocol version", "inference.protocol"))
        if protocol != PROTOCOL_VERSION:
            # the statement binds the version in the transcript too: a proof of another protocol
            # would fail at its first differing check, with a reason that reads like a forgery's
            raise other_protocol("inference", protocol, PROTOCOL_VERSION, where="inference.protocol")
        batch = reader.u32("batch size", "inference.batch")
        if not 1 <= batch <= MAX_BATCH:
            raise MalformedProof("batch size out of range", where="inference.batch", expected=f"1..{MAX_BATCH}",
                                 got=batch)
        circuit_digest = reader.take(_DIGEST, "circuit digest", "inference.model")
        weights_digest = reader.take(_DIGEST, "weight-commitment digest", "inference.model")
        ours = bytes.fromhex(circuit.digest())
        if circuit_digest != ours:
            raise WrongModel("proof was made for a different model: its circuit digest is "
                             f"{circuit_digest.hex()[:16]}..., the circuit given is {ours.hex()[:16]}... "
                             "(check it against the model it was made for)", where="inference.model")
        if weight_commitment is not None and weights_digest != commitment_digest(weight_commitment):
            raise WrongModel("proof was made for a different weight commitment of this circuit (other weights "
                             "or another version of the model; check it against the version it was made for)",
                             where="inference.model")
        (mode,) = reader.take(1, "input mode", "inference.mode")
        if mode not in (0, 1, 2, 3):
            raise MalformedProof("unknown input mode", where="inference.mode", expected=(0, 1, 2, 3), got=mode)
        zero_knowledge = mode >= ZK_MODE
        mode -= ZK_MODE if zero_knowledge else 0
        # The batch size drives every later size (public values, the widened
        # circuit, the verifier's tables): it must be paid for by the bytes
        # present before the circuit is widened.
        per_sample = 8 * sum(s.size for s in circuit.outputs)
        if mode == PUBLIC_INPUT:
            per_sample += 8 * sum(s.size for s in circuit.inputs)
        sections = 4 * (6 if mode == COMMITTED_INPUT else 4) + 4 * zero_knowledge  # u32 lengths that must follow
        if batch * per_sample + sections > reader.left:
            raise MalformedProof("batch size larger than the public values the proof holds", where="inference.batch",
                                 expected=f"<= {(reader.left - sections) // max(per_sample, 1)}", got=batch)
        try:
            wide = widen(circuit, batch)
        except BatchUnsupported as exc:
            raise MalformedProof(f"batch of {batch} claimed for a circuit that cannot be batched: {exc}",
                                 where="inference.batch") from None
        inputs, input_commitment = None, None
        if mode == COMMITTED_INPUT:
            input_commitment = reader.blob("input commitment")
            if not input_commitment:
                raise MalformedProof("empty input commitment", where="inference.input")
            # One table per input, of the widened input's size: any other
            # shape is not a commitment to this circuit's input.
            tables = Commitment.from_bytes(input_commitment).num_vars
            expected = tuple(num_vars(s.shape) for s in wide.inputs)
            if zero_knowledge:
                tables = tables[:-1]  # its last table is the input's bank (`zk.py`)
            if tables != expected:
                raise MalformedProof("input commitment's tables do not fit the circuit's inputs",
                                     where="inference.input", expected=expected, got=tables)
        else:
            inputs = {s.name: reader.values(s, "input") for s in wide.inputs}
        outputs = {s.name: reader.values(s, "output") for s in wide.outputs}
        blobs = [reader.blob(what) for what in ("advice commitment", "layer proofs", "weight opening",
                                                "advice opening")]
        input_opening = reader.blob("input opening") if mode == COMMITTED_INPUT else b""
        weight_values: tuple = ()
        if zero_knowledge:
            count = reader.u32("number of weight evaluations", "inference.weights")
            if 16 * count > reader.left:
                raise MalformedProof("more weight evaluations than bytes", where="inference.weights",
                                     expected=reader.left // 16, got=count)
            weight_values = tuple(exts_from_bytes(reader.take(16 * count, "weight evaluations",
                                                              "inference.weights"), 0, count))
        reader.finish()
        return cls(inputs, outputs, *blobs, batch=batch, circuit_digest=circuit_digest,
                   weights_digest=weights_digest, input_commitment=input_commitment, input_opening=input_opening,
                   zero_knowledge=zero_knowledge, weight_values=weight_values)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.offset = data, 0

    @property
    def left(self) -> int:
        return len(self.data) - self.offset

    def take(self, n: int, what: str, where: str) -> bytes:
        end = self.offset + n
        if end > len(self.data):
            raise MalformedProof(f"proof truncated in the {what}", where=where, expected=end, got=len(self.data))
        out = bytes(self.data[self.offset : end])
        self.offset = end
        return out

    def u32(self, what: str, where: str) -> int:
        return struct.unpack("<I", self.take(4, what, where))[0]

    def blob(self, what: str) -> bytes:
        n = self.u32(f"length of the {what}", "inference.sections")
        return self.take(n, what, "inference.sections")

    def values(self, spec, kind: str) -> np.ndarray:
        raw = self.take(8 * spec.size, f"public {kind} {spec.name!r}", "inference.public")
        arr = np.frombuffer(raw, dtype="<i8").astype(np.int64).reshape(spec.shape)
        if arr.size and (int(arr.min()) < spec.lo or int(arr.max()) > spec.hi):
            raise MalformedProof(f"public {kind} {spec.name!r} lies outside its declared range",
                                 where="inference.public", expected=(spec.lo, spec.hi),
                                 got=(int(arr.min()), int(arr.max())))
        return arr

    def finish(self) -> None:
        if self.offset != len(self.data):
            raise MalformedProof("proof has trailing bytes", where="inference", expected=self.offset,
                                 got=len(self.data))
