"""Independent adversarial review of inference protocol 10 (commit 4b64698:
the weight tensors' claim combinations batched by size, `zk.size_groups`,
`zk._verify_group`, `zk_prover._combine_group`) and of the committed-table
LogUp's lock-step trees (commit 1ee24f1: format version 3,
`gkr.prove_joint` / `lookup.verifier._verify_joint`).

Attacked, as the prover-adversary (each a forgery that must be refused):

Size groups, on the group sum-check alone (a zero-knowledge session with a
bank; "accepted" means no on-the-spot rejection, every deferred check zero
at the prover's bank, and every claim handed on true at that bank, i.e.
what the hiding opening would confirm):
* cancelling lies: member 1's claim off by +d, member 2's by -d (claims
  fixed before the group starts, as the layer walk fixes them). Refused by
  the real verifier (alpha_2 is drawn after them); the mutant with every
  alpha = 1 (and rho_K = 1 where a K-only member carries the lie) accepts
  the forgery (teeth), on 5-, 1- and 0-variable (lifted) groups, with 2
  and 3 members, and with a K-only member (a hashed weight merged with no
  point claim: only rho_K (S_t, K_t)) whose S_t carries the lie;
* the adaptive prover: after the alphas are known it repairs the group's
  sum by editing one member's E'_m so that sum_x T_m E'_m absorbs the lie;
  every round is honest, only E'_m(s) differs: refused by the verifier's
  own E'_t(s), under that member's name (first, second or third member);
* a lie on the second member alone under the alpha_2 = 0 mutant accepted
  (teeth: alpha_2 must be a fresh nonzero challenge), refused for real;
* transcript order: the alphas are drawn after every member's rhos and
  rho_K and before the group's sum-check header; a single member draws
  none (the group is exactly the protocol-9 REPAD sum-check);
* zero knowledge: each member's claim carries its own fresh bank pad (no
  key shared with another member or with the mask), the sent T_t(s) is
  not T_t(s), the bank spent is one mask and one pad per member (the
  public E'_t finals are checked equal to the verifier's own, so they tell
  nothing the verifier does not compute).
Size groups, through the inference prover (mlp_clip: w1, w2 of 5
variables, b1 of 2), plain and hashed weights: the prover proving the
(w1, w2) group as two protocol-9 single-tensor sum-checks, or with w2's
claims duplicated as a third member, or with the members' order reversed
(every count fits), is refused. (Members of different
sizes cannot be forced into one group: the verifier forms the groups from
the circuit's shapes and the flags, which must match the claims; a prover
lifting b1 into the 5-variable group cannot even make b1's claim fit its
2-variable table.)

Committed-table LogUp, version 3, on tree shapes the layout makes: a tree
of 0 variables beside a deep one (one looked-up row; a 1-row table), a
single tree (equal sizes), the lookup tree deeper than the table's, both
of 0 variables. Honest runs accepted with true claims; each of the three
lies (a row outside the table, a multiplicity off by one, a count on a
padding row) refused. Version confusion: a version-3 proof verified
without its label (a version-2 transcript) and a version-2 proof verified
with it are refused; a version-3 proof against a plain statement is
refused; a version-3 proof whose lock-step layers come from a version-3
run of another instance is refused.

Outcome: no soundness or zero-knowledge bug found; every forgery above is
refused, the mutants show the checks have teeth.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.hidden import Hidden
from zkaudit.field.randomness import random_base
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.stream import ProofReader
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import zk as izk
from zkaudit.statements.inference import zk_prover
from zkaudit.sumcheck.zk import ZkProver, ZkSession
from zkaudit.transcript import Transcript

_HERE = Path(__file__).resolve().parent
_ADV = _HERE.parent / "adversarial"
if str(_ADV) not in sys.path:
    sys.path.insert(0, str(_ADV))

BANK = 1024
ADVICE = izk.ADVICE_BANK


def _t(zk) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/review-protocol10", 1)
    t.zk = zk
    return t


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def _ev(table, point) -> Fp2:
    if not point:
        return Fp2(int(table[0])) if table.ndim == 1 else Fp2(int(table[0, 0]), int(table[0, 1]))
    return _ext(evaluate(table, list(point)))


def _inner(a, b) -> Fp2:
    return sum((Fp2(int(x)) * Fp2(int(y)) for x, y in zip(a, b)), Fp2(0))


# ------------------------------------------------------------ the group sum-check alone


@dataclasses.dataclass
class Group:
    n: int
    tables: dict  # name -> T (base table of 2^n)
    claims: dict  # name -> [TensorClaim] (true values)
    ks: dict  # name -> (K table, S = sum K T): the merged hashed tensor's linear claim


def _group(n: int, k: int, *, claims_per: int = 2, k_only=(), with_k=(), seed: int = 0) -> Group:
    rng = random.Random(seed)
    tables, claims, ks = {}, {}, {}
    for i in range(k):
        name = f"t{i}"
        tables[name] = random_base(1 << n)
        cl = []
        if name not in k_only:
            for _ in range(claims_per):
                z = tuple(Fp2(rng.randrange(P), rng.randrange(P)) for _ in range(n))
                cl.append(TensorClaim(name, z, _ev(tables[name], z)))
        claims[name] = cl
        if name in k_only or name in with_k:
            kt = random_base(1 << n)
            ks[name] = (kt, _inner(kt, tables[name]))
    return Group(n, tables, claims, ks)


def _lied(g: Group, lies: dict):
    """The claims (and link sums S) both sides hold, `lies` {name: d} added
    to the first claim's value, or to S_t for a K-only member."""
    claims = {name: list(cl) for name, cl in g.claims.items()}
    sums = {name: s for name, (_, s) in g.ks.items()}
    for name, d in lies.items():
        if claims[name]:
            c = claims[name][0]
            claims[name][0] = TensorClaim(name, c.point, c.value + d)
        else:
            sums[name] = sums[name] + d
    return claims, sums


