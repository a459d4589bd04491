"""The chunked training prover (protocol in `chunked.py`): K chunk proofs,
each over one chunk's witness (built, proven and dropped in turn), then the
closing part."""

from __future__ import annotations

import copy
import dataclasses
import hashlib

import numpy as np

from zkaudit import pcs
from zkaudit.data.records import hiding_params
from zkaudit.field.scalar import Fp2
from zkaudit.lookup.claim import PointClaim
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.statements.common.statement import bind
from zkaudit.statements.envelope import encode_envelope
from zkaudit.statements.inference.zk import ADVICE_BANK, REPAD, bank_linear_claim, bank_words, linear_claim
from zkaudit.statements.training import chunked as ch
from zkaudit.statements.training import protocol as pr
from zkaudit.statements.training import witness as wt
from zkaudit.statements.training.plan import Plan
from zkaudit.statements.training.prover import _BANK, _Run, _field, _repad, _weight_table, discharge_book, \
    pr_link_plan
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import MASK_BANK, BankExhausted, ZkProver, bank_claim, send
from zkaudit.transcript import Transcript


def slice_trace(trace, s0: int, s1: int):
    """Steps [s0, s1) of a trace as a trace of its own (theta rows s0 .. s1)."""
    out = {}
    for f in dataclasses.fields(trace):
        arr = getattr(trace, f.name)
        out[f.name] = arr[s0:s1 + 1] if f.name == "theta" else arr[s0:s1]
    return dataclasses.replace(trace, **out)


def default_workers(lay, plan_full) -> int:
    """Chunks proven side by side: one process per core, at most 2, when a
    chunk is heavy enough (its largest domain >= 2^17 rows) to pay a worker's
    start (about 2 s); else 1."""
    import os

    heaviest = lay.a_c + plan_full.b + (plan_full.e if plan_full.h else plan_full.xk)
    return max(1, min(2, os.cpu_count() or 1, lay.K)) if heaviest >= 17 else 1


def prove(inp, workers: int | None = None, progress=None, final_bank: int = 0) -> bytes:
    """`workers`: processes proving chunks side by side (default
    `default_workers`); `progress(done, total)`: called as chunks finish.
    `final_bank`: G's bank entries for the closing part (default
    `chunked.FINAL_BANK`); should the closing part need more (a completeness
    matter: G is committed before the chunks), the proof is made again with
    twice as many."""
    try:
        return _prove(inp, workers, progress, final_bank or ch.FINAL_BANK)
    except BankExhausted:  # a chunk's own exhaustion is retried inside the chunk: this is the closing part's
        return prove(inp, workers, progress, 2 * (final_bank or ch.FINAL_BANK))


