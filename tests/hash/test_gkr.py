"""The data-parallel Poseidon2 GKR (`zkaudit.hash.gkr*`): the trace matches
the permutation; the fast round kernels give byte-identical proofs to the
generic sum-check prover (plain and zero-knowledge, one fixed bank); an
honest claim verifies and reduces to the inputs; wrong claims, wrong inputs
and tampered rounds are rejected."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field.randomness import random_base, random_fp2s
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.hash import gkr_prover, gkr_verifier, poseidon2
from zkaudit.hash import reference as R
from zkaudit.hash.gkr import NUM_ROUNDS, LaneClaim
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.zk import ZkProver, ZkSession
from zkaudit.transcript import Transcript

BANK = 6000


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v) if isinstance(v, Fp) else Fp2(int(v))


def _t(zk=None) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/poseidon2-gkr", 1)
    t.zk = zk
    return t


def _lane_value(table: np.ndarray, z, gamma) -> Fp2:
    return sum((g * _ext(evaluate(np.ascontiguousarray(table[:, k]), list(z))) for k, g in enumerate(gamma)), Fp2(0))


def _instance(n: int, seed: int):
    rng = np.random.default_rng(seed)  # test data only
    states = rng.integers(0, 2**63, size=(1 << n, 8), dtype=np.uint64)
    return states, gkr_prover.trace(states)


def test_trace_is_the_permutation_round_by_round():
    states, layers = _instance(2, 1)
    assert np.array_equal(layers[NUM_ROUNDS].T, poseidon2.permute(states))
    assert [int(v) for v in layers[0][:, 1]] == R.external_linear([int(v) for v in states[1]])


def _run(states, layers, n, zk_p=None, zk_v=None, fast=True, tamper=None):
    out = layers[NUM_ROUNDS].T
    tp = _t(zk_p)
    z, gamma = tp.challenge_exts(b"z", n), tp.challenge_exts(b"g", 8)
    value = _lane_value(out, z, gamma)
    proofs, xc = gkr_prover.prove(layers, LaneClaim(tuple(z), tuple(gamma), value), tp, fast=fast)
    blobs = [p.to_bytes() for p in proofs]
    if tamper is not None:
        blobs = tamper(blobs)
    tv = _t(zk_v)
    z2, gamma2 = tv.challenge_exts(b"z", n), tv.challenge_exts(b"g", 8)
    got = gkr_verifier.verify([SumcheckProof.from_bytes(b) for b in blobs], LaneClaim(tuple(z2), tuple(gamma2), value),
                              n, tv)
    return blobs, xc, got


@pytest.mark.parametrize("n", [1, 3, 11])
def test_fast_kernels_equal_the_generic_prover(n):
    states, layers = _instance(n, n)
    fast, _, _ = _run(states, layers, n)
    slow, _, _ = _run(states, layers, n, fast=False)
    assert fast == slow
    bank = np.array([[v.c0, v.c1] for v in random_fp2s(BANK)], dtype=np.uint64)
    zk_fast, _, _ = _run(states, layers, n, ZkProver({"advice": BANK}, {"advice": bank}), ZkSession({"advice": BANK}))
    zk_slow, _, _ = _run(states, layers, n, ZkProver({"advice": BANK}, {"advice": bank}), ZkSession({"advice": BANK}),
                         fast=False)
    assert zk_fast == zk_slow


@pytest.mark.parametrize("zero_knowledge", [False, True])
def test_honest_claim_reduces_to_the_inputs(zero_knowledge):
    n = 4
    states, layers = _instance(n, 7)
    zp, zv = (ZkProver({"advice": BANK}), ZkSession({"advice": BANK})) if zero_knowledge else (None, None)
    _, xc, got = _run(states, layers, n, zp, zv)
    assert got.point == xc.point and got.gamma == xc.gamma
    value = xc.value if zp is None else zp.value(xc.value)
    assert value == _lane_value(states, xc.point, xc.gamma)
    if zp is not None:
        assert all(zp.value(c) == Fp2(0) for c in zp.checks) and len(zp.checks) == len(zv.checks)


def test_a_wrong_output_claim_or_input_is_rejected():
    n = 3
    states, layers = _instance(n, 9)
    out = layers[NUM_ROUNDS].T
    t = _t()
    z, gamma = t.challenge_exts(b"z", n), t.challenge_exts(b"g", 8)
    wrong = _lane_value(out, z, gamma) + Fp2(1)
    proofs, _ = gkr_prover.prove(layers, LaneClaim(tuple(z), tuple(gamma), wrong), t)
    tv = _t()
    z2, g2 = tv.challenge_exts(b"z", n), tv.challenge_exts(b"g", 8)
    with pytest.raises(ProofRejected):
        gkr_verifier.verify(proofs, LaneClaim(tuple(z2), tuple(g2), wrong), n, tv)
    # Proven for other inputs, the reduced claim holds for those and not for the originals.
    other = states.copy()
    other[3, 5] ^= np.uint64(1)
    _, _, got = _run(other, gkr_prover.trace(other), n)
    assert got.value == _lane_value(other, got.point, got.gamma)
    assert got.value != _lane_value(states, got.point, got.gamma)


def test_tampered_rounds_are_rejected():
    n = 3
    states, layers = _instance(n, 10)

    def flip(i):
        def tamper(blobs):
            blobs = list(blobs)
            b = bytearray(blobs[i])
            b[len(b) // 2] ^= 1
            blobs[i] = bytes(b)
            return blobs
        return tamper

    for i in (0, 7, 20, NUM_ROUNDS - 1):
        with pytest.raises(ProofRejected):
            _run(states, layers, n, tamper=flip(i))
    with pytest.raises(ProofRejected):
        _run(states, layers, n, tamper=lambda b: b[:-1])


@pytest.mark.parametrize("log_n", [1, 4, 12])
def test_coefficient_form_kernels_equal_the_point_form(log_n):
    """The kernels accumulate each lane's (a + d X)^7 in coefficient form;
    the point-form twin evaluates the 8 points directly."""
    from zkaudit.hash.gkr_kernels import round_evals, round_evals_points

    n = 1 << log_n
    base = random_base(8 * n).reshape(8, n)
    ext = random_base(16 * n).reshape(8, n, 2)
    eqs = random_base(n).reshape(n // 2, 2) if n > 1 else random_base(2).reshape(1, 2)
    m = random_base(16).reshape(8, 2)
    for lanes in (base, ext):
        for full in (True, False):
            assert np.array_equal(round_evals(lanes, eqs, m, full), round_evals_points(lanes, eqs, m, full))


# ------------------------------------------------ exact mask-rank, one round


@pytest.mark.parametrize("full", [True, False], ids=["full-round", "partial-round"])
def test_a_zero_knowledge_round_reveals_nothing_outside_the_bank_span(full):
    """Challenges fixed (the statements harness's transcript), one round's
    sum-check on the fast kernels, its claimed sum hidden behind bank entry 0
    as in the GKR: what two different lane tables reveal differs by a
    vector in the span of the bank's directions (exact linear algebra over
    GF(p)), so the bank can always explain it; the unmasked run of the same
    round tells the two apart."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "statements"))
    from zk_harness import FixedChallenges, solve_in_span

    from zkaudit.field.hidden import Hidden
    from zkaudit.hash.gkr import ROUNDS, round_spec, through_matrix
    from zkaudit.hash.gkr_prover import RoundRun
    from zkaudit.poly.mle import eq_table
    from zkaudit.sumcheck import zk_prover

    n, size = 2, 48
    rnd = ROUNDS[0] if full else ROUNDS[5]
    rng = np.random.default_rng(3)  # test data only
    z = [Fp2(int(a), int(b)) for a, b in rng.integers(0, 2**62, size=(n, 2))]
    gamma = [Fp2(int(a), int(b)) for a, b in rng.integers(0, 2**62, size=(8, 2))]
    m = through_matrix(gamma, rnd.matrix)
    spec = round_spec(rnd, m)
    lanes = [rng.integers(0, 2**62, size=(8, 1 << n)).astype(np.uint64) for _ in range(2)]
    C = Fp2(12345, 678)

    def true_sum(ln):
        e = eq_table(z)
        total = Fp2(0)
        for b in range(1 << n):
            vals = [Fp2(int(e[b, 0]), int(e[b, 1]))] + [Fp2(int(ln[k, b])) for k in range(8)]
            total = total + spec.combine(vals)
        return total

    def revealed(ln, bank, zero_knowledge=True):
        t = FixedChallenges()
        t.absorb_statement("test/gkr-round-rank", 1)
        run = RoundRun(z, ln, m, rnd.full, spec)
        if not zero_knowledge:
            run.prove(t, n, true_sum(ln))
            return t.revealed
        zk = ZkProver({"advice": size}, {"advice": bank})
        (key,) = zk.take(1)
        t.zk = zk
        zk_prover.prove(None, spec, t, zk, Hidden(C, ((key, Fp2(1)),)), n, (0,), {}, run=run)
        return t.revealed, zk.banks_used()["advice"]

    def bank_for(ln, base):
        b = base.copy()
        s = true_sum(ln) - C
        b[0] = (s.c0, s.c1)
        return b

    base = np.array([[v.c0, v.c1] for v in random_fp2s(size)], dtype=np.uint64)
    b1, b2 = bank_for(lanes[0], base), bank_for(lanes[1], base)
    r1, used = revealed(lanes[0], b1)
    r2, _ = revealed(lanes[1], b2)
    columns = []
    for e in range(used):
        for c in range(2):
            bumped = b1.copy()
            bumped[e, c] = (int(bumped[e, c]) + 1) % (2**64 - 2**32 + 1)
            columns.append([(x - y) % (2**64 - 2**32 + 1) for x, y in zip(revealed(lanes[0], bumped)[0], r1)])
    target = [(x - y) % (2**64 - 2**32 + 1) for x, y in zip(r2, r1)]
    assert any(target)
    inside, rank = solve_in_span(columns, target)
    assert inside, f"the difference leaves the span of the bank's {len(columns)} directions (rank {rank})"
    assert revealed(lanes[0], None, zero_knowledge=False) != revealed(lanes[1], None, zero_knowledge=False)


