"""Table prover (protocol in `verifier.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.layers.table.proof import TableProof
from zkaudit.layers.table.verifier import claims_from_lookup, mult_name, table_layout
from zkaudit.layers.tensor import embed
from zkaudit.lookup import prover as lookup_prover


def _advice(node, specs, env):
    table, _, shape = table_layout(node, specs)
    x = np.asarray(env[node.inputs[0]], dtype=np.int64)
    counts = np.bincount((x - int(node.a["in_min"])).ravel(), minlength=table.num_rows)
    counts[0] += (1 << sum((d - 1).bit_length() for d in shape)) - x.size
    return {node.output: np.asarray(env[node.output], dtype=np.int64), mult_name(node): counts}


def _handler(node, specs, claim, tables, transcript, out):
    if claim is not None:
        raise ValueError(f"node {node.name}: a claim on the output reached the layer; it must be advice")
    table, instance, shape = table_layout(node, specs)

    def columns(tables):
        ones = embed(np.ones(shape, dtype=np.int64))
        c0 = vec.sub(tables[node.inputs[0]], vec.scale(int(node.a["in_min"]), ones))
        c1 = vec.sub(tables[node.output], vec.scale(int(node.a["values"][0]), ones))
        return [[c0, c1]]

    batch = transcript.lookups
    if batch is not None and batch.defers(node.inputs[0], node.output, mult_name(node)):
        batch.add_mapped(node.name, instance, [mult_name(node)],
                         lambda claims: claims_from_lookup(node, shape, table, claims), columns)
        out.append(TableProof(None).to_bytes())
        return []
    proof, claims = lookup_prover.prove(instance, columns(tables), [tables[mult_name(node)]], transcript)
    out.append(TableProof(proof).to_bytes())
    return claims_from_lookup(node, shape, table, claims)


def register(handlers, advice) -> None:
    handlers["Table"] = _handler
    advice["Table"] = _advice
