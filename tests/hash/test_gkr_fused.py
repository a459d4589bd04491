"""The fused zero-knowledge round loop of a small Poseidon2 GKR layer
(`hash.gkr_zk_run.FusedRun`, one numba call a round) against the
generic driver on the same layer (`RoundRun`) and against the generic
sum-check prover on the same tables: the same bytes with one bank, the same
deferred checks, the verifier accepts; a false claim is sent the same way
(g(1) from the claim) and rejected."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.randomness import random_fp2s
from zkaudit.field.scalar import Fp2
from zkaudit.hash import gkr_prover, gkr_verifier, gkr_zk_run
from zkaudit.hash.gkr import NUM_ROUNDS, LaneClaim
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck.errors import SumcheckRejected
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.zk import ZkProver, ZkSession
from zkaudit.transcript import Transcript

BANK = 8000


def _t(zk) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/poseidon2-gkr-fused", 1)
    t.zk = zk
    return t


def _value(table, z, gamma) -> Fp2:
    total = Fp2(0)
    for k, g in enumerate(gamma):
        v = evaluate(np.ascontiguousarray(table[:, k]), list(z))
        total = total + g * (v if isinstance(v, Fp2) else Fp2.from_base(v))
    return total


def _prove(layers, n, bank, mode, monkeypatch, shift=Fp2(0)):
    """mode: 'fused' (forced), 'round-run' (fused off), 'generic' (fast=False)."""
    monkeypatch.setattr(gkr_zk_run, "applies", lambda num_states: mode == "fused")
    zk = ZkProver({"advice": BANK}, {"advice": bank.copy()})
    t = _t(zk)
    z, gamma = t.challenge_exts(b"z", n), t.challenge_exts(b"g", 8)
    value = _value(layers[NUM_ROUNDS].T, z, gamma) + shift
    proofs, xc = gkr_prover.prove(layers, LaneClaim(tuple(z), tuple(gamma), value), t, fast=mode != "generic")
    return [p.to_bytes() for p in proofs], xc, zk, value, t.challenge_ext(b"after")


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_fused_rounds_send_the_generic_bytes(n, monkeypatch):
    rng = np.random.default_rng(n)  # test data only
    states = rng.integers(0, 2**64 - 2**32, size=(1 << n, 8), dtype=np.uint64)
    layers = gkr_prover.trace(states)
    bank = np.array([[v.c0, v.c1] for v in random_fp2s(BANK)], dtype=np.uint64)
    fused = _prove(layers, n, bank, "fused", monkeypatch)
    for mode in ("round-run", "generic"):
        other = _prove(layers, n, bank, mode, monkeypatch)
        assert fused[0] == other[0] and fused[4] == other[4]
        assert fused[1].point == other[1].point and fused[1].value == other[1].value
        assert fused[2].checks == other[2].checks and fused[2].final_pads == other[2].final_pads
    blobs, xc, zp, value, _ = fused
    assert all(zp.value(c) == Fp2(0) for c in zp.checks)
    zv = ZkSession({"advice": BANK})
    tv = _t(zv)
    z, gamma = tv.challenge_exts(b"z", n), tv.challenge_exts(b"g", 8)
    got = gkr_verifier.verify([SumcheckProof.from_bytes(b) for b in blobs], LaneClaim(tuple(z), tuple(gamma), value),
                              n, tv)
    assert got.point == xc.point and zv.checks == zp.checks
    assert zp.value(xc.value) == _value(states, xc.point, xc.gamma)


def test_a_false_claim_is_sent_as_the_generic_driver_sends_it_and_fails(monkeypatch):
    n = 4
    rng = np.random.default_rng(40)  # test data only
    layers = gkr_prover.trace(rng.integers(0, 2**63, size=(1 << n, 8), dtype=np.uint64))
    bank = np.array([[v.c0, v.c1] for v in random_fp2s(BANK)], dtype=np.uint64)
    fused = _prove(layers, n, bank, "fused", monkeypatch, shift=Fp2(1))
    ref = _prove(layers, n, bank, "round-run", monkeypatch, shift=Fp2(1))
    assert fused[0] == ref[0]
    zv = ZkSession({"advice": BANK})
    tv = _t(zv)
    z, gamma = tv.challenge_exts(b"z", n), tv.challenge_exts(b"g", 8)
    try:
        gkr_verifier.verify([SumcheckProof.from_bytes(b) for b in fused[0]], LaneClaim(tuple(z), tuple(gamma),
                                                                                        fused[3]), n, tv)
    except SumcheckRejected:
        return
    assert any(fused[2].value(c) != Fp2(0) for c in zv.checks)  # the bank opening refuses it


def test_fused_rounds_apply_once_numba_runs(monkeypatch):
    from zkaudit.field import jit

    monkeypatch.setattr(jit, "warm", lambda: True)
    assert gkr_zk_run.applies(1) and gkr_zk_run.applies(1 << 20)
    monkeypatch.setattr(jit, "warm", lambda: False)
    assert not gkr_zk_run.applies(16)


def test_fused_rounds_past_the_serial_size_send_the_round_run_bytes(monkeypatch):
    """2^11 states: the first rounds' sums take the parallel kernels."""
    from zkaudit.hash.gkr_kernels import SERIAL_PAIRS

    n = 11
    assert (1 << n) // 2 >= SERIAL_PAIRS
    rng = np.random.default_rng(n)  # test data only
    layers = gkr_prover.trace(rng.integers(0, 2**64 - 2**32, size=(1 << n, 8), dtype=np.uint64))
    bank = np.array([[v.c0, v.c1] for v in random_fp2s(BANK)], dtype=np.uint64)
    fused = _prove(layers, n, bank, "fused", monkeypatch)
    other = _prove(layers, n, bank, "round-run", monkeypatch)
    assert fused[0] == other[0] and fused[4] == other[4] and fused[1].value == other[1].value
    assert fused[2].checks == other[2].checks and fused[2].final_pads == other[2].final_pads


