"""Independent adversarial review of the Poseidon2 GKR's partial-round block
(`hash.gkr_block`, `gkr_verifier.verify_blocked`), at the GKR level.

A malicious prover here controls the whole trace it proves about (it may
"forge" a partial round: change one S-box input of one instance and carry
the change through the remaining rounds, so the output claim is true of the
forged trace and false of Poseidon2), the U table it hands over as
committed, and its own sum-check tables. The caller's view of a verified
run is checked as the statement would: the returned claim on the inputs
holds on the real inputs and the returned U_j(z') are the committed table's.

* forged traces (one deviation, two deviations that cancel for lambda = 1),
  a swapped eq table, a committed U other than the one proven: rejected;
* mutation analysis: copies of the verifier (or of the shared challenges,
  for both sides) with one check weakened; every mutant must be caught by
  an honest run being rejected or an attack being accepted;
* structural: wrong proof counts, a proof for another size, a claim point
  of the wrong length: a typed ProofRejected, never another exception.
"""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.hash import gkr_block as gb
from zkaudit.hash import gkr_block_prover, gkr_prover, gkr_verifier
from zkaudit.hash.gkr import M_E, NUM_ROUNDS, ROUNDS, LaneClaim, through_matrix
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

N = 3  # 8 instances


def _t() -> Transcript:
    t = Transcript()
    t.absorb_statement("test/poseidon2-gkr-block-review", 1)
    return t


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v)


def _value(table, z, gamma) -> Fp2:
    total = Fp2(0)
    for k, g in enumerate(gamma):
        total = total + g * _ext(evaluate(np.ascontiguousarray(table[:, k]), list(z)))
    return total


def _honest_layers(seed=5):
    rng = np.random.default_rng(seed)  # test data only
    states = rng.integers(0, P, size=(1 << N, 8), dtype=np.uint64)
    return states, gkr_prover.trace(states)


def _round_py(state, r):
    """One Poseidon2 round on Python ints (V_r -> V_{r+1})."""
    rnd = ROUNDS[r]
    a = [(v + c) % P for v, c in zip(state, rnd.constants)]
    s = [pow(v, 7, P) if (rnd.full or k == 0) else v for k, v in enumerate(a)]
    return [sum(m % P * v for m, v in zip(row, s)) % P for row in rnd.matrix]


def _forged_layers(layers, b0, deviations):
    """The trace with S-box input of partial round j of instance b0 moved by
    deviations[j] (after the earlier deviations are carried through), every
    later layer of b0 recomputed: V_26..V_30 are what U says they are, the
    partial rounds' recurrence is broken where a deviation is."""
    out = layers.copy()
    for r in range(gb.FIRST_PARTIAL, NUM_ROUNDS):
        j = r - gb.FIRST_PARTIAL
        if 0 <= j < gb.NUM_PARTIAL and deviations.get(j):
            out[r, 0, b0] = (int(out[r, 0, b0]) + deviations[j]) % P
        nxt = _round_py([int(v) for v in out[r, :, b0]], r)
        out[r + 1, :, b0] = np.array(nxt, dtype=np.uint64)
    return out


def test_forged_layers_without_deviation_are_the_trace():
    _, layers = _honest_layers()
    assert np.array_equal(_forged_layers(layers, 3, {}), layers)
    forged = _forged_layers(layers, 3, {5: 1})
    assert not np.array_equal(forged[NUM_ROUNDS], layers[NUM_ROUNDS])
    assert np.array_equal(forged[: gb.FIRST_PARTIAL + 6], np.where(
        np.arange(forged.shape[0])[:, None, None] == gb.FIRST_PARTIAL + 5, forged, layers)[: gb.FIRST_PARTIAL + 6])


# ------------------------------------------------------------ prover variants


def _start(t, states_out):
    z, gamma = t.challenge_exts(b"z", N), t.challenge_exts(b"g", 8)
    return LaneClaim(tuple(z), tuple(gamma), _value(states_out, z, gamma))


def _honest_block(layers, claim, t):
    return gkr_block_prover.prove(layers, claim, t, fast=False)


