"""A faster round source for sum-checks whose every term carries eq(rho, x).

A zero-check sum_x eq(rho, x) F(x) = 0 (every constraint system, every
relation sum-check) gives the generic prover eq as one more table: an
extension table, so every base table is lifted to the extension before the
first round, eq is evaluated on every line and folded every round, and each
round is evaluated at d + 1 points.

Here eq stays out of the stack. Round j's polynomial factors as
    g(t) = l(t) s(t),  l(t) = eq(rho_<j, r_<j) eq(rho_j, t),
    s(t) = sum_x' eq(rho_>j, x') F(r_<j, t, x'),
so the kernels (`kernels_eq`) evaluate s, of degree d - 1, at d points,
weighting each pair x' by eq(rho_>j, x'), over the other tables as they are
(base in the first round); l is a line the run tracks in one Fp2 product per
round; g(d) comes from s extended to d. The round messages, final values and
transcript are exactly the generic prover's (the tests compare the two
proofs byte for byte), so nothing changes for the verifier.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import eq_table
from zkaudit.poly.univariate import evaluate_from_evals
from zkaudit.sumcheck import kernels as k
from zkaudit.sumcheck import kernels_eq as ke
from zkaudit.sumcheck.claim import SumOfProducts
from zkaudit.sumcheck.prover import _pair, _Run

U64 = np.uint64


def applies(spec: SumOfProducts, eq_index: int = 0) -> bool:
    """Every term has table `eq_index` exactly once (then eq can be factored out)."""
    return spec.degree >= 1 and all(t.tables.count(eq_index) == 1 for t in spec.terms)


class EqRun(_Run):
    """`tables[0]` is eq(rho, .) (never read: the run knows rho)."""

    def __init__(self, rho, tables, spec: SumOfProducts):
        super().__init__(tables, spec)
        if not applies(spec):
            raise ValueError("every term must carry table 0 (eq) exactly once")
        self.rho = list(rho)
        rest = tables[1:]
        ptr, idx = [0], []
        for term in spec.terms:
            idx += [i - 1 for i in term.tables if i != 0]
            ptr.append(len(idx))
        self.ptr, self.idx = np.array(ptr, dtype=np.int64), np.array(idx, dtype=np.int64)
        if all(t.ndim == 1 for t in rest):
            self.stack = np.stack(rest) if rest else np.zeros((0, 1 << len(self.rho)), dtype=U64)
        else:
            self.stack = np.stack([vec.lift(t) for t in rest])
        self.prefix, self.j = Fp2(1), 0

    def _round(self, w):
        d = self.spec.degree
        per_term = ke.round_evals_eq(self.stack, self.ptr, self.idx, d, w)
        s = [Fp2(0)] * d
        for j, term in enumerate(self.spec.terms):
            for t in range(d):
                s[t] = s[t] + term.coeff * Fp2(int(per_term[j, t, 0]), int(per_term[j, t, 1]))
        s.append(evaluate_from_evals(s, Fp2(d)))  # s has degree d - 1
        rj = self.rho[self.j]
        l0, l1 = self.prefix * (1 - rj), self.prefix * rj
        slope = l1 - l0
        return [(l0 + slope * t) * s[t] for t in range(d + 1)]

    def _weights(self):
        rest = self.rho[self.j + 1 :]
        return eq_table(rest) if rest else np.array([[1, 0]], dtype=U64)

    def first_round(self):
        return self._round(self._weights())

    def fold_and_next(self, r: Fp2, last: bool):
        rj = self.rho[self.j]
        self.prefix = self.prefix * (rj * r + (1 - rj) * (1 - r))
        folded = np.empty((self.stack.shape[0], self.stack.shape[1] // 2, 2), dtype=U64)
        if self.stack.shape[0]:
            if self.stack.ndim == 2:
                k.fold_stack_base(self.stack, U64(r.c0), U64(r.c1), folded)
            else:
                k.fold_stack_ext(self.stack, U64(r.c0), U64(r.c1), folded)
        self.stack = folded
        self.j += 1
        return None if last else self._round(self._weights())

    def pairs(self):
        rj = self.rho[self.j]
        eq_pair = (self.prefix * (1 - rj), self.prefix * rj)
        return [eq_pair] + [_pair(self.stack[t]) for t in range(self.stack.shape[0])]

    def finals(self):
        s = self.stack
        if s.ndim == 2:
            rest = tuple(Fp2(int(s[t, 0])) for t in range(s.shape[0]))
        else:
            rest = tuple(Fp2(int(s[t, 0, 0]), int(s[t, 0, 1])) for t in range(s.shape[0]))
        return (self.prefix,) + rest
