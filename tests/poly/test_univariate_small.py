"""`evaluate_from_evals` takes degrees 2 and 3 by forward-difference
formulas; at every degree it must be `evaluate_from_evals_reference`
(Lagrange), canonical, on random and edge values and points (the nodes,
p - 1, base-field points)."""

from __future__ import annotations

import random

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.poly.univariate import evaluate_coeffs, evaluate_from_evals, evaluate_from_evals_reference


def test_every_degree_is_the_reference():
    rng = random.Random(12)
    edge = (0, 1, P - 1, P - 2)
    for degree in range(0, 17):
        for _ in range(150):
            evals = [Fp2(rng.choice(edge + (rng.randrange(P),)), rng.choice(edge + (rng.randrange(P),)))
                     for _ in range(degree + 1)]
            r = Fp2(rng.choice((0, 1, 2, 3, 4, P - 1, rng.randrange(P))), rng.choice((0, 0, 1, P - 1, rng.randrange(P))))
            got = evaluate_from_evals(evals, r)
            assert got == evaluate_from_evals_reference(evals, r)
            assert 0 <= got.c0 < P and 0 <= got.c1 < P


def test_small_degrees_against_coefficients():
    rng = random.Random(13)
    for degree in (2, 3):
        for _ in range(100):
            coeffs = [Fp2(rng.randrange(P), rng.randrange(P)) for _ in range(degree + 1)]
            evals = [evaluate_coeffs(coeffs, Fp2(i)) for i in range(degree + 1)]
            x = Fp2(rng.randrange(P), rng.randrange(P))
            assert evaluate_from_evals(evals, x) == evaluate_coeffs(coeffs, x)