def test_through_matrix_on_ints_equals_the_fp2_expression():
    import random

    from zkaudit.field.constants import P
    from zkaudit.field.scalar import Fp2
    from zkaudit.hash.gkr import M_E, M_I, through_matrix, through_matrix_reference

    rng = random.Random(4)  # test data only
    other = [[rng.randrange(P) for _ in range(8)] for _ in range(8)]  # neither structure: the 64 products
    for matrix in (M_E, M_I, other, [list(row) for row in M_E]):
        for gamma in ([Fp2(rng.randrange(P), rng.randrange(P)) for _ in range(8)], [Fp2(P - 1, P - 1)] * 8,
                      [Fp2(0)] * 8):
            assert through_matrix(gamma, matrix) == through_matrix_reference(gamma, matrix)


def test_round_spec_is_the_checked_construction():
    import random

    from zkaudit.field.constants import P
    from zkaudit.field.scalar import Fp, Fp2
    from zkaudit.hash.gkr import ROUNDS, round_spec, round_spec_reference

    rng = random.Random(5)  # test data only
    for rnd in (ROUNDS[0], ROUNDS[10]):
        m = [Fp2(rng.randrange(P), rng.randrange(P)) for _ in range(8)]
        fast, ref = round_spec(rnd, m), round_spec_reference(rnd, m)
        assert fast == ref and fast.to_bytes() == ref.to_bytes() and fast.degree == ref.degree == 8
        mixed = [Fp(3)] + m[1:]  # not all Fp2: the checked construction itself
        assert round_spec(rnd, mixed) == round_spec_reference(rnd, mixed)
