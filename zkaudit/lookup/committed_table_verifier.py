"""Verifier of LogUp against a committed table (relation in `committed_table.py`).

Checks, in order: the proof's shape; the trees' roots sum to zero with
non-zero denominators; each GKR layer; that the leaf claims equal the
leaves rebuilt from the prover's column, numerator, table and multiplicity
values and the verifier's own ind~ and tags. Returns every one of those
values as a claim the caller must discharge against its commitment;
until then nothing is proven.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.field.scalar import Fp2
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.committed_table import (
    LABEL_ALPHA,
    LABEL_BETA,
    LABEL_VALUES,
    CommittedTableInstance,
    CommittedTableProof,
    combiners,
)
from zkaudit.lookup.errors import LeafMismatch, LookupShapeError
from zkaudit.lookup.verifier import _check_roots, _verify_tree
from zkaudit.poly.mle import eq_bits, prefix_indicator
from zkaudit.transcript import Transcript

WHERE = "lookup/committed-table"


@dataclass(frozen=True)
class CommittedTableClaims:
    """Claims to discharge: looked-up columns and numerators at the lookup's
    point, table columns and multiplicities at the table's point."""

    lookup_columns: tuple[PointClaim, ...]
    numerators: PointClaim
    table_columns: tuple[PointClaim, ...]
    multiplicities: PointClaim


def _check_shape(instance: CommittedTableInstance, proof: CommittedTableProof, tree_vars) -> None:
    if len(proof.roots) != len(tree_vars) or len(proof.layers) != len(tree_vars):
        raise LookupShapeError("wrong number of GKR trees", where=WHERE, expected=len(tree_vars), got=len(proof.layers))
    for t, (nv, layers) in enumerate(zip(tree_vars, proof.layers)):
        if len(layers) != nv:
            raise LookupShapeError(f"tree {t} has the wrong number of GKR layers", where=WHERE, expected=nv,
                                   got=len(layers))
    for what, vals in (("lookup", proof.lookup_values), ("table", proof.table_values)):
        if len(vals) != instance.width:
            raise LookupShapeError(f"wrong number of {what} column values", where=WHERE, expected=instance.width,
                                   got=len(vals))


def verify(instance: CommittedTableInstance, proof: CommittedTableProof, transcript: Transcript) -> CommittedTableClaims:
    """Raises a `LookupRejected` (or sum-check) subclass on a bad proof."""
    tree_vars, segments = instance.layout()
    _check_shape(instance, proof, tree_vars)
    _check_roots(proof.roots)

    instance.absorb(transcript)
    beta = transcript.challenge_ext(LABEL_BETA)
    alpha = transcript.challenge_ext(LABEL_ALPHA)  # LogUp identity, jointly with beta
    transcript.charge("committed-table lookup alpha, beta", instance.soundness_log2())
    ends = [_verify_tree(t, root, layers, transcript) for t, (root, layers) in enumerate(zip(proof.roots, proof.layers))]

    w = instance.width
    comb = combiners(beta, w)
    p_leaf = [Fp2(0)] * len(tree_vars)
    q_leaf = [Fp2(0)] * len(tree_vars)
    lo_points = {}
    for kind, nv, tree, offset in segments:
        point = ends[tree][0]
        cut = tree_vars[tree] - nv
        hi, lo = point[:cut], point[cut:]
        lo_points[kind] = lo
        sel = eq_bits(offset >> nv, hi)
        if kind == "lookup":
            num, vals, tag = proof.numerator_value, proof.lookup_values, Fp2(1)
        else:
            num, vals = -proof.multiplicity_value, proof.table_values
            tag = prefix_indicator(instance.table_rows, lo)
        den = alpha - comb[w] * tag
        for c, v in enumerate(vals):
            den = den - comb[c] * v
        p_leaf[tree] = p_leaf[tree] + sel * num
        q_leaf[tree] = q_leaf[tree] + sel * den
    for t, (_, vp, vq) in enumerate(ends):
        if p_leaf[t] != vp:
            raise LeafMismatch("leaf numerators do not match the last GKR claim", where=WHERE, round=t,
                               expected=p_leaf[t], got=vp)
        if q_leaf[t] != vq:
            raise LeafMismatch("leaf denominators do not match the last GKR claim", where=WHERE, round=t,
                               expected=q_leaf[t], got=vq)
    transcript.absorb_exts(LABEL_VALUES, list(proof.lookup_values) + [proof.numerator_value]
                           + list(proof.table_values) + [proof.multiplicity_value])
    rf, rt = lo_points["lookup"], lo_points["table"]
    return CommittedTableClaims(
        tuple(PointClaim(rf, v) for v in proof.lookup_values), PointClaim(rf, proof.numerator_value),
        tuple(PointClaim(rt, v) for v in proof.table_values), PointClaim(rt, proof.multiplicity_value))
