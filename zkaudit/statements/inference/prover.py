"""Inference prover (the steps are those of `verifier.py`, from the other side)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

from zkaudit.circuit.graph import Circuit
from zkaudit.errors import ProofRejected, ZkauditError
from zkaudit.gc_pause import pausing
from zkaudit.layers import combine_prover, lookup_batch_prover
from zkaudit.field import vec
from zkaudit.layers.dispatch_prover import prove_node
from zkaudit.layers.dispatch_verifier import advice_shapes, check_provable
from zkaudit.layers.lookup_batch import LookupBatch
from zkaudit.layers.tensor import embed
from zkaudit.pcs import Claim, commit
from zkaudit.pcs import open as pcs_open
from zkaudit.statements.envelope import encode_envelope
from zkaudit.statements.inference import committed_range, committed_range_prover, witness
from zkaudit.statements.inference.commitment import NoWeights, input_index, params, weight_index, weight_tables, \
    zk_params
from zkaudit.statements.inference.proof import STATEMENT, InferenceBody, commitment_digest
from zkaudit.statements.inference.verifier import check_names, output_claims, statement_transcript


class _Tables(dict):
    """name -> embedded field table, built on first use from the witness."""

    def __init__(self, w: witness.Witness):
        super().__init__()
        self.w = w

    def __missing__(self, name):
        table = vec.from_int64(self.w.padded[name]) if name in self.w.padded else embed(self.w.value(name))
        self[name] = table
        return table


def commit_weights(circuit: Circuit, weights):
    """(commitment, prover data) of the model's weights. This is what
    `zkaudit compile` publishes, so it first checks every node can be proven
    (`check_provable`): a circuit the prover would refuse is refused here."""
    check_provable(circuit.nodes, circuit.specs())
    names = advice_shapes(circuit.nodes, circuit.specs())
    names.update(committed_range.plan(circuit).advice_shapes())
    check_names(circuit, names)
    if not circuit.weights:
        return NoWeights(), None
    return commit(weight_tables(circuit, weights), params())


def prove(circuit: Circuit, weights, inputs, *, weight_commitment: bytes | None = None,
          commit_input: bool = False, progress=None, zero_knowledge: bool = True,
          input_opening: bytes | None = None, weight_salt=None) -> bytes:
    """Prove y = M(x; W) for one input (a dict name -> array) or a batch (a
    list of such dicts, proven together with the weights paid once); returns
    the proof file bytes. `weight_commitment` (the published one) is checked
    against the weights. With `commit_input` the proof carries a commitment
    to the input (`commitment.input_commitment`) instead of its values, and
    the input is range-checked like the weights. The proof is
    zero-knowledge unless `zero_knowledge=False` (`statements.inference.zk`).
    A hashed weight commitment (`hash.commitment`, never opened) needs the
    vendor's `weight_salt`; the proof then re-commits the weights and
    proves they hash to it (`weights_link`)."""
    w = witness.build(circuit, weights, inputs, commit_input=commit_input)
    return prove_witness(w, weight_commitment=weight_commitment, progress=progress, zero_knowledge=zero_knowledge,
                         input_opening=input_opening, weight_salt=weight_salt)


_BANK_SIZES: dict[tuple[str, int], int] = {}  # (circuit digest, batch) -> advice bank elements that sufficed


@pausing
def prove_witness(w: witness.Witness, *, weight_commitment: bytes | None = None, progress=None,
                  zero_knowledge: bool = True, input_opening: bytes | None = None, weight_salt=None) -> bytes:
    """Prove the statement the witness `w` claims; the public output is read
    from the witness. An honest witness gives an accepting proof; any other
    must not (what `tests/adversarial` checks). `zero_knowledge=False` makes
    the plain proof (input modes 0 and 1), which says so. `input_opening`:
    the secret seed of a committed input's hiding commitment
    (`commitment.commit_inputs`); a fresh one when not given.

    Runs with the cyclic garbage collector paused (`gc_pause`, as the
    verifier does): a proof keeps ~10^5 small objects alive (claims, field
    elements, proof parts), and each full collection walked them all,
    3-11 ms of a small model's ~0.15 s proof, measured with `gc.callbacks`.
    What the prover allocates is freed by reference counting; the few
    cycles wait for the collector to resume."""
    link = _link(w, weight_commitment, weight_salt, zero_knowledge)
    if not zero_knowledge:
        return _prove(w, weight_commitment, progress, None)[0]
    from zkaudit.statements.inference.zk import estimate_bank
    from zkaudit.sumcheck.zk import BankExhausted

    key = bank_key(w.registered, w.batch, w.commit_input, hashed_weights=link is not None)
    size = _BANK_SIZES.get(key) or estimate_bank(w.circuit) + (link[0].bank_estimate() if link else 0)
    while True:
        try:
            out, used = _prove(w, weight_commitment, progress, size, input_opening, link)
            _BANK_SIZES[key] = used  # exact from now on: a smaller bank is a smaller commitment
            return out
        except BankExhausted:
            size *= 2


def bank_key(registered, batch: int, commit_input: bool, *, hashed_weights: bool = False) -> tuple:
    return registered.digest() + ("/hashed-weights" if hashed_weights else ""), batch, commit_input


def known_bank_sizes() -> dict:
    """The advice bank each (circuit, batch, input mode) needed (callers may
    persist it beside the model and give it back with `remember_bank_sizes`)."""
    return dict(_BANK_SIZES)


def remember_bank_sizes(sizes: dict) -> None:
    _BANK_SIZES.update(sizes)


def _link(w: witness.Witness, weight_commitment, weight_salt, zero_knowledge: bool):
    """(plan, witness) of the weights link when the published commitment is
    a hashed one (`weights_link`), else None."""
    from zkaudit.hash.commitment import is_hashed_commitment

    if weight_commitment is None or not is_hashed_commitment(weight_commitment):
        return None
    if not zero_knowledge:
        raise ZkauditError("a hiding (hashed) weight commitment is proven by zero-knowledge proofs only",
                           hint="prove without --no-zero-knowledge, or compile with --weight-commitment plain")
    if weight_salt is None:
        raise ZkauditError("proving against a hashed weight commitment needs its salt (private/weights.salt)",
                           hint="prove from the compiled model folder that holds private/weights.salt")
    from zkaudit.statements.inference.weights_link import RESERVED, LinkPlan
    from zkaudit.statements.inference.weights_link_prover import LinkWitness

    taken = {s.name for s in (*w.circuit.weights, *w.circuit.inputs)} | set(w.advice)
    for name in sorted(taken & set(RESERVED)):
        raise ZkauditError(f"tensor name {name!r} is reserved for the weights link's tables: rename it in the model")
    try:
        plan = LinkPlan.of(w.circuit, weight_commitment)
    except ProofRejected as exc:
        raise ZkauditError(f"the published weight commitment does not fit this model: {exc}") from None
    try:
        return plan, LinkWitness(plan, {s.name: w.real(s.name) for s in w.circuit.weights}, weight_salt)
    except ValueError as exc:
        raise ZkauditError(f"the weights do not fit the hashed commitment's layout: {exc}") from None


def _prove(w: witness.Witness, weight_commitment, progress, bank_size: int | None, input_opening=None,
           link=None) -> bytes:
    from zkaudit.field.randomness import new_seed

    circuit = w.circuit
    zero_knowledge = bank_size is not None
    tables = _Tables(w)
    if link is not None:
        # The registered commitment is a hash, never opened: the weights go
        # into this proof's hiding advice commitment (`weights_link`).
        from zkaudit.statements.inference import weights_link as wl

        commitment, prover_data, committed = None, None, weight_commitment
        tables[wl.DIGESTS], tables[wl.SALT] = link[1].digests, link[1].salt
        if link[0].blocked:
            tables[wl.SBOX] = link[1].sbox_table()
    else:
        weight_tables = [tables[s.name] for s in circuit.weights]
        commitment, prover_data = commit(weight_tables, params()) if weight_tables else (NoWeights(), None)
        committed = commitment.to_bytes()
        if weight_commitment is not None and committed != weight_commitment:
            raise ZkauditError("the weights do not match the published weight commitment",
                               hint="recompile the model or publish the commitment of these weights")
    specs = circuit.specs()
    ranges = w.ranges
    advice_names = sorted(w.advice)
    hidden_names = advice_names + (wl.hidden_weight_names(circuit, link[0]) if link is not None else [])
    advice_commitment, advice_data = b"", None
    zk = None
    if zero_knowledge:
        from zkaudit.statements.inference import zk as izk
        from zkaudit.sumcheck.zk import ZkProver

        sizes, fixed = {izk.ADVICE_BANK: bank_size}, {}
        if w.commit_input:
            from zkaudit.statements.inference.commitment import input_bank

            opening = input_opening or new_seed()
            n_in = len(circuit.inputs)
            sizes[izk.INPUT_BANK] = n_in
            fixed[izk.INPUT_BANK] = input_bank(opening, n_in)[: 2 * n_in].reshape(n_in, 2)
        zk = ZkProver(sizes, fixed)
        words = izk.bank_words(bank_size)
        bank_table = np.zeros(words, dtype=np.uint64)
        bank_table[: 2 * bank_size] = zk.table(izk.ADVICE_BANK)
        com, advice_data = commit([tables[n] for n in hidden_names] + [bank_table], zk_params())
        advice_commitment = com.to_bytes()
    elif advice_names:
        com, advice_data = commit([tables[n] for n in advice_names], params())
        advice_commitment = com.to_bytes()
    input_com, input_data = None, None
    if w.commit_input:
        input_tabs = [tables[s.name] for s in circuit.inputs]
        if zero_knowledge:
            from zkaudit.statements.inference.commitment import commit_input_tables

            com, input_data = commit_input_tables(input_tabs, opening)
        else:
            com, input_data = commit(input_tabs, params())
        input_com = com.to_bytes()
    body = InferenceBody(
        inputs=None if w.commit_input else {s.name: w.real(s.name) for s in circuit.inputs},
        outputs={s.name: w.real(s.name) for s in circuit.outputs},
        advice_commitment=advice_commitment, layers=b"", weight_opening=b"", advice_opening=b"",
        batch=w.batch, circuit_digest=bytes.fromhex(w.registered.digest()),
        weights_digest=commitment_digest(committed), input_commitment=input_com, zero_knowledge=zero_knowledge,
    )
    transcript = statement_transcript(circuit, body, committed)
    transcript.zk = zk
    transcript.lookups = LookupBatch(frozenset(w.advice))  # the layers' lookups, proven together after the walk
    claims = defaultdict(list, output_claims(circuit, body, transcript))
    stream: list[bytes] = []
    for i, node in enumerate(reversed(circuit.nodes)):
        pending = claims.pop(node.output, [])
        if node.output in w.advice:
            claims[node.output].extend(pending)
            claim = None
        elif not pending:
            continue
        else:
            combo, claim = combine_prover.prove(pending, tables[node.output], transcript)
            stream.append(b"\x00" if combo is None else b"\x01" + combo.to_bytes())
        for c in prove_node(node, specs, claim, tables, transcript, stream):
            claims[c.tensor].append(c)
        if progress is not None:
            progress(i + 1, len(circuit.nodes))
    limb_values: list[bytes] = []
    committed_range_prover.register(ranges, w.table, tables, transcript.lookups, transcript, limb_values)
    section, batch_claims = lookup_batch_prover.prove(transcript.lookups, tables, transcript)
    stream.append(section)
    stream += limb_values  # the committed ranges' limb values, sent as the batch's claims came back
    for c in batch_claims:
        claims[c.tensor].append(c)
    link_sums = None
    if link is not None:  # steps 1-3; the tensors' sums join the weights' combination (`zk_prover`)
        from zkaudit.statements.inference import weights_link_prover

        link_claims, link_sums = weights_link_prover.prove_deferred(link[0], link[1], tables, transcript, stream)
        for c in link_claims:
            claims[c.tensor].append(c)
    if zero_knowledge:
        from zkaudit.statements.inference import zk_prover

        stream.append(zk_prover.repad_inputs(circuit, claims, tables, transcript) if w.commit_input else b"")
        if link is None:
            stream.append(zk_prover.combine_weights(circuit, claims, tables, transcript))
        else:
            stream.append(zk_prover.combine_hidden_weights(circuit, link_sums, claims, tables, transcript,
                                                           log_cols=advice_data.layout.log_cols,
                                                           domain_rows=advice_data.domain_rows))
        pcs_claims, weight_values = zk_prover.discharge(circuit, body, claims, tables, hidden_names, transcript,
                                                        weights_hidden=link is not None)
        transcript.zk = None  # the openings' own sum-checks are masked by the hiding commitment itself
        openings = []
        for data, cl in ((prover_data, pcs_claims["weights"]), (advice_data, pcs_claims["advice"]),
                         (input_data, pcs_claims["input"])):
            openings.append(pcs_open(data, cl, transcript).to_bytes() if cl and data else b"")
        body = dataclasses.replace(body, layers=b"".join(stream), weight_opening=openings[0],
                                   advice_opening=openings[1], input_opening=openings[2],
                                   weight_values=weight_values)
        return encode_envelope(STATEMENT, body.to_bytes(w.registered)), zk.banks_used()[izk.ADVICE_BANK]
    openings = []
    for index, data in ((weight_index(circuit), prover_data), ({n: i for i, n in enumerate(advice_names)},
                                                               advice_data), (input_index(circuit), input_data)):
        pcs_claims = [Claim(index[n], c.point, c.value) for n, cl in sorted(claims.items()) if n in index for c in cl]
        openings.append(pcs_open(data, pcs_claims, transcript).to_bytes() if pcs_claims and data else b"")
    body = dataclasses.replace(body, layers=b"".join(stream), weight_opening=openings[0],
                               advice_opening=openings[1], input_opening=openings[2])
    return encode_envelope(STATEMENT, body.to_bytes(w.registered)), None
