"""Adversarial review of the verifier fast paths of commits 4906255..39a80f7
(`git log 69baaae..HEAD`): every fast path against the code it replaced,
on edge values (0, 1, p - 1, >= 2^63, non-canonical words), Hidden forms
with cancelling terms or terms in several banks, challenges 0 / 1,
Boolean-looking and repeated points, claim keys around / inside a mask's
key range, and the result's type (Fp2 versus Hidden).

* column_check.eq_sum_at: `_eq_sum_at_ints` / `_eq_sum_at_arrays` /
  `eq_sum_at_reference`, on both sides of INTS_UP_TO;
* Hidden.to_bytes against to_bytes_reference;
* sumcheck.zk: bank_claim (powers on ints) against the old Fp2 fold of the
  explicit forms, `_mask_weights_ints` against `_mask_weights_arrays`,
  require_end_check's O(1) disjointness test against the old set test, and
  an end-to-end check on a prover's bank: an honest end check folds to a
  true bank claim, a forged one to a false claim, on both mask-weight paths;
* lookup.protocol.joint_claim / joint_merge against their references;
* statements.inference.zk.repad_target against repad_target_reference.
"""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import protocol
from zkaudit.pcs import column_check as cc
from zkaudit.sumcheck import zk
from zkaudit.transcript import Transcript

