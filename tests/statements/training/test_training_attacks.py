"""Attacks on the training proof (design/statements.md §3.9): a malicious
prover builds each forgery and `verify_training` must reject it.

The adversary here is stronger than `_forge` in test_training_proof.py: it
retrains with a hook (`_evil_train`, the reference semantics for logistic
regression with one thing changed), so the forged witness is consistent
everywhere except at the constraint the attack targets; it fills range limbs
from the expression's value mod p (so a range check that can wrap is
exploited), skips its own gate check, and computes the fetch multiplicities
from signed numerators. `_violations` lists, at the integer level and mod p,
every gate, range and public lookup the forged witness breaks: each test
first checks that the attack breaks exactly the constraint it targets (or
none, for the attacks the relation does not stop), then that the verifier
rejects.

Two of these were soundness bugs found by this review and fixed in the
relation: a padding row's free fetch numerator cancelling a forged fetch
(`live` is now 0/1 on every row and 0 off the real rows), and the CDT
interval ranges wrapping mod p (now checked at the widest bucket's width,
below 2^62; shown at the relation level, since it needs a word within 2^32
of an end of [0, 2^63), which no test can choose).
The default run keeps the reference-trainer check, zero noise, the padding-row
numerator forgery, the unclipped gradient, the state jump and the CDT wrap;
the rest of the catalogue is marked heavy (`pytest -m heavy`), to keep CI
within its time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))
from train_helpers import policy_doc  # noqa: E402

from zkaudit.errors import ProofRejected  # noqa: E402
from zkaudit.lookup import committed_table_prover  # noqa: E402
from zkaudit.statements.training import prover  # noqa: E402
from zkaudit.statements.training import witness as wt  # noqa: E402
from zkaudit.statements.training.plan import Plan  # noqa: E402
from zkaudit.statements.training.verifier import StatementMismatch, verify_training  # noqa: E402
from zkaudit.train import randomness  # noqa: E402
from zkaudit.train.policy import Policy  # noqa: E402
from zkaudit.train.trainer import Semantics, Trace, augmented, initial_theta  # noqa: E402

STEPS = 6
P = (1 << 64) - (1 << 32) + 1
AUDITOR_SK = 0x5EED_A0D1_7012


# --- runs -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    from zkaudit.data.dataset import commit_dataset, write_dataset
    from zkaudit.train import example

    d = tmp_path_factory.mktemp("train-attacks")
    files = example.write_example(d)
    record, opening = commit_dataset(files["train"], json.loads(files["schema"].read_text()))
    write_dataset(d / "DS", record, opening, None)
    return d / "DS"


def _new_run(dataset_dir: Path, out: Path, doc: dict, seed: int, *, train: bool = True):
    """(run, coin, words) of a fresh run of `doc`; trained (trace written) when `train`."""
    from zkaudit.train.run import coin_words, init_run, load_run, sign_coin_file, train_run

    init_run(Policy.from_json(doc), dataset_dir, out, randomness.public_key(AUDITOR_SK),
             rng=np.random.default_rng(seed))
    run = load_run(out)
    coin = sign_coin_file(run, AUDITOR_SK, "auditor")
    if train:
        train_run(run, coin)
    return run, coin, coin_words(run, coin, run.tape())


class Case:
    """One run with its public data, words and honest trace."""

    def __init__(self, run, coin, words):
        from zkaudit.train.run import training_data

        self.run, self.coin, self.words = run, coin, words
        self.policy = run.policy
        data = training_data(self.policy, run.dataset_dir())
        self.X, self.y = data.X, data.y
        self.N = len(self.X)
        self.sem = Semantics.of(self.policy, self.N)
        self.plan = Plan(self.policy, self.N, self.sem)


@pytest.fixture(scope="module")
def case(dataset_dir):
    """The test file's policy (B_max = 128 = 2^b: no padding slot in a real step)."""
    return Case(*_new_run(dataset_dir, dataset_dir.parent / "RUN", policy_doc(steps=STEPS), 1))


@pytest.fixture(scope="module")
def odd_case(dataset_dir):
    """B_max = 100 < 2^b = 128 (slots 100..127 of every real step are padding) and
    a weight limit of 2^10 - 1, so that honest training clamps."""
    doc = policy_doc(steps=STEPS, sampling__max_batch=100, fixed_point__weight_limit_log2=10)
    return Case(*_new_run(dataset_dir, dataset_dir.parent / "RUN-odd", doc, 2))


