"""The training proof is zero-knowledge: tested, not claimed.

What a training proof reveals of its witness through its protocols is every
field element it absorbs into the transcript after the statement (round
messages, padded final values, padded sent values, LogUp values: Fiat-Shamir
binds each before it is used); the hiding commitments' own openings are
tested in tests/pcs/test_hiding.py. The instruments here record those
values by replacing the prover's `Transcript` and, where a test needs it,
fix the prover's banks by replacing `zkaudit.sumcheck.zk.ZkProver` (the
training prover looks it up at run time), as tests/statements/zk_harness.py
does for inference and link proofs.

1. An attacker who knows the proof's points (public: the verifier derives
   the same ones from the transcript) and the true witness looks for any
   revealed value equal to the MLE of a witness column (the noise draws kn,
   the clipped magnitudes A and et, theta, X, the tape R, ...) at one of
   them -- in the transcript, in the proof's bytes at any offset, and in
   the values the three openings' claims state. With all banks zero (the
   unmasked build) it finds many; on the real build, none. Every opened
   claim on private data carries a pad (theta_0, public, is the exception).
2. With the challenges and c_theta's salt fixed (each run then a function
   of witness and bank): two runs of witness 1 under two banks and one run
   of witness 2 (another trained run, same policy and dataset) under the
   first bank. A revealed value the bank does not move but the witness
   does is a leak; there is none but the three public mask final values
   (another run, another coin), and with zero banks the witnesses'
   footprints show. 2b (slow) is the exact span check: the difference of
   the two witnesses' runs lies in the span of the prover's randomness
   plus the two statements' public differences.
3. Two real proofs of one run repeat no revealed value except public
   constants; the reused-pad attack shows why a run has one proof (the
   prover refuses a second).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import zk_harness  # noqa: E402
from test_training_proof import make_run  # noqa: E402

import zkaudit.sumcheck.zk as zk_mod  # noqa: E402
from zkaudit import pcs  # noqa: E402
from zkaudit.field import vec  # noqa: E402
from zkaudit.field.randomness import random_ext  # noqa: E402
from zkaudit.field.hidden import Hidden  # noqa: E402
from zkaudit.field.scalar import Fp, Fp2  # noqa: E402
from zkaudit.poly.mle import evaluate  # noqa: E402
from zkaudit.statements.training import protocol as pr  # noqa: E402
from zkaudit.statements.training import prover  # noqa: E402
from zkaudit.statements.training import witness as wt  # noqa: E402
from zkaudit.statements.training.run_proof import prove_training  # noqa: E402
from zkaudit.statements.training.verifier import verify_training  # noqa: E402
from zkaudit.sumcheck import zk_prover  # noqa: E402
from zkaudit.train.run import load_run, read_coin  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402

BANK_ENTRIES = 1 << 17  # more than any run here consumes (the prover doubles its bank on exhaustion)
SALT = (0x5A17_0001, 0x5A17_0002)  # c_theta's salt in the fixed-challenge runs: the prover's only other randomness


# --- instruments ------------------------------------------------------------------
def _as_ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


class _Recording:
    """Mixin: every field element absorbed, as GF(p^2) values in order."""

    def _init_record(self):
        self.values: list[Fp2] = []
        self.labels: list[bytes] = []  # the label each value was absorbed under (for messages)

    def absorb_ext(self, label, x):
        self.values.append(x)
        self.labels.append(label)
        super().absorb_ext(label, x)

    def absorb_exts(self, label, xs):
        xs = list(xs)
        self.values += [_as_ext(x) for x in xs]
        self.labels += [label] * len(xs)
        super().absorb_exts(label, xs)

    def absorb_base(self, label, x):
        self.values.append(_as_ext(x))
        self.labels.append(label)
        super().absorb_base(label, x)


class Recorder(_Recording, Transcript):
    """The real Fiat-Shamir transcript, recording."""

    def __init__(self):
        super().__init__()
        self._init_record()


class FixedRecorder(_Recording, zk_harness.FixedChallenges):
    """Challenges from a counter (independent of what is absorbed), recording."""

    def __init__(self):
        super().__init__()
        self._init_record()


class _Stop(Exception):
    pass


class Run:
    """One instrumented run of `prove_training`: the revealed values, the
    points of every claim and sum-check, the witness columns, the session."""

    def __init__(self):
        self.points: list[tuple] = []
        self.cols: dict = {}
        self.inp = None
        self.zk = None
        self.t = None
        self.run = None  # the prover's _Run: its advice tables
        self.openings: list[list] = []  # the claims of each opening: advice, tape, dataset
        self.draws: list[tuple] = []  # (bank, first entry, count, revealed values so far) per draw
        # (table, position of the claimed sum, sum of rho_i v_i over its public claims) per combining sum-check
        self.combines: list[tuple[str, int, Fp2]] = []
        self.proof: bytes | None = None


def prove_instrumented(run_dir: Path, monkeypatch, *, banks: dict | None = None, zero: bool = False,
                       fixed: bool = False, stop: bool = True) -> Run:
    """`banks`: name -> (entries, 2) words that replace the session's banks (a
    prefix of each, as long as the session asks for); `zero`: every bank
    all zeros (no Libra masks, no pads: the unmasked build); `fixed`:
    challenges that do not depend on the transcript, and c_theta's salt fixed
    (`hc.fresh_salt`: the link proof's values depend on it; with it fixed a
    run is a function of witness and bank alone); `stop`: record the
    three openings' claims without opening, then end (everything the
    protocols reveal is absorbed by then)."""
    out = Run()
    pending = []  # combining sum-checks announced by to_combine, not yet run

    class Bank(zk_mod.ZkProver):
        def __init__(self, sizes, values=None):
            super().__init__(sizes, values)
            for name, size in sizes.items():
                if zero:
                    self.values[name] = np.zeros((size, 2), dtype=np.uint64)
                elif banks is not None:
                    self.values[name] = np.ascontiguousarray(banks[name][:size])
            out.zk, out.points, out.draws, out.combines = self, [], [], []  # a retry starts over
            pending.clear()

        def draw(self, count, bank=zk_mod.ADVICE):
            keys, vals = super().draw(count, bank)
            out.draws.append((bank, keys[0][1] if keys else -1, count, len(out.t.values) if out.t is not None else 0))
            return keys, vals

    def transcript():
        out.t = FixedRecorder() if fixed else Recorder()
        return out.t

    real_build, real_prove, real_check = wt.build, prover.prove, wt.check_gates
    real_add, real_stacked, real_column = pr.ClaimBook.add, pr.ClaimBook.add_stacked, prover._Run._column_claim
    real_sc = zk_prover.prove
    real_run, real_open = prover._Run.prove, pcs.open

    def run_prove(self, bank_size):
        out.run, out.openings = self, []
        return real_run(self, bank_size)

    def open_(data, claims, transcript):
        out.openings.append(list(claims))
        if not stop:
            return real_open(data, claims, transcript)
        if len(out.openings) == 3:
            raise _Stop
        return None  # never used: the run ends at the third opening

    def build(*args, **kwargs):
        out.cols = real_build(*args, **kwargs)
        return out.cols

    def check_gates(plan, cols):
        real_check(plan, cols)
        out.cols = cols.copy()  # limbs included; the prover then consumes its dict (peak memory)

    def prove(inp):
        out.inp = inp
        return real_prove(inp)

    def add(self, name, point, value):
        out.points.append(tuple(point))
        return real_add(self, name, point, value)

    def add_stacked(self, dom, s, values, transcript):
        out.points.append(tuple(s))
        return real_stacked(self, dom, s, values, transcript)

    def column_claim(self, dom, c, point, value):
        out.points.append(tuple(point))
        return real_column(self, dom, c, point, value)

    real_combine = pr.ClaimBook.to_combine

    def to_combine(self, transcript):
        res = real_combine(self, transcript)
        for name, claims, rhos, _ in res:
            public = Fp2(0)
            for rho, c in zip(rhos, claims):
                if not isinstance(c.value, Hidden):
                    public = public + rho * _as_ext(c.value)
            pending.append((name, public))
        return res

    def sumcheck(*args, **kwargs):
        if pending:  # the combining sum-checks run in to_combine's order, right after it
            name, public = pending.pop(0)
            out.combines.append((name, len(out.t.values), public))
        res = real_sc(*args, **kwargs)
        out.points.append(tuple(res[1].point))
        return res

    with monkeypatch.context() as m:
        m.setattr(zk_mod, "ZkProver", Bank)
        m.setattr(prover, "Transcript", transcript)
        m.setattr(wt, "build", build)
        m.setattr(wt, "check_gates", check_gates)
        m.setattr(prover, "prove", prove)
        m.setattr(pr.ClaimBook, "add", add)
        m.setattr(pr.ClaimBook, "add_stacked", add_stacked)
        m.setattr(prover._Run, "_column_claim", column_claim)
        m.setattr(zk_prover, "prove", sumcheck)
        m.setattr(pr.ClaimBook, "to_combine", to_combine)
        m.setattr(prover._Run, "prove", run_prove)
        m.setattr(pcs, "open", open_)
        if fixed:
            from zkaudit.hash import commitment as hc

            m.setattr(hc, "fresh_salt", lambda: SALT)
        run = load_run(run_dir / "RUN")
        from test_training_proof import forget_proofs

        forget_proofs(run_dir)  # this file proves one run many times on purpose
        try:
            out.proof = prove_training(run, read_coin(run_dir / "RUN" / "coin.json"))
        except _Stop:
            pass
    return out


def random_banks() -> dict:
    return {name: random_ext(BANK_ENTRIES) for name in (zk_mod.ADVICE, pr.TAPE_BANK, pr.DATASET_BANK)}


def witness_tables(r: Run) -> dict[str, np.ndarray]:
    """Every private column of the run as a field table: the witness columns
    (domain columns, virtual ones, X, thetaT) and the three tape tables. The
    plan's public columns (the coin's mask m:*, eq, sel: the verifier
    evaluates them itself) are left out."""
    plan = prover.Plan(r.inp.policy, r.inp.dataset.num_rows, r.inp.sem)
    public = {c for dom in plan.domains.values() for c in dom.public}
    out = {}
    for name, col in r.cols.items():
        a = np.ascontiguousarray(col, dtype=np.int64)
        n = a.shape[0]
        if name in public or n < 2 or n & (n - 1) or np.all(a == a[0]):  # constant: public too
            continue
        out[name] = vec.from_int64(a)
    for name, table in zip(("tape:gap", "tape:last", "tape:noise"), r.inp.tape_tables):
        out[name] = np.ascontiguousarray(table, dtype=np.uint64)
    return out


def mle_hits(r: Run) -> list[tuple[str, int]]:
    """(column, point index) for every revealed value equal to a witness
    column's MLE at one of the proof's points. 0 and 1 are left out: the
    zero-checks' claimed sums are public zeros, public tables' final values
    can be 1, and a column's MLE at a point whose step bits name a padding
    row is that row's public constant (kn = 1 there, a CDT draw of index 0)."""
    revealed = {(v.c0, v.c1) for v in r.values} - {(0, 0), (1, 0)}
    tables = witness_tables(r)
    by_vars: dict[int, list[str]] = {}
    for name, t in tables.items():
        by_vars.setdefault(t.shape[0].bit_length() - 1, []).append(name)
    hits = []
    for i, point in enumerate(dict.fromkeys(r.points)):
        public = None
        for name in by_vars.get(len(point), []):
            v = _as_ext(evaluate(tables[name], list(point)))
            if (v.c0, v.c1) in revealed:
                public = public_at(r, point) if public is None else public
                if v not in public:
                    hits.append((name, i))
    return hits


