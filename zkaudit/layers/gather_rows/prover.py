"""GatherRows prover (protocol in `verifier.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers import padding_check_prover
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.gather_rows.proof import GatherRowsProof
from zkaudit.layers.gather_rows.verifier import LABEL_POINT, GatherRowsLayout, lookup_claims
from zkaudit.layers.tensor import embed
from zkaudit.lookup import committed_table_prover

U64 = np.uint64


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _advice(node, specs, env):
    lay = GatherRowsLayout(node, specs)
    idx = np.asarray(env[lay.indices], dtype=np.int64)
    counts = np.bincount(idx, minlength=1 << lay.instance.table_vars)  # every index is a row (the executor checked)
    return {lay.output: np.asarray(env[lay.output], dtype=np.int64), lay.mult: counts}


def columns(lay: GatherRowsLayout, tables):
    """(looked-up columns, numerators, table columns) as field vectors."""
    kp, tp, cp = 1 << lay.instance.lookup_vars, 1 << lay.instance.table_vars, 1 << lay.col_vars
    y = np.asarray(tables[lay.output]).reshape(kp, cp)
    t = np.asarray(tables[lay.table]).reshape(tp, cp)
    lookup = [np.ascontiguousarray(tables[lay.indices], dtype=U64)]
    lookup += [np.ascontiguousarray(y[:, c]) for c in range(lay.cols)]
    table = [np.arange(tp, dtype=U64)] + [np.ascontiguousarray(t[:, c]) for c in range(lay.cols)]
    numerators = embed(np.ones(lay.count, dtype=np.int64))
    return lookup, numerators, table


def prove(lay: GatherRowsLayout, tables, transcript) -> tuple[GatherRowsProof, list[TensorClaim]]:
    lookup, numerators, table = columns(lay, tables)
    lk_proof, claims = committed_table_prover.prove(lay.instance, lookup, numerators, table, tables[lay.mult],
                                                    transcript)
    out = lookup_claims(lay, claims, transcript)
    zc, point, value = padding_check_prover.prove(tables[lay.output], lay.out_shape, LABEL_POINT, transcript)
    out.append(TensorClaim(lay.output, point, value))
    return GatherRowsProof(lk_proof, zc), out


def _handler(node, specs, claim, tables, transcript, out):
    lay = GatherRowsLayout(node, specs)
    if claim is not None:
        raise ValueError(f"node {node.name}: a claim on the output reached the layer; it must be advice")
    proof, claims = prove(lay, tables, transcript)
    out.append(proof.to_bytes())
    return claims


def register(handlers, advice) -> None:
    handlers["GatherRows"] = _handler
    advice["GatherRows"] = _advice