def _prover_members(g: Group, claims, sums, transcript):
    out = []
    for name in g.tables:
        def extra(target, e, _name=name):
            """`combine_hidden_weights`' extra: rho_K (S_t, K_t), rho_K drawn after the claims' rhos."""
            rho_k = transcript.challenge_ext(izk.LABEL_SUM_WEIGHT)
            k_term = vec.scale(rho_k, g.ks[_name][0])
            return target + rho_k * sums[_name], k_term if e is None else vec.add(e, k_term)

        out.append((name, g.n, list(claims[name]), extra if name in g.ks else None))
    return out


def _verifier_members(g: Group, claims, sums):
    out = []
    for name in g.tables:
        extra = None
        if name in g.ks:
            kt = g.ks[name][0]
            extra = (sums[name], lambda point, _kt=kt: _ev(_kt, point))
        out.append((name, g.n, list(claims[name]), extra))
    return out


def _run(g: Group, lies=None, *, prover_hook=None):
    """Prove and verify one group on claims with `lies`; returns (accepted,
    why, prover session, verifier claims, verifier session)."""
    claims, sums = _lied(g, lies or {})
    zp = ZkProver({ADVICE: BANK})
    tp = _t(zp)
    p_out = {}
    if prover_hook is not None:
        with prover_hook():
            data = zk_prover._combine_group(_prover_members(g, claims, sums, tp), p_out, g.tables, tp, ADVICE)
    else:
        data = zk_prover._combine_group(_prover_members(g, claims, sums, tp), p_out, g.tables, tp, ADVICE)
    zv = ZkSession({ADVICE: BANK})
    tv = _t(zv)
    v_out = {}
    reader = ProofReader(data)
    try:
        izk._verify_group(_verifier_members(g, claims, sums), v_out, reader, tv, ADVICE)
        reader.finish()
    except ProofRejected as exc:
        return False, f"{type(exc).__name__}: {exc}", zp, v_out, zv
    if not all(zp.value(c) == Fp2(0) for c in zv.checks):
        return False, "a deferred check fails at the prover's bank", zp, v_out, zv
    for name, T in g.tables.items():
        (c,) = v_out[name]
        if zp.value(c.value) != _ev(T, c.point):
            return False, f"the claim handed on for {name} is false (the opening refuses it)", zp, v_out, zv
    return True, "", zp, v_out, zv


def _alphas_mutant(monkeypatch, value):
    """Both sides' group_alphas replaced (prover and verifier read it off `izk`)."""
    monkeypatch.setattr(izk, "group_alphas", lambda k, transcript: [Fp2(1)] + [Fp2(value)] * (k - 1))


