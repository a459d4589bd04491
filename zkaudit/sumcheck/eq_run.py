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
round; g(d) comes from s extended to d. After the first round s(1) is not
computed but taken from the running claim, g(0) + g(1) = l(0) s(0) +
l(1) s(1) (`complete`). The first round computes it: a claimed sum that is
not the table's sum then fails the verifier's first round check, as with
the generic prover, and not only its final check. (l(1) = 0 only when some
rho_j or the prefix is 0; a rho with a zero coordinate takes the generic
prover, a zero prefix makes g zero.) The round messages, final values and
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

    def _round(self, w, partial: bool):
        """s at 0..d-1 (partial: without s(1), left to `complete`)."""
        d = self.spec.degree
        skip = partial and d >= 2
        per_term = ke.round_evals_eq(self.stack, self.ptr, self.idx, d, w, skip_one=skip)
        s = [Fp2(0)] * d
        for j, term in enumerate(self.spec.terms):
            for t in range(d):
                if not (skip and t == 1):
                    s[t] = s[t] + term.coeff * Fp2(int(per_term[j, t, 0]), int(per_term[j, t, 1]))
        return ["eq-round", s, skip]

    def complete(self, partial, claim: Fp2) -> list[Fp2]:
        """g(0..d) from the round's s values (and the running claim g(0) + g(1) when s(1) was left out)."""
        _, s, skipped = partial
        d = self.spec.degree
        rj = self.rho[self.j]
        l0, l1 = self.prefix * (1 - rj), self.prefix * rj
        s = list(s)
        if skipped:
            s[1] = (claim - l0 * s[0]) * l1.inverse() if l1 != 0 else Fp2(0)  # l1 = 0: the prefix is 0, g is 0
        s.append(evaluate_from_evals(s, Fp2(d)))  # s has degree d - 1
        slope = l1 - l0
        return [(l0 + slope * t) * s[t] for t in range(d + 1)]

    def _weights(self):
        rest = self.rho[self.j + 1 :]
        return eq_table(rest) if rest else np.array([[1, 0]], dtype=U64)

    def first_round(self):
        return self._round(self._weights(), partial=False)

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
        return None if last else self._round(self._weights(), partial=True)

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
