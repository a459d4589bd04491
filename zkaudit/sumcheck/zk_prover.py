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

from zkaudit.field.constants import P as _P
from zkaudit.field.constants import W as _W
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.poly.univariate import evaluate_from_evals
from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts
from zkaudit.sumcheck.mask import MaskingPolynomial
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_FINAL, LABEL_MASK_RHO, LABEL_MASK_SUM, LABEL_ROUND, \
    absorb_header
from zkaudit.sumcheck.zk import (ADVICE, MASK_BANK, ZkProver, absorb_claim_form, end_check_form, inv_pow2, mask_degrees,
                                 vanishing)

_ONE = Fp2(1)


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
    whose first round is partial gives `complete(partial, claim)`."""
    from zkaudit.sumcheck.prover import make_run

    if num_vars == 0:
        proof, ev, claimed_out = prove([_lift(t) for t in tables], spec, transcript, zk, claimed, 1, public,
                                       pad_bank)
        (r,) = ev.point
        scale = (_ONE - r).inverse()
        values = tuple(v * scale for v in ev.values)
        return proof, EvaluationClaim((), values), claimed_out
    run = run if run is not None else make_run(tables, spec, num_vars)
    d, n = spec.degree, num_vars
    evals = run.first_round() if n > 1 else None
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
    hidden_part = Hidden.of(claimed) - Hidden.of(claimed).const
    h_true = zk.value(claimed)
    l_true = zk.value(hidden_part)
    absorb_header(transcript, spec, n, Hidden.of(claimed).const)
    absorb_claim_form(transcript, claimed)

    degrees = mask_degrees(n, d)
    g_keys, g_vals = zk.draw(1 + sum(degrees), pad_bank.get(MASK_BANK, ADVICE))
    rows, at = [], 1
    for deg in degrees:
        rows.append(tuple(g_vals[at : at + deg]))
        at += deg
    g = MaskingPolynomial(g_vals[0], tuple(rows), 2 * d)
    padded = [j for j in range(spec.num_tables) if j not in public]
    pads = {}
    for j in padded:
        keys, (m,) = zk.draw(1, pad_bank.get(j, ADVICE))
        pads[j] = (keys[0], m)
    mask_sum = g.cube_sum()
    transcript.absorb_ext(LABEL_MASK_SUM, mask_sum)
    rho = transcript.challenge_ext(LABEL_MASK_RHO)

    prefix = g.a0
    suffix = [Fp2(0)] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + g.at_one(i)
    claim_f = h_true
    rounds, point = [], []
    shift = l_true
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
    f_evals, tab = _last_poly(pairs, spec, pads, c_prev, 2 * d + 1)
    m = g.round_evals(n - 1, prefix, Fp2(0), 2 * d + 1)
    sent = tuple(e + rho * v - shift for e, v in zip(f_evals, m))
    rounds.append(sent)
    transcript.absorb_exts(LABEL_ROUND, sent)
    r = transcript.challenge_ext(LABEL_CHALLENGE)
    point.append(r)
    claim_n = evaluate_from_evals(sent, r)
    z = c_prev * r * (_ONE - r)
    finals_hat, values = [], []
    for j, (a, b) in enumerate(pairs):
        f = a + (b - a) * r
        if j in pads:
            key, mj = pads[j]
            fh = f + z * mj
            zk.final_pads.append((key, f, z))
            finals_hat.append(fh)
            values.append(Hidden._raw(fh, ((key, -z),)) if (z.c0 or z.c1) else Hidden(fh))
        else:
            finals_hat.append(f)
            values.append(f)
    transcript.absorb_exts(LABEL_FINAL, finals_hat)
    got = end_check_form(spec.combine(finals_hat), rho, g_keys, point, degrees, hidden_part, n)
    zk.require_equal(got, claim_n,
                     where="sumcheck.zk-final")
    proof = SumcheckProof(tuple(rounds), tuple(finals_hat), mask_sum)
    return proof, EvaluationClaim(tuple(point), tuple(values)), claimed


def _last_poly(pairs, spec: SumOfProducts, pads, c_prev: Fp2, num_points: int):
    """F^(r', X) at X = 0..num_points-1: each padded table
    a + (b - a) X + c_prev X (1 - X) m_j. On plain int pairs (c0, c1) with
    one reduction per product: the Fp2 operators' call overhead made this
    the largest Python cost of a zero-knowledge sum-check (`_last_poly_reference`
    is the same in Fp2 arithmetic; the tests hold one to the other)."""
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
    out = []
    for x in range(num_points):
        t0 = t1 = 0
        for term in spec.terms:
            p0, p1 = term.coeff.c0, term.coeff.c1
            for i in term.tables:
                b0, b1 = cols[i][x]
                p0, p1 = (p0 * b0 + _W * p1 * b1) % _P, (p0 * b1 + p1 * b0) % _P
            t0, t1 = t0 + p0, t1 + p1
        out.append(Fp2(t0 % _P, t1 % _P))
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
        out.append(spec.combine(vals))
    return out, None