SHAPES = [(5, 2, {}), (1, 2, {}), (0, 2, {}), (0, 3, {}), (5, 3, {}), (3, 2, {"k_only": ("t1",)}),
          (3, 2, {"k_only": ("t0",), "with_k": ("t1",)}), (0, 2, {"k_only": ("t0",)})]
SHAPE_IDS = ["n5k2", "n1k2", "n0k2", "n0k3", "n5k3", "n3_konly_second", "n3_konly_first_k_second", "n0_konly"]


@pytest.mark.parametrize("n,k,opts", SHAPES, ids=SHAPE_IDS)
def test_honest_groups_are_accepted_with_true_claims(n, k, opts):
    g = _group(n, k, seed=n * 10 + k, **opts)
    ok, why, *_ = _run(g)
    assert ok, why


@pytest.mark.parametrize("n,k,opts", SHAPES, ids=SHAPE_IDS)
def test_cancelling_lies_across_members_are_refused_and_the_alpha_one_mutant_accepts_them(n, k, opts, monkeypatch):
    """Member t0 off by +d, t1 off by -d: the group's unweighted sum is the
    true one. With alpha_2 drawn after the claims the total is off by
    d (1 - alpha_2); with alpha = 1 it is not and the forgery passes."""
    g = _group(n, k, seed=100 + n * 10 + k, **opts)
    d = Fp2(12345, 678)
    lies = {"t0": d, "t1": -d}
    ok, why, *_ = _run(g, lies)
    assert not ok, "a cancelling lie across the group's members was accepted"
    assert why
    _alphas_mutant(monkeypatch, 1)
    if g.ks:  # a K-only member's S_t enters under rho_K: the mutant fixes that weight to 1 too
        real_ch = Transcript.challenge_ext
        monkeypatch.setattr(Transcript, "challenge_ext",
                            lambda self, label: Fp2(1) if label == izk.LABEL_SUM_WEIGHT else real_ch(self, label))
    ok, why, *_ = _run(g, lies)
    assert ok, f"teeth: the alpha = 1 mutant should accept the forgery ({why})"


@pytest.mark.parametrize("n,k", [(4, 2), (0, 2), (2, 3)])
def test_a_lie_on_a_later_member_is_refused_and_the_alpha_zero_mutant_accepts_it(n, k, monkeypatch):
    g = _group(n, k, seed=200 + n)
    lies = {f"t{k - 1}": Fp2(99, 1)}
    ok, why, *_ = _run(g, lies)
    assert not ok and why
    monkeypatch.setattr(izk, "group_alphas", lambda kk, transcript: [Fp2(1)] + [Fp2(0)] * (kk - 1))
    ok, why, *_ = _run(g, lies)
    assert ok, f"teeth: the alpha = 0 mutant should accept a lie on a later member ({why})"


def _adaptive_hook(target_member: int):
    """After the alphas are known, the prover makes E'_m absorb the lie:
    E'_m += D with sum_x T_m D = (claimed total) - (true sum of products),
    put on one row where T_m is nonzero. Every round is then honest."""
    import contextlib

    from zkaudit.sumcheck import prover as sumcheck_prover

    @contextlib.contextmanager
    def hook():
        real = sumcheck_prover.prove

        def tampered(tables, spec, transcript, **kw):
            tables = [np.array(t, copy=True) for t in tables]
            true = Fp2(0)
            for j in range(0, len(tables), 2):
                t_j, e_j = tables[j], tables[j + 1]
                for i in range(t_j.shape[0]):
                    true = true + Fp2(int(t_j[i])) * Fp2(int(e_j[i, 0]), int(e_j[i, 1]))
            diff = Hidden.of(kw["claimed_sum"]).const - true
            t_m, e_m = tables[2 * target_member], tables[2 * target_member + 1]
            i = next(i for i in range(t_m.shape[0]) if int(t_m[i]))
            v = Fp2(int(e_m[i, 0]), int(e_m[i, 1])) + diff * Fp2(int(t_m[i])).inverse()
            e_m[i] = (v.c0, v.c1)
            return real(tables, spec, transcript, **kw)

        sumcheck_prover.prove = tampered
        try:
            yield
        finally:
            sumcheck_prover.prove = real

    return hook