@pytest.fixture(scope="module")
def overflow_case(dataset_dir):
    """B_max = 72 against an expected batch of 64: a run whose coin makes some step
    overflow (the honest trainer aborts; no honest proof exists)."""
    doc = policy_doc(steps=STEPS, sampling__max_batch=72)
    policy = Policy.from_json(doc)
    sem = Semantics.of(policy, 455)
    B, W = policy.max_batch, policy.words_per_step
    for seed in range(100, 140):
        out = dataset_dir.parent / f"RUN-over-{seed}"
        run, coin, words = _new_run(dataset_dir, out, doc, seed, train=False)
        w = words.reshape(STEPS, W)
        ends = [int(np.sum(sem.gap_table.draw(w[t, :B + 1]) + 1) - 1) for t in range(STEPS)]
        if min(ends) < 455:
            return Case(run, coin, words)
    pytest.fail("no overflowing coin in 40 runs (P ~ 0.24 each)")


# --- the adversary ----------------------------------------------------------------
def _rhu(x, k):
    return x if k == 0 else (x + (1 << (k - 1))) >> k


def _evil_train(c: Case, *, X=None, y=None, theta0=None, gaps=None, noise=None, clip=None, extra=None, jump=None,
                clamp=None, abort=True) -> Trace:
    """The reference semantics (logistic regression, trainer.py) with hooks:
    gaps(t, G), noise(t, z), clip(t, A, e, den) on the live slots' |e~|,
    extra(t) added to the gradient sum, jump(t, theta) after the update,
    clamp(t) -> False skips the clamp; abort=False keeps an overflowing batch
    truncated to its first B_max slots. Words stay the honest ones."""
    P_, sem = c.policy, c.sem
    X = c.X if X is None else X
    y = np.asarray(c.y if y is None else y, dtype=np.int64)
    T, B, d, N = P_.steps, P_.max_batch, P_.num_params, len(X)
    W = np.asarray(c.words, dtype=np.uint64).reshape(T, -1)
    Xt = augmented(X, P_.feature_bits)
    xn = (Xt * Xt).sum(axis=1)
    CF, L, w, lim = P_.clip_fine, P_.sigmoid_input_limit, P_.weight_bits, P_.weight_limit
    a, sh = P_.update_multiplier()
    tr = Trace.empty(T, B, d)
    theta = (initial_theta(P_) if theta0 is None else np.asarray(theta0, dtype=np.int64)).copy()
    tr.theta[0] = theta
    for t in range(T):
        G = sem.gap_table.draw(W[t, :B + 1])
        if gaps is not None:
            G = gaps(t, G.copy())
        index = np.cumsum(G + 1) - 1
        if abort and index[B] < N:
            raise AssertionError(f"step {t} overflows")
        live = index[:B] < N
        rows = index[:B][live]
        x, yl, nx = Xt[rows], y[rows], xn[rows]
        dot = x @ theta
        zin = np.clip(_rhu(dot, sem.sig_shift), -L, L - 1)
        prob = sem.sigmoid[zin + L]
        e = prob - yl * (1 << w)
        nrm = e * e * nx
        root = np.array([_ceil_sqrt(int(v)) for v in nrm], dtype=np.int64)
        den = np.maximum(root, CF)
        A = (np.abs(e) * CF) // den
        if clip is not None:
            A = clip(t, A.copy(), e, den)
        et = np.sign(e) * A
        shi = et @ x
        if extra is not None:
            shi = shi + extra(t)
        S = _rhu(shi, sem.grid_shift)
        z = sem.noise_table.draw(W[t, B + 1:])
        if noise is not None:
            z = noise(t, z.copy())
        step = a * (S + z)
        theta = theta - (_rhu(step, sh) if sh > 0 else step << -sh)
        if clamp is None or clamp(t):
            theta = np.clip(theta, -lim, lim)
        if jump is not None:
            theta = jump(t, theta.copy())
        tr.words[t], tr.gaps[t], tr.index[t], tr.live[t] = W[t], G, index, live
        tr.grad_sum[t], tr.rounded_sum[t], tr.noise[t], tr.theta[t + 1] = shi, S, z, theta
        tr.clipped[t, live], tr.den[t, live], tr.err[t, live] = et, den, e
    return tr


def _ceil_sqrt(n: int) -> int:
    import math

    r = math.isqrt(n)
    return r if r * r == n else r + 1


def _shape(plan):
    return 1 << plan.a, 1 << plan.b, 1 << plan.c


def _refresh(plan, cols, *, keep_next: bool = False) -> None:
    """Recompute the virtual tables (i, ilast, dot, xn, shi, next) from the committed ones."""
    A, Bp, Kp = _shape(plan)
    i = np.cumsum(cols["kg"].reshape(A, Bp), axis=1) - 1
    cols["i"], cols["ilast"] = i.reshape(-1), i[:, plan.B - 1].copy()
    X, th = cols["X"].reshape(A, Bp, Kp), cols["theta"].reshape(A, Kp)
    cols["dot"] = np.einsum("tjk,tk->tj", X, th).reshape(-1)
    cols["xn"] = (X * X).sum(axis=2).reshape(-1)
    cols["shi"] = np.einsum("tj,tjk->tk", cols["et"].reshape(A, Bp), X).reshape(-1)
    if not keep_next:
        nxt = np.zeros_like(th)
        nxt[:-1] = th[1:]
        cols["next"] = nxt.reshape(-1)


