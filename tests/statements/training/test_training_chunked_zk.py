"""The chunked training proof is zero-knowledge: tested, not claimed.

A chunked proof (`statements/training/chunked.py`) is K chunk proofs, each
with its own transcript and zero-knowledge session, and a closing part with
another; what it reveals of the witness is every value absorbed in any of
those K + 1 transcripts, the proof's bytes, and the claims its K + 3
openings state (each chunk's advice; G, the tape and the dataset). The
instruments of tests/statements/training/test_training_zero_knowledge.py
are reused: recording transcripts (here every instance the chunked prover
makes), all banks zero for the unmasked build, and an attacker who knows
the proof's points and the witness and looks for a revealed value equal to
a private table's MLE at one of them -- each chunk's witness columns and
tape sub-tables, G's boundary rows (theta at the chunk boundaries), the
dataset columns G mirrors, theta_T and the full tape tables.

1. With every bank zero the attacker finds the noise draws, theta, X, the
   tape, the boundary rows and the mirrored data (the detector works).
2. On the real build: the proof verifies and the attacker finds nothing
   in any transcript, any byte window, any opened claim; every opened claim
   on private data carries bank entries (theta_0 on G's boundary row 0,
   public, is the one exception).
3. Each pad a chunk carries out is used once: the chunks' slices of the
   tape's and G's banks are disjoint, each entry is carried by one value,
   and the closing part draws none of them again.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_training_proof import forget_proofs, make_run  # noqa: E402
from test_training_zero_knowledge import Recorder, _as_ext  # noqa: E402

import zkaudit.sumcheck.zk as zk_mod  # noqa: E402
from zkaudit import pcs  # noqa: E402
from zkaudit.field import vec  # noqa: E402
from zkaudit.field.scalar import Fp2  # noqa: E402
from zkaudit.poly.mle import evaluate  # noqa: E402
from zkaudit.statements.inference.zk import ADVICE_BANK  # noqa: E402
from zkaudit.statements.training import chunked as ch  # noqa: E402
from zkaudit.statements.training import chunked_prover  # noqa: E402
from zkaudit.statements.training import protocol as pr  # noqa: E402
from zkaudit.statements.training import prover  # noqa: E402
from zkaudit.statements.training import witness as wt  # noqa: E402
from zkaudit.statements.training.run_proof import prove_training  # noqa: E402
from zkaudit.statements.training.verifier import verify_training  # noqa: E402
from zkaudit.sumcheck import zk_prover  # noqa: E402
from zkaudit.train.run import load_run, read_coin  # noqa: E402

CHUNK_STEPS = 2  # STEPS = 6 in make_run: 3 chunks
MLP = dict(model={"family": "mlp", "hidden": [4]}, init={"kind": "seeded", "seed": "00"})


# --- instruments ------------------------------------------------------------------
class _Stop(Exception):
    pass


class ChunkedRun:
    """One instrumented chunked proof: every transcript, the chunk runs, the
    closing part's inputs, every session's draws, the openings' claims."""

    def __init__(self):
        self.transcripts: list[Recorder] = []
        self.points: list[tuple] = []
        self.chunk_cols: list[dict] = []  # per chunk, in order: the witness columns
        self.chunks: list = []  # the successful _ChunkRun of each chunk
        self.blobs: list[bytes] = []  # each chunk's bytes
        self.sessions: list = []  # every ZkProver made (a retried chunk's too)
        self.chunk_sessions: list = []  # the session of each chunk's successful attempt
        self.close: dict | None = None  # the closing part's arguments
        self.openings: list[tuple[str, list]] = []  # (which, claims): chunk k's advice, then global, tape, dataset
        self.proof: bytes | None = None

    @property
    def values(self) -> list[Fp2]:
        return [v for t in self.transcripts for v in t.values]


