"""The model's weight commitment: every weight tensor embedded as its own
table (`layers.tensor.embed`, in the circuit's weight order) and committed
together in one tensor-code commitment (one Merkle root). This is what
`zkaudit compile` writes to `public/weights.commitment` and what the
registry publishes; it is computed once per model and opened in every proof."""

from __future__ import annotations

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


def zk_params() -> PcsParams:
    """The hiding commitment of a zero-knowledge proof's advice and bank (and
    a committed input): same soundness target, padded and blinded rows."""
    return PcsParams.for_security(PCS_BITS, hiding=True)


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


def commit_inputs(circuit: Circuit, samples):
    """(commitment, prover data) of the inputs of one sample or a batch: every
    input tensor (the batch stacked along axis 0) embedded as its own table,
    in the circuit's input order. It is deterministic, so whoever holds the
    data (a hospital, an auditor) can recompute it; it is binding, NOT
    hiding: until zero knowledge lands, a commitment to low-entropy data can
    be matched by guessing, and openings reveal evaluations of it."""
    from zkaudit.pcs import commit
    from zkaudit.statements.inference.batch import stack

    wide, inputs = stack(circuit, samples)
    return commit(input_tables(wide, inputs), params())


def input_commitment(circuit: Circuit, samples) -> bytes:
    """The bytes `zkaudit commit-input` writes and `verify --input-commitment` compares."""
    return commit_inputs(circuit, samples)[0].to_bytes()
