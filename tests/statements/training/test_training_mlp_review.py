"""An independent review of the MLP training proof (d_in-h-1, ReLU) as a
malicious prover: each test builds a forged witness for an MLP run and asks
`verify_training` about it.

The adversary is the one of test_training_mlp.py: `_prove` runs the honest
protocol on the forged columns (gate checks skipped, range limbs filled from
the expression's value mod p, so a range that can wrap is exploited),
`refresh` recomputes every virtual table of the MLP from the committed
columns, and `train_with` retrains the rest of the run on the forgery, so
the witness is consistent everywhere but at the constraint an attack targets.

A forgery the verifier accepts is written as a test that asserts rejection
and so FAILS while the bug stands (its name says `accepted`); an attack the
proof refuses is kept as a passing test, with the constraint that refuses it.

Findings: (1) ACCEPTED -- the clip denominator's range lets den exceed sqrt(p),
so den^2 wraps and a den of ~2^32 passes as the ceiling root of a slot's norm:
any record's gradient can be all but dropped (test 1, fails until the fix).
Refused: forged broadcasts (w2b, sgb, eabb, denb, liveb), pre, dot and the
norms, the sent gradient blocks and b2, the ReLU and both clamps, a padding
slot's or padding unit's gradient. Free but harmless: theta's padding
coordinates, dead slots' X (every column) and hidden units, e~ past T and on
padding slots.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))
from test_training_attacks import P, _prove, _recompute_coord, _rejected  # noqa: E402
from test_training_mlp import (_at, _dims, _isqrt_ceil, _rhu, _trace, _unit, case3, case4,  # noqa: E402,F401
                               evil_train as train_with,
                               dataset_dir, refresh)

from zkaudit.errors import ProofRejected  # noqa: E402
from zkaudit.statements.training.verifier import verify_training  # noqa: E402


# --- the adversary ----------------------------------------------------------------------
def forge(c, trace, tamper=None, after=None) -> tuple[bytes, set]:
    """(proof, what it breaks): tamper(plan, cols) on the committed columns, then
    every virtual table and coord column recomputed, then after(plan, cols)
    (to forge a virtual table against the committed ones)."""
    seen: set[str] = set()

    def evil(plan, cols):
        if tamper is not None:
            tamper(plan, cols)
        refresh(plan, cols)
        _recompute_coord(plan, cols)
        if after is not None:
            after(plan, cols)

    return _prove(c, trace, tamper=evil, seen=seen), seen


def accepts(c, proof) -> bool:
    try:
        verify_training(proof, run_record=c.run.record, policy_doc=c.policy.doc, coin_doc=c.coin)
    except ProofRejected:
        return False
    return True


# --- 1. the denominator wraps the field (ACCEPTED: a soundness bug) ---------------------
def _wrapped_den(n2: int) -> int:
    """The smallest den' = 2^32 + x with den'^2 - p in [n2, n2 + 2 den' - 2]: mod p,
    den' passes "den squared covers" and "den minimal" as the ceiling root of n2."""
    x = 0
    while (1 << 33) * x + x * x + (1 << 32) - 1 < n2:
        x += 1
    den = (1 << 32) + x
    assert n2 <= den * den - P <= n2 + 2 * den - 2
    return den


def _wrap_targets(c, tr, t: int, count: int) -> dict[int, int]:
    """Live slots j of step t (trace slot index) -> den': every remainder of the
    slot's clip (e~ and each unit's dh~) must lie in [den' - 2^32, 2^32), the
    32-bit ranges "clip remainder" and "clip remainder below den"."""
    CF = c.policy.clip_fine
    out = {}
    for j in np.flatnonzero(tr.live[t]):
        den = _wrapped_den(int(tr.norm2[t, j]))
        if den - CF >= 1 << 32:
            continue
        rems = [abs(int(tr.err[t, j])) * CF % den] + [abs(int(v)) * CF % den for v in tr.delta[t, j]]
        if all(den - (1 << 32) <= r < 1 << 32 for r in rems):
            out[int(j)] = den
        if len(out) == count:
            break
    return out


def _apply_den(plan, cols, t: int, forged: dict[int, int]) -> None:
    """Slot (t, j) clipped with den' instead of its honest denominator: den, bd, A,
    rc, e~ and, per unit, A1, rc1, dh~ (the broadcast denb follows in refresh)."""
    CF = plan.CF
    for j, den in forged.items():
        i = (t << plan.b) + j
        eab = int(cols["eab"][i])
        A = eab * CF // den
        cols["den"][i], cols["bd"][i], cols["A"][i], cols["rc"][i] = den, 0, A, eab * CF - A * den
        cols["et"][i] = (1 - 2 * cols["sg"][i]) * A
        for u in range(plan.h):
            k = _at(plan, t, j, u)
            dab = int(cols["dab"][k])
            A1 = dab * CF // den
            cols["A1"][k], cols["rc1"][k] = A1, dab * CF - A1 * den
            cols["dht"][k] = (1 - 2 * cols["sd"][k]) * A1


def test_den_wrap_mod_p_accepted_silences_records(case4):
    """BUG (soundness): den - C_F is range-checked at 32 bits for an MLP, so den
    may reach C_F + 2^32 - 1 > sqrt(p), where den^2 wraps the field. For a live
    slot of squared norm n2, den' = 2^32 + x with den'^2 - p in [n2, n2 + 2 den' - 2]
    passes "den squared covers" (den'^2 - n2 = den'^2 - p - n2 mod p) and "den
    minimal" as if it were ceil(sqrt(n2)); the slot's e~ and dh~ are then divided
    by ~2^32 instead of ~2^25 (C_F = 2^24), i.e. the record is all but dropped from
    the gradient sum. Every gate, range and lookup holds mod p; the verifier
    accepts a c_theta that is not the DP-SGD result (here three records of step 0
    silenced; an adversary can silence any record whose remainders fit).

    Fix (plan.py): keep den <= 2^31 -- ceil_sqrt of a norm below 2^62 -- so den^2
    < p: e.g. a range "den at most 2^31" on live * (2^31 - den) (32 bits) beside
    "den at least C_F", and refuse policies with C_F > 2^31 in Plan (den = C_F
    would wrap too); the unit's clip reads den through denb, so it is covered."""
    c = case4
    honest = _trace(c)
    targets = _wrap_targets(c, honest, 0, 3)
    assert len(targets) == 3, "no slot of step 0 whose clip remainders fit 32 bits"
    slots = np.flatnonzero(honest.live[0])
    live_pos = {int(j): int(np.flatnonzero(slots == j)[0]) for j in targets}

    def den(t, dn, nrm):
        if t == 0:
            for j, d in targets.items():
                dn[live_pos[j]] = d
        return dn

    tr = train_with(c, den=den)
    assert not np.array_equal(tr.theta[-1], honest.theta[-1])  # a false statement
    assert np.array_equal(train_with(c).theta, honest.theta)  # the hook alone is the trainer
    proof, seen = forge(c, tr, tamper=lambda plan, cols: _apply_den(plan, cols, 0, targets))
    # before the fix the forged witness breaks nothing mod p (seen == set()); after it, den's range
    assert not accepts(c, proof), f"ACCEPTED: records silenced by a wrapped den (the forgery breaks {sorted(seen)})"


# --- 2. the unit domain's broadcasts are routed to the slot and coord columns -----------
def _dead_relu_unit(plan, cols) -> int:
    """A real unit of a live slot whose ReLU is off (pz = 0, so dh = 0 whatever the
    backprop reads): a local forgery there changes nothing downstream."""
    t, j, u = _unit(plan, cols, lambda t, j, u: cols["pz"][_at(plan, t, j, u)] == 0
                    and cols["zh"][_at(plan, t, j, u)] > -plan.L)
    return _at(plan, t, j, u)


def _backprop(plan, cols, k: int) -> None:
    """q2, r2, the clamp bits and cl of unit row k from its (possibly forged) sgb, eabb, w2b."""
    w, one = plan.w, 1 << plan.w
    prod = (1 - 2 * int(cols["sgb"][k])) * int(cols["eabb"][k]) * int(cols["w2b"][k])
    q2 = _rhu(prod, w)
    cols["q2"][k], cols["r2"][k] = q2, prod + (1 << (w - 1)) - (q2 << w)
    cols["bqh"][k], cols["bql"][k] = int(q2 > one), int(q2 < -one)
    cols["cl"][k] = min(max(q2, -one), one)


def _lie(name: str):
    def after(plan, cols):
        k = _dead_relu_unit(plan, cols)
        if name == "w2b":
            cols["w2b"][k] += 1000
        elif name == "sgb":
            cols["sgb"][k] = 1 - cols["sgb"][k]
        elif name == "eabb":
            cols["eabb"][k] += 7
        elif name == "denb":
            cols["denb"][k] += 12345
        elif name == "liveb":  # the unit escapes every live-gated gate
            cols["liveb"][k] = 0
        _backprop(plan, cols, k)
    return after


@pytest.mark.heavy  # the review's catalogue; the default run keeps its finding and one clamp lie
@pytest.mark.parametrize("name", ["w2b", "sgb", "eabb", "denb", "liveb"])
def test_broadcast_lie_is_refused(case3, name):
    """A broadcast virtual table of the unit domain (w2b = w2(t, u); sgb, eabb, denb,
    liveb = the slot's sg, eab, den, live) forged at one unit, every unit gate
    still holding on the forged values: its zero-check claim is routed to the
    theta or slot column at the right point, so the opening refuses it."""
    proof, seen = forge(case3, _trace(case3), after=_lie(name))
    assert seen == set()  # the relation holds on the forged tables: only the routing can see it
    print(f"rejected at {_rejected(case3, proof).where!r}")


# --- 3. the virtual tables the sum-checks reduce ------------------------------------------
@pytest.mark.heavy
def test_pre_lie_at_a_dead_relu_is_refused(case4):
    """pre one step of 2^w lower at a unit whose ReLU is off (zu and zh follow, hid and
    dh stay 0): every gate holds, the feature sum-check refuses the claim on pre."""
    def after(plan, cols):
        k = _dead_relu_unit(plan, cols)
        L = plan.L
        cols["pre"][k] -= 1 << plan.w
        cols["zu"][k] -= 1
        zu = int(cols["zu"][k])
        cols["bl1"][k] = int(zu < -L)
        cols["zh"][k] = max(zu, -L)

    proof, seen = forge(case4, _trace(case4), after=after)
    assert seen == set()
    assert _rejected(case4, proof).where == "training.features"


@pytest.mark.heavy
def test_dot_and_norm_lie_on_a_dead_slot_is_refused(case4):
    """A dead slot's logit and norms are free for the slot gates, but dot, hnorm,
    dnorm, dtnorm are sums over its units: the hidden-unit sum-check refuses them."""
    def after(plan, cols):
        A, Bp, _, _ = _dims(plan)
        live = cols["live"].reshape(A, Bp)
        t, j = next((t, j) for t in range(plan.T) for j in range(plan.B) if not live[t, j])
        i = (t << plan.b) + j
        cols["dot"][i] += 12345
        cols["hnorm"][i] += 3

    proof, seen = forge(case4, _trace(case4), after=after)
    assert seen == set()
    assert _rejected(case4, proof).where == "training.hidden units"


# --- 4. the four values sent before the feature sum-check ---------------------------------
def _prove_sending(c, trace, change, **kw) -> tuple[bytes, set]:
    """forge() with the prover's sent values changed: change(n, value, weights) -> the
    value of the n-th send (n = 0..3: G1, G2, Gb2 and b2 at their points; 4: theta_T),
    weights = (w1, w2, wb) of the shi decomposition at the coord point."""
    from zkaudit.statements.training import protocol as pr
    from zkaudit.statements.training import prover

    weights, calls = {}, [0]
    parts, send = pr.shi_parts, prover._Run._send

    def shi_parts(plan, s):
        out = parts(plan, s)
        weights["w"] = out[3]
        return out

    def evil_send(self, value):
        n = calls[0]
        calls[0] += 1
        return send(self, change(n, prover._ext(value), weights.get("w")))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(prover.pr, "shi_parts", shi_parts)
        mp.setattr(prover._Run, "_send", evil_send)
        return forge(c, trace, **kw)


@pytest.mark.heavy
def test_shi_split_moved_between_blocks_is_refused(case4):
    """G1 and G2 sent off by d/w1 and -d/w2: the deferred check on shi still holds
    (w1 G1 + w2 G2 + wb Gb2 unchanged), each sent value is then its sum-check's
    claim: the feature sum-check refuses G1."""
    from zkaudit.field.scalar import Fp2

    d = Fp2(12345, 6789)

    def change(n, v, w):
        return v + d * w[0].inverse() if n == 0 else v - d * w[1].inverse() if n == 1 else v

    proof, seen = _prove_sending(case4, _trace(case4), change)
    assert seen == set()
    assert _rejected(case4, proof).where == "training.features"


@pytest.mark.heavy
def test_b2_sent_value_lie_is_refused(case3):
    """The run's forward pass uses b2 + 2^12 (dot = w2 . hid + 2^f (b2 + 2^12) on every
    row, the rest of the run trained on it) while theta holds b2, and the prover
    sends b2 + 2^12 at the slot point: the hidden-unit sum-check balances, only the
    claim on theta at b2's position (h = 3: the padding unit's row) is false."""
    from zkaudit.statements.training import witness as wt

    c, delta = case3, 1 << 12
    tr = train_with_b2(c, delta)
    assert not np.array_equal(tr.theta[-1], _trace(c).theta[-1])
    blocks = wt._blocks

    def shifted(plan, theta):
        W1, w2, b2 = blocks(plan, theta)
        return W1, w2, b2 + delta

    def after(plan, cols):
        cols["dot"] += delta << plan.f

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wt, "_blocks", shifted)
        proof, seen = _prove_sending(c, tr, lambda n, v, w: v + delta if n == 3 else v, after=after)
    assert seen == set()  # every gate holds on the forward pass with b2 + 2^12
    print(f"rejected at {_rejected(c, proof).where!r}")