def prove_chunked(run_dir: Path, monkeypatch, *, zero: bool = False, stop: bool = False) -> ChunkedRun:
    """`prove_training` on a chunked run, instrumented. `zero`: every bank of
    every session all zeros (the unmasked build); `stop`: the run ends at
    the closing part's openings, their claims recorded (always so with zero
    banks: a zero tape bank no longer matches the tape commitment), else
    the proof is complete."""
    out = ChunkedRun()
    stop = stop or zero

    class Bank(zk_mod.ZkProver):
        def __init__(self, sizes, values=None):
            super().__init__(sizes, values)
            if zero:
                for name, size in sizes.items():
                    self.values[name] = np.zeros((size, 2), dtype=np.uint64)
            self.taken: list[tuple[str, int]] = []
            out.sessions.append(self)

        def take(self, count, bank=zk_mod.ADVICE):
            keys = super().take(count, bank)
            self.taken += keys
            return keys

    def transcript():
        t = Recorder()
        out.transcripts.append(t)
        return t

    real_check, real_add, real_stacked = wt.check_gates, pr.ClaimBook.add, pr.ClaimBook.add_stacked
    real_column, real_sc, real_open = prover._Run._column_claim, zk_prover.prove, pcs.open
    real_chunk, real_close = chunked_prover._ChunkRun.prove, chunked_prover._close

    def check_gates(plan, cols):
        real_check(plan, cols)
        out.chunk_cols.append(cols.copy())  # one build per chunk (a bank retry does not rebuild)

    def add(self, name, point, value):
        out.points.append(tuple(point))
        return real_add(self, name, point, value)

    def add_stacked(self, dom, s, values, transcript):
        out.points.append(tuple(s))
        return real_stacked(self, dom, s, values, transcript)

    def column_claim(self, dom, c, point, value):
        out.points.append(tuple(point))
        return real_column(self, dom, c, point, value)

    def sumcheck(*args, **kwargs):
        res = real_sc(*args, **kwargs)
        out.points.append(tuple(res[1].point))
        return res

    def chunk_prove(self, bank_size):
        blob, carried = real_chunk(self, bank_size)
        out.chunks.append(self)
        out.chunk_sessions.append(out.sessions[-1])  # an attempt makes one session: the last is this one's
        out.blobs.append(blob)
        out.points += [tuple(point) for _, point, _ in carried]
        return blob, carried

    def close(inp, lay, shape, zk, g, g_names, link_plan, link, base, blobs, carried):
        out.close = dict(inp=inp, lay=lay, shape=shape, zk=zk, g=g, g_names=g_names, carried=list(carried))
        return real_close(inp, lay, shape, zk, g, g_names, link_plan, link, base, blobs, carried)

    def open_(data, claims, transcript):
        if out.close is None:
            out.openings.append((f"chunk {len(out.openings)}", list(claims)))
            return real_open(data, claims, transcript)
        out.openings.append((("global", "tape", "dataset")[len(out.openings) - len(out.chunks)], list(claims)))
        if not stop:
            return real_open(data, claims, transcript)
        if out.openings[-1][0] == "dataset":
            raise _Stop
        return None  # never used: the run ends at the dataset's opening

    with monkeypatch.context() as m:
        m.setattr(zk_mod, "ZkProver", Bank)
        m.setattr(chunked_prover, "ZkProver", Bank)
        m.setattr(chunked_prover, "Transcript", transcript)
        m.setattr(wt, "check_gates", check_gates)
        m.setattr(pr.ClaimBook, "add", add)
        m.setattr(pr.ClaimBook, "add_stacked", add_stacked)
        m.setattr(prover._Run, "_column_claim", column_claim)
        m.setattr(zk_prover, "prove", sumcheck)
        m.setattr(chunked_prover._ChunkRun, "prove", chunk_prove)
        m.setattr(chunked_prover, "_close", close)
        m.setattr(pcs, "open", open_)
        run = load_run(run_dir / "RUN")
        forget_proofs(run_dir)  # this file proves one run several times on purpose
        try:
            out.proof = prove_training(run, read_coin(run_dir / "RUN" / "coin.json"))
        except _Stop:
            pass
    assert out.close is not None and out.chunk_cols and len(out.chunks) == out.close["lay"].K
    return out


