"""The bank opening's fold of every deferred check (`zk.bank_claim`): the
vectorized sum of the checks' terms equals the term-by-term reference, with
repeated bank elements, large coefficients and many checks."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2
from zkaudit.sumcheck import zk
from zkaudit.transcript import Transcript


def _checks(rng, count: int, bank: str = "advice") -> list[Hidden]:
    out = []
    for _ in range(count):
        n = int(rng.integers(1, 40))
        keys = rng.choice(300, size=n, replace=False)  # distinct within a check, shared across checks
        terms = [((bank, int(k)), Fp2(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64)))) for k in keys]
        terms.append(((bank, 7), Fp2(P - 1, P - 1)))  # the largest coefficient, on an element every check has
        out.append(Hidden(Fp2(int(rng.integers(0, P, dtype=np.uint64)), 0), terms))
    return out


@pytest.mark.parametrize("count", [1, 3, 135])
def test_fold_equals_the_reference(count):
    rng = np.random.default_rng(count)  # test data only
    mine = _checks(rng, count)
    powers = [Fp2(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64))) for _ in mine]
    np.testing.assert_array_equal(zk._fold_terms(mine, powers), zk._fold_terms_reference(mine, powers))


def _transcript() -> Transcript:
    t = Transcript()
    t.absorb_statement("test/bank-fold", 1)
    return t


def test_bank_claim_folds_only_its_banks_checks_and_refuses_mixed_ones():
    rng = np.random.default_rng(9)  # test data only
    session = zk.ZkSession({"advice": 400, "input": 400})
    session.checks = _checks(rng, 5) + _checks(rng, 2, bank="input")
    weights, value = zk.bank_claim(session, "advice", _transcript())
    t = _transcript()
    t.absorb_u64(zk.LABEL_DEFERRED, 5)
    gamma = t.challenge_ext(zk.LABEL_DEFERRED)
    powers = [gamma ** j for j in range(5)]
    np.testing.assert_array_equal(weights, zk._fold_terms_reference(session.checks[:5], powers))
    assert value == sum((-(p * c.const) for p, c in zip(powers, session.checks[:5])), Fp2(0))
    session.checks.append(Hidden(Fp2(0), [(("advice", 1), Fp2(1)), (("input", 2), Fp2(1))]))
    with pytest.raises(zk.DeferredCheckFailed, match="spans banks"):
        zk.bank_claim(session, "advice", _transcript())
