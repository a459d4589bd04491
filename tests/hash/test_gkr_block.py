"""The Poseidon2 GKR with its 22 partial rounds as one block (`hash.gkr_block`):
the block's affine maps against the permutation's trace, the round-sum
kernel against its numpy twin, the run against the generic sum-check
prover byte for byte (plain and zero-knowledge), the verifier's acceptance,
and the attacks: a wrong committed S-box input, a wrong claimed output, a
tampered proof."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field.constants import P
from zkaudit.field.randomness import random_fp2s
from zkaudit.field.scalar import Fp2
from zkaudit.hash import gkr_block as gb
from zkaudit.hash import gkr_block_kernels as gbk
from zkaudit.hash import gkr_block_prover, gkr_prover, gkr_verifier
from zkaudit.hash.gkr import NUM_ROUNDS, LaneClaim
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.zk import ZkProver, ZkSession
from zkaudit.transcript import Transcript

BANK = 8000


def _t(zk=None) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/poseidon2-gkr-block", 1)
    t.zk = zk
    return t


def _ext(v) -> Fp2:
    return v if isinstance(v, Fp2) else Fp2.from_base(v)


def _value(table, z, gamma) -> Fp2:
    total = Fp2(0)
    for k, g in enumerate(gamma):
        total = total + g * _ext(evaluate(np.ascontiguousarray(table[:, k]), list(z)))
    return total


def _layers(n, seed):
    rng = np.random.default_rng(seed)  # test data only
    states = rng.integers(0, 2**64 - 2**32, size=(1 << n, 8), dtype=np.uint64)
    return states, gkr_prover.trace(states)


def _u_at(u_table: np.ndarray, point) -> list[Fp2]:
    """U~(point, j) for j < 22 from the (B, 32) table."""
    return [_ext(evaluate(np.ascontiguousarray(u_table[:, j]), list(point))) for j in range(gb.NUM_PARTIAL)]


def test_the_block_maps_reproduce_the_trace():
    _, layers = _layers(6, 1)
    u = gkr_block_prover.sbox_inputs(layers)
    assert not u[:, gb.NUM_PARTIAL:].any()
    for b in range(0, 64, 7):
        x = [int(v) for v in layers[gb.FIRST_PARTIAL][:, b]]
        us = [int(v) for v in u[b, : gb.NUM_PARTIAL]]
        w = [pow(v, 7, P) for v in us]
        for j in range(gb.NUM_PARTIAL):
            got = (sum(a * v for a, v in zip(gb.BLOCK.alpha[j], x))
                   + sum(g * v for g, v in zip(gb.BLOCK.gamma[j], w)) + gb.BLOCK.c[j]) % P
            assert got == us[j]
            assert not any(gb.BLOCK.gamma[j][j:])  # u_j depends on earlier S-boxes only
        for k in range(8):
            got = (sum(a * v for a, v in zip(gb.BLOCK.a[k], x))
                   + sum(g * v for g, v in zip(gb.BLOCK.b[k], w)) + gb.BLOCK.e[k]) % P
            assert got == int(layers[gb.AFTER_PARTIAL][k, b])


def test_coefficients_on_ints_are_the_field_expression():
    t = _t()
    gamma, (lam, mu) = t.challenge_exts(b"g", 8), t.challenge_exts(b"lm", 2)
    for g in (gamma, [Fp2(0)] * 8, [Fp2(P - 1)] * 8):
        for lm in ((lam, mu), (Fp2(0), Fp2(1)), (Fp2(P - 1), Fp2(P - 1))):
            assert gb.coefficients(g, *lm) == gb.coefficients_reference(g, *lm)
    assert gb.block_spec(gb.coefficients(gamma, lam, mu)) == gb.block_spec_reference(
        gb.coefficients(gamma, lam, mu))


@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("ext", [False, True])
def test_block_sums_kernel_is_the_numpy_twin(n, ext):
    rng = np.random.default_rng(10 * n + ext)  # test data only
    size = 1 << n
    u = rng.integers(0, P, size=(gb.NUM_PARTIAL, size) + ((2,) if ext else ()), dtype=np.uint64)
    if n == 2:  # edge words
        u.reshape(-1)[:4] = [0, 1, P - 1, P - 2]
    lin = rng.integers(0, P, size=(size, 2), dtype=np.uint64)
    eqs = rng.integers(0, P, size=(size // 2, 2), dtype=np.uint64)
    q = rng.integers(0, P, size=(gb.NUM_PARTIAL, 2), dtype=np.uint64)
    kernel = gbk._sums_ext if ext else gbk._sums_base
    assert np.array_equal(kernel(u, lin, eqs, q), gbk.block_sums_numpy(u, lin, eqs, q))


def _prove(layers, n, *, zk_bank=None, fast=True, shift=Fp2(0), u_table=None, monkeypatch=None):
    zk = None if zk_bank is None else ZkProver({"advice": BANK}, {"advice": zk_bank.copy()})
    t = _t(zk)
    z, gamma = t.challenge_exts(b"z", n), t.challenge_exts(b"g", 8)
    value = _value(layers[NUM_ROUNDS].T, z, gamma) + shift
    if u_table is not None:
        monkeypatch.setattr(gkr_block_prover, "sbox_inputs", lambda _layers: u_table)
    proofs, xc, point, lanes = gkr_prover.prove_blocked(layers, LaneClaim(tuple(z), tuple(gamma), value), t,
                                                        fast=fast)
    return [p.to_bytes() for p in proofs], xc, point, lanes, zk, value, t.challenge_ext(b"after")


def _verify(blobs, n, value, zk=False):
    zv = ZkSession({"advice": BANK}) if zk else None
    tv = _t(zv)
    z, gamma = tv.challenge_exts(b"z", n), tv.challenge_exts(b"g", 8)
    got = gkr_verifier.verify_blocked([SumcheckProof.from_bytes(b) for b in blobs],
                                      LaneClaim(tuple(z), tuple(gamma), value), n, tv)
    return got, zv


@pytest.mark.parametrize("n", [1, 3, 6])
def test_plain_block_run_is_the_generic_prover_and_verifies(n):
    states, layers = _layers(n, n)
    fast = _prove(layers, n)
    ref = _prove(layers, n, fast=False)
    assert fast[0] == ref[0] and fast[6] == ref[6]
    assert len(fast[0]) == gb.NUM_SUMCHECKS == 9
    blobs, xc, point, lanes, _, value, _ = fast
    assert xc.value == _value(states, xc.point, xc.gamma)
    assert list(lanes) == _u_at(gkr_block_prover.sbox_inputs(layers), point)
    (got, got_point, got_lanes), _ = _verify(blobs, n, value)
    assert got.point == xc.point and got.value == xc.value and got_point == point and got_lanes == lanes


@pytest.mark.parametrize("n", [1, 4, 8])
def test_zero_knowledge_block_run_is_the_generic_prover_and_verifies(n):
    states, layers = _layers(n, 100 + n)
    bank = np.array([[v.c0, v.c1] for v in random_fp2s(BANK)], dtype=np.uint64)
    fast = _prove(layers, n, zk_bank=bank)
    ref = _prove(layers, n, zk_bank=bank, fast=False)
    assert fast[0] == ref[0] and fast[6] == ref[6]
    assert fast[4].checks == ref[4].checks and fast[4].final_pads == ref[4].final_pads
    _accepted_zk(fast, states, layers, n)


def _accepted_zk(proved, states, layers, n):
    """An honest zero-knowledge run: every deferred check vanishes, the claims
    on X and U are the trace's, the verifier replays the same checks."""
    blobs, xc, point, lanes, zp, value, _ = proved
    assert all(zp.value(c) == Fp2(0) for c in zp.checks)
    assert zp.value(xc.value) == _value(states, xc.point, xc.gamma)
    assert [zp.value(v) for v in lanes] == _u_at(gkr_block_prover.sbox_inputs(layers), point)
    (got, got_point, _), zv = _verify(blobs, n, value, zk=True)
    assert got.point == xc.point and got_point == point and zv.checks == zp.checks