U64 = np.uint64
EDGE = [0, 1, 2, P - 1, P - 2, 1 << 63, (1 << 63) - 1, (1 << 63) + 1, P // 2, (1 << 32) - 1, 1 << 32]


def _rv(rnd: random.Random) -> int:
    return rnd.choice(EDGE) if rnd.random() < 0.5 else rnd.randrange(P)


def _ext(rnd: random.Random) -> Fp2:
    return Fp2(_rv(rnd), _rv(rnd) if rnd.random() < 0.7 else 0)


def _nonzero(rnd: random.Random) -> Fp2:
    while True:
        v = _ext(rnd)
        if v.c0 or v.c1:
            return v


def _transcript() -> Transcript:
    t = Transcript()
    t.absorb_statement("test/review-verifier-fast-paths", 1)
    return t


# ----------------------------------------------------------------- eq_sum_at


def _points(rnd: random.Random, count: int, n: int, noncanonical: bool = False) -> np.ndarray:
    pts = np.zeros((count, n, 2), dtype=U64)
    for t in range(count):
        for j in range(n):
            k = rnd.random()
            if k < 0.45:  # Boolean: c1 == 0, c0 in {0, 1}
                pts[t, j] = (rnd.randrange(2), 0)
            elif k < 0.55:  # looks Boolean in c0 only
                pts[t, j] = (rnd.randrange(2), _rv(rnd) or 1)
            elif k < 0.6:  # 2: just past Boolean
                pts[t, j] = (2, 0)
            else:
                pts[t, j] = (_rv(rnd), _rv(rnd))
            if noncanonical and rnd.random() < 0.3:  # p and p + 1 stand for 0 and 1
                pts[t, j] = (rnd.choice([P, P + 1, (1 << 64) - 1]), rnd.choice([0, P, (1 << 64) - 1]))
    for t in range(1, count):
        r = rnd.random()
        if r < 0.2:
            pts[t] = pts[rnd.randrange(t)]  # a repeated point
        elif r < 0.5 and n > 1:
            s = rnd.randrange(t)
            cut = rnd.randrange(1, n)
            pts[t, :cut] = pts[s, :cut]  # a shared prefix
    return pts


def _coeffs(rnd: random.Random, pts: np.ndarray, noncanonical: bool = False) -> np.ndarray:
    count = pts.shape[0]
    co = np.array([(_rv(rnd), _rv(rnd)) for _ in range(count)], dtype=U64).reshape(count, 2)
    for t in range(1, count):  # a repeated point's coefficient cancelling an earlier one's
        for s in range(t):
            if np.array_equal(pts[t], pts[s]) and rnd.random() < 0.5:
                co[t] = ((P - int(co[s, 0])) % P, (P - int(co[s, 1])) % P)
                break
    if noncanonical:
        co[0] = (P, (1 << 64) - 1)
    return co


def _sigma(rnd: random.Random, n: int) -> list[Fp2]:
    return [rnd.choice([_ext(rnd), Fp2(0), Fp2(1), Fp2(P - 1), Fp2(P - 1, P - 1), Fp2(2).inverse()]) for _ in range(n)]


@pytest.mark.parametrize("seed", range(6))
def test_eq_sum_at_int_path_is_the_array_path_and_the_reference(seed):
    rnd = random.Random(1000 + seed)
    for _ in range(60):
        n = rnd.choice([0, 1, 2, 3, 5, 8, 11])
        count = rnd.choice([1, 2, 3, 7, 33])
        pts = _points(rnd, count, n)
        co = _coeffs(rnd, pts)
        sigma = _sigma(rnd, n)
        want = cc.eq_sum_at_reference(pts, co, sigma)
        assert cc._eq_sum_at_arrays(pts, co, sigma) == want
        got = cc._eq_sum_at_ints(pts, co, sigma)
        assert type(got) is Fp2 and got.c0 < P and got.c1 < P and got == want, (n, count)
        assert cc.eq_sum_at(pts, co, sigma) == want


def test_eq_sum_at_on_non_canonical_words():
    """Words >= p (not produced by the verifier, but the int path must not
    read p or p + 1 as a Boolean coordinate differently from the arrays)."""
    rnd = random.Random(77)
    for _ in range(80):
        n, count = rnd.choice([1, 3, 6]), rnd.choice([1, 4, 9])
        pts = _points(rnd, count, n, noncanonical=True)
        co = _coeffs(rnd, pts, noncanonical=True)
        sigma = _sigma(rnd, n)
        want = cc._eq_sum_at_arrays(pts, co, sigma)
        assert cc._eq_sum_at_ints(pts, co, sigma) == want
        assert cc.eq_sum_at_reference(pts, co, sigma) == want


@pytest.mark.parametrize("count", [cc.INTS_UP_TO // 8, cc.INTS_UP_TO // 8 + 1])
def test_eq_sum_at_dispatch_on_both_sides_of_the_threshold(count):
    """8 coordinates: 2048 (ints) and 2056 (arrays) entries, a table's
    block-address points (Boolean prefix, shared) with a few repeats."""
    rnd = random.Random(count)
    n = 8
    pts = np.zeros((count, n, 2), dtype=U64)
    for t in range(count):
        addr = t % 37
        pts[t, :4, 0] = [(addr >> (3 - b)) & 1 for b in range(4)]
        for j in range(4, n):
            pts[t, j] = (rnd.randrange(P), rnd.randrange(P)) if t % 5 else (t % 2, 0)
    pts[-1] = pts[0]
    co = _coeffs(rnd, pts)
    sigma = _sigma(rnd, n)
    want = cc.eq_sum_at_reference(pts, co, sigma)
    assert cc.eq_sum_at(pts, co, sigma) == want
    assert cc._eq_sum_at_ints(pts, co, sigma) == cc._eq_sum_at_arrays(pts, co, sigma) == want


# ------------------------------------------------------------ Hidden.to_bytes


def test_hidden_to_bytes_is_the_reference_on_edge_forms():
    forms = [
        Hidden(Fp2(0)),
        Hidden(Fp2(P - 1, P - 1)),
        Hidden(Fp2(1 << 63, (1 << 63) + 1), [(("advice", 0), Fp2(P - 1, 0)), (("advice", (1 << 64) - 1), Fp2(0, 1))]),
        Hidden(Fp2(5), [(("", 3), Fp2(2)), (("x" * 255, 9), Fp2(3, 4)), (("mask", 1), Fp2(P - 1, P - 1))]),
        Hidden(Fp2(5), [(("bänk-é", 3), Fp2(2)), (("advice", 2), Fp2(7)), (("input", 2), Fp2(7))]),
        Hidden(Fp2(5), [(("advice", 2), Fp2(7)), (("advice", 2), Fp2(P - 7))]),  # cancelled: no terms
    ]
    for h in forms:
        assert h.to_bytes() == h.to_bytes_reference()
        # twice: the second call takes the cached packer of each bank
        assert h.to_bytes() == h.to_bytes_reference()
    assert forms[5].terms == () and forms[5].to_bytes() == Hidden(Fp2(5)).to_bytes()


def test_hidden_to_bytes_refuses_what_the_reference_refuses():
    for h in (Hidden(Fp2(1), [(("y" * 256, 1), Fp2(1))]), Hidden(Fp2(1), [(("advice", -1), Fp2(1))]),
              Hidden(Fp2(1), [(("advice", 1 << 64), Fp2(1))])):
        with pytest.raises((struct.error, ValueError)):
            h.to_bytes_reference()
        with pytest.raises((struct.error, ValueError)):
            h.to_bytes()


# -------------------------------------------------------- require_end_check


def _old_fast(combined, claim, rho, keys, point, degrees, hidden_part) -> bool:
    """require_end_check's MaskEnd test as of 69baaae (a set of banks, each key looked at)."""
    bank, start = keys[0] if keys else (None, 0)
    fast = (type(combined) is Fp2 and type(claim) is Fp2 and (rho.c0 or rho.c1) and keys
            and len(keys) == 1 + sum(degrees) and keys[-1] == (bank, start + len(keys) - 1)
            and all(x.c0 or x.c1 for x in point))
    if fast and hidden_part.terms:
        hb = {k[0] for k, _ in hidden_part.terms}
        fast = hb == {bank} and all(not start <= k[1] < start + len(keys) for k, _ in hidden_part.terms)
    return bool(fast)


BANKS = ("advice", "input", "mask", "a", "zz")


def _end_case(rnd: random.Random, placement: str | None = None):
    n, d = rnd.randint(1, 4), rnd.randint(1, 3)
    degrees = zk.mask_degrees(n, d)
    size = 1 + sum(degrees)
    bank = rnd.choice(["advice", "mask", "input"])
    start = rnd.randint(1, 30)
    keys = [(bank, start + i) for i in range(size)]
    point = [_nonzero(rnd) if rnd.random() < 0.95 else Fp2(0) for _ in range(n)]
    rho = _nonzero(rnd) if rnd.random() < 0.95 else Fp2(0)
    below, above = list(range(0, start)), list(range(start + size, start + size + 12))
    inside = list(range(start, start + size))
    if placement is None:
        idx_bank = [(rnd.choice([bank, bank, bank] + list(BANKS)),
                     rnd.choice(below + above + inside + [start - 1, start, start + size - 1, start + size]))
                    for _ in range(rnd.randint(0, 6))]
    else:
        idx_bank = {
            "below": [(bank, below[0]), (bank, start - 1)],
            "above": [(bank, start + size), (bank, above[-1])],
            "around": [(bank, start - 1), (bank, start + size)],
            "first-key-inside": [(bank, start - 1), (bank, start), (bank, start + size)],
            "last-key-inside": [(bank, start - 1), (bank, start + size - 1), (bank, start + size)],
            "one-inside-between": [(bank, 0), (bank, start + size // 2), (bank, above[-1])],
            "all-inside": [(bank, k) for k in inside[:3]],
            "other-bank-first": [("a", start + size + 1), (bank, start - 1)],
            "other-bank-last": [(bank, start - 1), ("zz", 0)],
            "other-bank-between-same-index": [(bank, start - 1), (bank + "0", start), (bank, start + size)],
        }[placement]
    terms = [(k, _nonzero(rnd)) for k in idx_bank]
    hidden = Hidden(Fp2(0) if rnd.random() < 0.8 else _ext(rnd), terms)
    return n, degrees, keys, point, rho, hidden


def _run_end(combined, claim, rho, keys, point, degrees, hidden, n):
    session = zk.ZkSession({b: 200 for b in BANKS + ("advice0", "input0", "mask0")})
    try:
        zk.require_end_check(session, combined, claim, rho, keys, point, degrees, hidden, n, where="t")
    except zk.DeferredCheckFailed:
        return session, True
    return session, False


PLACEMENTS = ["below", "above", "around", "first-key-inside", "last-key-inside", "one-inside-between",
              "all-inside", "other-bank-first", "other-bank-last", "other-bank-between-same-index"]


@pytest.mark.parametrize("placement", PLACEMENTS + [None])
def test_end_check_takes_the_mask_end_exactly_when_the_old_test_did(placement):
    rnd = random.Random(PLACEMENTS.index(placement) if placement else 4242)
    for _ in range(40 if placement else 600):
        n, degrees, keys, point, rho, hidden = _end_case(rnd, placement)
        combined, claim = _ext(rnd), _ext(rnd)
        session, raised = _run_end(combined, claim, rho, keys, point, degrees, hidden, n)
        want = zk.end_check_form_reference(combined, rho, keys, point, degrees, hidden, n) - claim
        if raised:  # a public difference, nonzero: refused on the spot by both
            assert want.is_public and want.const != Fp2(0)
            continue
        if not session.checks:
            assert want.is_public and want.const == Fp2(0)
            continue
        (chk,) = session.checks
        assert (type(chk) is zk.MaskEnd) == _old_fast(combined, claim, rho, keys, point, degrees, hidden)
        assert (chk.hidden() if type(chk) is zk.MaskEnd else chk) == want


# ------------------------------------------------------------ bank_claim fold


def _old_bank_claim(forms: list[Hidden], gamma: Fp2):
    """69baaae's fold on explicit forms: Fp2 powers of gamma, the term loop."""
    powers, value, power = [], Fp2(0), Fp2(1)
    for chk in forms:
        powers.append(power)
        value = value - power * chk.const
        power = power * gamma
    return zk._fold_terms_reference(forms, powers), value


def _apply(weights: np.ndarray, words: np.ndarray) -> Fp2:
    """sum_w weights[w] * words[w] (base words) in GF(p^2)."""
    t0 = t1 = 0
    for (a, b), x in zip(weights.tolist(), words[: weights.shape[0]].tolist()):
        t0 += a * x
        t1 += b * x
    return Fp2(t0 % P, t1 % P)


def _fill_session(rnd, session, prover, bank, n_ends, nv_range, forge=None):
    """n_ends masked end checks (the protocol's order: the claim's keys
    taken before the mask's) plus plain deferred checks, all true on the
    prover's bank unless `forge` moves one. Returns the explicit forms."""
    forms = []
    for e in range(n_ends):
        n = rnd.randint(*nv_range)
        degrees = zk.mask_degrees(n, rnd.randint(1, 3))
        claim_keys = session.take(rnd.randint(1, 4), bank)
        prover.take(len(claim_keys), bank)
        hidden = Hidden(Fp2(0), [(k, rnd.choice([_nonzero(rnd), Fp2(P - 1), Fp2(1)])) for k in claim_keys])
        keys = session.take(1 + sum(degrees), bank)
        prover.take(len(keys), bank)
        point = [rnd.choice([_nonzero(rnd), Fp2(1), Fp2(P - 1)]) for _ in range(n)]
        rho, combined = _nonzero(rnd), _ext(rnd)
        form = zk.end_check_form_reference(combined, rho, keys, point, degrees, hidden, n)
        claim = prover.value(form)  # the last round's claim an honest run arrives at
        if forge is not None and e == forge[0]:
            claim = claim + forge[1]
        before = len(session.checks)
        zk.require_end_check(session, combined, claim, rho, keys, point, degrees, hidden, n, where="t")
        assert len(session.checks) == before + 1 and type(session.checks[-1]) is zk.MaskEnd
        forms.append(form - claim)
        if rnd.random() < 0.5:  # a plain deferred check between the end checks
            (k,) = session.take(1, bank)
            prover.take(1, bank)
            v = prover.value(Hidden(Fp2(0), [(k, Fp2(1))]))
            got = Hidden(v + Fp2(3), [(k, Fp2(P - 1)), (claim_keys[0], Fp2(2))])
            exp = Fp2(3) + prover.value(Hidden(Fp2(0), [(claim_keys[0], Fp2(2))]))
            session.require_equal(got, exp, where="t")
            forms.append(Hidden.of(got) - exp)
    return forms


@pytest.mark.parametrize("n_ends,nv_range", [(1, (1, 3)), (6, (1, 5)), (45, (3, 6))],
                         ids=["one-end", "int-weights", "array-weights"])
def test_bank_claim_is_the_old_fold_and_true_on_the_bank(n_ends, nv_range):
    rnd = random.Random(n_ends)
    sizes = {"advice": 2000, "input": 64}
    prover = zk.ZkProver(sizes)
    session = zk.ZkSession(sizes)
    forms = _fill_session(rnd, session, prover, "advice", n_ends, nv_range)
    ends = [c for c in session.checks if type(c) is zk.MaskEnd]
    masks = sum(len(c.point) for c in ends)
    assert (masks <= zk.MASK_INTS_UP_TO) == (n_ends < 45)  # both mask-weight paths are exercised
    # a check on another bank is left out of this one's fold
    (ik,) = session.take(1, "input")
    session.require_equal(Hidden(Fp2(0), [(ik, Fp2(1))]), Fp2(0), where="t")
    weights, value = zk.bank_claim(session, "advice", _transcript())
    t = _transcript()
    t.absorb_u64(zk.LABEL_DEFERRED, len(forms))
    gamma = t.challenge_ext(zk.LABEL_DEFERRED)
    want_w, want_v = _old_bank_claim(forms, gamma)
    np.testing.assert_array_equal(weights, want_w)
    assert type(value) is Fp2 and value == want_v
    assert _apply(weights, prover.table("advice")) == value  # every check true: the folded claim holds


@pytest.mark.parametrize("delta", [Fp2(1), Fp2(P - 1), Fp2(0, 1), Fp2(1 << 63, P - 1)])
@pytest.mark.parametrize("n_ends,nv_range", [(5, (1, 4)), (45, (3, 6))], ids=["int-weights", "array-weights"])
def test_a_forged_end_check_folds_to_a_false_bank_claim(delta, n_ends, nv_range):
    """A last-round claim moved by delta (what a cheating prover's rounds
    would need) in one MaskEnd: the folded bank claim is false on the bank."""
    rnd = random.Random(7 + n_ends)
    sizes = {"advice": 2000}
    prover = zk.ZkProver(sizes)
    session = zk.ZkSession(sizes)
    forms = _fill_session(rnd, session, prover, "advice", n_ends, nv_range, forge=(n_ends // 2, delta))
    weights, value = zk.bank_claim(session, "advice", _transcript())
    t = _transcript()
    t.absorb_u64(zk.LABEL_DEFERRED, len(forms))
    want_w, want_v = _old_bank_claim(forms, t.challenge_ext(zk.LABEL_DEFERRED))
    np.testing.assert_array_equal(weights, want_w)
    assert value == want_v
    assert _apply(weights, prover.table("advice")) != value


def test_mask_weights_int_and_array_paths_sum_to_the_same_weights():
    rnd = random.Random(99)
    for _ in range(30):
        ends = []
        at = 0
        for _ in range(rnd.randint(1, 6)):
            n = rnd.randint(1, 6)
            degrees = zk.mask_degrees(n, rnd.randint(1, 4))
            point = [rnd.choice([_nonzero(rnd), Fp2(1), Fp2(P - 1), Fp2(0)]) for _ in range(n)]
            chk = zk.MaskEnd(_ext(rnd), _nonzero(rnd), "advice", at, point, degrees, ())
            ends.append((chk, rnd.choice([_ext(rnd), Fp2(0), Fp2(1)])))
            at += rnd.choice([1 + sum(degrees), 2])  # consecutive, or overlapping masks
        from zkaudit.field import vec

        def summed(pair):
            idx, w = pair
            el, inv = np.unique(idx, return_inverse=True)
            return el, vec.sum_by_index(np.ascontiguousarray(w), inv, el.shape[0])

        a, b = summed(zk._mask_weights_ints(ends)), summed(zk._mask_weights_arrays(ends))
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


# ------------------------------------------------------------- lookup joints


def _value(rnd: random.Random):
    k = rnd.randrange(4)
    if k == 0:
        return _ext(rnd)
    if k == 1:
        return Hidden(_ext(rnd))  # Hidden without terms: stays Hidden in both
    return Hidden(_ext(rnd), [((rnd.choice(BANKS), rnd.randrange(6)), _nonzero(rnd)) for _ in range(rnd.randint(1, 6))])


def _same(got, want):
    assert type(got) is type(want)
    if type(want) is Hidden:
        assert got.const == want.const and got.terms == want.terms
    else:
        assert got == want


@pytest.mark.parametrize("seed", range(3))
def test_joint_merge_and_claim_on_adversarial_forms(seed):
    rnd = random.Random(500 + seed)
    for _ in range(400):
        values = [_ext(rnd)] + [_value(rnd) for _ in range(8)]
        r = rnd.random()
        if r < 0.2:
            values[2] = values[1]  # p_R = p_L
        elif r < 0.4 and type(values[1]) is Hidden:
            values[2] = -values[1]  # every term cancels at c = 1/2
        elif r < 0.5 and type(values[3]) is Hidden:
            values[4] = values[3] * Fp2(P - 1) + Fp2(1)
        c = rnd.choice([_ext(rnd), Fp2(0), Fp2(1), Fp2(P - 1), Fp2(2).inverse(), Fp2(0, 1)])
        for i in range(2):
            got, want = protocol.joint_merge(values, c, i), protocol.joint_merge_reference(values, c, i)
            for g, w in zip(got, want):
                _same(g, w)
        claims = [(_value(rnd), _value(rnd)) for _ in range(4)]
        if rnd.random() < 0.3:
            claims[1] = (claims[0][0], -claims[0][0])
        active = sorted(rnd.sample(range(4), rnd.randint(0, 4)))
        mus = [rnd.choice([_ext(rnd), Fp2(0), Fp2(1), Fp2(P - 1)]) for _ in active]
        lam = rnd.choice([_ext(rnd), Fp2(0), Fp2(1), Fp2(P - 1)])
        _same(protocol.joint_claim(mus, lam, claims, active), protocol.joint_claim_reference(mus, lam, claims, active))


# --------------------------------------------------------------- repad_target


def _tensor_claims(rnd: random.Random, values):
    from zkaudit.layers.claim import TensorClaim

    return [TensorClaim("t", (_ext(rnd), _ext(rnd)), v) for v in values]


def test_repad_target_on_adversarial_forms():
    from zkaudit.statements.inference import zk as izk

    rnd = random.Random(31)
    for trial in range(150):
        values = [_value(rnd) for _ in range(rnd.randint(1, 5))]
        if trial % 3 == 0 and type(values[0]) is Hidden:
            values.append(-values[0])  # cancels the first term's form up to rho
        if trial % 5 == 0:
            values = [_ext(rnd) for _ in values]  # all public: still a Hidden target
        claims = _tensor_claims(rnd, values)
        if trial % 4 == 0:
            claims.append(claims[0])  # a repeated claim, deduplicated
        t1, t2 = _transcript(), _transcript()
        got, want = izk.repad_target(claims, t1), izk.repad_target_reference(claims, t2)
        assert got[0] == want[0] and got[1] == want[1]
        assert type(got[2]) is Hidden and type(want[2]) is Hidden
        assert got[2].const == want[2].const and got[2].terms == want[2].terms
        assert t1.challenge_ext(b"after") == t2.challenge_ext(b"after")


def test_repad_target_refuses_a_base_field_value_like_its_reference():
    """A claim value of type Fp (not reachable from proof bytes): both refuse
    it with TypeError (found by the review as a divergence; the fast path now
    refuses it too)."""
    from zkaudit.statements.inference import zk as izk

    rnd = random.Random(3)
    claims = _tensor_claims(rnd, [Fp(5), _ext(rnd)])
    with pytest.raises(TypeError):
        izk.repad_target_reference(claims, _transcript())
    with pytest.raises(TypeError):
        izk.repad_target(claims, _transcript())
