"""Prover of the padding zero-check (protocol in `padding_check.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.padding_check import EQ, IND, PADDING, VALUE
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover


def prove(table: np.ndarray, shape: tuple[int, ...], label: bytes, transcript):
    """(sum-check proof, s, V~(s)) for the advice `table` of a tensor of `shape`."""
    r = transcript.challenge_exts(label, num_vars(shape))
    data = [eq_table(r), embed(np.ones(shape, dtype=np.int64)), table]
    proof, reduced, _ = sumcheck_prover.prove(data, PADDING, transcript, claimed_sum=Fp2(0), public=(EQ, IND),
                                              eq_point=r)
    value = reduced.values[VALUE]
    return proof, tuple(reduced.point), Fp2.from_base(value) if isinstance(value, Fp) else value
