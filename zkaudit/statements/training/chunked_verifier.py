"""The chunked training verifier (protocol in `chunked.py`): each chunk as
the one-piece verifier's steps 1-5 on the chunk's plan, then 6' and 7', then
the closing part."""

from __future__ import annotations

import hashlib
import math

import numpy as np

from zkaudit import pcs
from zkaudit.data.records import hiding_params
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.lookup.claim import PointClaim
from zkaudit.pcs.hiding_verifier import read_hiding_opening
from zkaudit.pcs.proof import Commitment
from zkaudit.poly.mle import eq_eval, evaluate
from zkaudit.statements.common.statement import bind
from zkaudit.statements.inference.zk import ADVICE_BANK, REPAD, bank_elements, bank_linear_claim, linear_claim
from zkaudit.statements.training import chunked as ch
from zkaudit.statements.training import protocol as pr
from zkaudit.statements.training.plan import Plan
from zkaudit.statements.training.verifier import TrainingRejected, _ext, _link_plan, _Reader, _repad, _sc, _Verify, \
    discharge_book
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import MASK_BANK, ZkSession, bank_claim, receive
from zkaudit.transcript import Transcript


def verify(blobs, st: dict, policy, sem, ds, ds_c, theta_c: bytes, shape, mask, c_r: bytes, theta0) -> float:
    """Checks a chunked proof's body after its statement; returns its soundness bits."""
    from zkaudit.statements.inference import weights_link as wl
    from zkaudit.train import tape

    plan_full = Plan(policy, ds.num_rows, sem)
    feat_idx, label_idx = pr.dataset_indices(ds, policy)
    lay = ch.Layout(plan_full, shape, list(feat_idx) + [label_idx], ds.num_vars)
    g_c = Commitment.from_bytes(blobs.next("global commitment"))
    tape_bytes = blobs.next("tape commitment")
    if tape.digest(tape_bytes) != c_r:
        raise TrainingRejected("the tape commitment is not the run's c_R", where=f"{pr.WHERE}.tape")
    tape_c = Commitment.from_bytes(tape_bytes)
    chunks = pr.Blobs(blobs.next("chunks"))
    final = pr.Blobs(blobs.next("closing stream"))
    g_open_b, t_open_b, d_open_b = (blobs.next("global opening"), blobs.next("tape opening"),
                                    blobs.next("dataset opening"))
    blobs.finish()
    link_plan = _link_plan(plan_full, theta_c)
    tables = lay.global_tables()
    g_names = [n for n, _ in tables] + [wl.DIGESTS, wl.SALT]
    if len(g_c.num_vars) != len(g_names) + 1 or list(g_c.num_vars[:len(tables)]) != [nv for _, nv in tables]:
        raise MalformedProof("the global commitment does not hold the chunking's tables", where=f"{pr.WHERE}.global")
    g_bank = bank_elements(g_c.num_vars[-1])
    if g_bank < lay.K * lay.per_chunk:
        raise MalformedProof("the global commitment's bank has no room for every chunk's pads",
                             where=f"{pr.WHERE}.global", expected=lay.K * lay.per_chunk, got=g_bank)
    if len(tape_c.num_vars) != 4 or tuple(tape_c.num_vars[:3]) != shape.table_vars:
        raise MalformedProof("the tape commitment is not laid out by chunk", where=f"{pr.WHERE}.tape")
    base = ch.chunk_statement_commitments(g_c.to_bytes(), tape_c.to_bytes(), ds_c.to_bytes())
    carried, raw, bits = [], [], []
    for k in range(lay.K):
        blob = chunks.next(f"chunk {k}")
        raw.append(blob)
        out, b = _verify_chunk(k, blob, st, policy, sem, ds, lay, shape, mask, base)
        carried += out
        bits.append(b)
    chunks.finish()
    t = Transcript()
    bind(t, st, commitments={**base, "chunks": hashlib.sha256(pr.pack(raw)).digest()})
    zk = ZkSession({ADVICE_BANK: g_bank, pr.TAPE_BANK: shape.bank_entries, pr.DATASET_BANK: len(ds.doc["polynomials"])})
    zk.cursors[ADVICE_BANK].used = lay.K * lay.per_chunk
    zk.cursors[pr.TAPE_BANK].used = len(ch.TAPE_TABLES) * lay.K
    t.zk = zk
    claims = _close(t, zk, final, lay, plan_full, ds, link_plan, g_names, list(g_c.num_vars[:len(g_names)]), carried,
                    theta0)
    final.finish()
    t.zk = None
    _opening("global", g_c, claims["global"], g_open_b, t, hiding_params())
    _opening("tape", tape_c, claims["tape"], t_open_b, t, hiding_params())
    _opening("dataset", ds_c, claims["dataset"], d_open_b, t, ds.params)
    # max over the chunks plus the closing part (`chunked.py`: the first chunk whose relation fails)
    return -math.log2(max(2.0 ** -b for b in bits) + 2.0 ** -t.soundness_bits())


