"""Libra's sum-check mask (Xie et al., "Libra", CRYPTO'19, §4.1).

    g(x) = a_0 + g_1(x_1) + ... + g_n(x_n),   g_i(X) = sum_{j=1..d} c_ij X^j,

every coefficient uniform in K = GF(p^2) from the CSPRNG. The masked
sum-check proves sum_x f(x) = H by running the ordinary sum-check on
f + rho g for the claim H + rho G, G = sum_x g(x), with rho drawn *after* g
is committed and G is sent. Round i then reveals

    s_i(X) = s_i^f(X) + rho (2^(n-i) (a_0 + sum_{j<i} g_j(r_j) + g_i(X))
                             + 2^(n-i-1) sum_{j>i} g_j(1)),

and g_i's d fresh coefficients make s_i uniform among degree-d polynomials
with s_i(0) + s_i(1) = the running claim: the rounds say nothing about f
beyond H. The verifier's last check needs g(r); the prover states it and the
caller discharges it against the mask commitment (`MaskClaim`).

Size: n d + 1 elements of K. A commitment holds base-field words, so a mask
is stored as 2 (n d + 1) words, each element as (c0, c1); g(r) is then a
*linear* function of those words with weights (w, w X) where w is the
monomial r_i^j (or 1 for a_0) and X the extension's generator
(`MaskClaim.weights`).

**One commitment per proof (`MaskBank`).** A proof runs many sum-checks whose
shapes (n, d) the circuit fixes in advance. The prover samples every mask
first, lays them end to end in one base-field table (each at a recorded
offset), commits that table once with the hiding PCS, and binds the
commitment into the transcript before the first challenge. Each masked
sum-check's verification returns a `MaskClaim`; the caller turns each into
a weighted claim "sum_k weights[k] table[offset + k] = value" on the one
table, and all of them are discharged by the proof's one batched opening.
A mask is used by exactly one sum-check: its G, rounds and g(r) spend its
randomness.

**Soundness.** g is fixed (committed) before rho; a false H survives only if
(H - H*) = rho (G* - G): probability 1 / |K| on top of the sum-check's
n d / |K| (g has degree d per variable, no more than f). The discharged g(r)
is as sound as the opening.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field.constants import P as _P
from zkaudit.field.randomness import random_fp2s
from zkaudit.field.scalar import Fp2

_X = Fp2(0, 1)  # the extension generator: an element c0 + c1 X


def _pow2(k: int) -> Fp2:
    return Fp2(1 << k) if k < 64 else Fp2(pow(2, k, (1 << 64) - (1 << 32) + 1))


@dataclass(frozen=True)
class MaskingPolynomial:
    """g = a_0 + sum_i g_i(x_i); coeffs[i][j - 1] = c_ij."""

    a0: Fp2
    coeffs: tuple[tuple[Fp2, ...], ...]
    degree: int

    @classmethod
    def sample(cls, num_vars: int, degree: int) -> MaskingPolynomial:
        """Fresh mask from the OS CSPRNG."""
        if num_vars < 0 or degree < 1:
            raise ValueError("a mask needs num_vars >= 0 and degree >= 1")
        draws = random_fp2s(num_vars * degree + 1)
        return cls.from_elements(draws, num_vars, degree)

    @classmethod
    def from_elements(cls, elems, num_vars: int, degree: int) -> MaskingPolynomial:
        """From a flat list [a_0, c_11..c_1d, c_21, ...] (tests fix them)."""
        elems = list(elems)
        if len(elems) != num_vars * degree + 1:
            raise ValueError(f"a mask of {num_vars} variables, degree {degree} has {num_vars * degree + 1} elements")
        rows = tuple(tuple(elems[1 + i * degree : 1 + (i + 1) * degree]) for i in range(num_vars))
        return cls(elems[0], rows, degree)

    @property
    def num_vars(self) -> int:
        return len(self.coeffs)

    def elements(self) -> list[Fp2]:
        return [self.a0] + [c for row in self.coeffs for c in row]

    def univariate(self, i: int, x: Fp2) -> Fp2:
        """g_i(x) (0-indexed variable i)."""
        acc, power = Fp2(0), Fp2(1)
        for c in self.coeffs[i]:
            power = power * x
            acc = acc + c * power
        return acc

    def at_one(self, i: int) -> Fp2:
        total = Fp2(0)
        for c in self.coeffs[i]:
            total = total + c
        return total

    def cube_sum(self) -> Fp2:
        """G = 2^n a_0 + 2^(n-1) sum_i g_i(1)   (g_i(0) = 0)."""
        n = self.num_vars
        total = _pow2(n) * self.a0
        if n:
            ones = Fp2(0)
            for i in range(n):
                ones = ones + self.at_one(i)
            total = total + _pow2(n - 1) * ones
        return total

    def evaluate(self, point) -> Fp2:
        total = self.a0
        for i, x in enumerate(point):
            total = total + self.univariate(i, x)
        return total

    def round_evals(self, i: int, prefix: Fp2, suffix_ones: Fp2, num_points: int) -> list[Fp2]:
        """Round i's polynomial of g at X = 0..num_points-1, given
        prefix = a_0 + sum_{j<i} g_j(r_j) and suffix_ones = sum_{j>i} g_j(1)."""
        rest = self.num_vars - i - 1
        scale = _pow2(rest)
        tail = _pow2(rest - 1) * suffix_ones if rest > 0 else Fp2(0)
        # g_i at the small integers t by Horner on plain ints (the Fp2
        # operators' call overhead made this a tenth of a proof's time)
        row = self.coeffs[i]
        c0s, c1s = [c.c0 for c in reversed(row)], [c.c1 for c in reversed(row)]
        out = []
        for t in range(num_points):
            a0 = a1 = 0
            for b0, b1 in zip(c0s, c1s):
                a0 = (a0 * t + b0) % _P
                a1 = (a1 * t + b1) % _P
            a0, a1 = a0 * t % _P, a1 * t % _P  # g_i has no constant term
            out.append(scale * (prefix + Fp2(a0, a1)) + tail)
        return out

    def table_words(self) -> np.ndarray:
        """The base-field words a commitment holds: (c0, c1) per element."""
        out = []
        for e in self.elements():
            out += [e.c0, e.c1]
        return np.array(out, dtype=np.uint64)


def monomial_weights(point, degree: int) -> list[Fp2]:
    """w with g(point) = sum_k w[k] e[k] over g's elements e (a_0 first)."""
    out = [Fp2(1)]
    for x in point:
        power = Fp2(1)
        for _ in range(degree):
            power = power * x
            out.append(power)
    return out