@pytest.mark.parametrize("n,k,member", [(4, 2, 1), (4, 3, 2), (0, 2, 1), (3, 3, 0)])
def test_the_adaptive_prover_repairing_the_sum_through_E_is_refused_under_the_members_name(n, k, member):
    g = _group(n, k, seed=300 + n + k)
    lies = {"t0": Fp2(5, 7)} if member else {"t1": Fp2(5, 7)}
    ok, why, zp, _, zv = _run(g, lies, prover_hook=_adaptive_hook(member))
    assert not ok
    assert "combination weight" in why and f"[t{member}]" in why, why


def test_an_honest_run_through_the_adaptive_hook_is_unchanged():
    """Control for the hook: with no lie it edits nothing (diff = 0) and the run is accepted."""
    g = _group(3, 2, seed=5)
    ok, why, *_ = _run(g, prover_hook=_adaptive_hook(1))
    assert ok, why


@pytest.mark.parametrize("k,opts", [(1, {}), (3, {}), (2, {"with_k": ("t0", "t1")})], ids=["k1", "k3", "k2_withK"])
def test_the_alphas_come_after_every_members_weights_and_before_the_sumcheck(k, opts, monkeypatch):
    from zkaudit.layers.combine_verifier import LABEL_RHO

    g = _group(3, k, seed=400 + k, **opts)
    events = []
    real_ch, real_abs = Transcript.challenge_ext, Transcript.absorb_ext
    real_abs_u64 = Transcript.absorb_u64

    def ch(self, label):
        events.append(("challenge", label))
        return real_ch(self, label)

    def ab(self, label, v):
        events.append(("absorb", label))
        return real_abs(self, label, v)

    def ab64(self, label, v):
        events.append(("absorb", label))
        return real_abs_u64(self, label, v)

    monkeypatch.setattr(Transcript, "challenge_ext", ch)
    monkeypatch.setattr(Transcript, "absorb_ext", ab)
    monkeypatch.setattr(Transcript, "absorb_u64", ab64)
    claims, sums = _lied(g, {})
    zv = ZkSession({ADVICE: BANK})
    zp = ZkProver({ADVICE: BANK})
    tp = _t(zp)
    data = zk_prover._combine_group(_prover_members(g, claims, sums, tp), {}, g.tables, tp, ADVICE)
    tv = _t(zv)
    events.clear()
    izk._verify_group(_verifier_members(g, claims, sums), {}, ProofReader(data), tv, ADVICE)
    labels = [lab for _, lab in events]
    alphas = [i for i, lab in enumerate(labels) if lab == izk.LABEL_GROUP]
    weights = [i for i, lab in enumerate(labels) if lab in (LABEL_RHO, izk.LABEL_SUM_WEIGHT)]
    assert len(alphas) == k - 1
    assert len(weights) == k * (len(g.claims["t0"]) - 1) + len(g.ks)
    first_other = min(i for i, lab in enumerate(labels) if lab not in (LABEL_RHO, izk.LABEL_SUM_WEIGHT,
                                                                      izk.LABEL_GROUP))
    if alphas:
        assert min(alphas) > max(weights) and max(alphas) < first_other, labels
    assert max(weights) < first_other


def test_zero_knowledge_each_member_claim_has_its_own_fresh_pad():
    g = _group(4, 3, seed=9, with_k=("t2",))
    ok, why, zp, v_out, zv = _run(g)
    assert ok, why
    keys = []
    for name, T in g.tables.items():
        (c,) = v_out[name]
        assert isinstance(c.value, Hidden) and len(c.value.terms) == 1, c.value
        ((key, coeff),) = c.value.terms
        assert key[0] == ADVICE and coeff != Fp2(0)
        keys.append(key)
        assert c.value.const != _ev(T, c.point)  # the sent value is not T_t(s)
    assert len(set(keys)) == len(keys), "two members' claims share a pad"
    # the pads are no mask coefficient of the group's sum-check: the bank used is one mask + one pad per member
    from zkaudit.sumcheck.zk import mask_size

    assert zv.banks_used()[ADVICE] == mask_size(g.n, 2) + len(keys)
    assert all(i >= mask_size(g.n, 2) for _, i in keys)  # taken after the mask, from a fresh session
    assert zv.banks_used() == zp.banks_used()