def public_at(r: Run, point) -> set[Fp2]:
    """What the verifier computes itself at `point`: each domain's selector
    and the public columns' MLEs. A zero-check sends these final values in
    the clear. A private column can share them by chance: at a point whose
    coordinates are 0/1 but for three (a block of eight rows), a 0/1 column
    (the carry cn, the rounding bit ru) whose eight entries there equal a
    public column's (cn = [1, 1, 1, 1, 1, 1, 0, 0], the selector's live
    rows) has the same MLE: one MLP run in ten, measured. The value
    is public either way: a verifier learns nothing from seeing it."""
    plan = r.run.plan
    out = {_as_ext(pr.selector(dom.sel, point)) for dom in plan.domains.values() if dom.num_vars == len(point)}
    for c in {c for dom in plan.domains.values() for c in dom.public if c in r.cols}:
        table = np.ascontiguousarray(r.cols[c], dtype=np.int64).ravel()
        if table.shape[0] == 1 << len(point):
            out.add(_as_ext(evaluate(vec.from_int64(table), list(point))))
    return out


def opened_tables(r: Run) -> list[tuple[list[str], list[np.ndarray]]]:
    """(names, tables) of the three openings, in the prover's order (the bank last)."""
    run = r.run
    return [(list(run.names), [run.tables[n] for n in run.names]),
            (["tape:gap", "tape:last", "tape:noise"], list(r.inp.tape_tables)),
            ([f"dataset:{i}" for i in range(r.inp.dataset_opening.polys.shape[0])],
             list(r.inp.dataset_opening.polys))]