def _recompute_coord(plan, cols) -> None:
    """The coord columns (S, rS, q, ru, bth, btl) from shi, kn and theta, as the prover would."""
    A, _, Kp = _shape(plan)
    sel = wt.sel_mask(plan.domains["coord"]).reshape(A, Kp)
    shi, g = cols["shi"].reshape(A, Kp), plan.grid_shift
    S = _rhu(shi, g) * sel
    cols["S"], cols["rS"] = S.reshape(-1), ((shi + ((1 << (g - 1)) if g else 0) - (S << g)) * sel).reshape(-1)
    z = (cols["kn"].reshape(A, Kp) - 1 - plan.noise_offset) * sel
    step = plan.a_mul * (S + z)
    if plan.ush > 0:
        q = _rhu(step, plan.ush)
        ru = step + (1 << (plan.ush - 1)) - (q << plan.ush)
    else:
        q, ru = step << -plan.ush, np.zeros_like(step)
    cols["q"], cols["ru"] = (q * sel).reshape(-1), (ru * sel).reshape(-1)
    pre = cols["theta"].reshape(A, Kp) - q * sel
    cols["bth"] = ((pre > plan.lim) & (sel == 1)).astype(np.int64).reshape(-1)
    cols["btl"] = ((pre < -plan.lim) & (sel == 1)).astype(np.int64).reshape(-1)


def _fill_limbs_mod_p(plan, cols) -> None:
    """Limbs of (expr mod p) mod 2^bits on the real rows: a wrapped value in range passes."""
    for dom in plan.domains.values():
        sel = wt.sel_mask(dom)
        for r in (r for r in plan.ranges if r.domain == dom.name):
            v = np.where(sel == 1, _exact(r.expr, cols, sel.shape[0]) % P, 0) % (1 << r.bits)
            shift = 0
            for limb, w in zip(r.limbs, r.widths):
                cols[limb] = ((v >> shift) & ((1 << w) - 1)).astype(np.int64)
                shift += w


def _exact(expr, cols, size: int) -> np.ndarray:
    """The expression's integer values as Python integers (evaluate_int may return int64)."""
    return np.asarray(expr.evaluate_int(cols, size)).astype(object)


def _signed(v: int) -> int:
    v = int(v) % P
    return v - P if v > P // 2 else v


def _multiplicities(lookup_cols, numerators, table_cols, table_rows):
    """m_j = the signed sum of the numerators of the looked-up rows equal to table row j
    (a row no table row holds is left out: its numerators must cancel elsewhere)."""
    rows = {tuple(int(c[j]) for c in table_cols): j for j in range(table_rows)}
    m = [0] * table_cols[0].shape[0]
    for i in np.flatnonzero(np.asarray(numerators) != 0):
        j = rows.get(tuple(int(c[i]) for c in lookup_cols))
        if j is not None:
            m[j] += _signed(numerators[i])
    return np.array([v % P for v in m], dtype=np.uint64)


def _violations(plan, cols, c: Case) -> set[str]:
    """Every gate (mod p, real rows), public lookup (every row) and fetch balance the witness breaks."""
    out = set()
    for dom in plan.domains.values():
        sel = wt.sel_mask(dom)
        for name, g in dom.gates:
            v = _exact(g, cols, sel.shape[0]) % P
            if np.any((v != 0) & (sel == 1)):
                out.add(f"{dom.name}: {name}")
        for name, g in dom.all_rows:
            if np.any(_exact(g, dict(cols, sel=sel), sel.shape[0]) % P != 0):
                out.add(f"{dom.name}: {name}")
    for dom_name, tb, columns in plan.lookup_list:
        vals = [(cols[n].astype(object) + k) % P for n, k in columns]
        if tb.startswith("range"):
            bad = np.any(vals[0] >= (1 << int(tb[5:])))
        else:
            table = [v % P for v in plan.tables[tb].values]
            bad = any(i >= len(table) or table[i] != v for i, v in zip(vals[0], vals[1]))
        if bad:
            out.add(f"lookup {dom_name}: {tb} {columns}")
    # the fetch: signed numerators per looked-up tuple must sum to a real record's count
    A, Bp, Kp = 1 << plan.a, 1 << plan.b, 1 << plan.xk
    Xa = augmented(c.X, plan.f)
    Xf = cols["X"].reshape(A * Bp, Kp)
    total: dict = {}
    for r in np.flatnonzero(cols["live"] != 0):
        key = (int(cols["i"][r]) % P, tuple(int(v) % P for v in Xf[r]), int(cols["y"][r]) % P)
        total[key] = total.get(key, 0) + _signed(cols["live"][r])
    for (i, x, yy), n in total.items():
        real = i < c.N and x == tuple(int(v) % P for v in Xa[i]) + (0,) * (Kp - plan.dx) and yy == int(c.y[i])
        if n != 0 and not real:
            out.add("fetch: a looked-up row is not its record")
    return out


