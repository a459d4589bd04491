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

from zkaudit.field.constants import P, W
from zkaudit.field.scalar import Fp2, _fp2

MAX_DEGREE = 16  # a zero-knowledge sum-check's last round has twice its degree


@lru_cache(maxsize=None)
def _inv_denominators(degree: int) -> tuple[int, ...]:
    out = []
    for i in range(degree + 1):
        den = factorial(i) * factorial(degree - i) * (-1) ** (degree - i)
        out.append(pow(den % P, P - 2, P))
    return tuple(out)


def evaluate_from_evals(evals: Sequence[Fp2], r: Fp2) -> Fp2:
    """g(r) from g(0..d). When r is one of the nodes, returns that value.

    Degrees 2 and 3 (most rounds) by fixed forward-difference formulas and
    Horner (`_small_degree`); others by Newton's forward form (`_newton`):
    d extension products. All on plain ints (the verifier
    calls it once per round); `evaluate_from_evals_reference` is Lagrange
    at every degree, tested equal."""
    degree = len(evals) - 1
    if degree < 0 or degree > MAX_DEGREE:
        raise ValueError(f"degree {degree} outside 0..{MAX_DEGREE}")
    r0, r1 = r.c0, r.c1
    if r1 == 0 and r0 <= degree:
        return evals[r0]
    if degree == 3 or degree == 2:  # most rounds (degree-3 zero-checks, products of two)
        return _small_degree(evals, r0, r1)
    return _newton(evals, degree, r0, r1)


_INV2 = pow(2, P - 2, P)
_INV6 = pow(6, P - 2, P)


def _small_degree(evals: Sequence[Fp2], r0: int, r1: int) -> Fp2:
    """Degree 2 or 3: g's monomial coefficients from Newton's forward
    differences (fixed small integer combinations over 2 or 6), then
    Horner at r, on plain ints. Tested against `evaluate_from_evals_reference`.
        d = 3: c3 = (-e0 + 3e1 - 3e2 + e3)/6,  c2 = (2e0 - 5e1 + 4e2 - e3)/2,
               c1 = (-11e0 + 18e1 - 9e2 + 2e3)/6
        d = 2: c2 = (e0 - 2e1 + e2)/2,  c1 = (-3e0 + 4e1 - e2)/2"""
    w1 = W * r1
    if len(evals) == 4:
        e0, e1, e2, e3 = evals
        x, y, z, w = e0.c0, e1.c0, e2.c0, e3.c0
        u, v, t, q = e0.c1, e1.c1, e2.c1, e3.c1
        a0, a1 = (-x + 3 * y - 3 * z + w) * _INV6 % P, (-u + 3 * v - 3 * t + q) * _INV6 % P
        k0, k1 = (2 * x - 5 * y + 4 * z - w) * _INV2, (2 * u - 5 * v + 4 * t - q) * _INV2
        a0, a1 = (a0 * r0 + a1 * w1 + k0) % P, (a0 * r1 + a1 * r0 + k1) % P
        k0, k1 = (-11 * x + 18 * y - 9 * z + 2 * w) * _INV6, (-11 * u + 18 * v - 9 * t + 2 * q) * _INV6
    else:
        e0, e1, e2 = evals
        x, y, z = e0.c0, e1.c0, e2.c0
        u, v, t = e0.c1, e1.c1, e2.c1
        a0, a1 = (x - 2 * y + z) * _INV2 % P, (u - 2 * v + t) * _INV2 % P
        k0, k1 = (-3 * x + 4 * y - z) * _INV2, (-3 * u + 4 * v - t) * _INV2
    a0, a1 = (a0 * r0 + a1 * w1 + k0) % P, (a0 * r1 + a1 * r0 + k1) % P
    return _fp2((a0 * r0 + a1 * w1 + x) % P, (a0 * r1 + a1 * r0 + u) % P)


_INV_SMALL = tuple([0] + [pow(k, P - 2, P) for k in range(1, MAX_DEGREE + 1)])


def _newton(evals: Sequence[Fp2], degree: int, r0: int, r1: int) -> Fp2:
    """g(r) in Newton's forward form over the nodes 0..d,
        g(r) = sum_k D^k g(0) binom(r, k)
             = D^0 + r/1 (D^1 + (r - 1)/2 (D^2 + ... + (r - d + 1)/d D^d)),
    the differences D^k g(0) by integer subtractions alone and the nesting
    by Horner: d extension products and d small-inverse scalings, against
    Lagrange's ~5 d products (a zero-knowledge sum-check's last round, of
    degree 2 d, was a third of its verifier's arithmetic). Tested equal to
    `evaluate_from_evals_reference` at every degree."""
    a = [e.c0 for e in evals]
    b = [e.c1 for e in evals]
    for k in range(1, degree + 1):  # after pass k, a[i] = D^k g(i - k) for i >= k (unreduced, |.| < 2^k p)
        for i in range(degree, k - 1, -1):
            a[i] -= a[i - 1]
            b[i] -= b[i - 1]
    inv = _INV_SMALL
    w1 = W * r1
    acc0, acc1 = a[degree] % P, b[degree] % P
    for k in range(degree - 1, -1, -1):
        s0 = r0 - k  # r - k = (r0 - k) + r1 u
        m0 = (acc0 * s0 + acc1 * w1) % P * inv[k + 1]
        m1 = (acc0 * r1 + acc1 * s0) % P * inv[k + 1]
        acc0, acc1 = (a[k] + m0) % P, (b[k] + m1) % P
    return _fp2(acc0, acc1)


def _lagrange(evals: Sequence[Fp2], degree: int, r0: int, r1: int) -> Fp2:
    """g(r) by Lagrange's formula (`evaluate_from_evals_reference`'s body)."""
    # prefix[i] = prod_{j < i} (r - j), suffix[i] = prod_{j >= i} (r - j)
    prefix = [(1, 0)]
    for j in range(degree):
        a0, a1 = prefix[-1]
        b0 = r0 - j
        prefix.append(((a0 * b0 + W * a1 * r1) % P, (a0 * r1 + a1 * b0) % P))
    suffix = [(1, 0)] * (degree + 2)
    for j in range(degree, -1, -1):
        a0, a1 = suffix[j + 1]
        b0 = r0 - j
        suffix[j] = ((a0 * b0 + W * a1 * r1) % P, (a0 * r1 + a1 * b0) % P)
    inv_den = _inv_denominators(degree)
    t0 = t1 = 0
    for i in range(degree + 1):
        p0, p1 = prefix[i]
        s0, s1 = suffix[i + 1]
        l0 = (p0 * s0 + W * p1 * s1) % P * inv_den[i]
        l1 = (p0 * s1 + p1 * s0) % P * inv_den[i]
        e0, e1 = evals[i].c0, evals[i].c1
        t0 += e0 * l0 + W * e1 * l1
        t1 += e0 * l1 + e1 * l0
    return _fp2(t0 % P, t1 % P)


def evaluate_from_evals_reference(evals: Sequence[Fp2], r: Fp2) -> Fp2:
    """`evaluate_from_evals` by Lagrange's formula at every degree."""
    degree = len(evals) - 1
    if degree < 0 or degree > MAX_DEGREE:
        raise ValueError(f"degree {degree} outside 0..{MAX_DEGREE}")
    r0, r1 = r.c0, r.c1
    if r1 == 0 and r0 <= degree:
        return evals[r0]
    return _lagrange(evals, degree, r0, r1)


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
