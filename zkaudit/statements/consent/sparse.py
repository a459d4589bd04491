"""The consent prover's table-side work, proportional to the records (N)
rather than to the table (2^k): the multiplicities m have at most N non-zero
entries out of 2^k.

* `multiplicities`: m from a binary search of each valid record's ID among
  the table's sorted rows (a consent table's opening is sorted, `data/
  consent_table.py`; an unsorted one takes the general
  `lookup.committed_table_prover.table_multiplicities`, the reference).
* `sparse_evaluate`: m~(r) = sum_j m_j eq(r, j) over m's support.
* `ZeroCheckRun`: the uniqueness zero-check's rounds
  sum_x eq(r, x) (m(x) - m(x)^2) from m's support only: h(v) = v - v^2
  vanishes where m vanishes on both points of a pair, and folding keeps the
  support (the union of the pair's). The round polynomials are the unique
  ones the generic prover sends (the tests compare them round by round with
  `sumcheck.prover`'s generic run); it plugs into the zero-knowledge
  sum-check (`sumcheck.zk_prover`, which adds the masks and pads) and into
  the plain one as a `sumcheck.prover._Run`.
* `layer_prove`: the LogUp's table tree (leaves p = -m, q = alpha - T_j)
  keeps p sparse in every layer (p' = p_L q_R + p_R q_L has the support of
  its children), so each large layer's sum-check does the dense work on
  q_L q_R only and the numerators' part on their support (`SparseLayerRun`,
  a `lookup.gkr.FusedRun`); `committed_table_prover.prove(...,
  layer_prove=)` takes it. Layers that are small or not sparse go to
  `gkr.fused_layer_prove`, the reference.

Nothing here changes what is proven, nor what the proof reveals: the same
proof bytes as the dense path for the same transcript and bank (tests); the
zero-knowledge masks and pads are `sumcheck.zk_prover`'s, untouched.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp2
from zkaudit.lookup import gkr
from zkaudit.lookup.committed_table_prover import RowNotInTable, table_multiplicities
from zkaudit.poly.mle import eq_table
from zkaudit.poly.univariate import evaluate_from_evals
from zkaudit.statements.consent import kernels
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.claim import EvaluationClaim
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_FINAL, LABEL_ROUND, absorb_header

U64 = np.uint64
_ONE = Fp2(1)


def _sorted_rows(hi: np.ndarray, lo: np.ndarray, rows: int) -> bool:
    """(hi, lo) strictly increasing on [0, rows)."""
    if rows < 2:
        return True
    h0, h1, l0, l1 = hi[: rows - 1], hi[1:rows], lo[: rows - 1], lo[1:rows]
    return bool(np.all((h1 > h0) | ((h1 == h0) & (l1 > l0))))


def multiplicities(ids, valid: np.ndarray, tcols, rows: int) -> np.ndarray:
    """m_j = sum of valid_i over records i whose (id_hi, id_lo) is real table
    row j; RowNotInTable names the first valid record no real row holds.
    The same result as `table_multiplicities` (its reference)."""
    hi, lo = tcols
    if not _sorted_rows(hi, lo, rows):
        return table_multiplicities(ids, valid, tcols, rows)
    want = np.flatnonzero(valid != 0)
    pos = np.empty(want.shape[0], dtype=np.int64)
    kernels.lex_search(hi, lo, rows, np.ascontiguousarray(ids[0][want]), np.ascontiguousarray(ids[1][want]), pos)
    missing = np.flatnonzero(pos < 0)
    if missing.size:
        raise RowNotInTable(int(want[missing[0]]))
    m = np.zeros(hi.shape[0], dtype=np.int64)
    np.add.at(m, pos, valid[want].astype(np.int64))
    return m.astype(U64)


def _eq_halves(point: list[Fp2]) -> tuple[np.ndarray, np.ndarray, int]:
    """(eq table of the first half of point, of the second half, its length):
    eq(point, y) = ehi[y >> lo_bits] elo[y & (2^lo_bits - 1)]."""
    lo_bits = len(point) // 2
    cut = len(point) - lo_bits
    return _eq(point[:cut]), _eq(point[cut:]), lo_bits


def _eq(point) -> np.ndarray:
    return eq_table(list(point)) if len(point) else np.array([[1, 0]], dtype=U64)


def _lift(vals: np.ndarray) -> np.ndarray:
    if vals.ndim == 2:
        return np.ascontiguousarray(vals, dtype=U64)
    out = np.zeros((vals.shape[0], 2), dtype=U64)
    out[:, 0] = vals
    return out


def sparse_evaluate(m: np.ndarray, point) -> Fp2:
    """m~(point) for a base table m, over its non-zero entries only."""
    idx = np.flatnonzero(m).astype(np.int64)
    ehi, elo, lo_bits = _eq_halves(list(point))
    v = kernels.sparse_dot(idx, _lift(m[idx]), ehi, elo, lo_bits)
    return Fp2(int(v[0]), int(v[1]))


class _Sparse:
    """m as (sorted indices, extension values) in a table of `size` entries."""

    def __init__(self, m: np.ndarray):
        self.idx = np.flatnonzero(m).astype(np.int64)
        self.vals = _lift(m[self.idx])
        self.size = m.shape[0]

    def fold(self, r: Fp2) -> None:
        self.size //= 2
        self.idx, self.vals = kernels.sparse_fold(self.idx, self.vals, self.size, U64(r.c0), U64(r.c1))

    def at(self, i: int) -> Fp2:
        j = int(np.searchsorted(self.idx, i))
        if j < self.idx.shape[0] and self.idx[j] == i:
            return Fp2(int(self.vals[j, 0]), int(self.vals[j, 1]))
        return Fp2(0)


def _eq_lin(rj: Fp2, x: int) -> Fp2:
    """eq(rj, X) at X = x: (1 - rj)(1 - x) + rj x."""
    return _ONE - rj + (rj * 2 - _ONE) * Fp2(x)


class ZeroCheckRun(sumcheck_prover._Run):
    """Rounds of sum_x eq(r, x) (m(x) - m(x)^2) (tables [eq(r, .), m], spec
    `verifier.uniqueness_spec()`) from m's support; eq is never built: after
    j rounds the eq table is c eq(r_>=j, .), c = prod_{i<j} eq(r_i, s_i)."""

    def __init__(self, r, m: np.ndarray, spec):
        super().__init__(None, spec)
        self.r = list(r)
        self.m = _Sparse(m)
        self.c, self.j = _ONE, 0

    def _evals(self) -> list[Fp2]:
        rest = self.r[self.j + 1 :]
        ehi, elo, lo_bits = _eq_halves(rest)
        s = kernels.sparse_round(self.m.idx, self.m.vals, self.m.size // 2, ehi, elo, lo_bits)
        rj = self.r[self.j]
        return [self.c * _eq_lin(rj, x) * Fp2(int(s[x, 0]), int(s[x, 1])) for x in range(4)]

    def first_round(self):
        return self._evals()

    def fold_and_next(self, s: Fp2, last: bool):
        rj = self.r[self.j]
        self.c = self.c * (rj * s + (_ONE - rj) * (_ONE - s))
        self.m.fold(s)
        self.j += 1
        return None if last else self._evals()

    def pairs(self):
        """(t(0), t(1)) of eq and m in the last variable (2 entries left)."""
        rj = self.r[self.j]
        return [(self.c * (_ONE - rj), self.c * rj), (self.m.at(0), self.m.at(1))]

    def finals(self):
        return (self.c, self.m.at(0))


def prove_zero_check(r, m: np.ndarray, spec, transcript, *, claimed_sum: Fp2):
    """`sumcheck.prover.prove([eq_table(r), m], spec, transcript, claimed_sum=..., public=(0,))`
    on m's support: the same proof, claim and transcript."""
    n = len(r)
    zk = getattr(transcript, "zk", None)
    if n < 2:
        return sumcheck_prover.prove([eq_table(list(r)), m], spec, transcript, claimed_sum=claimed_sum,
                                     public=(0,))
    run = ZeroCheckRun(r, m, spec)
    if zk is not None:
        from zkaudit.sumcheck import zk_prover

        return zk_prover.prove([None, None], spec, transcript, zk, claimed_sum, n, (0,), {}, run=run)
    return run.prove(transcript, n, claimed_sum)


