"""Univariate round polynomials in evaluation form.

A sum-check round polynomial g of degree <= d is sent as its values
g(0), g(1), ..., g(d). The verifier needs g(r) at a challenge r, computed by
Lagrange interpolation over the nodes 0..d:
    g(r) = sum_i g(i) * prod_{j != i} (r - j) / (i - j).
The denominators prod_{j != i} (i - j) = (-1)^(d-i) i! (d-i)! are fixed per
degree and inverted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from math import factorial

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2

MAX_DEGREE = 8


@lru_cache(maxsize=None)
def _inv_denominators(degree: int) -> tuple[int, ...]:
    out = []
    for i in range(degree + 1):
        den = factorial(i) * factorial(degree - i) * (-1) ** (degree - i)
        out.append(pow(den % P, P - 2, P))
    return tuple(out)


def evaluate_from_evals(evals: Sequence[Fp2], r: Fp2) -> Fp2:
    """g(r) from g(0..d). When r is one of the nodes, returns that value."""
    degree = len(evals) - 1
    if degree < 0 or degree > MAX_DEGREE:
        raise ValueError(f"degree {degree} outside 0..{MAX_DEGREE}")
    for i in range(degree + 1):
        if r == i:
            return evals[i]
    diffs = [r - j for j in range(degree + 1)]
    total = Fp2(0)
    inv_den = _inv_denominators(degree)
    for i in range(degree + 1):
        num = Fp2(inv_den[i])
        for j in range(degree + 1):
            if j != i:
                num = num * diffs[j]
        total = total + evals[i] * num
    return total


def interpolate(evals: Sequence[Fp2]) -> list[Fp2]:
    """Monomial coefficients c_0..c_d with g(x) = sum c_k x^k (for tests/debugging)."""
    degree = len(evals) - 1
    coeffs = [Fp2(0)] * (degree + 1)
    inv_den = _inv_denominators(degree)
    for i in range(degree + 1):
        # basis polynomial prod_{j != i} (x - j), expanded
        basis = [Fp2(1)]
        for j in range(degree + 1):
            if j == i:
                continue
            nxt = [Fp2(0)] * (len(basis) + 1)
            for t, c in enumerate(basis):
                nxt[t + 1] = nxt[t + 1] + c
                nxt[t] = nxt[t] - c * j
            basis = nxt
        scale = evals[i] * Fp2(inv_den[i])
        for t in range(degree + 1):
            coeffs[t] = coeffs[t] + basis[t] * scale
    return coeffs


def evaluate_coeffs(coeffs: Sequence[Fp2], x: Fp2) -> Fp2:
    acc = Fp2(0)
    for c in reversed(coeffs):
        acc = acc * x + c
    return acc