def _prove(inp, workers, progress, final_bank: int) -> bytes:
    from zkaudit.statements.inference import weights_link as wl
    from zkaudit.statements.inference.weights_link_prover import LinkWitness
    from zkaudit.train import tape

    policy = inp.policy
    shape = tape.TapeShape.of(policy)
    plan_full = Plan(policy, inp.dataset.num_rows, inp.sem)
    feat_idx, label_idx = pr.dataset_indices(inp.dataset, policy)
    lay = ch.Layout(plan_full, shape, list(feat_idx) + [label_idx], inp.dataset.num_vars)
    workers = default_workers(lay, plan_full) if workers is None else workers
    trace = inp.trace
    polys = inp.dataset_opening.polys
    # G: the boundary rows, the dataset's mirrors, thetaT and the hash link's tables, the bank
    bnd = np.zeros((1 << lay.kb, 1 << lay.c), dtype=np.int64)
    for k in range(lay.K):
        bnd[k, shape.positions] = trace.theta[shape.chunk_range(k)[0]]
    bnd[lay.K, shape.positions] = trace.theta[-1]
    g = {"boundary": _field(bnd.reshape(-1))}
    for i in lay.ds_columns:
        g[f"mirror.{i}"] = np.ascontiguousarray(polys[i], dtype=np.uint64)
    tT = np.zeros(1 << lay.theta_vars, dtype=np.int64)
    tT[:plan_full.d] = trace.theta[-1]
    g["thetaT"] = _field(tT)
    link_plan = pr_link_plan(plan_full, inp.theta_commitment)
    link = LinkWitness(link_plan, {"theta": trace.theta[-1]}, inp.theta_salt)
    g[wl.DIGESTS], g[wl.SALT] = link.digests, link.salt
    g_size = lay.K * lay.per_chunk + final_bank
    zk = ZkProver({ADVICE_BANK: g_size, pr.TAPE_BANK: shape.bank_entries,
                   pr.DATASET_BANK: polys.shape[0]},
                  {pr.TAPE_BANK: tape.bank(inp.tape_seed, shape.bank_entries),
                   pr.DATASET_BANK: inp.dataset_opening.bank(inp.dataset_use)})
    g_names = list(g)
    bank = np.zeros(bank_words(g_size), dtype=np.uint64)
    bank[: 2 * g_size] = zk.table(ADVICE_BANK)
    g_c, g_data = pcs.commit([g[n] for n in g_names] + [bank], hiding_params())
    ds_c = inp.dataset.use_commitment(inp.dataset_use)
    base = ch.chunk_statement_commitments(g_c.to_bytes(), inp.tape_commitment.to_bytes(), ds_c.to_bytes())
    pads = [{pr.TAPE_BANK: zk.values[pr.TAPE_BANK][3 * k:3 * k + 3],
             ch.GLOBAL_BANK: zk.values[ADVICE_BANK][lay.per_chunk * k:lay.per_chunk * (k + 1)]} for k in range(lay.K)]
    blobs, carried = [], []
    for blob, out in _prove_chunks(inp, lay, shape, g["boundary"], base, pads, workers, progress):
        blobs.append(blob)
        carried += out
    stream = _close(inp, lay, shape, zk, g, g_names, link_plan, link, base, blobs, carried)
    transcript, claims = stream.pop()
    g_open = pcs.open(g_data, claims["global"], transcript)
    t_open = pcs.open(inp.tape_data, claims["tape"], transcript)
    d_open = pcs.open(inp.dataset_opening.prover_data(inp.dataset, inp.dataset_use), claims["dataset"], transcript)
    from zkaudit.data.canonical import canonical_json

    body = pr.pack([canonical_json(inp.statement), g_c.to_bytes(), inp.tape_commitment.to_bytes(), pr.pack(blobs),
                    pr.pack(stream), g_open.to_bytes(), t_open.to_bytes(), d_open.to_bytes()])
    return encode_envelope(pr.STATEMENT, body)


