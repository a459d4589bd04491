"""The leaf check's memoized segment selector (computed on plain ints,
climbing to the nearest memoized ancestor) is eq(prefix, point[:depth]) as
`eq_bits` defines it, in any order of asks, on random and Boolean points."""

from __future__ import annotations

import random

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.lookup.protocol import _segment_selector
from zkaudit.poly.mle import eq_bits


def test_selector_is_eq_bits():
    rng = random.Random(6)
    for _ in range(20):
        ends = []
        for _ in range(3):
            n = rng.randrange(0, 9)
            ends.append(([rng.choice((Fp2(0), Fp2(1), Fp2(rng.randrange(P), rng.randrange(P)))) for _ in range(n)],))
        selector = _segment_selector(ends)
        for _ in range(200):
            tree = rng.randrange(3)
            n = len(ends[tree][0])
            depth = rng.randrange(0, n + 1)
            prefix = rng.randrange(1 << depth)
            assert selector(tree, depth, prefix) == eq_bits(prefix, ends[tree][0][:depth])
