"""The training proof for an MLP d_in-h-1 (ReLU hidden layer): honest runs of
both layouts verify (h = 4: b2 sits in w~2's second column, h + 1 > 2^e;
h = 3: b2 sits in the padding unit's row, h + 1 <= 2^e), and a malicious
prover that edits the hidden layer's witness -- then recomputes every virtual
table from the committed ones, so each sum-check is consistent and only the
targeted constraint breaks -- is rejected.

The adversary is `test_training_attacks._prove` (skips its gate checks,
fills range limbs mod p); `_violations` names what each forgery breaks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))
from test_training_attacks import Case, _new_run, _prove, _rejected, _recompute_coord  # noqa: E402
from test_training_attacks import dataset_dir  # noqa: E402,F401  (the sealed breast-cancer data, one per module)
from train_helpers import policy_doc  # noqa: E402

from zkaudit.errors import ProofRejected  # noqa: E402
from zkaudit.statements.training import witness as wt  # noqa: E402
from zkaudit.statements.training.verifier import verify_training  # noqa: E402
from zkaudit.train.run import load_trace  # noqa: E402

STEPS = 3


def mlp_doc(h: int, **changes) -> dict:
    return policy_doc(steps=STEPS, model={"family": "mlp", "hidden": [h]}, init={"kind": "seeded", "seed": "00"},
                      **changes)


@pytest.fixture(scope="module")
def case3(dataset_dir):
    return Case(*_new_run(dataset_dir, dataset_dir.parent / "RUN-h3", mlp_doc(3), 3))


@pytest.fixture(scope="module")
def case4(dataset_dir):
    return Case(*_new_run(dataset_dir, dataset_dir.parent / "RUN-h4", mlp_doc(4), 4))


def _trace(c: Case):
    return load_trace(c.run.path / "private" / "trace.npz")


def _rhu(x, k):
    return x if k == 0 else (x + (1 << (k - 1))) >> k


def evil_train(c, clip=None, den=None, fwd=None, bwd=None):
    """The MLP semantics (trainer.train) with hooks over step t's live slots:
    den(t, den, nrm) -> the denominators the slots are clipped with (e~ and every
    dh~ of the slot follow), fwd(t, zh, pz) -> the activations and ReLU bits
    (hid = pz zh), bwd(t, cl) -> the clamped backprop (dh = pz cl), clip(t, dht,
    dh, den) -> the clipped hidden gradients before they are summed; the theta
    chain follows the forgery (every later step consistent)."""
    from zkaudit.train.trainer import Trace, augmented, initial_theta, join_mlp_grad, split_mlp

    P_, sem = c.policy, c.sem
    T, B, d, h, N = P_.steps, P_.max_batch, P_.num_params, P_.hidden[0], c.N
    W = np.asarray(c.words, dtype=np.uint64).reshape(T, -1)
    Xt = augmented(c.X, P_.feature_bits)
    xn = (Xt * Xt).sum(axis=1)
    y = np.asarray(c.y, dtype=np.int64)
    CF, L, w, lim = P_.clip_fine, P_.sigmoid_input_limit, P_.weight_bits, P_.weight_limit
    a, sh = P_.update_multiplier()
    tr = Trace.empty(T, B, d, h)
    theta = initial_theta(P_)
    tr.theta[0] = theta
    for t in range(T):
        G = sem.gap_table.draw(W[t, :B + 1])
        index = np.cumsum(G + 1) - 1
        live = index[:B] < N
        rows = index[:B][live]
        x, yl, nx = Xt[rows], y[rows], xn[rows]
        W1, w2 = split_mlp(theta, P_.d_in, h)
        zh = np.clip(_rhu(x @ W1.T, w), -L, L - 1)
        pz = zh > 0
        if fwd is not None:
            zh, pz = fwd(t, zh.copy(), pz.copy())
        v = augmented(np.where(pz, zh, 0), P_.feature_bits)
        zin = np.clip(_rhu(v @ w2, sem.sig_shift), -L, L - 1)
        e = sem.sigmoid[zin + L] - yl * (1 << w)
        cl = np.clip(_rhu(e[:, None] * w2[None, :h], w), -(1 << w), 1 << w)
        if bwd is not None:
            cl = bwd(t, cl.copy())
        dh = np.where(pz, cl, 0)
        nrm = e * e * (v * v).sum(axis=1) + (dh * dh).sum(axis=1) * nx
        dn = np.maximum(np.array([_isqrt_ceil(int(q)) for q in nrm], dtype=np.int64), CF)
        if den is not None:
            dn = den(t, dn.copy(), nrm)
        et = np.sign(e) * ((np.abs(e) * CF) // dn)
        dht = np.sign(dh) * ((np.abs(dh) * CF) // dn[:, None])
        if clip is not None:
            dht = clip(t, dht.copy(), dh, dn)
        shi = join_mlp_grad(dht.T @ x, et @ v)
        S = _rhu(shi, sem.grid_shift)
        z = sem.noise_table.draw(W[t, B + 1:])
        step = a * (S + z)
        theta = np.clip(theta - (_rhu(step, sh) if sh > 0 else step << -sh), -lim, lim)
        tr.words[t], tr.gaps[t], tr.index[t], tr.live[t] = W[t], G, index, live
        tr.hidden[t, live], tr.delta[t, live], tr.delta_clipped[t, live] = zh, dh, dht
        tr.norm2[t, live], tr.den[t, live], tr.err[t, live], tr.clipped[t, live] = nrm, dn, e, et
        tr.grad_sum[t], tr.rounded_sum[t], tr.noise[t], tr.theta[t + 1] = shi, S, z, theta
    return tr


def _isqrt_ceil(n: int) -> int:
    import math

    r = math.isqrt(n)
    return r if r * r == n else r + 1


def _dims(plan):
    return 1 << plan.a, 1 << plan.b, 1 << plan.e, 1 << plan.xk


def refresh(plan, cols) -> None:
    """Every virtual table of the MLP from the committed columns, as the
    sum-checks will read them: pre, the broadcasts, dot, the norms, shi, next."""
    A, Bp, Up, Kx = _dims(plan)
    X = cols["X"].reshape(A, Bp, Kx)
    th = cols["theta"].reshape(A, 2, Up, Kx)
    ub, kb = plan.b2_position()
    w2, b2 = th[:, 1, :, 0], th[:, 1, ub, kb]
    hid, dh, dht = (cols[n].reshape(A, Bp, Up) for n in ("hid", "dh", "dht"))
    cols["pre"] = np.einsum("tjk,tuk->tju", X, th[:, 0]).reshape(-1)
    cols["w2b"] = np.broadcast_to(w2[:, None, :], (A, Bp, Up)).reshape(-1).copy()
    for b, src in (("sgb", "sg"), ("eabb", "eab"), ("denb", "den"), ("liveb", "live")):
        cols[b] = np.broadcast_to(cols[src].reshape(A, Bp)[:, :, None], (A, Bp, Up)).reshape(-1).copy()
    cols["dot"] = (np.einsum("tju,tu->tj", hid, w2) + (b2[:, None] << plan.f)).reshape(-1)
    cols["xn"] = (X * X).sum(axis=2).reshape(-1)
    cols["hnorm"] = ((hid * hid).sum(axis=2) + (1 << 2 * plan.f)).reshape(-1)
    cols["dnorm"] = (dh * dh).sum(axis=2).reshape(-1)
    cols["dtnorm"] = (dht * dht).sum(axis=2).reshape(-1)
    s = {"et": cols["et"].reshape(A, Bp), "dht": dht, "hid": hid}
    cols["shi"] = wt._hidden_gradient(plan, s, X).reshape(-1)
    t2 = cols["theta"].reshape(A, -1)
    nxt = np.zeros_like(t2)
    nxt[:-1] = t2[1:]
    cols["next"] = nxt.reshape(-1)


def _unit(plan, cols, pred) -> tuple[int, int, int]:
    """The first real unit (t, j, u) of a live slot where pred(t, j, u) holds."""
    A, Bp, Up, _ = _dims(plan)
    live = cols["live"].reshape(A, Bp)
    for t, j in zip(*np.nonzero(live)):
        for u in range(plan.h):
            if pred(int(t), int(j), u):
                return int(t), int(j), u
    raise AssertionError("no unit satisfies the attack's precondition")


def _at(plan, t, j, u) -> int:
    return (t << (plan.b + plan.e)) + (j << plan.e) + u


def _forge(c: Case, tamper, *, trace=None) -> tuple[set, str]:
    """Prove with tamper(plan, cols) then `refresh`; (what it breaks, where the verifier rejects)."""
    seen: set[str] = set()

    def evil(plan, cols):
        tamper(plan, cols)
        refresh(plan, cols)
        _recompute_coord(plan, cols)

    proof = _prove(c, _trace(c) if trace is None else trace, tamper=evil, seen=seen)
    where = _rejected(c, proof).where
    print(f"breaks {sorted(seen)}; rejected at {where!r}")
    return seen, where


# --- honest --------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["case3", "case4"])
def test_honest_mlp_proof_verifies(which, request):
    c = request.getfixturevalue(which)
    plan = c.plan
    assert (plan.h + 1 > 1 << plan.e) == (plan.h == 4)  # the two places b2 can sit
    seen: set[str] = set()
    proof = _prove(c, _trace(c), tamper=lambda p, cols: refresh(p, cols), seen=seen)
    assert seen == set()  # the adversary's refresh reproduces the honest virtual tables
    v = verify_training(proof, run_record=c.run.record, policy_doc=c.policy.doc, coin_doc=c.coin)
    assert v.soundness_bits >= 100


def test_honest_columns_match_the_trainer(case4):
    """The witness's hidden layer is the reference trainer's (zh, dh, dh~ per live slot)."""
    c, plan = case4, case4.plan
    tr = _trace(c)
    from zkaudit.train import randomness
    from zkaudit.train.tape import TapeShape

    t = c.run.tape()
    coin = randomness.verify_coin(c.run.auditor_public_key, c.run.run_id, bytes.fromhex(c.coin["signature"]))
    mask = randomness.mask(coin, c.run.tape_commitment, c.policy.digest, TapeShape.of(c.policy).num_words)
    cols = wt.build(plan, tr, c.X, c.y, t.words, mask)
    wt.fill_ranges(plan, cols)
    wt.check_gates(plan, cols)
    A, Bp, Up, _ = _dims(plan)
    for col, field in (("zh", "hidden"), ("dh", "delta"), ("dht", "delta_clipped")):
        got = cols[col].reshape(A, Bp, Up)[:plan.T, :plan.B, :plan.h]
        assert np.array_equal(got[tr.live], getattr(tr, field)[tr.live]), col


# --- attacks ---------------------------------------------------------------------------
@pytest.mark.heavy
def test_padding_unit_activation(case3):
    """h = 3 < 2^e = 4: unit 3 is padding and its row of block 1 holds b2, so a
    nonzero hid there would add b2 hid to the logit: the all-row gate refuses it."""
    def tamper(plan, cols):
        t, j, _ = _unit(plan, cols, lambda t, j, u: True)
        cols["hid"][_at(plan, t, j, 3)] = 5

    seen, _ = _forge(case3, tamper)
    assert "unit: hid off the real rows" in seen


def test_padding_unit_of_a_dead_slot(case3):
    """The same on a dead slot (its logit and norm are free, its e~ is 0): nothing
    but the all-row gate sees it, and the unit zero-check refuses it."""
    def tamper(plan, cols):
        A, Bp, Up, _ = _dims(plan)
        live = cols["live"].reshape(A, Bp)
        t, j = next((t, j) for t in range(plan.T) for j in range(plan.B) if not live[t, j])
        cols["hid"][_at(plan, t, j, 3)] = 5

    seen, where = _forge(case3, tamper)
    assert seen == {"unit: hid off the real rows"}
    assert where == "training.zero-check unit"


def test_evil_trainer_without_hooks_is_the_trainer(case4):
    honest, evil = _trace(case4), evil_train(case4)
    for f in ("theta", "delta", "delta_clipped", "hidden", "live"):
        assert np.array_equal(getattr(evil, f), getattr(honest, f)), f


def test_hidden_gradient_clipped_too_little(case4):
    """One clipped hidden gradient one unit larger than floor(|dh| C_F / den), at a
    slot whose norm is below C_F (so the norm invariant keeps its slack; where
    clipping is active the invariant catches it too), the rest of the run
    retrained on it: only the unit's clip gate breaks, and the verifier refuses it."""
    c = case4
    tr0 = _trace(c)
    target = {}

    def find(t, dht, dh, den):
        if not target and t == 0:
            for j, u in zip(*np.nonzero(dh)):
                if den[j] == c.policy.clip_fine:
                    target.update(t=t, j=int(j), u=int(u))
                    break
        if target and t == target["t"]:
            dht[target["j"], target["u"]] += np.sign(dh[target["j"], target["u"]])
        return dht

    tr = evil_train(c, clip=find)
    assert target, "no unclipped slot with a hidden gradient at step 0"
    assert not np.array_equal(tr.grad_sum[0], tr0.grad_sum[0])  # the forged gradient enters the sum
    slot = int(np.flatnonzero(tr.live[0])[target["j"]])

    def tamper(plan, cols):
        i = _at(plan, 0, slot, target["u"])
        cols["A1"][i] += 1
        cols["dht"][i] += 1 - 2 * cols["sd"][i]

    seen: set[str] = set()

    def evil(plan, cols):
        tamper(plan, cols)
        refresh(plan, cols)
        _recompute_coord(plan, cols)

    proof = _prove(c, tr, tamper=evil, seen=seen)
    assert seen == {"unit: clip"}
    print(f"rejected at {_rejected(c, proof).where!r}")