def train_with_b2(c, delta: int):
    """The MLP semantics with b2 + delta in the logit (not in the update)."""
    from zkaudit.train import trainer

    split = trainer.split_mlp

    def shifted(theta, d_in, h):
        W1, w2 = split(theta, d_in, h)
        w2 = w2.copy()
        w2[h] += delta
        return W1, w2

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trainer, "split_mlp", shifted)
        return train_with(c)


# --- 5. what the relation leaves free, and why that is harmless ---------------------------
def _garbage(plan, cols) -> None:
    """Every value the MLP relation leaves free, filled with noise: theta's padding
    coordinates of rows 1..T (W~1's columns k > d_in and padding unit rows, w~2's
    block past b2), X on every dead slot (all of its 2^c1 columns, k > d_in
    included), a dead slot's hidden units (zh, ReLU), e~ on rows t >= T."""
    from zkaudit.train.tape import TapeShape

    rng = np.random.default_rng(7)
    A, Bp, Up, Kx = _dims(plan)
    th = cols["theta"].reshape(A, -1)
    pad = np.ones(th.shape[1], dtype=bool)
    pad[TapeShape.of(plan.policy).positions] = False
    th[1:, pad] = rng.integers(-10 ** 6, 10 ** 6, size=(A - 1, int(pad.sum())))
    live = cols["live"].reshape(A, Bp)
    X = cols["X"].reshape(A, Bp, Kx)
    X[live == 0] = rng.integers(-1000, 1000, size=(int((live == 0).sum()), Kx))
    zh = cols["zh"].reshape(A, Bp, Up)
    dead = (live[:, :, None] == 0) & (np.arange(Up) < plan.h)[None, None, :]
    dead[plan.T:] = False  # off the real rows hid is pinned to 0 (all-row gate)
    zh[dead] = rng.integers(-plan.L, plan.L, size=int(dead.sum()))
    cols["pz"].reshape(A, Bp, Up)[dead] = (zh[dead] > 0).astype(np.int64)
    cols["hid"].reshape(A, Bp, Up)[dead] = np.maximum(zh[dead], 0)
    cols["et"].reshape(A, Bp)[plan.T:] = rng.integers(-1000, 1000, size=(A - plan.T, Bp))