def theta0_claim(r: Run, claim) -> bool:
    """The one claim with public value: theta(0, r) = theta_0~(r) on the coord table."""
    plan, run = r.run.plan, r.run
    if len(claim.evals) != 1 or claim.entries or claim.block is not None:
        return False
    t, z, _ = claim.evals[0]
    table, head = pr.ClaimBook(plan)._route("coord.theta", pr.bits_of(0, plan.a))  # theta's stack, then t = 0
    return run.names[t] == table and list(z[:len(head)]) == list(head)


def opened_hits(r: Run) -> list[tuple[str, str]]:
    """(opening, table) for every opened claim whose revealed value is the
    private table's evaluation at the claim's point (times its coefficient):
    what an opening of an unpadded claim gives away."""
    hits = []
    for which, claims, (names, tables) in zip(("advice", "tape", "dataset"), r.openings, opened_tables(r)):
        for cl in claims:
            if len(cl.evals) != 1 or theta0_claim(r, cl):
                continue
            t, z, coeff = cl.evals[0]
            if t < len(tables) and coeff * _as_ext(evaluate(tables[t], list(z))) == cl.value:
                hits.append((which, names[t]))
    return hits


def private_evaluations(r: Run) -> set[Fp2]:
    """Every private evaluation the proof's points could give away: each
    private column's MLE at each recorded point of its size, and each opened
    claim's table at the claim's point (0 and 1 left out, as in `mle_hits`;
    so is a column's MLE that equals a public value at the same point, the
    chance coincidence `public_at` describes: one MLP run in about sixty put
    the carry cn's MLE, equal to the selector's there, into the bytes)."""
    out = set()
    tables = witness_tables(r)
    for point in dict.fromkeys(r.points):
        public = None
        for t in tables.values():
            if t.shape[0] == 1 << len(point):
                v = _as_ext(evaluate(t, list(point)))
                public = public_at(r, point) if public is None else public
                if v not in public:
                    out.add(v)
    for claims, (names, tabs) in zip(r.openings, opened_tables(r)):
        for cl in claims:
            for t, z, _ in cl.evals:
                if t < len(tabs) and not theta0_claim(r, cl):
                    out.add(_as_ext(evaluate(tabs[t], list(z))))
    return out - {Fp2(0), Fp2(1)}


