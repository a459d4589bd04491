"""The zero-knowledge sum-check (`zkaudit.sumcheck.zk_prover`) as inference
proofs run it: Libra mask and randomized final values from a bank,
possibly a Hidden claimed sum.

* completeness and soundness on several shapes (0, 1 and many variables);
* a simulator that, from the public claim alone, makes transcripts the
  verifier accepts: every on-the-spot check passes, and the deferred
  checks it leaves are satisfied by some bank (solved for exactly: that
  bank is what the simulated hiding opening would open);
* real and simulated transcripts pass the same uniformity test."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.randomness import random_base, random_fp2s
from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import evaluate
from zkaudit.poly.univariate import evaluate_from_evals
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import prover, verifier
from zkaudit.sumcheck.errors import SumcheckRejected
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_FINAL, LABEL_MASK_RHO, LABEL_MASK_SUM, LABEL_ROUND, \
    absorb_header
from zkaudit.sumcheck.zk import ZkProver, ZkSession, mask_size
from zkaudit.transcript import Transcript

SPEC = SumOfProducts.of(3, [(1, (0, 1)), (3, (0, 1, 2)), (2, (2,))])
BANK = 400


def _t(zk) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/zk-sumcheck", 1)
    t.zk = zk
    return t


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_complete_and_the_values_are_the_tables(n):
    tables = [random_base(1 << n) for _ in range(3)]
    zp = ZkProver({"advice": BANK})
    proof, ev, s = prover.prove(tables, SPEC, _t(zp), public=(2,))
    zv = ZkSession({"advice": BANK})
    got = verifier.verify(SumcheckProof.from_bytes(proof.to_bytes()), s, n, SPEC, _t(zv), public=(2,))
    assert got.values == ev.values and zv.checks == zp.checks
    assert all(zp.value(c) == Fp2(0) for c in zp.checks)
    for j in range(3):
        assert zp.value(ev.values[j]) == (_ext(evaluate(tables[j], list(ev.point))) if n else Fp2(int(tables[j][0])))
    assert isinstance(ev.values[0], Hidden) and not isinstance(ev.values[2], Hidden)  # table 2 is public


@pytest.mark.parametrize("n", [0, 3])
def test_a_false_claim_fails_on_the_spot_or_in_the_deferred_check(n):
    tables = [random_base(1 << n) for _ in range(3)]
    zp = ZkProver({"advice": BANK})
    proof, _, s = prover.prove(tables, SPEC, _t(zp), public=(2,))
    zv = ZkSession({"advice": BANK})
    try:
        verifier.verify(proof, s + 1, n, SPEC, _t(zv), public=(2,))
    except SumcheckRejected:
        return
    assert any(zp.value(c) != Fp2(0) for c in zv.checks)  # the bank opening would refuse it


def simulate(spec, n: int, claimed: Fp2, transcript: Transcript, public=()) -> SumcheckProof:
    """An accepting zero-knowledge proof of sum = `claimed` from the claim
    alone: G and the finals uniform, each round uniform subject to the
    verifier's sum check (the last with 2d + 1 values). The checks it
    defers are satisfied by the bank the simulated opening opens."""
    d = spec.degree
    absorb_header(transcript, spec, n, claimed)
    transcript.zk.take(mask_size(n, d))
    for j in range(spec.num_tables):
        if j not in public:
            transcript.zk.take(1)
    (g_sum,) = random_fp2s(1)
    transcript.absorb_ext(LABEL_MASK_SUM, g_sum)
    rho = transcript.challenge_ext(LABEL_MASK_RHO)
    claim = claimed + rho * g_sum
    rounds = []
    for i in range(n):
        tail = random_fp2s(2 * d if i == n - 1 else d)
        evals = [claim - tail[0]] + tail
        rounds.append(tuple(evals))
        transcript.absorb_exts(LABEL_ROUND, evals)
        claim = evaluate_from_evals(evals, transcript.challenge_ext(LABEL_CHALLENGE))
    finals = tuple(random_fp2s(spec.num_tables))
    transcript.absorb_exts(LABEL_FINAL, finals)
    return SumcheckProof(tuple(rounds), finals, g_sum)


def _satisfiable(checks, size: int) -> bool:
    """Some bank (size elements) makes every deferred check zero: solve the
    linear system over GF(p) (each element two base unknowns)."""
    import galois

    GF = galois.GF(P)
    rows, rhs = [], []
    for chk in checks:
        r0, r1 = [0] * (2 * size), [0] * (2 * size)
        for (_, k), c in chk.terms:  # c (w0 + X w1) = (c0 w0 + 7 c1 w1) + X (c1 w0 + c0 w1)
            r0[2 * k], r0[2 * k + 1] = c.c0, 7 * c.c1 % P
            r1[2 * k], r1[2 * k + 1] = c.c1, c.c0
        rows += [r0, r1]
        rhs += [(-chk.const).c0, (-chk.const).c1]
    A, b = GF(np.array(rows, dtype=object) % P), GF(np.array(rhs, dtype=object) % P)
    return np.linalg.matrix_rank(np.hstack([A, b.reshape(-1, 1)])) == np.linalg.matrix_rank(A)


def test_simulated_proofs_are_accepted():
    n, size = 4, 60
    for _ in range(5):
        (claimed,) = random_fp2s(1)
        zs = ZkSession({"advice": size})
        proof = simulate(SPEC, n, claimed, _t(zs))
        zv = ZkSession({"advice": size})
        verifier.verify(SumcheckProof.from_bytes(proof.to_bytes()), claimed, n, SPEC, _t(zv))
        assert zv.checks and _satisfiable(zv.checks, size)


def test_real_and_simulated_transcripts_pass_the_same_uniformity_test():
    """Top three bits of every revealed coordinate (G, rounds, finals) over
    many runs: uniform for real proofs (of a fixed witness) and simulated
    ones alike (chi-square, 7 degrees of freedom; a uniform sample exceeds 35
    with probability < 1e-5)."""
    n, runs = 3, 150
    tables = [random_base(1 << n) for _ in range(3)]
    _, _, claimed = prover.prove(tables, SPEC, _t(ZkProver({"advice": BANK})))

    def chi2(samples):
        counts = np.bincount(np.array(samples, dtype=np.uint64) >> np.uint64(61), minlength=8).astype(float)
        return float(((counts - len(samples) / 8) ** 2 / (len(samples) / 8)).sum())

    def coords(proof):
        out = [proof.mask_sum.c0] + [e.c0 for r in proof.round_evals for e in r[1:]]
        return out + [v.c0 for v in proof.final_values]

    real, sim = [], []
    for _ in range(runs):
        proof, _, _ = prover.prove(tables, SPEC, _t(ZkProver({"advice": BANK})), claimed_sum=claimed)
        real += coords(proof)
        sim += coords(simulate(SPEC, n, claimed, _t(ZkSession({"advice": BANK}))))
    assert chi2(real) < 35 and chi2(sim) < 35


def test_last_round_polynomial_on_ints_equals_the_fp2_reference():
    from zkaudit.sumcheck.zk_prover import _last_poly, _last_poly_reference

    spec = SumOfProducts.of(4, [(Fp2(3, 5), (0, 1, 1, 1)), (7, (2,)), (Fp2(0, 1), (3, 0))])
    vals = random_fp2s(8 + 2)
    pairs = [(vals[2 * i], vals[2 * i + 1]) for i in range(4)]
    pads = {1: (("advice", 0), vals[8]), 3: (("advice", 1), vals[9])}
    for c_prev in (Fp2(0), random_fp2s(1)[0]):
        assert _last_poly(pairs, spec, pads, c_prev, 9) == _last_poly_reference(pairs, spec, pads, c_prev, 9)


@pytest.mark.parametrize("shape", ["plain", "hidden-claim", "zero-challenge", "zero-rho", "shared-keys", "input-bank"])
def test_end_check_form_equals_the_expression(shape):
    """The one-pass end-check form (mask terms pre-scaled by rho) is the
    naive expression combined + rho * mask_at(...) - hidden / 2^n, term for
    term, on the protocol's shapes and on the ones that take the reference."""
    from zkaudit.sumcheck.zk import end_check_form, end_check_form_reference, mask_degrees

    for n, d in ((1, 1), (3, 2), (6, 3)):
        degrees = mask_degrees(n, d)
        keys = [("advice", 40 + i) for i in range(1 + sum(degrees))]
        point = random_fp2s(n)
        combined, rho = random_fp2s(2)
        hidden = Hidden(Fp2(0))
        if shape == "hidden-claim":
            hidden = Hidden(Fp2(0), [(("advice", i), c) for i, c in zip((3, 7, 39), random_fp2s(3))])
        elif shape == "input-bank":
            hidden = Hidden(Fp2(0), [(("input", i), c) for i, c in zip((0, 5), random_fp2s(2))]
                            + [(("advice", 2), Fp2(5))])
        elif shape == "shared-keys":
            hidden = Hidden(Fp2(0), [(keys[1], Fp2(3)), (("advice", 1), Fp2(4))])
        elif shape == "zero-challenge":
            point[n // 2] = Fp2(0)
        elif shape == "zero-rho":
            rho = Fp2(0)
        fast = end_check_form(combined, rho, keys, point, degrees, hidden, n)
        ref = end_check_form_reference(combined, rho, keys, point, degrees, hidden, n)
        assert fast == ref
        assert fast.const == ref.const and fast.terms == ref.terms


def test_vanishing_on_ints_equals_the_fp2_product():
    from zkaudit.sumcheck.zk import vanishing, vanishing_reference

    for n in (0, 1, 5, 20):
        point = random_fp2s(n)
        assert vanishing(point) == vanishing_reference(point)
    edge = [Fp2(0), Fp2(1), Fp2(P - 1, P - 1), Fp2(2, 0), Fp2(0, 3)]
    assert vanishing(edge[2:]) == vanishing_reference(edge[2:])
    assert vanishing(edge) == vanishing_reference(edge) == Fp2(0)