# ------------------------------------------------------------ through the inference prover


SALT = (424242, 171717)


@pytest.fixture(autouse=True)
def _bank_from_the_estimate(monkeypatch):
    from zkaudit.statements.inference import prover as inference_prover

    monkeypatch.setattr(inference_prover, "_BANK_SIZES", {})


@pytest.fixture(scope="module", params=["plain", "hashed"])
def model(request):
    from small_circuits import instance, mlp_clip

    from zkaudit.statements.inference.commitment import hashed_weight_commitment
    from zkaudit.statements.inference.prover import commit_weights

    circuit, weights, x = instance(mlp_clip, seed=4)
    if request.param == "plain":
        com = commit_weights(circuit, weights)[0].to_bytes()
    else:
        com = hashed_weight_commitment(circuit, weights, SALT)[0].to_bytes()
    return request.param, circuit, weights, x, com


def _prove_with(model, monkeypatch, groups_edit):
    """A proof whose prover runs `groups_edit(groups)` on its size groups
    (the verifier keeps the real `size_groups`)."""
    from zkaudit.statements.inference import prover as inference_prover
    from zkaudit.statements.inference.prover import prove

    scheme, circuit, weights, x, com = model
    real = izk.size_groups
    state = {"edited": 0}

    def edited(members):
        groups = real(members)
        new = groups_edit(groups)
        if new != groups:
            state["edited"] += 1
        return new

    if scheme == "hashed":
        monkeypatch.setattr(izk, "worth_merging", lambda *a: True)
    monkeypatch.setattr(izk, "size_groups", edited)
    try:
        proof = prove(circuit, weights, x, weight_commitment=com, weight_salt=SALT if scheme == "hashed" else None)
    finally:
        monkeypatch.undo()
        monkeypatch.setattr(inference_prover, "_BANK_SIZES", {})
    return proof, state["edited"]


def _verify(model, proof):
    from zkaudit.circuit import encode_circuit
    from zkaudit.statements.verify import verify_proof

    _, circuit, _, _, com = model
    return verify_proof(proof, circuit_bin=encode_circuit(circuit), weight_commitment=com)


def _names(g):
    return [m[0] for m in g]


def _split(groups):
    """Protocol 9's layout: every tensor its own sum-check."""
    return [[m] for g in groups for m in g]


def _duplicate_w2(groups):
    return [g + [m for m in g if m[0] == "w2"] if "w2" in _names(g) else g for g in groups]


def _members_reversed(groups):
    """Same shapes, the members' order (and so which takes alpha = 1) swapped."""
    return [list(reversed(g)) for g in groups]


@pytest.mark.parametrize("edit", [_split, _duplicate_w2, _members_reversed], ids=lambda f: f.__name__.strip("_"))
def test_the_prover_regrouping_the_tensors_is_refused(model, monkeypatch, edit):
    try:
        proof, edited = _prove_with(model, monkeypatch, edit)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the regrouping prover should get through: {type(exc).__name__}: {exc}")
    assert edited, "the edit never applied"
    verdict = _verify(model, proof)
    assert not verdict.valid, f"{edit.__name__} accepted"
    assert verdict.reason
    if edit is _members_reversed:  # every count fits: refused by the sum-check or the verifier's own E'_t(s)
        assert "w1+w2" in verdict.reason and "final table values" not in verdict.reason, verdict.reason


def test_the_unedited_prover_through_the_same_path_is_accepted(model, monkeypatch):
    """Control for the regrouping attacks: the identity edit verifies."""
    proof, edited = _prove_with(model, monkeypatch, lambda groups: groups)
    assert not edited
    verdict = _verify(model, proof)
    assert verdict.valid, verdict.reason


# ------------------------------------------------------------ committed-table LogUp, version 3


U64 = np.uint64
CT_BANK = 4096


def _ct_transcript(zk) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/review-protocol10/committed-table", 1)
    t.zk = zk
    return t


