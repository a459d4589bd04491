"""Inference verifier.

1. Parse the body against the circuit: the proof must name this circuit
   and this weight commitment; public input and output values lie in their
   declared ranges.
2. Bind the statement before any challenge: protocol id and version, circuit
   digest, public input (or, in committed-input mode, the input commitment)
   and output, weight and advice commitments.
3. Draw a random point r_Y per output and start from the claim Y~(r_Y),
   which the verifier computes from the public output itself.
4. Walk the nodes from last to first. Claims on a node's output are combined
   into one (`combine_verifier`) and reduced by the op's protocol to claims
   on its inputs (`dispatch_verifier`).
   A node whose output is committed advice (non-linear ops) sends the claims
   on that output to the advice opening and proves the op's relation instead.
5. Check every weight tensor, and a committed input, lies in its declared
   range (`committed_range`): the vendor supplies the weights and the
   input's values are not seen, and every layer's wrap-free argument relies
   on those ranges. Its lookup registers last in the walk's lookup batch
   (`layers.lookup_batch`), and one LogUp argument proves them all.
6. Discharge what is left: claims on public inputs by evaluating them;
   claims on weights, advice and a committed input by one batched opening
   of each commitment.
Any failure raises a `ProofRejected` subclass naming where it happened.
"""

from __future__ import annotations

from collections import defaultdict

from zkaudit.circuit.encoding import decode_circuit
from zkaudit.circuit.graph import Circuit
from zkaudit.errors import MalformedProof, ProofRejected, ZkauditError
from zkaudit.field import jit
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers import combine_verifier, lookup_batch
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.dispatch_verifier import advice_shapes, verify_node
from zkaudit.layers.lookup_batch import LookupBatch
from zkaudit.layers.stream import ProofReader
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.pcs import Claim, Commitment, OpeningProof
from zkaudit.pcs import verify as pcs_verify
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import committed_range, committed_range_verifier
from zkaudit.statements.inference.batch import widen
from zkaudit.statements.inference.commitment import EMPTY_WEIGHT_COMMITMENT, input_index, params, weight_index
from zkaudit.statements.inference.proof import PROTOCOL, PROTOCOL_VERSION, STATEMENT, InferenceBody
from zkaudit.statements.verify import Verified, register_verifier
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

LABEL_OUTPUT_POINT = b"inference/output-point"


class InputClaimMismatch(ProofRejected):
    """A claim on the public input does not match the input's own MLE."""


class AmbiguousName(ProofRejected):
    """A weight or input has the name of an advice tensor: claims on one
    would be discharged against the other's commitment."""


def check_names(circuit: Circuit, advice) -> None:
    """Weights, inputs and advice (node outputs of non-linear ops, limbs,
    selectors, multiplicities) must have distinct names: claims are routed
    to a commitment by name, so a weight named like an advice tensor would
    let a value fixed at commit time stand in for per-proof advice."""
    weights = {s.name for s in circuit.weights}
    inputs = {s.name for s in circuit.inputs}
    for name in sorted((weights & inputs) | ((weights | inputs) & set(advice))):
        raise AmbiguousName(f"tensor name {name!r} is used by more than one of weights, inputs and advice",
                            where="inference.names")


class DanglingClaim(ProofRejected):
    """A claim was left on a tensor that nothing can discharge."""


class InputCommitmentMismatch(ProofRejected):
    """The proof's input is not the one the caller expected (another input
    commitment, or a public input where a committed one was expected)."""