@pytest.mark.heavy
def test_free_padding_values_are_harmless(case3):
    """Accepted, and the statement is still true (c_theta commits the honest theta_T):
    the free values never reach a real coordinate -- a live slot's X is 0 past d_in
    (the fetch's constant columns), a padding unit's hid, dh, dh~ are 0 (all-row
    gates), a dead slot has e~ = 0 and dh~ = 0, theta_0's padding is pinned by the
    exact claim and theta_T's is outside the flat wiring. (Pins the slack: if the
    relation later pins these values, this test should assert rejection instead.)"""
    c = case3
    proof, seen = forge(c, _trace(c), tamper=_garbage)
    assert seen == set()
    assert accepts(c, proof)


# --- 6. B_max below 2^b: padding slots -------------------------------------------------------
@pytest.fixture(scope="module")
def case_odd(dataset_dir):
    """h = 3 and B_max = 100 < 2^b = 128: slots 100..127 of every step are padding."""
    from test_training_attacks import Case, _new_run
    from test_training_mlp import mlp_doc

    return Case(*_new_run(dataset_dir, dataset_dir.parent / "RUN-h3-odd", mlp_doc(3, sampling__max_batch=100), 11))


@pytest.mark.heavy
def test_padding_slots_honest_and_free_et(case_odd):
    """The honest proof of an MLP whose B_max is not a power of two verifies, and
    a padding slot's e~ (no slot gate holds there) is kept out of G2 and the b2
    gradient by [j < B]: accepted, the statement still true. Its hidden units
    are off the real rows, so a dh~ there is refused by the all-row gate."""
    c = case_odd
    plan = c.plan
    assert plan.B < 1 << plan.b
    proof, seen = forge(c, _trace(c))
    assert seen == set() and accepts(c, proof)

    def et(plan, cols):
        A, Bp, _, _ = _dims(plan)
        cols["et"].reshape(A, Bp)[:plan.T, plan.B:] = 777

    proof, seen = forge(c, _trace(c), tamper=et)
    assert seen == set() and accepts(c, proof)

    def dht(plan, cols):
        cols["dht"][_at(plan, 0, plan.B, 0)] = 1
        cols["X"][((0 << plan.b) + plan.B) << plan.xk] = 5

    proof, seen = forge(c, _trace(c), tamper=dht)
    assert seen == {"unit: dht off the real rows"}
    assert _rejected(c, proof).where == "training.zero-check unit"


