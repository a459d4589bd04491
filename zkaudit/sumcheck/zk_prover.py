"""The zero-knowledge sum-check, prover side (`zkaudit.sumcheck.zk`).

Claim: sum_x F(x) = H, where H = c + L may be `Hidden` (c public, L an
affine form in the bank with no constant). The prover takes from the bank a
Libra mask g and one pad m_j per padded table j, sends G = sum_x g(x), gets
rho, and runs the ordinary sum-check on

    P(x) = F^(x) + rho g(x) - L 2^-n,       sum_x P(x) = c + rho G   (public),

where F^ is F with every padded table f_j replaced by its randomized
extension f_j^ = f_j~ + Z m_j, Z(x) = prod_k x_k (1 - x_k). Z vanishes on the
cube (so F^ = F there), and in rounds 1..n-1 some variable of every summed
point is still Boolean, so those rounds are exactly F's: only the last
round changes, where each padded table is quadratic in X and the round has
degree 2d (g's last univariate has degree 2d to mask it). The run ends with
the padded values f_j^(r) revealed; the verifier checks

    F(f^(r)) + rho g(r) - L 2^-n = s_n(r_n)

by deferring it (g(r) and L live in the bank) and keeps f_j~(r) =
f_j^(r) - Z(r) m_j as `Hidden` claims.

Why this hides: the revealed rounds are uniform given their sum constraint
(g's fresh coefficients, Libra §4.1); each f_j^(r) is uniform (m_j used
nowhere else), and G is uniform (a_0). Soundness: g and the pads are fixed
in the bank before rho and every r_i; the rounds are checked as usual
(degree d, 2d in the last round), plus 1/|K| for rho; the deferred check
costs its share of the bank opening's folding.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

from zkaudit.field.constants import P as _P
from zkaudit.field.constants import W as _W
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp, Fp2, _fp2
from zkaudit.poly.univariate import evaluate_from_evals
from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts, combine_pairs
from zkaudit.sumcheck.mask import MaskingPolynomial
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_FINAL, LABEL_MASK_RHO, LABEL_MASK_SUM, LABEL_ROUND, \
    absorb_header
from zkaudit.sumcheck.zk import (ADVICE, MASK_BANK, ZkProver, absorb_claim_form, end_check_form, inv_pow2, mask_degrees,
                                 require_end_check, vanishing)

_ONE = Fp2(1)
_first, _second = itemgetter(0), itemgetter(1)
_INV2 = pow(2, _P - 2, _P)


def _lift(t):
    """A 0-variable table [v] as the 1-variable [v, 0]: sum_x F(x) over the
    lifted tables is F(v) (every term has a table, so F(0) = 0)."""
    import numpy as np

    out = np.zeros((2,) + t.shape[1:], dtype=t.dtype)
    out[0] = t[0]
    return out


def prove(tables, spec: SumOfProducts, transcript, zk: ZkProver, claimed, num_vars: int, public, pad_bank,
          run=None):
    """`run`: the round source (default: the generic prover's kernels); one
    whose first round is partial gives `complete(partial, claim)`.

    The rounds' own arithmetic (the mask's values, the offsets, the mask at
    the challenge) on plain int pairs: a Poseidon2 GKR layer of a small
    proof is ~8 rounds of Python, 30 layers per weight link.
    `prove_reference` is the same protocol on `MaskingPolynomial` and Fp2
    operators; the tests hold the two to the same bytes."""
    if num_vars == 0:
        return _prove_lifted(tables, spec, transcript, zk, claimed, public, pad_bank, prove)
    zk_rounds = getattr(run, "zk_rounds", None)
    if zk_rounds is not None:  # a run that drives its own rounds (`hash.gkr_zk_run.FusedRun`)
        if claimed is None:
            raise ValueError("a run that drives its own rounds needs claimed_sum")
        claimed = Fp2.from_base(claimed) if isinstance(claimed, Fp) else claimed
        st = _start(spec, transcript, zk, claimed, num_vars, public, pad_bank)
        rounds, point, pairs, c_prev, sent = zk_rounds(st, transcript, spec.degree)
        return _finish(sent, rounds, point, pairs, c_prev, spec, transcript, zk, st, claimed, num_vars)
    run, evals, complete, claimed = _first_round(tables, spec, num_vars, claimed, run)
    st = _start(spec, transcript, zk, claimed, num_vars, public, pad_bank)
    d, n, rows = spec.degree, num_vars, st.rows
    rho0, rho1 = st.rho.c0, st.rho.c1
    # ones[i] = g_i(1), suffix[i] = sum_{j >= i} g_i(1)
    suffix = [(0, 0)] * (n + 1)
    for i in range(n - 1, -1, -1):
        u0, u1 = suffix[i + 1]
        suffix[i] = ((u0 + sum(c[0] for c in rows[i])) % _P, (u1 + sum(c[1] for c in rows[i])) % _P)
    prefix = tuple(st.a0)  # a_0 + sum_{j < rnd} g_j(r_j)
    claim_f = st.h_true
    rounds, point = [], []
    s0, s1 = st.l_true.c0, st.l_true.c1  # the shift L / 2^(rnd + 1), halved each round
    for rnd in range(n - 1):
        s0, s1 = s0 * _INV2 % _P, s1 * _INV2 % _P
        if complete is not None:
            evals = complete(evals, claim_f)
        elif evals[1] is None:
            evals[1] = claim_f - evals[0]
        sent = _masked_round(evals, rows[rnd], rho0, rho1, prefix, suffix[rnd + 1], n - rnd - 1, s0, s1)
        rounds.append(sent)
        transcript.absorb_exts(LABEL_ROUND, sent)
        r = transcript.challenge_ext(LABEL_CHALLENGE)
        point.append(r)
        claim_f = evaluate_from_evals(evals, r)
        g0, g1 = _at(rows[rnd], r.c0, r.c1)
        prefix = ((prefix[0] + g0) % _P, (prefix[1] + g1) % _P)
        evals = run.fold_and_next(r, last=rnd == n - 2)
    s0, s1 = s0 * _INV2 % _P, s1 * _INV2 % _P  # L / 2^n
    c_prev = vanishing(point)
    pairs = run.pairs()
    # a run may compute its last round itself (`hash.gkr_block_prover.BlockRun`: one kernel call)
    f_evals, _ = getattr(run, "last_poly", _last_poly)(pairs, spec, st.pads, c_prev, 2 * d + 1)
    sent = _masked_round(f_evals, rows[n - 1], rho0, rho1, prefix, (0, 0), 0, s0, s1)
    return _finish(sent, rounds, point, pairs, c_prev, spec, transcript, zk, st, claimed, n)


def prove_reference(tables, spec: SumOfProducts, transcript, zk: ZkProver, claimed, num_vars: int, public,
                    pad_bank, run=None):
    """`prove` with the mask as a `MaskingPolynomial` and every step in Fp2
    arithmetic: the protocol as the module docstring states it."""
    if num_vars == 0:
        return _prove_lifted(tables, spec, transcript, zk, claimed, public, pad_bank, prove_reference)
    run, evals, complete, claimed = _first_round(tables, spec, num_vars, claimed, run)
    st = _start(spec, transcript, zk, claimed, num_vars, public, pad_bank)
    d, n, rho = spec.degree, num_vars, st.rho
    g = MaskingPolynomial(_fp2(*st.a0), tuple(tuple(_fp2(*c) for c in row) for row in st.rows), 2 * d)
    prefix = g.a0
    suffix = [Fp2(0)] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + g.at_one(i)
    claim_f = st.h_true
    rounds, point = [], []
    shift = st.l_true
    for rnd in range(n - 1):
        shift = shift * inv_pow2(1)  # L / 2^(rnd + 1)
        if complete is not None:
            evals = complete(evals, claim_f)
        elif evals[1] is None:
            evals[1] = claim_f - evals[0]
        m = g.round_evals(rnd, prefix, suffix[rnd + 1], len(evals))
        sent = tuple(e + rho * v - shift for e, v in zip(evals, m))
        rounds.append(sent)
        transcript.absorb_exts(LABEL_ROUND, sent)
        r = transcript.challenge_ext(LABEL_CHALLENGE)
        point.append(r)
        claim_f = evaluate_from_evals(evals, r)
        prefix = prefix + g.univariate(rnd, r)
        evals = run.fold_and_next(r, last=rnd == n - 2)
    shift = shift * inv_pow2(1)  # L / 2^n
    c_prev = vanishing(point)
    pairs = run.pairs()
    f_evals, _ = _last_poly_reference(pairs, spec, st.pads, c_prev, 2 * d + 1)
    m = g.round_evals(n - 1, prefix, Fp2(0), 2 * d + 1)
    sent = tuple(e + rho * v - shift for e, v in zip(f_evals, m))
    return _finish(sent, rounds, point, pairs, c_prev, spec, transcript, zk, st, claimed, n, lazy_end=False)


def _prove_lifted(tables, spec, transcript, zk, claimed, public, pad_bank, driver):
    """A 0-variable sum-check, run on its tables lifted to one variable."""
    proof, ev, claimed_out = driver([_lift(t) for t in tables], spec, transcript, zk, claimed, 1, public, pad_bank)
    (r,) = ev.point
    scale = (_ONE - r).inverse()
    values = tuple(v * scale for v in ev.values)
    return proof, EvaluationClaim((), values), claimed_out


def _first_round(tables, spec, num_vars: int, claimed, run):
    """(the run, its first round's values or None for one variable, the
    run's `complete` or None, the claimed sum: computed when not given)."""
    from zkaudit.sumcheck.prover import make_run

    run = run if run is not None else make_run(tables, spec, num_vars)
    evals = run.first_round() if num_vars > 1 else None
    complete = getattr(run, "complete", None)
    if claimed is None:
        if evals is None:
            evals01, _ = _last_poly(run.pairs(), spec, {}, _ONE, 2)
            claimed = evals01[0] + evals01[1]
        else:
            claimed = evals[0] + (evals[1] if evals[1] is not None else Fp2(0))
            if evals[1] is None:
                raise ValueError("a kernel left g(1) open: pass claimed_sum")
    if isinstance(claimed, Fp):
        claimed = Fp2.from_base(claimed)
    return run, evals, complete, claimed


@dataclass
class _Start:
    """What the rounds start from: the claim's true value and hidden part,
    the mask (bank keys; a_0 and each variable's coefficients as int pairs),
    the pads, rho."""

    hidden_part: Hidden
    h_true: Fp2
    l_true: Fp2
    g_keys: list
    a0: list
    rows: list
    degrees: list
    pads: dict
    mask_sum: Fp2
    rho: Fp2


def _start(spec, transcript, zk: ZkProver, claimed, n: int, public, pad_bank) -> _Start:
    """Header, claim form, the mask and pads drawn from the bank, G sent, rho."""
    hidden_part = Hidden.of(claimed) - Hidden.of(claimed).const
    h_true = zk.value(claimed)
    l_true = h_true - Hidden.of(claimed).const  # the hidden part's true value
    absorb_header(transcript, spec, n, Hidden.of(claimed).const)
    absorb_claim_form(transcript, claimed)
    degrees = mask_degrees(n, spec.degree)
    g_keys, words = zk.draw_words(1 + sum(degrees), pad_bank.get(MASK_BANK, ADVICE))
    rows, at = [], 1
    for deg in degrees:
        rows.append(words[at : at + deg])
        at += deg
    padded = [j for j in range(spec.num_tables) if j not in public]
    pads = dict(zip(padded, zk.draw_each([pad_bank.get(j, ADVICE) for j in padded])))
    mask_sum = _cube_sum(words[0], rows)
    transcript.absorb_ext(LABEL_MASK_SUM, mask_sum)
    rho = transcript.challenge_ext(LABEL_MASK_RHO)
    return _Start(hidden_part, h_true, l_true, g_keys, words[0], rows, degrees, pads, mask_sum, rho)


def _cube_sum(a0, rows) -> Fp2:
    """G = 2^n a_0 + 2^(n-1) sum_i g_i(1) (`MaskingPolynomial.cube_sum`)."""
    n = len(rows)
    t0 = sum(map(_first, chain.from_iterable(rows)))
    t1 = sum(map(_second, chain.from_iterable(rows)))
    hi = pow(2, n, _P)
    lo = pow(2, n - 1, _P) if n else 0
    return _fp2((hi * a0[0] + lo * t0) % _P, (hi * a0[1] + lo * t1) % _P)


def _masked_round(evals, row, rho0: int, rho1: int, prefix, suffix_ones, rest: int, s0: int, s1: int) -> tuple:
    """One round's message at X = 0..len(evals)-1 (`evals`: F's round):
    e(X) + rho (2^rest (prefix + g_i(X)) + 2^(rest-1) suffix_ones) - shift,
    as e(X) + sum_j (rho 2^rest c_j) X^j + beta: the mask's d products by
    rho once, then Horner in the small integer X without reductions."""
    scale = pow(2, rest, _P)
    a0, a1 = rho0 * scale % _P, rho1 * scale % _P  # alpha = rho 2^rest
    u0, u1 = scale * prefix[0], scale * prefix[1]
    if rest:
        half = pow(2, rest - 1, _P)
        u0, u1 = u0 + half * suffix_ones[0], u1 + half * suffix_ones[1]
    u0, u1 = u0 % _P, u1 % _P
    b0 = (rho0 * u0 + _W * rho1 * u1 - s0) % _P  # beta = rho (2^rest prefix + tail) - shift
    b1 = (rho0 * u1 + rho1 * u0 - s1) % _P
    scaled = [((a0 * c0 + _W * a1 * c1) % _P, (a0 * c1 + a1 * c0) % _P) for c0, c1 in reversed(row)]
    out = []
    for t, e in enumerate(evals):
        v0 = v1 = 0
        if t:
            for c0, c1 in scaled:
                v0, v1 = v0 * t + c0, v1 * t + c1
            v0, v1 = v0 * t, v1 * t  # g_i has no constant term
        out.append(_fp2((e.c0 + v0 + b0) % _P, (e.c1 + v1 + b1) % _P))
    return tuple(out)


def _at(row, r0: int, r1: int) -> tuple[int, int]:
    """g_i(r) = sum_j c_j r^j (no constant term), by Horner on int pairs."""
    v0 = v1 = 0
    w1 = _W * r1
    for c0, c1 in reversed(row):
        v0, v1 = (v0 + c0) % _P, (v1 + c1) % _P
        v0, v1 = (v0 * r0 + v1 * w1) % _P, (v0 * r1 + v1 * r0) % _P
    return v0, v1


def _finish(sent, rounds, point, pairs, c_prev: Fp2, spec, transcript, zk: ZkProver, st: _Start, claimed, n: int,
            lazy_end: bool = True):
    """The last round sent, its challenge, the padded final values and the
    end check recorded for the bank opening."""
    sent = tuple(sent)
    rounds.append(sent)
    transcript.absorb_exts(LABEL_ROUND, sent)
    r = transcript.challenge_ext(LABEL_CHALLENGE)
    point.append(r)
    claim_n = evaluate_from_evals(sent, r)
    finals_hat, values = (_finals if lazy_end else _finals_reference)(pairs, r, c_prev, st.pads, zk.final_pads)
    transcript.absorb_exts(LABEL_FINAL, finals_hat)
    if lazy_end:
        require_end_check(zk, spec.combine(finals_hat), claim_n, st.rho, st.g_keys, point, st.degrees,
                          st.hidden_part, n, where="sumcheck.zk-final")
    else:  # the form itself (the reference the deferred `MaskEnd` is held to)
        got = end_check_form(spec.combine(finals_hat), st.rho, st.g_keys, point, st.degrees, st.hidden_part, n)
        zk.require_equal(got, claim_n, where="sumcheck.zk-final")
    proof = SumcheckProof(tuple(rounds), tuple(finals_hat), st.mask_sum)
    return proof, EvaluationClaim(tuple(point), tuple(values)), claimed


def _finals(pairs, r: Fp2, c_prev: Fp2, pads: dict, final_pads: list):
    """Each table at the point, a + (b - a) r, and a padded table's
    f^ = f + Z m_j with Z = c_prev r (1 - r): (the values sent, the values
    to compute with: Hidden f^ - Z m_j for a padded table). On plain int
    pairs (hundreds of tables in a lookup tree's joint layer);
    `_finals_reference` is the Fp2 expression, tested equal."""
    r0, r1 = r.c0, r.c1
    s0, s1 = (r0 - r0 * r0 - _W * r1 * r1) % _P, (r1 - 2 * r0 * r1) % _P  # r (1 - r)
    c0, c1 = c_prev.c0, c_prev.c1
    z0, z1 = (c0 * s0 + _W * c1 * s1) % _P, (c0 * s1 + c1 * s0) % _P
    z = _fp2(z0, z1)
    minus_z = _fp2(-z0 % _P, -z1 % _P)
    w1 = _W * r1
    finals_hat, values = [], []
    for j, (a, b) in enumerate(pairs):
        a0, a1 = a.c0, a.c1
        d0, d1 = b.c0 - a0, b.c1 - a1
        f0, f1 = (a0 + d0 * r0 + d1 * w1) % _P, (a1 + d0 * r1 + d1 * r0) % _P
        pad = pads.get(j)
        if pad is None:
            f = _fp2(f0, f1)
            finals_hat.append(f)
            values.append(f)
            continue
        key, mj = pad
        m0, m1 = mj.c0, mj.c1
        fh = _fp2((f0 + z0 * m0 + _W * z1 * m1) % _P, (f1 + z0 * m1 + z1 * m0) % _P)
        final_pads.append((key, _fp2(f0, f1), z))
        finals_hat.append(fh)
        values.append(Hidden._raw(fh, ((key, minus_z),)) if (z0 or z1) else Hidden(fh))
    return finals_hat, values


def _finals_reference(pairs, r: Fp2, c_prev: Fp2, pads: dict, final_pads: list):
    z = c_prev * r * (_ONE - r)
    finals_hat, values = [], []
    for j, (a, b) in enumerate(pairs):
        f = a + (b - a) * r
        if j in pads:
            key, mj = pads[j]
            fh = f + z * mj
            final_pads.append((key, f, z))
            finals_hat.append(fh)
            values.append(Hidden._raw(fh, ((key, -z),)) if (z.c0 or z.c1) else Hidden(fh))
        else:
            finals_hat.append(f)
            values.append(f)
    return finals_hat, values


def _last_poly(pairs, spec: SumOfProducts, pads, c_prev: Fp2, num_points: int):
    """F^(r', X) at X = 0..num_points-1: each padded table
    a + (b - a) X + c_prev X (1 - X) m_j. On plain int pairs, each point's
    sum of products by `combine_pairs` (the Fp2 operators' call overhead
    made this the largest Python cost of a zero-knowledge sum-check;
    `_last_poly_reference` is the same in Fp2 arithmetic, tested equal)."""
    cols = []
    for j, (a, b) in enumerate(pairs):
        a0, a1 = a.c0, a.c1
        d0, d1 = b.c0 - a0, b.c1 - a1
        q = c_prev * pads[j][1] if j in pads else None
        col = []
        for x in range(num_points):
            v0, v1 = a0 + d0 * x, a1 + d1 * x
            if q is not None:
                w = x * (1 - x)
                v0, v1 = v0 + q.c0 * w, v1 + q.c1 * w
            col.append((v0 % _P, v1 % _P))
        cols.append(col)
    plan = spec.plan()
    coeffs = [(t.coeff.c0, t.coeff.c1) for t in spec.terms]
    out = []
    for x in range(num_points):
        t0, t1 = combine_pairs(plan, coeffs, [col[x] for col in cols])
        out.append(_fp2(t0, t1))
    return out, None


def _last_poly_reference(pairs, spec: SumOfProducts, pads, c_prev: Fp2, num_points: int):
    out = []
    for x in range(num_points):
        X = Fp2(x)
        vals = []
        for j, (a, b) in enumerate(pairs):
            v = a + (b - a) * X
            if j in pads:
                v = v + c_prev * X * (_ONE - X) * pads[j][1]
            vals.append(v)
        out.append(spec.combine_reference(vals))
    return out, None