def _prove(c: Case, trace: Trace, *, X=None, y=None, tamper=None, mask_words=None, tape_words=None,
           tape_commitment_of=None, seen=None) -> bytes:
    """The malicious prover: the honest protocol on the forged trace and tamper(plan, cols)."""
    from zkaudit.data.dataset import load_dataset
    from zkaudit.hash import commitment as hc
    from zkaudit.statements.training.protocol import theta_layouts
    from zkaudit.statements.training.run_proof import statement
    from zkaudit.train import tape
    from zkaudit.train.tape import TapeShape

    run, policy = c.run, c.policy
    record, _, opening = load_dataset(Path(run.dataset_dir()), with_opening=True)
    t = run.tape()
    shape = TapeShape.of(policy)
    coin = randomness.verify_coin(run.auditor_public_key, run.run_id, bytes.fromhex(c.coin["signature"]))
    mask = randomness.mask(coin, run.tape_commitment, policy.digest, shape.num_words) \
        if mask_words is None else mask_words
    words = t.words if tape_words is None else tape_words
    tc, tdata = tape.commit(words if tape_commitment_of is None else tape_commitment_of, t.salt, shape)
    c_theta, salt = hc.commit_weights(theta_layouts(policy), [trace.theta[-1]], hc.fresh_salt())
    st = statement(run, c.coin, record.doc, c_theta.to_bytes(), 0)
    inp = prover.Inputs(policy=policy, sem=c.sem, statement=st, dataset=record, dataset_use=0,
                        dataset_opening=opening,
                        tape_words=words, tape_seed=t.salt, tape_commitment=tc, tape_data=tdata, mask_words=mask,
                        trace=trace, X=c.X if X is None else X, y=c.y if y is None else y,
                        theta_commitment=c_theta.to_bytes(), theta_salt=salt, theta0=trace.theta[0])
    inp.tape_tables = shape.split(words)
    build = wt.build

    def evil_build(plan, *args, **kwargs):
        cols = build(plan, *args, **kwargs)
        if tamper is not None:
            tamper(plan, cols)
        _fill_limbs_mod_p(plan, cols)
        if seen is not None:
            seen.update(_violations(plan, cols, c))
        return cols

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wt, "build", evil_build)
        mp.setattr(wt, "fill_ranges", lambda plan, cols: None)
        mp.setattr(wt, "check_gates", lambda plan, cols: None)
        mp.setattr(committed_table_prover, "table_multiplicities", _multiplicities)
        return prover.prove(inp)


def _rejected(c: Case, proof: bytes) -> ProofRejected:
    with pytest.raises(ProofRejected) as info:
        verify_training(proof, run_record=c.run.record, policy_doc=c.policy.doc, coin_doc=c.coin)
    return info.value


def _attack(c: Case, trace: Trace, want: set[str], allowed: set[str] = frozenset(), *, any_of: bool = False,
            **kw) -> str:
    """Prove the forgery, check it breaks `want` (and at most `allowed` besides; with
    any_of, at least one of `allowed`), and return where the verifier rejects it."""
    seen: set[str] = set()
    proof = _prove(c, trace, seen=seen, **kw)
    assert want <= seen <= want | allowed, f"the forgery breaks {sorted(seen)}, the attack targets {sorted(want)}"
    assert not any_of or seen & allowed, f"the forgery breaks none of {sorted(allowed)}"
    where = _rejected(c, proof).where
    print(f"rejected at {where!r}")
    return where


def _live_slot(trace: Trace, nth: int = 0) -> tuple[int, int]:
    ts, js = np.nonzero(trace.live)
    return int(ts[nth]), int(js[nth])


# --- sanity: the adversary's trainer and prover are the honest ones without hooks -----------
def test_evil_trainer_without_hooks_is_the_reference_trainer(case):
    from zkaudit.train.run import load_trace

    honest = load_trace(case.run.path / "private" / "trace.npz")
    evil = _evil_train(case)
    for f in ("gaps", "index", "live", "noise", "theta", "rounded_sum", "grad_sum"):
        assert np.array_equal(getattr(evil, f), getattr(honest, f)), f


