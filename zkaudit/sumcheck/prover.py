"""Sum-check prover (the protocol is stated in `verifier.py`).

Round 1 runs in the base field when every table is a base table; the first
challenge lifts the folded tables into GF(p^2), where later rounds run. Cost:
O(T 2^n) base operations in round 1, then O(T 2^(n-1) (d + 1)) extension
operations summed over the remaining rounds (halving each round).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.poly.mle import num_vars_of
from zkaudit.sumcheck import kernels as k
from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_FINAL, LABEL_ROUND, absorb_header
from zkaudit.transcript import Transcript

U64 = np.uint64


@dataclass(frozen=True)
class MaskingPolynomial:
    """Placeholder type for the zero-knowledge mask (a random low-degree
    polynomial whose sum is committed and added to every round). The hook is
    in the signature now so callers will not change when masking lands."""

    seed: bytes


def _csr(spec: SumOfProducts) -> tuple[np.ndarray, np.ndarray]:
    ptr = [0]
    idx: list[int] = []
    for t in spec.terms:
        idx.extend(t.tables)
        ptr.append(len(idx))
    return np.array(ptr, dtype=np.int64), np.array(idx, dtype=np.int64)


def _round_poly(spec: SumOfProducts, per_term: np.ndarray) -> list[Fp2]:
    """Apply term coefficients to the per-term sums from a round kernel."""
    npts = spec.degree + 1
    evals = [Fp2(0)] * npts
    base = per_term.ndim == 2
    for j, term in enumerate(spec.terms):
        # A term of lower degree than d is still evaluated at all d+1 points.
        for t in range(npts):
            v = Fp2(int(per_term[j, t])) if base else Fp2(int(per_term[j, t, 0]), int(per_term[j, t, 1]))
            evals[t] = evals[t] + term.coeff * v
    return evals


def hypercube_sum(tables: list[np.ndarray], spec: SumOfProducts) -> Fp2:
    """sum_x F(x), computed directly (the prover's claimed sum)."""
    total = Fp2(0)
    for term in spec.terms:
        prod = tables[term.tables[0]]
        for i in term.tables[1:]:
            prod = vec.mul(prod, tables[i])
        s = vec.sum(prod)
        total = total + term.coeff * (Fp2.from_base(s) if isinstance(s, Fp) else s)
    return total


def prove(
    tables: list[np.ndarray],
    spec: SumOfProducts,
    transcript: Transcript,
    *,
    claimed_sum: Fp2 | None = None,
    mask: MaskingPolynomial | None = None,
) -> tuple[SumcheckProof, EvaluationClaim, Fp2]:
    """Prove sum_x F(x) = claimed_sum (computed when not given).

    Returns the proof, the evaluation claim the verifier will arrive at (for
    the prover to discharge in step), and the claimed sum."""
    if mask is not None:
        raise NotImplementedError("zero-knowledge masking of sum-check is not built yet")
    if len(tables) != spec.num_tables:
        raise ValueError(f"spec names {spec.num_tables} tables, {len(tables)} given")
    num_vars = num_vars_of(tables[0])
    for i, t in enumerate(tables):
        if t.shape[0] != tables[0].shape[0]:
            raise ValueError(f"table {i} has {t.shape[0]} entries, table 0 has {tables[0].shape[0]}")
    if claimed_sum is None:
        claimed_sum = hypercube_sum(tables, spec)
    absorb_header(transcript, spec, num_vars, claimed_sum)

    ptr, idx = _csr(spec)
    degree = spec.degree
    all_base = all(t.ndim == 1 for t in tables)
    if all_base:
        stack = np.stack(tables)
    else:
        stack = np.stack([vec.lift(t) for t in tables])

    rounds = []
    point = []
    for _ in range(num_vars):
        if stack.ndim == 2:
            per_term = k.round_evals_base(stack, ptr, idx, degree)
        else:
            per_term = k.round_evals_ext(stack, ptr, idx, degree)
        evals = _round_poly(spec, per_term)
        rounds.append(tuple(evals))
        transcript.absorb_exts(LABEL_ROUND, evals)
        r = transcript.challenge_ext(LABEL_CHALLENGE)
        point.append(r)
        folded = np.empty((stack.shape[0], stack.shape[1] // 2, 2), dtype=U64)
        if stack.ndim == 2:
            k.fold_stack_base(stack, U64(r.c0), U64(r.c1), folded)
        else:
            k.fold_stack_ext(stack, U64(r.c0), U64(r.c1), folded)
        stack = folded

    if stack.ndim == 2:  # zero variables: values are the single entries
        finals = tuple(Fp2(int(stack[t, 0])) for t in range(stack.shape[0]))
    else:
        finals = tuple(Fp2(int(stack[t, 0, 0]), int(stack[t, 0, 1])) for t in range(stack.shape[0]))
    transcript.absorb_exts(LABEL_FINAL, finals)
    return SumcheckProof(tuple(rounds), finals), EvaluationClaim(tuple(point), finals), claimed_sum
