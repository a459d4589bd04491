"""`SumOfProducts.to_bytes` packs by a cached layout per terms' tables; it
must be `to_bytes_reference` byte for byte (wide table indices, repeated
tables, one and many terms, a cache hit), and `Term.trusted` must be `Term`."""

from __future__ import annotations

import random

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.sumcheck import claim as claim_mod
from zkaudit.sumcheck.claim import SumOfProducts, Term


def _specs():
    rng = random.Random(3)
    out = [SumOfProducts.product(1), SumOfProducts.product(8),
           SumOfProducts.of(300, [(Fp2(P - 1, 5), (299, 0, 299)), (7, (256,)), (Fp(3), (255, 255))])]
    for _ in range(40):
        num = rng.choice((3, 40, 260, 1000))
        terms = [(Fp2(rng.randrange(P), rng.randrange(P)),
                  tuple(rng.randrange(num) for _ in range(rng.randrange(1, 9))))
                 for _ in range(rng.randrange(1, 30))]
        out.append(SumOfProducts.of(num, terms))
    return out


def test_to_bytes_is_the_reference():
    claim_mod._LAYOUTS.clear()
    for _ in range(2):  # cold, then from the cache
        for spec in _specs():
            assert spec.to_bytes() == spec.to_bytes_reference()


def test_trusted_term_is_the_term():
    t = Term.trusted(Fp2(4, 9), (1, 2, 2))
    assert t == Term(Fp2(4, 9), (1, 2, 2)) and hash(t) == hash(Term(Fp2(4, 9), (1, 2, 2)))


def test_combine_is_the_reference():
    """`combine` groups terms by first table and sorted rest (a cached plan
    per shape); the value must be the term-by-term sum: random specs (one-
    table terms, repeated tables, equal products in other orders, zero and
    p - 1 coefficients), random and edge values, cold and warm plans."""
    rng = random.Random(9)
    claim_mod._COMBINE_PLANS.clear()
    for spec in _specs() * 2:
        for _ in range(3):
            vals = [Fp2(rng.choice((0, 1, P - 1, rng.randrange(P))), rng.choice((0, rng.randrange(P))))
                    for _ in range(spec.num_tables)]
            assert spec.combine(vals) == spec.combine_reference(vals)
    swapped = SumOfProducts.of(4, [(Fp2(3, 1), (0, 1, 2)), (Fp2(P - 3, 5), (0, 2, 1)), (0, (1,)), (Fp2(2), (3, 3))])
    vals = [Fp2(rng.randrange(P), rng.randrange(P)) for _ in range(4)]
    assert swapped.combine(vals) == swapped.combine_reference(vals)


def test_combine_raises_a_repeated_table_by_squaring():
    """A table repeated e times (a Poseidon2 round's x^7) is one power by
    square-and-multiply in `combine_pairs`: every e from 1 to 8, alone,
    beside other tables and factored out of several terms."""
    rng = random.Random(11)
    for e in range(1, 9):
        for spec in (SumOfProducts.of(2, [(Fp2(3, 4), (1,) * e)]),
                     SumOfProducts.of(3, [(1, (0,) + (1,) * (e - 1)), (Fp2(P - 2, 9), (1,) + (2,) * (e - 1))]),
                     SumOfProducts.of(3, [(5, (2,) + (0,) * (e - 1)), (7, (2,) + (1,) * (8 - e))])):
            for vals in ([Fp2(rng.randrange(P), rng.randrange(P)) for _ in range(spec.num_tables)],
                         [Fp2(P - 1, P - 1), Fp2(0, 1), Fp2(P - 1)][: spec.num_tables]):
                assert spec.combine(vals) == spec.combine_reference(vals)