def test_wrong_output_claim_is_rejected():
    n = 4
    _, layers = _layers(n, 7)
    blobs, _, _, _, _, value, _ = _prove(layers, n, shift=Fp2(1))
    with pytest.raises(ProofRejected):
        _verify(blobs, n, value)


@pytest.mark.parametrize("where", ["first", "last", "middle-instance"])
def test_a_wrong_sbox_input_cannot_pass(where, monkeypatch):
    """A prover running the block on U with one entry changed (the claim on
    the output is the honest trace's): the block's identity fails at a
    random point, so the verifier rejects."""
    n = 4
    _, layers = _layers(n, 8)
    bad = gkr_block_prover.sbox_inputs(layers).copy()
    b, j = {"first": (0, 0), "last": (15, 21), "middle-instance": (9, 11)}[where]
    bad[b, j] = (int(bad[b, j]) + 1) % P
    blobs, _, _, _, _, value, _ = _prove(layers, n, u_table=bad, monkeypatch=monkeypatch)
    with pytest.raises(ProofRejected):
        _verify(blobs, n, value)


def test_a_tampered_block_proof_is_rejected():
    n = 3
    _, layers = _layers(n, 9)
    blobs, _, _, _, _, value, _ = _prove(layers, n)
    i = NUM_ROUNDS - gb.AFTER_PARTIAL  # the block's index: after the 4 final full rounds
    raw = bytearray(blobs[i])
    raw[-20] ^= 1
    blobs[i] = bytes(raw)
    with pytest.raises(ProofRejected):
        _verify(blobs, n, value)


