"""The training verifier (protocol in `protocol.py`). Recomputes everything
public itself: the coin's signature, the mask, the tables, theta_0, the
selectors and eq/LE/next evaluations, epsilon."""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit import pcs
from zkaudit.data.canonical import digest, parse_canonical
from zkaudit.data.records import DatasetRecord, hiding_params
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import committed_table_verifier
from zkaudit.lookup import verifier as lookup_verifier
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.committed_table import CommittedTableInstance, CommittedTableProof
from zkaudit.lookup.next_index import next_eval
from zkaudit.lookup.proof import LookupProof
from zkaudit.lookup.protocol import Lookup, LookupInstance
from zkaudit.pcs.hiding_claims import LinearClaim
from zkaudit.pcs.hiding_verifier import read_hiding_opening
from zkaudit.pcs.proof import Commitment
from zkaudit.poly.mle import eq_eval, evaluate, prefix_indicator
from zkaudit.statements.common.statement import bind, require_protocol
from zkaudit.statements.envelope import parse_envelope
from zkaudit.statements.inference.zk import ADVICE_BANK, REPAD, bank_elements, bank_linear_claim, linear_claim
from zkaudit.statements.training import protocol as pr
from zkaudit.statements.training.plan import Plan
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.sumcheck.zk import ZkSession, bank_claim, receive
from zkaudit.transcript import Transcript


MAX_TAPE_WORDS = 1 << 26  # 64 M words: a 10^5-row, 10-epoch MLP run needs ~3.4 M
MAX_ROWS = 1 << 24


class TrainingRejected(ProofRejected):
    """The training proof does not establish its statement."""


class StatementMismatch(TrainingRejected):
    """The proof is about another run, policy, dataset or coin than the one asked about."""


@dataclass(frozen=True)
class TrainingVerdict:
    run_id: bytes
    auditor_public_key: bytes
    dataset_use: int
    policy_digest: bytes
    dataset_digest: bytes
    theta_commitment: bytes
    soundness_bits: float
    privacy: object