def _verify_chunk(k, blob, st, policy, sem, ds, lay, shape, mask, base):
    where = f"{pr.WHERE}.chunk {k}"
    parts = pr.Blobs(blob)
    adv_c = Commitment.from_bytes(parts.next(f"chunk {k} advice commitment"))
    stream = pr.Blobs(parts.next(f"chunk {k} stream"))
    a_open_b = parts.next(f"chunk {k} advice opening")
    parts.finish()
    s0, s1 = shape.chunk_range(k)
    plan = Plan(policy, ds.num_rows, sem, chunk=(s1 - s0, lay.a_c))
    names = [n for n, _ in plan.advice]
    want = [nv for _, nv in plan.advice]
    if len(adv_c.num_vars) != len(names) + 1 or list(adv_c.num_vars[:len(want)]) != want:
        raise MalformedProof("the chunk's advice commitment does not hold its plan's tables", where=where)
    zk = ZkSession({ADVICE_BANK: bank_elements(adv_c.num_vars[-1]), pr.TAPE_BANK: 3, ch.GLOBAL_BANK: lay.per_chunk})
    t = Transcript()
    bind(t, st, commitments={**base, "advice": adv_c.to_bytes(), "chunk": k.to_bytes(4, "little")})
    t.zk = zk
    W = shape.words_per_step
    mask_tables = shape.chunk_shape(k).split_rows(np.asarray(mask)[s0 * W:s1 * W], lay.a_c)
    v = _ChunkVerify(plan, t, zk, stream, mask_tables, k=k, lay=lay)
    v.run_core(ds)
    v.ends(None)
    adv_claims, _, _ = v.discharge(ds, names, list(adv_c.num_vars[:len(names)]))
    stream.finish()
    t.zk = None
    _opening(f"chunk {k} advice", adv_c, adv_claims, a_open_b, t, hiding_params())
    return v.carried, t.soundness_bits()


def _opening(what: str, commitment, claims, blob: bytes, t, params) -> None:
    """One commitment's opening, a rejection naming which."""
    try:
        pcs.verify(commitment, claims, read_hiding_opening(blob, commitment, params), t, params)
    except ProofRejected as exc:
        raise TrainingRejected(f"the {what} commitment's opening: {exc}", where=f"{pr.WHERE}.{what} opening") \
            from None


class _ChunkVerify(_Verify):
    other_banks = (pr.TAPE_BANK, ch.GLOBAL_BANK)

    def __init__(self, plan, t, zk, stream, mask_tables, *, k, lay):
        super().__init__(plan, t, zk, stream, mask_tables)
        self.k, self.lay = k, lay
        self.carried: list = []

    def ends(self, theta0) -> None:
        plan, t, lay = self.plan, self.t, self.lay
        r = t.challenge_exts(pr.LABEL_INIT, plan.c)
        for row, kk in ((0, self.k), (plan.T, self.k + 1)):
            where = f"{pr.WHERE}.chunk {self.k} boundary {kk}"
            ev = sumcheck_verifier.verify(_sc(self.stream.next(where), where), Fp2(0), plan.c, ch.EQUALITY, t,
                                          where=where, public=(0,), pad_bank={1: ADVICE_BANK, 2: ch.GLOBAL_BANK})
            if ev.values[0] != eq_eval(list(r), list(ev.point)):
                raise TrainingRejected("boundary weight is not eq(r, s)", where=where)
            self.claim("coord.theta", pr.bits_of(row, plan.a) + list(ev.point), ev.values[1])
            self.carried.append(("boundary", tuple(pr.bits_of(kk, lay.kb) + list(ev.point)),
                                 lay.remap(ev.values[2], self.k)))

    def tape_claims_(self) -> list:
        for i, (tname, c) in enumerate(self.tape_table_claims()):
            where = f"{pr.WHERE}.chunk {self.k} re-pad {tname}"
            reduced = _repad(self.stream.next(where), c, len(c.point), self.t, pr.TAPE_BANK, where)
            self.carried.append((f"tape.{i}", tuple(pr.bits_of(self.k, self.lay.kv) + list(reduced.point)),
                                 self.lay.remap(reduced.value, self.k)))
        return []

    def dataset_claims(self, ds) -> list:
        for i, c in self.ds_claims:
            where = f"{pr.WHERE}.chunk {self.k} re-pad dataset column {i}"
            reduced = _repad(self.stream.next(where), c, ds.num_vars, self.t, ch.GLOBAL_BANK, where)
            self.carried.append((f"mirror.{i}", tuple(reduced.point), self.lay.remap(reduced.value, self.k)))
        return []


