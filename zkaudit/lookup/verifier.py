"""LogUp verifier (the protocol is stated in `protocol.py`).

Checks, in order: the proof's shape and table digests against the
instance; the trees' roots sum to zero as fractions with a non-zero
denominator; per tree, each GKR layer's sum-check and its eq
value eq(rho, rho'); finally that the leaf claim equals the leaves rebuilt
from the prover's column and multiplicity values and the verifier's own
evaluations of the public tables. Returns the column and multiplicity claims
for the caller to discharge against commitments.

The caller must have absorbed the commitments to the looked-up columns and
to the multiplicities into `transcript` before calling (alpha and beta are
drawn here, after them); otherwise m could be chosen after alpha.
"""

from __future__ import annotations

from zkaudit.field.scalar import Fp2
from zkaudit.lookup.claim import LookupClaims, PointClaim
from zkaudit.lookup.errors import (
    DegenerateDenominator,
    GkrLayerMismatch,
    LeafMismatch,
    LookupShapeError,
    LookupSumNonZero,
    TableMismatch,
)
from zkaudit.lookup.proof import LookupProof
from zkaudit.lookup.protocol import (
    alpha_beta_log2,
    EQ,
    LABEL_ALPHA,
    LABEL_BETA,
    LABEL_LAMBDA,
    LABEL_LEAVES,
    LABEL_MERGE,
    LABEL_MU,
    LABEL_ROOT,
    PL,
    PR,
    QL,
    QR,
    LookupInstance,
    joint_claim,
    joint_layer_spec,
    joint_merge,
    layer_spec,
)
from zkaudit.lookup.protocol import LABEL_ROOT_Q, leaf_sums, root_tree_leaves_check
from zkaudit.poly.mle import eq_eval
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.transcript import Transcript

WHERE = "lookup"


def _check_shape(instance: LookupInstance, proof: LookupProof, tree_vars, joint: bool = False) -> None:
    """`joint`: a zero-knowledge proof, whose trees' layers come in lock step
    (`proof.joint_layers`, one per layer of the deepest tree)."""
    if len(proof.table_digests) != len(instance.tables):
        raise LookupShapeError("wrong number of tables", where=WHERE, expected=len(instance.tables), got=len(proof.table_digests))
    for j, (t, d) in enumerate(zip(instance.tables, proof.table_digests)):
        if d != t.digest():
            raise TableMismatch(f"table {j} is not the instance's table", where=WHERE, expected=t.digest().hex(), got=d.hex())
    if len(proof.roots) != len(tree_vars) or len(proof.layers) != len(tree_vars):
        raise LookupShapeError("wrong number of GKR trees", where=WHERE, expected=len(tree_vars), got=len(proof.layers))
    for t, (nv, layers) in enumerate(zip(tree_vars, proof.layers)):
        if len(layers) != (0 if joint else nv):
            raise LookupShapeError(f"tree {t} has the wrong number of GKR layers", where=WHERE,
                                   expected=0 if joint else nv, got=len(layers))
    deepest = max(tree_vars) if joint else 0
    if len(proof.joint_layers) != deepest:
        raise LookupShapeError("wrong number of lock-step GKR layers", where=WHERE, expected=deepest,
                               got=len(proof.joint_layers))
    if len(proof.column_values) != len(instance.lookups):
        raise LookupShapeError("wrong number of lookups", where=WHERE, expected=len(instance.lookups), got=len(proof.column_values))
    for l, (lk, vals) in enumerate(zip(instance.lookups, proof.column_values)):
        width = instance.tables[lk.table].width
        if len(vals) != width:
            raise LookupShapeError(f"lookup {l} has the wrong number of column values", where=WHERE, expected=width, got=len(vals))
    if len(proof.multiplicity_values) != len(instance.tables):
        raise LookupShapeError(
            "wrong number of multiplicity values", where=WHERE, expected=len(instance.tables), got=len(proof.multiplicity_values)
        )


