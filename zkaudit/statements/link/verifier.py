"""Link verifier (statement "link-quant/v1", design/statements.md §3.8).

Relation R_link.
  Public:  c_theta (p2gl8-tree-v2 root of theta, layout "theta" (d,) in
           [-L, L]), c_W (the registered p2gl8-tree-v2 root of the compiled
           circuit's weight tensors), the circuit (digest, weight shapes and
           declared ranges, input scale), the quant spec (weight_bits w,
           per layer float32 s_in, s_w, s_b; round half up; weights clamp to
           [-127, 127]), the parameter map pi, the saturation count S.
  Witness: theta, the circuit's weight tensors W_t, both salts.
  Holds iff theta opens c_theta, (W_t) open c_W, and for every entry k of
           every tensor t, with i = pi_t(k) and N_t / D_t = 1 / (2^w s_t):
             weights  W_t[k] = clamp(floor(theta_i N_t / D_t + 1/2), -127, 127)
             biases   W_t[k] = floor(theta_i N_t / D_t + 1/2)  (inside the declared range)
           and S = #{weight entries where the clamp changed the value}.
  Checked in the clear: pi is the map the circuit's layers take from
  `zkaudit train` (or the one the caller names), covers theta exactly once;
  s_b = float32(s_in s_w) per layer and layer 0's s_in is the circuit's
  input scale; the multipliers are wrap-free for |theta| <= L (`plan`).

Protocol (zero-knowledge throughout; the machinery of zero-knowledge
inference, `statements/inference/zk.py`):
  0. One hiding commitment (committed before the statement is bound) holds
     theta, the W_t, the witness columns q, r, rr, s_hi, s_lo, e1, e2 over
     theta's domain (`plan` states the gadget), both links' digest and salt
     tables, the range checks' limbs and multiplicities, and the bank.
  1. Zero-check: tau <- K^n, gamma, lambda <- K;
       sum_x eq(tau, x) V(x) sum_g gamma^g gate_g(x) + lambda V(x) (s_hi + s_lo)(x) = lambda S
     as one sum-check whose public tables (one per monomial) the verifier
     builds and evaluates itself. W appears in it in theta's order: the
     virtual W' = W o pi^-1, never committed.
  2. Wiring: the prover sends S_t (padded); per tensor a sum-check of
     <W_t, M_t> = S_t with the public M_t(y) = eq(rho, pi_t(y)), and
     sum_t S_t = W'~(rho) (deferred).
  3. Range checks of theta (in [-L, L]: the wrap-free bound uses it, so
     the link does not rest on how c_theta was made) and of r, rr, e1, e2
     (`inference.committed_range`, LogUp on limbs; their padding is proven
     zero).
  4. theta hashes to c_theta, the W_t hash to c_W
     (`inference.weights_link`, data-parallel Poseidon2 GKR), each link's
     tables under its own names.
  5. Every claim is a `LinearClaim` on the advice commitment; the deferred
     checks fold into one claim on the bank; one hiding opening.
Soundness: the zero-check (8 gates by powers of gamma, degree 8, then
Schwartz-Zippel over tau and lambda), the sum-checks, the LogUp and the
GKR, each charged on the transcript (`Transcript.soundness_bits`).

What a proof reveals: the statement (scales, pi, S, both roots), uniform
padded values and the hiding opening. theta, W, the salts, every q and
remainder stay hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit import pcs
from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import BYTES_EXT, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.stream import ProofReader
from zkaudit.layers.tensor import num_vars
from zkaudit.pcs.hiding_verifier import read_hiding_opening
from zkaudit.statements.common.statement import bind
from zkaudit.statements.envelope import parse_envelope
from zkaudit.statements.inference import committed_range_verifier
from zkaudit.statements.inference import weights_link as wl
from zkaudit.statements.inference.commitment import zk_params
from zkaudit.statements.inference.zk import ADVICE_BANK, bank_elements, bank_linear_claim, linear_claim
from zkaudit.statements.link import plan as lp
from zkaudit.statements.link.errors import (  # noqa: F401 - re-exported: the verifier's rejections
    LinkRejected, PiMismatch, QuantizationMismatch, QuantSpecMismatch, StatementMismatch, WiringMismatch,
)
from zkaudit.statements.link.proof import (
    STATEMENT, STATEMENT_TYPE, WHERE, LinkProof, default_pi, pi_digest, quant_digest,
)
from zkaudit.statements.link.statement import (
    LABEL_WIRING, PRODUCT, Columns, advice_layout, check_public_values, check_quant_spec, check_statement_shape,
    check_wiring_value, decode_circuit_artifact, plan_of, rename_link_claims, theta_link_plan, weight_link_plan,
    zero_check_challenges,
)
from zkaudit.statements.verify import Verified, register_verifier
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import ZkSession, bank_claim, check_equal, receive
from zkaudit.transcript import Transcript

MAX_BANK_VARS = 24

MAX_BANK_VARS = 24


@dataclass(frozen=True)
class LinkVerdict:
    circuit_digest: str
    theta_commitment: bytes
    weight_commitment: bytes
    saturated: int
    quant_spec_digest: bytes
    pi_digest: bytes
    soundness_bits: float
    num_params: int
    theta_limit: int
    weight_bits: int

    def to_json(self) -> dict:
        return {"statement": STATEMENT_TYPE, "circuit_digest": self.circuit_digest,
                "theta_commitment": self.theta_commitment.hex(), "weight_commitment": self.weight_commitment.hex(),
                "saturated": self.saturated, "quant_spec_digest": self.quant_spec_digest.hex(),
                "pi_digest": self.pi_digest.hex(), "num_params": self.num_params, "theta_limit": self.theta_limit,
                "weight_bits": self.weight_bits, "soundness_bits": round(self.soundness_bits, 1)}


# ----------------------------------------------------------- shared derivation

def _read_exts(reader: ProofReader, count: int, what: str) -> list[Fp2]:
    end = reader.offset + count * BYTES_EXT
    if end > len(reader.data):
        raise MalformedProof(f"{what} truncated", where=WHERE, expected=end, got=len(reader.data))
    out = [Fp2.from_bytes(reader.data[reader.offset + i * BYTES_EXT: reader.offset + (i + 1) * BYTES_EXT])
           for i in range(count)]
    reader.offset = end
    return out


# ------------------------------------------------------------------ verifier

def verify_link(proof: bytes, *, theta_commitment: bytes | None, weight_commitment: bytes | None, circuit,
                pi: list[dict] | None = None) -> LinkVerdict:
    """Check a link proof file (envelope included) against c_theta, c_W and
    the circuit (a `Circuit` or the registered circuit.bin bytes). `pi`: the
    expected parameter map (default: the map `zkaudit train` exports for the
    circuit's layers, `proof.default_pi`). None for a commitment checks the
    proof against the one it names (the verdict carries it: compare).
    Raises a ProofRejected subclass."""
    env = parse_envelope(proof)
    if env.statement != STATEMENT:
        raise MalformedProof("not a link proof", where="envelope.statement", expected=STATEMENT, got=env.statement)
    return verify_body(env.body, theta_commitment=theta_commitment, weight_commitment=weight_commitment,
                       circuit=circuit, pi=pi)


def verify_body(body: bytes, *, theta_commitment, weight_commitment, circuit, pi=None) -> LinkVerdict:
    from zkaudit.circuit.encoding import circuit_digest

    circuit = decode_circuit_artifact(circuit)
    proof = LinkProof.from_bytes(body)
    st = proof.statement
    check_statement_shape(st)
    try:
        c_theta, c_w = bytes.fromhex(st["theta_commitment"]), bytes.fromhex(st["weight_commitment"])
    except (TypeError, ValueError):
        raise MalformedProof("link statement: commitments are not hex", where=WHERE) from None
    for name, given, stated in (("c_theta", theta_commitment, c_theta), ("c_W", weight_commitment, c_w)):
        if given is not None and bytes(given) != stated:
            raise StatementMismatch(f"the proof is about another {name}", where=f"{WHERE}.statement",
                                    expected=bytes(given).hex()[:64], got=stated.hex()[:64])
    digest = circuit_digest(circuit)
    if st["circuit_digest"] != digest:
        raise StatementMismatch("the proof is about another circuit", where=f"{WHERE}.statement", expected=digest,
                                got=st["circuit_digest"])
    try:
        expected_pi = default_pi(circuit) if pi is None else pi
    except ValueError as exc:
        raise PiMismatch(f"no standard parameter map for this circuit: {exc}", where=f"{WHERE}.pi") from None
    if st["pi"] != expected_pi:
        raise PiMismatch("the proof's parameter map is not the expected one", where=f"{WHERE}.pi",
                         expected=expected_pi, got=st["pi"])
    check_quant_spec(st, circuit)
    plan = plan_of(st, circuit)
    theta_plan = theta_link_plan(plan, c_theta)
    w_plan = weight_link_plan(circuit, c_w)
    range_plan = Columns(plan).range_plan
    layout = advice_layout(plan, circuit, theta_plan, w_plan, range_plan)
    try:
        com = pcs.Commitment.from_bytes(proof.advice_commitment)
    except pcs.PcsRejected as exc:
        raise MalformedProof(f"advice commitment: {exc}", where=WHERE) from None
    want = tuple(v for _, v in layout)
    if len(com.num_vars) != len(want) + 1 or tuple(com.num_vars[:-1]) != want \
            or not 1 <= com.num_vars[-1] <= MAX_BANK_VARS:
        raise MalformedProof("the advice commitment does not hold the link's tables and a bank", where=WHERE,
                             expected=want, got=com.num_vars)
    params = zk_params()
    opening = read_hiding_opening(proof.opening, com, params)
    session = ZkSession({ADVICE_BANK: bank_elements(com.num_vars[-1])})

    transcript = Transcript()
    bind(transcript, st, commitments={"theta": c_theta, "weights": c_w, "advice": proof.advice_commitment})
    transcript.zk = session
    reader = ProofReader(proof.stream)
    claims = _verify_stream(plan, circuit, theta_plan, w_plan, range_plan, st["saturated"], reader, transcript)
    reader.finish()
    index = {n: i for i, (n, _) in enumerate(layout)}
    pcs_claims = []
    for c in claims:
        if c.tensor not in index:
            raise MalformedProof(f"claim left on {c.tensor!r}", where=WHERE)
        pcs_claims.append(linear_claim(index[c.tensor], len(layout), ADVICE_BANK, c))
    folded = bank_linear_claim(len(layout), bank_claim(session, ADVICE_BANK, transcript))
    if folded is not None:
        pcs_claims.append(folded)
    transcript.zk = None  # the opening's own sum-check is masked by the hiding commitment itself
    pcs.verify(com, pcs_claims, opening, transcript, params)
    return LinkVerdict(digest, c_theta, c_w, st["saturated"], quant_digest(st), pi_digest(st),
                       transcript.soundness_bits(), plan.d, plan.limit, plan.weight_bits)


def _verify_stream(plan, circuit, theta_plan, w_plan, range_plan, saturated, reader, transcript) -> list:
    from zkaudit.sumcheck.proof import SumcheckProof

    tau, gamma, lam = zero_check_challenges(plan, transcript)
    spec = lp.zero_check_spec()
    zc = reader.read(SumcheckProof)
    ev = sumcheck_verifier.verify(zc, Fp2(saturated) * lam, plan.num_vars, spec, transcript,
                                  where=f"{WHERE}.zero-check", public=lp.public_indices())
    check_public_values(plan, tau, gamma, lam, ev.point, ev.values)
    rho = ev.point
    claims = [TensorClaim(n, tuple(rho), ev.values[i]) for i, n in enumerate(lp.WITNESS) if n != lp.W_VIRTUAL]
    w_value = ev.values[lp.WITNESS.index(lp.W_VIRTUAL)]
    claims += verify_wiring(plan, rho, w_value, reader, transcript)
    claims += committed_range_verifier.verify(range_plan, reader, transcript)
    claims += rename_link_claims(wl.verify(theta_plan, reader, transcript))
    claims += wl.verify(w_plan, reader, transcript)
    return claims


def verify_wiring(plan, rho, w_value, reader, transcript) -> list[TensorClaim]:
    from zkaudit.sumcheck.proof import SumcheckProof

    sent = _read_exts(reader, len(plan.tensors), "wiring sums")
    sums = [receive(transcript, s) for s in sent]
    transcript.absorb_exts(LABEL_WIRING, sent)
    total = sums[0]
    for s in sums[1:]:
        total = total + s
    check_equal(transcript, w_value, total, where=f"{WHERE}.wiring", error=WiringMismatch,
                message="the quantized weights in theta's order are not the circuit's tensors under pi")
    out = []
    for t, (m, s_t) in enumerate(zip(plan.tensors, sums)):
        sc = reader.read(SumcheckProof)
        ev = sumcheck_verifier.verify(sc, s_t, num_vars(m.shape), PRODUCT, transcript,
                                      where=f"{WHERE}.wiring {m.name}", public=(1,))
        check_wiring_value(plan, t, rho, ev.point, ev.values[1])
        out.append(TensorClaim(m.name, ev.point, ev.values[0]))
    return out


@register_verifier(STATEMENT)
def verify_registered(body: bytes, *, circuit_bin: bytes | None = None, weight_commitment: bytes | None = None,
                      theta_commitment: bytes | None = None, **_expected) -> Verified:
    """Entry point for `verify_proof`: checked against the given circuit and
    c_W, and c_theta when given (else the one the proof names, printed for
    comparison with the training proof's)."""
    if circuit_bin is None:
        raise MalformedProof("a link proof is checked against a compiled circuit", where=WHERE)
    v = verify_body(body, theta_commitment=theta_commitment, weight_commitment=weight_commitment, circuit=circuit_bin)
    return Verified(v.to_json(), soundness_bits=v.soundness_bits,
                    privacy={"zero_knowledge": True, "hidden": ["theta", "the quantized weights", "both salts"],
                             "revealed": ["the quant spec (scales), pi and the saturation count",
                                          "c_theta and c_W (roots of salted hashes)"]})


__all__ = ["LinkRejected", "LinkVerdict", "PiMismatch", "QuantSpecMismatch", "QuantizationMismatch",
           "StatementMismatch", "WiringMismatch", "verify_link"]