def _close(t, zk, stream, lay, plan, ds, link_plan, g_names, g_num_vars, carried, theta0) -> dict:
    from zkaudit.statements.inference.weights_link import verify as link_verify

    book, tape_carried = ch.sort_carried(carried)

    def received(what):
        s = Fp2.from_bytes(stream.next(what))
        v = receive(t, s)
        t.absorb_ext(pr.LABEL_SENT, s)
        return v

    r = t.challenge_exts(pr.LABEL_INIT, lay.c)
    th0 = np.zeros(1 << lay.c, dtype=np.int64)
    th0[plan.shape.positions] = theta0
    book.add_exact("boundary", pr.bits_of(0, lay.kb) + list(r), _ext(evaluate(vec.from_int64(th0), list(r))))
    if not plan.h:
        v = received("theta_T value")
        book.add("thetaT", r, v)
        book.add("boundary", pr.bits_of(lay.K, lay.kb) + list(r), v)
    else:
        rf = t.challenge_exts(pr.LABEL_FLAT, plan.theta_vars)
        v = received("theta_T value")
        book.add("thetaT", rf, v)
        where = f"{pr.WHERE}.theta_T wiring"
        ev = sumcheck_verifier.verify(_sc(stream.next(where), where), v, plan.c, pr.PAIR, t, where=where,
                                      public=(0,))
        if ev.values[0] != pr.flat_weight(plan, rf, ev.point):
            raise TrainingRejected("theta_T wiring weight is not M(r, s)", where=where)
        book.add("boundary", pr.bits_of(lay.K, lay.kb) + list(ev.point), ev.values[1])
    reader = _Reader(stream.next("hash link"))
    for c in link_verify(link_plan, reader, t):
        book.add({"theta": "thetaT"}.get(c.tensor, c.tensor), c.point, c.value)
    if reader.offset != len(reader.data):
        raise MalformedProof("hash-link section has trailing bytes", where=pr.WHERE)
    ds_claims = []
    for i in lay.ds_columns:
        where = f"{pr.WHERE}.mirror of dataset column {i}"
        z = t.challenge_exts(ch.LABEL_MIRROR + str(i).encode(), lay.ds_num_vars)
        ev = sumcheck_verifier.verify(_sc(stream.next(where), where), Fp2(0), lay.ds_num_vars, ch.EQUALITY, t,
                                      where=where, public=(0,), pad_bank={1: pr.DATASET_BANK, 2: ADVICE_BANK})
        if ev.values[0] != eq_eval(list(z), list(ev.point)):
            raise TrainingRejected("mirror weight is not eq(z, s)", where=where)
        ds_claims.append(linear_claim(i, ds.bank_index, pr.DATASET_BANK, PointClaim(ev.point, ev.values[1])))
        book.add(f"mirror.{i}", ev.point, ev.values[2])
    tape_claims = []
    for i in range(len(ch.TAPE_TABLES)):
        cl = tape_carried[i]
        where = f"{pr.WHERE}.tape {ch.TAPE_TABLES[i]} combined"
        rhos = t.challenge_exts(ch.LABEL_TAPE_COMBINE + bytes([i]), len(cl))
        target = Fp2(0)
        for rho, c in zip(rhos, cl):
            target = rho * c.value + target
        nv = lay.shape.table_vars[i]
        ev = sumcheck_verifier.verify(_sc(stream.next(where), where), target, nv, REPAD, t, where=where,
                                      public=(1,), pad_bank={0: pr.TAPE_BANK, MASK_BANK: pr.TAPE_BANK})
        if ev.values[1] != book.weight_at(cl, rhos, ev.point):
            raise TrainingRejected("combination weight is not sum rho_k eq(z_k, s)", where=where)
        tape_claims.append(linear_claim(i, len(ch.TAPE_TABLES), pr.TAPE_BANK, PointClaim(ev.point, ev.values[0])))
    folded = bank_linear_claim(len(ch.TAPE_TABLES), bank_claim(zk, pr.TAPE_BANK, t))
    if folded is not None:
        tape_claims.append(folded)
    g_claims = discharge_book(book, stream, t, g_names, g_num_vars)
    folded = bank_linear_claim(len(g_names), bank_claim(zk, ADVICE_BANK, t))
    if folded is not None:
        g_claims.append(folded)
    if bank_claim(zk, pr.DATASET_BANK, t) is not None:
        raise MalformedProof("a deferred check on the dataset commitment's bank", where=pr.WHERE)
    return {"global": g_claims, "tape": tape_claims, "dataset": ds_claims}
