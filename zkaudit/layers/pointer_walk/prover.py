"""PointerWalk prover (protocol in `verifier.py`): the levels by walking,
one lookup of T * D rows against R, D + 1 inner products of length 2^n_k."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers import padding_check_prover
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.pointer_walk.proof import PointerWalkProof
from zkaudit.layers.pointer_walk.verifier import (LABEL_POINT, PointerWalkLayout, level_claims,
                                                  lookup_checks)
from zkaudit.layers.tensor import embed
from zkaudit.lookup import committed_table_prover
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck.zk import send

U64 = np.uint64


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def walk_levels(table, start, steps: int) -> np.ndarray:
    """(steps, T): row l is P_l (the executor checked every index)."""
    succ = np.asarray(table, dtype=np.int64)[:, 0]
    p = np.asarray(start, dtype=np.int64)
    out = np.empty((steps, p.shape[0]), dtype=np.int64)
    for l in range(steps):
        p = succ[p]
        out[l] = p
    return out


def _advice(node, specs, env):
    lay = PointerWalkLayout(node, specs)
    start = np.asarray(env[lay.start], dtype=np.int64)
    levels = walk_levels(env[lay.table], start, lay.steps)
    prev = np.concatenate([start, levels[:-1].ravel()])
    counts = np.bincount(prev, minlength=1 << lay.instance.table_vars)
    return {lay.output: np.asarray(env[lay.output], dtype=np.int64), lay.levels: levels, lay.mult: counts}


def columns(lay: PointerWalkLayout, tables):
    """(looked-up columns, numerators, table columns) as field vectors: rows
    (l, t) level-major, prev = start then the levels shifted by one, next =
    the levels (their zero padding rows included)."""
    kp, lp, tp = 1 << lay.count_vars, 1 << lay.level_vars, 1 << lay.instance.table_vars
    levels = np.ascontiguousarray(tables[lay.levels], dtype=U64).reshape(lp, kp)
    prev = np.zeros((lp, kp), dtype=U64)
    prev[0] = tables[lay.start]
    prev[1:lay.steps] = levels[:lay.steps - 1]
    nxt = np.zeros((lp, kp), dtype=U64)
    nxt[:lay.steps] = levels[:lay.steps]
    lookup = [prev.ravel(), nxt.ravel()]
    table = [np.arange(tp, dtype=U64), np.ascontiguousarray(tables[lay.table], dtype=U64)]
    numerators = embed(np.ones(lay.levels_shape, dtype=np.int64))
    return lookup, numerators, table


def level_values(lay: PointerWalkLayout, tables, r_t) -> list:
    """start~(r_t), then L~(l, r_t) for each level l < D."""
    kp = 1 << lay.count_vars
    eq_t = eq_table(r_t)
    levels = np.ascontiguousarray(tables[lay.levels], dtype=U64).reshape(-1, kp)
    rows = [np.ascontiguousarray(tables[lay.start], dtype=U64)] + [levels[l] for l in range(lay.steps)]
    return [_ext(vec.inner(eq_t, row)) for row in rows]


def prove(lay: PointerWalkLayout, tables, transcript) -> tuple[PointerWalkProof, list[TensorClaim]]:
    lookup, numerators, table = columns(lay, tables)
    lk_proof, claims = committed_table_prover.prove(lay.instance, lookup, numerators, table, tables[lay.mult],
                                                    transcript)
    r_l, r_t = lookup_checks(lay, claims, transcript)
    padded = [send(transcript, v) for v in level_values(lay, tables, r_t)]
    sent, values = [p[0] for p in padded], [p[1] for p in padded]
    out = level_claims(lay, claims, r_l, r_t, sent, values, transcript)
    zc, point, value = padding_check_prover.prove(tables[lay.levels], lay.levels_shape, LABEL_POINT, transcript)
    out.append(TensorClaim(lay.levels, point, value))
    return PointerWalkProof(lk_proof, tuple(sent), zc), out


def _handler(node, specs, claim, tables, transcript, out):
    lay = PointerWalkLayout(node, specs)
    if claim is not None:
        raise ValueError(f"node {node.name}: a claim on the output reached the layer; it must be advice")
    proof, claims = prove(lay, tables, transcript)
    out.append(proof.to_bytes())
    return claims


def register(handlers, advice) -> None:
    handlers["PointerWalk"] = _handler
    advice["PointerWalk"] = _advice
