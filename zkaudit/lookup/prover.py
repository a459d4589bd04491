"""LogUp prover (the protocol is stated in `protocol.py`).

Two steps, so the caller can commit the multiplicities in between:
    m = multiplicities(instance, columns)      # honest counts; NotInTable if a row is missing
    ... caller commits columns and m, absorbs the commitments ...
    proof, claims = prove(instance, columns, m, transcript)
`prove` does not check membership: a cheating caller gets a proof the
verifier rejects (the attack tests rely on that).

Cost: one pass to build the leaves, 2^(n+1) extension products for the tree,
then per layer k a degree-3 sum-check over k-1 variables on five tables.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import gkr, kernels
from zkaudit.lookup.claim import LookupClaims, PointClaim
from zkaudit.lookup.proof import LookupProof
from zkaudit.lookup.protocol import LABEL_ALPHA, LABEL_BETA, LABEL_LEAVES, LookupInstance, row_combiners
from zkaudit.poly.mle import evaluate
from zkaudit.transcript import Transcript

U64 = np.uint64


def _check_column(a, n: int, what: str) -> None:
    if not isinstance(a, np.ndarray) or a.dtype != U64 or a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{what} must be a 1-D uint64 array of {n} entries")
    if n and int(a.max()) >= P:
        raise ValueError(f"{what} holds a non-canonical field element (>= p); embed integers with vec.from_int64")


def _check_inputs(instance: LookupInstance, columns, multiplicities) -> None:
    if len(columns) != len(instance.lookups):
        raise ValueError(f"instance has {len(instance.lookups)} lookups, {len(columns)} column groups given")
    for l, (lk, cols) in enumerate(zip(instance.lookups, columns)):
        width = instance.tables[lk.table].width
        if len(cols) != width:
            raise ValueError(f"lookup {l} needs {width} columns, got {len(cols)}")
        for c, col in enumerate(cols):
            _check_column(col, lk.num_rows, f"lookup {l} column {c}")
    if multiplicities is not None:
        if len(multiplicities) != len(instance.tables):
            raise ValueError(f"instance has {len(instance.tables)} tables, {len(multiplicities)} multiplicity vectors")
        for j, (t, m) in enumerate(zip(instance.tables, multiplicities)):
            _check_column(m, t.num_rows, f"table {j} multiplicities")


def multiplicities(instance: LookupInstance, columns) -> list[np.ndarray]:
    """m_j = how many looked-up rows equal table row j (as field elements)."""
    _check_inputs(instance, columns, None)
    out = [np.zeros(t.num_rows, dtype=np.int64) for t in instance.tables]
    for lk, cols in zip(instance.lookups, columns):
        idx = instance.tables[lk.table].row_indices(list(cols))
        out[lk.table] += np.bincount(idx, minlength=instance.tables[lk.table].num_rows)
    return [m.astype(U64) for m in out]


def _padded_stack(cols, size: int) -> np.ndarray:
    out = np.zeros((len(cols), size), dtype=U64)
    for c, col in enumerate(cols):
        out[c, : col.shape[0]] = col
    return out


def _coeffs(combiners: list[Fp2], width: int) -> np.ndarray:
    return np.array([[x.c0, x.c1] for x in combiners[:width]], dtype=U64).reshape(width, 2)


def tree_leaves(instance: LookupInstance, columns, multiplicities, alpha: Fp2, beta: Fp2, tree: int):
    """(p, q) leaf arrays of one tree (`gkr.pair_array`)."""
    tree_vars, segments = instance.layout()
    w = instance.width
    comb = row_combiners(beta, w)
    p, q = gkr.pair_array(1 << tree_vars[tree], p_zero=True)
    for s in segments:
        if s.tree != tree:
            continue
        size, o = 1 << s.num_vars, s.offset
        if s.kind == "lookup":
            lk = instance.lookups[s.index]
            table, cols = lk.table, columns[s.index]
            p[o : o + lk.num_rows, 0] = 1
        else:
            table, cols = s.index, instance.tables[s.index].columns()
            p[o : o + size, 0] = vec.neg(multiplicities[s.index])
        k = alpha - comb[w] * table
        stack = _padded_stack(cols, size)
        kernels.leaf_denominators(stack, _coeffs(comb, stack.shape[0]), U64(k.c0), U64(k.c1), q[o : o + size])
    return p, q


def prove(instance: LookupInstance, columns, multiplicities, transcript: Transcript):
    """Prove every looked-up row is in its table. The caller has bound the
    statement and the commitments to columns and multiplicities in
    `transcript`. Returns the proof and the claims the caller must discharge."""
    _check_inputs(instance, columns, multiplicities)
    instance.absorb(transcript)
    beta = transcript.challenge_ext(LABEL_BETA)  # with alpha: (#leaves * width)/p^2, see protocol.soundness
    alpha = transcript.challenge_ext(LABEL_ALPHA)
    zk = getattr(transcript, "zk", None)
    roots, layer_proofs, points = [], [], []
    root_q, root_layers = None, ()
    num_trees = len(instance.layout()[0])

    def build(t):
        return gkr.build_layers(*tree_leaves(instance, columns, multiplicities, alpha, beta, t))

    joint_layers = ()
    if zk is not None:  # every root is sent first; then the trees in lock step (`protocol.py`)
        trees = [build(t) for t in range(num_trees)]
        roots, hidden_roots, root_q, root_layers = _prove_roots_zk(trees, transcript, zk)
        joint_layers, ends = gkr.prove_joint(trees, transcript, hidden_roots)
        del trees
        layer_proofs = [()] * num_trees
        points = [e[0] for e in ends]
    else:
        ends = []
        for t in range(num_trees):
            # a plain run builds each tree when it proves it: one tree in memory at a time
            root, proofs, point, end = gkr.prove(build(t), transcript, consume=True)
            roots.append(root)
            layer_proofs.append(proofs)
            points.append(point)
            ends.append((point,) + tuple(end))

    tree_vars, segments = instance.layout()
    col_claims: list = [None] * len(instance.lookups)
    mult_claims: list = [None] * len(instance.tables)
    for s in segments:
        lo = points[s.tree][tree_vars[s.tree] - s.num_vars :]
        if s.kind == "lookup":
            stack = _padded_stack(columns[s.index], 1 << s.num_vars)
            col_claims[s.index] = tuple(PointClaim(lo, _as_ext(evaluate(stack[c], lo))) for c in range(stack.shape[0]))
        else:
            mult_claims[s.index] = PointClaim(lo, _as_ext(evaluate(multiplicities[s.index], lo)))
    if zk is not None:  # the values are sent padded; the claims keep them Hidden
        col_claims = [tuple(_pad_claim(c, zk) for c in cl) for cl in col_claims]
        mult_claims = [_pad_claim(c, zk) for c in mult_claims]
        col_values = tuple(tuple(c[0] for c in cl) for cl in col_claims)
        mult_values = tuple(c[0] for c in mult_claims)
        col_claims = [tuple(c[1] for c in cl) for cl in col_claims]
        mult_claims = [c[1] for c in mult_claims]
    else:
        col_values = tuple(tuple(c.value for c in cl) for cl in col_claims)
        mult_values = tuple(c.value for c in mult_claims)
    transcript.absorb_exts(LABEL_LEAVES, [v for vals in col_values for v in vals] + list(mult_values))
    if zk is not None:
        from zkaudit.lookup.protocol import leaf_sums

        p_leaf, q_leaf = leaf_sums(instance, ends, [tuple(c.value for c in cl) for cl in col_claims],
                                   [c.value for c in mult_claims], alpha, beta)
        for t, (_, vp, vq) in enumerate(ends):
            zk.require_equal(p_leaf[t], vp, where="lookup/leaves")
            zk.require_equal(q_leaf[t], vq, where="lookup/leaves")
    proof = LookupProof(tuple(t.digest() for t in instance.tables), tuple(roots), tuple(layer_proofs), col_values,
                        mult_values, root_q, root_layers, joint_layers)
    return proof, LookupClaims(tuple(col_claims), tuple(mult_claims))


def _pad_claim(c: PointClaim, zk):
    sent, hidden = zk.pad(c.value)
    return sent, PointClaim(c.point, hidden)


def _prove_roots_zk(trees, transcript: Transcript, zk):
    """Send every tree's root padded and prove sum_t p_t / q_t = 0 with a
    fractional-sum GKR over the roots (`protocol.py`, zero knowledge)."""
    from zkaudit.lookup.protocol import LABEL_ROOT, LABEL_ROOT_Q, root_tree_leaves_check

    sent, hidden = [], []
    for layers in trees:
        p0, q0 = _ext(layers[0][0][0]), _ext(layers[0][1][0])
        (sp, hp), (sq, hq) = zk.pad(p0), zk.pad(q0)
        sent.append((sp, sq))
        hidden.append((hp, hq))
    transcript.absorb_exts(LABEL_ROOT, [v for pair in sent for v in pair])
    size = 1 << (len(trees) - 1).bit_length()
    p = np.zeros((size, 2), dtype=U64)
    q = np.zeros((size, 2), dtype=U64)
    q[:, 0] = 1
    for t, layers in enumerate(trees):
        p[t], q[t] = layers[0][0][0], layers[0][1][0]
    rlayers = gkr.build_layers(p, q)
    big_q, hidden_q = zk.pad(_ext(rlayers[0][1][0]))
    transcript.absorb_ext(LABEL_ROOT_Q, big_q)
    _, proofs, point, (vp, vq) = gkr.prove(rlayers, transcript, root=(Fp2(0), hidden_q))
    root_tree_leaves_check(zk, point, vp, vq, hidden, size)
    return tuple(sent), hidden, big_q, tuple(proofs)


def _ext(a) -> Fp2:
    return Fp2(int(a[0]), int(a[1]))


def _as_ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x
