"""Inference verifier.

1. Parse the body against the circuit (public input and output values in
   their declared ranges).
2. Bind the statement before any challenge: protocol id and version, circuit
   digest, public input and output, weight and advice commitments.
3. Draw a random point r_Y per output and start from the claim Y~(r_Y),
   which the verifier computes from the public output itself.
4. Walk the nodes from last to first. Claims on a node's output are combined
   into one (`combine_verifier`) and reduced by the op's protocol to claims
   on its inputs (`dispatch_verifier`).
   A node whose output is committed advice (non-linear ops) sends the claims
   on that output to the advice opening and proves the op's relation instead.
5. Check every weight tensor lies in its declared range (`weight_range`):
   the vendor supplies the weights, and every layer's wrap-free argument
   relies on those ranges.
6. Discharge what is left: claims on public inputs by evaluating them;
   claims on weights by one batched opening of the weight commitment; claims
   on advice by one batched opening of the advice commitment.
Any failure raises a `ProofRejected` subclass naming where it happened.
"""

from __future__ import annotations

from collections import defaultdict

from zkaudit.circuit.encoding import decode_circuit
from zkaudit.circuit.graph import Circuit
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers import combine_verifier
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.dispatch_verifier import advice_shapes, verify_node
from zkaudit.layers.stream import ProofReader
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.pcs import Claim, Commitment, OpeningProof
from zkaudit.pcs import verify as pcs_verify
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference.commitment import params, weight_index
from zkaudit.statements.inference import weight_range, weight_range_verifier
from zkaudit.statements.inference.batch import widen
from zkaudit.statements.inference.proof import PROTOCOL, PROTOCOL_VERSION, STATEMENT, InferenceBody
from zkaudit.statements.verify import register_verifier
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

LABEL_OUTPUT_POINT = b"inference/output-point"


class InputClaimMismatch(ProofRejected):
    """A claim on the public input does not match the input's own MLE."""


class DanglingClaim(ProofRejected):
    """A claim was left on a tensor that nothing can discharge."""


def as_ext(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def statement_transcript(circuit: Circuit, body: InferenceBody, weight_commitment: bytes) -> Transcript:
    t = Transcript()
    public = {f"input/{k}": embed(v) for k, v in body.inputs.items()}
    public.update({f"output/{k}": embed(v) for k, v in body.outputs.items()})
    t.absorb_statement(
        PROTOCOL, PROTOCOL_VERSION,
        digests={"circuit": bytes.fromhex(circuit.digest())},
        public=public,
        commitments={"weights": weight_commitment, "advice": body.advice_commitment},
    )
    return t


def output_claims(circuit: Circuit, body: InferenceBody, transcript: Transcript) -> dict[str, list[TensorClaim]]:
    claims: dict[str, list[TensorClaim]] = defaultdict(list)
    for spec in circuit.outputs:
        point = tuple(transcript.challenge_exts(LABEL_OUTPUT_POINT, num_vars(spec.shape)))
        value = as_ext(evaluate(embed(body.outputs[spec.name]), point))
        claims[spec.name].append(TensorClaim(spec.name, point, value))
    return claims


def verify_body(circuit: Circuit, body: InferenceBody, weight_commitment: bytes) -> dict:
    """`circuit` is the registered one; it is widened to the proof's batch."""
    circuit = widen(circuit, body.batch)
    commitment = Commitment.from_bytes(weight_commitment)
    specs = circuit.specs()
    ranges = weight_range.plan(circuit)
    advice = advice_shapes(circuit.nodes, specs)
    advice.update(ranges.advice_shapes())
    advice_index = {name: i for i, name in enumerate(sorted(advice))}
    if bool(advice) != bool(body.advice_commitment):
        raise MalformedProof("advice commitment present/absent contrary to the circuit", where="inference.advice",
                             expected=bool(advice), got=bool(body.advice_commitment))
    advice_commitment = Commitment.from_bytes(body.advice_commitment) if advice else None
    transcript = statement_transcript(circuit, body, weight_commitment)
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
    for c in weight_range_verifier.verify(ranges, reader, transcript):
        claims[c.tensor].append(c)
    reader.finish()

    inputs = {s.name for s in circuit.inputs}
    windex = weight_index(circuit)
    weight_claims, advice_claims = [], []
    for name, cl in sorted(claims.items()):
        for c in cl:
            if name in inputs:
                actual = as_ext(evaluate(embed(body.inputs[name]), c.point))
                if actual != c.value:
                    raise InputClaimMismatch(f"claim on public input {name!r} does not match it",
                                             where="inference.input", expected=actual, got=c.value)
            elif name in windex:
                weight_claims.append(Claim(windex[name], c.point, c.value))
            elif name in advice_index:
                advice_claims.append(Claim(advice_index[name], c.point, c.value))
            else:
                raise DanglingClaim(f"claim left on tensor {name!r}", where="inference")
    for what, pcs_claims, blob, com in (("weights", weight_claims, body.weight_opening, commitment),
                                        ("advice", advice_claims, body.advice_opening, advice_commitment)):
        if pcs_claims:
            pcs_verify(com, pcs_claims, OpeningProof.from_bytes(blob), transcript, params())
        elif blob:
            raise MalformedProof(f"{what} opening sent without claims on {what}", where=f"inference.{what}")
    return {name: arr.tolist() for name, arr in body.outputs.items()}


@register_verifier(STATEMENT)
def verify_inference(body: bytes, *, circuit_bin: bytes, weight_commitment: bytes) -> dict:
    """Entry point for `zkaudit.statements.verify.verify_proof`."""
    circuit = decode_circuit(circuit_bin)
    return verify_body(circuit, InferenceBody.from_bytes(body, circuit), weight_commitment)
