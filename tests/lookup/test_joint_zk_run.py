"""A lock-step lookup layer's fused zero-knowledge rounds
(`lookup.joint_zk_run.JointFusedRun`, one numba call a round) against
`zk_prover.prove` on `gkr.JointRun` (the generic driver on the per-tree
kernels): the same bytes, point, final values, deferred checks and pads on
one bank, for honest and false claims; the verifier's session records the
same checks."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.scalar import Fp2
from zkaudit.lookup import gkr, joint_zk_run
from zkaudit.lookup.protocol import joint_layer_spec
from zkaudit.sumcheck.errors import SumcheckRejected
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.zk import ZkProver, ZkSession
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.transcript import Transcript

P = 2**64 - 2**32 + 1
BANK = 1 << 12
U64 = np.uint64


def _t(zk) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/joint-zk-run", 1)
    t.zk = zk
    return t


def _exts(rng, n):
    return [Fp2(int(a), int(b)) for a, b in rng.integers(0, P, size=(n, 2), dtype=U64)]


def _layer(num_vars, trees, seed, rho_edges=()):
    rng = np.random.default_rng(seed)  # test data only
    rho = _exts(rng, num_vars)
    for j in rho_edges:
        rho[j] = Fp2(1)  # eq's line is t there: l(0) = 0
    stacks = [rng.integers(0, P, size=(4, 1 << num_vars, 2), dtype=U64) for _ in range(trees)]
    lam, mus = _exts(rng, 1)[0], [Fp2(1)] + _exts(rng, trees - 1)
    spec = joint_layer_spec(lam, mus)
    tables = [np.array(eq_rows(rho))] + [t for st in stacks for t in st]
    total = Fp2(0)
    for x in range(1 << num_vars):
        total = total + spec.combine([Fp2(int(t[x, 0]), int(t[x, 1])) for t in tables])
    bank = rng.integers(0, P, size=(BANK, 2), dtype=U64)
    return rho, stacks, lam, mus, total, bank


def eq_rows(rho):
    from zkaudit.poly.mle import eq_table

    return eq_table(rho)


def _prove(layer, fused: bool, monkeypatch, shift=Fp2(0)):
    rho, stacks, lam, mus, total, bank = layer
    monkeypatch.setattr(joint_zk_run, "applies", lambda entries: fused)
    zk = ZkProver({"advice": BANK}, {"advice": bank.copy()})
    t = _t(zk)
    proof, claim, _ = gkr.joint_layer_prove(rho, [s.copy() for s in stacks], lam, mus, t, claimed_sum=total + shift)
    return proof.to_bytes(), claim, zk, t.challenge_ext(b"after")


@pytest.mark.parametrize("num_vars,trees,edges", [(2, 1, ()), (3, 3, ()), (5, 2, (1,)), (6, 4, (0, 5)), (9, 2, ())])
def test_fused_joint_rounds_send_the_joint_run_bytes(num_vars, trees, edges, monkeypatch):
    layer = _layer(num_vars, trees, 100 * num_vars + trees, edges)
    fused = _prove(layer, True, monkeypatch)
    other = _prove(layer, False, monkeypatch)
    assert fused[0] == other[0] and fused[3] == other[3]
    assert fused[1].point == other[1].point and fused[1].values == other[1].values
    assert fused[2].checks == other[2].checks and fused[2].final_pads == other[2].final_pads
    zp = fused[2]
    assert all(zp.value(c) == Fp2(0) for c in zp.checks)
    # the verifier's session, on the proof's bytes, records the same deferred checks
    rho, stacks, lam, mus, total, _ = layer
    zv = ZkSession({"advice": BANK})
    tv = _t(zv)
    spec = joint_layer_spec(lam, mus)
    got = sumcheck_verifier.verify(SumcheckProof.from_bytes(fused[0]), total, len(rho), spec, tv, public=(0,))
    assert zv.checks == zp.checks and tuple(got.point) == tuple(fused[1].point)


def test_a_false_claim_is_sent_as_joint_run_sends_it_and_fails(monkeypatch):
    layer = _layer(4, 3, 7)
    fused = _prove(layer, True, monkeypatch, shift=Fp2(1))
    other = _prove(layer, False, monkeypatch, shift=Fp2(1))
    assert fused[0] == other[0] and fused[2].checks == other[2].checks
    # the rounds carry the lie to the last one, computed from the tables: its round sum fails
    rho, stacks, lam, mus, total, _ = layer
    zv = ZkSession({"advice": BANK})
    with pytest.raises(SumcheckRejected):
        sumcheck_verifier.verify(SumcheckProof.from_bytes(fused[0]), total + Fp2(1), len(rho),
                                 joint_layer_spec(lam, mus), _t(zv), public=(0,))


def test_applies_to_serial_layers_once_numba_runs(monkeypatch):
    from zkaudit.field import jit
    from zkaudit.lookup.kernels import SERIAL_PAIRS

    monkeypatch.setattr(jit, "warm", lambda: True)
    assert joint_zk_run.applies(4) and joint_zk_run.applies(2 * SERIAL_PAIRS - 1)
    assert not joint_zk_run.applies(2 * SERIAL_PAIRS)
    monkeypatch.setattr(jit, "warm", lambda: False)
    assert not joint_zk_run.applies(4)


@pytest.mark.parametrize("num_vars", [2, 5])
def test_one_tree_layer_takes_the_fused_rounds_with_the_same_bytes(num_vars, monkeypatch):
    """`gkr.fused_layer_prove` in a zero-knowledge run: one tree's layer as
    a lock step of one (mu = 1, the same polynomial as `layer_spec`)."""
    from zkaudit.lookup.protocol import layer_spec

    rho, stacks, lam, _, _, bank = _layer(num_vars, 1, 31 + num_vars)
    spec = layer_spec(lam)
    tables = [eq_rows(rho)] + list(stacks[0])
    total = Fp2(0)
    for x in range(1 << num_vars):
        total = total + spec.combine([Fp2(int(t[x, 0]), int(t[x, 1])) for t in tables])
    out = []
    for fused in (True, False):
        monkeypatch.setattr(joint_zk_run, "applies", lambda entries, f=fused: f)
        zk = ZkProver({"advice": BANK}, {"advice": bank.copy()})
        t = _t(zk)
        proof, claim, _ = gkr.fused_layer_prove(rho, stacks[0].copy(), spec, t, claimed_sum=total)
        out.append((proof.to_bytes(), claim.point, claim.values, zk.checks, zk.final_pads, t.challenge_ext(b"x")))
    assert out[0] == out[1]