@pytest.mark.heavy
def test_honest_witness_breaks_nothing_and_verifies(case, odd_case):
    for c in (case, odd_case):
        seen: set[str] = set()
        proof = _prove(c, _evil_train(c), seen=seen)
        assert seen == set()
        v = verify_training(proof, run_record=c.run.record, policy_doc=c.policy.doc, coin_doc=c.coin)
        assert v.soundness_bits >= 100


@pytest.mark.heavy
def test_odd_policy_clamps_honestly(odd_case):
    """weight_overflow below needs a step where the honest update clamps."""
    tr = _evil_train(odd_case)
    assert np.any(np.abs(tr.theta[1:]) == odd_case.policy.weight_limit)


# --- randomness and noise (§3.9 items 1, 2, 5-8) ------------------------------------
def test_zero_noise(case):
    """z_t = 0 for every coordinate of step 0: the CDT interval check on u fails."""
    tr = _evil_train(case, noise=lambda t, z: z * 0 if t == 0 else z)
    assert np.any(_evil_train(case).noise[0] != 0)
    _attack(case, tr, set(), {"coord: range un.below", "coord: range un.above"}, any_of=True)


@pytest.mark.heavy
def test_noise_off_by_one(case):
    """Coordinate 3 of step 2 draws the next bucket (one grid unit more noise)."""
    def bump(t, z):
        if t == 2:
            z[3] += 1
        return z

    # the bucket-width ranges (not 63 bits) can catch the word below the next bucket too
    _attack(case, _evil_train(case, noise=bump), {"coord: range un.above"}, {"coord: range un.below"})


@pytest.mark.heavy
def test_carry_forgery(case):
    """c flipped on one gap word: u = R + m - c' 2^63 leaves [0, 2^63) (as a field element)."""
    def flip(plan, cols):
        A, Bp, _ = _shape(plan)
        r = 1 * Bp + 5  # step 1, slot 5
        cols["cg"][r] = 1 - cols["cg"][r]
        u = (int(cols["R:gap"][r]) + int(cols["m:gap"][r]) - (int(cols["cg"][r]) << 63)) % P
        cols["ug"][r] = u if u < 1 << 63 else u - P

    _attack(case, _evil_train(case), {"slot: range ug"}, {"slot: range ug.below", "slot: range ug.above"},
            tamper=flip)


@pytest.mark.heavy
def test_wrong_mask(case):
    """The prover trains with another mask m' (u' = R + m'): the verifier's own m disagrees."""
    from zkaudit.train.tape import TapeShape

    coin = randomness.verify_coin(case.run.auditor_public_key, case.run.run_id,
                                  bytes.fromhex(case.coin["signature"]))
    other = randomness.mask(coin, case.run.tape_commitment, b"\x00" * 32, TapeShape.of(case.policy).num_words)
    words = (case.run.tape().words.astype(np.uint64) + other) & np.uint64((1 << 63) - 1)
    evil = Case(case.run, case.coin, words)
    where = _attack(evil, _evil_train(evil), set(), mask_words=other)
    assert where.startswith("training.zero-check")


@pytest.mark.heavy
def test_tape_changed_commitment(case):
    """Another tape R' (u' = R' + m) with its own commitment: not the run's c_R."""
    other = randomness.Tape.generate(case.policy.tape_words, np.random.default_rng(99)).words
    words = (other.astype(np.uint64) + _mask(case)) & np.uint64((1 << 63) - 1)
    evil = Case(case.run, case.coin, words)
    assert _attack(evil, _evil_train(evil), set(), tape_words=other, tape_commitment_of=other) == "training.tape"


@pytest.mark.heavy
def test_tape_changed_opening(case):
    """Another tape R' in the proof's columns under the run's c_R: the tape opening fails."""
    other = randomness.Tape.generate(case.policy.tape_words, np.random.default_rng(98)).words
    words = (other.astype(np.uint64) + _mask(case)) & np.uint64((1 << 63) - 1)
    evil = Case(case.run, case.coin, words)
    _attack(evil, _evil_train(evil), set(), tape_words=other, tape_commitment_of=case.run.tape().words)


def _mask(c: Case) -> np.ndarray:
    from zkaudit.train.tape import TapeShape

    coin = randomness.verify_coin(c.run.auditor_public_key, c.run.run_id, bytes.fromhex(c.coin["signature"]))
    return randomness.mask(coin, c.run.tape_commitment, c.policy.digest, TapeShape.of(c.policy).num_words)


