"""Link prover (the relation and protocol are at the top of `verifier.py`).

`prove_link` takes theta (the integer vector the trainer ends with) and its
salt, the compiled circuit, its integer weights and their salt, the per
layer float32 scales and theta's declared limit, and returns the proof
file's bytes. An honest prover refuses (LinkMismatch) when the compiled
weights are not the declared quantization of theta; `unchecked=True` and
`tamper` exist for the attack tests only: they let a prover commit
whatever it likes and see the verifier reject it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zkaudit import pcs
from zkaudit.errors import ZkauditError
from zkaudit.gc_pause import pausing
from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.hash import commitment as hc
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.tensor import embed
from zkaudit.statements.common.statement import bind
from zkaudit.statements.envelope import encode_envelope
from zkaudit.statements.inference import committed_range_prover, weights_link_prover
from zkaudit.statements.inference import weights_link as wl
from zkaudit.statements.inference.commitment import zk_params
from zkaudit.statements.inference.zk import ADVICE_BANK, bank_linear_claim, bank_words, linear_claim
from zkaudit.statements.link import plan as lp
from zkaudit.statements.link import errors as le
from zkaudit.statements.link import statement as lv
from zkaudit.statements.link.proof import STATEMENT, WHERE, LinkProof, build_statement, default_pi
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import check_equal, send
from zkaudit.transcript import Transcript


class LinkMismatch(ZkauditError):
    """An honest prover cannot prove the link: the compiled weights are not
    the declared quantization of theta (or a commitment does not open)."""


def witness_columns(plan: lp.Plan, theta) -> dict[str, list[int]]:
    """The gadget's columns over theta's padded domain (Python ints, 0 on
    padding), W included (theta's order), and the saturation count."""
    size = plan.size
    cols = {n: [0] * size for n in lp.WITNESS}
    for m in plan.tensors:
        n, den = m.multiplier(plan.weight_bits)
        lo, hi = m.bounds
        for i in m.theta_indices().tolist():
            th = int(theta[i])
            q = (2 * n * th + den) // (2 * den)
            r = 2 * n * th + den - 2 * den * q
            sh, sl = int(m.clamp and q > hi), int(m.clamp and q < lo)
            cols[lp.THETA][i] = th
            cols[lp.Q][i], cols[lp.R][i], cols[lp.RR][i] = q, r, 2 * den - 1 - r
            cols[lp.SH][i], cols[lp.SL][i] = sh, sl
            cols[lp.W_VIRTUAL][i] = hi if sh else lo if sl else q
            cols[lp.E1][i] = q - hi - 1 if sh else hi - q
            cols[lp.E2][i] = lo - 1 - q if sl else q - lo
    return cols


def quantized_tensors(plan: lp.Plan, cols) -> dict[str, np.ndarray]:
    """W' (theta's order) laid out as the circuit's tensors."""
    w = np.array(cols[lp.W_VIRTUAL], dtype=np.int64)
    return {m.name: w[m.theta_indices()].reshape(m.shape) for m in plan.tensors}


@pausing
def prove_link(theta, theta_salt, circuit, weights, weight_salt, layers: list[dict], *, limit: int,
               weight_bits: int, theta_commitment: bytes | None = None, weight_commitment: bytes | None = None,
               pi: list[dict] | None = None, saturated: int | None = None, unchecked: bool = False,
               tamper: Callable[[dict, dict], None] | None = None) -> bytes:
    """The proof file's bytes. `layers`: per layer {"in_scale", "w_scale",
    "b_scale"} (float32 values, as `QuantLayer` and result.json hold them).
    The commitments default to the ones theta/weights and their salts make.
    `pi`, `saturated`, `unchecked`, `tamper(columns, weights)`: attack tests only."""
    from zkaudit.circuit.encoding import circuit_digest

    theta = [int(v) for v in theta]
    weights = {s.name: np.asarray(weights[s.name], dtype=np.int64) for s in circuit.weights}
    pi = default_pi(circuit) if pi is None else pi
    layout = hc.TensorLayout(lp.THETA, (len(theta),), -limit, limit)
    if theta_commitment is None:
        theta_commitment = hc.commit_weights([layout], [np.array(theta, dtype=np.int64)], theta_salt)[0].to_bytes()
    if weight_commitment is None:
        from zkaudit.statements.inference.commitment import hashed_weight_commitment

        weight_commitment = hashed_weight_commitment(circuit, weights, weight_salt)[0].to_bytes()
    st = build_statement(circuit_digest=circuit_digest(circuit), theta_commitment=theta_commitment,
                         weight_commitment=weight_commitment, d=len(theta), limit=limit, weight_bits=weight_bits,
                         layers=layers, pi=pi, saturated=0)
    try:
        if not unchecked:
            lv.check_quant_spec(st, circuit)
        plan = lv.plan_of(st, circuit)
        theta_plan = lv.theta_link_plan(plan, theta_commitment)
        w_plan = lv.weight_link_plan(circuit, weight_commitment)
    except Exception as exc:  # a statement the verifier would refuse: say why, in its words
        from zkaudit.errors import ProofRejected

        if isinstance(exc, ProofRejected):
            raise LinkMismatch(f"the link statement is not provable: {exc}") from None
        raise
    cols = witness_columns(plan, theta)
    if not unchecked:
        if any(abs(v) > limit for v in theta):
            raise LinkMismatch(f"theta has an entry outside [-{limit}, {limit}]")
        want = quantized_tensors(plan, cols)
        for m in plan.tensors:
            bad = np.flatnonzero(want[m.name].reshape(-1) != weights[m.name].reshape(-1))
            if bad.size:
                k = np.unravel_index(int(bad[0]), m.shape)
                raise LinkMismatch(f"compiled weight {m.name}{list(map(int, k))} = "
                                   f"{int(weights[m.name].reshape(-1)[bad[0]])} is not the declared quantization of "
                                   f"theta ({int(want[m.name].reshape(-1)[bad[0]])}); {bad.size} entries differ")
            if int(want[m.name].min()) < m.lo or int(want[m.name].max()) > m.hi:
                raise LinkMismatch(f"a quantized {m.name} entry lies outside the circuit's range [{m.lo}, {m.hi}]")
    if tamper is not None:
        tamper(cols, weights)
    count = sum(cols[lp.SH][: plan.d]) + sum(cols[lp.SL][: plan.d])
    st["saturated"] = count if saturated is None else int(saturated)
    run = _Run(plan, circuit, st, theta, theta_salt, weights, weight_salt, cols, theta_plan, w_plan, unchecked)
    from zkaudit.sumcheck.zk import BankExhausted

    key = (st["circuit_digest"], plan.d, plan.r_bits, plan.e_bits)
    size = _bank_size(_BANK_SIZES.get(key) or theta_plan.bank_estimate() + w_plan.bank_estimate()
                      + 64 * (plan.num_vars + 8) * (len(plan.tensors) + 4))
    while True:
        try:
            out, used = run.prove(size)
            _BANK_SIZES[key] = used  # exact from now on: a smaller bank is a smaller commitment
            return out
        except BankExhausted:
            size *= 2


_BANK_SIZES: dict[tuple, int] = {}  # (circuit digest, d, range widths) -> advice bank elements a proof used


def _bank_size(estimate: int) -> int:
    """The advice bank's first size (a seam: the zero-knowledge test fixes it)."""
    return estimate


def _link_witness(plan: wl.LinkPlan, values: dict, salt, unchecked: bool):
    from zkaudit.statements.inference.weights_link_prover import LinkWitness

    if not unchecked:
        try:
            return LinkWitness(plan, values, salt)
        except hc.WeightOpeningMismatch as exc:
            raise LinkMismatch(f"{plan.layouts[0].name}...: {exc}") from None
    arrays = [np.asarray(values[t.name], dtype=np.int64) for t in plan.layouts]
    body = np.concatenate([_pack_any(t, a.reshape(-1)) for t, a in zip(plan.layouts, arrays)])
    record = plan.record
    head = np.array(list(salt) + hc.header_elements(record.n_weights, record.layout_digest, record.scheme),
                    dtype=np.uint64)
    return LinkWitness.from_message(plan, np.concatenate([head, body]), salt)


def _pack_any(t: hc.TensorLayout, w: np.ndarray) -> np.ndarray:
    """`hash.commitment.pack_tensor` without the range check (a cheating prover's message)."""
    if t.raw:
        return np.array([int(v) % lp.P for v in w.tolist()], dtype=np.uint64)
    k, b = t.per_element, t.digit_bits
    out = [0] * t.num_elements
    for j, v in enumerate(w.tolist()):
        out[j // k] = (out[j // k] + (int(v) - t.lo) * (1 << (b * (j % k)))) % lp.P
    return np.array(out, dtype=np.uint64)


class _Run:
    def __init__(self, plan, circuit, st, theta, theta_salt, weights, weight_salt, cols, theta_plan, w_plan,
                 unchecked):
        self.plan, self.circuit, self.st, self.cols = plan, circuit, st, cols
        self.theta_plan, self.w_plan = theta_plan, w_plan
        self.theta_witness = _link_witness(theta_plan, {lp.THETA: np.array(theta, dtype=np.int64)}, theta_salt,
                                           unchecked)
        self.w_witness = _link_witness(w_plan, weights, weight_salt, unchecked)
        self.range_plan = lv.Columns(plan).range_plan
        tables = {n: vec.from_ints([int(v) % lp.P for v in cols[n]]) for n in lp.WITNESS}
        for s in circuit.weights:
            tables[s.name] = embed(weights[s.name])
        tables[lp.THETA_DIGESTS], tables[lp.THETA_SALT] = self.theta_witness.digests, self.theta_witness.salt
        tables[wl.DIGESTS], tables[wl.SALT] = self.w_witness.digests, self.w_witness.salt
        padded = self._padded
        for name, arr in committed_range_prover.advice(self.range_plan, padded).items():
            tables[name] = vec.from_int64(arr)
        self.tables = tables
        self.layout = lv.advice_layout(plan, circuit, theta_plan, w_plan, self.range_plan)

    def _padded(self, name: str) -> np.ndarray:
        return np.array(self.cols[name], dtype=np.int64)

    def prove(self, bank_size: int) -> tuple[bytes, int]:
        from zkaudit.sumcheck.zk import ZkProver, bank_claim

        tables = self.tables
        zk = ZkProver({ADVICE_BANK: bank_size})
        bank = np.zeros(bank_words(bank_size), dtype=np.uint64)
        bank[: 2 * bank_size] = zk.table(ADVICE_BANK)
        com, data = pcs.commit([tables[n] for n, _ in self.layout] + [bank], zk_params())
        com_bytes = com.to_bytes()
        transcript = Transcript()
        c_theta, c_w = bytes.fromhex(self.st["theta_commitment"]), bytes.fromhex(self.st["weight_commitment"])
        bind(transcript, self.st, commitments={"theta": c_theta, "weights": c_w, "advice": com_bytes})
        transcript.zk = zk
        stream: list[bytes] = []
        claims = self._zero_check(transcript, stream)
        section, range_claims = committed_range_prover.prove(self.range_plan, self._padded, tables, transcript)
        stream.append(section)
        claims += range_claims
        theta_tables = {lp.THETA: tables[lp.THETA]}
        claims += lv.rename_link_claims(weights_link_prover.prove(self.theta_plan, self.theta_witness, theta_tables,
                                                                  transcript, stream))
        claims += weights_link_prover.prove(self.w_plan, self.w_witness, tables, transcript, stream)
        index = {n: i for i, (n, _) in enumerate(self.layout)}
        pcs_claims = [linear_claim(index[c.tensor], len(self.layout), ADVICE_BANK, c) for c in claims]
        folded = bank_linear_claim(len(self.layout), bank_claim(zk, ADVICE_BANK, transcript))
        if folded is not None:
            pcs_claims.append(folded)
        transcript.zk = None
        opening = pcs.open(data, pcs_claims, transcript)
        body = LinkProof(self.st, com_bytes, b"".join(stream), opening.to_bytes())
        return encode_envelope(STATEMENT, body.to_bytes()), zk.banks_used()[ADVICE_BANK]

    def _zero_check(self, transcript, stream: list) -> list[TensorClaim]:
        plan, tables = self.plan, self.tables
        tau, gamma, lam = lv.zero_check_challenges(plan, transcript)
        coeffs = lp.coefficient_tables(plan, tau, gamma, lam)
        spec = lp.zero_check_spec()
        zc, ev, _ = sumcheck_prover.prove([tables[n] for n in lp.WITNESS] + coeffs, spec, transcript,
                                          claimed_sum=Fp2(self.st["saturated"]) * lam, public=lp.public_indices())
        stream.append(zc.to_bytes())
        rho = ev.point
        claims = [TensorClaim(n, tuple(rho), ev.values[i]) for i, n in enumerate(lp.WITNESS) if n != lp.W_VIRTUAL]
        w_value = ev.values[lp.WITNESS.index(lp.W_VIRTUAL)]
        # wiring (step 2)
        m_tables = [lp.wiring_table(plan, t, rho) for t in range(len(plan.tensors))]
        sums = [vec.inner(m, tables[t.name]) for m, t in zip(m_tables, plan.tensors)]
        padded = [send(transcript, Fp2.from_base(s) if isinstance(s, Fp) else s) for s in sums]
        transcript.absorb_exts(lv.LABEL_WIRING, [p[0] for p in padded])
        stream.extend(p[0].to_bytes() for p in padded)
        total = padded[0][1]
        for p in padded[1:]:
            total = total + p[1]
        check_equal(transcript, w_value, total, where=f"{WHERE}.wiring", error=le.WiringMismatch,
                    message="the quantized weights in theta's order are not the circuit's tensors under pi")
        for m, t, (_, s_t) in zip(m_tables, plan.tensors, padded):
            sc, red, _ = sumcheck_prover.prove([tables[t.name], m], lv.PRODUCT, transcript, claimed_sum=s_t,
                                               public=(1,))
            stream.append(sc.to_bytes())
            claims.append(TensorClaim(t.name, red.point, red.values[0]))
        return claims
