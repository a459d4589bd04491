"""Inference prover (the steps are those of `verifier.py`, from the other side)."""

from __future__ import annotations

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
from zkaudit.statements.inference.commitment import params, weight_index, weight_tables
from zkaudit.statements.inference import weight_range, weight_range_prover
from zkaudit.statements.inference.batch import widen
from zkaudit.statements.inference.proof import STATEMENT, InferenceBody
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
          progress=None) -> bytes:
    """Prove y = M(x; W) for one input (a dict name -> array) or a batch (a
    list of such dicts, proven together with the weights paid once); returns
    the proof file bytes. `weight_commitment` (the published one) is checked
    against the weights."""
    samples = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    registered = circuit
    circuit = widen(registered, len(samples))
    inputs = {s.name: np.concatenate([np.asarray(x[s.name], dtype=np.int64) for x in samples], axis=0)
              for s in registered.inputs}
    check_supported(circuit.nodes)
    env = circuit.execute(weights, inputs, return_all=True)
    commitment, prover_data = commit_weights(circuit, weights)
    committed = commitment.to_bytes()
    if weight_commitment is not None and committed != weight_commitment:
        raise ZkauditError("the weights do not match the published weight commitment",
                           hint="recompile the model or publish the commitment of these weights")
    specs = circuit.specs()
    ranges = weight_range.plan(circuit)
    advice = advice_for(circuit.nodes, specs, env)
    advice.update(weight_range_prover.advice(ranges, weights))
    advice_names = sorted(advice)
    advice_commitment, advice_data = b"", None
    if advice:
        com, advice_data = commit([embed(advice[n]) for n in advice_names], params())
        advice_commitment = com.to_bytes()
    body = InferenceBody(
        inputs={s.name: np.asarray(env[s.name], dtype=np.int64) for s in circuit.inputs},
        outputs={s.name: np.asarray(env[s.name], dtype=np.int64) for s in circuit.outputs},
        advice_commitment=advice_commitment, layers=b"", weight_opening=b"", advice_opening=b"",
        batch=len(samples),
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
    section, range_claims = weight_range_prover.prove(ranges, weights, tables, transcript)
    stream.append(section)
    for c in range_claims:
        claims[c.tensor].append(c)
    windex = weight_index(circuit)
    aindex = {name: i for i, name in enumerate(advice_names)}
    weight_claims = [Claim(windex[n], c.point, c.value) for n, cl in sorted(claims.items()) if n in windex for c in cl]
    advice_claims = [Claim(aindex[n], c.point, c.value) for n, cl in sorted(claims.items()) if n in aindex for c in cl]
    weight_opening = pcs_open(prover_data, weight_claims, transcript).to_bytes() if weight_claims else b""
    advice_opening = pcs_open(advice_data, advice_claims, transcript).to_bytes() if advice_claims else b""
    body = InferenceBody(body.inputs, body.outputs, advice_commitment, b"".join(stream), weight_opening,
                         advice_opening, batch=len(samples))
    return encode_envelope(STATEMENT, body.to_bytes(registered))
