"""Review of the fused zero-knowledge round loops (`sumcheck.zk_fused`,
`hash.gkr_zk_run.FusedRun`, `lookup.joint_zk_run.JointFusedRun`) and the
shared helpers changed with them (`hash.gkr.round_spec` / `through_matrix`,
the transcript's label cache, `ZkProver.draw_each`).

Each fused run is held to its reference driver (`zk_prover.prove` on
`RoundRun` / `PartialRun` / `gkr.JointRun`, or the generic sum-check
prover) on edge inputs: 1-3 variables, the parallel sums forced at tiny
sizes (`gkr_zk_run.SERIAL_PAIRS` patched), table entries 0 and p-1, eq
coordinates 0 and 1, scripted challenges 0, 1, p-1 and the interpolation
nodes (a transcript that replaces the round challenges, the same for both
drivers), Hidden and false claims. Compared: proof bytes, the final claim,
`zk.checks`, `zk.final_pads`, the transcript after the call."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2
from zkaudit.hash import gkr_prover, gkr_zk_run
from zkaudit.hash.gkr import ROUNDS, LaneClaim, round_spec, through_matrix
from zkaudit.lookup import gkr as lgkr
from zkaudit.lookup import joint_zk_run
from zkaudit.lookup.protocol import joint_layer_spec, layer_spec
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import zk_prover
from zkaudit.sumcheck.protocol import LABEL_CHALLENGE, LABEL_MASK_RHO
from zkaudit.sumcheck.zk import ZkProver
from zkaudit.transcript import Transcript, TranscriptError

U64 = np.uint64
BANK = 4000
FULL = ROUNDS[0]
PARTIAL = ROUNDS[10]
assert FULL.full and not PARTIAL.full


class Scripted(Transcript):
    """A transcript whose challenges under chosen labels are replaced by
    scripted values (the hash state advances as usual)."""

    def __init__(self, script=None):
        super().__init__()
        self.script = {k: list(v) for k, v in (script or {}).items()}

    def challenge_ext(self, label):
        got = super().challenge_ext(label)
        queue = self.script.get(label)
        return queue.pop(0) if queue else got


def _t(zk, script=None) -> Transcript:
    t = Scripted(script)
    t.absorb_statement("test/review-fused-rounds", 1)
    t.zk = zk
    return t


def _bank(seed):
    return np.random.default_rng(seed).integers(0, P, size=(BANK, 2), dtype=U64)  # test data only


def _exts(rng, n):
    return [Fp2(int(a), int(b)) for a, b in rng.integers(0, P, size=(n, 2), dtype=U64)]


def _outcome(fn):
    """(result, None) or (None, the exception's type name)."""
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - compared between drivers
        return None, type(e).__name__


# ------------------------------------------------------------ Poseidon2 GKR round


def _layer(kind, n, seed):
    rng = np.random.default_rng(seed)  # test data only
    if kind == "random":
        return rng.integers(0, P, size=(8, 1 << n), dtype=U64)
    if kind == "p-1":
        return np.full((8, 1 << n), P - 1, dtype=U64)
    if kind == "zero":
        return np.zeros((8, 1 << n), dtype=U64)
    # mixed: 0, 1, p-1, p-c (A = V + c wraps to 0) and random
    out = rng.integers(0, P, size=(8, 1 << n), dtype=U64)
    picks = rng.integers(0, 4, size=out.shape)
    out[picks == 0] = P - 1
    out[picks == 1] = 0
    out[picks == 2] = 1
    return out


def _honest_sum(layer, rnd, z, m):
    """sum_b eq(z, b) sum_k m_k sigma_k(V_k(b) + c_k)."""
    spec = round_spec(rnd, m)
    eq = eq_table(list(z))
    total = Fp2(0)
    for b in range(layer.shape[1]):
        vals = [Fp2(int(eq[b, 0]), int(eq[b, 1]))]
        vals += [Fp2((int(layer[k, b]) + rnd.constants[k]) % P) for k in range(8)]
        total = total + spec.combine(vals)
    return total


def _gkr_round(layer, rnd, z, gamma, claim_kind, mode, bank, monkeypatch, script=None, serial_pairs=None):
    """One round's sum-check through `gkr_prover._round` in one mode:
    'fused', 'round-run', 'partial-run', 'generic'."""
    monkeypatch.setattr(gkr_zk_run, "applies", lambda num_states: mode == "fused")
    monkeypatch.setattr(gkr_prover, "partial_run_applies", lambda num: mode == "partial-run")
    if serial_pairs is not None:
        monkeypatch.setattr(gkr_zk_run, "SERIAL_PAIRS", serial_pairs)
    m = through_matrix(gamma, rnd.matrix)
    bank = bank.copy()
    value = _honest_sum(layer, rnd, z, m)
    if claim_kind == "false":
        value = value + Fp2(1)
    zk = ZkProver({"advice": BANK}, {"advice": bank})
    if claim_kind == "hidden":  # c + m_0 with m_0 the bank's entry 0 set to value - c
        (key,) = zk.take(1)
        c = Fp2(99, 7)
        s = value - c
        bank[0] = (s.c0, s.c1)
        value = Hidden(c, ((key, Fp2(1)),))
    t = _t(zk, script)
    claim = LaneClaim(tuple(z), tuple(gamma), value)
    got, err = _outcome(lambda: gkr_prover._round(layer, rnd, m, claim, t, mode != "generic"))
    if err:
        return err
    proof, reduced, _ = got
    return (proof.to_bytes(), reduced.point, reduced.values, zk.checks, zk.final_pads, zk.banks_used(),
            t.challenge_ext(b"test/after"), [zk.value(c) == Fp2(0) for c in zk.checks])


def _same_all(outs):
    first = outs[0]
    for o in outs[1:]:
        assert o == first


@pytest.mark.parametrize("rnd", [FULL, PARTIAL], ids=["full", "partial"])
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kind", ["random", "p-1", "zero", "mixed"])
def test_gkr_round_fused_equals_the_drivers_on_edge_tables(rnd, n, kind, monkeypatch):
    rng = np.random.default_rng(n * 10 + len(kind))  # test data only
    layer = _layer(kind, n, n)
    z, gamma = _exts(rng, n), _exts(rng, 8)
    bank = _bank(n)
    for claim_kind in ("public", "hidden", "false"):
        # a false claim: the round sources take g(1) from the claim, the generic prover from the tables
        modes = ("fused", "round-run", "partial-run") + (("generic",) if claim_kind != "false" else ())
        outs = [_gkr_round(layer, rnd, z, gamma, claim_kind, mode, bank, monkeypatch) for mode in modes]
        _same_all(outs)
        assert not isinstance(outs[0], str)
        if claim_kind != "false":
            assert all(outs[0][-1])  # the honest deferred checks hold


@pytest.mark.parametrize("rnd", [FULL, PARTIAL], ids=["full", "partial"])
@pytest.mark.parametrize("n,serial_pairs", [(2, 1), (3, 1), (3, 2), (4, 2), (4, 4), (5, 4), (5, 8)])
def test_gkr_round_parallel_sums_at_tiny_sizes(rnd, n, serial_pairs, monkeypatch):
    """`SERIAL_PAIRS` patched down: the parallel sums (base and extension,
    the first round and later ones, `_message_at`) on small layers, and the
    switch exactly at the threshold."""
    rng = np.random.default_rng(100 + n)  # test data only
    layer = _layer("mixed", n, 7 * n)
    z, gamma = _exts(rng, n), _exts(rng, 8)
    bank = _bank(n + 1)
    ref = _gkr_round(layer, rnd, z, gamma, "hidden", "round-run", bank, monkeypatch)
    got = _gkr_round(layer, rnd, z, gamma, "hidden", "fused", bank, monkeypatch, serial_pairs=serial_pairs)
    assert got == ref and all(got[-1])


def _edge_values(z_i):
    """Challenges 0, 1, p-1, the nodes 2 and 8, and the root of eq(z_i, .)."""
    one = Fp2(1)
    root = (one - z_i) * (one - z_i - z_i).inverse() if z_i != Fp2(P // 2 + 1) else Fp2(5)
    return [Fp2(0), Fp2(1), Fp2(P - 1), Fp2(2), Fp2(8), root, Fp2(3, P - 1)]


@pytest.mark.parametrize("rnd", [FULL, PARTIAL], ids=["full", "partial"])
@pytest.mark.parametrize("case", range(7))
def test_gkr_round_scripted_edge_challenges(rnd, case, monkeypatch):
    """Round challenges 0, 1, p-1, interpolation nodes, a root of eq (the
    prefix becomes 0), eq coordinates 0 and 1; the mask's rho 0 in one
    case. Same outcome (bytes or the same exception) in every mode."""
    n = 3
    rng = np.random.default_rng(200 + case)  # test data only
    z = _exts(rng, n)
    z[case % n] = Fp2(case % 2)  # an eq coordinate 0 or 1
    gamma = _exts(rng, 8)
    layer = _layer("mixed", n, case)
    rs = [_edge_values(z[i])[(case + i) % 7] for i in range(n)]
    script = {LABEL_CHALLENGE: rs}
    if case == 3:
        script[LABEL_MASK_RHO] = [Fp2(0)]
    bank = _bank(300 + case)
    for claim_kind in ("public", "hidden"):
        outs = [_gkr_round(layer, rnd, z, gamma, claim_kind, mode, bank, monkeypatch,
                           script={k: list(v) for k, v in script.items()})
                for mode in ("fused", "round-run", "partial-run", "generic")]
        _same_all(outs)
        if not isinstance(outs[0], str):
            assert all(outs[0][-1])


# ------------------------------------------------------------ lookup layers


def _joint_layer(num_vars, trees, seed, kind="random", rho_edges=()):
    rng = np.random.default_rng(seed)  # test data only
    rho = _exts(rng, num_vars)
    for j in rho_edges:
        rho[j] = Fp2(1)
    if kind == "p-1":
        stacks = [np.full((4, 1 << num_vars, 2), P - 1, dtype=U64) for _ in range(trees)]
    else:
        stacks = [rng.integers(0, P, size=(4, 1 << num_vars, 2), dtype=U64) for _ in range(trees)]
        if kind == "mixed":
            for s in stacks:
                s[rng.integers(0, 3, size=s.shape) == 0] = P - 1
                s[rng.integers(0, 3, size=s.shape) == 0] = 0
    lam, mus = _exts(rng, 1)[0], [Fp2(1)] + _exts(rng, trees - 1)
    return rho, stacks, lam, mus


def _joint_sum(rho, stacks, lam, mus):
    spec = joint_layer_spec(lam, mus)
    tables = [eq_table(list(rho))] + [t for st in stacks for t in st]
    total = Fp2(0)
    for x in range(1 << len(rho)):
        total = total + spec.combine([Fp2(int(t[x, 0]), int(t[x, 1])) for t in tables])
    return total


def _claim(zk, bank, value, claim_kind):
    if claim_kind == "false":
        return value + Fp2(0, 1)
    if claim_kind == "hidden":
        (key,) = zk.take(1)
        c = Fp2(5, 11)
        s = value - c
        zk.values["advice"][0] = (s.c0, s.c1)
        return Hidden(c, ((key, Fp2(1)),))
    return value


def _joint_prove(layer, fused, claim_kind, seed, monkeypatch, script=None, total=None):
    rho, stacks, lam, mus = layer
    monkeypatch.setattr(joint_zk_run, "applies", lambda entries: fused)
    zk = ZkProver({"advice": BANK}, {"advice": _bank(seed)})
    total = _joint_sum(rho, stacks, lam, mus) if total is None else total
    claimed = _claim(zk, None, total, claim_kind)
    t = _t(zk, script)
    got, err = _outcome(lambda: lgkr.joint_layer_prove(rho, [s.copy() for s in stacks], lam, mus, t,
                                                       claimed_sum=claimed))
    if err:
        return err
    proof, claim, _ = got
    return (proof.to_bytes(), claim.point, claim.values, zk.checks, zk.final_pads, zk.banks_used(),
            t.challenge_ext(b"test/after"), [zk.value(c) == Fp2(0) for c in zk.checks])


@pytest.mark.parametrize("num_vars,trees", [(2, 1), (2, 3), (3, 2), (4, 4)])
@pytest.mark.parametrize("kind", ["random", "p-1", "mixed"])
def test_joint_fused_equals_joint_run(num_vars, trees, kind, monkeypatch):
    layer = _joint_layer(num_vars, trees, num_vars * 7 + trees, kind)
    total = _joint_sum(*layer)
    for claim_kind in ("public", "hidden", "false"):
        a = _joint_prove(layer, True, claim_kind, trees, monkeypatch, total=total)
        b = _joint_prove(layer, False, claim_kind, trees, monkeypatch, total=total)
        assert a == b and not isinstance(a, str)
        if claim_kind != "false":
            assert all(a[-1])


@pytest.mark.parametrize("case", range(7))
def test_joint_fused_scripted_edge_challenges(case, monkeypatch):
    """Challenges 0, 1, p-1, nodes 2 and 3, a root of eq(rho_i, .) (prefix
    0: l(1) = 0, s(1) taken as 0 by both), rho coordinates 1."""
    n = 3
    layer = _joint_layer(n, 2, 400 + case, "mixed", rho_edges=(case % n,) if case % 2 else ())
    rho = layer[0]
    rs = [_edge_values(rho[i])[(case + i) % 7] for i in range(n)]
    rs = [Fp2(3) if r == Fp2(8) else r for r in rs]  # degree-3 rounds: node 3
    script = {LABEL_CHALLENGE: rs}
    if case == 4:
        script[LABEL_MASK_RHO] = [Fp2(0)]
    total = _joint_sum(*layer)
    for claim_kind in ("public", "hidden", "false"):
        a = _joint_prove(layer, True, claim_kind, case, monkeypatch, {k: list(v) for k, v in script.items()}, total)
        b = _joint_prove(layer, False, claim_kind, case, monkeypatch, {k: list(v) for k, v in script.items()},
                         total)
        assert a == b


def test_joint_fused_at_the_lookup_serial_threshold(monkeypatch):
    """2^12 entries: `applies` refuses it (JointRun's kernels go parallel
    there); forced, the fused run's serial kernels still send JointRun's
    bytes. 2^11 entries: applies."""
    from zkaudit.field import jit
    from zkaudit.lookup.kernels import SERIAL_PAIRS

    with monkeypatch.context() as mp:
        mp.setattr(jit, "warm", lambda: True)
        assert joint_zk_run.applies(2 * SERIAL_PAIRS - 1) and not joint_zk_run.applies(2 * SERIAL_PAIRS)
    n = (2 * SERIAL_PAIRS).bit_length() - 1
    layer = _joint_layer(n, 1, 77)
    rho, stacks, lam, mus = layer
    spec = joint_layer_spec(lam, mus)
    # the honest sum by the plain kernels' own prover (faster than Python here)
    from zkaudit.sumcheck import prover as sprover

    tz = Transcript()
    tz.absorb_statement("x", 1)
    _, _, total = sprover.prove([eq_table(list(rho))] + list(stacks[0]), spec, tz, public=(0,))
    a = _joint_prove(layer, True, "hidden", 5, monkeypatch, total=total)
    b = _joint_prove(layer, False, "hidden", 5, monkeypatch, total=total)
    assert a == b and all(a[-1])


def test_joint_fused_one_variable_direct(monkeypatch):
    """Not reached in production (a 1-variable layer takes the generic
    prover), but the run itself on one variable equals JointRun."""
    rho, stacks, lam, mus = _joint_layer(1, 2, 9)
    total = _joint_sum(rho, stacks, lam, mus)
    spec = joint_layer_spec(lam, mus)
    outs = []
    for run_cls in (joint_zk_run.JointFusedRun, lgkr.JointRun):
        zk = ZkProver({"advice": BANK}, {"advice": _bank(9)})
        t = _t(zk)
        tables = [t_ for st in stacks for t_ in st]
        run = run_cls(rho, [s.copy() for s in stacks], lam, mus)
        proof, ev, _ = zk_prover.prove([None] + tables, spec, t, zk, total, 1, (0,), {}, run=run)
        outs.append((proof.to_bytes(), ev.point, ev.values, zk.checks, zk.final_pads, t.challenge_ext(b"x")))
    assert outs[0] == outs[1]


@pytest.mark.parametrize("num_vars", [2, 3, 6])
@pytest.mark.parametrize("claim_kind", ["public", "hidden", "false"])
def test_one_tree_fused_layer_prove_with_hidden_and_false_claims(num_vars, claim_kind, monkeypatch):
    rho, stacks, lam, _ = _joint_layer(num_vars, 1, 500 + num_vars, "mixed")
    spec = layer_spec(lam)
    total = _joint_sum(rho, stacks, lam, [Fp2(1)])
    script = {LABEL_CHALLENGE: [Fp2(0)] + [Fp2(P - 1)] * (num_vars - 2)} if num_vars > 2 else None
    out = []
    for fused in (True, False):
        monkeypatch.setattr(joint_zk_run, "applies", lambda entries, f=fused: f)
        zk = ZkProver({"advice": BANK}, {"advice": _bank(num_vars)})
        claimed = _claim(zk, None, total, claim_kind)
        t = _t(zk, {k: list(v) for k, v in script.items()} if script else None)
        proof, claim, _ = lgkr.fused_layer_prove(rho, stacks[0].copy(), spec, t, claimed_sum=claimed)
        out.append((proof.to_bytes(), claim.point, claim.values, zk.checks, zk.final_pads, t.challenge_ext(b"x"),
                    [zk.value(c) == Fp2(0) for c in zk.checks]))
    assert out[0] == out[1]
    if claim_kind != "false":
        assert all(out[0][-1])


def test_lookup_prover_end_to_end_fused_on_and_off(monkeypatch):
    """A zero-knowledge lookup proof (trees of several depths in lock step,
    the root tree by `fused_layer_prove`): the same bytes and checks with
    the fused runs forced on and off; the verifier records the same checks."""
    from zkaudit.lookup import prover, verifier
    from zkaudit.lookup.protocol import Lookup, LookupInstance
    from zkaudit.lookup.proof import LookupProof
    from zkaudit.lookup.tables import TableSpec
    from zkaudit.sumcheck.zk import ZkSession

    rng = np.random.default_rng(12)  # test data only
    inst = LookupInstance((TableSpec.range(8), TableSpec.range(4)),
                          (Lookup(0, 37), Lookup(1, 5), Lookup(0, 300), Lookup(1, 2), Lookup(0, 9)))
    cols = [[rng.integers(0, 256, 37, dtype=U64)], [rng.integers(0, 16, 5, dtype=U64)],
            [rng.integers(0, 256, 300, dtype=U64)], [rng.integers(0, 16, 2, dtype=U64)],
            [rng.integers(0, 256, 9, dtype=U64)]]
    mults = prover.multiplicities(inst, cols)
    big = 1 << 14
    bank = np.random.default_rng(1234).integers(0, P, size=(big, 2), dtype=U64)  # test data only
    outs, calls = [], []
    zk_rounds = joint_zk_run.JointFusedRun.zk_rounds
    monkeypatch.setattr(joint_zk_run.JointFusedRun, "zk_rounds",
                        lambda self, *a: (calls.append(self.stacks.shape[0]), zk_rounds(self, *a))[1])
    for fused in (True, False):
        monkeypatch.setattr(joint_zk_run, "applies", lambda entries, f=fused: f)
        zk = ZkProver({"advice": big}, {"advice": bank.copy()})
        t = _t(zk)
        proof, claims = prover.prove(inst, cols, mults, t)
        assert bool(calls) == fused
        if fused:
            assert max(calls) > 1  # lock steps of several trees ran fused
            calls.clear()
        outs.append((proof.to_bytes(), zk.checks, zk.final_pads, t.challenge_ext(b"x"), claims))
    assert outs[0][:4] == outs[1][:4]
    zk = ZkProver({"advice": big}, {"advice": bank.copy()})
    assert all(zk.value(c) == Fp2(0) for c in outs[0][1])
    zv = ZkSession({"advice": big})
    tv = _t(zv)
    verifier.verify(inst, LookupProof.from_bytes(outs[0][0]), tv)
    assert zv.checks == outs[0][1]


# ------------------------------------------------------------ shared helpers


def test_through_matrix_rows_and_every_round_spec():
    """Unit vectors give M's rows (the structure paths read M4 and the
    diagonal, not the matrix: the rows must be the matrices'); every one of
    the 30 rounds' specs equals the checked construction, zero weights
    included."""
    from zkaudit.hash import reference
    from zkaudit.hash.gkr import M_E, M_I, round_spec_reference, through_matrix_reference

    assert M_E == reference.external_matrix() and M_I == reference.internal_matrix()
    for matrix in (M_E, M_I):
        for j in range(8):
            e = [Fp2(0)] * 8
            e[j] = Fp2(1)
            assert through_matrix(e, matrix) == [Fp2(x % P) for x in matrix[j]]
            e[j] = Fp2(P - 1, P - 1)
            assert through_matrix(e, matrix) == through_matrix_reference(e, matrix)
    rng = np.random.default_rng(3)  # test data only
    for rnd in ROUNDS:
        for gamma in (_exts(rng, 8), [Fp2(0)] * 8, [Fp2(P - 1)] * 8):
            m = through_matrix(gamma, rnd.matrix)
            assert m == through_matrix_reference(gamma, rnd.matrix)
            fast, ref = round_spec(rnd, m), round_spec_reference(rnd, m)
            assert fast == ref and fast.to_bytes() == ref.to_bytes() and fast.degree == ref.degree
            assert fast.terms == ref.terms and fast.num_tables == ref.num_tables


def test_poseidon2_trace_goes_through_the_same_matrices():
    """The layers the prover traces are M_r sigma(V_r + c_r): gamma^T V_{r+1}
    = m^T sigma(V_r + c_r) with m = through_matrix(gamma, M_r) per state."""
    rng = np.random.default_rng(8)  # test data only
    layers = gkr_prover.trace(rng.integers(0, P, size=(2, 8), dtype=U64))
    gamma = _exts(rng, 8)
    for r in (0, 4, 10, 29):
        rnd = ROUNDS[r]
        m = through_matrix(gamma, rnd.matrix)
        for b in range(2):
            lhs = sum((g * Fp2(int(layers[r + 1][k, b])) for k, g in enumerate(gamma)), Fp2(0))
            rhs = Fp2(0)
            for k in range(8):
                a = (int(layers[r][k, b]) + rnd.constants[k]) % P
                s = pow(a, 7, P) if (rnd.full or k == 0) else a
                rhs = rhs + m[k] * Fp2(s)
            assert lhs == rhs


def _old_frame_bytes(tag, label, data):
    import struct

    return tag + struct.pack("<I", len(label)) + label + struct.pack("<Q", len(data)) + data


@pytest.mark.parametrize("bad", ["str", "", b"", bytearray(b"sumcheck/round"), None, 7, ("t",)])
def test_transcript_label_checks_kept(bad):
    t = Transcript()
    t.absorb_statement("x", 1)
    t.absorb_bytes(b"sumcheck/round", b"warm the cache")
    t.challenge_ext(b"sumcheck/round")
    with pytest.raises(TranscriptError):
        t.absorb_bytes(bad, b"data")
    with pytest.raises(TranscriptError):
        t.challenge_ext(bad)


def test_transcript_label_cache_does_not_accept_a_memoryview_of_a_cached_label():
    """A memoryview of bytes hashes and compares equal to the bytes: before
    the cache it was refused (not bytes); the cache must not let it through
    once the same label has been seen (review finding on 676e11f: the
    `_LABELS.get(label)` lookup ran before the type check)."""
    label = b"review/memoryview-label"
    t = Transcript()
    t.absorb_statement("x", 1)
    with pytest.raises(TranscriptError):
        t.absorb_bytes(memoryview(label), b"")
    t.absorb_bytes(label, b"cached now")
    t.challenge_ext(label)
    for other in (memoryview(label), bytearray(label)):
        with pytest.raises(TranscriptError):
            t.absorb_bytes(other, b"")
        with pytest.raises(TranscriptError):
            t.challenge_ext(other)


def test_transcript_bytes_and_challenges_match_the_uncached_framing():
    import hashlib
    import struct

    from zkaudit.transcript import DOMAIN

    t = Transcript()
    h = hashlib.sha256()
    h.update(_old_frame_bytes(b"D", b"domain", DOMAIN))
    t.absorb_statement("proto", 3)
    from zkaudit import transcript as tr

    h.update(_old_frame_bytes(b"A", tr.LABEL_STATEMENT_PROTOCOL, b"proto" + struct.pack("<I", 3)))
    for label in (tr.LABEL_STATEMENT_DIGEST, tr.LABEL_STATEMENT_PUBLIC, tr.LABEL_STATEMENT_COMMITMENT):
        h.update(_old_frame_bytes(b"A", label, struct.pack("<Q", 0)))
    h.update(_old_frame_bytes(b"A", tr.LABEL_STATEMENT_END, b""))
    assert t.state_digest() == h.copy().digest()
    counter = 0
    for i in range(200):
        label = b"review/l%d" % (i % 5)
        t.absorb_bytes(label, bytes([i]))
        h.update(_old_frame_bytes(b"A", label, bytes([i])))
        got = t.challenge_ext(label)
        coords = []
        while len(coords) < 2:
            g = h.copy()
            g.update(b"C" + struct.pack("<I", len(label)) + label + struct.pack("<Q", counter))
            out = g.digest()
            counter += 1
            h.update(_old_frame_bytes(b"S", label, out))
            coords += [w for w in struct.unpack("<4Q", out) if w < P]
        assert got == Fp2(coords[0], coords[1]) and got.c0 < P and got.c1 < P
        assert t.state_digest() == h.copy().digest()


@pytest.mark.parametrize("banks", [["a"] * 5, ["a", "b", "a"], ["b", "a"], ["a"], [], ["a", "a", "b", "b"]])
def test_draw_each_equals_entry_by_entry(banks):
    from zkaudit.sumcheck.zk import BankExhausted

    vals = {"a": _bank(1)[:6], "b": _bank(2)[:3]}
    for pre in (0, 2, 4):
        z1 = ZkProver({"a": 6, "b": 3}, {k: v.copy() for k, v in vals.items()})
        z2 = ZkProver({"a": 6, "b": 3}, {k: v.copy() for k, v in vals.items()})
        z1.take(pre, "a")
        z2.take(pre, "a")
        a, ea = _outcome(lambda: z1.draw_each(banks))
        b, eb = _outcome(lambda: [(k, z2.entry(k)) for k in z2.take_each(banks)])
        assert a == b and ea == eb and z1.banks_used() == z2.banks_used()
        if ea:
            assert ea == BankExhausted.__name__


def test_generic_prover_with_several_pad_banks_equals_the_reference():
    """pad_bank routing tables' pads to two banks (interleaved): the int
    driver and the Fp2 reference draw the same pads."""
    from zkaudit.field.randomness import random_base, random_ext
    from zkaudit.sumcheck import SumOfProducts

    spec = SumOfProducts.of(4, [(1, (0, 1, 2)), (Fp2(3, 4), (3, 3)), (P - 1, (1,))])
    n = 3
    tables = [random_ext(1 << n) if j % 2 else random_base(1 << n) for j in range(4)]
    banks = {"advice": _bank(5)[:200], "other": _bank(6)[:50]}
    outs = []
    for driver in (zk_prover.prove, zk_prover.prove_reference):
        zk = ZkProver({"advice": 200, "other": 50}, {k: v.copy() for k, v in banks.items()})
        t = _t(zk)
        proof, ev, out = driver([x.copy() for x in tables], spec, t, zk, None, n, (), {1: "other", 3: "other"})
        outs.append((proof.to_bytes(), ev.point, ev.values, out, zk.checks, zk.final_pads, zk.banks_used(),
                     t.challenge_ext(b"x")))
    assert outs[0] == outs[1]
    assert outs[0][6] == {"advice": 1 + sum(zk_prover.mask_degrees(n, spec.degree)) + 2, "other": 2}