@pytest.mark.heavy
def test_coin_of_another_run(case, odd_case):
    """An honest proof checked against another run's coin, run record or policy."""
    proof = _prove(case, _evil_train(case))
    with pytest.raises(StatementMismatch):
        verify_training(proof, coin_doc=odd_case.coin)
    with pytest.raises(StatementMismatch):
        verify_training(proof, run_record=odd_case.run.record)
    for other in (policy_doc(steps=STEPS - 1), policy_doc(steps=STEPS, learning_rate="0.25"),
                  policy_doc(steps=STEPS, noise_multiplier="0.5")):  # fewer_steps, different_lr, scaled_noise
        with pytest.raises(StatementMismatch):
            verify_training(proof, policy_doc=other)


# --- sampling (§3.9 items 9-11) ---------------------------------------------------------
@pytest.mark.heavy
def test_skip_record(case):
    """Slot 3 of step 1 claims a gap one larger than its word draws (record i_3 skipped)."""
    def skip(t, G):
        if t == 1:
            G[3] += 1
        return G

    _attack(case, _evil_train(case, gaps=skip), {"slot: range ug.above"})


@pytest.mark.heavy
def test_silent_truncation(overflow_case):
    """An overflowing step proven with its first B_max slots: i_B < N."""
    _attack(overflow_case, _evil_train(overflow_case, abort=False), {"step: range complete"})


def _forged_record(c: Case, trace: Trace):
    """A record fetched by live slots, and its features and label changed."""
    t, j = _live_slot(trace)
    i0 = int(trace.index[t, j])
    X = c.X.copy()
    X[i0] = X[(i0 + 1) % c.N] + 3
    y = np.asarray(c.y).copy()
    y[i0] = 1 - y[i0]
    return i0, X, y


@pytest.mark.heavy
def test_wrong_row(case):
    """Live slots fetch features and label other than record i's: the fetch LogUp fails."""
    tr = _evil_train(case)
    i0, X, y = _forged_record(case, tr)
    evil = _evil_train(case, X=X, y=y)
    assert not np.array_equal(evil.theta[-1], tr.theta[-1])
    _attack(case, evil, {"fetch: a looked-up row is not its record"}, X=X, y=y)


def _cancel_on_padding_row(i0: int, X, y, uses: int):
    """Row (T, 0) -- a padding step, outside every gate -- looks up the forged
    tuple (i0, x~', y') with numerator -uses: the live slots' forged lookups cancel."""
    def tamper(plan, cols):
        A, Bp, Kp = _shape(plan)
        r = plan.T * Bp
        gapv = plan.tables["gap"].values
        cols["kg"][r] = i0 + 1
        cols["hg"][r], cols["lg"][r] = gapv[i0 + 1], gapv[i0]
        cols["live"][r] = -uses
        cols["X"].reshape(A * Bp, Kp)[r, :plan.d] = augmented(X, plan.f)[i0]
        cols["y"][r] = y[i0]
        _refresh(plan, cols)

    return tamper


def test_wrong_row_cancelled_by_a_padding_row_numerator(case):
    tr = _evil_train(case)
    i0, X, y = _forged_record(case, tr)
    evil = _evil_train(case, X=X, y=y)
    uses = int(np.sum(evil.live & (evil.index[:, :-1] == i0)))
    assert uses >= 1 and not np.array_equal(evil.theta[-1], tr.theta[-1])
    seen: set[str] = set()
    proof = _prove(case, evil, X=X, y=y, tamper=_cancel_on_padding_row(i0, X, y, uses), seen=seen)
    # only the all-row gates on `live` see it (the review's fix): no gate on the real rows does
    assert seen and seen <= {"slot: live bit", "slot: live off the real rows"}, seen
    _rejected(case, proof)


# --- gradients and clipping (§3.9 items 12-15, dead and padding slots) -------------------
def _clip_hook(t0, j0, fn):
    def hook(t, A, e, den):
        if t == t0:
            A[j0] = fn(int(A[j0]), int(e[j0]), int(den[j0]))
        return A

    return hook


def _slot_tamper(t0, j, fn):
    """Set the clipped magnitude of slot (t0, j) as the hook did and refresh what depends on it."""
    def tamper(plan, cols):
        _, Bp, _ = _shape(plan)
        r = t0 * Bp + j
        A = fn(int(cols["A"][r]), int((1 - 2 * cols["sg"][r]) * cols["eab"][r]), int(cols["den"][r]))
        cols["A"][r] = A
        cols["et"][r] = (1 - 2 * cols["sg"][r]) * A
        cols["rc"][r] = cols["eab"][r] * plan.CF - A * cols["den"][r]
        _refresh(plan, cols)
        _recompute_coord(plan, cols)

    return tamper