# ---- the LogUp's table tree: sparse numerators ------------------------------

# A layer takes the sparse path from this many pairs on, when its numerators'
# support is at most 1/SPARSE_FROM of the layer (else the dense fused kernels).
SPARSE_MIN_PAIRS = 1 << 12
SPARSE_FROM = 4


def _support(p_l: np.ndarray, p_r: np.ndarray) -> np.ndarray:
    return np.flatnonzero((p_l[:, 0] | p_l[:, 1] | p_r[:, 0] | p_r[:, 1]) != 0).astype(np.int64)


class SparseLayerRun(gkr.FusedRun):
    """`lookup.gkr.FusedRun` (one fractional-sum layer's sum-check, eq split
    off) with p_L, p_R kept on their support: the dense work is q_L q_R's
    (`kernels.qq_*`), the numerators' part runs on their support
    (`kernels.pq_*`). The same rounds, pairs and finals as `FusedRun`."""

    def __init__(self, rho, tables, spec, support: np.ndarray | None = None):
        self.rho, self.spec = list(rho), spec
        self.lam_fp2 = spec.terms[2].coeff
        self.prefix, self.j, self.s02 = _ONE, 0, None
        p_l, p_r, q_l, q_r = tables
        self.q = np.stack([q_l, q_r])
        self.idx = _support(p_l, p_r) if support is None else support
        self.pv = np.ascontiguousarray(np.stack([p_l[self.idx], p_r[self.idx]], axis=1))

    def _combine(self, dense: np.ndarray, part: np.ndarray) -> np.ndarray:
        out = np.empty((2, 2), dtype=U64)
        for t in range(2):
            v = self.lam_fp2 * Fp2(int(dense[t, 0]), int(dense[t, 1])) + Fp2(int(part[t, 0]), int(part[t, 1]))
            out[t] = (v.c0, v.c1)
        return out

    def first_round(self):
        eqs = _eq(self.rho[1:])
        dense = kernels.qq_round(self.q, eqs)
        part = kernels.pq_round(self.idx, self.pv, self.q.shape[1] // 2, self.q, eqs)
        self.s02 = self._combine(dense, part)
        return self._partial()

    def fold_and_next(self, r: Fp2, last: bool):
        rj = self.rho[self.j]
        self.prefix = self.prefix * (rj * r + (1 - rj) * (1 - r))
        h = self.q.shape[1] // 2
        out = np.empty((2, h, 2), dtype=U64)
        # the next round's weights eq(rho_>j+1, .) (one entry, 1, before the last round: the plain run uses it)
        eqs = _eq(self.rho[self.j + 2 :]) if self.j + 1 < len(self.rho) else np.zeros((1, 2), dtype=U64)
        r0, r1 = U64(r.c0), U64(r.c1)
        dense = kernels.qq_fold_round(self.q, r0, r1, eqs, out)
        self.q = out
        self.idx, self.pv = kernels.pq_fold(self.idx, self.pv, h, r0, r1)
        part = kernels.pq_round(self.idx, self.pv, h // 2, self.q, eqs) if h > 1 else np.zeros((2, 2), dtype=U64)
        self.s02 = self._combine(dense, part)
        self.j += 1
        return None if last else self._partial()

    def _p(self, t: int, i: int) -> Fp2:
        j = int(np.searchsorted(self.idx, i))
        if j < self.idx.shape[0] and self.idx[j] == i:
            return Fp2(int(self.pv[j, t, 0]), int(self.pv[j, t, 1]))
        return Fp2(0)

    def _q(self, t: int, i: int) -> Fp2:
        return Fp2(int(self.q[t, i, 0]), int(self.q[t, i, 1]))

    def pairs(self):
        rj = self.rho[self.j]
        eq_pair = (self.prefix * (1 - rj), self.prefix * rj)
        return [eq_pair, (self._p(0, 0), self._p(0, 1)), (self._p(1, 0), self._p(1, 1)),
                (self._q(0, 0), self._q(0, 1)), (self._q(1, 0), self._q(1, 1))]

    def finals(self):
        return (self.prefix, self._p(0, 0), self._p(1, 0), self._q(0, 0), self._q(1, 0))


def layer_prove(rho, tables, spec, transcript, *, claimed_sum: Fp2):
    """`lookup.gkr.fused_layer_prove` (same signature, proof, claim and
    transcript) with sparse numerators on `SparseLayerRun`; a layer whose
    numerators are not sparse, or that the fused prover sends to its
    reference, goes to `fused_layer_prove` itself."""
    zk = getattr(transcript, "zk", None)
    h = tables[0].shape[0]
    if h // 2 < SPARSE_MIN_PAIRS or any(x == 0 for x in rho) or len(rho) < 2:
        return gkr.fused_layer_prove(rho, tables, spec, transcript, claimed_sum=claimed_sum)
    support = _support(tables[0], tables[1])
    if support.shape[0] * SPARSE_FROM > h:
        return gkr.fused_layer_prove(rho, tables, spec, transcript, claimed_sum=claimed_sum)
    run = SparseLayerRun(rho, tables, spec, support)
    if zk is not None:
        from zkaudit.sumcheck import zk_prover

        return zk_prover.prove([None] + list(tables), spec, transcript, zk, claimed_sum, len(rho), (0,), {},
                               run=run)
    # the plain choreography of fused_layer_prove, on the run's rounds
    num_vars = len(rho)
    absorb_header(transcript, spec, num_vars, claimed_sum)
    claim, point, rounds = claimed_sum, [], []
    partial = run.first_round()
    for j in range(num_vars):
        evals = tuple(run.complete(partial, claim))
        rounds.append(evals)
        transcript.absorb_exts(LABEL_ROUND, evals)
        r = transcript.challenge_ext(LABEL_CHALLENGE)
        point.append(r)
        claim = evaluate_from_evals(evals, r)
        partial = run.fold_and_next(r, last=j == num_vars - 1)
    finals = run.finals()
    transcript.absorb_exts(LABEL_FINAL, finals)
    return SumcheckProof(tuple(rounds), finals), EvaluationClaim(tuple(point), finals), claimed_sum