def private_tables(r: ChunkedRun) -> dict[str, np.ndarray]:
    """Every private table of the run, as field tables: each chunk's witness
    columns (its plan's public columns -- the coin's mask, eq, sel -- and
    constant columns left out) and tape sub-tables, named "c<k>:<name>";
    G's boundary rows 1..K ("boundary:<k>"; row 0 is theta_0, public) and
    the whole boundary table; the dataset columns the policy reads
    ("dataset:<i>": what G's mirrors hold); theta_T; the full tape tables."""
    out = {}
    for k, (cols, run) in enumerate(zip(r.chunk_cols, r.chunks)):
        public = {c for dom in run.plan.domains.values() for c in dom.public}
        for name, col in cols.items():
            a = np.ascontiguousarray(col, dtype=np.int64)
            n = a.shape[0]
            if name in public or n < 2 or n & (n - 1) or np.all(a == a[0]):
                continue
            out[f"c{k}:{name}"] = vec.from_int64(a)
        for name, table in zip(("tape:gap", "tape:last", "tape:noise"), run.inp.tape_tables):
            out[f"c{k}:{name}"] = np.ascontiguousarray(table, dtype=np.uint64)
    g, lay = r.close["g"], r.close["lay"]
    rows = g["boundary"].reshape(-1, 1 << lay.c)
    for k in range(1, lay.K + 1):
        out[f"boundary:{k}"] = np.ascontiguousarray(rows[k])
    out["boundary"] = g["boundary"]
    polys = r.close["inp"].dataset_opening.polys
    for i in lay.ds_columns:
        out[f"dataset:{i}"] = np.ascontiguousarray(polys[i], dtype=np.uint64)
    out["thetaT"] = g["thetaT"]
    for name, table in zip(("tape:gap", "tape:last", "tape:noise"), r.close["inp"].tape_tables):
        out[name] = np.ascontiguousarray(table, dtype=np.uint64)
    return out


def public_evaluations(r: ChunkedRun) -> set[Fp2]:
    """Values the verifier computes itself, at the proof's points: theta_0's
    MLE, the boundary table's on row 0, and each chunk's public columns'
    (the coin's mask m:*, the selectors sel), whose final values a zero-check
    sends in the clear. A private column equal to a public one on a slice
    (the MLP's rounding bit ru is 1 on every live step of the coordinate
    b2 in some chunks: sel there) then has the same MLE at a point fixing
    that slice, and reveals nothing by it."""
    g, lay = r.close["g"], r.close["lay"]
    row0 = np.ascontiguousarray(g["boundary"].reshape(-1, 1 << lay.c)[0])
    tables = [row0]
    for cols, run in zip(r.chunk_cols, r.chunks):
        for dom in run.plan.domains.values():
            tables.append(vec.from_int64(np.ascontiguousarray(wt.sel_mask(dom), dtype=np.int64).reshape(-1)))
            tables += [vec.from_int64(np.ascontiguousarray(cols[c], dtype=np.int64).reshape(-1))
                       for c in dom.public if c in cols]
    by_vars: dict[int, list[np.ndarray]] = {}
    for t in tables:
        by_vars.setdefault(t.shape[0].bit_length() - 1, []).append(t)
    out = set()
    for p in dict.fromkeys(r.points):
        out.update(_as_ext(evaluate(t, list(p))) for t in by_vars.get(len(p), []))
        if len(p) == lay.kb + lay.c and list(p[:lay.kb]) == pr.bits_of(0, lay.kb):
            out.add(_as_ext(evaluate(g["boundary"], list(p))))
    return out


def _evaluations(r: ChunkedRun, tables: dict) -> dict[tuple, list[str]]:
    """(value -> names of the tables with that MLE at one of the proof's points)."""
    by_vars: dict[int, list[str]] = {}
    for name, t in tables.items():
        by_vars.setdefault(t.shape[0].bit_length() - 1, []).append(name)
    found: dict[tuple, list[str]] = {}
    for point in dict.fromkeys(r.points):
        for name in by_vars.get(len(point), []):
            v = _as_ext(evaluate(tables[name], list(point)))
            found.setdefault((v.c0, v.c1), []).append(name)
    return found


def mle_hits(r: ChunkedRun) -> set[str]:
    """Names (chunk prefix dropped) of the private tables whose MLE at one of
    the proof's points is a value absorbed in some transcript; 0, 1 and the
    public evaluations left out (as in the one-piece test's `mle_hits`)."""
    revealed = {(v.c0, v.c1) for v in r.values} - {(0, 0), (1, 0)}
    revealed -= {(v.c0, v.c1) for v in public_evaluations(r)}
    found = _evaluations(r, private_tables(r))
    return {re.sub(r"^c\d+:", "", n) for key, names in found.items() if key in revealed for n in names}