def _clipped_slot(c: Case, tr: Trace) -> tuple[int, int, int]:
    """(t, j, position among step t's live slots) of a live slot the honest clip shrinks (den > C_F)."""
    for t in range(c.policy.steps):
        for pos, j in enumerate(np.flatnonzero(tr.live[t])):
            if tr.den[t, j] > c.policy.clip_fine:
                return t, int(j), pos
    pytest.fail("no live slot is clipped")


def _unclipped(A, e, den):
    return abs(e)


def test_unclipped_gradient(case):
    """A live slot's e~ = e (no clipping): the clip division and the invariant fail."""
    t0, j, pos = _clipped_slot(case, _evil_train(case))
    tr = _evil_train(case, clip=_clip_hook(t0, pos, _unclipped))
    _attack(case, tr, {"slot: range invariant"}, {"slot: range clip remainder", "slot: range clip remainder below den"},
            tamper=_slot_tamper(t0, j, _unclipped))


@pytest.mark.heavy
def test_clip_factor_too_small(case):
    """A live slot's |e~| one below floor(|e| C_F / den): the remainder reaches den."""
    t0, j, pos = _clipped_slot(case, _evil_train(case))
    fn = lambda A, e, den: A - 1  # noqa: E731
    _attack(case, _evil_train(case, clip=_clip_hook(t0, pos, fn)), {"slot: range clip remainder below den"},
            tamper=_slot_tamper(t0, j, fn))


@pytest.mark.heavy
def test_zeroed_gradient(case):
    """A live slot's gradient dropped (e~ = 0)."""
    t0, j, pos = _clipped_slot(case, _evil_train(case))
    fn = lambda A, e, den: 0  # noqa: E731
    _attack(case, _evil_train(case, clip=_clip_hook(t0, pos, fn)), set(),
            {"slot: range clip remainder", "slot: range clip remainder below den"}, any_of=True,
            tamper=_slot_tamper(t0, j, fn))


def _slot_values(plan, row: dict) -> dict:
    return {k: np.array([v], dtype=np.int64) for k, v in row.items()}


def _check_row(plan, row: dict) -> set[str]:
    """The slot gates and ranges whose names row covers, on one live row: the failing ones."""
    cols = _slot_values(plan, row)
    out = set()
    for name, g in plan.domains["slot"].gates:
        if name.startswith("range "):
            continue
        if g.names <= set(cols) and int(_exact(g, cols, 1)[0]) % P != 0:
            out.add(name)
    for r in plan.ranges:
        if r.domain == "slot" and r.expr.names <= set(cols):
            v = int(_exact(r.expr, cols, 1)[0]) % P
            if v >= 1 << r.bits:
                out.add(f"range {r.name}")
    return out


@pytest.mark.heavy
def test_zero_gradient_division(case):
    """e = 0 (relation level: the logistic sigmoid table never reaches 0 or 2^w, so
    no record has e = 0): den = C_F exactly, e~ = 0, and nothing divides by zero."""
    plan = case.plan
    CF, xn = plan.CF, int((augmented(case.X, plan.f)[0] ** 2).sum())
    row = dict(live=1, prob=0, y=0, sg=0, eab=0, n2=0, xn=xn, den=CF, bd=1, A=0, rc=0, et=0)
    covered = {n for n, g in plan.domains["slot"].gates if not n.startswith("range ") and g.names <= set(row)}
    covered |= {f"range {r.name}" for r in plan.ranges if r.domain == "slot" and r.expr.names <= set(row)}
    assert {"error sign", "norm", "den floor", "clip", "clipped sign", "range invariant",
            "range den squared covers", "range den minimal", "range clip remainder below den"} <= covered
    assert _check_row(plan, row) == set()
    for den, bd in ((CF + 1, 1), (CF + 1, 0), (CF - 1, 0), (CF - 1, 1)):
        assert _check_row(plan, {**row, "den": den, "bd": bd}), (den, bd)


@pytest.mark.heavy
def test_negative_zero(case):
    """A dead slot's error written as sign 1, magnitude 0 (a 'negative zero')."""
    def neg(plan, cols):
        dead = np.flatnonzero((cols["live"] == 0) & (wt.sel_mask(plan.domains["slot"]) == 1))
        cols["sg"][dead[0]] = 1

    _attack(case, _evil_train(case), {"slot: range canonical zero"}, tamper=neg)


def _extra_contribution(c: Case, t0: int, et: int, rec: int):
    x = augmented(c.X, c.policy.feature_bits)[rec]
    return lambda t: et * x if t == t0 else np.zeros_like(x)


