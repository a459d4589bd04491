"""`LinearClaim` on the hiding commitment (what a zero-knowledge proof's
claims are): evaluations, single entries and a dense block of weights,
each honest claim accepted and each false one rejected."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.randomness import random_base, random_ext
from zkaudit.field.scalar import Fp2
from zkaudit.pcs import PcsParams, commit, verify
from zkaudit.pcs import open as pcs_open
from zkaudit.pcs.errors import PcsRejected
from zkaudit.pcs.hiding import LinearClaim
from zkaudit.poly.mle import evaluate
from zkaudit.transcript import Transcript

PARAMS = PcsParams.default_hiding()


def _t() -> Transcript:
    t = Transcript()
    t.absorb_statement("test/linear-claim", 1)
    return t


@pytest.fixture(scope="module")
def committed():
    tables = [random_base(1 << 10), random_base(1 << 3), random_base(1 << 12)]
    com, data = commit(tables, PARAMS)
    return tables, com, data


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v)


def _honest(tables):
    z = [Fp2(5, 7)] * 10
    w = Fp2(3, 1)
    first = LinearClaim(((0, tuple(z), Fp2(2)),), ((2, 17, w), (2, 4000, Fp2(9))),
                        Fp2(2) * _ext(evaluate(tables[0], z)) + w * Fp2(int(tables[2][17]))
                        + Fp2(9) * Fp2(int(tables[2][4000])))
    dense = random_ext(3000)  # weights on entries 0..2999 of table 2 (three matrix rows and a part)
    value = Fp2(0)
    for k in range(3000):
        value = value + Fp2(int(dense[k][0]), int(dense[k][1])) * Fp2(int(tables[2][k]))
    block = LinearClaim(((1, (Fp2(2, 3), Fp2(4), Fp2(0, 9)), Fp2(1)),), (), value + _ext(
        evaluate(tables[1], [Fp2(2, 3), Fp2(4), Fp2(0, 9)])), block=(2, dense))
    return [first, block]


def test_honest_linear_claims_open(committed):
    tables, com, data = committed
    claims = _honest(tables)
    verify(com, claims, pcs_open(data, claims, _t()), _t(), PARAMS)


@pytest.mark.parametrize("which", [0, 1])
def test_a_false_linear_claim_is_rejected(committed, which):
    tables, com, data = committed
    claims = _honest(tables)
    c = claims[which]
    claims[which] = LinearClaim(c.evals, c.entries, c.value + 1, block=c.block)
    with pytest.raises(PcsRejected):
        verify(com, claims, pcs_open(data, claims, _t()), _t(), PARAMS)