def _prove_chunks(inp, lay, shape, boundary, base: dict, pads: list, workers: int, progress=None) -> list:
    """(blob, carried claims) of every chunk, in order. With workers > 1, in
    that many child processes (`chunk_worker`, each with one numba thread and
    the chunks k = w mod workers), given the inputs once through a private
    temporary file (without the tape's prover data: a chunk never opens the
    tape; the folder is the owner's alone and removed after). The chunks are
    independent (each its own transcript and bank slices), so the proof is the
    one a single process makes, up to each chunk's fresh randomness. Child
    processes, not a multiprocessing pool: those re-import the caller's main
    script, which a user's unguarded script cannot survive."""
    report = progress or (lambda done, total: None)
    if workers <= 1:
        out = []
        for k in range(lay.K):
            out.append(_prove_chunk(k, inp, lay, shape, boundary, base, pads[k]))
            report(k + 1, lay.K)
        return out
    import os
    import time
    import pickle
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    light = copy.copy(inp)
    light.tape_data = None
    with tempfile.TemporaryDirectory(prefix="zkaudit-chunks-") as tmp:
        job = Path(tmp) / "job.pickle"
        with open(job, "wb") as fh:
            pickle.dump((light, lay, shape, boundary, base, pads), fh, protocol=pickle.HIGHEST_PROTOCOL)
        env = dict(os.environ, NUMBA_NUM_THREADS="1")
        procs = []
        for w in range(workers):
            log = open(Path(tmp) / f"worker{w}.log", "wb")
            procs.append((subprocess.Popen([sys.executable, "-m", "zkaudit.statements.training.chunk_worker",
                                            str(job), str(w), str(workers)], env=env, stdout=log, stderr=log), log))
        while any(proc.poll() is None for proc, _ in procs):
            report(sum((Path(tmp) / f"chunk{k}.pickle").exists() for k in range(lay.K)), lay.K)
            time.sleep(0.5)
        report(lay.K, lay.K)
        failed = []
        for w, (proc, log) in enumerate(procs):
            proc.wait()
            log.close()
            if proc.returncode != 0:
                failed.append((Path(tmp) / f"worker{w}.log").read_text(errors="replace")[-3000:])
        if failed:
            raise RuntimeError("a chunk worker failed:\n" + failed[0])
        out = []
        for k in range(lay.K):
            with open(Path(tmp) / f"chunk{k}.pickle", "rb") as fh:
                out.append(pickle.load(fh))
        return out


def _prove_chunk(k: int, inp, lay, shape, boundary, base: dict, pads: dict):
    s0, s1 = shape.chunk_range(k)
    plan = Plan(inp.policy, inp.dataset.num_rows, inp.sem, chunk=(s1 - s0, lay.a_c))
    W = shape.words_per_step
    cinp = copy.copy(inp)
    cinp.trace = slice_trace(inp.trace, s0, s1)
    cinp.tape_words = np.asarray(inp.tape_words)[s0 * W:s1 * W]
    cinp.mask_words = np.asarray(inp.mask_words)[s0 * W:s1 * W]
    cinp.tape_tables = shape.chunk_shape(k).split_rows(cinp.tape_words, lay.a_c)
    cols = wt.build(plan, cinp.trace, inp.X, inp.y, cinp.tape_words, cinp.mask_words)
    wt.fill_ranges(plan, cols)
    wt.check_gates(plan, cols)
    keep = {n: cols[n] for n in ("et", "hid", "shi") if n in cols}
    f = {}
    while cols:
        n, v = cols.popitem()
        f[n] = _field(v)
    key = (plan.a, plan.b, plan.c, len(plan.ranges))
    size = _BANK.get(key, 40_000)
    rows = boundary.reshape(-1, 1 << lay.c)
    while True:
        try:
            return _ChunkRun(plan, cinp, f, keep, k=k, lay=lay, boundary=(rows[k], rows[k + 1]), base=base,
                             pads=pads).prove(size)
        except BankExhausted:
            size *= 2


