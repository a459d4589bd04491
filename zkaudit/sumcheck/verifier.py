"""Sum-check verifier.

Claim:  sum_{x in {0,1}^n} F(x) = S,  F = sum_j c_j prod_{i in S_j} f_i  (degree d).
Round i (i = 1..n): the prover sends g_i(0..d), where
    g_i(t) = sum_{x in {0,1}^(n-i)} F(r_1, ..., r_{i-1}, t, x).
Check:  g_i(0) + g_i(1) = claim_{i-1}   (claim_0 = S),
then    r_i <- transcript (uniform in GF(p^2)),  claim_i = g_i(r_i).
End:    the prover's final values v_j = f_j~(r) must satisfy F(v) = claim_n;
the values are returned as an `EvaluationClaim` for the caller to discharge.

Soundness: a false claim survives round i with probability <= d / p^2
(Schwartz-Zippel on g_i - g_i*), so <= n d / p^2 ~ n d 2^-128 overall,
plus whatever the caller's discharge of the final claim costs.

Masked (`verify_masked`, Libra; `mask.py`): the prover first sends
G = sum_x g(x) for its committed mask g; rho <- transcript; the rounds above
run on the claim S + rho G, and the end check is
    F(v) + rho * g(r) = claim_n
with g(r) stated by the prover and returned as a `MaskClaim` that the caller
discharges against the mask commitment. +1 / p^2 soundness for rho.
"""

from __future__ import annotations

import math

from zkaudit.field.constants import EXT_BITS
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.poly.univariate import evaluate_from_evals
from zkaudit.sumcheck.claim import EvaluationClaim, SumOfProducts
from zkaudit.sumcheck.errors import FinalEvaluationMismatch, ProofShapeError, RoundSumMismatch
from zkaudit.sumcheck.mask import MaskClaim
from zkaudit.sumcheck.proof import MaskedSumcheckProof, SumcheckProof
from zkaudit.sumcheck.protocol import (
    LABEL_CHALLENGE,
    LABEL_FINAL,
    LABEL_MASK_RHO,
    LABEL_MASK_SUM,
    LABEL_MASK_VALUE,
    LABEL_ROUND,
    absorb_header,
)
from zkaudit.sumcheck.zk import ADVICE, MASK_BANK, absorb_claim_form, mask_degrees, require_end_check, vanishing
from zkaudit.transcript import DEFAULT_DEGREE, Transcript


def _check_shape(proof: SumcheckProof, num_vars: int, spec: SumOfProducts, where: str) -> None:
    degree = spec.degree
    if len(proof.round_evals) != num_vars:
        raise ProofShapeError("wrong number of rounds", where=where, expected=num_vars, got=len(proof.round_evals))
    for i, evals in enumerate(proof.round_evals):
        if len(evals) != degree + 1:
            raise ProofShapeError(
                "round polynomial has the wrong degree", where=where, round=i, expected=degree + 1, got=len(evals)
            )
    if len(proof.final_values) != spec.num_tables:
        raise ProofShapeError(
            "wrong number of final table values", where=where, expected=spec.num_tables, got=len(proof.final_values)
        )


def _rounds(proof: SumcheckProof, claim: Fp2, transcript: Transcript, where: str) -> tuple[list[Fp2], Fp2]:
    point = []
    for i, evals in enumerate(proof.round_evals):
        got = evals[0] + evals[1]
        if got != claim:
            raise RoundSumMismatch("g(0) + g(1) differs from the running claim", where=where, round=i, expected=claim, got=got)
        transcript.absorb_exts(LABEL_ROUND, evals)
        r = transcript.challenge_ext(LABEL_CHALLENGE)  # costs d / p^2 soundness
        point.append(r)
        claim = evaluate_from_evals(evals, r)
    return point, claim


def verify(
    proof: SumcheckProof,
    claimed_sum: Fp2 | Fp,
    num_vars: int,
    spec: SumOfProducts,
    transcript: Transcript,
    *,
    where: str = "sumcheck",
    public: tuple[int, ...] = (),
    pad_bank: dict[int, str] | None = None,
) -> EvaluationClaim:
    """Check `proof` against `claimed_sum`; returns the claim left to discharge.
    Raises a `SumcheckRejected` subclass; never returns on a bad proof.

    With a zero-knowledge session on the transcript (`transcript.zk`) the
    proof must be a zero-knowledge run (`zk_prover` states the protocol):
    `claimed_sum` may be `Hidden`, and the values of the tables not in
    `public` come back `Hidden`."""
    if isinstance(claimed_sum, Fp):
        claimed_sum = Fp2.from_base(claimed_sum)
    zk = getattr(transcript, "zk", None)
    if zk is not None or proof.zero_knowledge:
        if zk is None:
            raise ProofShapeError("a zero-knowledge sum-check where the statement has none", where=where)
        if not proof.zero_knowledge:
            raise ProofShapeError("a plain sum-check where the statement is zero-knowledge", where=where)
        return _verify_zk(proof, claimed_sum, num_vars, spec, transcript, zk, public, pad_bank or {}, where)
    _check_shape(proof, num_vars, spec, where)  # shapes first, before any transcript work

    absorb_header(transcript, spec, num_vars, claimed_sum)
    point, claim = _rounds(proof, claimed_sum, transcript, where)
    combined = spec.combine(proof.final_values)
    if combined != claim:
        raise FinalEvaluationMismatch(
            "final table values do not match the last round", where=where, round=num_vars, expected=claim, got=combined
        )
    transcript.absorb_exts(LABEL_FINAL, proof.final_values)
    return EvaluationClaim(tuple(point), tuple(proof.final_values))