def _ct_case(rng, nf, nt, table_rows, used):
    from zkaudit.lookup.committed_table import CommittedTableInstance

    th, tl = np.zeros(1 << nt, U64), np.zeros(1 << nt, U64)
    th[:table_rows] = rng.integers(0, 1 << 62, table_rows, dtype=U64)
    tl[:table_rows] = rng.integers(0, 1 << 62, table_rows, dtype=U64)
    pick = rng.choice(table_rows, used, replace=used > table_rows)
    fh, fl, e = np.zeros(1 << nf, U64), np.zeros(1 << nf, U64), np.zeros(1 << nf, U64)
    fh[:used], fl[:used], e[:used] = th[pick], tl[pick], 1
    return CommittedTableInstance(2, nf, nt, table_rows), [fh, fl], e, [th, tl]


# (lookup vars, table vars, table rows, rows used): trees (5, 0); (1, 0); one tree; lookup deeper; both 0
CT_SHAPES = [(0, 5, 20, 1), (1, 0, 1, 2), (4, 4, 12, 9), (5, 3, 6, 20), (0, 0, 1, 1)]
CT_IDS = ["lookup0_table5", "lookup1_table0", "equal_sizes", "lookup_deeper", "both0"]


def _ct_prove(inst, f, e, t, m, *, joint=True):
    from zkaudit.lookup import committed_table_prover as ct_prover
    from zkaudit.lookup import gkr

    zp = ZkProver({ADVICE: CT_BANK})
    hooks = {} if joint else {"layer_prove": gkr.fused_layer_prove}
    proof, _ = ct_prover.prove(inst, f, e, t, m, _ct_transcript(zp), **hooks)
    assert proof.joint == joint
    return proof, zp


def _ct_verify(inst, proof, zp, *, transcript=None):
    """(accepted with every deferred check zero at the prover's bank, claims or why)."""
    from zkaudit.lookup import committed_table_verifier as ct_verifier
    from zkaudit.lookup.committed_table import CommittedTableProof

    zv = ZkSession({ADVICE: CT_BANK})
    tr = transcript(zv) if transcript else _ct_transcript(zv)
    try:
        claims = ct_verifier.verify(inst, CommittedTableProof.from_bytes(proof.to_bytes()), tr)
    except ProofRejected as exc:
        return False, str(exc)
    if not all(zp.value(c) == Fp2(0) for c in zv.checks):
        return False, "a deferred check fails at the prover's bank"
    return True, claims


@pytest.mark.parametrize("shape", CT_SHAPES, ids=CT_IDS)
def test_lock_step_edge_shapes_honest_runs_are_accepted_with_true_claims(shape):
    from zkaudit.lookup import committed_table_prover as ct_prover

    rng = np.random.default_rng(sum(shape))
    inst, f, e, t = _ct_case(rng, *shape)
    m = ct_prover.table_multiplicities(f, e, t, inst.table_rows)
    proof, zp = _ct_prove(inst, f, e, t, m)
    tree_vars = inst.layout()[0]
    assert len(proof.joint_layers) == max(tree_vars)
    ok, claims = _ct_verify(inst, proof, zp)
    assert ok, claims
    for cl, col in [(c, f[i]) for i, c in enumerate(claims.lookup_columns)] + [(claims.numerators, e)]:
        assert zp.value(cl.value) == _ev(col, cl.point)
    for cl, col in [(c, t[i]) for i, c in enumerate(claims.table_columns)] + [(claims.multiplicities, m)]:
        assert zp.value(cl.value) == _ev(col, cl.point)


@pytest.mark.parametrize("attack", ["row_outside_table", "multiplicity_off_by_one", "count_on_padding_row"])
@pytest.mark.parametrize("shape", CT_SHAPES, ids=CT_IDS)
def test_lock_step_edge_shapes_each_lie_is_refused(shape, attack):
    from zkaudit.lookup import committed_table_prover as ct_prover

    rng = np.random.default_rng(7 + sum(shape))
    inst, f, e, t = _ct_case(rng, *shape)
    m = ct_prover.table_multiplicities(f, e, t, inst.table_rows)
    f = [c.copy() for c in f]
    if attack == "row_outside_table":
        f[1][0] ^= U64(1)
    elif attack == "multiplicity_off_by_one":
        m = m.copy()
        m[int(np.flatnonzero(m)[0])] += U64(1)
    else:
        if inst.table_rows == 1 << inst.table_vars:
            pytest.skip("no padding row in this table")
        j = int(np.flatnonzero((t[0][: inst.table_rows] == f[0][0]) & (t[1][: inst.table_rows] == f[1][0]))[0])
        f[0][0], f[1][0] = U64(0), U64(0)
        m = m.copy()
        m[j] -= U64(1)
        m[inst.table_rows] = U64(1)
    try:
        proof, zp = _ct_prove(inst, f, e, t, m)
    except ProofRejected:
        return
    ok, why = _ct_verify(inst, proof, zp)
    assert not ok, f"{attack} accepted on {inst.layout()[0]}"


