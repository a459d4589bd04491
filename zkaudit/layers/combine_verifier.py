"""Combining claims that meet at one tensor, so it is reduced once.

Claims T~(r_j) = v_j, j = 1..k (k >= 2). With rho_1 = 1 and rho_j drawn from
the transcript (each costs 1/p^2: a false v_j survives only if the combined
sum happens to agree),
    sum_j rho_j v_j = sum_x T(x) E(x),   E(x) = sum_j rho_j eq(r_j, x),
a degree-2 sum-check to a point s with finals (t*, e*). The verifier computes
E~(s) = sum_j rho_j eq(r_j, s) itself and returns the single claim T~(s) = t*.
Soundness: (k - 1) / p^2 + 2 n / p^2.

The prover is `combine_prover.prove`.
"""

from __future__ import annotations

from zkaudit.field.scalar import Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.poly.mle import eq_eval
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.errors import FinalEvaluationMismatch, ProofShapeError
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

LABEL_RHO = b"combine/rho"
PRODUCT = SumOfProducts.product(2)  # T * E


def weights(claims, transcript: Transcript) -> list[Fp2]:
    rhos = [Fp2(1)]
    for _ in claims[1:]:
        rhos.append(transcript.challenge_ext(LABEL_RHO))
    return rhos


def dedupe(claims: list[TensorClaim]) -> list[TensorClaim]:
    """Identical claims (same point and value) are one claim."""
    out, seen = [], set()
    for c in claims:
        key = (c.point, c.value)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def verify(claims: list[TensorClaim], num_vars: int, proof: SumcheckProof | None, transcript: Transcript) -> TensorClaim:
    claims = dedupe(claims)
    name = claims[0].tensor
    if len(claims) == 1:
        if proof is not None:
            raise ProofShapeError("a single claim needs no combination proof", where=f"combine {name}")
        return claims[0]
    if proof is None:
        raise ProofShapeError("claims to combine but no combination proof", where=f"combine {name}")
    rhos = weights(claims, transcript)
    target = Fp2(0)
    for rho, c in zip(rhos, claims):
        target = target + rho * c.value
    reduced = sumcheck_verifier.verify(proof, target, num_vars, PRODUCT, transcript, where=f"combine {name}",
                                       public=(1,))
    t_star, e_star = reduced.values
    e_expected = Fp2(0)
    for rho, c in zip(rhos, claims):
        e_expected = e_expected + rho * eq_eval(c.point, reduced.point)
    if e_star != e_expected:
        raise FinalEvaluationMismatch("combination weight is not sum rho_j eq(r_j, s)", where=f"combine {name}",
                                      expected=e_expected, got=e_star)
    return TensorClaim(name, reduced.point, t_star)