def verify_masked(
    proof: MaskedSumcheckProof,
    claimed_sum: Fp2 | Fp,
    num_vars: int,
    spec: SumOfProducts,
    transcript: Transcript,
    *,
    where: str = "sumcheck",
) -> tuple[EvaluationClaim, MaskClaim]:
    """Check a masked proof of sum_x F(x) = claimed_sum. Returns the claim on
    F's tables and the claim g(r) = value on the mask; the caller discharges
    both (the second against the mask commitment it bound before this
    sum-check). Raises a `SumcheckRejected` subclass."""
    if isinstance(claimed_sum, Fp):
        claimed_sum = Fp2.from_base(claimed_sum)
    if not isinstance(proof, MaskedSumcheckProof):
        raise ProofShapeError("a masked sum-check needs a MaskedSumcheckProof", where=where,
                              got=type(proof).__name__)
    inner = proof.inner
    _check_shape(inner, num_vars, spec, where)

    absorb_header(transcript, spec, num_vars, claimed_sum)
    transcript.absorb_ext(LABEL_MASK_SUM, proof.mask_sum)
    rho = transcript.challenge_ext(LABEL_MASK_RHO)  # costs 1 / p^2: a false sum survives one rho
    point, claim = _rounds(inner, claimed_sum + rho * proof.mask_sum, transcript, where)
    combined = spec.combine(inner.final_values) + rho * proof.mask_value
    if combined != claim:
        raise FinalEvaluationMismatch(
            "final table values and mask value do not match the last round", where=where, round=num_vars,
            expected=claim, got=combined
        )
    transcript.absorb_exts(LABEL_FINAL, inner.final_values)
    transcript.absorb_ext(LABEL_MASK_VALUE, proof.mask_value)
    return (EvaluationClaim(tuple(point), tuple(inner.final_values)),
            MaskClaim(tuple(point), proof.mask_value, spec.degree))


def _verify_zk(proof: SumcheckProof, claimed, num_vars: int, spec: SumOfProducts, transcript: Transcript, zk,
               public, pad_bank, where: str) -> EvaluationClaim:
    if num_vars == 0:  # run on the tables lifted to one variable (zk_prover._lift)
        ev = _verify_zk(proof, claimed, 1, spec, transcript, zk, public, pad_bank, where)
        (r,) = ev.point
        if r == Fp2(1):
            raise RoundSumMismatch("challenge 1 leaves a lifted table without its value", where=where)
        scale = (Fp2(1) - r).inverse()
        return EvaluationClaim((), tuple(v * scale for v in ev.values))
    d, n = spec.degree, num_vars
    if len(proof.round_evals) != n:
        raise ProofShapeError("wrong number of rounds", where=where, expected=n, got=len(proof.round_evals))
    for i, evals in enumerate(proof.round_evals):
        want = 2 * d + 1 if i == n - 1 else d + 1
        if len(evals) != want:
            raise ProofShapeError("round polynomial has the wrong degree", where=where, round=i, expected=want,
                                  got=len(evals))
    if len(proof.final_values) != spec.num_tables:
        raise ProofShapeError("wrong number of final table values", where=where, expected=spec.num_tables,
                              got=len(proof.final_values))
    claimed_h = Hidden.of(claimed)
    hidden_part = claimed_h - claimed_h.const
    absorb_header(transcript, spec, n, claimed_h.const)
    absorb_claim_form(transcript, claimed)
    degrees = mask_degrees(n, d)
    g_keys = zk.take(1 + sum(degrees), pad_bank.get(MASK_BANK, ADVICE))
    padded = [j for j in range(spec.num_tables) if j not in public]
    pads = dict(zip(padded, zk.take_each([pad_bank.get(j, ADVICE) for j in padded])))
    transcript.absorb_ext(LABEL_MASK_SUM, proof.mask_sum)
    rho = transcript.challenge_ext(LABEL_MASK_RHO)  # costs 1 / p^2: a false sum survives one rho
    if 2 * d > DEFAULT_DEGREE:
        transcript.charge("sumcheck.zk-last-round", math.log2(2 * d) - EXT_BITS)
    point, claim = _rounds(proof, claimed_h.const + rho * proof.mask_sum, transcript, where)
    transcript.absorb_exts(LABEL_FINAL, proof.final_values)
    z = vanishing(point)
    minus_z = -z
    values = []
    for j, fh in enumerate(proof.final_values):
        values.append(Hidden._raw(fh, ((pads[j], minus_z),)) if j in pads and (z.c0 or z.c1) else
                      Hidden(fh, ((pads[j], minus_z),)) if j in pads else fh)
    require_end_check(zk, spec.combine(proof.final_values), claim, rho, g_keys, point, degrees, hidden_part, n,
                      where=f"{where}.final", error=FinalEvaluationMismatch)
    return EvaluationClaim(tuple(point), tuple(values))
