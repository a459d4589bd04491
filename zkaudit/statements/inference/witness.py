"""The inference prover's witness: every value the vendor supplies.

An inference proof is a function of the witness only: the weights (which
the vendor commits), the inputs, every intermediate tensor and every advice
value (outputs of non-linear ops, remainders, limbs, selectors,
multiplicities), each as its whole padded table. `build` computes the
honest witness from the integer executor (padding zero everywhere);
`prove_witness` (in `prover.py`) proves whatever witness it is given.

Keeping the two apart is what lets the malicious-prover harness
(`tests/adversarial`) do what a dishonest vendor can: take the honest
witness, change any single value -- a padding cell of a weight or of an
advice tensor, a selector bit, a limb, a remainder, a multiplicity -- and
run the unmodified prover on it. `padded` holds such explicit tables; the
honest prover never sets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zkaudit.circuit.graph import Circuit
from zkaudit.field import vec
from zkaudit.layers.dispatch_prover import advice_for, check_supported
from zkaudit.layers.tensor import embed, padded_shape
from zkaudit.statements.inference import committed_range, committed_range_prover
from zkaudit.statements.inference.batch import stack


@dataclass
class Witness:
    registered: Circuit  # the registered circuit (its digest goes in the proof)
    circuit: Circuit  # widened to the batch
    batch: int
    commit_input: bool
    env: dict[str, np.ndarray]  # integer values of every tensor, real shapes
    advice: dict[str, np.ndarray]  # integer values of every advice tensor, real shapes
    padded: dict[str, np.ndarray] = field(default_factory=dict)  # explicit padded tables (int64), if any

    def table(self, name: str) -> np.ndarray:
        """The tensor's padded table as signed int64 (flat, `tensor.embed` layout)."""
        if name in self.padded:
            return self.padded[name]
        return vec.to_signed(embed(self.value(name)))

    def value(self, name: str) -> np.ndarray:
        """The honest-layout value (real shape) of a tensor not given as a padded table."""
        return self.advice[name] if name in self.advice else self.env[name]

    def real(self, name: str) -> np.ndarray:
        """The tensor's real cells (its declared shape) as int64."""
        if name not in self.padded:
            return np.asarray(self.value(name), dtype=np.int64)
        shape = self.shape(name)
        return self.padded[name].reshape(padded_shape(shape))[tuple(slice(0, d) for d in shape)].copy()

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(np.shape(self.value(name)))

    @property
    def ranges(self) -> committed_range.RangePlan:
        return committed_range.plan(self.circuit, committed_inputs=self.commit_input)

    def refresh_range_advice(self) -> None:
        """Recompute the committed tensors' range-check advice (limbs,
        multiplicities) from the committed tables as they are now."""
        self.advice.update(committed_range_prover.advice(self.ranges, self.table))


def build(circuit: Circuit, weights, inputs, *, commit_input: bool = False) -> Witness:
    """The honest witness for one input (a dict name -> array) or a batch (a list)."""
    samples = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    registered = circuit
    circuit, stacked = stack(registered, samples)
    check_supported(circuit.nodes)
    env = circuit.execute(weights, stacked, return_all=True)
    env.update({s.name: np.asarray(weights[s.name], dtype=np.int64) for s in circuit.weights})
    advice = advice_for(circuit.nodes, circuit.specs(), env)
    w = Witness(registered, circuit, len(samples), commit_input, env, advice)
    w.refresh_range_advice()
    return w