def byte_hits(r: Run, blob: bytes) -> list[Fp2]:
    """The private evaluations whose 16-byte encoding occurs anywhere in
    `blob` (any offset): catches a value a proof carries without absorbing it."""
    windows = {blob[i:i + 16] for i in range(len(blob) - 15)}
    return [v for v in private_evaluations(r) if v.to_bytes() in windows]


# --- fixtures ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("train-zk"))


@pytest.fixture(scope="module")
def other_run_dir(tmp_path_factory):
    """Another run of the same policy on the same data: another tape, coin,
    batches and noise; the same shapes (so the same protocol run)."""
    return make_run(tmp_path_factory.mktemp("train-zk-other"))


# --- 1. the MLE attack ----------------------------------------------------------
def test_unmasked_build_reveals_witness_evaluations(run_dir, monkeypatch):
    """The detector works: with every bank zero, revealed values are the
    witness columns' MLEs at the proof's points -- the noise draws, the
    gradient magnitudes, theta, the fetched features, the tape."""
    r = prove_instrumented(run_dir, monkeypatch, zero=True)
    r.values = r.t.values
    hit = {name for name, _ in mle_hits(r)}
    for name in ("kn", "A", "et", "theta", "X", "thetaT", "tape:noise", "tape:gap"):
        assert name in hit, f"the unmasked build does not reveal {name}: the detector would prove nothing ({hit})"
    assert byte_hits(r, pr.pack(r.run.stream)), "the unmasked protocol bytes carry no private evaluation"
    opened = set(opened_hits(r))  # and its openings state private evaluations
    assert {("advice", "coord#0"), ("advice", "slot#0"), ("advice", "X"), ("tape", "tape:noise")} <= opened, opened
    assert any(w == "dataset" for w, _ in opened), opened


def test_masked_proof_reveals_no_witness_evaluation(run_dir, monkeypatch):
    """The real build: a complete proof that verifies, and no revealed value
    is a witness column's MLE at any of the proof's points."""
    r = prove_instrumented(run_dir, monkeypatch, stop=False)
    r.values = r.t.values
    assert r.proof is not None and verify_training(r.proof).run_id == load_run(run_dir / "RUN").run_id
    assert len(r.values) > 1000 and len(set(r.points)) > 20
    hits = mle_hits(r)
    assert not hits, f"revealed values equal witness MLEs: {hits[:20]}"
    assert [len(c) for c in r.openings] and all(r.openings)
    assert not opened_hits(r), f"opened claims state private evaluations: {opened_hits(r)}"
    assert not byte_hits(r, r.proof), "the proof's bytes carry a private evaluation"


def test_every_opened_claim_on_private_data_is_padded(run_dir, monkeypatch):
    """An opening reveals each claim's value exactly (pcs.hiding.LinearClaim):
    a claim on a private table must carry bank entries (its value then
    uniform). The one exception is theta(0, .) = theta_0, public."""
    r = prove_instrumented(run_dir, monkeypatch)
    assert len(r.openings) == 3
    bare = []
    for which, claims, (names, tables) in zip(("advice", "tape", "dataset"), r.openings, opened_tables(r)):
        for cl in claims:
            if not cl.entries and cl.block is None and not theta0_claim(r, cl):
                bare.append((which, [names[t] if t < len(names) else "bank" for t, _, _ in cl.evals]))
    assert not bare, f"claims opened without a pad: {bare}"
    assert sum(theta0_claim(r, cl) for cl in r.openings[0]) == 1


