"""Sum-check prover (the protocol is stated in `verifier.py`).

Round 1 runs in the base field when every table is a base table; the first
challenge lifts the folded tables into GF(p^2), where later rounds run. Cost:
O(T 2^n) base operations in round 1, then O(T 2^(n-1) (d + 1)) extension
operations summed over the remaining rounds (halving each round).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.constants import P as _P
from zkaudit.field.constants import W as _W
from zkaudit.field.scalar import Fp2, _fp2
from zkaudit.poly.mle import num_vars_of
from zkaudit.poly.univariate import evaluate_from_evals
from zkaudit.sumcheck import kernels as k
from zkaudit.sumcheck import kernels_prod2 as k2
from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts
from zkaudit.sumcheck.mask import MaskClaim, MaskingPolynomial
from zkaudit.sumcheck.proof import MaskedSumcheckProof, SumcheckProof
from zkaudit.sumcheck.protocol import (
    LABEL_CHALLENGE,
    LABEL_FINAL,
    LABEL_MASK_RHO,
    LABEL_MASK_SUM,
    LABEL_MASK_VALUE,
    LABEL_ROUND,
    absorb_header,
)
from zkaudit.transcript import Transcript

U64 = np.uint64


def _csr(spec: SumOfProducts) -> tuple[np.ndarray, np.ndarray]:
    ptr = [0]
    idx: list[int] = []
    for t in spec.terms:
        idx.extend(t.tables)
        ptr.append(len(idx))
    return np.array(ptr, dtype=np.int64), np.array(idx, dtype=np.int64)


def _round_poly(spec: SumOfProducts, per_term: np.ndarray) -> list[Fp2]:
    """Apply term coefficients to the per-term sums from a round kernel, on
    plain ints with one reduction per point (`_round_poly_reference` builds
    an Fp2 per term and point: ~200 us of a small zero-knowledge
    sum-check's ~480; tested equal)."""
    npts = spec.degree + 1
    acc0, acc1 = [0] * npts, [0] * npts
    base = per_term.ndim == 2
    for term, row in zip(spec.terms, per_term.tolist()):
        c0, c1 = term.coeff.c0, term.coeff.c1
        if base:
            for t, v in enumerate(row):
                acc0[t] += c0 * v
                acc1[t] += c1 * v
        else:
            w1 = _W * c1
            for t, (v0, v1) in enumerate(row):
                acc0[t] += c0 * v0 + w1 * v1
                acc1[t] += c0 * v1 + c1 * v0
    return [_fp2(a % _P, b % _P) for a, b in zip(acc0, acc1)]


def _round_poly_reference(spec: SumOfProducts, per_term: np.ndarray) -> list[Fp2]:
    npts = spec.degree + 1
    evals = [Fp2(0)] * npts
    base = per_term.ndim == 2
    for j, term in enumerate(spec.terms):
        # A term of lower degree than d is still evaluated at all d+1 points.
        for t in range(npts):
            v = Fp2(int(per_term[j, t])) if base else Fp2(int(per_term[j, t, 0]), int(per_term[j, t, 1]))
            evals[t] = evals[t] + term.coeff * v
    return evals


def prove(
    tables: list[np.ndarray],
    spec: SumOfProducts,
    transcript: Transcript,
    *,
    claimed_sum: Fp2 | None = None,
    mask: MaskingPolynomial | None = None,
    public: tuple[int, ...] = (),
    pad_bank: dict[int, str] | None = None,
    eq_point=None,
) -> tuple[SumcheckProof, EvaluationClaim, Fp2]:
    """Prove sum_x F(x) = claimed_sum (the prover's own sum when not given;
    a wrong given sum yields a proof the verifier rejects).

    Returns the proof, the evaluation claim the verifier will arrive at (for
    the prover to discharge in step), and the claimed sum.

    With `mask` (a `MaskingPolynomial` of num_vars variables and the spec's
    degree, already committed by the caller), the run is Libra's masked
    sum-check (`zkaudit.sumcheck.mask`): the proof is a `MaskedSumcheckProof`
    and the evaluation claim is returned as (EvaluationClaim, MaskClaim).

    When the transcript carries a zero-knowledge session (`transcript.zk`,
    `zkaudit.sumcheck.zk`) the run is zero-knowledge (`zk_prover`):
    `claimed_sum` may be `Hidden`; the final values of every table not in
    `public` (tables the verifier computes itself: eq, wiring) are padded
    from the bank `pad_bank[i]` ("advice" by default), and the returned
    claim holds them as `Hidden` values.

    `eq_point`: table 0 is eq(eq_point, .) and every term carries it once
    (a zero-check); the rounds are then computed with eq factored out
    (`eq_run`), the same proof faster."""
    if len(tables) != spec.num_tables:
        raise ValueError(f"spec names {spec.num_tables} tables, {len(tables)} given")
    num_vars = num_vars_of(tables[0])
    for i, t in enumerate(tables):
        if t.shape[0] != tables[0].shape[0]:
            raise ValueError(f"table {i} has {t.shape[0]} entries, table 0 has {tables[0].shape[0]}")
    if mask is not None and (mask.num_vars != num_vars or mask.degree != spec.degree):
        raise ValueError(f"mask has {mask.num_vars} variables of degree {mask.degree}; "
                         f"the sum-check has {num_vars} of degree {spec.degree}")
    zk = getattr(transcript, "zk", None)
    eq_run = None
    if eq_point is not None and num_vars > 0:
        from zkaudit.sumcheck.eq_run import EqRun, applies

        if len(eq_point) != num_vars:
            raise ValueError(f"eq point has {len(eq_point)} coordinates, the tables {num_vars} variables")
        # The run takes s(1) from the running claim: it needs the claimed sum and l(1) = eq(rho_j, 1) != 0.
        # Below EQ_RUN_FROM entries the generic run's numpy path (all terms of one length in one
        # product) beats the eq run's term by term, and a small sum-check is Python work anyway.
        big = sum(t.shape[0] for t in tables[1:]) >= EQ_RUN_FROM
        if big and applies(spec) and claimed_sum is not None and all(x != 0 for x in eq_point):
            eq_run = EqRun(eq_point, tables, spec)
    if zk is not None and mask is None:
        from zkaudit.sumcheck import zk_prover

        return zk_prover.prove(tables, spec, transcript, zk, claimed_sum, num_vars, public, pad_bank or {},
                               run=eq_run)
    if eq_run is not None:
        return eq_run.prove(transcript, num_vars, claimed_sum, mask)
    run = _Prod2Run if _is_prod2(spec) and num_vars > 0 else _GenericRun
    return run(tables, spec).prove(transcript, num_vars, claimed_sum, mask)


# Entries of the tables besides eq from which a sum-check given `eq_point` takes the eq run.
EQ_RUN_FROM = 1 << 14


def make_run(tables, spec, num_vars):
    return (_Prod2Run if _is_prod2(spec) and num_vars > 0 else _GenericRun)(tables, spec)


def _is_prod2(spec: SumOfProducts) -> bool:
    """c * f_a * f_b over exactly two tables (so every table's final value is
    produced by the fast path)."""
    return spec.num_tables == 2 and len(spec.terms) == 1 and sorted(spec.terms[0].tables) == [0, 1]


def _ext_evals(arr: np.ndarray, coeff: Fp2) -> list[Fp2]:
    if arr.ndim == 1:
        return [coeff * Fp2(int(v)) for v in arr]
    return [coeff * Fp2(int(a), int(b)) for a, b in arr]


class _Run:
    """One proving run: `first_round` and `fold_and_next` are the per-path
    kernels; the transcript choreography lives here, once."""

    def __init__(self, tables, spec):
        self.spec = spec

    def prove(self, transcript: Transcript, num_vars: int, claimed_sum: Fp2 | None,
              mask: MaskingPolynomial | None = None):
        evals = self.first_round() if num_vars > 0 else None
        if claimed_sum is None:
            claimed_sum = evals[0] + evals[1] if evals is not None else self.spec.combine(self.finals())
        absorb_header(transcript, self.spec, num_vars, claimed_sum)
        rho = Fp2(0)
        claim = claimed_sum
        if mask is not None:
            mask_sum = mask.cube_sum()
            transcript.absorb_ext(LABEL_MASK_SUM, mask_sum)
            rho = transcript.challenge_ext(LABEL_MASK_RHO)  # costs 1 / p^2 (a false H survives one rho)
            prefix = mask.a0
            suffix = [Fp2(0)] * (num_vars + 1)  # suffix[i] = sum_{j >= i} g_j(1)
            for i in range(num_vars - 1, -1, -1):
                suffix[i] = suffix[i + 1] + mask.at_one(i)
        rounds, point = [], []
        complete = getattr(self, "complete", None)
        for rnd in range(num_vars):
            if complete is not None:  # a partial round the run completes from the running claim
                evals = complete(evals, claim)
            elif evals[1] is None:  # kernels may leave g(1) = claim - g(0) to us
                evals[1] = claim - evals[0]
            sent = evals
            if mask is not None:
                m = mask.round_evals(rnd, prefix, suffix[rnd + 1], len(evals))
                sent = [e + rho * v for e, v in zip(evals, m)]
            rounds.append(tuple(sent))
            transcript.absorb_exts(LABEL_ROUND, sent)
            r = transcript.challenge_ext(LABEL_CHALLENGE)
            point.append(r)
            claim = evaluate_from_evals(evals, r)  # f's running claim (the mask's is tracked in prefix)
            if mask is not None:
                prefix = prefix + mask.univariate(rnd, r)
            evals = self.fold_and_next(r, last=rnd == num_vars - 1)
        finals = self.finals()
        transcript.absorb_exts(LABEL_FINAL, finals)
        inner = SumcheckProof(tuple(rounds), finals)
        evaluation = EvaluationClaim(tuple(point), finals)
        if mask is None:
            return inner, evaluation, claimed_sum
        mask_value = mask.evaluate(point)
        transcript.absorb_ext(LABEL_MASK_VALUE, mask_value)
        proof = MaskedSumcheckProof(mask_sum, inner, mask_value)
        return proof, (evaluation, MaskClaim(tuple(point), mask_value, mask.degree)), claimed_sum


class _Prod2Run(_Run):
    def __init__(self, tables, spec):
        super().__init__(tables, spec)
        f, g = (tables[i] for i in spec.terms[0].tables)
        if f.ndim != g.ndim:
            f, g = vec.lift(f), vec.lift(g)
        self.f, self.g = f, g
        self.coeff = spec.terms[0].coeff

    def first_round(self):
        if self.f.ndim == 1:
            return _ext_evals(k2.round_base(self.f, self.g), self.coeff)
        return _ext_evals(k2.round_ext(self.f, self.g), self.coeff)

    def fold_and_next(self, r: Fp2, last: bool):
        h = self.f.shape[0] // 2
        fo, go = np.empty((h, 2), dtype=U64), np.empty((h, 2), dtype=U64)
        kern = k2.fold_round_base if self.f.ndim == 1 else k2.fold_round_ext
        nxt = kern(self.f, self.g, U64(r.c0), U64(r.c1), fo, go)
        self.f, self.g = fo, go
        if last:
            return None
        e0, e2 = _ext_evals(nxt, self.coeff)
        return [e0, None, e2]

    def pairs(self):
        """(t(0), t(1)) of every table in the last variable (2 entries left)."""
        a, b = self.spec.terms[0].tables
        out = [None] * self.spec.num_tables
        out[a], out[b] = _pair(self.f), _pair(self.g)
        return out

    def finals(self):
        fv, gv = Fp2(int(self.f[0, 0]), int(self.f[0, 1])), Fp2(int(self.g[0, 0]), int(self.g[0, 1]))
        a, b = self.spec.terms[0].tables
        out = [Fp2(0)] * self.spec.num_tables
        out[a], out[b] = fv, gv
        return tuple(out)


class _GenericRun(_Run):
    def __init__(self, tables, spec):
        super().__init__(tables, spec)
        self.ptr, self.idx = _csr(spec)
        if all(t.ndim == 1 for t in tables):
            self.stack = np.stack(tables)
        else:
            self.stack = np.stack([vec.lift(t) for t in tables])

    def first_round(self):
        return self._evals()

    def _evals(self):
        if self.stack.ndim == 2:
            per_term = k.round_evals_base(self.stack, self.ptr, self.idx, self.spec.degree)
        else:
            per_term = k.round_evals_ext(self.stack, self.ptr, self.idx, self.spec.degree)
        return _round_poly(self.spec, per_term)

    def fold_and_next(self, r: Fp2, last: bool):
        folded = np.empty((self.stack.shape[0], self.stack.shape[1] // 2, 2), dtype=U64)
        if self.stack.ndim == 2:
            k.fold_stack_base(self.stack, U64(r.c0), U64(r.c1), folded)
        else:
            k.fold_stack_ext(self.stack, U64(r.c0), U64(r.c1), folded)
        self.stack = folded
        return None if last else self._evals()

    def pairs(self):
        return [_pair(self.stack[t]) for t in range(self.stack.shape[0])]

    def finals(self):
        s = self.stack
        if s.ndim == 2:
            return tuple(Fp2(int(s[t, 0])) for t in range(s.shape[0]))
        return tuple(Fp2(int(s[t, 0, 0]), int(s[t, 0, 1])) for t in range(s.shape[0]))


def _pair(t: np.ndarray) -> tuple[Fp2, Fp2]:
    if t.ndim == 1:
        return Fp2(int(t[0])), Fp2(int(t[1]))
    return Fp2(int(t[0, 0]), int(t[0, 1])), Fp2(int(t[1, 0]), int(t[1, 1]))