def _run(layers, block=_honest_block):
    """prove_blocked with a pluggable block step; returns (blobs, start claim, committed U)."""
    t = _t()
    claim = _start(t, layers[NUM_ROUNDS].T)
    start = claim
    proofs = []
    for r in range(NUM_ROUNDS - 1, gb.AFTER_PARTIAL - 1, -1):
        claim = gkr_prover._layer(layers, r, claim, t, False, proofs)
    sc, claim, _, _ = block(layers, claim, t)
    proofs.append(sc)
    for r in range(gb.FIRST_PARTIAL - 1, -1, -1):
        claim = gkr_prover._layer(layers, r, claim, t, False, proofs)
    return [p.to_bytes() for p in proofs], start


def _eq_swapped_block(honest_layers):
    """Runs the block on the honest U (what the commitment holds) with the
    eq table changed at one instance so the sum meets the (false) claim."""

    def block(layers, claim, t):
        lam, mu = gb.draw(t, len(claim.point))
        co = gb.coefficients(claim.gamma, lam, mu)
        x = honest_layers[gb.FIRST_PARTIAL]
        u = np.ascontiguousarray(gkr_block_prover.sbox_inputs(honest_layers)[:, : gb.NUM_PARTIAL].T)
        eq = eq_table(list(claim.point)).copy()
        b0 = 2

        def f(b):
            total = Fp2(0)
            for k in range(8):
                total = total + co.m[k] * Fp2(int(x[k, b]))
            for j in range(gb.NUM_PARTIAL):
                uj = Fp2(int(u[j, b]))
                total = total + co.q[j] * uj ** 7 + co.p[j] * uj
            return total

        true_sum = Fp2(0)
        for b in range(eq.shape[0]):
            true_sum = true_sum + Fp2(int(eq[b, 0]), int(eq[b, 1])) * f(b)
        delta = (claim.value - co.shift) - true_sum
        fix = Fp2(int(eq[b0, 0]), int(eq[b0, 1])) + delta * f(b0).inverse()
        eq[b0] = (fix.c0, fix.c1)
        tables = [eq] + [x[k] for k in range(8)] + [u[j] for j in range(gb.NUM_PARTIAL)]
        sc, reduced, _ = sumcheck_prover.prove(tables, gb.block_spec(co), t, claimed_sum=claim.value - co.shift,
                                               public=(gb.EQ,))
        below = gb.below_claim(reduced.values[gb.X0: gb.U0], reduced.point, t)
        return sc, below, tuple(reduced.point), tuple(reduced.values[gb.U0:])

    return block


# ------------------------------------------------------------ the verifier and its mutants


def _verify_copy(proofs, claim, num_vars, transcript, mutation=None):
    """`gkr_verifier.verify_blocked`, restated with one optional weakening."""
    if len(proofs) != gb.NUM_SUMCHECKS:
        raise gkr_verifier.MalformedProof("count", where="copy")
    rest = iter(proofs)
    for r in range(NUM_ROUNDS - 1, gb.AFTER_PARTIAL - 1, -1):
        claim = gkr_verifier._layer(next(rest), r, claim, num_vars, transcript, "copy")
    lam, mu = gb.draw(transcript, len(claim.point))
    if mutation == "lambda-off-by-one":
        co = gb.coefficients(claim.gamma, lam, mu * lam)
    elif mutation == "mu-zero":
        co = gb.coefficients(claim.gamma, lam, Fp2(0))
    else:
        co = gb.coefficients(claim.gamma, lam, mu)
    target = claim.value + co.shift if mutation == "shift-sign" else claim.value - co.shift
    reduced = sumcheck_verifier.verify(next(rest), target, num_vars, gb.block_spec(co), transcript, where="copy",
                                       public=(gb.EQ,))
    if mutation != "no-eq":
        gkr_verifier._check_eq(reduced, claim, "copy")
    point, values = tuple(reduced.point), reduced.values
    claim = gb.below_claim(values[gb.X0: gb.U0], point, transcript)
    for r in range(gb.FIRST_PARTIAL - 1, -1, -1):
        claim = gkr_verifier._layer(next(rest), r, claim, num_vars, transcript, "copy")
    return LaneClaim(claim.point, tuple(through_matrix(claim.gamma, M_E)), claim.value), point, tuple(
        values[gb.U0:])