@pytest.fixture(scope="module")
def mlp_run_dir(tmp_path_factory):
    """An MLP 30-4-1 run: the hidden layer's columns, its two sum-checks, the
    four gradient values sent before them and the theta_T wiring."""
    return make_run(tmp_path_factory.mktemp("train-zk-mlp"), model={"family": "mlp", "hidden": [4]},
                    init={"kind": "seeded", "seed": "00"})


def test_mlp_unmasked_build_reveals_the_hidden_layer(mlp_run_dir, monkeypatch):
    r = prove_instrumented(mlp_run_dir, monkeypatch, zero=True)
    r.values = r.t.values
    hit = {name for name, _ in mle_hits(r)}
    for name in ("hid", "dh", "dht", "pre", "theta", "thetaT", "X"):
        assert name in hit, f"the unmasked MLP build does not reveal {name}: the detector would prove nothing ({hit})"


def test_mlp_masked_proof_reveals_no_witness_evaluation(mlp_run_dir, monkeypatch):
    r = prove_instrumented(mlp_run_dir, monkeypatch, stop=False)
    r.values = r.t.values
    assert r.proof is not None and verify_training(r.proof).run_id == load_run(mlp_run_dir / "RUN").run_id
    hits = mle_hits(r)
    assert not hits, f"revealed values equal witness MLEs: {hits[:20]}"
    assert not opened_hits(r), f"opened claims state private evaluations: {opened_hits(r)}"
    assert not byte_hits(r, r.proof), "the proof's bytes carry a private evaluation"
    bare = [(w, t) for w, claims in zip(("advice", "tape", "dataset"), r.openings) for cl in claims
            for t, _, _ in cl.evals if not cl.entries and cl.block is None and not theta0_claim(r, cl)]
    assert not bare, f"claims opened without a pad: {bare}"


# --- 2. witness against bank ----------------------------------------------------
def public_values(r: Run) -> set[Fp2]:
    """The MLEs of the run's public columns (the coin's mask m:*: public, but
    another run's coin gives another mask) at the run's points: a zero-check
    sends their final values in the clear, as the verifier recomputes them."""
    plan = prover.Plan(r.inp.policy, r.inp.dataset.num_rows, r.inp.sem)
    out = set()
    for c in {c for dom in plan.domains.values() for c in dom.public if c in r.cols}:
        table = vec.from_int64(np.ascontiguousarray(r.cols[c], dtype=np.int64))
        for point in dict.fromkeys(r.points):
            if len(point) == table.shape[0].bit_length() - 1:
                out.add(_as_ext(evaluate(table, list(point))))
    return out


@pytest.fixture(scope="module")
def fixed_runs(run_dir, other_run_dir):
    mp = pytest.MonkeyPatch()
    try:
        b, b2 = random_banks(), random_banks()

        def run(d, **kw):
            return prove_instrumented(d, mp, fixed=True, **kw)

        return dict(a=run(run_dir, banks=b), a2=run(run_dir, banks=b2), c=run(other_run_dir, banks=b),
                    z=run(run_dir, zero=True), z2=run(other_run_dir, zero=True))
    finally:
        mp.undo()


def test_no_revealed_value_moves_with_the_witness_and_not_the_bank(fixed_runs):
    """Witness 1 under banks B and B', witness 2 (another run) under B. A
    value the same under B and B' is bank-free; if witness 2 changes it, it
    is a function of the witness in the clear -- unless it is public data of
    each run's own statement: the zero-checks' final values of the coin's
    mask columns (one per domain), which the verifier recomputes."""
    ra, ra2, rc = fixed_runs["a"], fixed_runs["a2"], fixed_runs["c"]
    a, a2, c = ra.t.values, ra2.t.values, rc.t.values
    assert len(a) == len(a2) == len(c) > 1000
    assert a != c, "the two runs' transcripts coincide: the test would prove nothing"
    moved = [i for i in range(len(a)) if a[i] == a2[i] and a[i] != c[i]]
    pa, pc = public_values(ra), public_values(rc)
    leaks = [(i, ra.t.labels[i]) for i in moved if not (a[i] in pa and c[i] in pc)]
    assert not leaks, f"{len(leaks)} revealed values move with the witness and not the bank: {leaks[:10]}"
    assert len(moved) == 3  # the mask columns' final values of the slot, coord and step zero-checks
    fixed = sum(x == y for x, y in zip(a, a2))
    assert fixed < len(a) // 20, f"{fixed} of {len(a)} revealed values do not move with the bank"


def test_unmasked_witnesses_leave_their_footprint(fixed_runs):
    """The same comparison with zero banks: every value is then bank-free,
    and the two witnesses' runs differ in most of them (what the masks hide)."""
    z, z2 = fixed_runs["z"].t.values, fixed_runs["z2"].t.values
    assert len(z) == len(z2) == len(fixed_runs["a"].t.values)
    differ = sum(x != y for x, y in zip(z, z2))
    assert differ > len(z) // 2