def opened_tables(r: ChunkedRun) -> list[tuple[str, list[str], list[np.ndarray]]]:
    """(which, names, tables) of each opening, in the prover's order (a bank last, unnamed)."""
    out = []
    for k, run in enumerate(r.chunks):
        out.append((f"chunk {k}", list(run.names), [run.tables[n] for n in run.names]))
    g, names = r.close["g"], r.close["g_names"]
    out.append(("global", list(names), [g[n] for n in names]))
    out.append(("tape", list(ch.TAPE_TABLES), list(r.close["inp"].tape_tables)))
    polys = r.close["inp"].dataset_opening.polys
    out.append(("dataset", [f"dataset:{i}" for i in range(polys.shape[0])], list(polys)))
    return out


def theta0_claim(r: ChunkedRun, which: str, claim) -> bool:
    """The one claim with a public value: boundary(0, r) = theta_0~(r) on G."""
    if which != "global" or len(claim.evals) != 1 or claim.entries or claim.block is not None:
        return False
    t, z, _ = claim.evals[0]
    kb = r.close["lay"].kb
    return r.close["g_names"][t] == "boundary" and list(z[:kb]) == pr.bits_of(0, kb)


def opened_hits(r: ChunkedRun) -> list[tuple[str, str]]:
    """(opening, table) for every opened claim whose value is its private
    table's evaluation at the claim's point (times its coefficient)."""
    hits = []
    for (which, claims), (which2, names, tables) in zip(r.openings, opened_tables(r)):
        assert which == which2
        for cl in claims:
            if len(cl.evals) != 1 or theta0_claim(r, which, cl):
                continue
            t, z, coeff = cl.evals[0]
            if t < len(tables) and coeff * _as_ext(evaluate(tables[t], list(z))) == cl.value:
                hits.append((which, names[t]))
    return hits


def bare_claims(r: ChunkedRun) -> list[tuple[str, list[str]]]:
    """Opened claims that carry no bank entry (their value is then the private evaluation itself)."""
    bare = []
    for (which, claims), (_, names, _) in zip(r.openings, opened_tables(r)):
        for cl in claims:
            if not cl.entries and cl.block is None and not theta0_claim(r, which, cl):
                bare.append((which, [names[t] if t < len(names) else "bank" for t, _, _ in cl.evals]))
    return bare


def private_evaluations(r: ChunkedRun) -> set[Fp2]:
    """Every private evaluation the proof's points or opened claims could give away."""
    out = {Fp2(*key) for key in _evaluations(r, private_tables(r))}
    for (which, claims), (_, _, tabs) in zip(r.openings, opened_tables(r)):
        for cl in claims:
            for t, z, _ in cl.evals:
                if t < len(tabs) and not theta0_claim(r, which, cl):
                    out.add(_as_ext(evaluate(tabs[t], list(z))))
    return out - {Fp2(0), Fp2(1)} - public_evaluations(r)


SMALL = 1 << 32


def byte_hits(r: ChunkedRun, blob: bytes) -> list[Fp2]:
    """The private evaluations whose 16-byte encoding occurs in `blob` at any
    offset. Small integers are left out: their encoding (a short integer,
    then zeros) is also a length or an index in the proof's framing, and a
    table's MLE is one only at a point that names a row constant in the rest
    (e.g. a limb column at step 0 of a chunk); `mle_hits` still looks for
    them among the absorbed values."""
    windows = {blob[i:i + 16] for i in range(len(blob) - 15)}
    return [v for v in private_evaluations(r) if v.to_bytes() in windows and not (v.c1 == 0 and v.c0 < SMALL)]


# --- fixtures ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("train-chunked-zk"), proving={"chunk_steps": CHUNK_STEPS})


@pytest.fixture(scope="module")
def mlp_run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("train-chunked-zk-mlp"), proving={"chunk_steps": CHUNK_STEPS}, **MLP)