def test_wrong_number_of_proofs_is_malformed():
    n = 2
    _, layers = _layers(n, 3)
    blobs, _, _, _, _, value, _ = _prove(layers, n)
    with pytest.raises(ProofRejected, match="number"):
        _verify(blobs[:-1], n, value)


def test_lane_claim_value_is_the_table_at_the_point():
    _, layers = _layers(3, 4)
    u = gkr_block_prover.sbox_inputs(layers)
    t = _t()
    point, rho = t.challenge_exts(b"p", 3), t.challenge_exts(b"r", gb.LANE_VARS)
    lanes = [_ext(evaluate(np.ascontiguousarray(u[:, j]), list(point))) for j in range(gb.LANES)]
    assert gb.lane_claim_value(rho, lanes) == _ext(evaluate(u.reshape(-1), list(point) + list(rho)))
    assert eq_table(list(rho)).shape[0] == gb.LANES


@pytest.mark.parametrize("seed", [0, 1])
def test_last_round_kernel_is_the_generic_expression(seed):
    """`gkr_block_kernels.last_poly` (the zero-knowledge last round of the
    block, one kernel call) against `zk_prover._last_poly_reference` on the
    block's spec: random pairs, pads on every table but eq, edge words."""
    from zkaudit.sumcheck.zk_prover import _last_poly_reference

    t = _t()
    t.absorb_u64(b"seed", seed)
    gamma, (lam, mu, c_prev) = t.challenge_exts(b"g", 8), t.challenge_exts(b"lm", 3)
    co = gb.coefficients(gamma, lam, mu)
    spec = gb.block_spec(co)
    vals = t.challenge_exts(b"v", 2 * gb.NUM_TABLES)
    vals[:4] = [Fp2(0), Fp2(1), Fp2(P - 1), Fp2(P - 1, P - 1)]
    pairs = [(vals[2 * j], vals[2 * j + 1]) for j in range(gb.NUM_TABLES)]
    masks = t.challenge_exts(b"m", gb.NUM_TABLES)
    pads = {j: (("advice", j), masks[j]) for j in range(1, gb.NUM_TABLES)}
    arr = np.array([[(a.c0, a.c1), (b.c0, b.c1)] for a, b in pairs], dtype=np.uint64)
    pad = np.zeros((gb.NUM_TABLES, 2), dtype=np.uint64)
    for j, (_, mj) in pads.items():
        v = c_prev * mj
        pad[j] = (v.c0, v.c1)
    as_arr = [np.array([[v.c0, v.c1] for v in vs], dtype=np.uint64) for vs in (co.m, co.q, co.p)]
    got = gbk.last_poly(arr, pad, *as_arr, 17)
    want, _ = _last_poly_reference(pairs, spec, pads, c_prev, 17)
    assert [Fp2(int(a), int(b)) for a, b in got] == list(want)


