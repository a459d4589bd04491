"""`LinearSum` (sums of public multiples of Fp2 and Hidden values on plain
ints) gives exactly the form Hidden arithmetic gives: same constant, same
sorted merged nonzero terms, a Hidden as soon as one addend is one."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden, LinearSum, hidden_sum
from zkaudit.field.scalar import Fp, Fp2

KEYS = [("advice", i) for i in range(4)] + [("tape", 0)]


def _value(rng: random.Random):
    kind = rng.randrange(5)
    small = [0, 1, P - 1, rng.randrange(P)]
    if kind == 0:
        return Fp2(rng.choice(small), rng.choice(small))
    if kind == 1:
        return Fp(rng.choice(small))
    if kind == 2:
        return rng.randrange(-5, 5)
    terms = [(rng.choice(KEYS), Fp2(rng.choice(small), rng.choice(small))) for _ in range(rng.randrange(4))]
    return Hidden(Fp2(rng.choice(small), rng.choice(small)), terms)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32))
def test_linear_sum_is_hidden_arithmetic(seed):
    rng = random.Random(seed)
    acc, products = LinearSum(), []
    for _ in range(rng.randrange(8)):
        v = _value(rng)
        if rng.random() < 0.3:
            acc.add(v)
            products.append(v)
        else:
            s = Fp2(rng.choice([0, 1, P - 1, rng.randrange(P)]), rng.choice([0, rng.randrange(P)]))
            acc.add(v, s)
            products.append(Hidden.of(v) * s if isinstance(v, Hidden) else Fp2.from_base(v) * s
                            if isinstance(v, Fp) else Fp2(v) * s if isinstance(v, int) else v * s)
    got, want = acc.value(), hidden_sum(products)
    assert type(got) is type(want)
    assert got == want
    if isinstance(got, Hidden):
        assert got.to_bytes() == want.to_bytes()


def test_cancelling_terms_leave_a_hidden_without_terms():
    k = ("advice", 3)
    acc = LinearSum()
    acc.add(Hidden(Fp2(2), [(k, Fp2(5))]))
    acc.add(Hidden(Fp2(0), [(k, Fp2(1))]), Fp2(P - 5))
    got = acc.value()
    assert isinstance(got, Hidden) and got.terms == () and got.const == Fp2(2)