@dataclass(frozen=True)
class MaskClaim:
    """g(point) = value, for the caller to discharge against the mask commitment."""

    point: tuple[Fp2, ...]
    value: Fp2
    degree: int

    def weights(self) -> list[Fp2]:
        """Weights on the mask's 2 (n d + 1) base words: g(point) = sum_k weights[k] words[k]."""
        out = []
        for w in monomial_weights(self.point, self.degree):
            out += [w, w * _X]
        return out


@dataclass
class MaskBank:
    """Every mask of one proof, end to end in one table (see the module
    docstring). `add` reserves and samples a mask; `table()` is what the
    prover commits; `slot(i)` gives a mask's (offset, length)."""

    masks: list[MaskingPolynomial]

    @classmethod
    def sample(cls, shapes) -> MaskBank:
        """shapes: [(num_vars, degree), ...] in the order the proof uses them."""
        return cls([MaskingPolynomial.sample(n, d) for n, d in shapes])

    def offsets(self) -> list[int]:
        out, at = [], 0
        for m in self.masks:
            out.append(at)
            at += 2 * (m.num_vars * m.degree + 1)
        return out

    def table(self) -> np.ndarray:
        """All masks' words, zero-padded to a power of two (>= 2)."""
        words = np.concatenate([m.table_words() for m in self.masks]) if self.masks else np.zeros(0, np.uint64)
        size = max(2, 1 << max(0, (words.shape[0] - 1).bit_length()))
        out = np.zeros(size, dtype=np.uint64)
        out[: words.shape[0]] = words
        return out