def test_one_value_sent_in_the_clear_is_caught(run_dir, other_run_dir, monkeypatch):
    """The detectors can fail: a build that sends theta_T(r) (step 6) without
    its pad -- the pad still drawn, so the run keeps its shape -- is caught
    by the witness-vs-bank comparison and by the MLE attacker on a real bank."""
    real_send = prover.send

    def clear(transcript, value):
        real_send(transcript, value)  # draws the pad as usual
        v = _as_ext(value)
        return v, v

    monkeypatch.setattr(prover, "send", clear)
    b, b2 = random_banks(), random_banks()
    a = prove_instrumented(run_dir, monkeypatch, fixed=True, banks=b)
    a2 = prove_instrumented(run_dir, monkeypatch, fixed=True, banks=b2)
    c = prove_instrumented(other_run_dir, monkeypatch, fixed=True, banks=b)
    x, x2, y = a.t.values, a2.t.values, c.t.values
    moved = [a.t.labels[i] for i in range(len(x)) if x[i] == x2[i] and x[i] != y[i]]
    assert pr.LABEL_SENT in moved
    r = prove_instrumented(run_dir, monkeypatch)
    r.values = r.t.values
    assert "thetaT" in {name for name, _ in mle_hits(r)}


# --- 2b. the exact span check -----------------------------------------------------
#
# With the challenges fixed, a run is affine in the bank entries other than
# the final-value pads (a final pad enters the last round of its sum-check
# quadratically, through products of padded tables; tests/statements/
# test_zero_knowledge.py). Witness 1 at bank B1 and witness 2 at B2 (B1 with
# every final pad moved so the padded final values coincide) must then
# differ by M x for some x, M the revealed values' coefficients on the free
# entries. M has ~4,400 columns; rather than one run per entry, the columns
# are measured by their structure and the measurement is checked:
#
# * a sum-check's Libra mask reaches only that sum-check's mask sum and
#   rounds (g(r) enters only the deferred check), so entry i of every mask
#   is moved in one run and the difference split by sum-check;
# * the other pads (sent values, LogUp leaf values) are moved one per run;
# * then a run at a random move of every free entry must equal the affine
#   prediction, which fails (w.h.p.) if any column was misattributed.
#
# The span question then decomposes exactly: each pad is the only column at
# its own sent value (checked), which fixes its move; what is left must lie,
# sum-check by sum-check, in the span of that sum-check's mask columns, and
# be zero outside them.


def _move(banks: dict, moves: dict) -> dict:
    out = {name: arr.copy() for name, arr in banks.items()}
    for (bank, idx), d in moves.items():
        v = _as_ext(Fp2(int(out[bank][idx][0]), int(out[bank][idx][1]))) + d
        out[bank][idx] = (v.c0, v.c1)
    return out