@pytest.mark.heavy
def test_unclipped_hidden_gradient(case4):
    """dh~ = dh where clipping should scale it down (den > C_F), nothing retrained."""
    def tamper(plan, cols):
        A, Bp, Up, _ = _dims(plan)
        den = cols["den"].reshape(A, Bp)
        t, j, u = _unit(plan, cols, lambda t, j, u: den[t, j] > plan.CF and cols["dab"][_at(plan, t, j, u)] > 0
                        and cols["A1"][_at(plan, t, j, u)] < cols["dab"][_at(plan, t, j, u)])
        i = _at(plan, t, j, u)
        cols["A1"][i] = cols["dab"][i]
        cols["dht"][i] = cols["dh"][i]

    seen, _ = _forge(case4, tamper)
    assert "unit: clip" in seen


@pytest.mark.heavy
def test_relu_lets_a_negative_through(case4):
    """hid = zh < 0 (pz = 0): the ReLU gate."""
    def tamper(plan, cols):
        t, j, u = _unit(plan, cols, lambda t, j, u: cols["zh"][_at(plan, t, j, u)] < 0)
        i = _at(plan, t, j, u)
        cols["hid"][i] = cols["zh"][i]

    seen, _ = _forge(case4, tamper)
    assert "unit: relu" in seen