def _slot_contribution(t0: int, j: int, et: int, rec: int, c: Case, *, as_A: bool):
    def tamper(plan, cols):
        A_, Bp, Kp = _shape(plan)
        r = t0 * Bp + j
        cols["X"].reshape(A_ * Bp, Kp)[r, :plan.d] = augmented(c.X, plan.f)[rec]
        cols["et"][r] = et
        if as_A:
            cols["A"][r] = abs(et)
            cols["sg"][r] = int(et < 0)
        _refresh(plan, cols)
        _recompute_coord(plan, cols)

    return tamper


@pytest.mark.heavy
def test_dead_slot_contribution(case):
    """A dead slot (i >= N) contributes e~ x~ of some record: the dead-slot gate fails."""
    tr = _evil_train(case)
    t0 = 1
    j = int(np.flatnonzero(~tr.live[t0])[0])
    et = 3000
    evil = _evil_train(case, extra=_extra_contribution(case, t0, et, 7))
    _attack(case, evil, {"slot: dead slot"}, tamper=_slot_contribution(t0, j, et, 7, case, as_A=True))


@pytest.mark.heavy
def test_padding_slot_contribution(odd_case):
    """Slot j = B_max of step 1 (a padding slot of a real step, outside every gate): an
    unclipped e~ x~ added to the gradient sum. Accepted before d857fff (shi summed every
    slot); now the feature sum-check's [j < B_max] indicator keeps it out."""
    c = odd_case
    assert c.policy.max_batch < 1 << c.plan.b
    et = 1 << 20  # 16 times the largest |e|, never clipped
    evil = _evil_train(c, extra=_extra_contribution(c, 1, et, 7))
    assert not np.array_equal(evil.theta[-1], _evil_train(c).theta[-1])
    seen: set[str] = set()
    proof = _prove(c, evil, tamper=_slot_contribution(1, c.policy.max_batch, et, 7, c, as_A=False), seen=seen)
    assert seen == set()
    assert _rejected(c, proof).where == "training.features"


# --- state (§3.9 items 16-18) ---------------------------------------------------------------
@pytest.mark.heavy
def test_undeclared_theta0(case):
    """theta_0 other than the policy's (zeros): the initial-state claim fails."""
    th0 = initial_theta(case.policy).copy()
    th0[0] += 5000
    where = _attack(case, _evil_train(case, theta0=th0), set())
    assert where


def test_state_jump(case):
    """theta(3) = next(2) + 777 in coordinate 4, with next(2) the honest update: the shift check fails."""
    def jump(t, theta):
        if t == 2:
            theta[4] += 777
        return theta

    tr = _evil_train(case, jump=jump)

    def keep_update(plan, cols):
        _, _, Kp = _shape(plan)
        cols["next"][2 * Kp + 4] -= 777

    assert _attack(case, tr, set(), tamper=keep_update) == "training.shift"


@pytest.mark.heavy
def test_weight_overflow(odd_case):
    """Step 1's update is not clamped: theta leaves [-L, L]."""
    c = odd_case
    honest = _evil_train(c)
    t0 = next(t for t in range(STEPS) if np.any(np.abs(honest.theta[t + 1]) == c.policy.weight_limit))
    evil = _evil_train(c, clamp=lambda t: t != t0)
    assert np.any(np.abs(evil.theta[t0 + 1]) > c.policy.weight_limit)

    def no_clamp(plan, cols):
        _, _, Kp = _shape(plan)
        cols["bth"][t0 * Kp:(t0 + 1) * Kp] = 0
        cols["btl"][t0 * Kp:(t0 + 1) * Kp] = 0

    _attack(c, evil, _weight_sides(c, evil, t0), tamper=no_clamp)


def _weight_sides(c, tr, t0):
    lim = c.policy.weight_limit
    out = set()
    if np.any(tr.theta[t0 + 1] > lim):
        out.add("coord: range weight high")
    if np.any(tr.theta[t0 + 1] < -lim):
        out.add("coord: range weight low")
    return out


# --- range checks that can wrap (relation level) -----------------------------------------------
@pytest.mark.parametrize("table,u_name", [("noise", "un"), ("gap", "ug")])
def test_cdt_interval_does_not_wrap(case, table, u_name):
    plan = case.plan
    values = [int(v) for v in plan.tables[table].values]
    below = next(r for r in plan.ranges if r.name == f"{u_name}.below")
    above = next(r for r in plan.ranges if r.name == f"{u_name}.above")
    cheats = []
    for u in (0, 5, (1 << 63) - 1, (1 << 63) - 7):
        honest = next(k for k in range(1, len(values)) if values[k - 1] < u <= values[k])
        for k in range(1, len(values)):
            if k != honest and (values[k] - u) % P < 1 << below.bits \
                    and (u - values[k - 1] - 1) % P < 1 << above.bits:
                cheats.append((u, honest, k))
    assert not cheats, f"{len(cheats)} wrong buckets pass, e.g. {cheats[:3]}"