def as_ext(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def statement_transcript(circuit: Circuit, body: InferenceBody, weight_commitment: bytes) -> Transcript:
    t = Transcript()
    public = {f"input/{k}": embed(v) for k, v in (body.inputs or {}).items()}
    public.update({f"output/{k}": embed(v) for k, v in body.outputs.items()})
    commitments = {"weights": weight_commitment, "advice": body.advice_commitment}
    if body.committed_input:
        commitments["input"] = body.input_commitment
    t.absorb_statement(
        PROTOCOL, PROTOCOL_VERSION,
        digests={"circuit": bytes.fromhex(circuit.digest())},
        public=public,
        commitments=commitments,
    )
    return t


def output_claims(circuit: Circuit, body: InferenceBody, transcript: Transcript) -> dict[str, list[TensorClaim]]:
    claims: dict[str, list[TensorClaim]] = defaultdict(list)
    for spec in circuit.outputs:
        point = tuple(transcript.challenge_exts(LABEL_OUTPUT_POINT, num_vars(spec.shape)))
        value = as_ext(evaluate(embed(body.outputs[spec.name]), point))
        claims[spec.name].append(TensorClaim(spec.name, point, value))
    return claims


def verify_body(circuit: Circuit, body: InferenceBody, weight_commitment: bytes) -> tuple[dict, float]:
    """`circuit` is the registered one; it is widened to the proof's batch.
    Returns the proven outputs and the soundness bits of the run (the
    transcript's ledger: every challenge drawn and every protocol's bound)."""
    circuit = widen(circuit, body.batch)
    commitment = _weight_commitment(circuit, weight_commitment)
    link = _link_plan(circuit, weight_commitment, body)
    specs = circuit.specs()
    try:
        ranges = committed_range.plan(circuit, committed_inputs=body.committed_input)
    except ZkauditError as exc:  # a declared range the range check cannot prove (no 0, 64 bits)
        raise InvalidCircuitArtifact(f"the registered circuit cannot be verified: {exc}",
                                     where="inference.range") from None
    advice = advice_shapes(circuit.nodes, specs)
    outputs = {n.output for n in circuit.nodes}
    for name in sorted(set(ranges.advice_shapes()) & (set(advice) | outputs)):
        raise AmbiguousName(f"the range check's advice tensor {name!r} has the name of a node's tensor",
                            where="inference.names")
    advice.update(ranges.advice_shapes())
    check_names(circuit, advice)
    advice_index = {name: i for i, name in enumerate(sorted(advice))}
    hidden_names = sorted(advice)
    zk = body.zero_knowledge
    if (bool(advice) or zk) != bool(body.advice_commitment):
        raise MalformedProof("advice commitment present/absent contrary to the circuit", where="inference.advice",
                             expected=bool(advice) or zk, got=bool(body.advice_commitment))
    advice_commitment = Commitment.from_bytes(body.advice_commitment) if body.advice_commitment else None
    expected_vars = tuple(num_vars(advice[name]) for name in sorted(advice))
    if link is not None:
        from zkaudit.statements.inference.weights_link import RESERVED, hidden_weight_names

        taken = set(advice) | {s.name for s in (*circuit.weights, *circuit.inputs)}
        for name in sorted(taken & set(RESERVED)):
            raise AmbiguousName(f"tensor name {name!r} is reserved for the weights link's tables",
                                where="inference.names")
        hidden_names += hidden_weight_names(circuit, link)
        extra = link.table_vars()
        expected_vars += tuple(num_vars(s.shape) for s in circuit.weights) + tuple(extra.values())
    session = None
    if zk:
        session = _zk_session(advice_commitment, body, expected_vars)
        expected_vars = advice_commitment.num_vars  # checked by _zk_session
    if advice_commitment is not None and advice_commitment.num_vars != expected_vars:
        raise MalformedProof("the advice commitment's tables are not the circuit's advice tensors",
                             where="inference.advice", expected=expected_vars, got=advice_commitment.num_vars)
    if commitment is not None and commitment.num_vars != tuple(num_vars(s.shape) for s in circuit.weights):
        raise MalformedProof("the weight commitment's tables are not the circuit's weights", where="inference.weights",
                             expected=tuple(num_vars(s.shape) for s in circuit.weights), got=commitment.num_vars)
    input_commitment = Commitment.from_bytes(body.input_commitment) if body.committed_input else None
    # the run's table sizes, known before any work: numba starts at once for
    # a big circuit and not at all for a mid-sized one (`field.jit.planned`)
    work = sum(1 << num_vars(s.shape) for s in specs.values()) + sum(1 << num_vars(s) for s in advice.values())
    with jit.planned(work):
        return _verify_run(circuit, body, weight_commitment, specs, advice, advice_index, hidden_names, link, ranges,
                           session, commitment, advice_commitment, input_commitment)


def _verify_run(circuit, body, weight_commitment, specs, advice, advice_index, hidden_names, link, ranges, session,
                commitment, advice_commitment, input_commitment) -> tuple[dict, float]:
    zk = body.zero_knowledge
    transcript = statement_transcript(circuit, body, weight_commitment)
    transcript.zk = session
    transcript.lookups = LookupBatch(frozenset(advice))  # the layers' lookups, verified together after the walk
    claims = output_claims(circuit, body, transcript)
    reader = ProofReader(body.layers)
    for node in reversed(circuit.nodes):
        pending = claims.pop(node.output, [])
        if node.output in advice:
            # The output is committed advice: its claims go to the advice
            # opening; the layer proves the op's relation on its own.
            claims[node.output].extend(pending)
            claim = None
        elif not pending:
            continue  # the output feeds nothing that is proven
        else:
            combo = reader.read(SumcheckProof) if reader.read_flag("combination") else None
            claim = combine_verifier.verify(pending, num_vars(specs[node.output].shape), combo, transcript)
        for c in verify_node(node, specs, claim, reader, transcript):
            claims[c.tensor].append(c)
    committed_range_verifier.register(ranges, transcript.lookups, reader, transcript)
    for c in lookup_batch.verify(transcript.lookups, reader, transcript):
        claims[c.tensor].append(c)
    link_sums = None
    if link is not None:  # steps 1-3; the tensors' sums join the weights' combination (`zk.verify_hidden_weights`)
        from zkaudit.statements.inference import weights_link

        link_claims, link_sums = weights_link.verify_deferred(link, reader, transcript)
        for c in link_claims:
            claims[c.tensor].append(c)
    if zk:
        return _finish_zk(circuit, body, claims, reader, transcript, hidden_names, commitment, advice_commitment,
                          input_commitment, link_sums=link_sums)
    reader.finish()

    public_inputs = set() if body.committed_input else {s.name for s in circuit.inputs}
    indices = {"weights": weight_index(circuit), "advice": advice_index,
               "input": input_index(circuit) if body.committed_input else {}}
    pcs_claims: dict[str, list[Claim]] = {what: [] for what in indices}
    for name, cl in sorted(claims.items()):
        for c in cl:
            if name in public_inputs:
                actual = as_ext(evaluate(embed(body.inputs[name]), c.point))
                if actual != c.value:
                    raise InputClaimMismatch(f"claim on public input {name!r} does not match it",
                                             where="inference.input", expected=actual, got=c.value)
                continue
            what = next((w for w, index in indices.items() if name in index), None)
            if what is None:
                raise DanglingClaim(f"claim left on tensor {name!r}", where="inference")
            pcs_claims[what].append(Claim(indices[what][name], c.point, c.value))
    for what, blob, com in (("weights", body.weight_opening, commitment),
                            ("advice", body.advice_opening, advice_commitment),
                            ("input", body.input_opening, input_commitment)):
        if pcs_claims[what]:
            pcs_verify(com, pcs_claims[what], OpeningProof.from_bytes(blob), transcript, params())
        elif blob:
            raise MalformedProof(f"{what} opening sent without claims on {what}", where=f"inference.{what}")
    return {name: arr.tolist() for name, arr in body.outputs.items()}, transcript.soundness_bits()


def _zk_session(advice_commitment: Commitment, body: InferenceBody, advice_vars: tuple[int, ...]):
    """The verifier's side of the proof's randomness: bank sizes read off the
    hiding commitments, whose last table is the bank (`zk.py`)."""
    from zkaudit.statements.inference import zk as izk
    from zkaudit.sumcheck.zk import ZkSession

    got = advice_commitment.num_vars
    if got[:-1] != advice_vars or not got or got[-1] < 1:
        raise MalformedProof("the advice commitment's tables are not the circuit's advice tensors and a bank",
                             where="inference.advice", expected=advice_vars + ("bank",), got=got)
    sizes = {izk.ADVICE_BANK: izk.bank_elements(got[-1])}
    if body.committed_input:
        sizes[izk.INPUT_BANK] = izk.bank_elements(Commitment.from_bytes(body.input_commitment).num_vars[-1])
    return ZkSession(sizes)


def _finish_zk(circuit, body, claims, reader, transcript, advice_names, commitment, advice_commitment,
               input_commitment, *, link_sums=None):
    from zkaudit.pcs.hiding_verifier import read_hiding_opening
    from zkaudit.statements.inference import zk as izk
    from zkaudit.statements.inference.commitment import zk_params

    if body.committed_input:
        izk.verify_repad(circuit, claims, reader, transcript)
    weights_hidden = link_sums is not None
    if weights_hidden:
        izk.verify_hidden_weights(circuit, link_sums, claims, reader, transcript)
    else:
        izk.verify_combined_weights(circuit, claims, reader, transcript)
    reader.finish()

    def weight_value(name, point, k):
        if k >= len(body.weight_values):
            raise MalformedProof("fewer weight evaluations than claims on the weights", where="inference.weights",
                                 got=len(body.weight_values))
        return body.weight_values[k]

    pcs_claims, used = izk.discharge(circuit, body, claims, advice_names, transcript, weight_value,
                                     weights_hidden=weights_hidden)
    if used != len(body.weight_values):
        raise MalformedProof("more weight evaluations than claims on the weights", where="inference.weights",
                             expected=used, got=len(body.weight_values))
    transcript.zk = None
    for what, blob, com, prm in (("weights", body.weight_opening, commitment, params()),
                                 ("advice", body.advice_opening, advice_commitment, zk_params()),
                                 ("input", body.input_opening, input_commitment, zk_params())):
        if pcs_claims[what]:
            opening = OpeningProof.from_bytes(blob) if what == "weights" else read_hiding_opening(blob, com, prm)
            pcs_verify(com, pcs_claims[what], opening, transcript, prm)
        elif blob:
            raise MalformedProof(f"{what} opening sent without claims on {what}", where=f"inference.{what}")
    return {name: arr.tolist() for name, arr in body.outputs.items()}, transcript.soundness_bits()


def _weight_commitment(circuit: Circuit, data: bytes) -> Commitment | None:
    """The published weight commitment: the fixed empty one exactly when the
    circuit has no weights (None: nothing is opened), else a tensor-code
    commitment (its tables checked against the weights by the caller)."""
    if not circuit.weights:
        if data != EMPTY_WEIGHT_COMMITMENT:
            raise MalformedProof("a circuit without weights has the empty weight commitment", where="inference.weights",
                                 expected=EMPTY_WEIGHT_COMMITMENT.hex(), got=data[:64].hex())
        return None
    if data == EMPTY_WEIGHT_COMMITMENT:
        raise MalformedProof("the empty weight commitment names no weights, the circuit has some",
                             where="inference.weights", expected=len(circuit.weights), got=0)
    from zkaudit.hash.commitment import is_hashed_commitment

    if is_hashed_commitment(data):
        return None  # never opened: `_link_plan`
    return Commitment.from_bytes(data)


def _link_plan(circuit: Circuit, data: bytes, body: InferenceBody):
    """The weights link's plan when the registered commitment is a hashed
    one (`weights_link`), which only a zero-knowledge proof can use."""
    from zkaudit.hash.commitment import is_hashed_commitment

    if not circuit.weights or not is_hashed_commitment(data):
        return None
    if not body.zero_knowledge:
        raise MalformedProof("a hashed weight commitment is proven by zero-knowledge proofs only",
                             where="inference.weights")
    from zkaudit.statements.inference.weights_link import LinkPlan

    return LinkPlan.of(circuit, data)


@register_verifier(STATEMENT)
def verify_inference(body: bytes, *, circuit_bin: bytes, weight_commitment: bytes,
                     input_commitment: bytes | None = None, inputs=None,
                     input_opening: bytes | None = None) -> Verified:
    """Entry point for `zkaudit.statements.verify.verify_proof`. With
    `input_commitment`, the proof must be about exactly that committed input.
    With `inputs` (the samples, or a function of the circuit giving them, e.g.
    one that reads and quantizes a record file), the proof must be about
    exactly those: compared value by value when the proof publishes its
    input, through their commitment when it commits to it."""
    circuit = _checked_circuit(circuit_bin)
    parsed = InferenceBody.from_bytes(body, circuit, weight_commitment)
    if input_commitment is not None and parsed.input_commitment != input_commitment:
        reason = ("proof publishes its input instead of committing to it" if not parsed.committed_input
                  else "proof is about another input: its input commitment differs from the one expected")
        raise InputCommitmentMismatch(reason, where="inference.input")
    if inputs is not None:
        _check_inputs(circuit, parsed, inputs(circuit) if callable(inputs) else inputs, input_opening)
    output, bits = verify_body(circuit, parsed, weight_commitment)
    return Verified(output, input_commitment=parsed.input_commitment, soundness_bits=bits,
                    privacy=privacy(circuit, parsed, weight_commitment))


def privacy(circuit: Circuit, body: InferenceBody, weight_commitment: bytes) -> dict:
    """What this proof hides and reveals, for `verify` to print. A
    zero-knowledge proof hides every activation, advice value, multiplicity
    and a committed input. The registered weight commitment is a plain one,
    opened in every proof (`zk.py` item 4): the opening reveals t codeword
    columns of the weight matrix (m message columns per row) besides one
    evaluation per weight tensor, so after about ceil(m / t) proofs (one,
    when m <= t) the weights are determined. A hashed registered commitment
    (`weights_link`) is never opened: the weights are hidden like the advice,
    across any number of proofs."""
    if not body.zero_knowledge:
        return {"zero_knowledge": False, "reveals": "linear information about the activations, the input and the "
                "weights: claims, round polynomials and opened columns are linear in the witness"}
    hidden = ["activations", "advice (requantization remainders, limbs, multiplicities)",
              "the input (committed)" if body.committed_input else
              "(the input is public in this proof: prove --commit-input keeps it private)"]
    out = {"zero_knowledge": True, "hidden": hidden, "weights_hidden": False}
    from zkaudit.hash.commitment import WeightCommitment, is_hashed_commitment

    if circuit.weights and is_hashed_commitment(weight_commitment):
        hidden.insert(0, "the weights")
        out.update(weights_hidden=True, weight_commitment_scheme=WeightCommitment.from_bytes(weight_commitment).scheme)
    elif circuit.weights and weight_commitment != EMPTY_WEIGHT_COMMITMENT:
        com = Commitment.from_bytes(weight_commitment)
        cols, queries = 1 << com.log_cols, params().num_queries
        out.update(weight_evaluations_revealed=len(body.weight_values), weight_columns_opened=queries,
                   weight_matrix_columns=cols, weights_determined_after_proofs=max(1, -(-cols // queries)))
    return out


class InvalidCircuitArtifact(ProofRejected):
    """The circuit a proof is checked against does not parse or is not valid."""


def _checked_circuit(circuit_bin: bytes) -> Circuit:
    """Decode and validate the registered circuit. Validation is what makes
    every declared tensor range the one the op's inference rule gives, and
    every layer's wrap-free argument reads those ranges: a circuit declaring
    a range narrower than its op produces would let a relation hold mod p
    without holding over the integers."""
    from zkaudit.circuit import validate
    from zkaudit.circuit.errors import CircuitError, MalformedArtifact

    try:
        circuit = decode_circuit(circuit_bin)
        validate(circuit)
    except (MalformedArtifact, CircuitError) as exc:
        raise InvalidCircuitArtifact(f"the circuit is not valid: {exc}", where="inference.circuit") from None
    return circuit


def _check_inputs(circuit: Circuit, body: InferenceBody, samples, opening: bytes | None = None) -> None:
    import numpy as np

    from zkaudit.statements.inference.batch import stack
    from zkaudit.statements.inference.commitment import input_commitment

    samples = samples if isinstance(samples, (list, tuple)) else [samples]
    if len(samples) != body.batch:
        raise InputCommitmentMismatch(f"proof is about {body.batch} sample(s), the input given holds {len(samples)}",
                                      where="inference.input", expected=body.batch, got=len(samples))
    if body.committed_input:
        if body.zero_knowledge and opening is None:
            raise InputCommitmentMismatch("the proof commits to its input with a hiding commitment: checking it is "
                                          "about this input needs the commitment's opening (--input-opening)",
                                          where="inference.input")
        if input_commitment(circuit, samples, opening if body.zero_knowledge else None) != body.input_commitment:
            raise InputCommitmentMismatch("proof is about another input: the given input's commitment differs "
                                          "from the proof's", where="inference.input")
        return
    _, stacked = stack(circuit, samples)
    for name, values in stacked.items():
        diff = np.argwhere(values != body.inputs[name])
        if diff.size:
            at = tuple(int(i) for i in diff[0])
            raise InputCommitmentMismatch(f"proof is about another input: input {name!r} differs at {at} "
                                          f"(proof {int(body.inputs[name][at])}, given {int(values[at])})",
                                          where="inference.input")
