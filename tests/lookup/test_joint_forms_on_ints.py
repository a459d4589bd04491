"""The lock-step GKR's claim and merge on ints (`protocol.joint_claim`,
`joint_merge`) give exactly the forms of their expressions (the
`_reference`s): the same type (Fp2 or Hidden) and the same canonical
constant and terms, for public and Hidden values, and for the challenges
0 and 1 that make terms cancel."""

from __future__ import annotations

import random

import pytest

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2
from zkaudit.lookup import protocol


def _values(rnd: random.Random):
    def ext():
        return Fp2(rnd.randrange(P), rnd.randrange(P))

    def value():
        kind = rnd.randrange(3)
        if kind == 0:
            return ext()
        return Hidden(ext(), [(("advice", rnd.randrange(12)), ext()) for _ in range(rnd.randrange(1, 4))])

    return ext, value


@pytest.mark.parametrize("seed", range(4))
def test_joint_merge_and_claim_are_their_expressions(seed):
    rnd = random.Random(seed)
    ext, value = _values(rnd)
    for _ in range(300):
        values = [ext()] + [value() for _ in range(8)]
        c = rnd.choice([ext(), Fp2(0), Fp2(1)])
        for i in range(2):
            got, want = protocol.joint_merge(values, c, i), protocol.joint_merge_reference(values, c, i)
            assert got == want and [type(v) for v in got] == [type(v) for v in want]
        claims = [(value(), value()) for _ in range(4)]
        mus = [Fp2(1)] + [rnd.choice([ext(), Fp2(0)]) for _ in range(3)]
        lam = rnd.choice([ext(), Fp2(0)])
        active = sorted(rnd.sample(range(4), rnd.randrange(1, 5)))
        got = protocol.joint_claim(mus[: len(active)], lam, claims, active)
        want = protocol.joint_claim_reference(mus[: len(active)], lam, claims, active)
        assert got == want and type(got) is type(want)


def test_a_pair_that_cancels_leaves_the_same_form():
    """p_R = p_L as forms: the merged claim is p_L's form exactly."""
    pl = Hidden(Fp2(5), [(("advice", 1), Fp2(7))])
    values = [Fp2(1), pl, pl, Fp2(2), Fp2(3)]
    got = protocol.joint_merge(values, Fp2(9, 4), 0)
    assert got == protocol.joint_merge_reference(values, Fp2(9, 4), 0) and got[0] == pl
