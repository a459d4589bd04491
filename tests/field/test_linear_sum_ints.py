"""`LinearSum.add_ints` / `add_const` take scalars as plain ints of any
representative mod p (negative, unreduced): the form must be the one `add`
gives with the reduced Fp2 scalar."""

from __future__ import annotations

import random

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden, LinearSum
from zkaudit.field.scalar import Fp2


def test_add_ints_is_add_with_any_representative():
    rng = random.Random(5)
    for _ in range(200):
        ref, fast = LinearSum(), LinearSum()
        for _ in range(rng.randrange(1, 6)):
            c = Fp2(rng.randrange(P), rng.randrange(P))
            v = c if rng.random() < 0.4 else Hidden(c, [(("advice", rng.randrange(3)), Fp2(rng.randrange(P), 1))])
            s0, s1 = rng.randrange(-P * P, P * P), rng.randrange(-P * P, P * P)
            ref.add(v, Fp2(s0 % P, s1 % P))
            fast.add_ints(v, s0, s1)
            k0, k1 = rng.randrange(-P * P, P * P), rng.randrange(-P * P, P * P)
            ref.add(Fp2(k0 % P, k1 % P))
            fast.add_const(k0, k1)
        a, b = ref.value(), fast.value()
        assert type(a) is type(b) and a == b
        if isinstance(a, Hidden):
            assert a.const == b.const and a.terms == b.terms
