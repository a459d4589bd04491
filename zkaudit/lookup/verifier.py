"""LogUp verifier (the protocol is stated in `protocol.py`).

Checks, in order: the proof's shape and table digests against the
instance; the root p_0 = 0, q_0 != 0; each GKR layer's sum-check and its eq
value eq(rho, rho'); finally that the leaf claim equals the leaves rebuilt
from the prover's column and multiplicity values and the verifier's own
evaluations of the public tables. Returns the column and multiplicity claims
for the caller to discharge against commitments.
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
    EQ,
    LABEL_ALPHA,
    LABEL_BETA,
    LABEL_LAMBDA,
    LABEL_LEAVES,
    LABEL_MERGE,
    LABEL_ROOT,
    PL,
    PR,
    QL,
    QR,
    LookupInstance,
    eq_bits,
    layer_spec,
    prefix_indicator,
    row_combiners,
)
from zkaudit.poly.mle import eq_eval
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.transcript import Transcript

WHERE = "lookup"


def _check_shape(instance: LookupInstance, proof: LookupProof, num_vars: int) -> None:
    if len(proof.table_digests) != len(instance.tables):
        raise LookupShapeError("wrong number of tables", where=WHERE, expected=len(instance.tables), got=len(proof.table_digests))
    for j, (t, d) in enumerate(zip(instance.tables, proof.table_digests)):
        if d != t.digest():
            raise TableMismatch(f"table {j} is not the instance's table", where=WHERE, expected=t.digest().hex(), got=d.hex())
    if len(proof.layers) != num_vars:
        raise LookupShapeError("wrong number of GKR layers", where=WHERE, expected=num_vars, got=len(proof.layers))
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


def verify(instance: LookupInstance, proof: LookupProof, transcript: Transcript) -> LookupClaims:
    """Raises a `LookupRejected` (or sum-check) subclass on a bad proof."""
    num_vars, segments = instance.layout()
    _check_shape(instance, proof, num_vars)

    instance.absorb(transcript)
    beta = transcript.challenge_ext(LABEL_BETA)  # with alpha: (#leaves * width)/p^2, see protocol.soundness
    alpha = transcript.challenge_ext(LABEL_ALPHA)  # LogUp identity, jointly with beta
    p0, q0 = proof.root
    if p0 != 0:
        raise LookupSumNonZero("the LogUp fractional sum is not zero", where=WHERE, expected=Fp2(0), got=p0)
    if q0 == 0:
        raise DegenerateDenominator("the root denominator is zero", where=WHERE)
    transcript.absorb_exts(LABEL_ROOT, [p0, q0])

    point: tuple[Fp2, ...] = ()
    vp, vq = p0, q0
    for k, layer in enumerate(proof.layers, start=1):
        lam = transcript.challenge_ext(LABEL_LAMBDA)  # batches two claims: 1/p^2
        claim = sumcheck_verifier.verify(layer, vp + lam * vq, k - 1, layer_spec(lam), transcript, where=f"{WHERE}/gkr layer {k}")
        v = claim.values
        eq = eq_eval(point, claim.point)
        if v[EQ] != eq:
            raise GkrLayerMismatch("eq value differs from eq(rho, rho')", where=WHERE, round=k, expected=eq, got=v[EQ])
        c = transcript.challenge_ext(LABEL_MERGE)  # line through L and R: 1/p^2
        vp = v[PL] + c * (v[PR] - v[PL])
        vq = v[QL] + c * (v[QR] - v[QL])
        point = (c,) + tuple(claim.point)

    w = instance.width
    comb = row_combiners(beta, w)
    p_leaf, q_leaf, covered = Fp2(0), Fp2(0), Fp2(0)
    col_claims: list = [None] * len(instance.lookups)
    mult_claims: list = [None] * len(instance.tables)
    for s in segments:
        hi, lo = point[: num_vars - s.num_vars], point[num_vars - s.num_vars :]
        sel = eq_bits(s.offset >> s.num_vars, hi)
        if s.kind == "lookup":
            lk = instance.lookups[s.index]
            table, vals = lk.table, proof.column_values[s.index]
            num = prefix_indicator(lk.num_rows, lo)
            col_claims[s.index] = tuple(PointClaim(lo, v) for v in vals)
        else:
            table, vals = s.index, instance.tables[s.index].evaluate_columns(lo)
            num = -proof.multiplicity_values[s.index]
            mult_claims[s.index] = PointClaim(lo, proof.multiplicity_values[s.index])
        den = alpha - comb[w] * table
        for c, v in enumerate(vals):
            den = den - comb[c] * v
        p_leaf = p_leaf + sel * num
        q_leaf = q_leaf + sel * den
        covered = covered + sel
    q_leaf = q_leaf + (1 - covered)  # unused leaves hold q = 1
    if p_leaf != vp:
        raise LeafMismatch("leaf numerators do not match the last GKR claim", where=WHERE, expected=p_leaf, got=vp)
    if q_leaf != vq:
        raise LeafMismatch("leaf denominators do not match the last GKR claim", where=WHERE, expected=q_leaf, got=vq)
    transcript.absorb_exts(
        LABEL_LEAVES, [v for vals in proof.column_values for v in vals] + list(proof.multiplicity_values)
    )
    return LookupClaims(tuple(col_claims), tuple(mult_claims))
