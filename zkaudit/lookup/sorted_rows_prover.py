"""Prover of sorted distinctness (protocol in `sorted_rows.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit import pcs
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup import prover as lookup_prover
from zkaudit.lookup.claim import PointClaim
from zkaudit.lookup.next_index import next_table, shift
from zkaudit.lookup.sorted_rows import (
    AUX_BETA,
    AUX_D,
    AUX_LIMBS,
    BETA,
    D,
    HI,
    HIN,
    ID_BITS,
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
from zkaudit.lookup.tables import NotInTable
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.transcript import Transcript

U64 = np.uint64


class NotSorted(ValueError):
    """An honest prover was given rows that are not strictly increasing (a
    duplicate, or out of order) or a value outside 62 bits."""


def _ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def witness(hi: np.ndarray, lo: np.ndarray, num_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(beta, d) for honest rows; NotSorted naming the first bad row."""
    big = np.flatnonzero((hi[:num_rows] >> U64(ID_BITS)) | (lo[:num_rows] >> U64(ID_BITS)))
    if big.size:
        raise NotSorted(f"row {big[0]}: value outside {ID_BITS} bits")
    size = hi.shape[0]
    beta, d = np.zeros(size, dtype=U64), np.zeros(size, dtype=U64)
    h0, h1, l0, l1 = hi[: num_rows - 1], hi[1:num_rows], lo[: num_rows - 1], lo[1:num_rows]
    up = h1 > h0
    same = h1 == h0
    bad = np.flatnonzero(~up & ~(same & (l1 > l0)))
    if bad.size:
        j = int(bad[0])
        raise NotSorted(f"rows {j} and {j + 1} are not strictly increasing (a duplicate or out of order)")
    beta[: num_rows - 1] = up.astype(U64)
    d[: num_rows - 1] = np.where(up, h1 - h0 - U64(1), l1 - l0 - U64(1))
    return beta, d


def prove(hi: np.ndarray, lo: np.ndarray, num_rows: int, params: pcs.PcsParams, transcript: Transcript, *,
          beta: np.ndarray | None = None, d: np.ndarray | None = None):
    """Prove rows [0, num_rows) of (hi, lo) strictly increasing. The caller has
    bound the statement and the commitment to (hi, lo). Returns the proof and
    the claims ((hi, lo) at three points) to discharge against that commitment.
    `beta`/`d` override the honest witness (attack tests only)."""
    size = hi.shape[0]
    k = size.bit_length() - 1
    if size & (size - 1) or lo.shape != hi.shape or not 1 <= num_rows <= size:
        raise ValueError("hi and lo must have the same power-of-two length >= num_rows >= 1")
    if beta is None or d is None:
        beta, d = witness(hi, lo, num_rows)
    rc = range_check(size)
    limbs = []
    for col in (hi, lo, d):
        try:
            limbs += [l[0] for l in rc.decompose(col)]
        except NotInTable as exc:
            raise NotSorted(str(exc)) from None
    inst = rc.instance()
    # one instance for all 12 limb columns: tables as in a single RangeCheck, lookups repeated
    from zkaudit.lookup.protocol import LookupInstance

    inst = LookupInstance(inst.tables, inst.lookups * 3)
    columns = [[l] for l in limbs]
    mults = lookup_prover.multiplicities(inst, columns)
    aux = [beta, d] + limbs + list(mults)
    commitment, pdata = pcs.commit(aux, params)
    c_bytes = commitment.to_bytes()
    transcript.absorb_bytes(LABEL_AUX, c_bytes)

    r = transcript.challenge_exts(LABEL_R, k)
    lam = transcript.challenge_ext(LABEL_LAMBDA)
    ind = np.zeros(size, dtype=U64)
    ind[: num_rows - 1] = 1
    tables = [eq_table(r), ind, beta, hi, shift(hi), lo, shift(lo), d]
    zc, zclaim, _ = sumcheck_prover.prove(tables, zero_check_spec(lam), transcript, claimed_sum=Fp2(0))
    s = zclaim.point
    mu = transcript.challenge_ext(LABEL_MU)
    sh, sclaim, _ = sumcheck_prover.prove([next_table(s), hi, lo], shift_spec(mu), transcript,
                                          claimed_sum=zclaim.values[HIN] + mu * zclaim.values[LON])
    s2 = sclaim.point
    ranges, lclaims = lookup_prover.prove(inst, columns, mults, transcript)
    z = transcript.challenge_exts(LABEL_Z, k)
    limbs_z = tuple(_ext(evaluate(l, z)) for l in limbs)
    transcript.absorb_exts(LABEL_LIMBS, list(limbs_z))

    nl = len(rc.limb_widths)
    claims = [pcs.Claim(AUX_BETA, s, zclaim.values[BETA]), pcs.Claim(AUX_D, s, zclaim.values[D]),
              pcs.Claim(AUX_D, z, rc.recompose_at(z, limbs_z[2 * nl :]).value)]
    for i, (lc, vz) in enumerate(zip(lclaims.columns, limbs_z)):
        claims += [pcs.Claim(AUX_LIMBS + i, lc[0].point, lc[0].value), pcs.Claim(AUX_LIMBS + i, z, vz)]
    for j, mc in enumerate(lclaims.multiplicities):
        claims.append(pcs.Claim(AUX_LIMBS + len(limbs) + j, mc.point, mc.value))
    opening = pcs.open(pdata, claims, transcript)
    proof = SortedRowsProof(c_bytes, zc, sh, ranges, limbs_z, opening.to_bytes())
    table_claims = (
        (PointClaim(s, zclaim.values[HI]), PointClaim(s, zclaim.values[LO])),
        (PointClaim(s2, sclaim.values[1]), PointClaim(s2, sclaim.values[2])),
        (rc.recompose_at(z, limbs_z[:nl]), rc.recompose_at(z, limbs_z[nl : 2 * nl])),
    )
    return proof, table_claims