@pytest.mark.heavy
def test_relu_derivative_lie(case4):
    """pz = 1 at a negative pre-activation (so hid = zh < 0 passes the ReLU gate and
    the unit backpropagates): the sign range refuses it."""
    def tamper(plan, cols):
        t, j, u = _unit(plan, cols, lambda t, j, u: cols["zh"][_at(plan, t, j, u)] < 0)
        i = _at(plan, t, j, u)
        cols["pz"][i] = 1
        cols["hid"][i] = cols["zh"][i]

    seen, _ = _forge(case4, tamper)
    assert "unit: range relu side" in seen


@pytest.mark.heavy
def test_dead_slot_hidden_gradient(case4):
    """A dead slot contributes dh~ = 1 to the hidden gradient."""
    def tamper(plan, cols):
        A, Bp, Up, _ = _dims(plan)
        live = cols["live"].reshape(A, Bp)
        t, j = next((t, j) for t in range(plan.T) for j in range(plan.B) if not live[t, j])
        i = _at(plan, t, j, 0)
        cols["A1"][i], cols["dht"][i], cols["X"][((t << plan.b) + j) << plan.xk] = 1, 1, 7

    seen, _ = _forge(case4, tamper)
    assert "unit: dead slot" in seen


@pytest.mark.heavy
def test_backprop_off_by_one(case4):
    """dh one more than ReLU'(zh) clamp(rhu(e w2, w)) at a live unit."""
    def tamper(plan, cols):
        t, j, u = _unit(plan, cols, lambda t, j, u: cols["dh"][_at(plan, t, j, u)] > 0)
        i = _at(plan, t, j, u)
        cols["dh"][i] += 1
        cols["dab"][i] += 1

    seen, _ = _forge(case4, tamper)
    assert "unit: relu derivative" in seen


