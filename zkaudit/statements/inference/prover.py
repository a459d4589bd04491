"""Inference prover (the steps are those of `verifier.py`, from the other side)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

from zkaudit.circuit.graph import Circuit
from zkaudit.errors import ZkauditError
from zkaudit.layers import combine_prover
from zkaudit.layers.dispatch_prover import advice_for, check_supported, prove_node
from zkaudit.layers.tensor import embed
from zkaudit.pcs import Claim, commit
from zkaudit.pcs import open as pcs_open
from zkaudit.statements.envelope import encode_envelope
from zkaudit.statements.inference import committed_range, committed_range_prover
from zkaudit.statements.inference.batch import stack
from zkaudit.statements.inference.commitment import (input_index, input_tables, params, weight_index,
                                                      weight_tables)
from zkaudit.statements.inference.proof import STATEMENT, InferenceBody, commitment_digest
from zkaudit.statements.inference.verifier import output_claims, statement_transcript


class _Tables(dict):
    """name -> embedded table, built on first use from the integer witness."""

    def __init__(self, env):
        super().__init__()
        self.env = env

    def __missing__(self, name):
        table = embed(self.env[name])
        self[name] = table
        return table


def commit_weights(circuit: Circuit, weights):
    """(commitment, prover data) of the model's weights."""
    return commit(weight_tables(circuit, weights), params())


def prove(circuit: Circuit, weights, inputs, *, weight_commitment: bytes | None = None,
          commit_input: bool = False, progress=None) -> bytes:
    """Prove y = M(x; W) for one input (a dict name -> array) or a batch (a
    list of such dicts, proven together with the weights paid once); returns
    the proof file bytes. `weight_commitment` (the published one) is checked
    against the weights. With `commit_input` the proof carries a commitment
    to the input (`commitment.input_commitment`) instead of its values, and
    the input is range-checked like the weights; binding, not hiding."""
    samples = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    registered = circuit
    circuit, inputs = stack(registered, samples)
    check_supported(circuit.nodes)
    env = circuit.execute(weights, inputs, return_all=True)
    commitment, prover_data = commit_weights(circuit, weights)
    committed = commitment.to_bytes()
    if weight_commitment is not None and committed != weight_commitment:
        raise ZkauditError("the weights do not match the published weight commitment",
                           hint="recompile the model or publish the commitment of these weights")
    specs = circuit.specs()
    ranges = committed_range.plan(circuit, committed_inputs=commit_input)
    range_values = {**{s.name: weights[s.name] for s in circuit.weights}, **inputs}
    advice = advice_for(circuit.nodes, specs, env)
    advice.update(committed_range_prover.advice(ranges, range_values))
    advice_names = sorted(advice)
    advice_commitment, advice_data = b"", None
    if advice:
        com, advice_data = commit([embed(advice[n]) for n in advice_names], params())
        advice_commitment = com.to_bytes()
    input_com, input_data = None, None
    if commit_input:
        com, input_data = commit(input_tables(circuit, inputs), params())
        input_com = com.to_bytes()
    body = InferenceBody(
        inputs=None if commit_input else {s.name: np.asarray(env[s.name], dtype=np.int64) for s in circuit.inputs},
        outputs={s.name: np.asarray(env[s.name], dtype=np.int64) for s in circuit.outputs},
        advice_commitment=advice_commitment, layers=b"", weight_opening=b"", advice_opening=b"",
        batch=len(samples), circuit_digest=bytes.fromhex(registered.digest()),
        weights_digest=commitment_digest(committed), input_commitment=input_com,
    )
    transcript = statement_transcript(circuit, body, committed)
    claims = defaultdict(list, output_claims(circuit, body, transcript))
    tables = _Tables({**env, **advice})
    stream: list[bytes] = []
    for i, node in enumerate(reversed(circuit.nodes)):
        pending = claims.pop(node.output, [])
        if node.output in advice:
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
    section, range_claims = committed_range_prover.prove(ranges, range_values, tables, transcript)
    stream.append(section)
    for c in range_claims:
        claims[c.tensor].append(c)
    openings = []
    for index, data in ((weight_index(circuit), prover_data), ({n: i for i, n in enumerate(advice_names)},
                                                               advice_data), (input_index(circuit), input_data)):
        pcs_claims = [Claim(index[n], c.point, c.value) for n, cl in sorted(claims.items()) if n in index for c in cl]
        openings.append(pcs_open(data, pcs_claims, transcript).to_bytes() if pcs_claims and data else b"")
    body = dataclasses.replace(body, layers=b"".join(stream), weight_opening=openings[0],
                               advice_opening=openings[1], input_opening=openings[2])
    return encode_envelope(STATEMENT, body.to_bytes(registered))
