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
        num = rng.choice((3, 40, 260, 70000))
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