@pytest.fixture(scope="module")
def unmasked(run_dir):
    mp = pytest.MonkeyPatch()
    try:
        return prove_chunked(run_dir, mp, zero=True)
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def masked(run_dir):
    mp = pytest.MonkeyPatch()
    try:
        return prove_chunked(run_dir, mp)
    finally:
        mp.undo()


# --- 1. the detector works --------------------------------------------------------
def test_the_run_is_chunked(unmasked):
    lay = unmasked.close["lay"]
    assert lay.K == 3 and lay.S == CHUNK_STEPS
    assert len(unmasked.transcripts) >= lay.K + 1  # one per chunk (and per retry) and the closing part's


def test_unmasked_chunked_build_reveals_witness_evaluations(unmasked):
    """With every bank zero, the values absorbed across the K + 1 transcripts
    are the private tables' MLEs at the proof's points: each chunk's noise
    draws, theta, X and tape, G's boundary rows and the mirrored data."""
    hit = mle_hits(unmasked)
    for name in ("kn", "theta", "X", "tape:noise", "tape:gap"):
        assert name in hit, f"the unmasked build does not reveal {name}: the detector would prove nothing ({hit})"
    K = unmasked.close["lay"].K
    assert {f"boundary:{k}" for k in range(1, K + 1)} <= hit, hit
    assert any(n.startswith("dataset:") for n in hit), hit
    assert byte_hits(unmasked, b"".join(unmasked.blobs)), "the unmasked chunks' bytes carry no private evaluation"
    opened = set(opened_hits(unmasked))
    assert any(w.startswith("chunk") for w, _ in opened), opened
    assert {w for w, _ in opened} >= {"global", "tape", "dataset"}, opened


# --- 2. the real build ------------------------------------------------------------
def test_masked_chunked_proof_reveals_no_witness_evaluation(masked, run_dir):
    r = masked
    assert r.proof is not None and verify_training(r.proof).run_id == load_run(run_dir / "RUN").run_id
    lay = r.close["lay"]
    assert len(r.openings) == lay.K + 3 and all(claims for _, claims in r.openings)
    assert len(r.values) > 1000 and len(set(r.points)) > 20
    hits = mle_hits(r)
    assert not hits, f"revealed values equal private MLEs: {sorted(hits)}"
    assert not opened_hits(r), f"opened claims state private evaluations: {opened_hits(r)}"
    assert not byte_hits(r, r.proof), "the proof's bytes carry a private evaluation"


def test_every_opened_claim_on_private_data_is_padded(masked):
    """Every chunk's advice opening and G's, the tape's and the dataset's:
    each claim carries bank entries, except theta_0 on G's boundary row 0."""
    assert not bare_claims(masked), f"claims opened without a pad: {bare_claims(masked)}"
    exact = [cl for which, claims in masked.openings for cl in claims if theta0_claim(masked, which, cl)]
    assert len(exact) == 1
    (t, z, _), = exact[0].evals
    g = masked.close["g"]
    assert exact[0].value == _as_ext(evaluate(g["boundary"], list(z)))  # theta_0~(r): public


# --- 3. each carried pad is used once --------------------------------------------
def chunk_slices(lay) -> dict[int, set[tuple[str, int]]]:
    """Chunk k's entries of the closing part's banks: tape 3k .. 3k + 2, G's E k .. E k + E - 1."""
    n = len(ch.TAPE_TABLES)
    return {k: {(pr.TAPE_BANK, n * k + j) for j in range(n)} |
            {(ADVICE_BANK, lay.per_chunk * k + j) for j in range(lay.per_chunk)} for k in range(lay.K)}


def carried_keys(r: ChunkedRun) -> list[tuple[int, tuple[str, int]]]:
    """(chunk, remapped bank key) of every pad a carried value depends on, one row per value and key."""
    return [(k, key) for k, run in enumerate(r.chunks) for _, _, v in run.carried for key, _ in v.terms]