@pytest.mark.heavy
def test_theta_T_permuted_in_c_theta(case4):
    """c_theta commits theta_T with two W1 entries swapped while the layout's
    theta_T is honest: only the flat-to-layout wiring sum-check can see it."""
    tr = _trace(case4)
    swapped = tr.theta[-1].copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    assert swapped[0] != swapped[1]
    honest_row = tr.theta[-1].copy()
    tr.theta[-1] = swapped

    def tamper(plan, cols):
        from zkaudit.train.tape import TapeShape

        A = 1 << plan.a
        th = cols["theta"].reshape(A, -1)
        th[plan.T, TapeShape.of(plan.policy).positions] = honest_row  # the layout keeps the honest update

    seen, _ = _forge(case4, tamper, trace=tr)
    assert seen == set()


def test_plan_refuses_a_clip_norm_whose_den_could_wrap():
    """den - C_F is range-checked below 2^31 (MLP; 2^28 for logistic regression):
    with C_F <= 2^31 the divisor stays below 2^32 and den^2 below p. A larger
    C_F is refused by the policy parser and, for a policy built by hand, by
    the plan (the review found den past sqrt(p) wrapping den^2 mod p)."""
    import dataclasses
    from fractions import Fraction

    from zkaudit.statements.training.plan import Plan
    from zkaudit.train.errors import PolicyError
    from zkaudit.train.policy import Policy

    for doc in (mlp_doc(4, clip_norm="256"), policy_doc(steps=STEPS, clip_norm="256")):
        with pytest.raises(PolicyError, match="must not exceed 2\\^31"):
            Policy.from_json(doc)
        policy = dataclasses.replace(Policy.from_json(dict(doc, clip_norm="1")), clip_norm=Fraction(256))
        assert policy.clip_fine > 1 << 31
        with pytest.raises(ValueError, match="exceeds 2\\^31"):
            Plan(policy, 455, None)  # refused before the tables are read


