"""Verifier of sorted distinctness (protocol in `sorted_rows.py`). Returns
the claims on the table's (hi, lo) columns for the caller to discharge."""

from __future__ import annotations

from zkaudit import pcs
from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import Fp2
from zkaudit.lookup import verifier as lookup_verifier
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.errors import GkrLayerMismatch, LookupShapeError
from zkaudit.lookup.next_index import next_eval
from zkaudit.lookup.protocol import LookupInstance
from zkaudit.lookup.sorted_rows import (
    AUX_BETA,
    AUX_D,
    AUX_LIMBS,
    BETA,
    D,
    EQ,
    HI,
    HIN,
    IND,
    LABEL_AUX,
    LABEL_LAMBDA,
    LABEL_LIMBS,
    LABEL_MU,
    LABEL_R,
    LABEL_Z,
    LO,
    LON,
    SortedRowsProof,
    range_check,
    shift_spec,
    zero_check_spec,
)
from zkaudit.pcs.verifier import read_opening
from zkaudit.poly.mle import eq_eval, prefix_indicator
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.transcript import Transcript

WHERE = "lookup/sorted"


def verify(proof: SortedRowsProof, num_vars: int, num_rows: int, params: pcs.PcsParams, transcript: Transcript):
    """Raises a `ProofRejected` subclass on a bad proof; returns ((hi, lo)
    claims at three points) to discharge against the table's commitment."""
    size = 1 << num_vars
    if not 1 <= num_rows <= size:
        raise LookupShapeError("row count outside the table", where=WHERE, expected=f"1..{size}", got=num_rows)
    rc = range_check(size)
    nl = len(rc.limb_widths)
    base = rc.instance()
    inst = LookupInstance(base.tables, base.lookups * 3)
    if len(proof.limbs_at_z) != 3 * nl:
        raise LookupShapeError("wrong number of limb values", where=WHERE, expected=3 * nl, got=len(proof.limbs_at_z))
    try:
        commitment = pcs.Commitment.from_bytes(proof.aux_commitment)
    except pcs.PcsRejected as exc:
        raise MalformedProof(f"auxiliary commitment: {exc}", where=WHERE) from None
    expected_vars = (num_vars, num_vars) + (num_vars,) * (3 * nl) + tuple(t.num_vars for t in inst.tables)
    if commitment.num_vars != expected_vars:
        raise LookupShapeError("auxiliary commitment has the wrong tables", where=WHERE, expected=expected_vars,
                               got=commitment.num_vars)
    opening = read_opening(proof.opening, commitment, params)
    transcript.absorb_bytes(LABEL_AUX, proof.aux_commitment)

    r = transcript.challenge_exts(LABEL_R, num_vars)  # zero-check point: num_vars * 4 / p^2 with the rounds
    lam = transcript.challenge_ext(LABEL_LAMBDA)  # batches three constraints: 2 / p^2
    zc = sumcheck_verifier.verify(proof.zero_check, Fp2(0), num_vars, zero_check_spec(lam), transcript,
                                  where=f"{WHERE}/zero-check")
    s, v = zc.point, zc.values
    if v[EQ] != eq_eval(r, s):
        raise GkrLayerMismatch("zero-check eq value is not eq(r, s)", where=f"{WHERE}/zero-check",
                               expected=eq_eval(r, s), got=v[EQ])
    ind = prefix_indicator(num_rows - 1, s)
    if v[IND] != ind:
        raise GkrLayerMismatch("zero-check row selector is not the public one", where=f"{WHERE}/zero-check",
                               expected=ind, got=v[IND])
    mu = transcript.challenge_ext(LABEL_MU)  # batches hi' and lo': 1 / p^2
    sc = sumcheck_verifier.verify(proof.shift, v[HIN] + mu * v[LON], num_vars, shift_spec(mu), transcript,
                                  where=f"{WHERE}/shift")
    s2 = sc.point
    nx = next_eval(s, s2)
    if sc.values[0] != nx:
        raise GkrLayerMismatch("shift factor is not next(s, s')", where=f"{WHERE}/shift", expected=nx,
                               got=sc.values[0])
    lclaims = lookup_verifier.verify(inst, proof.ranges, transcript)
    z = transcript.challenge_exts(LABEL_Z, num_vars)  # recomposition at a fresh point: num_vars / p^2
    limbs_z = proof.limbs_at_z
    transcript.absorb_exts(LABEL_LIMBS, list(limbs_z))

    claims = [pcs.Claim(AUX_BETA, s, v[BETA]), pcs.Claim(AUX_D, s, v[D]),
              pcs.Claim(AUX_D, z, rc.recompose_at(z, limbs_z[2 * nl :]).value)]
    for i, (lc, vz) in enumerate(zip(lclaims.columns, limbs_z)):
        claims += [pcs.Claim(AUX_LIMBS + i, lc[0].point, lc[0].value), pcs.Claim(AUX_LIMBS + i, z, vz)]
    for j, mc in enumerate(lclaims.multiplicities):
        claims.append(pcs.Claim(AUX_LIMBS + 3 * nl + j, mc.point, mc.value))
    pcs.verify(commitment, claims, opening, transcript, params)
    return (
        (PointClaim(s, v[HI]), PointClaim(s, v[LO])),
        (PointClaim(s2, sc.values[1]), PointClaim(s2, sc.values[2])),
        (rc.recompose_at(z, limbs_z[:nl]), rc.recompose_at(z, limbs_z[nl : 2 * nl])),
    )