def pad_problems(r: ChunkedRun) -> list[str]:
    """Every way the run's pads break "used once": chunk slices that overlap,
    a pad carried twice or outside its chunk's slice or never carried, a
    chunk session taking one of its tape or global entries twice, the
    closing part drawing an entry twice or drawing a chunk's."""
    lay, zk = r.close["lay"], r.close["zk"]
    slices = chunk_slices(lay)
    every = set().union(*slices.values())
    out = [f"chunks {a} and {b} share bank entries" for a in range(lay.K) for b in range(a) if slices[a] & slices[b]]
    rows = carried_keys(r)
    keys = [key for _, key in rows]
    out += [f"pad {key} hides {keys.count(key)} carried values" for key in sorted(set(keys)) if keys.count(key) > 1]
    out += [f"chunk {k} carries pad {key} outside its slice" for k, key in rows if key not in slices[k]]
    out += [f"pad {key} is never carried" for key in sorted(every - set(keys))]
    if len(r.chunk_sessions) != lay.K:
        out.append(f"{len(r.chunk_sessions)} chunk sessions for {lay.K} chunks")
    for k, s in enumerate(r.chunk_sessions):
        mine = [key for key in s.taken if key[0] in (pr.TAPE_BANK, ch.GLOBAL_BANK)]
        if len(mine) != len(set(mine)) or len(mine) != len(ch.TAPE_TABLES) + lay.per_chunk:
            out.append(f"chunk {k} takes its tape and global entries as {sorted(mine)}")
    drawn = zk.taken
    out += [f"the closing part draws {key} twice" for key in sorted(set(drawn)) if drawn.count(key) > 1]
    out += [f"the closing part redraws chunk pad {key}" for key in sorted(set(drawn) & every)]
    return out


def test_each_carried_pad_is_used_once(masked):
    """Chunk k's slices (tape 3k .. 3k + 2, G's E k ..) are disjoint, each
    entry hides exactly one carried value, each chunk's session takes each
    of them once, and the closing part's own draws (every bank: G's, the
    tape's, the dataset's) touch none of them and repeat none."""
    assert not pad_problems(masked), pad_problems(masked)
    drawn = masked.close["zk"].taken
    assert {b for b, _ in drawn} == {ADVICE_BANK, pr.TAPE_BANK, pr.DATASET_BANK}
    assert len(carried_keys(masked)) == masked.close["lay"].K * (len(ch.TAPE_TABLES) + masked.close["lay"].per_chunk)


def test_a_build_whose_chunks_share_pads_is_caught(run_dir, monkeypatch):
    """The pad check can fail: a build that names every chunk's carried pads
    as chunk 0's (one pad then hides K values: their differences leak)."""
    real = ch.Layout.remap
    monkeypatch.setattr(ch.Layout, "remap", lambda self, v, k: real(self, v, 0))
    problems = pad_problems(prove_chunked(run_dir, monkeypatch, stop=True))
    assert any("hides 3 carried values" in p for p in problems), problems
    assert any("outside its slice" in p for p in problems), problems


def test_a_closing_value_sent_in_the_clear_is_caught(run_dir, monkeypatch):
    """The MLE attacker can fail on the real build: a closing part that sends
    theta_T(r) without its pad (the pad still drawn) gives theta_T away."""
    real_send = chunked_prover.send

    def clear(transcript, value):
        real_send(transcript, value)
        v = _as_ext(value)
        return v, v

    monkeypatch.setattr(chunked_prover, "send", clear)
    r = prove_chunked(run_dir, monkeypatch, stop=True)
    hit = mle_hits(r)
    assert "thetaT" in hit and f"boundary:{r.close['lay'].K}" in hit, hit


# --- the MLP ----------------------------------------------------------------------
def test_mlp_chunked_proof_unmasked_reveals_and_masked_hides(mlp_run_dir, monkeypatch):
    """The MLP 30-4-1 chunked: the unmasked build shows the hidden layer in
    its chunks' transcripts; the real one verifies and shows nothing."""
    z = prove_chunked(mlp_run_dir, monkeypatch, zero=True)
    hit = mle_hits(z)
    for name in ("hid", "dh", "theta", "X", "thetaT", "boundary:1"):
        assert name in hit, f"the unmasked MLP build does not reveal {name} ({hit})"
    r = prove_chunked(mlp_run_dir, monkeypatch)
    assert r.proof is not None and verify_training(r.proof).run_id == load_run(mlp_run_dir / "RUN").run_id
    assert not mle_hits(r), sorted(mle_hits(r))
    assert not opened_hits(r), opened_hits(r)
    assert not byte_hits(r, r.proof)
    assert not bare_claims(r), bare_claims(r)
