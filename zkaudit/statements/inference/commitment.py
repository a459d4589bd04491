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


def params() -> PcsParams:
    return PcsParams.default()


def weight_index(circuit: Circuit) -> dict[str, int]:
    """Weight tensor name -> its polynomial index in the commitment."""
    return {s.name: i for i, s in enumerate(circuit.weights)}


def weight_num_vars(circuit: Circuit) -> list[int]:
    return [num_vars(s.shape) for s in circuit.weights]


def weight_tables(circuit: Circuit, weights) -> list[np.ndarray]:
    return [embed(weights[s.name]) for s in circuit.weights]
