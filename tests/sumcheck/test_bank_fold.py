"""The bank opening's fold of every deferred check (`zk.bank_claim`): the
vectorized sum of the checks' terms equals the term-by-term reference, with
repeated bank elements, large coefficients and many checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkaudit.errors import ProofRejected
from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2
from zkaudit.sumcheck import zk
from zkaudit.sumcheck.zk import ZkSession
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


def _ends(rng, count: int, bank: str = "advice", start: int = 0):
    """(MaskEnd checks, the same checks as explicit forms): masks of 1-9
    variables, degree 1-8 (twice that for the last), some with a hidden
    claim on other entries of the bank."""
    from zkaudit.field.randomness import random_fp2s

    ends, forms = [], []
    at = start
    for i in range(count):
        n, d = int(rng.integers(1, 10)), int(rng.integers(1, 9))
        degrees = zk.mask_degrees(n, d)
        keys = [(bank, at + j) for j in range(1 + sum(degrees))]
        at += len(keys)
        combined, claim, rho = random_fp2s(3)
        point = random_fp2s(n)
        hidden = Hidden(Fp2(0))
        if i % 2:
            hidden = Hidden(Fp2(0), [((bank, int(k)), c) for k, c in zip(rng.choice(40, size=3, replace=False),
                                                                          random_fp2s(3))])
            keys = [(bank, k[1] + 40) for k in keys]  # the mask past the claim's entries
        session = zk.ZkSession({bank: 100_000})
        zk.require_end_check(session, combined, claim, rho, keys, point, degrees, hidden, n, where="t")
        (end,) = session.checks
        assert type(end) is zk.MaskEnd
        form = zk.end_check_form(combined, rho, keys, point, degrees, hidden, n) - claim
        ends.append(end)
        forms.append(form)
    return ends, forms


@pytest.mark.parametrize("count", [1, 4, 60])
def test_a_mask_end_is_its_form_and_folds_as_it(count):
    """`MaskEnd` (an end check kept by its parameters) has exactly the terms
    and constant of end_check_form minus the claim, and the vectorized fold
    of MaskEnds mixed with other checks equals the term-by-term fold."""
    rng = np.random.default_rng(count)  # test data only
    ends, forms = _ends(rng, count)
    for end, form in zip(ends, forms):
        assert end == form and end.const == form.const and end.terms == form.terms
    mixed = ends + _checks(rng, 3)
    powers = [Fp2(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64))) for _ in mixed]
    as_forms = forms + mixed[count:]
    np.testing.assert_array_equal(zk._fold_terms(mixed, powers), zk._fold_terms_reference(as_forms, powers))


def test_bank_claim_takes_a_mask_end_only_for_its_bank():
    rng = np.random.default_rng(5)  # test data only
    session = zk.ZkSession({"advice": 100_000, "input": 100_000})
    adv, adv_forms = _ends(rng, 3)
    inp, _ = _ends(rng, 2, bank="input")
    session.checks = [adv[0], inp[0], adv[1], inp[1], adv[2]]
    weights, value = zk.bank_claim(session, "advice", _transcript())
    t = _transcript()
    t.absorb_u64(zk.LABEL_DEFERRED, 3)
    gamma = t.challenge_ext(zk.LABEL_DEFERRED)
    powers = [gamma ** j for j in range(3)]
    np.testing.assert_array_equal(weights, zk._fold_terms_reference(adv_forms, powers))
    assert value == sum((-(p * c.const) for p, c in zip(powers, adv_forms)), Fp2(0))


@pytest.mark.parametrize("case", ["zero-rho", "zero-challenge", "shared-keys", "other-bank-claim", "hidden-values",
                                  "shared-key-between-others", "mixed-banks"])
def test_an_end_check_outside_the_mask_end_shape_keeps_its_form(case):
    """Where a mask term could vanish, or the claim shares the mask's keys
    or another bank, or a value is itself Hidden, the end check is the
    explicit form (as before `MaskEnd`)."""
    from zkaudit.field.randomness import random_fp2s

    n, d = 3, 2
    degrees = zk.mask_degrees(n, d)
    keys = [("advice", 10 + j) for j in range(1 + sum(degrees))]
    combined, claim, rho = random_fp2s(3)
    point = random_fp2s(n)
    hidden = Hidden(Fp2(0), [(("advice", 2), Fp2(3))])
    if case == "zero-rho":
        rho = Fp2(0)
    elif case == "zero-challenge":
        point[1] = Fp2(0)
    elif case == "shared-keys":
        hidden = Hidden(Fp2(0), [(keys[2], Fp2(3))])
    elif case == "other-bank-claim":
        hidden = Hidden(Fp2(0), [(("input", 2), Fp2(3))])
    elif case == "shared-key-between-others":  # keys below and above the mask's, one of them inside it
        hidden = Hidden(Fp2(0), [(("advice", 2), Fp2(3)), (keys[4], Fp2(5)), (("advice", 90), Fp2(7))])
    elif case == "mixed-banks":  # an advice key first, an input key last
        hidden = Hidden(Fp2(0), [(("advice", 2), Fp2(3)), (("input", 2), Fp2(3))])
    else:
        combined = Hidden(combined, [(("advice", 3), Fp2(1))])
    session = zk.ZkSession({"advice": 100, "input": 100})
    zk.require_end_check(session, combined, claim, rho, keys, point, degrees, hidden, n, where="t")
    want = zk.end_check_form(combined, rho, keys, point, degrees, hidden, n) - claim
    assert [type(c) for c in session.checks] == [Hidden] and session.checks[0] == want


@pytest.mark.parametrize("where", ["below", "above", "around"])
def test_a_claim_on_other_keys_of_the_bank_is_a_mask_end(where):
    """The claim's keys all below the mask's (the protocol's order), all
    above, or on both sides of it without touching it: a MaskEnd, equal to
    the explicit form."""
    from zkaudit.field.randomness import random_fp2s

    n, d = 3, 2
    degrees = zk.mask_degrees(n, d)
    keys = [("advice", 10 + j) for j in range(1 + sum(degrees))]
    combined, claim, rho = random_fp2s(3)
    point = random_fp2s(n)
    idx = {"below": [2, 9], "above": [10 + len(keys), 60], "around": [9, 10 + len(keys)]}[where]
    hidden = Hidden(Fp2(0), [(("advice", i), Fp2(3 + i)) for i in idx])
    session = zk.ZkSession({"advice": 100})
    zk.require_end_check(session, combined, claim, rho, keys, point, degrees, hidden, n, where="t")
    want = zk.end_check_form(combined, rho, keys, point, degrees, hidden, n) - claim
    (end,) = session.checks
    assert type(end) is zk.MaskEnd and end == want


def test_hidden_to_bytes_is_its_reference():
    """The packed form's bytes (one struct per bank) are the reference's, for
    forms over one bank, several banks, none, and a coefficient at p - 1."""
    from zkaudit.field.randomness import random_fp2s

    cs = random_fp2s(6)
    forms = [Hidden(cs[0]),
             Hidden(cs[1], [(("advice", 3), cs[2]), (("advice", 2**40), Fp2(P - 1, P - 1))]),
             Hidden(Fp2(0), [(("input", 0), cs[3]), (("advice", 7), cs[4]), (("mask", 1), cs[5])])]
    for h in forms:
        assert h.to_bytes() == h.to_bytes_reference()
    assert forms[1].to_bytes() != forms[2].to_bytes()


@pytest.mark.parametrize("count", [1, 5, 60])
def test_mask_weights_on_ints_and_arrays_agree(count):
    """The two ways of raising the masks' powers give the same weight per
    bank index (the helper's checks may share entries: summed, as the fold
    does), the a_0 rows first in both."""
    rng = np.random.default_rng(100 + count)  # test data only
    ends, _ = _ends(rng, count)
    pairs = [(e, Fp2(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64))))
             for e in ends]
    (ia, wa), (ib, wb) = zk._mask_weights_ints(pairs), zk._mask_weights_arrays(pairs)
    np.testing.assert_array_equal(ia[:count], ib[:count])
    np.testing.assert_array_equal(wa[:count], wb[:count])
    from zkaudit.field import vec

    (ea, at_a), (eb, at_b) = np.unique(ia, return_inverse=True), np.unique(ib, return_inverse=True)
    np.testing.assert_array_equal(ea, eb)
    np.testing.assert_array_equal(vec.sum_by_index(wa, at_a, ea.shape[0]), vec.sum_by_index(wb, at_b, eb.shape[0]))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.sampled_from(["advice", "input"]),
       st.sampled_from([0, 1, P - 1, 2**63 + 5]), st.sampled_from([0, 1, P - 1, 12345]))
def test_require_equal_single_term_fast_path_is_the_difference(i, j, bank_b, c0, c1):
    """Two values padded by one bank element each (a scalar table's claims)
    take `require_equal`'s direct path: the check it records is exactly the
    generic `Hidden` difference, equal keys included (they take the generic
    path, and may cancel to a public check)."""
    a = Hidden(Fp2(c0, c1), [(("advice", i), Fp2((c1 + 1) % P, c0))])
    b = Hidden(Fp2(c1, 7), [((bank_b, j), Fp2(P - 1 - c0, c1 + 2))])
    session = ZkSession({"advice": 64, "input": 64})
    want = Hidden.of(a) - Hidden.of(b)
    try:
        session.require_equal(a, b, where="t")
    except ProofRejected:
        assert want.is_public and want.const != Fp2(0)
        return
    if want.is_public:
        assert session.checks == []
        assert want.const == Fp2(0)
    else:
        (got,) = session.checks
        assert got.const == want.const and got.terms == want.terms
