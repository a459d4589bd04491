"""Prover side of claim combination (protocol in `combine_verifier.py`)."""

from __future__ import annotations

from zkaudit.field import vec
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.combine_verifier import PRODUCT, dedupe, weights
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript


def prove(claims: list[TensorClaim], table, transcript: Transcript) -> tuple[SumcheckProof | None, TensorClaim]:
    """Prover: `table` is T's embedded table."""
    claims = dedupe(claims)
    if len(claims) == 1:
        return None, claims[0]
    rhos = weights(claims, transcript)
    e = eq_table(claims[0].point)
    target = claims[0].value
    for rho, c in zip(rhos[1:], claims[1:]):
        e = vec.add(e, vec.scale(rho, eq_table(c.point)))
        target = target + rho * c.value
    sc, reduced, _ = sumcheck_prover.prove([table, e], PRODUCT, transcript, claimed_sum=target, public=(1,))
    return sc, TensorClaim(claims[0].tensor, reduced.point, reduced.values[0])