@pytest.mark.heavy
def test_sweep_every_unit_column_perturbed(case3):
    """The malicious-prover sweep over the hidden layer: every committed unit
    column perturbed by +1 at one cell, in turn a live real unit, a dead slot's
    unit and a padding unit (u = 3 of h = 3), the virtual tables recomputed
    (the range limbs are then refilled from their expressions, mod p, as the
    adversary of test_training_attacks does). Whatever the
    perturbation breaks (gate, all-row gate, range or lookup, mod p) the
    verifier must reject; a perturbation that breaks nothing may pass only if
    the cell is irrelevant (the committed theta_T is the honest one)."""
    c, plan = case3, case3.plan
    tr = _trace(c)
    A, Bp, Up, _ = _dims(plan)
    live = tr.live
    t0, j0 = map(int, np.argwhere(live)[0])
    td, jd = map(int, np.argwhere(~live[:, :plan.B])[0])
    cells = {"live": (t0, j0, 1), "dead": (td, jd, 0), "padding": (t0, j0, 3)}
    checked = 0
    order = list(cells.items())
    unit_cols = [col for col in plan.domains["unit"].columns if "/" not in col]  # not the limbs
    for n, col in enumerate(unit_cols):
        for where, (t, j, u) in order[n % 3:n % 3 + 1]:
            seen: set[str] = set()

            def tamper(p, cols, col=col, t=t, j=j, u=u):
                cols[col][_at(p, t, j, u)] += 1
                refresh(p, cols)
                _recompute_coord(p, cols)

            proof = _prove(c, tr, tamper=tamper, seen=seen)
            try:
                verify_training(proof, run_record=c.run.record, policy_doc=c.policy.doc, coin_doc=c.coin)
                accepted = True
            except ProofRejected:
                accepted = False
            assert not (accepted and seen), f"{col} +1 at the {where} unit breaks {sorted(seen)} yet verifies"
            checked += 1
    assert checked == len(unit_cols) == 18
