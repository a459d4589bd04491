"""Data-parallel Poseidon2 GKR, verifier side (`gkr.py` states the protocol)."""

from __future__ import annotations

from zkaudit.errors import MalformedProof
from zkaudit.hash.gkr import M_E, NUM_ROUNDS, ROUNDS, LaneClaim, next_claim, round_spec, through_matrix
from zkaudit.poly.mle import eq_eval
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.errors import FinalEvaluationMismatch


def verify(proofs, claim: LaneClaim, num_vars: int, transcript, *, where: str = "poseidon2-gkr") -> LaneClaim:
    """Check the 30 round sum-checks (output round first); returns the claim
    on the input states, sum_k mu_k X~(z, k) = value, for the caller to
    discharge. Raises a ProofRejected subclass."""
    if len(proofs) != NUM_ROUNDS:
        raise MalformedProof("wrong number of Poseidon2 round proofs", where=where, expected=NUM_ROUNDS,
                             got=len(proofs))
    if len(claim.point) != num_vars:
        raise MalformedProof("claim point does not span the instances", where=where, expected=num_vars,
                             got=len(claim.point))
    for i, r in enumerate(range(NUM_ROUNDS - 1, -1, -1)):
        rnd = ROUNDS[r]
        m = through_matrix(claim.gamma, rnd.matrix)
        at = f"{where} round {r}"
        reduced = sumcheck_verifier.verify(proofs[i], claim.value, num_vars, round_spec(rnd, m), transcript,
                                           where=at, public=(0,))
        want = eq_eval(list(claim.point), list(reduced.point))
        if reduced.values[0] != want:
            raise FinalEvaluationMismatch("eq value is not eq(z, z')", where=at, expected=want, got=reduced.values[0])
        claim = next_claim(reduced.values[1:], rnd, reduced.point, transcript)
    return LaneClaim(claim.point, tuple(through_matrix(claim.gamma, M_E)), claim.value)