@pytest.mark.parametrize("case", ["padded", "plain", "mixed", "no-terms", "zero-gamma", "shared-key", "two-terms"])
def test_lane_sum_on_ints_is_the_expression(case):
    """`gkr.lane_sum` (the next layer's claim from eight A values) equals
    sum gamma_k (A_k - c_k) in Hidden/Fp2 arithmetic, form for form."""
    from zkaudit.field.constants import P
    from zkaudit.field.hidden import Hidden
    from zkaudit.hash.gkr import lane_sum, lane_sum_reference

    gamma = random_fp2s(8)
    consts = [int(v) for v in np.random.default_rng(3).integers(0, P, size=8, dtype=np.uint64)]  # test data only
    coeffs = random_fp2s(8)
    consts_v = random_fp2s(8)
    values = [Hidden._raw(c, ((("advice", 100 - 3 * k), m),)) for k, (c, m) in enumerate(zip(consts_v, coeffs))]
    if case == "plain":
        values = consts_v
    elif case == "mixed":
        values = [v if k % 2 else consts_v[k] for k, v in enumerate(values)]
    elif case == "no-terms":
        values = [Hidden(c) for c in consts_v]
    elif case == "zero-gamma":
        gamma[3] = Fp2(0)
    elif case == "shared-key":
        values[5] = Hidden._raw(consts_v[5], ((("advice", 100), coeffs[5]),))
    elif case == "two-terms":
        values[2] = Hidden(consts_v[2], [(("advice", 1), coeffs[2]), (("input", 4), coeffs[0])])
    got, want = lane_sum(gamma, values, consts), lane_sum_reference(gamma, values, consts)
    assert type(got) is type(want) and got == want
    if isinstance(want, Hidden):
        assert got.const == want.const and got.terms == want.terms