# --- 7. ReLU and the two clamps ------------------------------------------------------------
def _unit_target(c, kind: str) -> tuple[int, int, int]:
    """(position among step 0's live slots, slot j, unit u) of the first unit the
    forgery applies to: an active unit (relu), an unsaturated active unit (clamp),
    a positive unsaturated backprop (backprop)."""
    tr, L, one = _trace(c), c.plan.L, 1 << c.plan.w
    for n, j in enumerate(np.flatnonzero(tr.live[0])):
        for u in range(c.plan.h):
            zh, dh = int(tr.hidden[0, j, u]), int(tr.delta[0, j, u])
            if {"relu": zh > 0, "clamp": 0 < zh < L - 1, "backprop": 0 < dh < one}[kind]:
                return n, int(j), u
    raise AssertionError(f"no unit for the {kind} forgery")


def _unit_forgery(c, kind: str) -> tuple[bytes, set]:
    """One unit of step 0 lies, consistently in the trainer (the rest of the run
    follows) and in the witness (every slot value downstream follows): relu --
    the ReLU is switched off (pz = 0, the unit dropped); clamp -- zh = L - 1 (bh1 =
    1) below the limit; backprop -- cl = 2^w (bqh = 1) below it."""
    from zkaudit.statements.training import witness as wt

    n, j, u = _unit_target(c, kind)
    L, one = c.plan.L, 1 << c.plan.w

    def fwd_hook(t, zh, pz):
        if t == 0 and kind == "relu":
            pz[n, u] = False
        if t == 0 and kind == "clamp":
            zh[n, u], pz[n, u] = L - 1, True
        return zh, pz

    def bwd_hook(t, cl):
        if t == 0 and kind == "backprop":
            cl[n, u] = one
        return cl

    tr = train_with(c, fwd=fwd_hook, bwd=bwd_hook)
    assert not np.array_equal(tr.theta[-1], _trace(c).theta[-1])
    forward, backward = wt._hidden_forward, wt._hidden_backward

    def evil_forward(plan, s, feat, theta, live):
        forward(plan, s, feat, theta, live)
        if kind == "relu":
            s["pz"][0, j, u], s["hid"][0, j, u] = 0, 0
        if kind == "clamp":
            s["bh1"][0, j, u], s["zh"][0, j, u], s["pz"][0, j, u], s["hid"][0, j, u] = 1, L - 1, 1, L - 1
        _, w2, b2 = wt._blocks(plan, theta)
        s["hnorm"] = (s["hid"] * s["hid"]).sum(axis=2) + (1 << 2 * plan.f)
        return np.einsum("tju,tu->tj", s["hid"], w2) + (b2[:, None] << plan.f)

    def evil_backward(plan, s, e, live):
        backward(plan, s, e, live)
        if kind == "backprop":
            s["bqh"][0, j, u], s["cl"][0, j, u] = 1, one
            s["dh"] = s["pz"] * s["cl"]
            s["sd"], s["dab"] = (s["dh"] < 0).astype(np.int64), np.abs(s["dh"])
            s["dnorm"] = (s["dh"] * s["dh"]).sum(axis=2)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wt, "_hidden_forward", evil_forward)
        mp.setattr(wt, "_hidden_backward", evil_backward)
        return forge(c, tr)


@pytest.mark.parametrize("kind, want", [("relu", "unit: range relu side"),
                                        pytest.param("clamp", "unit: range clamp gap", marks=pytest.mark.heavy),
                                        pytest.param("backprop", "unit: range backprop clamp gap",
                                                     marks=pytest.mark.heavy)])
def test_relu_and_clamp_lies_are_refused(case4, kind, want):
    """The unit's lie is the only thing the forged run breaks: a negative gap
    ((1 - pz)(-zh) with zh > 0; zu - (L - 1) < 0; q2 - 2^w < 0) wraps to p - gap,
    far above its range (32 bits for the ReLU side, K + 2 = 64 - w for the
    clamps), and the unit zero-check refuses it."""
    proof, seen = _unit_forgery(case4, kind)
    assert seen == {want}
    assert _rejected(case4, proof).where == "training.zero-check unit"