# ------------------------------------------------------------ the fused zero-knowledge run


def _prove_mode(layers, n, bank, mode, monkeypatch, **kw):
    """mode: 'fused' (`BlockFusedRun`, forced), 'block-run' (`BlockRun` on the
    generic driver), 'generic' (the generic sum-check prover, fast=False);
    the full rounds' layers take the generic driver's fused run alike."""
    from zkaudit.hash import gkr_block_zk_run

    monkeypatch.setattr(gkr_block_zk_run, "applies", lambda: mode == "fused")
    monkeypatch.setattr(gkr_block_prover, "FUSED", mode == "fused")
    return _prove(layers, n, zk_bank=bank, fast=mode != "generic", monkeypatch=monkeypatch, **kw)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_fused_block_run_sends_the_generic_bytes(n, monkeypatch):
    states, layers = _layers(n, 300 + n)
    bank = np.array([[v.c0, v.c1] for v in random_fp2s(BANK)], dtype=np.uint64)
    fused = _prove_mode(layers, n, bank, "fused", monkeypatch)
    for mode in ("block-run", "generic"):
        other = _prove_mode(layers, n, bank, mode, monkeypatch)
        assert fused[0] == other[0] and fused[6] == other[6], mode
        assert fused[2] == other[2] and fused[3] == other[3], mode
        assert fused[4].checks == other[4].checks and fused[4].final_pads == other[4].final_pads, mode
    _accepted_zk(fused, states, layers, n)


@pytest.mark.parametrize("attack", ["output claim", "sbox input"])
def test_fused_block_run_on_a_false_statement_is_rejected(attack, monkeypatch):
    """The fused run sends what the generic driver sends for a false output
    claim or a wrong committed S-box input, and the verifier rejects it or
    records a deferred check that the bank opening refuses."""
    n = 4
    _, layers = _layers(n, 41)
    bank = np.array([[v.c0, v.c1] for v in random_fp2s(BANK)], dtype=np.uint64)
    kw = {"shift": Fp2(1)} if attack == "output claim" else {}
    if attack == "sbox input":
        bad = gkr_block_prover.sbox_inputs(layers).copy()
        bad[5, 7] = (int(bad[5, 7]) + 1) % P
        kw["u_table"] = bad
    fused = _prove_mode(layers, n, bank, "fused", monkeypatch, **kw)
    ref = _prove_mode(layers, n, bank, "block-run", monkeypatch, **kw)
    assert fused[0] == ref[0]
    blobs, _, _, _, zp, value, _ = fused
    try:
        _, zv = _verify(blobs, n, value, zk=True)
    except ProofRejected:
        return
    assert any(zp.value(c) != Fp2(0) for c in zv.checks)  # the bank opening refuses it


def test_fused_block_run_applies_once_numba_runs(monkeypatch):
    from zkaudit.field import jit
    from zkaudit.hash import gkr_block_zk_run

    monkeypatch.setattr(jit, "warm", lambda: True)
    assert gkr_block_zk_run.applies()
    monkeypatch.setattr(jit, "warm", lambda: False)
    assert not gkr_block_zk_run.applies()
