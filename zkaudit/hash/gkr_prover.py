"""Data-parallel Poseidon2 GKR, prover side (`gkr.py` states the protocol)."""

from __future__ import annotations

import numpy as np

from zkaudit.field.constants import P
from zkaudit.field.constants import P as _P
from zkaudit.hash import kernels
from zkaudit.hash.constants import WIDTH
from zkaudit.hash.gkr import M_E, NUM_ROUNDS, ROUNDS, LaneClaim, next_claim, round_spec, through_matrix
from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.prover import _Run

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


class RoundRun(_Run):
    """One round's sum-check on `gkr_kernels` (eq(z, .) never built: g(t) =
    l(t) s(t)), as a round source for the plain and the zero-knowledge
    sum-check drivers. Tables, in the spec's order: eq, then the 8 lanes."""

    def __init__(self, z, lanes: np.ndarray, m, full: bool, spec):
        super().__init__(None, spec)
        self.z, self.full = list(z), full
        self.m = np.array([[v.c0, v.c1] for v in m], dtype=U64)
        self.lanes = lanes
        self.prefix, self.j = Fp2(1), 0

    def _evals(self):
        from zkaudit.hash.gkr_kernels import round_evals

        zj = self.z[self.j]
        rest = self.z[self.j + 1:]
        eqs = eq_table(rest) if rest else np.array([[1, 0]], dtype=U64)
        s = round_evals(self.lanes, eqs, self.m, self.full)
        # g(t) = l(t) s(t), l(t) = prefix (z_j t + (1 - z_j)(1 - t)) = l0 + t (l1 - l0), on int pairs
        l0 = self.prefix * (Fp2(1) - zj)
        dl = self.prefix * zj - l0
        out = []
        for t in range(s.shape[0]):
            if t == 1:
                out.append(None)  # g(1) = claim - g(0): the drivers fill it in
                continue
            a0, a1 = (l0.c0 + t * dl.c0) % _P, (l0.c1 + t * dl.c1) % _P
            b0, b1 = int(s[t, 0]), int(s[t, 1])
            out.append(Fp2((a0 * b0 + 7 * a1 * b1) % _P, (a0 * b1 + a1 * b0) % _P))
        return out

    def first_round(self):
        return self._evals()

    def fold_and_next(self, r: Fp2, last: bool):
        from zkaudit.sumcheck import kernels as sk

        zj, one = self.z[self.j], Fp2(1)
        self.prefix = self.prefix * (zj * r + (one - zj) * (one - r))
        out = np.empty((WIDTH, self.lanes.shape[1] // 2, 2), dtype=U64)
        # through the dispatchers: a small proof's folds stay on numpy and never start numba
        (sk.fold_stack_base if self.lanes.ndim == 2 else sk.fold_stack_ext)(self.lanes, U64(r.c0), U64(r.c1), out)
        self.lanes = out
        self.j += 1
        return None if last else self._evals()

    def _lane(self, k: int, i: int) -> Fp2:
        v = self.lanes[k, i]
        return Fp2(int(v)) if self.lanes.ndim == 2 else Fp2(int(v[0]), int(v[1]))

    def pairs(self):
        zj, one = self.z[self.j], Fp2(1)
        return [(self.prefix * (one - zj), self.prefix * zj)] + [(self._lane(k, 0), self._lane(k, 1))
                                                                  for k in range(WIDTH)]

    def finals(self):
        return (self.prefix,) + tuple(self._lane(k, 0) for k in range(WIDTH))


def _round(tables_or_lanes, rnd, m, claim, transcript, fast: bool):
    spec = round_spec(rnd, m)
    lanes = tables_or_lanes
    if not fast:
        tables = [eq_table(list(claim.point))] + [lanes[k] for k in range(WIDTH)]
        return sumcheck_prover.prove(tables, spec, transcript, claimed_sum=claim.value, public=(0,))
    run = RoundRun(claim.point, lanes, m, rnd.full, spec)
    zk = getattr(transcript, "zk", None)
    if zk is None:
        return run.prove(transcript, len(claim.point), claim.value)
    from zkaudit.sumcheck import zk_prover

    tables = [eq_table(list(claim.point))] + [lanes[k] for k in range(WIDTH)] if not claim.point else None
    return zk_prover.prove(tables, spec, transcript, zk, claim.value, len(claim.point), (0,), {}, run=run)


def prove(layers: np.ndarray, claim: LaneClaim, transcript, *, fast: bool = True):
    """From a claim on the output layer V_30 to one on the input states X.
    Returns (the 30 sum-check proofs, output first, and the claim on X:
    sum_k mu_k X~(z, k) = value). `fast=False` runs the generic sum-check
    prover on the same tables (the reference the kernels are tested against)."""
    proofs = []
    for r in range(NUM_ROUNDS - 1, -1, -1):
        rnd = ROUNDS[r]
        m = through_matrix(claim.gamma, rnd.matrix)
        lanes = np.stack([_plus(layers[r, k], rnd.constants[k]) for k in range(WIDTH)])
        sc, reduced, _ = _round(lanes, rnd, m, claim, transcript, fast and len(claim.point) > 0)
        proofs.append(sc)
        claim = next_claim(reduced.values[1:], rnd, reduced.point, transcript)
    return proofs, LaneClaim(claim.point, tuple(through_matrix(claim.gamma, M_E)), claim.value)
