"""The training prover (protocol in `protocol.py`, columns in `plan.py`).
Zero-knowledge only: a training witness holds the noise, and a proof that
revealed any linear combination of it would void the privacy it certifies."""

from __future__ import annotations

import numpy as np

from zkaudit import pcs
from zkaudit.data.records import hiding_params
from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import committed_table_prover
from zkaudit.lookup import prover as lookup_prover
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.committed_table import CommittedTableInstance
from zkaudit.lookup.next_index import next_table
from zkaudit.lookup.protocol import Lookup, LookupInstance
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.statements.common.statement import bind
from zkaudit.statements.envelope import encode_envelope
from zkaudit.statements.inference.zk import ADVICE_BANK, bank_words, linear_claim
from zkaudit.statements.training import protocol as pr
from zkaudit.statements.training.protocol import dataset_indices, theta_layouts
from zkaudit.statements.training import witness as wt
from zkaudit.statements.training.plan import Plan
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import send
from zkaudit.transcript import Transcript

_BANK: dict[tuple, int] = {}


def _ext(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _field(a: np.ndarray) -> np.ndarray:
    return vec.from_int64(np.ascontiguousarray(a, dtype=np.int64))


def fold_high(table: np.ndarray, point, low_vars: int) -> np.ndarray:
    """T(point, .) for a base table whose high variables are fixed at `point`."""
    rows = table.reshape(-1, 1 << low_vars)
    e = eq_table(list(point))
    out = vec.ext_zeros(1 << low_vars)
    for r in range(rows.shape[0]):
        out = vec.add(out, vec.scale(Fp2(int(e[r, 0]), int(e[r, 1])), rows[r]))
    return out


def fold_low(table: np.ndarray, point, low_vars: int) -> np.ndarray:
    """T(., point) for a base table whose low variables are fixed at `point`."""
    cols = table.reshape(-1, 1 << low_vars)
    e = eq_table(list(point))
    out = vec.ext_zeros(cols.shape[0])
    for k in range(cols.shape[1]):
        out = vec.add(out, vec.scale(Fp2(int(e[k, 0]), int(e[k, 1])), np.ascontiguousarray(cols[:, k])))
    return out


class Inputs:
    """Everything the prover needs: public records and the private opening."""

    def __init__(self, *, policy, sem, statement: dict, dataset, dataset_use, dataset_opening, tape_words, tape_seed,
                 tape_commitment, tape_data, mask_words, trace, X, y, theta_commitment, theta_salt, theta0):
        self.__dict__.update(locals())
        del self.__dict__["self"]


def prove(inp: Inputs) -> bytes:
    from zkaudit.sumcheck.zk import BankExhausted

    plan = Plan(inp.policy, inp.dataset.num_rows, inp.sem)
    cols = wt.build(plan, inp.trace, inp.X, inp.y, inp.tape_words, inp.mask_words)
    wt.fill_ranges(plan, cols)
    wt.check_gates(plan, cols)
    keep = {k: cols[k] for k in ("et", "hid", "shi") if k in cols}  # the integer tables read later
    f = {}
    while cols:  # field copies, dropping each integer table as it is converted (peak memory)
        k, v = cols.popitem()
        f[k] = _field(v)
    key = (plan.a, plan.b, plan.c, len(plan.ranges))
    size = _BANK.get(key, 40_000)
    while True:
        try:
            return _Run(plan, inp, f, keep).prove(size)
        except BankExhausted:  # the first try's bank was too small: retry with twice as many entries
            size *= 2


class _Run:
    def __init__(self, plan: Plan, inp: Inputs, f: dict, cols: dict):
        self.plan, self.inp, self.cols, self.f = plan, inp, cols, f
        self.book = pr.ClaimBook(plan)
        self.tape_claims: dict[str, PointClaim] = {}
        self.stream: list[bytes] = []
        self.virtual_i: list = []
        self.pending: dict = {}
        self.params = hiding_params()

    def claim(self, name: str, point, value) -> None:
        self.book.add(name, point, value)

    def _tables(self) -> dict:
        """The advice tables of the plan (stacked domains, X, thetaT unless
        chunked, the row and table multiplicities), with what steps 1 and 2 read."""
        plan, inp = self.plan, self.inp
        stacked = self._stack()
        # multiplicities of the public lookups and of the dataset fetch
        self.instance, self.lookup_cols = self._lookup_instance()
        self.mults = lookup_prover.multiplicities(self.instance, self.lookup_cols)
        self.fetch = self._fetch_columns()
        mD = committed_table_prover.table_multiplicities(self.fetch["lookup"], self.fetch["numerators"],
                                                         self.fetch["table"], inp.dataset.num_rows)
        tables = {}
        for name, nv in plan.advice:
            if name in ("X", "thetaT"):
                tables[name] = self.f[name]
            elif name == "mD":
                tables[name] = np.asarray(mD, dtype=np.uint64)
            elif name.startswith("mult."):
                tables[name] = np.asarray(self.mults[plan.table_order.index(name[5:])], dtype=np.uint64)
            else:
                tables[name] = stacked[name]
            if tables[name].shape[0] != 1 << nv:
                raise ValueError(f"advice table {name} has {tables[name].shape[0]} entries, the plan {1 << nv}")
        return tables

    def _commit(self, tables: dict, zk, bank_size: int):
        self.names = list(tables)
        bank = np.zeros(bank_words(bank_size), dtype=np.uint64)
        bank[: 2 * bank_size] = zk.table(ADVICE_BANK)
        self.tables = tables
        return pcs.commit([tables[n] for n in self.names] + [bank], self.params)

    def _core(self) -> None:
        """Steps 1-5 on the bound transcript `self.t`."""
        # 1. public lookups
        self._lookups()
        self.lookup_cols = None
        # 2. the dataset fetch
        self._prove_fetch()
        # 3. zero-checks
        points = {name: self._zero_check(dom) for name, dom in self.plan.domains.items()}
        # 4. features
        self._features(points)
        # 5. shift and prefix checks
        self._shift()
        for pt, v in self.virtual_i:
            self._prefix(pt, v)

    def prove(self, bank_size: int) -> bytes:
        from zkaudit.statements.inference import weights_link as wl
        from zkaudit.statements.inference.weights_link_prover import LinkWitness
        from zkaudit.sumcheck.zk import ZkProver

        plan, inp = self.plan, self.inp
        zk = ZkProver({ADVICE_BANK: bank_size, pr.TAPE_BANK: 3, pr.DATASET_BANK: inp.dataset_opening.polys.shape[0]},
                      {pr.TAPE_BANK: _tape_bank(inp.tape_seed), pr.DATASET_BANK: inp.dataset_opening.bank(inp.dataset_use)})
        self.link_plan = pr_link_plan(plan, inp.theta_commitment)
        self.link = LinkWitness(self.link_plan, {"theta": inp.trace.theta[-1]}, inp.theta_salt)
        tables = self._tables()
        tables[wl.DIGESTS], tables[wl.SALT] = self.link.digests, self.link.salt
        adv_c, adv_data = self._commit(tables, zk, bank_size)
        transcript = Transcript()
        statement = dict(inp.statement)
        bind(transcript, statement, commitments={"advice": adv_c.to_bytes(), "tape": inp.tape_commitment.to_bytes(),
                                                 "dataset": inp.dataset.use_commitment(inp.dataset_use).to_bytes()})
        transcript.zk = zk
        self.t = transcript
        self._core()
        # 6. theta_0, theta_T, the hash link
        self._ends()
        link_stream: list[bytes] = []
        from zkaudit.statements.inference import weights_link_prover

        link_tables = {"theta": self.f["thetaT"]}
        for c in weights_link_prover.prove(self.link_plan, self.link, link_tables, transcript, link_stream):
            name = {"theta": "thetaT"}.get(c.tensor, c.tensor)
            self.claim(name, c.point, c.value)
        self.stream.append(b"".join(link_stream))
        # 7. discharge
        adv_claims, tape_claims, ds_claims = self._discharge(zk)
        transcript.zk = None
        self.used = zk.banks_used()[ADVICE_BANK]
        _BANK[(plan.a, plan.b, plan.c, len(plan.ranges))] = self.used
        a_open = pcs.open(adv_data, adv_claims, transcript)
        t_open = pcs.open(inp.tape_data, tape_claims, transcript)
        d_open = pcs.open(inp.dataset_opening.prover_data(inp.dataset, inp.dataset_use), ds_claims, transcript)
        from zkaudit.data.canonical import canonical_json

        body = pr.pack([canonical_json(statement), adv_c.to_bytes(), inp.tape_commitment.to_bytes(),
                        pr.pack(self.stream), a_open.to_bytes(), t_open.to_bytes(), d_open.to_bytes()])
        return encode_envelope(pr.STATEMENT, body)

    def _stack(self) -> dict:
        """Each run of a domain's columns as one table (column index in the high
        bits); the columns become views into it, so the advice is held once."""
        out = {}
        for dom in self.plan.domains.values():
            for name, start, p in pr.stacks(dom):
                names = dom.columns[start:start + (1 << p)]
                table = np.concatenate([self.f[c] for c in names])
                n = table.shape[0] >> p
                for i, c in enumerate(names):
                    self.f[c] = table[i * n:(i + 1) * n]
                out[name] = table
        return out

    def _stack_vars(self, name: str) -> int:
        dom = self.plan.domains.get(name.split("#")[0]) if "#" in name else None
        return next(p for n, _, p in pr.stacks(dom) if n == name) if dom is not None else 0

    # --- 1 ------------------------------------------------------------------
    def _lookups(self) -> None:
        lproof, lclaims = lookup_prover.prove(self.instance, self.lookup_cols, self.mults, self.t)
        self.stream.append(lproof.to_bytes())
        self._lookup_claims(lclaims)

    def _lookup_instance(self):
        plan = self.plan
        specs = [plan.table_spec(t) for t in plan.table_order]
        lookups, cols = [], []
        for dom, table, columns in plan.lookup_list:
            nv = plan.domains[dom].num_vars
            lookups.append(Lookup(plan.table_order.index(table), 1 << nv))
            cols.append([self.f[c] if const == 0 else vec.add(self.f[c], _field(np.full(self.f[c].shape[0], const)))
                         for c, const in columns])
        return LookupInstance(tuple(specs), tuple(lookups)), cols

    def _lookup_claims(self, lclaims) -> None:
        for (dom, table, columns), cl in zip(self.plan.lookup_list, lclaims.columns):
            for (c, const), pc in zip(columns, cl):
                self._column_claim(dom, c, pc.point, pc.value - const)
        for t, mc in zip(self.plan.table_order, lclaims.multiplicities):
            self.claim(f"mult.{t}", mc.point, mc.value)

    def _column_claim(self, dom: str, c: str, point, value) -> None:
        pr.route_column(self.plan, dom, c, point, value, tape_claims=self.tape_claims, virtual_i=self.virtual_i,
                        claim=self.claim)

    # --- 2 ------------------------------------------------------------------
    def _fetch_columns(self) -> dict:
        plan, inp = self.plan, self.inp
        Kp = 1 << plan.xk
        X = self.f["X"].reshape(-1, Kp)
        lookup = [self.f["i"]] + [np.ascontiguousarray(X[:, k]) for k in range(Kp)] + [self.f["y"]]
        polys = inp.dataset_opening.polys
        feat_idx, label_idx = dataset_indices(inp.dataset, plan.policy)
        nt = 1 << inp.dataset.num_vars
        const = np.zeros(nt, dtype=np.uint64)
        const[:] = 1 << plan.f
        table = [np.arange(nt, dtype=np.uint64)] + [polys[i] for i in feat_idx] + [const] + \
            [np.zeros(nt, dtype=np.uint64)] * (Kp - plan.dx) + [polys[label_idx]]
        return {"lookup": lookup, "table": table, "numerators": self.f["live"]}

    def _prove_fetch(self) -> None:
        plan, inp, t = self.plan, self.inp, self.t
        fe = self.fetch
        inst = CommittedTableInstance(len(fe["lookup"]), plan.a + plan.b, inp.dataset.num_vars, inp.dataset.num_rows)
        mD = self.tables["mD"]
        proof, claims = committed_table_prover.prove(inst, fe["lookup"], fe["numerators"], fe["table"], mD, t)
        self.stream.append(proof.to_bytes())
        self.ds_claims = pr.fetch_claims(plan, inp.dataset, claims, t, self.claim, self._column_claim)

    # --- 3 ------------------------------------------------------------------
    def _zero_check(self, dom):
        t = self.t
        names = pr.domain_tables(dom)
        alphas = t.challenge_exts(pr.LABEL_GATES + dom.name.encode(), pr.num_gates(dom))
        r = t.challenge_exts(pr.LABEL_POINT + dom.name.encode(), dom.num_vars)
        spec = pr.zero_check_spec(names, dom, alphas)
        e = eq_table(r)
        sel = wt.sel_mask(dom).astype(np.uint64)
        e = e * sel[:, None]
        extra = {"eq": eq_table(r), "sel": sel}
        tables = [e] + [extra[n] if n in extra else self.f[n] for n in names]
        public = (0,) + tuple(1 + names.index(n) for n in dom.public)
        proof, ev, _ = sumcheck_prover.prove(tables, spec, t, claimed_sum=Fp2(0), public=public)
        self.stream.append(proof.to_bytes())
        s = ev.point
        committed = {}
        for n, v in zip(names, ev.values[1:]):
            if n in dom.public:
                continue
            if n in pr.PENDING:
                self.pending[(dom.name, n)] = (tuple(s), v)
            elif n in dom.columns:
                committed[n] = v
            else:
                self._column_claim(dom.name, n, s, v)
        self.book.add_stacked(dom, s, committed, t)
        return tuple(s)

    # --- 4 ------------------------------------------------------------------
    def _features(self, points) -> None:
        if self.plan.h:
            return self._features_mlp()
        plan, t = self.plan, self.t
        lams = t.challenge_exts(pr.LABEL_FEAT, 3)
        s1, dot = self.pending[("slot", "dot")]
        _, xn = self.pending[("slot", "xn")]
        s2, shi = self.pending[("coord", "shi")]
        A, Bp, Kp = 1 << plan.a, 1 << plan.b, 1 << plan.c
        e1 = np.repeat(eq_table(list(s1)), Kp, axis=0)
        jmask = (np.arange(Bp) < plan.B).astype(np.uint64).reshape(1, Bp, 1, 1)
        e2 = np.ascontiguousarray((np.broadcast_to(eq_table(list(s2)).reshape(A, 1, Kp, 2), (A, Bp, Kp, 2)) * jmask)
                                  .reshape(-1, 2))
        th = np.ascontiguousarray(np.broadcast_to(self.f["theta"].reshape(A, 1, Kp), (A, Bp, Kp)).reshape(-1))
        et = np.repeat(self.f["et"], Kp)
        claimed = lams[0] * dot + lams[1] * xn + lams[2] * shi
        proof, ev, _ = sumcheck_prover.prove([e1, e2, th, et, self.f["X"]], pr.feat_spec(lams), t,
                                             claimed_sum=claimed, public=(0, 1))
        self.stream.append(proof.to_bytes())
        pr.feature_claims(plan, ev.point, ev.values, self.claim)

    def _send(self, value):
        sent, v = send(self.t, _ext(value))
        self.t.absorb_ext(pr.LABEL_SENT, sent)
        self.stream.append(sent.to_bytes())
        return v

    def _features_mlp(self) -> None:
        """The MLP's two sum-checks: features over (t, j, k) (pre, xn, G1) and
        hidden units over (t, j, u) (dot, the three norms, G2, the b2 gradient)."""
        plan, t, cols = self.plan, self.t, self.cols
        A, Bp, Up, Kx = 1 << plan.a, 1 << plan.b, 1 << plan.e, 1 << plan.xk
        a, b, e = plan.a, plan.b, plan.e
        s1, dot = self.pending[("slot", "dot")]
        s2, shi = self.pending[("coord", "shi")]
        su, pre = self.pending[("unit", "pre")]
        st, su2, sk, (w1, w2, wb) = pr.shi_parts(plan, s2)
        jm = (np.arange(Bp) < plan.B).astype(np.int64)
        et = cols["et"].reshape(A, Bp) * jm[None, :]
        hid = cols["hid"].reshape(A, Bp, Up)
        shi_t = cols["shi"].reshape(A, 2, Up, Kx)
        g1 = evaluate(_field(shi_t[:, 0]), st + su2 + sk)
        g2 = evaluate(_field(np.einsum("tj,tju->tu", et, hid)), st + su2)
        gb = evaluate(_field(et.sum(axis=1) << plan.f), st)
        b2 = evaluate(self.f["theta"], pr.b2_point(plan, s1[:a]))
        g1v, g2v, gbv, b2v = (self._send(x) for x in (g1, g2, gb, b2))
        t.zk.require_equal(shi, w1 * g1v + w2 * g2v + wb * gbv, where="training.gradient blocks")
        self.claim("coord.theta", pr.b2_point(plan, s1[:a]), b2v)
        # features: pre(su) = sum_k W~1(t, u_su, k) X(t, j, k); xn(s1); G1(st, su2, sk)
        lams = t.challenge_exts(pr.LABEL_FEAT, 3)
        th4 = self.f["theta"].reshape(A, 2, Up, Kx)
        W1f = fold_low(np.ascontiguousarray(th4[:, 0].transpose(0, 2, 1)).reshape(-1), list(su[a + b:]), e)
        W1f = W1f.reshape(A, 1, Kx, 2)
        dhtf = fold_low(self.f["dht"], list(su2), e).reshape(A, Bp, 1, 2)
        e1u = np.repeat(eq_table(list(su[:a + b])), Kx, axis=0)
        e1 = np.repeat(eq_table(list(s1)), Kx, axis=0)
        e2 = np.ascontiguousarray((np.broadcast_to(eq_table(st + sk).reshape(A, 1, Kx, 2), (A, Bp, Kx, 2))
                                   * jm.astype(np.uint64).reshape(1, Bp, 1, 1)).reshape(-1, 2))
        wb_ = np.ascontiguousarray(np.broadcast_to(W1f, (A, Bp, Kx, 2)).reshape(-1, 2))
        db_ = np.ascontiguousarray(np.broadcast_to(dhtf, (A, Bp, Kx, 2)).reshape(-1, 2))
        claimed = lams[0] * pre + lams[1] * self.pending[("slot", "xn")][1] + lams[2] * g1v
        proof, ev, _ = sumcheck_prover.prove([e1u, e1, e2, wb_, db_, self.f["X"]], pr.feat_spec(lams, True), t,
                                             claimed_sum=claimed, public=(0, 1, 2))
        self.stream.append(proof.to_bytes())
        pr.feature_claims(plan, ev.point, ev.values, self.claim, su, su2)
        # hidden units over (t, j, u)
        _, hn = self.pending[("slot", "hnorm")]
        _, dn = self.pending[("slot", "dnorm")]
        _, dtn = self.pending[("slot", "dtnorm")]
        mu = t.challenge_exts(pr.LABEL_HIDDEN, 6)
        E1 = np.repeat(eq_table(list(s1)), Up, axis=0)
        E3 = self._e3(st, su2)
        E4 = self._e4(st)
        w2 = np.ascontiguousarray(np.broadcast_to(self.f["theta"].reshape(A, 2, Up, Kx)[:, 1, :, 0].reshape(A, 1, Up),
                                                  (A, Bp, Up)).reshape(-1))
        etb = np.repeat(self.f["et"], Up)
        claimed = mu[0] * (dot - b2v * (1 << plan.f)) + mu[1] * (hn - (1 << 2 * plan.f)) + mu[2] * dn + mu[3] * dtn \
            + mu[4] * g2v + mu[5] * gbv
        proof, ev, _ = sumcheck_prover.prove([E1, E3, E4, w2, self.f["hid"], self.f["dh"], self.f["dht"], etb],
                                             pr.hidden_spec(mu, plan.f), t, claimed_sum=claimed, public=(0, 1, 2))
        self.stream.append(proof.to_bytes())
        pr.hidden_claims(plan, ev.point, ev.values, self.claim)

    def _e3(self, st, su2):
        """eq(st, t) [j < B] eq(su2, u) over (t, j, u)."""
        A, Bp, Up = 1 << self.plan.a, 1 << self.plan.b, 1 << self.plan.e
        et_ = eq_table(list(st))
        eu = eq_table(list(su2))
        out = vec.ext_zeros(A * Bp * Up).reshape(A, Bp, Up, 2)
        for j in range(self.plan.B):
            out[:, j] = vec.mul(np.repeat(et_, Up, axis=0), np.tile(eu, (A, 1))).reshape(A, Up, 2)
        return out.reshape(-1, 2)

    def _e4(self, st):
        """eq(st, t) [j < B] [u = 0] over (t, j, u)."""
        A, Bp, Up = 1 << self.plan.a, 1 << self.plan.b, 1 << self.plan.e
        out = vec.ext_zeros(A * Bp * Up).reshape(A, Bp, Up, 2)
        et_ = eq_table(list(st))
        for j in range(self.plan.B):
            out[:, j, 0] = et_
        return out.reshape(-1, 2)

    # --- 5 ------------------------------------------------------------------
    def _shift(self) -> None:
        plan, t = self.plan, self.t
        s, v = self.pending[("coord", "next")]
        st, sk = list(s[:plan.a]), list(s[plan.a:])
        folded = fold_low(self.f["theta"], sk, plan.c)
        proof, ev, _ = sumcheck_prover.prove([next_table(st), folded], pr.PAIR, t, claimed_sum=v, public=(0,))
        self.stream.append(proof.to_bytes())
        self.claim("coord.theta", list(ev.point) + sk, ev.values[1])

    def _prefix(self, point, value) -> None:
        plan, t = self.plan, self.t
        st, sj = list(point[:plan.a]), list(point[plan.a:])
        folded = fold_high(self.f["kg"], st, plan.b)
        proof, ev, _ = sumcheck_prover.prove([pr.le_table(sj), folded], pr.PAIR, t, claimed_sum=value + 1,
                                             public=(0,))
        self.stream.append(proof.to_bytes())
        self.claim("slot.kg", st + list(ev.point), ev.values[1])

    # --- 6 ------------------------------------------------------------------
    def _ends(self) -> None:
        plan, t = self.plan, self.t
        r = t.challenge_exts(pr.LABEL_INIT, plan.c)
        self.init_point = pr.bits_of(0, plan.a) + list(r)
        self.book.add_exact("coord.theta", self.init_point, _ext(evaluate(self.f["theta"], self.init_point)))
        if not plan.h:  # the layout is theta's flat order
            v = self._send(evaluate(self.f["thetaT"], list(r)))
            self.claim("thetaT", r, v)
            self.claim("coord.theta", pr.bits_of(plan.T, plan.a) + list(r), v)
            return
        # thetaT (flat, what c_theta hashes) against theta_T in the layout:
        # thetaT(rf) = sum_x M(rf, x) theta(T, x), M the wiring (`protocol.flat_weight`)
        rf = t.challenge_exts(pr.LABEL_FLAT, plan.theta_vars)
        v = self._send(evaluate(self.f["thetaT"], list(rf)))
        self.claim("thetaT", rf, v)
        m = vec.ext_zeros(1 << plan.c)
        m[plan.shape.positions] = eq_table(list(rf))[:plan.d]
        row = np.ascontiguousarray(self.f["theta"].reshape(-1, 1 << plan.c)[plan.T])
        proof, ev, _ = sumcheck_prover.prove([m, row], pr.PAIR, t, claimed_sum=v, public=(0,))
        self.stream.append(proof.to_bytes())
        self.claim("coord.theta", pr.bits_of(plan.T, plan.a) + list(ev.point), ev.values[1])

    # --- 7 ------------------------------------------------------------------
    def _discharge(self, zk):
        from zkaudit.statements.inference.zk import bank_linear_claim
        from zkaudit.sumcheck.zk import bank_claim

        adv = self._advice_claims()
        tape_claims = self._tape_claims()
        ds = self._dataset_claims()
        folded = bank_linear_claim(len(self.names), bank_claim(zk, ADVICE_BANK, self.t))
        if folded is not None:
            adv.append(folded)
        for bank in self.other_banks:
            bank_claim(zk, bank, self.t)
        return adv, tape_claims, ds

    other_banks = (pr.TAPE_BANK, pr.DATASET_BANK)

    def _advice_claims(self) -> list:
        return discharge_book(self.book, self.tables, self.names, self.t, self.stream, self._stack_vars)

    def _tape_claims(self) -> list:
        tape_claims = []
        tape_tables = self.inp.tape_tables
        for i, tname in enumerate(("R:gap", "R:last", "R:noise")):
            c = self.tape_claims[tname]
            sc, reduced = _repad(tape_tables[i], c, self.t, pr.TAPE_BANK)
            self.stream.append(sc.to_bytes())
            tape_claims.append(linear_claim(i, 3, pr.TAPE_BANK, reduced))
        return tape_claims

    def _dataset_claims(self) -> list:
        from zkaudit.statements.consent.prover import repad

        ds = []
        polys = self.inp.dataset_opening.polys
        for i, c in self.ds_claims:
            sc, reduced = repad(polys[i], c, self.t)
            self.stream.append(sc.to_bytes())
            ds.append(linear_claim(i, self.inp.dataset.bank_index, pr.DATASET_BANK, reduced))
        return ds


def discharge_book(book, tables: dict, names: list[str], transcript, stream: list, stack_vars=lambda name: 0) -> list:
    """A commitment's claims from a claim book: each table with more than one
    claim combined into one (a sum-check against sum_i rho_i eq(z_i, .)), then
    one linear claim per claim, padded from the advice bank, and the exact
    claims (`verifier.discharge_book` mirrors it). `names`: the commitment's
    tables in order; `stack_vars(name)`: a stacked table's column variables."""
    from zkaudit.pcs.hiding import LinearClaim

    index = {n: i for i, n in enumerate(names)}
    for name, cl, rhos, target in book.to_combine(transcript):
        w = _weight_table(tables[name].shape[0], cl, rhos, stack_vars(name))
        sc, ev, _ = sumcheck_prover.prove([tables[name], w], pr.PAIR, transcript, claimed_sum=target, public=(1,))
        stream.append(sc.to_bytes())
        book.claims[name] = [PointClaim(tuple(ev.point), ev.values[0])]
    out = [linear_claim(index[name], len(names), ADVICE_BANK, c) for name, cl in sorted(book.claims.items())
           for c in cl]
    for name, point, value in book.exact:
        out.append(LinearClaim(((index[name], tuple(point), Fp2(1)),), (), value))
    return out


def _weight_table(size: int, claims, rhos, col_vars: int) -> np.ndarray:
    """W = sum_i rho_i eq(z_i, .), built block by block: a claim whose column
    coordinates are 0/1 touches one column's block only."""
    n = (size.bit_length() - 1) - col_vars
    w = vec.ext_zeros(size)
    for r, c in zip(rhos, claims):
        colpart, z = list(c.point[:col_vars]), list(c.point[col_vars:])
        ez = eq_table(z)
        ec = eq_table(colpart) if col_vars else np.array([[1, 0]], dtype=np.uint64)
        for k in range(ec.shape[0]):
            if ec[k, 0] == 0 and ec[k, 1] == 0:
                continue
            coeff = r * Fp2(int(ec[k, 0]), int(ec[k, 1]))
            block = slice(k << n, (k + 1) << n)
            w[block] = vec.add(w[block], vec.scale(coeff, ez))
    return w


def _repad(column: np.ndarray, claim: PointClaim, transcript, bank: str):
    from zkaudit.statements.inference.zk import REPAD

    sc, reduced, _ = sumcheck_prover.prove([column, eq_table(list(claim.point))], REPAD, transcript,
                                           claimed_sum=claim.value, public=(1,), pad_bank={0: bank})
    return sc, PointClaim(reduced.point, reduced.values[0])


def _tape_bank(seed: bytes) -> np.ndarray:
    from zkaudit.train import tape

    return tape.bank(seed)


def pr_link_plan(plan: Plan, theta_commitment: bytes):
    from zkaudit.hash import commitment as hc
    from zkaudit.statements.inference.weights_link import LinkPlan

    return LinkPlan(hc.WeightCommitment.from_bytes(theta_commitment), theta_layouts(plan.policy))


