"""What a published weight commitment is, in words: the one place that
labels it for `registry show/list`, the HTTP API, the web pages and
`compile`.

The registry stores a version's weight commitment as opaque bytes (signed
and logged by digest); their magic says which scheme made them:

    b"ZKAW/p2gl8-tree-v2\\x00"  salted Poseidon2 Merkle root (`hash.commitment`):
    b"ZKAW/p2gl8-tree-v1\\x00"  never opened, so it hides the weights across
                                unlimited proofs (v1: the first packing)
    b"ZPCC"                     tensor-code commitment (`pcs`): opened in every
                                proof, so each proof leaks a little of the weights
    b"ZKAW/no-weights/v1"       the fixed commitment of a circuit without weights

Anything else (older test fixtures, a future scheme) is shown as
unrecognised, never guessed at.
"""

from __future__ import annotations

from typing import Any

# The magics, as the schemes define them (hash.commitment.MAGIC,
# pcs.proof.COMMITMENT_MAGIC, statements.inference.commitment.EMPTY_WEIGHT_COMMITMENT);
# spelled here so a `registry list` need not import the field kernels, and
# pinned to those constants by tests/registry/test_weight_commitments.py.
HASHED_MAGICS = (b"ZKAW/p2gl8-tree-v2\x00", b"ZKAW/p2gl8-tree-v1\x00")
TENSOR_CODE_MAGIC = b"ZPCC"
NO_WEIGHTS = b"ZKAW/no-weights/v1"

HASHED = "hashed"
TENSOR_CODE = "tensor-code"
NONE = "none"
UNKNOWN = "unknown"

LABELS = {
    HASHED: "Poseidon2 salted Merkle root (hiding: never opened)",
    TENSOR_CODE: "tensor-code (not hiding: opened in every proof)",
    NONE: "none (the model has no weights)",
    UNKNOWN: "unrecognised format (not hiding as far as this registry knows)",
}


def commitment_kind(data: bytes) -> str:
    """HASHED, TENSOR_CODE, NONE or UNKNOWN, from the magic alone."""
    if data.startswith(HASHED_MAGICS):
        return HASHED
    if data == NO_WEIGHTS:
        return NONE
    if data.startswith(TENSOR_CODE_MAGIC):
        return TENSOR_CODE
    return UNKNOWN


def parse_hashed(data: bytes):
    """The `WeightCommitment` in `data`; MalformedWeightCommitment (a
    ProofRejected) if it carries the hashed magic but does not parse."""
    from zkaudit.hash.commitment import WeightCommitment

    return WeightCommitment.from_bytes(data)


def describe_weight_commitment(data: bytes) -> dict[str, Any]:
    """A JSON-ready description of a weight commitment file:

        kind    hashed | tensor-code | none | unknown
        label   the words every view shows (LABELS)
        hiding  True only for a well-formed hashed commitment
        bytes   its size

    and, for a hashed one, the parsed record: scheme, root (hex of the 4
    root elements, little-endian u64 each), n_weights, shape_hash (the
    layout digest, hex). A hashed magic over a body that does not parse is
    `unknown` with the parse error in `problem`."""
    kind = commitment_kind(bytes(data))
    doc: dict[str, Any] = {"kind": kind, "label": LABELS[kind], "hiding": False, "bytes": len(data)}
    if kind == HASHED:
        from zkaudit.errors import ZkauditError

        try:
            record = parse_hashed(bytes(data)).to_record()
        except ZkauditError as exc:
            doc.update(kind=UNKNOWN, label=LABELS[UNKNOWN], problem=str(exc))
            return doc
        doc.update(record, hiding=True, label=f"Poseidon2 {record['scheme']} (hiding: never opened)")
    return doc


def one_line(doc: dict[str, Any]) -> str:
    """`describe_weight_commitment`'s result as one line of text."""
    if doc["kind"] != HASHED:
        return doc["label"]
    return f"{doc['label']}, root {doc['root']}, {doc['n_weights']} weights, shape hash {doc['shape_hash'][:16]}..."


def problems_with(data: bytes, circuit_bin: bytes) -> list[str]:
    """Why a hashed weight commitment cannot belong to this circuit (empty if
    it can): it must parse, and its weight count and layout digest must be
    those of the circuit's weight tensors. The root itself hides the weights,
    so that is all anyone but the vendor can check before a proof."""
    if commitment_kind(data) != HASHED:
        return []
    from zkaudit.errors import ZkauditError
    from zkaudit.hash.commitment import layout_digest, layouts_of

    try:
        wc = parse_hashed(data)
    except ZkauditError as exc:
        return [f"weights.commitment: {exc}"]
    try:
        from zkaudit.circuit.encoding import decode_circuit

        layouts = layouts_of(decode_circuit(circuit_bin).weights)
    except Exception as exc:  # untrusted bytes: any decoding failure is a refusal, never a crash
        return [f"a hashed weight commitment needs a circuit that decodes, and circuit.bin does not: {exc}"]
    problems = []
    n = sum(t.size for t in layouts)
    if wc.n_weights != n:
        problems.append(f"weights.commitment counts {wc.n_weights} weights, the circuit has {n}")
    if layouts and wc.layout_digest != layout_digest(layouts):
        problems.append("weights.commitment's shape hash is not that of the circuit's weight tensors")
    return problems
