"""Verifier of LogUp against a committed table (relation in `committed_table.py`).

Checks, in order: the proof's shape; the trees' roots sum to zero with
non-zero denominators; each GKR layer; that the leaf claims equal the
leaves rebuilt from the prover's column, numerator, table and multiplicity
values and the verifier's own ind~ and tags. Returns every one of those
values as a claim the caller must discharge against its commitment;
until then nothing is proven. A zero-knowledge run (a session on the
transcript) checks the roots' sum through the root tree and defers the leaf
checks; its claims are `Hidden`.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.field.scalar import Fp2
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.committed_table import (
    LABEL_ALPHA,
    LABEL_BETA,
    LABEL_JOINT,
    LABEL_VALUES,
    CommittedTableInstance,
    CommittedTableProof,
    leaf_sums,
)
from zkaudit.lookup.errors import LeafMismatch, LookupShapeError
from zkaudit.lookup.protocol import LABEL_ROOT, LABEL_ROOT_Q, root_tree_leaves_check
from zkaudit.lookup.verifier import _check_roots, _verify_joint, _verify_tree
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
    if proof.joint:
        if any(proof.layers):
            raise LookupShapeError("a lock-step proof with layers under a tree", where=WHERE)
        if len(proof.joint_layers) != (tree_vars[0] if tree_vars else 0):
            raise LookupShapeError("wrong number of lock-step GKR layers", where=WHERE,
                                   expected=tree_vars[0] if tree_vars else 0, got=len(proof.joint_layers))
    for t, (nv, layers) in enumerate(zip(tree_vars, () if proof.joint else proof.layers)):
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
    zk = getattr(transcript, "zk", None)
    if (zk is None) == proof.zero_knowledge:
        raise LookupShapeError("zero-knowledge committed-table proof where the statement is plain, or the reverse",
                               where=WHERE, expected=zk is not None, got=proof.zero_knowledge)
    if zk is None:
        _check_roots(proof.roots)

    instance.absorb(transcript)
    if proof.joint:  # version 3's own run (`committed_table.py`): never the challenges of version 2's
        transcript.absorb_bytes(LABEL_JOINT, b"")
    beta = transcript.challenge_ext(LABEL_BETA)
    alpha = transcript.challenge_ext(LABEL_ALPHA)  # LogUp identity, jointly with beta
    transcript.charge("committed-table lookup alpha, beta", instance.soundness_log2())
    w = instance.width
    sent = list(proof.lookup_values) + [proof.numerator_value] + list(proof.table_values) + [proof.multiplicity_value]
    if zk is None:
        ends = [_verify_tree(t, root, layers, transcript)
                for t, (root, layers) in enumerate(zip(proof.roots, proof.layers))]
        held = sent
    else:
        ends = _verify_trees_zk(proof, transcript, zk, tree_vars)
        held = [zk.receive(v) for v in sent]
    transcript.absorb_exts(LABEL_VALUES, sent)
    p_leaf, q_leaf, points = leaf_sums(instance, ends, held[:w], held[w], held[w + 1 : 2 * w + 1], held[-1],
                                       alpha, beta)
    for t, (_, vp, vq) in enumerate(ends):
        if zk is not None:
            zk.require_equal(p_leaf[t], vp, where=f"{WHERE}/leaves", error=LeafMismatch)
            zk.require_equal(q_leaf[t], vq, where=f"{WHERE}/leaves", error=LeafMismatch)
        elif p_leaf[t] != vp:
            raise LeafMismatch("leaf numerators do not match the last GKR claim", where=WHERE, round=t,
                               expected=p_leaf[t], got=vp)
        elif q_leaf[t] != vq:
            raise LeafMismatch("leaf denominators do not match the last GKR claim", where=WHERE, round=t,
                               expected=q_leaf[t], got=vq)
    rf, rt = points["lookup"], points["table"]
    return CommittedTableClaims(
        tuple(PointClaim(rf, v) for v in held[:w]), PointClaim(rf, held[w]),
        tuple(PointClaim(rt, v) for v in held[w + 1 : 2 * w + 1]), PointClaim(rt, held[-1]))


def _verify_trees_zk(proof: CommittedTableProof, transcript: Transcript, zk, tree_vars) -> list:
    """The padded roots, the GKR over them (their LogUp sum is zero), then
    every tree from its Hidden root: in lock step (version 3, as
    `lookup.verifier._verify_zk`) or one after the other (version 2)."""
    hidden = [(zk.receive(p), zk.receive(q)) for p, q in proof.roots]
    transcript.absorb_exts(LABEL_ROOT, [v for pair in proof.roots for v in pair])
    size = 1 << (len(proof.roots) - 1).bit_length()
    if len(proof.root_layers) != (size - 1).bit_length():
        raise LookupShapeError("the root tree has the wrong number of layers", where=WHERE,
                               expected=(size - 1).bit_length(), got=len(proof.root_layers))
    hidden_q = zk.receive(proof.root_q)
    transcript.absorb_ext(LABEL_ROOT_Q, proof.root_q)
    point, vp, vq = _verify_tree(-1, None, proof.root_layers, transcript, hidden_root=(Fp2(0), hidden_q))
    root_tree_leaves_check(zk, point, vp, vq, hidden, size)
    if proof.joint:
        return _verify_joint(hidden, proof.joint_layers, tree_vars, transcript)
    return [_verify_tree(t, None, layers, transcript, hidden_root=h)
            for t, (h, layers) in enumerate(zip(hidden, proof.layers))]
