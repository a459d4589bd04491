"""Data-parallel Poseidon2 GKR, prover side (`gkr.py` states the protocol).

Each round's sum-check runs on `gkr_kernels` with eq(z, .) split off
(`RoundRun`); a partial round, once numba is started and its tables are
big enough, runs on lane 0 and one combined line table instead of the
eight lanes (`PartialRun`, the same messages). In a zero-knowledge run
with numba started, every layer instead runs `gkr_zk_run.FusedRun` (one
numba call a round), which the weight link always is. `prove(..., fast=False)`
runs the generic sum-check prover on the same tables: the reference both
are tested against byte for byte (tests/hash/test_gkr*.py)."""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.constants import P
from zkaudit.field.constants import P as _P
from zkaudit.hash import gkr_zk_run, kernels
from zkaudit.hash.constants import WIDTH
from zkaudit.hash.gkr import M_E, NUM_ROUNDS, ROUNDS, LaneClaim, next_claim, round_spec, through_matrix
from zkaudit.field.scalar import Fp2, _fp2
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.prover import _Run

U64 = np.uint64
# Lane entries from which a partial round takes `PartialRun` (numba started).
# Measured, whole GKR at 2^10 entries: 88 vs 90 ms, 2^11: 118 vs 124 ms;
# smaller proofs are Python-bound and mostly on numpy paths anyway.
PARTIAL_RUN_FROM = 1 << 10


def trace(states: np.ndarray) -> np.ndarray:
    """(31, 8, B) lane-major layers V_0 .. V_30 of B canonical (B, 8) states."""
    x = np.ascontiguousarray(states, dtype=U64)
    out = np.empty((NUM_ROUNDS + 1, WIDTH, x.shape[0]), dtype=U64)
    kernels.trace_rows(x, out, kernels.RC_EXTERNAL, kernels.RC_INTERNAL)
    return out


def trace_into(states: np.ndarray, layers: np.ndarray, offset: int) -> None:
    """`trace` of B' states into columns offset .. offset + B' of (31, 8, B) layers."""
    x = np.ascontiguousarray(states, dtype=U64)
    kernels.trace_rows(x, layers, kernels.RC_EXTERNAL, kernels.RC_INTERNAL, offset)


def _plus(column: np.ndarray, c) -> np.ndarray:
    """column + c mod p (canonical in, canonical out); c an int or an array
    that broadcasts (one constant per lane: (8, 1))."""
    if isinstance(c, int) and c == 0:
        return column
    c = U64(c) if isinstance(c, int) else c
    s = column + c  # wraps mod 2^64 when it overflows
    wrapped = s < column
    s = np.where(wrapped, s + U64((1 << 32) - 1), s)  # 2^64 = 2^32 - 1 mod p
    return np.where(s >= U64(P), s - U64(P), s)


def _suffix_eq(z) -> np.ndarray:
    """eq(z_1.., .): round 0's eq table (z_0 is the round's own variable)."""
    return eq_table(z[1:]) if len(z) > 1 else np.array([[1, 0]], dtype=U64)


def _times_line(prefix: Fp2, zj: Fp2, s: np.ndarray) -> list:
    """g(t) = l(t) s(t), l(t) = prefix (z_j t + (1 - z_j)(1 - t)) = l0 + t (l1 - l0),
    on int pairs (one reduction per coordinate, the trusted constructor:
    360 rounds a proof); g(1) left None (the drivers fill in claim - g(0))."""
    l0 = prefix * (Fp2(1) - zj)
    dl = prefix * zj - l0
    a0, a1, d0, d1 = l0.c0, l0.c1, dl.c0, dl.c1
    out = []
    for t, (b0, b1) in enumerate(s.tolist()):
        if t == 1:
            out.append(None)
            continue
        x0, x1 = a0 + t * d0, a1 + t * d1
        out.append(_fp2((x0 * b0 + 7 * x1 * b1) % _P, (x0 * b1 + x1 * b0) % _P))
    return out


