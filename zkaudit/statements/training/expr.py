"""Integer polynomials over named columns: the gates of the training relation.

An `Expr` is sum_m c_m prod_{name in m} name, with integer coefficients
and monomials as sorted name tuples (the empty tuple is the constant).
Both sides build the same expressions from the policy (`plan.py`); the
prover evaluates them on its integer columns (to fill limbs, and to check
its own witness), the zero-check turns them into sum-of-products terms, and
the verifier evaluates them at the final point from the claimed values."""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class Expr:
    __slots__ = ("terms",)

    def __init__(self, terms: dict | None = None):
        self.terms = {k: v for k, v in (terms or {}).items() if v != 0}

    @staticmethod
    def lift(x) -> Expr:
        if isinstance(x, Expr):
            return x
        if isinstance(x, int):
            return Expr({(): x})
        raise TypeError(f"cannot make an expression of {type(x).__name__}")

    def __add__(self, other) -> Expr:
        out = defaultdict(int, self.terms)
        for k, v in Expr.lift(other).terms.items():
            out[k] += v
        return Expr(out)

    __radd__ = __add__

    def __neg__(self) -> Expr:
        return Expr({k: -v for k, v in self.terms.items()})

    def __sub__(self, other) -> Expr:
        return self + (-Expr.lift(other))

    def __rsub__(self, other) -> Expr:
        return Expr.lift(other) - self

    def __mul__(self, other) -> Expr:
        other = Expr.lift(other)
        out = defaultdict(int)
        for k1, v1 in self.terms.items():
            for k2, v2 in other.terms.items():
                out[tuple(sorted(k1 + k2))] += v1 * v2
        return Expr(out)

    __rmul__ = __mul__

    @property
    def degree(self) -> int:
        return max((len(k) for k in self.terms), default=0)

    @property
    def names(self) -> set[str]:
        return {n for k in self.terms for n in k}

    def evaluate_int(self, cols: dict[str, np.ndarray], size: int) -> np.ndarray:
        """Exact integer values: int64 when a float bound on every partial sum
        stays below 2^62 (the common case), else Python integers (object arrays)."""
        bound = np.zeros(size)
        for mono, c in self.terms.items():
            v = np.full(size, float(abs(c)))
            for n in mono:
                v = v * np.abs(cols[n].astype(np.float64))
            bound = bound + v
        # a huge coefficient on columns that are all zero bounds to 0 but does not fit an int64 itself
        if size == 0 or (float(bound.max()) < 2.0 ** 62 and all(abs(c) < 1 << 62 for c in self.terms.values())):
            out64 = np.zeros(size, dtype=np.int64)
            for mono, c in self.terms.items():
                v = np.full(size, c, dtype=np.int64)
                for n in mono:
                    v = v * cols[n]
                out64 = out64 + v
            return out64
        out = np.zeros(size, dtype=object)
        for mono, c in self.terms.items():
            v = np.full(size, c, dtype=object)
            for n in mono:
                v = v * cols[n].astype(object)
            out = out + v
        return out

    def evaluate(self, values: dict, one):
        """At one point, from each name's value (field elements); `one` is the field's 1."""
        total = one * 0
        for mono, c in self.terms.items():
            v = one * c
            for n in mono:
                v = v * values[n]
            total = total + v
        return total


def V(name: str) -> Expr:
    return Expr({(name,): 1})
