"""The "next index" polynomial: next(x, y) = 1 iff int(y) = int(x) + 1 on
{0,1}^k x {0,1}^k (MSB first), and the shift it induces.

For a table h, the shifted table h'(x) = h(x + 1) (0 at the last index) has
    h'~(s) = sum_y next~(s, y) h(y),
so a claim on the shift reduces to a claim on h by one degree-2 sum-check
whose final factor next~(s, s') the verifier computes itself in O(k):
y = x + 1 means that for some position t the bits above t agree, x_t = 0,
y_t = 1, and every bit below t (less significant) has x = 1, y = 0:

    next~(x, y) = sum_t [prod_{i<t} eq(x_i, y_i)] (1 - x_t) y_t prod_{i>t} x_i (1 - y_i).

Cf. the `EqPlusOnePolynomial` of a16z/jolt (the same function; written here
from the definition). `next_eval_reference` builds the 4^k table.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import eq_table


def next_eval(x, y) -> Fp2:
    """next~(x, y) in O(k)."""
    k = len(x)
    if len(y) != k:
        raise ValueError(f"points of different lengths: {k} vs {len(y)}")
    suffix = [Fp2(1)] * (k + 1)  # suffix[t] = prod_{i >= t} x_i (1 - y_i)
    for i in range(k - 1, -1, -1):
        suffix[i] = suffix[i + 1] * x[i] * (1 - y[i])
    total, prefix = Fp2(0), Fp2(1)
    for t in range(k):
        total = total + prefix * (1 - x[t]) * y[t] * suffix[t + 1]
        prefix = prefix * (x[t] * y[t] + (1 - x[t]) * (1 - y[t]))
    return total


def next_eval_reference(x, y) -> Fp2:
    """The same by summing eq(x, a) eq(y, a + 1) over every a: O(2^k)."""
    ex, ey = eq_table(list(x)), eq_table(list(y))
    total = Fp2(0)
    for a in range(ex.shape[0] - 1):
        total = total + Fp2(int(ex[a, 0]), int(ex[a, 1])) * Fp2(int(ey[a + 1, 0]), int(ey[a + 1, 1]))
    return total


def next_table(s) -> np.ndarray:
    """The table y -> next~(s, y) = eq(s, y - 1) (0 at y = 0), an extension vector."""
    e = eq_table(list(s))
    out = np.zeros_like(e)
    out[1:] = e[:-1]
    return out


def shift(h: np.ndarray) -> np.ndarray:
    """h'(x) = h(x + 1), 0 at the last index."""
    out = np.zeros_like(h)
    out[:-1] = h[1:]
    return out