def _check_roots(roots) -> None:
    """sum_t p_t / q_t = 0 with every q_t != 0, cross-multiplied."""
    total_p, total_q = Fp2(0), Fp2(1)
    for t, (p, q) in enumerate(roots):
        if q == 0:
            raise DegenerateDenominator(f"tree {t} has a zero root denominator", where=WHERE, round=t)
        total_p, total_q = total_p * q + p * total_q, total_q * q
    if total_p != 0:
        raise LookupSumNonZero("the LogUp fractional sum is not zero", where=WHERE, expected=Fp2(0), got=total_p)


def _verify_tree(t: int, root, layers, transcript: Transcript, *, hidden_root=None):
    """One fractional-sum GKR; returns the leaf point and (p~, q~) there.
    `hidden_root`: a zero-knowledge run's root claim (sent padded, absorbed
    by the caller)."""
    if hidden_root is None:
        vp, vq = root
        transcript.absorb_exts(LABEL_ROOT, [vp, vq])
    else:
        vp, vq = hidden_root
    point: tuple[Fp2, ...] = ()
    for k, layer in enumerate(layers, start=1):
        lam = transcript.challenge_ext(LABEL_LAMBDA)  # batches two claims: 1/p^2
        # t = -1: the tree over the roots, whose claim (0, Q) says the LogUp sum is zero
        where = f"{WHERE}/tree {t} gkr layer {k}" if t >= 0 else f"{WHERE}/LogUp sum of the roots, gkr layer {k}"
        claim = sumcheck_verifier.verify(layer, vp + lam * vq, k - 1, layer_spec(lam), transcript, where=where,
                                         public=(EQ,))
        v = claim.values
        eq = eq_eval(point, claim.point)
        if v[EQ] != eq:
            raise GkrLayerMismatch("eq value differs from eq(rho, rho')", where=where, round=k, expected=eq, got=v[EQ])
        c = transcript.challenge_ext(LABEL_MERGE)  # line through L and R: 1/p^2
        vp = v[PL] + c * (v[PR] - v[PL])
        vq = v[QL] + c * (v[QR] - v[QL])
        point = (c,) + tuple(claim.point)
    return point, vp, vq


def _verify_joint(roots, layers, tree_vars, transcript: Transcript):
    """The trees in lock step from their (Hidden) roots (`protocol.py`, zero
    knowledge); returns per tree (leaf point, p~, q~) there. `tree_vars`
    comes from the layout, deepest first; the shapes were checked."""
    claims = list(roots)
    ends = [((),) + tuple(claims[t]) if nv == 0 else None for t, nv in enumerate(tree_vars)]
    point: tuple[Fp2, ...] = ()
    for k, layer in enumerate(layers, start=1):
        active = [t for t, nv in enumerate(tree_vars) if nv >= k]
        lam = transcript.challenge_ext(LABEL_LAMBDA)  # batches each tree's two claims: 1/p^2
        mus = [Fp2(1)] + transcript.challenge_exts(LABEL_MU, len(active) - 1)  # combines the trees: 1/p^2
        claimed = joint_claim(mus, lam, claims, active)
        where = f"{WHERE}/gkr layer {k} ({len(active)} trees in lock step)"
        claim = sumcheck_verifier.verify(layer, claimed, k - 1, joint_layer_spec(lam, mus), transcript, where=where,
                                         public=(EQ,))
        v = claim.values
        eq = eq_eval(point, claim.point)
        if v[EQ] != eq:
            raise GkrLayerMismatch("eq value differs from eq(rho, rho')", where=where, round=k, expected=eq, got=v[EQ])
        c = transcript.challenge_ext(LABEL_MERGE)  # line through L and R: 1/p^2
        point = (c,) + tuple(claim.point)
        for i, t in enumerate(active):
            claims[t] = joint_merge(v, c, i)
            if tree_vars[t] == k:
                ends[t] = (point,) + tuple(claims[t])
    return ends