def _ext(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _sc(blob: bytes, where: str) -> SumcheckProof:
    proof, end = SumcheckProof.read(blob, 0)
    if end != len(blob):
        raise MalformedProof("sum-check proof has trailing bytes", where=where)
    return proof


def verify_training(proof: bytes, *, run_record: dict | None = None, policy_doc: dict | None = None,
                    dataset_doc: dict | None = None, coin_doc: dict | None = None,
                    auditor_public_key: bytes | None = None) -> TrainingVerdict:
    """Raises a ProofRejected subclass naming the part; each given record must be the proof's.

    On its own the proof shows the coin is a valid signature by the key its
    run record names. That the key is a real auditor's, and that the run was
    registered before the coin (so the tape was fixed first), is what the
    registry's ordering adds; give `auditor_public_key` to require a key."""
    from zkaudit.train import randomness, tape
    from zkaudit.train.accountant import epsilon
    from zkaudit.train.policy import Policy
    from zkaudit.train.run import parse_run_record
    from zkaudit.train.trainer import Semantics, initial_theta

    env = parse_envelope(proof)
    name, body = env.statement, env.body
    if name != pr.STATEMENT:
        raise MalformedProof("not a training proof", where=pr.WHERE, expected=pr.STATEMENT, got=name)
    blobs = pr.Blobs(body)
    st = parse_canonical(blobs.next("statement"), "training statement")
    require_protocol(st, pr.STATEMENT_TYPE, pr.PROTOCOL_VERSION, what="training", where=pr.WHERE,
                     command="zkaudit prove-training")
    keys = {"type", "protocol_version", "run_record", "policy", "dataset", "dataset_use", "coin_signature",
            "theta_commitment"}
    if set(st) != keys:
        raise MalformedProof("training statement has the wrong keys", where=pr.WHERE, expected=sorted(keys),
                             got=sorted(st))
    for what, given, got in (("run record", run_record, st["run_record"]), ("policy", policy_doc, st["policy"]),
                             ("dataset", dataset_doc, st["dataset"])):
        if given is not None and digest(given) != digest(got):
            raise StatementMismatch(f"the proof is about another {what}", where=pr.WHERE,
                                    expected=digest(given).hex(), got=digest(got).hex())
    if coin_doc is not None and coin_doc.get("signature") != st["coin_signature"]:
        raise StatementMismatch("the proof uses another coin", where=pr.WHERE)
    try:
        policy = Policy.from_json(st["policy"])
        parse_run_record(st["run_record"], policy)
        ds = DatasetRecord.from_json(st["dataset"])
        use = st["dataset_use"]
        if not isinstance(use, int) or isinstance(use, bool) or not 0 <= use < len(ds.training_commitments):
            raise MalformedProof("the proof names no training commitment of its dataset record", where=pr.WHERE,
                                 expected=f"0..{len(ds.training_commitments) - 1}", got=use)
        ds_c = ds.training_commitments[use]
        theta_c = bytes.fromhex(st["theta_commitment"])
        sig = bytes.fromhex(st["coin_signature"])
    except ProofRejected:
        raise
    except Exception as exc:
        raise MalformedProof(f"training statement: {exc}", where=pr.WHERE) from None
    rec = st["run_record"]
    run_id = digest(rec)
    if rec["policy_digest"] != policy.digest.hex() or rec["dataset_record_digest"] != ds.digest.hex() \
            or rec["num_rows"] != ds.num_rows:
        raise StatementMismatch("the run record names another policy or dataset", where=pr.WHERE)
    # bounded work before anything is read: the mask and the tables grow with the policy and the record
    if policy.tape_words > MAX_TAPE_WORDS or ds.num_rows > MAX_ROWS:
        raise MalformedProof("the run is larger than this verifier takes", where=pr.WHERE,
                             expected=f"<= {MAX_TAPE_WORDS} tape words and {MAX_ROWS} rows",
                             got=(policy.tape_words, ds.num_rows))
    from zkaudit.train.errors import TrainingError
    from zkaudit.train.run import dataset_bounds, table_digests

    try:  # the proof's no-wrap argument rests on the dataset's declared ranges
        dataset_bounds(policy, ds.schema)
    except TrainingError as exc:
        raise StatementMismatch(str(exc), where=pr.WHERE) from None
    try:
        sem = Semantics.of(policy, ds.num_rows)
        plan = Plan(policy, ds.num_rows, sem)
        digests = table_digests(policy, ds.num_rows)
    except (ValueError, ArithmeticError, TrainingError) as exc:
        raise MalformedProof(f"the policy cannot be proven: {exc}", where=pr.WHERE) from None
    if rec.get("tables") != digests:
        raise StatementMismatch("the run record's table digests are not the policy's", where=pr.WHERE,
                                expected=digests, got=rec.get("tables"))
    if auditor_public_key is not None and _auditor_key(rec) != bytes(auditor_public_key):
        raise StatementMismatch("the run names another auditor key than the one required", where=pr.WHERE,
                                expected=bytes(auditor_public_key).hex(), got=_auditor_key(rec).hex())
    coin = randomness.verify_coin(_auditor_key(rec), run_id, sig)
    shape = tape.TapeShape.of(policy)
    c_r = bytes.fromhex(rec["tape"]["commitment"])
    mask = randomness.mask(coin, c_r, policy.digest, shape.num_words)
    if shape.chunked:
        from zkaudit.statements.training import chunked_verifier

        bits = chunked_verifier.verify(blobs, st, policy, sem, ds, ds_c, theta_c, shape, mask, c_r,
                                       initial_theta(policy))
        return TrainingVerdict(run_id, _auditor_key(rec), use, policy.digest, ds.digest, theta_c, bits,
                               epsilon(policy, ds.num_rows))

    adv_c = Commitment.from_bytes(blobs.next("advice commitment"))
    tape_bytes = blobs.next("tape commitment")
    if tape.digest(tape_bytes) != c_r:
        raise TrainingRejected("the tape commitment is not the run's c_R", where=f"{pr.WHERE}.tape")
    tape_c = Commitment.from_bytes(tape_bytes)
    stream = pr.Blobs(blobs.next("proof stream"))
    a_open_b, t_open_b, d_open_b = (blobs.next("advice opening"), blobs.next("tape opening"),
                                    blobs.next("dataset opening"))
    blobs.finish()
    names = [n for n, _ in plan.advice]
    from zkaudit.statements.inference import weights_link as wl

    link_plan = _link_plan(plan, theta_c)
    names += [wl.DIGESTS, wl.SALT]
    want = [nv for _, nv in plan.advice]
    if len(adv_c.num_vars) != len(names) + 1 or list(adv_c.num_vars[:len(want)]) != want:
        raise MalformedProof("the advice commitment does not hold the plan's tables", where=pr.WHERE)
    zk = ZkSession({ADVICE_BANK: bank_elements(adv_c.num_vars[-1]), pr.TAPE_BANK: 3,
                    pr.DATASET_BANK: len(ds.doc["polynomials"])})
    t = Transcript()
    bind(t, st, commitments={"advice": adv_c.to_bytes(), "tape": tape_c.to_bytes(),
                             "dataset": ds_c.to_bytes()})
    t.zk = zk
    v = _Verify(plan, t, zk, stream, shape.split(mask))
    v.run(ds, initial_theta(policy))
    from zkaudit.statements.inference.weights_link import verify as link_verify

    reader = _Reader(stream.next("hash link"))
    for c in link_verify(link_plan, reader, t):
        v.claim({"theta": "thetaT"}.get(c.tensor, c.tensor), c.point, c.value)
    if reader.offset != len(reader.data):
        raise MalformedProof("hash-link section has trailing bytes", where=pr.WHERE)
    adv_claims, tape_claims, ds_claims = v.discharge(ds, names, list(adv_c.num_vars[:len(names)]))
    stream.finish()
    t.zk = None
    params = hiding_params()
    pcs.verify(adv_c, adv_claims, read_hiding_opening(a_open_b, adv_c, params), t, params)
    pcs.verify(tape_c, tape_claims, read_hiding_opening(t_open_b, tape_c, params), t, params)
    pcs.verify(ds_c, ds_claims, read_hiding_opening(d_open_b, ds_c, ds.params), t, ds.params)
    privacy = epsilon(policy, ds.num_rows)
    return TrainingVerdict(run_id, _auditor_key(rec), use, policy.digest, ds.digest, theta_c, t.soundness_bits(), privacy)


def _auditor_key(rec: dict) -> bytes:
    src = rec.get("coin_source")
    for k in ("auditor_public_key", "public_key", "auditor"):
        if isinstance(src, dict) and isinstance(src.get(k), str):
            return bytes.fromhex(src[k])
    raise MalformedProof("the run record names no auditor key", where=pr.WHERE)


def _link_plan(plan: Plan, theta_c: bytes):
    from zkaudit.hash import commitment as hc
    from zkaudit.hash.commitment import TensorLayout
    from zkaudit.statements.inference.weights_link import LinkPlan

    try:
        record = hc.WeightCommitment.from_bytes(theta_c)
    except Exception as exc:
        raise MalformedProof(f"c_theta is not a weight commitment: {exc}", where=pr.WHERE) from None
    layouts = (TensorLayout("theta", (plan.d,), -plan.lim, plan.lim),)
    if record.n_weights != plan.d or record.layout_digest != hc.layout_digest(layouts):
        raise MalformedProof("c_theta is not a commitment to d weights in the policy's range", where=pr.WHERE)
    return LinkPlan(record, layouts)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.offset = data, 0

    def read(self, wire_type):
        obj, self.offset = wire_type.read(self.data, self.offset)
        return obj


class _Verify:
    def __init__(self, plan, t, zk, stream, mask_tables):
        self.plan, self.t, self.zk, self.stream = plan, t, zk, stream
        self.mask_tables = dict(zip(("m:gap", "m:last", "m:noise"), mask_tables))
        self.book = pr.ClaimBook(plan)
        self.tape_claims: dict[str, PointClaim] = {}
        self.virtual_i, self.pending = [], {}

    def claim(self, name, point, value):
        self.book.add(name, point, value)

    def column_claim(self, dom, c, point, value):
        pr.route_column(self.plan, dom, c, point, value, tape_claims=self.tape_claims, virtual_i=self.virtual_i,
                        claim=self.claim)

    def run(self, ds: DatasetRecord, theta0) -> None:
        self.run_core(ds)
        self.ends(theta0)

    def lookups(self) -> None:
        plan, t = self.plan, self.t
        specs = [plan.table_spec(n) for n in plan.table_order]
        lookups = [Lookup(plan.table_order.index(tb), 1 << plan.domains[dom].num_vars)
                   for dom, tb, _ in plan.lookup_list]
        inst = LookupInstance(tuple(specs), tuple(lookups))
        lc = lookup_verifier.verify(inst, LookupProof.from_bytes(self.stream.next("lookups")), t)
        for (dom, tb, columns), cl in zip(plan.lookup_list, lc.columns):
            for (c, const), pc in zip(columns, cl):
                self.column_claim(dom, c, pc.point, pc.value - const)
        for n, mc in zip(plan.table_order, lc.multiplicities):
            self.claim(f"mult.{n}", mc.point, mc.value)

    def run_core(self, ds: DatasetRecord) -> None:
        """Steps 1-5."""
        plan, t = self.plan, self.t
        # 1. public lookups
        self.lookups()
        # 2. the fetch
        width = 1 + (1 << plan.xk) + 1
        cinst = CommittedTableInstance(width, plan.a + plan.b, ds.num_vars, ds.num_rows)
        claims = committed_table_verifier.verify(cinst, CommittedTableProof.from_bytes(self.stream.next("fetch")), t)
        self.ds_claims = pr.fetch_claims(plan, ds, claims, t, self.claim, self.column_claim)
        # 3. zero-checks
        for dom in plan.domains.values():
            self.zero_check(dom)
        # 4-5
        if plan.h:
            self.features_mlp()
        else:
            self.features()
        self.shift()
        for pt, v in self.virtual_i:
            self.prefix(pt, v)

    def ends(self, theta0) -> None:
        """6. theta_0 and theta_T."""
        plan, t = self.plan, self.t
        r = t.challenge_exts(pr.LABEL_INIT, plan.c)
        init_point = pr.bits_of(0, plan.a) + list(r)
        import numpy as np

        from zkaudit.field import vec

        th0 = np.zeros(1 << plan.c, dtype=np.int64)
        th0[plan.shape.positions] = theta0
        self.book.add_exact("coord.theta", init_point, _ext(evaluate(vec.from_int64(th0), list(r))))
        if not plan.h:
            v = self.receive("theta_T value")
            self.claim("thetaT", r, v)
            self.claim("coord.theta", pr.bits_of(plan.T, plan.a) + list(r), v)
            return
        rf = t.challenge_exts(pr.LABEL_FLAT, plan.theta_vars)
        v = self.receive("theta_T value")
        self.claim("thetaT", rf, v)
        where = f"{pr.WHERE}.theta_T wiring"
        ev = sumcheck_verifier.verify(_sc(self.stream.next(where), where), v, plan.c, pr.PAIR, t, where=where,
                                      public=(0,))
        if ev.values[0] != pr.flat_weight(plan, rf, ev.point):
            raise TrainingRejected("theta_T wiring weight is not M(r, s)", where=where)
        self.claim("coord.theta", pr.bits_of(plan.T, plan.a) + list(ev.point), ev.values[1])

    def zero_check(self, dom):
        t = self.t
        names = pr.domain_tables(dom)
        alphas = t.challenge_exts(pr.LABEL_GATES + dom.name.encode(), pr.num_gates(dom))
        r = t.challenge_exts(pr.LABEL_POINT + dom.name.encode(), dom.num_vars)
        spec = pr.zero_check_spec(names, dom, alphas)
        public = (0,) + tuple(1 + names.index(n) for n in dom.public)
        where = f"{pr.WHERE}.zero-check {dom.name}"
        ev = sumcheck_verifier.verify(_sc(self.stream.next(where), where), Fp2(0), dom.num_vars, spec, t,
                                      where=where, public=public)
        s = list(ev.point)
        e = pr.masked_eq(dom.sel, r, s)
        if ev.values[0] != e:
            raise TrainingRejected("zero-check weight is not eq(r, s) sel(s)", where=where)
        committed = {}
        for n, val in zip(names, ev.values[1:]):
            if n in dom.public:
                want = eq_eval(r, s) if n == "eq" else pr.selector(dom.sel, s) if n == "sel" else \
                    _ext(evaluate(self.mask_tables[n], s))
                if val != want:
                    raise TrainingRejected(f"public table {n} differs from the verifier's", where=where)
            elif n in pr.PENDING:
                self.pending[(dom.name, n)] = (tuple(s), val)
            elif n in dom.columns:
                committed[n] = val
            else:
                self.column_claim(dom.name, n, s, val)
        self.book.add_stacked(dom, s, committed, t)

    def features(self):
        plan, t = self.plan, self.t
        lams = t.challenge_exts(pr.LABEL_FEAT, 3)
        s1, dot = self.pending[("slot", "dot")]
        _, xn = self.pending[("slot", "xn")]
        s2, shi = self.pending[("coord", "shi")]
        where = f"{pr.WHERE}.features"
        claimed = lams[0] * dot + lams[1] * xn + lams[2] * shi
        ev = sumcheck_verifier.verify(_sc(self.stream.next(where), where), claimed, plan.feat_vars, pr.feat_spec(lams),
                                      t, where=where, public=(0, 1))
        s = list(ev.point)
        st, sj, sk = s[:plan.a], s[plan.a:plan.a + plan.b], s[plan.a + plan.b:]
        if ev.values[0] != eq_eval(list(s1), st + sj) or \
                ev.values[1] != eq_eval(list(s2), st + sk) * prefix_indicator(plan.B, sj):
            raise TrainingRejected("feature sum-check weights are not eq", where=where)
        pr.feature_claims(plan, s, ev.values, self.claim)

    def receive(self, what: str):
        sent = Fp2.from_bytes(self.stream.next(what))
        v = receive(self.t, sent)
        self.t.absorb_ext(pr.LABEL_SENT, sent)
        return v

    def features_mlp(self):
        plan, t = self.plan, self.t
        a, b = plan.a, plan.b
        s1, dot = self.pending[("slot", "dot")]
        s2, shi = self.pending[("coord", "shi")]
        su, pre = self.pending[("unit", "pre")]
        st, su2, sk, (w1, w2, wb) = pr.shi_parts(plan, s2)
        g1v, g2v, gbv, b2v = (self.receive(f"gradient block {i}") for i in range(4))
        self.zk.require_equal(shi, w1 * g1v + w2 * g2v + wb * gbv, where="training.gradient blocks")
        self.claim("coord.theta", pr.b2_point(plan, s1[:a]), b2v)
        lams = t.challenge_exts(pr.LABEL_FEAT, 3)
        where = f"{pr.WHERE}.features"
        claimed = lams[0] * pre + lams[1] * self.pending[("slot", "xn")][1] + lams[2] * g1v
        ev = sumcheck_verifier.verify(_sc(self.stream.next(where), where), claimed, plan.feat_vars,
                                      pr.feat_spec(lams, True), t, where=where, public=(0, 1, 2))
        p = list(ev.point)
        pt, pj, pk = p[:a], p[a:a + b], p[a + b:]
        if ev.values[0] != eq_eval(list(su[:a + b]), pt + pj) or ev.values[1] != eq_eval(list(s1), pt + pj) or \
                ev.values[2] != eq_eval(st + sk, pt + pk) * prefix_indicator(plan.B, pj):
            raise TrainingRejected("feature sum-check weights are not eq", where=where)
        pr.feature_claims(plan, p, ev.values, self.claim, su, su2)
        mu = t.challenge_exts(pr.LABEL_HIDDEN, 6)
        hn, dn, dtn = (self.pending[("slot", n)][1] for n in ("hnorm", "dnorm", "dtnorm"))
        claimed = mu[0] * (dot - b2v * (1 << plan.f)) + mu[1] * (hn - (1 << 2 * plan.f)) + mu[2] * dn + mu[3] * dtn \
            + mu[4] * g2v + mu[5] * gbv
        where = f"{pr.WHERE}.hidden units"
        ev = sumcheck_verifier.verify(_sc(self.stream.next(where), where), claimed, a + b + plan.e,
                                      pr.hidden_spec(mu, plan.f), t, where=where, public=(0, 1, 2))
        p = list(ev.point)
        pt, pj, pu = p[:a], p[a:a + b], p[a + b:]
        jb = prefix_indicator(plan.B, pj)
        if ev.values[0] != eq_eval(list(s1), pt + pj) or \
                ev.values[1] != eq_eval(st, pt) * jb * eq_eval(su2, pu) or \
                ev.values[2] != eq_eval(st, pt) * jb * eq_eval(pr.bits_of(0, plan.e), pu):
            raise TrainingRejected("hidden-unit sum-check weights are not eq", where=where)
        pr.hidden_claims(plan, p, ev.values, self.claim)

    def shift(self):
        plan, t = self.plan, self.t
        s, v = self.pending[("coord", "next")]
        st, sk = list(s[:plan.a]), list(s[plan.a:])
        where = f"{pr.WHERE}.shift"
        ev = sumcheck_verifier.verify(_sc(self.stream.next(where), where), v, plan.a, pr.PAIR, t, where=where,
                                      public=(0,))
        if ev.values[0] != next_eval(st, list(ev.point)):
            raise TrainingRejected("shift weight is not next(s, s')", where=where)
        self.claim("coord.theta", list(ev.point) + sk, ev.values[1])

    def prefix(self, point, value):
        plan, t = self.plan, self.t
        st, sj = list(point[:plan.a]), list(point[plan.a:])
        where = f"{pr.WHERE}.index prefix"
        ev = sumcheck_verifier.verify(_sc(self.stream.next(where), where), value + 1, plan.b, pr.PAIR, t,
                                      where=where, public=(0,))
        if ev.values[0] != pr.le_eval(sj, list(ev.point)):
            raise TrainingRejected("prefix weight is not LE(s, s')", where=where)
        self.claim("slot.kg", st + list(ev.point), ev.values[1])

    def discharge(self, ds: DatasetRecord, names: list[str], num_vars: list[int]):
        t, zk = self.t, self.zk
        adv = self.advice_claims(names, num_vars)
        tape_claims = self.tape_claims_()
        dsc = self.dataset_claims(ds)
        folded = bank_linear_claim(len(names), bank_claim(zk, ADVICE_BANK, t))
        if folded is not None:
            adv.append(folded)
        for bank in self.other_banks:
            if bank_claim(zk, bank, t) is not None:
                raise MalformedProof(f"a deferred check on the {bank} commitment's bank", where=pr.WHERE)
        return adv, tape_claims, dsc

    other_banks = (pr.TAPE_BANK, pr.DATASET_BANK)

    def advice_claims(self, names: list[str], num_vars: list[int]) -> list:
        return discharge_book(self.book, self.stream, self.t, names, num_vars)

    def tape_claims_(self) -> list:
        out = []
        for i, (tname, c) in enumerate(self.tape_table_claims()):
            where = f"{pr.WHERE}.re-pad {tname}"
            reduced = _repad(self.stream.next(where), c, len(c.point), self.t, pr.TAPE_BANK, where)
            out.append(linear_claim(i, 3, pr.TAPE_BANK, reduced))
        return out

    def tape_table_claims(self) -> list:
        out = []
        for tname in ("R:gap", "R:last", "R:noise"):
            if tname not in self.tape_claims:
                raise MalformedProof(f"no claim on the tape table {tname}", where=pr.WHERE)
            out.append((tname, self.tape_claims[tname]))
        return out

    def dataset_claims(self, ds: DatasetRecord) -> list:
        dsc = []
        for i, c in self.ds_claims:
            where = f"{pr.WHERE}.re-pad dataset column {i}"
            reduced = _repad(self.stream.next(where), c, ds.num_vars, self.t, pr.DATASET_BANK, where)
            dsc.append(linear_claim(i, ds.bank_index, pr.DATASET_BANK, reduced))
        return dsc


def discharge_book(book, stream, t, names: list[str], num_vars) -> list:
    """The verifier's side of `prover.discharge_book`: each combination checked
    (its weight is the verifier's own sum_i rho_i eq(z_i, s)), every claim's
    table known and of its committed size (`num_vars`, in `names`' order)."""
    size = dict(zip(names, num_vars))
    index = {n: i for i, n in enumerate(names)}
    for name, cl, rhos, target in book.to_combine(t):
        where = f"{pr.WHERE}.combine {name}"
        nv = len(cl[0].point)
        if any(len(c.point) != nv for c in cl):
            raise MalformedProof(f"claims on {name} of different arity", where=where)
        ev = sumcheck_verifier.verify(_sc(stream.next(where), where), target, nv, pr.PAIR, t, where=where,
                                      public=(1,))
        if ev.values[1] != book.weight_at(cl, rhos, ev.point):
            raise TrainingRejected("combination weight is not sum rho_i eq(z_i, s)", where=where)
        book.claims[name] = [PointClaim(tuple(ev.point), ev.values[0])]
    out = []
    for name, cl in sorted(book.claims.items()):
        if name not in index:
            raise MalformedProof(f"a claim on an unknown table {name}", where=pr.WHERE)
        for c in cl:
            if len(c.point) != size[name]:
                raise MalformedProof(f"a claim on {name} has the wrong arity", where=pr.WHERE)
            out.append(linear_claim(index[name], len(names), ADVICE_BANK, c))
    for name, point, value in book.exact:
        out.append(LinearClaim(((index[name], tuple(point), Fp2(1)),), (), value))
    return out


def _repad(blob, claim: PointClaim, num_vars: int, t, bank: str, where: str) -> PointClaim:
    reduced = sumcheck_verifier.verify(_sc(blob, where), claim.value, num_vars, REPAD, t, where=where, public=(1,),
                                       pad_bank={0: bank})
    if reduced.values[1] != eq_eval(list(claim.point), reduced.point):
        raise TrainingRejected("re-padding weight is not eq", where=where)
    return PointClaim(reduced.point, reduced.values[0])


def _verify_registered(body: bytes, *, circuit_bin: bytes | None = None, weight_commitment: bytes | None = None,
                       **expected):
    """`zkaudit verify TRAIN.zkp`: the proof is self-contained (its statement names
    the run, policy, dataset and coin, each checked against the others)."""
    from zkaudit.statements.envelope import encode_envelope
    from zkaudit.statements.verify import Verified

    v = verify_training(encode_envelope(pr.STATEMENT, body))
    out = {"statement": pr.STATEMENT_TYPE, "run_id": v.run_id.hex(), "policy": v.policy_digest.hex(),
           "dataset": v.dataset_digest.hex(), "theta_commitment": v.theta_commitment.hex(),
           "privacy_loss": v.privacy.to_json()}
    return Verified(out, soundness_bits=v.soundness_bits,
                    privacy={"zero_knowledge": True, "hidden": "the data, the tape, the noise, every step's weights"})


def _register() -> None:
    from zkaudit.statements.verify import register_verifier

    register_verifier(pr.STATEMENT)(_verify_registered)


_register()