class RoundRun(_Run):
    """One round's sum-check on `gkr_kernels` (eq(z, .) never built: g(t) =
    l(t) s(t)), as a round source for the plain and the zero-knowledge
    sum-check drivers. Tables, in the spec's order: eq, then the 8 lanes.
    eq(z_>j, .) is kept from round to round: binding z_j sums its halves
    (eq(z_j, 0) + eq(z_j, 1) = 1), one addition per entry where rebuilding
    took a product."""

    def __init__(self, z, lanes: np.ndarray, m, full: bool, spec):
        super().__init__(None, spec)
        self.z, self.full = list(z), full
        self.m = np.array([[v.c0, v.c1] for v in m], dtype=U64)
        self.lanes = lanes
        self.prefix, self.j = Fp2(1), 0
        self.eqs = _suffix_eq(self.z)

    def _sums(self) -> np.ndarray:
        from zkaudit.hash.gkr_kernels import round_evals

        return round_evals(self.lanes, self.eqs, self.m, self.full)

    def _evals(self):
        return _times_line(self.prefix, self.z[self.j], self._sums())

    def first_round(self):
        return self._evals()

    def _bind(self, r: Fp2) -> None:
        """The prefix and eq(z_>j, .) past z_j = r."""
        # prefix * eq(z_j, r), eq(z_j, r) = z_j r + (1 - z_j)(1 - r) = 1 - z_j - r + 2 z_j r, on ints
        z0, z1, r0, r1 = self.z[self.j].c0, self.z[self.j].c1, r.c0, r.c1
        e0 = (1 - z0 - r0 + 2 * (z0 * r0 + 7 * z1 * r1)) % _P
        e1 = (2 * (z0 * r1 + z1 * r0) - z1 - r1) % _P
        p0, p1 = self.prefix.c0, self.prefix.c1
        self.prefix = _fp2((p0 * e0 + 7 * p1 * e1) % _P, (p0 * e1 + p1 * e0) % _P)
        h = self.eqs.shape[0] // 2
        if h:
            self.eqs = nf.add(self.eqs[:h], self.eqs[h:])
        self.j += 1

    def fold_and_next(self, r: Fp2, last: bool):
        from zkaudit.sumcheck import kernels as sk

        self._bind(r)
        out = np.empty((WIDTH, self.lanes.shape[1] // 2, 2), dtype=U64)
        # through the dispatchers: a small proof's folds stay on numpy and never start numba
        (sk.fold_stack_base if self.lanes.ndim == 2 else sk.fold_stack_ext)(self.lanes, U64(r.c0), U64(r.c1), out)
        self.lanes = out
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


def _entry(table: np.ndarray, i: int) -> Fp2:
    v = table[i]
    return Fp2(int(v)) if table.ndim == 1 else Fp2(int(v[0]), int(v[1]))


class PartialRun(RoundRun):
    """`RoundRun` of a partial round on two tables: lane 0 (N,) and the line
    L = sum_{k>=1} m_k A_k (N, 2) (`gkr_kernels.partial_round_evals`); the
    lanes 1..7 (no constants in a partial round: A_k = V_k) are only read
    again for the values the end of the run reveals, at the bound point
    (`gkr_kernels.lanes_at`). The same round messages and final values as
    `RoundRun` (tested byte for byte)."""

    def __init__(self, z, layer: np.ndarray, c0: int, m, spec):
        from zkaudit.hash import gkr_kernels as gk

        _Run.__init__(self, None, spec)
        self.z, self.full = list(z), False
        self.m = np.array([[v.c0, v.c1] for v in m], dtype=U64)
        self.a0 = _plus(layer[0], c0)
        self.rest = layer[1:]
        self.lin = gk.line_table(self.rest, self.m)
        self.prefix, self.j, self.point = Fp2(1), 0, []
        self.eqs = _suffix_eq(self.z)

    def _sums(self) -> np.ndarray:
        from zkaudit.hash.gkr_kernels import partial_round_evals

        return partial_round_evals(self.a0, self.lin, self.eqs, self.m)

    def fold_and_next(self, r: Fp2, last: bool):
        from zkaudit.sumcheck import kernels as sk

        self._bind(r)
        self.point.append(r)
        r0, r1 = U64(r.c0), U64(r.c1)
        h = self.lin.shape[0] // 2
        out = np.empty((2, h, 2), dtype=U64)
        if self.a0.ndim == 1:  # the first fold: lane 0 still in the base field
            sk.fold_stack_base(self.a0[None], r0, r1, out[:1])
            sk.fold_stack_ext(self.lin[None], r0, r1, out[1:])
        else:  # a0 and lin are the two rows of one stack since the first fold
            sk.fold_stack_ext(self.stack, r0, r1, out)
        self.stack = out
        self.a0, self.lin = out[0], out[1]
        return None if last else self._evals()

    def _rest(self) -> np.ndarray:
        """Lanes 1..7 with the bound variables at the point so far: (7, N / 2^j[, 2])."""
        from zkaudit.hash.gkr_kernels import lanes_at

        return self.rest if not self.point else lanes_at(self.rest, eq_table(self.point))

    def pairs(self):
        zj, one = self.z[self.j], Fp2(1)
        rest = self._rest()
        return ([(self.prefix * (one - zj), self.prefix * zj), (_entry(self.a0, 0), _entry(self.a0, 1))]
                + [(_entry(rest[k], 0), _entry(rest[k], 1)) for k in range(WIDTH - 1)])

    def finals(self):
        rest = self._rest()
        return (self.prefix, _entry(self.a0, 0)) + tuple(_entry(rest[k], 0) for k in range(WIDTH - 1))


def partial_run_applies(num_entries: int) -> bool:
    """A partial round of this many entries per lane takes `PartialRun`
    (kernels only: a small proof's partial rounds stay on `RoundRun`, whose
    rounds have numpy paths)."""
    return num_entries >= PARTIAL_RUN_FROM and jit.warm()


def _drive(run, spec, claim, transcript):
    zk = getattr(transcript, "zk", None)
    if zk is None:
        return run.prove(transcript, len(claim.point), claim.value)
    from zkaudit.sumcheck import zk_prover

    return zk_prover.prove(None, spec, transcript, zk, claim.value, len(claim.point), (0,), {}, run=run)


def _round(layer: np.ndarray, rnd, m, claim, transcript, fast: bool):
    """One round's sum-check from layer V_r (8, B) to a claim on A_r at z'."""
    spec = round_spec(rnd, m)
    if fast and getattr(transcript, "zk", None) is not None and gkr_zk_run.applies(layer.shape[1]):
        return _drive(gkr_zk_run.FusedRun(claim.point, layer, m, rnd), spec, claim, transcript)
    if fast and not rnd.full and partial_run_applies(layer.shape[1]):
        return _drive(PartialRun(claim.point, layer, rnd.constants[0], m, spec), spec, claim, transcript)
    # A_r = V_r + c_r, every lane in one pass (a partial round: lane 0 only)
    lanes = _plus(layer, np.array(rnd.constants, dtype=U64)[:, None])
    if not fast:
        tables = [eq_table(list(claim.point))] + [lanes[k] for k in range(WIDTH)]
        return sumcheck_prover.prove(tables, spec, transcript, claimed_sum=claim.value, public=(0,))
    return _drive(RoundRun(claim.point, lanes, m, rnd.full, spec), spec, claim, transcript)


def prove(layers: np.ndarray, claim: LaneClaim, transcript, *, fast: bool = True):
    """From a claim on the output layer V_30 to one on the input states X.
    Returns (the 30 sum-check proofs, output first, and the claim on X:
    sum_k mu_k X~(z, k) = value). `fast=False` runs the generic sum-check
    prover on the same tables (the reference the kernels are tested against)."""
    proofs = []
    for r in range(NUM_ROUNDS - 1, -1, -1):
        claim = _layer(layers, r, claim, transcript, fast, proofs)
    return proofs, LaneClaim(claim.point, tuple(through_matrix(claim.gamma, M_E)), claim.value)


def _layer(layers: np.ndarray, r: int, claim: LaneClaim, transcript, fast: bool, proofs: list) -> LaneClaim:
    """Round r's sum-check (its proof appended): the claim on V_r."""
    rnd = ROUNDS[r]
    m = through_matrix(claim.gamma, rnd.matrix)
    sc, reduced, _ = _round(layers[r], rnd, m, claim, transcript, fast and len(claim.point) > 0)
    proofs.append(sc)
    return next_claim(reduced.values[1:], rnd, reduced.point, transcript)


def prove_blocked(layers: np.ndarray, claim: LaneClaim, transcript, *, fast: bool = True):
    """`prove` with the 22 partial rounds as one block (`gkr_block.py`):
    (the 9 sum-check proofs, output first, the block's in the middle; the
    claim on X; the block's point z' and U_j(z') for j < 22, which the
    caller discharges against its commitment to U = `gkr_block_prover.sbox_inputs`)."""
    from zkaudit.hash import gkr_block as gb
    from zkaudit.hash import gkr_block_prover

    proofs = []
    for r in range(NUM_ROUNDS - 1, gb.AFTER_PARTIAL - 1, -1):
        claim = _layer(layers, r, claim, transcript, fast, proofs)
    sc, claim, point, lanes = gkr_block_prover.prove(layers, claim, transcript, fast)
    proofs.append(sc)
    for r in range(gb.FIRST_PARTIAL - 1, -1, -1):
        claim = _layer(layers, r, claim, transcript, fast, proofs)
    return proofs, LaneClaim(claim.point, tuple(through_matrix(claim.gamma, M_E)), claim.value), point, lanes