class _ChunkRun(_Run):
    other_banks = (pr.TAPE_BANK, ch.GLOBAL_BANK)

    def __init__(self, plan, inp, f, cols, *, k, lay, boundary, base, pads):
        super().__init__(plan, inp, f, cols)
        self.k, self.lay, self.boundary, self.base, self.pads = k, lay, boundary, base, pads
        self.carried: list = []

    def prove(self, bank_size: int):
        plan = self.plan
        zk = ZkProver({ADVICE_BANK: bank_size, pr.TAPE_BANK: 3, ch.GLOBAL_BANK: self.lay.per_chunk}, dict(self.pads))
        tables = self._tables()
        big = {n: t.shape[0].bit_length() - 1 for n, t in tables.items()
               if t.shape[0].bit_length() - 1 > self.params.max_log_codeword}
        if big:  # the verifier would refuse the commitment: a protocol bug, said here
            raise ValueError(f"chunk tables past the chunk commitment's 2^{self.params.max_log_codeword}: {big}")
        adv_c, adv_data = self._commit(tables, zk, bank_size)
        t = Transcript()
        bind(t, self.inp.statement, commitments={**self.base, "advice": adv_c.to_bytes(),
                                                 "chunk": self.k.to_bytes(4, "little")})
        t.zk = zk
        self.t = t
        self._core()
        self._ends()
        adv_claims, _, _ = self._discharge(zk)
        t.zk = None
        _BANK[(plan.a, plan.b, plan.c, len(plan.ranges))] = zk.banks_used()[ADVICE_BANK]
        a_open = pcs.open(adv_data, adv_claims, t)
        return pr.pack([adv_c.to_bytes(), pr.pack(self.stream), a_open.to_bytes()]), self.carried

    def _ends(self) -> None:
        """6'. theta's first and last rows equal boundary rows k and k + 1."""
        plan, t, lay = self.plan, self.t, self.lay
        r = t.challenge_exts(pr.LABEL_INIT, plan.c)
        er = eq_table(list(r))
        rows = self.f["theta"].reshape(-1, 1 << plan.c)
        for row, kk, other in ((0, self.k, self.boundary[0]), (plan.T, self.k + 1, self.boundary[1])):
            proof, ev, _ = sumcheck_prover.prove([er, np.ascontiguousarray(rows[row]), other], ch.EQUALITY, t,
                                                 claimed_sum=Fp2(0), public=(0,),
                                                 pad_bank={1: ADVICE_BANK, 2: ch.GLOBAL_BANK})
            self.stream.append(proof.to_bytes())
            self.claim("coord.theta", pr.bits_of(row, plan.a) + list(ev.point), ev.values[1])
            self.carried.append(("boundary", tuple(pr.bits_of(kk, lay.kb) + list(ev.point)),
                                 lay.remap(ev.values[2], self.k)))

    def _tape_claims(self) -> list:
        for i, tname in enumerate(ch.TAPE_TABLES):
            sc, reduced = _repad(self.inp.tape_tables[i], self.tape_claims[tname], self.t, pr.TAPE_BANK)
            self.stream.append(sc.to_bytes())
            self.carried.append((f"tape.{i}", tuple(pr.bits_of(self.k, self.lay.kv) + list(reduced.point)),
                                 self.lay.remap(reduced.value, self.k)))
        return []

    def _dataset_claims(self) -> list:
        polys = self.inp.dataset_opening.polys
        for i, c in self.ds_claims:
            sc, reduced = _repad(polys[i], c, self.t, ch.GLOBAL_BANK)
            self.stream.append(sc.to_bytes())
            self.carried.append((f"mirror.{i}", tuple(reduced.point), self.lay.remap(reduced.value, self.k)))
        return []


