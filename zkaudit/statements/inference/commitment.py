"""The model's weight commitment: every weight tensor embedded as its own
table (`layers.tensor.embed`, in the circuit's weight order) and committed
together in one tensor-code commitment (one Merkle root). This is what
`zkaudit compile` writes to `public/weights.commitment` and what the
registry publishes; it is computed once per model and opened in every proof."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from zkaudit.circuit.graph import Circuit
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.pcs import PcsParams

COMMITMENT_FILE = Path("public") / "weights.commitment"

# A circuit without weights (a lone activation, a reshape, a softmax) has
# nothing to commit to; its published weight commitment is this fixed string.
# Its magic differs from a tensor-code commitment's (b"ZPCC"), so neither
# parses as the other, and the verifier accepts it exactly when the circuit
# declares no weights (and refuses it for one that does): a proof for such a
# circuit opens nothing, and every claim must be discharged by the public
# input, the advice or a committed input instead.
EMPTY_WEIGHT_COMMITMENT = b"ZKAW/no-weights/v1"


class NoWeights:
    """The weight commitment of a circuit without weights (what
    `commit_weights` returns in place of a tensor-code commitment)."""

    num_vars: tuple[int, ...] = ()

    def to_bytes(self) -> bytes:
        return EMPTY_WEIGHT_COMMITMENT


# One inference proof opens up to three commitments (weights, advice, a
# committed input) and runs a few lookups and thousands of low-degree
# challenges; each opening is set 3 bits above the statement's target so
# the union bound over the whole run stays >= 100 bits (the verifier
# computes and reports it: `Transcript.soundness_bits`).
PCS_BITS = 103


def params() -> PcsParams:
    return PcsParams.for_security(PCS_BITS)


@lru_cache(maxsize=1)
def zk_params() -> PcsParams:
    """The hiding commitment of a zero-knowledge proof's advice and bank (and
    a committed input): same soundness target, padded and blinded rows. Its
    claims are all `LinearClaim`s, hidden by the bank's pads, never the
    per-table masked claims: so each table's mask is a single entry.
    Memoized: parameters are immutable."""
    import dataclasses

    return dataclasses.replace(PcsParams.for_security(PCS_BITS, hiding=True), mask_vars=0)


def weight_index(circuit: Circuit) -> dict[str, int]:
    """Weight tensor name -> its polynomial index in the commitment."""
    return {s.name: i for i, s in enumerate(circuit.weights)}


def input_index(circuit: Circuit) -> dict[str, int]:
    """Input tensor name -> its polynomial index in an input commitment."""
    return {s.name: i for i, s in enumerate(circuit.inputs)}


def weight_num_vars(circuit: Circuit) -> list[int]:
    return [num_vars(s.shape) for s in circuit.weights]


def weight_tables(circuit: Circuit, weights) -> list[np.ndarray]:
    return [embed(weights[s.name]) for s in circuit.weights]


def input_tables(wide: Circuit, inputs) -> list[np.ndarray]:
    return [embed(inputs[s.name]) for s in wide.inputs]


INPUT_SEED_DOMAIN = b"zkaudit/inference/input-commitment/v1"
OPENING_BYTES = 32


def input_bank(seed: bytes, num_inputs: int) -> np.ndarray:
    """The input commitment's bank (`zk.py`): one GF(p^2) pad per input
    tensor, as (c0, c1) words, zero-padded to a power of two >= 2 words."""
    from zkaudit.field.randomness import SeededStream

    words = SeededStream(seed, INPUT_SEED_DOMAIN + b"/bank").base(2 * num_inputs)
    size = max(2, 1 << (2 * num_inputs - 1).bit_length())
    out = np.zeros(size, dtype=np.uint64)
    out[: words.shape[0]] = words
    return out


def commit_inputs(circuit: Circuit, samples, opening: bytes | None = None):
    """(commitment, prover data) of the inputs of one sample or a batch: every
    input tensor (the batch stacked along axis 0) embedded as its own table,
    in the circuit's input order.

    With `opening` (a secret 32-byte seed, `field.randomness.new_seed`) it is
    the *hiding* commitment a zero-knowledge proof uses: the tables and a
    small bank of pads (`input_bank`), committed with randomness expanded
    from the seed, so whoever holds the record and the opening can recompute
    it and no one else can test a guess. Without, the plain commitment of
    plain proofs: deterministic and binding but not hiding (a low-entropy
    record can be matched by guessing)."""
    from zkaudit.pcs import commit
    from zkaudit.statements.inference.batch import stack

    wide, inputs = stack(circuit, samples)
    tables = input_tables(wide, inputs)
    if opening is None:
        return commit(tables, params())
    return commit_input_tables(tables, opening)


def commit_input_tables(tables, opening: bytes):
    """The hiding input commitment of embedded input tables (`commit_inputs`)."""
    from zkaudit.field.randomness import SeededStream
    from zkaudit.pcs import commit

    if len(opening) != OPENING_BYTES:
        raise ValueError(f"an input opening is {OPENING_BYTES} bytes, got {len(opening)}")
    return commit(tables + [input_bank(opening, len(tables))], zk_params(),
                  stream=SeededStream(opening, INPUT_SEED_DOMAIN))


def input_commitment(circuit: Circuit, samples, opening: bytes | None = None) -> bytes:
    """The bytes `zkaudit commit-input` writes and `verify --input-commitment`
    compares (the hiding one when `opening` is given)."""
    return commit_inputs(circuit, samples, opening)[0].to_bytes()


# -- the registered, hiding weight commitment (p2gl8-tree-v2) -------------------

SALT_FILE = Path("private") / "weights.salt"


def weight_layouts(circuit: Circuit):
    """The circuit's weight tensors as the Poseidon2 commitment packs them
    (circuit order, each with its declared range)."""
    from zkaudit.hash.commitment import layouts_of

    return layouts_of(circuit.weights)


def hashed_weight_commitment(circuit: Circuit, weights, salt=None):
    """(WeightCommitment, salt): the salted Poseidon2 Merkle root of the
    circuit's weights (`zkaudit.hash.commitment`). Never opened: every
    zero-knowledge proof re-commits the weights and proves they hash to it."""
    from zkaudit.hash.commitment import commit_weights

    layouts = weight_layouts(circuit)
    return commit_weights(layouts, [np.asarray(weights[t.name], dtype=np.int64) for t in layouts], salt)
