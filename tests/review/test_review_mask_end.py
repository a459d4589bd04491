"""Adversarial review of the deferred masked end check (`zk.MaskEnd`,
`require_end_check`, `_mask_weights`), the GKR's next-layer claim on ints
(`gkr.lane_sum`) and `combine_pairs`' repeated tables (commits c15ae0a,
d7099fe).

Forgeries are built with the real prover: a transcript that rewrites what
the prover absorbs (a claimed sum or mask sum moved by a chosen amount,
every round shifted by a constant so that each round's sum check still
holds) makes the prover compute its honest rounds at the forged
transcript's challenges. The forged proof then passes every on-the-spot
check, and only the folded bank claim can refuse it: each attack asserts
that the prover's committed bank (drawn before any challenge) does not
satisfy it, and that the fold equals the fold of the explicit forms the
old code deferred (`end_check_form` + `require_equal`).

The mutation tests swap in a broken copy of a function (monkeypatch, this
process only) and show the same attack or check would then pass."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.randomness import random_base, random_fp2s
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.hash import gkr, gkr_prover, gkr_verifier
from zkaudit.hash.gkr import NUM_ROUNDS, LaneClaim
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck import SumOfProducts, prover, verifier, zk
from zkaudit.sumcheck.claim import combine_pairs
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.protocol import LABEL_CLAIM, LABEL_MASK_RHO, LABEL_MASK_SUM, LABEL_ROUND
from zkaudit.sumcheck.zk import MASK_BANK, DeferredCheckFailed, MaskEnd, ZkProver, ZkSession
from zkaudit.transcript import Transcript

BANK = 600
HALF = Fp2(2).inverse()
# degree 3 with a repeated table; and a Poseidon2-like x^7 (square-and-multiply in combine_pairs)
SPECS = {
    "cubic": SumOfProducts.of(3, [(1, (0, 1)), (3, (0, 1, 2)), (2, (2,)), (P - 1, (1, 0, 1))]),
    "sbox": SumOfProducts.of(2, [(5, (0,) + (1,) * 7), (P - 1, (0, 1))]),
}


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v)


def _t(session) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/review-mask-end", 1)
    t.zk = session
    return t


class _Rewriting(Transcript):
    """The prover's transcript, absorbing forged values: the claimed sum's
    constant + delta, the mask sum + mu, and each of the first `rounds`
    rounds shifted by a constant (half the running error, so g(0) + g(1)
    meets the forged running claim). `last`, when given, replaces the
    last shifted round's constant (a forger's chosen final error; then
    the error must be twice it)."""

    def __init__(self, delta=Fp2(0), mu=Fp2(0), rounds=None, form=None):
        super().__init__()
        self.delta, self.mu, self.rounds, self.form = delta, mu, rounds, form
        self.eps, self.shifts, self._header = delta, [], False

    def absorb_bytes(self, label, data):
        if label == zk.LABEL_ZK_FORM and self.form is not None:  # a Hidden claim's form: the forged one
            data = self.form
        super().absorb_bytes(label, data)

    def absorb_ext(self, label, x):
        if label == LABEL_CLAIM and not self._header:
            self._header, x = True, x + self.delta
        elif label == LABEL_MASK_SUM and len(self.shifts) == 0:
            x = x + self.mu
        super().absorb_ext(label, x)

    def challenge_ext(self, label):
        r = super().challenge_ext(label)
        if label == LABEL_MASK_RHO and not self.shifts:
            self.eps = self.delta + r * self.mu
        return r

    def absorb_exts(self, label, xs):
        if label == LABEL_ROUND and (self.rounds is None or len(self.shifts) < self.rounds):
            shift = self.eps * HALF
            self.shifts.append(shift)
            self.eps = shift
            xs = [x + shift for x in xs]
        super().absorb_exts(label, xs)


def _shifted(proof: SumcheckProof, shifts, mu) -> SumcheckProof:
    rounds = [tuple(e + s for e in evals) for evals, s in zip(proof.round_evals, shifts)]
    rounds += list(proof.round_evals[len(shifts):])
    return SumcheckProof(tuple(rounds), proof.final_values, proof.mask_sum + mu)


def _residual(zp: ZkProver, session: ZkSession, bank: str, t: Transcript) -> Fp2:
    """sum(weights * committed words) - value of the folded bank claim
    (zero: the opening accepts), after checking the fold equals the fold of
    the explicit forms the old code deferred."""
    mine = [c for c in session.checks if (c.bank if type(c) is MaskEnd else c.terms[0][0][0]) == bank]
    got = zk.bank_claim(session, bank, t)
    assert got is not None and mine
    weights, value = got
    powers, power = [], Fp2(1)
    gamma = t.challenge_ext(b"test/unused")  # only to show the fold is linear in the forms, any powers do
    for _ in mine:
        powers.append(power)
        power = power * gamma
    forms = [c.hidden() if type(c) is MaskEnd else c for c in mine]
    np.testing.assert_array_equal(zk._fold_terms(mine, powers), zk._fold_terms_reference(forms, powers))
    words = zp.table(bank)[: weights.shape[0]].astype(object)
    s0 = int(np.dot(weights[:, 0].astype(object), words) % P)
    s1 = int(np.dot(weights[:, 1].astype(object), words) % P)
    return Fp2(s0, s1) - value


def _forge(spec, n, delta, mu=Fp2(0), *, seed=0):
    """(forged proof, claimed sum it states, true sum, prover session,
    tables, rewriter): the honest prover's run at the forged transcript's
    challenges."""
    zp = ZkProver({"advice": BANK})
    rng = np.random.default_rng(seed)  # test data only
    tables = [rng.integers(0, P, size=1 << n, dtype=np.uint64) for _ in range(spec.num_tables)]
    true_sum = _ext(prover.prove(tables, spec, _t(None))[2])
    tp = _Rewriting(delta, mu)
    tp.absorb_statement("test/review-mask-end", 1)
    tp.zk = zp
    proof, _, _ = prover.prove(tables, spec, tp)
    return _shifted(proof, tp.shifts, mu), true_sum + delta, true_sum, zp, tables, tp


def _verify(spec, n, forged, claimed):
    zv = ZkSession({"advice": BANK})
    tv = _t(zv)
    ev = verifier.verify(SumcheckProof.from_bytes(forged.to_bytes()), claimed, n, spec, tv)
    return ev, zv, tv


@pytest.mark.parametrize("spec", sorted(SPECS))
@pytest.mark.parametrize("n", [0, 1, 3])
def test_honest_run_through_the_rewriter_is_accepted(spec, n):
    """The harness itself: nothing rewritten, the fold holds on the
    committed bank (so the forgeries below fail for their forgery only)."""
    s = SPECS[spec]
    forged, claimed, true_sum, zp, tables, _ = _forge(s, n, Fp2(0))
    ev, zv, tv = _verify(s, n, forged, claimed)
    assert [type(c) for c in zv.checks] == [MaskEnd] and zv.checks == zp.checks
    assert _residual(zp, zv, "advice", tv) == Fp2(0)
    if n:
        for j, table in enumerate(tables):
            assert zp.value(ev.values[j]) == _ext(evaluate(table, list(ev.point)))


@pytest.mark.parametrize("spec", sorted(SPECS))
@pytest.mark.parametrize("n", [0, 1, 3])
def test_attack_false_claimed_sum_with_consistent_rounds(spec, n):
    """A claimed sum off by delta, every round shifted to stay consistent,
    the final values honest (so the table claims it leaves are true):
    on-the-spot checks pass; the MaskEnd's residual on the committed bank
    is exactly the last shift (delta / 2^rounds), never zero."""
    s = SPECS[spec]
    delta = random_fp2s(1)[0]
    forged, claimed, true_sum, zp, tables, tp = _forge(s, n, delta, seed=n + 1)
    ev, zv, tv = _verify(s, n, forged, claimed)
    assert claimed != true_sum
    if n:
        for j, table in enumerate(tables):  # nothing else would catch it
            assert zp.value(ev.values[j]) == _ext(evaluate(table, list(ev.point)))
    (end,) = zv.checks
    assert type(end) is MaskEnd and zp.value(end) == -tp.shifts[-1] != Fp2(0)
    assert _residual(zp, zv, "advice", tv) == -tp.shifts[-1]


@pytest.mark.parametrize("n", [0, 2])
def test_attack_claim_and_mask_sum_lies_that_cancel_in_the_first_round(n):
    """Lie +2^k a_0 in the claimed sum and -2^k a_0 in the mask sum (a_0 the
    committed mask's constant, k the rounds): the first round's claim
    is off by 2^k a_0 (1 - rho), the end check by a_0 (1 - rho), which
    only a fold that weighs a_0 by 1 instead of rho would absorb (see the
    mutation test). The real fold refuses it."""
    s = SPECS["cubic"]
    k = max(n, 1)
    zp0 = ZkProver({"advice": BANK})  # the committed bank, fixed before any challenge
    a0 = zp0.entry(("advice", 0))
    two_k = Fp2(2 ** k)
    forged, claimed, true_sum, zp, _, tp = _forge_with_bank(s, n, two_k * a0, -(two_k * a0), zp0)
    ev, zv, tv = _verify(s, n, forged, claimed)
    assert claimed != true_sum
    res = _residual(zp, zv, "advice", tv)
    assert res != Fp2(0) and res == -tp.shifts[-1]


def _forge_with_bank(spec, n, delta, mu, zp):
    tables = [random_base(1 << n) for _ in range(spec.num_tables)]
    true_sum = prover.prove(tables, spec, _t(None))[2]
    true_sum = true_sum if isinstance(true_sum, Fp2) else Fp2.from_base(true_sum)
    tp = _Rewriting(delta, mu)
    tp.absorb_statement("test/review-mask-end", 1)
    tp.zk = zp
    proof, _, _ = prover.prove(tables, spec, tp)
    return _shifted(proof, tp.shifts, mu), true_sum + delta, true_sum, zp, tables, tp


def test_mutation_a0_weight_without_rho_lets_the_cancelling_lies_through(monkeypatch):
    """Mutation: `_mask_weights` puts the check's power on a_0 without rho.
    The attack above then leaves a folded claim the committed bank
    satisfies, for a false claimed sum."""
    real = zk._mask_weights

    def mutated(ends):
        idx, w = real(ends)
        w = w.copy()
        w[: len(ends)] = [(p.c0, p.c1) for _, p in ends]  # the a_0 rows come first
        return idx, w

    s, n = SPECS["cubic"], 2
    zp0 = ZkProver({"advice": BANK})
    a0 = zp0.entry(("advice", 0))
    four = Fp2(4)
    forged, claimed, true_sum, zp, _, tp = _forge_with_bank(s, n, four * a0, -(four * a0), zp0)
    ev, zv, tv = _verify(s, n, forged, claimed)
    monkeypatch.setattr(zk, "_mask_weights", mutated)
    weights, value = zk.bank_claim(zv, "advice", tv)
    words = zp.table("advice")[: weights.shape[0]].astype(object)
    got = Fp2(int(np.dot(weights[:, 0].astype(object), words) % P), int(np.dot(weights[:, 1].astype(object), words) % P))
    assert claimed != true_sum and got == value  # the forgery would be accepted


@pytest.mark.parametrize("which", ["top-degree", "index-shift", "first-check-power"])
def test_mutations_of_mask_weights_are_caught(monkeypatch, which):
    """Other breakages of `_mask_weights` (the last variable's X^2d dropped,
    the coefficients shifted by one entry, the gamma power ignored): the
    fold then differs from the explicit forms' fold, and an honest run's
    committed bank no longer satisfies it."""
    real = zk._mask_weights

    def mutated(ends):
        idx, w = real(ends)
        idx, w = idx.copy(), w.copy()
        if which == "top-degree":
            top = [c.start + sum(c.degrees) for c, _ in ends]
            keep = ~np.isin(idx, top)
            return idx[keep], w[keep]
        if which == "index-shift":
            idx[len(ends):] += 1
            return idx, w
        return real([(c, Fp2(1)) for c, _ in ends])

    s, n = SPECS["cubic"], 3
    zp = ZkProver({"advice": BANK})
    tables = [random_base(1 << n) for _ in range(3)]
    tp = _t(zp)
    proof, _, total = prover.prove(tables, s, tp)
    zv = ZkSession({"advice": BANK})
    tv = _t(zv)
    verifier.verify(proof, total, n, s, tv)
    # a second masked run, so that a power other than 1 is in play
    proof2, _, total2 = prover.prove(tables, s, tp)
    verifier.verify(proof2, total2, n, s, tv)
    assert _residual(zp, zv, "advice", _copy(tv)) == Fp2(0)
    monkeypatch.setattr(zk, "_mask_weights", mutated)
    with pytest.raises(AssertionError):
        _residual(zp, zv, "advice", _copy(tv))
    weights, value = zk.bank_claim(zv, "advice", _copy(tv))
    words = zp.table("advice")[: weights.shape[0]].astype(object)
    got = Fp2(int(np.dot(weights[:, 0].astype(object), words) % P), int(np.dot(weights[:, 1].astype(object), words) % P))
    assert got != value


def _copy(t: Transcript) -> Transcript:
    out = Transcript.__new__(Transcript)
    out.__dict__.update(t.__dict__)
    out._h = t._h.copy()
    out.charges = list(t.charges)
    return out


@pytest.mark.parametrize("route", ["input", "mask-in-input"])
def test_attack_hidden_claim_in_another_bank(route):
    """The claimed sum arrives padded (Hidden) from the "input" bank. With
    the mask routed to "input" too (pad_bank[MASK_BANK]) the end check is a
    MaskEnd of that bank, its `extra` the claim's pad: a false claim's
    residual shows in the "input" fold and nowhere in "advice". With the
    mask left in "advice" the end check would span two banks: the explicit
    form, refused at the fold (as before MaskEnd)."""
    s, n = SPECS["cubic"], 2
    sizes = {"advice": BANK, "input": BANK}
    pad_bank = {MASK_BANK: "input", 0: "input"} if route == "mask-in-input" else {}
    zp = ZkProver(sizes)
    tables = [random_base(1 << n) for _ in range(3)]
    true_sum = _ext(prover.prove(tables, s, _t(None))[2])
    sent, claimed_p = zp.pad(true_sum, "input")
    delta = Fp2(7)
    tp = _Rewriting(delta, form=(claimed_p + delta).to_bytes())
    tp.absorb_statement("test/review-mask-end", 1)
    tp.zk = zp
    proof, _, _ = prover.prove(tables, s, tp, claimed_sum=claimed_p, pad_bank=pad_bank) if pad_bank else \
        _prove_mixed(tables, s, tp, claimed_p)
    forged = _shifted(proof, tp.shifts, Fp2(0))
    zv = ZkSession(sizes)
    tv = _t(zv)
    claimed_v = zv.receive(sent + delta, "input")
    assert zp.value(claimed_v) != true_sum  # the value the verifier now believes is false
    verifier.verify(SumcheckProof.from_bytes(forged.to_bytes()), claimed_v, n, s, tv, pad_bank=pad_bank)
    (end,) = zv.checks
    if route == "mask-in-input":
        assert type(end) is MaskEnd and end.bank == "input" and {k[0] for k, _ in end.extra} == {"input"}
        assert zk.bank_claim(zv, "advice", _copy(tv)) is None
        assert _residual(zp, zv, "input", tv) != Fp2(0)
    else:
        assert type(end) is Hidden and {k[0] for k, _ in end.terms} == {"advice", "input"}
        with pytest.raises(DeferredCheckFailed):
            zk.bank_claim(zv, "advice", tv)


def _prove_mixed(tables, spec, tp, claimed):
    """The honest prover refuses nothing here: a claim in "input" with the
    mask in "advice" is what a misrouted layer would send."""
    return prover.prove(tables, spec, tp, claimed_sum=claimed)


def test_attack_tampered_final_value_of_a_public_table():
    """A public table's final value moved (no pad hides it): the combined
    value changes and the MaskEnd's const with it; the fold refuses it."""
    s, n = SPECS["cubic"], 3
    zp = ZkProver({"advice": BANK})
    tables = [random_base(1 << n) for _ in range(3)]
    proof, _, total = prover.prove(tables, s, _t(zp), public=(2,))
    finals = list(proof.final_values)
    finals[2] = finals[2] + Fp2(1)
    bad = SumcheckProof(proof.round_evals, tuple(finals), proof.mask_sum)
    zv = ZkSession({"advice": BANK})
    tv = _t(zv)
    verifier.verify(bad, total, n, s, tv, public=(2,))
    assert _residual(zp, zv, "advice", tv) != Fp2(0)


def _random_end(rng, bank, start, n, d, extra_keys=(), special=False):
    vals = random_fp2s(n + 2)
    if special:  # edge challenges: 1, -1, X and W-ish values
        pool = [Fp2(1), Fp2(P - 1), Fp2(0, 1), Fp2(0, P - 1), Fp2(2)]
        vals = [pool[int(i)] for i in rng.integers(0, len(pool), size=n + 2)]
    const, rho, point = vals[0], vals[1], vals[2:]
    extra = tuple(sorted(((bank, k), Fp2(int(rng.integers(1, P, dtype=np.uint64)))) for k in extra_keys))
    return MaskEnd(const, rho, bank, start, point, zk.mask_degrees(n, d), extra)


@pytest.mark.parametrize("special", [False, True])
def test_attack_folds_with_colliding_keys_equal_the_explicit_forms(special):
    """Shapes the protocol does not make but a fold must still get right
    (linearity): MaskEnds whose masks overlap each other, extra terms on
    another check's mask entries, plain checks on the same entries, one
    variable of degree 2d = 16, edge challenges (1, -1, X). The vectorized
    fold equals the explicit forms' term-by-term fold."""
    rng = np.random.default_rng(11 if special else 12)  # test data only
    ends = [
        _random_end(rng, "advice", 0, 1, 8, extra_keys=(40, 41), special=special),  # X^1..X^16
        _random_end(rng, "advice", 3, 3, 2, extra_keys=(5, 17), special=special),  # 5: one of its own mask's keys
        _random_end(rng, "advice", 10, 4, 7, special=special),
        _random_end(rng, "advice", 0, 2, 1, extra_keys=(90,), special=special),  # same start as the first
    ]
    plain = [Hidden(Fp2(3), [(("advice", 0), Fp2(5)), (("advice", 12), Fp2(P - 1))])]
    mixed = [ends[0], plain[0], ends[1], ends[2], ends[3]]
    powers = random_fp2s(len(mixed))
    forms = [c.hidden() if type(c) is MaskEnd else c for c in mixed]
    np.testing.assert_array_equal(zk._fold_terms(mixed, powers), zk._fold_terms_reference(forms, powers))
    for e in ends:  # and each MaskEnd (its extra off its mask's keys) is the old explicit form
        keys = [(e.bank, e.start + i) for i in range(1 + sum(e.degrees))]
        if set(keys) & {k for k, _ in e.extra}:
            continue
        minus_extra = Hidden(Fp2(0), [(k, -c) for k, c in e.extra])  # the form subtracts the claim's part
        want = zk.end_check_form_reference(e.const, e.rho, keys, e.point, e.degrees, minus_extra, 0)
        assert e.hidden() == want


def test_require_end_check_matches_the_explicit_form_on_the_protocols_shapes():
    """For every (n, d) of the protocol and a hidden claim in the mask's
    bank, the MaskEnd is the form `end_check_form` - claim builds (so the
    deferred check is the old one), and MaskEnd == Hidden compares both."""
    for n in (1, 2, 5):
        for d in (1, 2, 7, 8):
            degrees = zk.mask_degrees(n, d)
            keys = [("advice", 30 + i) for i in range(1 + sum(degrees))]
            combined, claim, rho = random_fp2s(3)
            point = random_fp2s(n)
            hidden = Hidden(Fp2(0), [(("advice", 2), Fp2(3)), (("advice", 400), Fp2(P - 1))])
            session = ZkSession({"advice": 1000})
            zk.require_end_check(session, combined, claim, rho, keys, point, degrees, hidden, n, where="t")
            (end,) = session.checks
            want = zk.end_check_form_reference(combined, rho, keys, point, degrees, hidden, n) - claim
            assert type(end) is MaskEnd and end == want and end.hidden() == want
            off = Hidden(want.const + Fp2(1), want.terms)
            assert end != off and not end.is_public and end.__hash__ is None


@pytest.mark.parametrize("case", ["rho-zero", "challenge-zero", "hidden-other-bank", "hidden-on-mask-keys",
                                  "hidden-const"])
def test_require_end_check_off_shape_keeps_a_sound_form(case):
    """Off-shape end checks (zero rho or challenge, a claim in another bank
    or on the mask's own keys, a claim with a public part): the deferred
    check is still the explicit form's value (a false claim stays false)."""
    n, d = 2, 3
    degrees = zk.mask_degrees(n, d)
    keys = [("advice", 10 + i) for i in range(1 + sum(degrees))]
    combined, claim, rho = random_fp2s(3)
    point = random_fp2s(n)
    hidden = Hidden(Fp2(0), [(("advice", 2), Fp2(3))])
    if case == "rho-zero":
        rho = Fp2(0)
    elif case == "challenge-zero":
        point[0] = Fp2(0)
    elif case == "hidden-other-bank":
        hidden = Hidden(Fp2(0), [(("input", 2), Fp2(3))])
    elif case == "hidden-on-mask-keys":
        hidden = Hidden(Fp2(0), [(keys[1], Fp2(3))])
    else:
        hidden = Hidden(Fp2(9), [(("advice", 2), Fp2(3))])
    session = ZkSession({"advice": 100, "input": 100})
    zk.require_end_check(session, combined, claim, rho, keys, point, degrees, hidden, n, where="t")
    (chk,) = session.checks
    want = zk.end_check_form_reference(combined, rho, keys, point, degrees, hidden, n) - claim
    got = chk.hidden() if type(chk) is MaskEnd else chk
    assert got == want
    zp = ZkProver({"advice": 100, "input": 100})
    assert zp.value(chk) == zp.value(want)


# ------------------------------------------------------------------ lane_sum


def _h(const, *terms):
    return Hidden(const, list(terms))


def _lane_cases():
    g = random_fp2s(8)
    consts = gkr.ROUNDS[0].constants
    v = random_fp2s(8)
    pads = [_h(v[k], (("advice", 100 + k), random_fp2s(1)[0])) for k in range(8)]
    yield "pads", g, pads, consts
    yield "zero-gamma", [Fp2(0)] + g[1:], pads, consts
    shared = list(pads)
    shared[5] = _h(v[5], (("advice", 100), Fp2(7)))  # the key lane 0 names
    yield "shared-key", g, shared, consts
    multi = list(pads)
    multi[2] = _h(v[2], (("advice", 200), Fp2(3)), (("advice", 201), Fp2(P - 1)))
    yield "multi-term", g, multi, gkr.ROUNDS[5].constants
    public = list(pads)
    public[3] = Hidden(v[3])  # a pad whose Z(r) was zero: no term left
    public[4] = v[4]
    yield "public-lanes", g, public, consts
    yield "all-fp2", g, v, consts
    mixed = list(v)
    mixed[1] = Fp(5)
    yield "an-fp", g, mixed, consts
    yield "gamma-minus-one", [Fp2(P - 1)] * 8, pads, [P - 1] * 8


def _same(a, b) -> bool:
    return Hidden.of(a).const == Hidden.of(b).const and Hidden.of(a).terms == Hidden.of(b).terms


@pytest.mark.parametrize("case", [c[0] for c in _lane_cases()])
def test_lane_sum_is_the_reference_on_adversarial_values(case):
    (_, g, vals, consts), = [c for c in _lane_cases() if c[0] == case]
    if case == "an-fp":  # not a verifier's value: both refuse it alike (the fast path falls back)
        with pytest.raises(TypeError):
            gkr.lane_sum_reference(g, vals, consts)
        with pytest.raises(TypeError):
            gkr.lane_sum(g, vals, consts)
        return
    assert _same(gkr.lane_sum(g, vals, consts), gkr.lane_sum_reference(g, vals, consts))


def _zk_gkr(n, tamper_delta=None, seed=3, before_verify=None):
    rng = np.random.default_rng(seed)  # test data only
    states = rng.integers(0, 2**63, size=(1 << n, 8), dtype=np.uint64)
    layers = gkr_prover.trace(states)
    out = layers[NUM_ROUNDS].T
    zp = ZkProver({"advice": 8000})
    tp = _Rewriting(tamper_delta or Fp2(0), rounds=n)
    tp.absorb_statement("test/review-gkr", 1)
    tp.zk = zp
    z, gamma = tp.challenge_exts(b"z", n), tp.challenge_exts(b"g", 8)
    value = sum((g * _ext(evaluate(np.ascontiguousarray(out[:, k]), list(z))) for k, g in enumerate(gamma)),
                Fp2(0))
    proofs, _ = gkr_prover.prove(layers, LaneClaim(tuple(z), tuple(gamma), value), tp, fast=False)
    proofs = list(proofs)
    proofs[0] = _shifted(proofs[0], tp.shifts, Fp2(0))
    zv = ZkSession({"advice": 8000})
    tv = Transcript()
    tv.absorb_statement("test/review-gkr", 1)
    tv.zk = zv
    z2, gamma2 = tv.challenge_exts(b"z", n), tv.challenge_exts(b"g", 8)
    claimed = value + (tamper_delta or Fp2(0))
    if before_verify is not None:  # a mutation on the verifier's side only
        before_verify()
    gkr_verifier.verify([SumcheckProof.from_bytes(p.to_bytes()) for p in proofs],
                        LaneClaim(tuple(z2), tuple(gamma2), claimed), n, tv)
    return zp, zv, tv


def test_attack_wrong_gkr_output_claim_with_consistent_first_rounds():
    """A Poseidon2 GKR output claim off by delta, the output round's
    sum-check rounds shifted to stay consistent, all later layers honest
    (their claims from `lane_sum`): accepted on the spot, refused by the
    fold on the committed bank; the honest run folds to zero."""
    zp, zv, tv = _zk_gkr(2)
    assert _residual(zp, zv, "advice", tv) == Fp2(0)
    zp, zv, tv = _zk_gkr(2, Fp2(12345))
    assert _residual(zp, zv, "advice", tv) != Fp2(0)


@pytest.mark.parametrize("which", ["unscaled-pad", "constant-dropped"])
def test_mutations_of_lane_sum_are_caught(monkeypatch, which):
    """A lane_sum that forgets gamma on a pad's coefficient, or the round
    constant of a padded lane, in the verifier only: the differential test
    fails on the pads case, and an honest zero-knowledge GKR is refused
    (on the spot, or by the fold on its committed bank)."""
    real = gkr.lane_sum

    def mutated(gamma, values, constants):
        if which == "unscaled-pad":
            out = Hidden.of(real(gamma, [Hidden.of(v).const for v in values], constants))
            terms = [t for v in values if isinstance(v, Hidden) for t in v.terms]
            return Hidden(out.const, terms)
        return real(gamma, values, [0] * len(constants))

    (_, g, vals, consts), = [c for c in _lane_cases() if c[0] == "pads"]
    consts = gkr.ROUNDS[0].constants
    assert not _same(mutated(g, vals, consts), gkr.lane_sum_reference(g, vals, consts))
    try:
        zp, zv, tv = _zk_gkr(1, before_verify=lambda: monkeypatch.setattr(gkr, "lane_sum", mutated))
    except ProofRejected:
        # caught on the spot: the next claim's public part feeds the round sums,
        # and its Hidden form is bound in the transcript (absorb_claim_form)
        return
    assert _residual(zp, zv, "advice", tv) != Fp2(0)


# ------------------------------------------------------------ combine_pairs


def test_combine_pairs_repeated_tables_equal_the_reference():
    """Every exponent 1..8 of a table repeated non-adjacently, first table
    repeated in the rest, coefficients 0, 1 and p - 1, values 0, 1, -1, X:
    `combine` (on int pairs) equals `combine_reference`."""
    rng = np.random.default_rng(21)  # test data only
    specials = [Fp2(0), Fp2(1), Fp2(P - 1), Fp2(0, 1), Fp2(0, P - 1)]
    for e in range(1, 9):
        terms = []
        for coeff in (0, 1, P - 1, int(rng.integers(2, P - 1, dtype=np.uint64))):
            t = [1] * e + [0] * max(0, 8 - e - 1)
            rng.shuffle(t)
            terms.append((coeff, tuple(t[:8])))
            terms.append((coeff, (2,) + (1,) * min(e, 7)))
            terms.append((coeff, (1, 2) * (e // 2) or (1,)))  # 1 and 2 alternating
        spec = SumOfProducts.of(3, terms)
        for vals in (random_fp2s(3), [specials[int(i)] for i in rng.integers(0, 5, size=3)]):
            assert spec.combine(vals) == spec.combine_reference(vals)
        plan = spec.plan()
        coeffs = [(t.coeff.c0, t.coeff.c1) for t in spec.terms]
        vals = random_fp2s(3)
        got = combine_pairs(plan, coeffs, [(v.c0, v.c1) for v in vals])
        assert Fp2(*got) == spec.combine_reference(vals)


def test_sbox_combine_at_seventh_roots_of_unity():
    """x^7 by square-and-multiply must agree with the product where x^7
    collides (x and w x, w^7 = 1, when GF(p^2) has such a w): combine sees
    exactly what the old product saw, so a final value moved by w leaves
    the same end check as before the rewrite (its table claim is what
    refuses it)."""
    # a 7th root of unity in GF(p^2), if any
    order = P * P - 1
    root = None
    if order % 7 == 0:
        for c in range(2, 50):
            w = Fp2(c, 1) ** (order // 7)
            if w != Fp2(1):
                root = w
                break
    spec = SPECS["sbox"]
    x = random_fp2s(2)
    assert spec.combine(x) == spec.combine_reference(x)
    if root is not None:
        moved = [x[0], x[1] * root]
        assert spec.combine(moved) == spec.combine_reference(moved)
