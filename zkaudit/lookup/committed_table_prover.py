"""Prover of LogUp against a committed table (relation in `committed_table.py`).

    m = table_multiplicities(lookup_cols, numerators, table_cols, table_rows)
    ... caller commits m, absorbs every commitment (statement bound) ...
    proof, claims = prove(instance, lookup_cols, numerators, table_cols, m, transcript)

`prove` does not check membership: a cheating caller gets a proof the
verifier rejects (the attack tests rely on that). With a zero-knowledge
session on the transcript the run is zero-knowledge (`committed_table.py`)
and the returned claims are `Hidden`.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import gkr, kernels
from zkaudit.lookup.committed_table import (
    LABEL_ALPHA,
    LABEL_BETA,
    LABEL_JOINT,
    LABEL_VALUES,
    CommittedTableInstance,
    CommittedTableProof,
    combiners,
    leaf_sums,
)
from zkaudit.lookup.committed_table_verifier import CommittedTableClaims
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.tables import NotInTable
from zkaudit.poly.mle import evaluate
from zkaudit.transcript import Transcript

U64 = np.uint64


class RowNotInTable(NotInTable):
    """Looked-up row `row` (numerator non-zero) is not a real row of the table."""

    def __init__(self, row: int):
        super().__init__(f"row {row}: its value is not a row of the committed table")
        self.row = row


def _rows_key(cols) -> np.ndarray:
    """One structured key per row, for sorting and matching."""
    return np.rec.fromarrays([np.asarray(c, dtype=U64) for c in cols]).view(np.ndarray)


def table_multiplicities(lookup_cols, numerators: np.ndarray, table_cols, table_rows: int) -> np.ndarray:
    """m_j = sum of numerators (0/1) of looked-up rows equal to real table row j.
    Raises NotInTable naming the first looked-up row (numerator 1) that no real
    table row holds. Table rows must be distinct for the count to be unique."""
    keys = _rows_key([c for c in table_cols])[:table_rows]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    want = np.flatnonzero(numerators != 0)
    probe = _rows_key([c[want] for c in lookup_cols])
    pos = np.searchsorted(sorted_keys, probe)
    pos_c = np.minimum(pos, max(table_rows - 1, 0))
    found = (pos < table_rows) & (sorted_keys[pos_c] == probe)
    if not found.all():
        i = int(want[np.flatnonzero(~found)[0]])
        raise RowNotInTable(i)
    m = np.zeros(table_cols[0].shape[0], dtype=np.int64)
    np.add.at(m, order[pos_c], numerators[want].astype(np.int64))
    return m.astype(U64)


def _pad(a: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=U64)
    out[: a.shape[0]] = a
    return out


def _leaf_q(cols, tag: np.ndarray, comb: list[Fp2], alpha: Fp2, out: np.ndarray) -> None:
    stack = np.stack([np.asarray(c, dtype=U64) for c in cols] + [tag])
    coeffs = np.array([[x.c0, x.c1] for x in comb], dtype=U64).reshape(len(comb), 2)
    kernels.leaf_denominators(stack, coeffs, U64(alpha.c0), U64(alpha.c1), out)


def _check(name: str, a, n: int) -> None:
    if not isinstance(a, np.ndarray) or a.dtype != U64 or a.shape != (n,):
        raise ValueError(f"{name} must be a uint64 array of {n} entries")
    if n and int(a.max()) >= P:
        raise ValueError(f"{name} holds a non-canonical field element")


def prove(instance: CommittedTableInstance, lookup_cols, numerators, table_cols, multiplicities,
          transcript: Transcript, *, layer_prove=None,
          evaluate_multiplicities=None) -> tuple[CommittedTableProof, CommittedTableClaims]:
    """The caller has bound the statement and the commitments to every input
    (looked-up columns, numerators, table columns, multiplicities).
    Optional prover-side speed-ups that change no byte of the proof:
    `layer_prove` runs each GKR layer's sum-check (default
    `gkr.fused_layer_prove`, same signature; the consent prover's keeps
    sparse numerators sparse; given, a zero-knowledge run proves the trees
    one after the other, version 2, else in lock step, version 3),
    `evaluate_multiplicities(m, point)` gives
    m~(point) (default `poly.mle.evaluate`)."""
    nf, nt, w = 1 << instance.lookup_vars, 1 << instance.table_vars, instance.width
    if len(lookup_cols) != w or len(table_cols) != w:
        raise ValueError(f"the instance has {w} columns")
    for c in range(w):
        _check(f"lookup column {c}", lookup_cols[c], nf)
        _check(f"table column {c}", table_cols[c], nt)
    _check("numerators", numerators, nf)
    _check("multiplicities", multiplicities, nt)

    zk = getattr(transcript, "zk", None)
    # a zero-knowledge run proves its trees in lock step (version 3), unless the caller brings its own
    # per-tree layer prover (version 2; `committed_table.py`)
    joint = zk is not None and layer_prove is None
    instance.absorb(transcript)
    if joint:
        transcript.absorb_bytes(LABEL_JOINT, b"")
    beta = transcript.challenge_ext(LABEL_BETA)  # with alpha: instance.soundness_log2()
    alpha = transcript.challenge_ext(LABEL_ALPHA)
    comb = combiners(beta, w)
    tree_vars, segments = instance.layout()
    leaves = [gkr.pair_array(1 << nv, p_zero=True) for nv in tree_vars]
    for kind, nv, tree, o in segments:
        p, q = leaves[tree]
        size = 1 << nv
        if kind == "lookup":
            p[o : o + size, 0] = numerators
            _leaf_q(lookup_cols, np.ones(size, dtype=U64), comb, alpha, q[o : o + size])
        else:
            p[o : o + size, 0] = vec.neg(multiplicities)
            _leaf_q(table_cols, _pad(np.ones(instance.table_rows, dtype=U64), size), comb, alpha, q[o : o + size])
    trees = [gkr.build_layers(p, q) for p, q in leaves]
    roots, hidden_roots, root_q, root_layers = [], [None] * len(trees), None, ()
    if zk is not None:
        from zkaudit.lookup.prover import _prove_roots_zk  # the public-table LogUp's own root tree, reused

        roots, hidden_roots, root_q, root_layers = _prove_roots_zk(trees, transcript, zk)
        roots = list(roots)
    layer_proofs, ends, joint_layers = [], [], None
    if joint:
        joint_layers, ends = gkr.prove_joint(trees, transcript, hidden_roots)
        layer_proofs = [()] * len(trees)
    for t, layers in enumerate(trees if not joint else ()):
        root, proofs, point, end = gkr.prove(layers, transcript, layer_prove=layer_prove or gkr.fused_layer_prove,
                                             root=hidden_roots[t])
        if zk is None:
            roots.append(root)
        layer_proofs.append(proofs)
        ends.append((point,) + tuple(end))
    lo = {kind: ends[tree][0][tree_vars[tree] - nv :] for kind, nv, tree, _ in segments}
    rf, rt = lo["lookup"], lo["table"]
    values = [_ext(evaluate(c, rf)) for c in lookup_cols] + [_ext(evaluate(numerators, rf))]
    values += [_ext(evaluate(c, rt)) for c in table_cols]
    values.append(_ext((evaluate_multiplicities or evaluate)(multiplicities, rt)))
    if zk is None:
        sent, held = values, values
    else:  # sent padded; the claims keep them Hidden
        pairs = [zk.pad(v) for v in values]
        sent, held = [s for s, _ in pairs], [h for _, h in pairs]
    transcript.absorb_exts(LABEL_VALUES, sent)
    if zk is not None:
        p_leaf, q_leaf, _ = leaf_sums(instance, ends, held[:w], held[w], held[w + 1 : 2 * w + 1], held[-1],
                                      alpha, beta)
        for t, (_, vp, vq) in enumerate(ends):
            zk.require_equal(p_leaf[t], vp, where="lookup/committed-table/leaves")
            zk.require_equal(q_leaf[t], vq, where="lookup/committed-table/leaves")
    proof = CommittedTableProof(tuple(roots), tuple(layer_proofs), tuple(sent[:w]), sent[w],
                                tuple(sent[w + 1 : 2 * w + 1]), sent[-1], root_q, tuple(root_layers), joint_layers)
    claims = CommittedTableClaims(
        tuple(PointClaim(rf, v) for v in held[:w]), PointClaim(rf, held[w]),
        tuple(PointClaim(rt, v) for v in held[w + 1 : 2 * w + 1]), PointClaim(rt, held[-1]))
    return proof, claims


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


__all__ = ["RowNotInTable", "prove", "table_multiplicities"]