def _accepted(blobs, states, u_committed, verify=gkr_verifier.verify_blocked, **kw) -> bool:
    """Whether the caller would accept: the GKR verifies, its claim on the
    inputs holds on the real inputs and U_j(z') are the committed table's
    (the statement's SBOX opening, here checked directly)."""
    t = _t()
    z, gamma = t.challenge_exts(b"z", N), t.challenge_exts(b"g", 8)
    claimed = _claimed_output[0]
    try:
        xc, point, lanes = verify([SumcheckProof.from_bytes(b) for b in blobs], LaneClaim(tuple(z), tuple(gamma),
                                                                                          claimed), N, t, **kw)
    except ProofRejected:
        return False
    if xc.value != _value(states, xc.point, xc.gamma):
        return False
    want = [_ext(evaluate(np.ascontiguousarray(u_committed[:, j]), list(point))) for j in range(gb.LANES)]
    return list(lanes) == want[: gb.NUM_PARTIAL] and not any(v != Fp2(0) for v in want[gb.NUM_PARTIAL:])


_claimed_output = [None]


def _attempt(layers_proven, states, u_committed, block=_honest_block, verify=gkr_verifier.verify_blocked,
             **kw) -> bool:
    blobs, start = _run(layers_proven, block)
    _claimed_output[0] = start.value
    return _accepted(blobs, states, u_committed, verify, **kw)


def _attacks(monkeypatch):
    """name -> (thunk running the attack under the current gb/verifier, verifier kwargs passthrough)."""
    states, layers = _honest_layers()
    honest_u = gkr_block_prover.sbox_inputs(layers)

    def honest(verify, **kw):
        return _attempt(layers, states, honest_u, verify=verify, **kw)

    def one_deviation(verify, **kw):
        forged = _forged_layers(layers, 5, {7: 1})
        return _attempt(forged, states, gkr_block_prover.sbox_inputs(forged), verify=verify, **kw)

    def cancelling_deviations(verify, **kw):
        # C_3(b0) = +1 and C_11(b0) = -1: sum_j C_j = 0, sum_j lambda^j C_j is not
        forged = _forged_layers(layers, 6, {3: 1, 11: P - 1})
        return _attempt(forged, states, gkr_block_prover.sbox_inputs(forged), verify=verify, **kw)

    def eq_swapped(verify, **kw):
        forged = _forged_layers(layers, 1, {0: 1})
        return _attempt(forged, states, honest_u, block=_eq_swapped_block(layers), verify=verify, **kw)

    def committed_u_not_proven(verify, **kw):
        # the sum-check runs on the honest U, the "commitment" holds another entry
        other = honest_u.copy()
        other[4, 9] = (int(other[4, 9]) + 1) % P
        return _attempt(layers, states, other, verify=verify, **kw)

    return {"honest": honest, "one-deviation": one_deviation, "cancelling-deviations": cancelling_deviations,
            "eq-swapped": eq_swapped, "committed-u-not-proven": committed_u_not_proven}


def test_copy_is_the_verifier_and_every_attack_is_rejected(monkeypatch):
    attacks = _attacks(monkeypatch)
    for verify in (gkr_verifier.verify_blocked, _verify_copy):
        got = {name: run(verify) for name, run in attacks.items()}
        assert got == {name: name == "honest" for name in attacks}, (verify.__name__, got)


def test_forged_partial_round_is_proven_about_a_wrong_output():
    """Sanity of the attacks: each forged trace's output is not Poseidon2 of
    the inputs, and its U breaks the recurrence exactly where deviated."""
    states, layers = _honest_layers()
    for b0, dev in ((5, {7: 1}), (6, {3: 1, 11: P - 1})):
        forged = _forged_layers(layers, b0, dev)
        assert not np.array_equal(forged[NUM_ROUNDS][:, b0], layers[NUM_ROUNDS][:, b0])
        u = [int(v) for v in gkr_block_prover.sbox_inputs(forged)[b0, : gb.NUM_PARTIAL]]
        x = [int(v) for v in forged[gb.FIRST_PARTIAL][:, b0]]
        w = [pow(v, 7, P) for v in u]
        c = [(u[j] - sum(a * v for a, v in zip(gb.BLOCK.alpha[j], x))
              - sum(g * v for g, v in zip(gb.BLOCK.gamma[j], w)) - gb.BLOCK.c[j]) % P for j in range(gb.NUM_PARTIAL)]
        assert {j: v for j, v in enumerate(c) if v} == {j: v % P for j, v in dev.items()}
        out = [(sum(a * v for a, v in zip(gb.BLOCK.a[k], x)) + sum(bb * v for bb, v in zip(gb.BLOCK.b[k], w))
                + gb.BLOCK.e[k]) % P for k in range(8)]
        assert out == [int(v) for v in forged[gb.AFTER_PARTIAL][:, b0]]  # V_26 is what U says