def verify(instance: LookupInstance, proof: LookupProof, transcript: Transcript) -> LookupClaims:
    """Raises a `LookupRejected` (or sum-check) subclass on a bad proof."""
    tree_vars, segments = instance.layout()
    zk = getattr(transcript, "zk", None)
    _check_shape(instance, proof, tree_vars, joint=zk is not None)
    if (zk is None) != (proof.root_q is None):
        raise LookupShapeError("zero-knowledge lookup proof where the statement is plain, or the reverse",
                               where=WHERE, expected=zk is not None, got=proof.root_q is not None)
    if zk is None:
        _check_roots(proof.roots)

    instance.absorb(transcript)
    beta = transcript.challenge_ext(LABEL_BETA)  # with alpha: (#leaves * width)/p^2, see protocol.soundness
    alpha = transcript.challenge_ext(LABEL_ALPHA)  # LogUp identity, jointly with beta
    # the GKR layers' challenges have degree <= 3: the transcript's default charge covers them
    transcript.charge("lookup alpha, beta", alpha_beta_log2(tree_vars, instance.width))
    if zk is not None:
        return _verify_zk(instance, proof, transcript, zk, alpha, beta)
    ends = [_verify_tree(t, root, layers, transcript) for t, (root, layers) in enumerate(zip(proof.roots, proof.layers))]

    # the leaf check is the zero-knowledge run's (`protocol.leaf_sums`), on plain values
    p_leaf, q_leaf = leaf_sums(instance, ends, proof.column_values, proof.multiplicity_values, alpha, beta)
    col_claims: list = [None] * len(instance.lookups)
    mult_claims: list = [None] * len(instance.tables)
    for s in segments:
        lo = ends[s.tree][0][tree_vars[s.tree] - s.num_vars:]
        if s.kind == "lookup":
            col_claims[s.index] = tuple(PointClaim(lo, v) for v in proof.column_values[s.index])
        else:
            mult_claims[s.index] = PointClaim(lo, proof.multiplicity_values[s.index])
    for t, (_, vp, vq) in enumerate(ends):  # every tree is filled by its segments exactly
        if p_leaf[t] != vp:
            raise LeafMismatch("leaf numerators do not match the last GKR claim", where=WHERE, round=t, expected=p_leaf[t], got=vp)
        if q_leaf[t] != vq:
            raise LeafMismatch("leaf denominators do not match the last GKR claim", where=WHERE, round=t, expected=q_leaf[t], got=vq)
    transcript.absorb_exts(
        LABEL_LEAVES, [v for vals in proof.column_values for v in vals] + list(proof.multiplicity_values)
    )
    return LookupClaims(tuple(col_claims), tuple(mult_claims))


def _verify_zk(instance: LookupInstance, proof: LookupProof, transcript: Transcript, zk, alpha, beta) -> LookupClaims:
    """The zero-knowledge run (`protocol.py`, zero knowledge): padded roots and
    the root tree, the trees from their Hidden roots, padded leaf values."""
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
    ends = _verify_joint(hidden, proof.joint_layers, instance.layout()[0], transcript)
    flat = zk.receive_many([v for vals in proof.column_values for v in vals])  # in order: lookup by lookup
    cols, at = [], 0
    for vals in proof.column_values:
        cols.append(tuple(flat[at : at + len(vals)]))
        at += len(vals)
    mults = zk.receive_many(proof.multiplicity_values)
    transcript.absorb_exts(
        LABEL_LEAVES, [v for vals in proof.column_values for v in vals] + list(proof.multiplicity_values)
    )
    p_leaf, q_leaf = leaf_sums(instance, ends, cols, mults, alpha, beta)
    for t, (_, vp, vq) in enumerate(ends):
        zk.require_equal(p_leaf[t], vp, where=f"{WHERE}/leaves", error=LeafMismatch)
        zk.require_equal(q_leaf[t], vq, where=f"{WHERE}/leaves", error=LeafMismatch)
    tree_vars, segments = instance.layout()
    col_claims: list = [None] * len(instance.lookups)
    mult_claims: list = [None] * len(instance.tables)
    for s in segments:
        lo = ends[s.tree][0][tree_vars[s.tree] - s.num_vars :]
        if s.kind == "lookup":
            col_claims[s.index] = tuple(PointClaim(lo, v) for v in cols[s.index])
        else:
            mult_claims[s.index] = PointClaim(lo, mults[s.index])
    return LookupClaims(tuple(col_claims), tuple(mult_claims))
