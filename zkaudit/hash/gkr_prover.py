"""Data-parallel Poseidon2 GKR, prover side (`gkr.py` states the protocol)."""

from __future__ import annotations

import numpy as np

from zkaudit.field.constants import P
from zkaudit.hash import kernels
from zkaudit.hash.constants import WIDTH
from zkaudit.hash.gkr import M_E, NUM_ROUNDS, ROUNDS, LaneClaim, next_claim, round_spec, through_matrix
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover

U64 = np.uint64


def trace(states: np.ndarray) -> np.ndarray:
    """(31, 8, B) lane-major layers V_0 .. V_30 of B canonical (B, 8) states."""
    x = np.ascontiguousarray(states, dtype=U64)
    out = np.empty((NUM_ROUNDS + 1, WIDTH, x.shape[0]), dtype=U64)
    kernels.trace_rows(x, out, kernels.RC_EXTERNAL, kernels.RC_INTERNAL)
    return out


def _plus(column: np.ndarray, c: int) -> np.ndarray:
    """column + c mod p (canonical in, canonical out)."""
    if c == 0:
        return column
    c = U64(c)
    s = column + c  # wraps mod 2^64 when it overflows
    wrapped = s < column
    s = np.where(wrapped, s + U64((1 << 32) - 1), s)  # 2^64 = 2^32 - 1 mod p
    return np.where(s >= U64(P), s - U64(P), s)


def prove(layers: np.ndarray, claim: LaneClaim, transcript):
    """From a claim on the output layer V_30 to one on the input states X.
    Returns (the 30 sum-check proofs, output first, and the claim on X:
    sum_k mu_k X~(z, k) = value)."""
    proofs = []
    for r in range(NUM_ROUNDS - 1, -1, -1):
        rnd = ROUNDS[r]
        m = through_matrix(claim.gamma, rnd.matrix)
        tables = [eq_table(list(claim.point))] + [_plus(layers[r, k], rnd.constants[k]) for k in range(WIDTH)]
        sc, reduced, _ = sumcheck_prover.prove(tables, round_spec(rnd, m), transcript, claimed_sum=claim.value,
                                               public=(0,))
        proofs.append(sc)
        claim = next_claim(reduced.values[1:], rnd, reduced.point, transcript)
    return proofs, LaneClaim(claim.point, tuple(through_matrix(claim.gamma, M_E)), claim.value)