def test_version_confusion_is_refused(monkeypatch):
    """A version-3 proof checked on a version-2 transcript (its label
    dropped) and a version-2 proof checked on a version-3 one (the label
    absorbed after the instance where it has none) are both refused: the
    label keeps the two runs' challenges apart, and the verifier keys it to
    the version byte."""
    from zkaudit.lookup import committed_table_prover as ct_prover
    from zkaudit.lookup.committed_table import LABEL_JOINT, CommittedTableInstance

    rng = np.random.default_rng(11)
    inst, f, e, t = _ct_case(rng, 3, 4, 12, 7)
    m = ct_prover.table_multiplicities(f, e, t, inst.table_rows)
    joint, zpj = _ct_prove(inst, f, e, t, m, joint=True)
    per_tree, zpp = _ct_prove(inst, f, e, t, m, joint=False)
    assert _ct_verify(inst, joint, zpj)[0] and _ct_verify(inst, per_tree, zpp)[0]

    real_absorb = Transcript.absorb_bytes

    def without_label(self, label, data):
        if label != LABEL_JOINT:
            real_absorb(self, label, data)

    monkeypatch.setattr(Transcript, "absorb_bytes", without_label)
    ok, _ = _ct_verify(inst, joint, zpj)
    monkeypatch.undo()
    assert not ok, "a version-3 proof verified on a version-2 transcript"

    real_instance_absorb = CommittedTableInstance.absorb

    def with_label(self, transcript):
        real_instance_absorb(self, transcript)
        transcript.absorb_bytes(LABEL_JOINT, b"")

    monkeypatch.setattr(CommittedTableInstance, "absorb", with_label)
    ok, _ = _ct_verify(inst, per_tree, zpp)
    monkeypatch.undo()
    assert not ok, "a version-2 proof verified on a version-3 transcript"


def test_lock_step_layers_of_another_instance_are_refused():
    """A version-3 proof for instance A with its lock-step layers replaced
    by those of an honest version-3 run on instance B of the same shape
    (every count fits)."""
    from zkaudit.lookup import committed_table_prover as ct_prover

    rng = np.random.default_rng(12)
    inst, f, e, t = _ct_case(rng, 3, 4, 12, 7)
    m = ct_prover.table_multiplicities(f, e, t, inst.table_rows)
    a, zpa = _ct_prove(inst, f, e, t, m)
    inst_b, f_b, e_b, t_b = _ct_case(np.random.default_rng(13), 3, 4, 12, 7)
    m_b = ct_prover.table_multiplicities(f_b, e_b, t_b, inst_b.table_rows)
    b, _ = _ct_prove(inst_b, f_b, e_b, t_b, m_b)
    bad = dataclasses.replace(a, joint_layers=b.joint_layers)
    ok, why = _ct_verify(inst, bad, zpa)
    assert not ok


def test_a_lock_step_proof_against_a_plain_statement_is_refused():
    from zkaudit.lookup import committed_table_prover as ct_prover
    from zkaudit.lookup import committed_table_verifier as ct_verifier
    from zkaudit.lookup.committed_table import CommittedTableProof

    rng = np.random.default_rng(14)
    inst, f, e, t = _ct_case(rng, 3, 4, 12, 7)
    m = ct_prover.table_multiplicities(f, e, t, inst.table_rows)
    proof, _ = _ct_prove(inst, f, e, t, m)
    parsed = CommittedTableProof.from_bytes(proof.to_bytes())
    assert parsed.joint and parsed.zero_knowledge
    plain = Transcript()
    plain.absorb_statement("test/review-protocol10/committed-table", 1)
    with pytest.raises(ProofRejected):
        ct_verifier.verify(inst, parsed, plain)
    with pytest.raises(ValueError):  # nor can a plain proof carry lock-step layers
        dataclasses.replace(parsed, root_q=None, root_layers=()).to_bytes()