def in_span(columns: list[list[Fp2]], target: list[Fp2]) -> bool:
    """target in the GF(p^2)-span of columns (Gaussian elimination over GF(p^2):
    every bank entry enters the prover's arithmetic GF(p^2)-linearly)."""
    rows = [[c[i] for c in columns] + [target[i]] for i in range(len(target))]
    ncols, r = len(columns), 0
    for c in range(ncols):
        piv = next((i for i in range(r, len(rows)) if rows[i][c] != Fp2(0)), None)
        if piv is None:
            continue
        rows[r], rows[piv] = rows[piv], rows[r]
        inv = rows[r][c].inverse()
        rows[r] = [x * inv for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != Fp2(0):
                f = rows[i][c]
                rows[i] = [x - f * y for x, y in zip(rows[i], rows[r])]
        r += 1
    return all(row[-1] == Fp2(0) for row in rows[r:])


@pytest.fixture(scope="module")
def span(run_dir, other_run_dir):
    mp = pytest.MonkeyPatch()
    try:
        def run(d, banks):
            return prove_instrumented(d, mp, fixed=True, banks=banks)

        b1 = random_banks()
        r1 = run(run_dir, b1)
        r2 = run(other_run_dir, b1)
        finals = {}
        for (k1, f1, z1), (k2, f2, z2) in zip(r1.zk.final_pads, r2.zk.final_pads):
            assert k1 == k2 and z1 == z2  # one protocol shape, fixed challenges
            finals[k1] = (f1 - f2) * z1.inverse()
        b2 = _move(b1, finals)
        base = run(other_run_dir, b2)
        v1, v2 = r1.t.values, base.t.values
        assert len(v1) == len(v2)
        libra = [(bank, start, count, pos) for bank, start, count, pos in base.draws if count > 1]
        pads = [(bank, start) for bank, start, count, _ in base.draws if count == 1 and (bank, start) not in finals]
        ends = [pos for _, _, _, pos in libra[1:]] + [len(v2)]
        ranges = [range(pos, end) for (_, _, _, pos), end in zip(libra, ends)]
        mask_cols = [[None] * count for _, _, count, _ in libra]  # [draw][i]: values over the draw's range

        def diff(moves):
            got = run(other_run_dir, _move(b2, moves)).t.values
            return [x - y for x, y in zip(got, v2)]

        for i in range(max(count for _, _, count, _ in libra)):
            group = [j for j, (_, _, count, _) in enumerate(libra) if count > i]
            dv = diff({(libra[j][0], libra[j][1] + i): Fp2(1) for j in group})
            covered = set()
            for j in group:
                mask_cols[j][i] = [dv[k] for k in ranges[j]]
                covered.update(ranges[j])
            stray = [k for k in range(len(dv)) if k not in covered and dv[k] != Fp2(0)]
            assert not stray, f"mask entry {i} moves values outside its sum-check: {stray[:5]}"
        pad_cols = {key: diff({key: Fp2(1)}) for key in pads}
        # What the two statements make differ (c_theta, the coin): the mask columns' final values, and
        # the claimed sum of a combining sum-check whose claims include a public value (the digest
        # c_theta names), whose mask sum then absorbs the shift (s(0) + s(1) = claim + rho G).
        p1, p2 = public_values(r1), public_values(base)
        public_finals = [k for k in range(len(v1)) if v1[k] != v2[k] and v1[k] in p1 and v2[k] in p2]
        public_claims = [(pos, c1[2] - c2[2]) for c1, c2 in zip(r1.combines, base.combines)
                         for pos in [c1[1]] if c1[2] != c2[2]]
        assert [c[:2] for c in r1.combines] == [c[:2] for c in base.combines]
        return dict(r1=r1, base=base, v1=v1, v2=v2, b2=b2, libra=libra, ranges=ranges, mask_cols=mask_cols,
                    pad_cols=pad_cols, finals=len(finals), run=run, other=other_run_dir,
                    public_finals=public_finals, public_claims=public_claims)
    finally:
        mp.undo()


@pytest.mark.heavy  # the exact span check (~3 min): the cheap witness-vs-bank test covers it by default
def test_the_revealed_values_are_affine_in_the_free_entries(span):
    """The measured columns predict a run at a random move of every free entry exactly."""
    moves, want = {}, list(span["v2"])
    for j, (bank, start, count, _) in enumerate(span["libra"]):
        for i in range(count):
            d = _as_ext(Fp2(*[int(x) for x in random_ext(1)[0]]))
            moves[(bank, start + i)] = d
            for k, c in zip(span["ranges"][j], span["mask_cols"][j][i]):
                want[k] = want[k] + c * d
    for key, col in span["pad_cols"].items():
        d = _as_ext(Fp2(*[int(x) for x in random_ext(1)[0]]))
        moves[key] = d
        want = [w + c * d for w, c in zip(want, col)]
    mp = pytest.MonkeyPatch()
    try:
        got = prove_instrumented(span["other"], mp, fixed=True, banks=_move(span["b2"], moves)).t.values
    finally:
        mp.undo()
    assert got == want


def _solve(span, delta: list[Fp2]) -> list[tuple[int, bytes]]:
    """The positions (and labels) where delta leaves the span of the free
    entries' columns; [] when some move of the bank turns run 2 into run 1."""
    labels = span["base"].t.labels
    residual = list(delta)
    pad_cols = span["pad_cols"]
    own = {}
    for key, col in pad_cols.items():
        k = next(i for i, c in enumerate(col) if c != Fp2(0))
        others = [o for o, oc in pad_cols.items() if o != key and oc[k] != Fp2(0)]
        assert not others, f"pad {key}'s sent value also moves with {others[:3]}"
        own[key] = k
    for key, col in pad_cols.items():
        x = delta[own[key]] * col[own[key]].inverse()  # the only column at its sent value: its move is forced
        residual = [r - c * x for r, c in zip(residual, col)]
    for pos, diff in span["public_claims"]:  # the claimed sum moved by the public claims alone
        if residual[pos] != diff:
            return [(pos, labels[pos])]
    public = set(span["public_finals"]) | {p + d for p, _ in span["public_claims"] for d in (0, 1)}
    bad = []
    covered = set()
    for rng, cols in zip(span["ranges"], span["mask_cols"]):
        covered.update(rng)
        cols = cols + [[Fp2(int(k == p)) for k in rng] for p in sorted(public) if p in rng]
        if not in_span(cols, [residual[k] for k in rng]):
            bad.append((rng.start, labels[rng.start]))
    bad += [(k, labels[k]) for k in range(len(residual)) if k not in covered and residual[k] != Fp2(0)]
    return bad


@pytest.mark.heavy
def test_two_witnesses_differ_only_by_the_span_of_the_masks(span):
    """The exact check: some move of the free entries turns witness 2's run
    (another trained run: another tape, batches, noise) into witness 1's."""
    delta = [x - y for x, y in zip(span["v1"], span["v2"])]
    assert sum(d != Fp2(0) for d in delta) > len(delta) // 2, "the runs coincide: the test would prove nothing"
    # the public differences allowed: one mask final value per zero-check, one claimed sum (the digest)
    assert len(span["public_finals"]) == 3 and len(span["public_claims"]) == 1
    bad = _solve(span, delta)
    assert not bad, f"the witness difference leaves the span of the prover's randomness at {bad[:10]}"


@pytest.mark.heavy
def test_the_span_check_finds_a_value_no_mask_explains(span):
    """The check can fail: one round value of the largest sum-check moved
    alone (breaking s(0) + s(1) = claim) is outside the span."""
    j = max(range(len(span["libra"])), key=lambda j: span["libra"][j][2])
    labels = span["base"].t.labels
    k = next(k for k in span["ranges"][j] if labels[k] == b"sumcheck/round")
    delta = [x - y for x, y in zip(span["v1"], span["v2"])]
    delta[k] = delta[k] + Fp2(1)
    assert _solve(span, delta)


# --- 3. two proofs of one run -----------------------------------------------------
@pytest.fixture(scope="module")
def two_proofs(run_dir):
    mp = pytest.MonkeyPatch()
    try:
        return prove_instrumented(run_dir, mp, stop=False), prove_instrumented(run_dir, mp, stop=False)
    finally:
        mp.undo()


def test_two_proofs_of_one_run_repeat_only_public_values(two_proofs):
    p, q = two_proofs
    a, b = p.t.values, q.t.values
    assert len(a) == len(b) > 1000
    repeats = sorted({(str(x), p.t.labels[i]) for i, (x, y) in enumerate(zip(a, b)) if x == y})
    # public constants only: the zero-checks' claimed sums (0) and LE~(1..1, y) = 1, the public
    # table of the prefix check on the last slot (i at j = B_max - 1)
    assert repeats == [("Fp2(0, 0)", b"sumcheck/claimed-sum"), ("Fp2(1, 0)", b"sumcheck/final-values")], repeats
    same = sum(x == y for x, y in zip(a, b))
    assert same <= 8, f"{same} of {len(a)} revealed values repeat across two proofs"


def reused_pad_attack(p: Run, q: Run, bank: str) -> list[tuple[tuple, bool]]:
    """Attacker on two proofs whose final values on one committed table are
    padded from the same committed pad m: proof k sends h_k = f_k + Z(r_k) m
    (Z public), so h_1 / Z_1 - h_2 / Z_2 = f_1 / Z_1 - f_2 / Z_2, a linear
    combination of the table's private entries with public coefficients.
    (key, whether the attacker's value is that combination) per reused pad."""
    out = []
    firsts = {k: (f, z) for k, f, z in q.zk.final_pads if k[0] == bank}
    for key, f1, z1 in p.zk.final_pads:
        if key[0] != bank or key not in firsts:
            continue
        f2, z2 = firsts[key]
        m1, m2 = p.zk.entry(key), q.zk.entry(key)
        if m1 != m2:
            out.append((key, False))
            continue
        h1, h2 = f1 + z1 * m1, f2 + z2 * m2  # what each proof sends
        assert h1 in p.t.values and h2 in q.t.values
        guess = h1 * z1.inverse() - h2 * z2.inverse()  # public values only
        truth = f1 * z1.inverse() - f2 * z2.inverse()  # f_k: the table's MLE at proof k's point
        out.append((key, guess == truth))
    return out


def test_why_a_run_has_one_proof_the_reused_pad_attack(two_proofs):
    """Two proofs of one run (made here by dropping the prover's markers) reuse
    the tape commitment's and the dataset commitment's pads, and the attack
    recovers linear combinations of the tape (the noise) and of the data:
    which is why `prove_training` refuses a second proof of a run and a
    second opening of a dataset's training commitment."""
    tape = reused_pad_attack(*two_proofs, pr.TAPE_BANK)
    assert len(tape) == 3 and all(ok for _, ok in tape)
    data = reused_pad_attack(*two_proofs, pr.DATASET_BANK)
    assert data and all(ok for _, ok in data)


def test_the_prover_refuses_a_second_proof_of_a_run(run_dir):
    from zkaudit.errors import ZkauditError

    run = load_run(run_dir / "RUN")
    coin = read_coin(run_dir / "RUN" / "coin.json")
    from test_training_proof import forget_proofs

    forget_proofs(run_dir)
    prove_training(run, coin)
    with pytest.raises(ZkauditError, match="already has its training proof"):
        prove_training(run, coin)