# mutant -> (where it lives, the attacks expected to expose it)
MUTANTS = {
    "no-eq": ("verifier", {"eq-swapped"}),
    "shift-sign": ("verifier", {"honest"}),
    "lambda-off-by-one": ("verifier", {"honest"}),
    "mu-zero": ("verifier", {"honest"}),
    "shared-mu-zero": ("shared", {"one-deviation", "cancelling-deviations"}),
    "shared-lambda-one": ("shared", {"cancelling-deviations"}),
}


def _shared_draw(kind):
    real = gb.draw

    def draw(transcript, num_vars):
        lam, mu = real(transcript, num_vars)
        return (lam, Fp2(0)) if kind == "shared-mu-zero" else (Fp2(1), mu)

    return draw


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_mutant_is_caught(monkeypatch, mutant):
    """Each weakened verifier (or shared challenge) is exposed: the honest
    run rejected, or an attack the real verifier rejects accepted."""
    where, expected = MUTANTS[mutant]
    attacks = _attacks(monkeypatch)
    if where == "shared":
        monkeypatch.setattr(gb, "draw", _shared_draw(mutant))
        got = {name: run(_verify_copy) for name, run in attacks.items()}
    else:
        got = {name: run(_verify_copy, mutation=mutant) for name, run in attacks.items()}
    exposed = {name for name, ok in got.items() if ok != (name == "honest")}
    assert exposed, f"mutant {mutant} survived every attack: {got}"
    assert expected <= exposed, (mutant, got)


def test_shared_lambda_power_shift_is_an_equivalent_mutant(monkeypatch):
    """lambda_j = lambda^(j+1) on both sides is mu lambda in place of mu:
    as sound as the protocol, so no attack gets through (documented, not a gap)."""
    real = gb.draw

    def draw(transcript, num_vars):
        lam, mu = real(transcript, num_vars)
        return lam, mu * lam

    attacks = _attacks(monkeypatch)
    monkeypatch.setattr(gb, "draw", draw)
    got = {name: run(_verify_copy) for name, run in attacks.items()}
    assert got == {name: name == "honest" for name in attacks}, got


# ------------------------------------------------------------ structure


def _honest_blobs(n=N):
    rng = np.random.default_rng(40 + n)  # test data only
    states = rng.integers(0, P, size=(1 << n, 8), dtype=np.uint64)
    layers = gkr_prover.trace(states)
    t = _t()
    z, gamma = t.challenge_exts(b"z", n), t.challenge_exts(b"g", 8)
    value = _value(layers[NUM_ROUNDS].T, z, gamma)
    proofs, _, _, _ = gkr_prover.prove_blocked(layers, LaneClaim(tuple(z), tuple(gamma), value), t)
    return [p.to_bytes() for p in proofs], value


def _verify_raw(blobs, n, value, point_len=None):
    t = _t()
    z, gamma = t.challenge_exts(b"z", n), t.challenge_exts(b"g", 8)
    if point_len is not None:
        z = (z + z)[:point_len]
    return gkr_verifier.verify_blocked([SumcheckProof.from_bytes(b) for b in blobs],
                                       LaneClaim(tuple(z), tuple(gamma), value), n, t)


def test_structurally_bad_proofs_are_typed_rejections():
    blobs, value = _honest_blobs()
    _verify_raw(blobs, N, value)  # the honest run verifies
    layered_count = [blobs[0]] * NUM_ROUNDS
    bad = {"none": [], "one-short": blobs[:-1], "one-extra": blobs + [blobs[-1]], "layered-count": layered_count,
           "block-swapped-with-a-round": blobs[:3] + [blobs[4], blobs[3]] + blobs[5:],
           "block-duplicated": blobs[:5] + [blobs[4]] + blobs[6:]}
    for name, variant in bad.items():
        with pytest.raises(ProofRejected):
            _verify_raw(variant, N, value)
    for point_len in (N - 1, N + 1):
        with pytest.raises(ProofRejected):
            _verify_raw(blobs, N, value, point_len=point_len)


def test_a_proof_for_another_size_is_a_typed_rejection():
    small, v_small = _honest_blobs(2)
    big, v_big = _honest_blobs(4)
    for blobs, n, value in ((small, 4, v_small), (big, 2, v_big), (small[:4] + big[4:5] + small[5:], 2, v_small)):
        with pytest.raises(ProofRejected):
            _verify_raw(blobs, n, value)