def _close(inp, lay, shape, zk, g, g_names, link_plan, link, base, blobs, carried) -> list:
    """The closing part; returns its stream with (transcript, claims per commitment) appended last."""
    from zkaudit.statements.inference import weights_link_prover

    plan = Plan(inp.policy, inp.dataset.num_rows, inp.sem)
    t = Transcript()
    bind(t, inp.statement, commitments={**base, "chunks": hashlib.sha256(pr.pack(blobs)).digest()})
    zk.cursors[ADVICE_BANK].used = lay.K * lay.per_chunk
    zk.cursors[pr.TAPE_BANK].used = len(ch.TAPE_TABLES) * lay.K
    t.zk = zk
    stream: list = []
    book, tape_carried = ch.sort_carried(carried)

    def sent(value):
        s, v = send(t, value if isinstance(value, Fp2) else Fp2.from_base(value))
        t.absorb_ext(pr.LABEL_SENT, s)
        stream.append(s.to_bytes())
        return v

    # theta_0 (public) and theta_T (hashed to c_theta) on the boundary rows 0 and K
    r = t.challenge_exts(pr.LABEL_INIT, lay.c)
    rows = g["boundary"].reshape(-1, 1 << lay.c)
    book.add_exact("boundary", pr.bits_of(0, lay.kb) + list(r), _ext(evaluate(np.ascontiguousarray(rows[0]), list(r))))
    if not plan.h:
        v = sent(evaluate(g["thetaT"], list(r)))
        book.add("thetaT", r, v)
        book.add("boundary", pr.bits_of(lay.K, lay.kb) + list(r), v)
    else:
        from zkaudit.field import vec

        rf = t.challenge_exts(pr.LABEL_FLAT, plan.theta_vars)
        v = sent(evaluate(g["thetaT"], list(rf)))
        book.add("thetaT", rf, v)
        m = vec.ext_zeros(1 << plan.c)
        m[plan.shape.positions] = eq_table(list(rf))[:plan.d]
        proof, ev, _ = sumcheck_prover.prove([m, np.ascontiguousarray(rows[lay.K])], pr.PAIR, t, claimed_sum=v,
                                             public=(0,))
        stream.append(proof.to_bytes())
        book.add("boundary", pr.bits_of(lay.K, lay.kb) + list(ev.point), ev.values[1])
    link_stream: list[bytes] = []
    for c in weights_link_prover.prove(link_plan, link, {"theta": g["thetaT"]}, t, link_stream):
        book.add({"theta": "thetaT"}.get(c.tensor, c.tensor), c.point, c.value)
    stream.append(b"".join(link_stream))
    # each mirror is its dataset column
    polys = inp.dataset_opening.polys
    ds_claims = []
    for i in lay.ds_columns:
        z = t.challenge_exts(ch.LABEL_MIRROR + str(i).encode(), lay.ds_num_vars)
        proof, ev, _ = sumcheck_prover.prove([eq_table(list(z)), polys[i], g[f"mirror.{i}"]], ch.EQUALITY, t,
                                             claimed_sum=Fp2(0), public=(0,),
                                             pad_bank={1: pr.DATASET_BANK, 2: ADVICE_BANK})
        stream.append(proof.to_bytes())
        ds_claims.append(linear_claim(i, inp.dataset.bank_index, pr.DATASET_BANK, PointClaim(ev.point, ev.values[1])))
        book.add(f"mirror.{i}", ev.point, ev.values[2])
    # the tape: the K carried claims on each table as one
    tape_claims = []
    for i in range(len(ch.TAPE_TABLES)):
        cl = tape_carried[i]
        rhos = t.challenge_exts(ch.LABEL_TAPE_COMBINE + bytes([i]), len(cl))
        target = Fp2(0)
        for rho, c in zip(rhos, cl):
            target = rho * c.value + target
        table = inp.tape_tables[i]
        w = _weight_table(table.shape[0], cl, rhos, lay.kv)
        proof, ev, _ = sumcheck_prover.prove([table, w], REPAD, t, claimed_sum=target, public=(1,),
                                             pad_bank={0: pr.TAPE_BANK, MASK_BANK: pr.TAPE_BANK})
        stream.append(proof.to_bytes())
        tape_claims.append(linear_claim(i, len(ch.TAPE_TABLES), pr.TAPE_BANK, PointClaim(ev.point, ev.values[0])))
    folded = bank_linear_claim(len(ch.TAPE_TABLES), bank_claim(zk, pr.TAPE_BANK, t))
    if folded is not None:
        tape_claims.append(folded)
    # G: each table's claims as one
    g_claims = discharge_book(book, g, g_names, t, stream)
    folded = bank_linear_claim(len(g_names), bank_claim(zk, ADVICE_BANK, t))
    if folded is not None:
        g_claims.append(folded)
    bank_claim(zk, pr.DATASET_BANK, t)
    t.zk = None
    stream.append((t, {"global": g_claims, "tape": tape_claims, "dataset": ds_claims}))
    return stream


def _ext(v) -> Fp2:
    from zkaudit.field.scalar import Fp

    return Fp2.from_base(v) if isinstance(v, Fp) else v
