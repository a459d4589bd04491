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
        claim = _layer(proofs[i], r, claim, num_vars, transcript, where)
    return LaneClaim(claim.point, tuple(through_matrix(claim.gamma, M_E)), claim.value)


def _check_eq(reduced, claim: LaneClaim, at: str) -> None:
    want = eq_eval(list(claim.point), list(reduced.point))
    if reduced.values[0] != want:
        raise FinalEvaluationMismatch("eq value is not eq(z, z')", where=at, expected=want, got=reduced.values[0])


def _layer(proof, r: int, claim: LaneClaim, num_vars: int, transcript, where: str) -> LaneClaim:
    rnd = ROUNDS[r]
    m = through_matrix(claim.gamma, rnd.matrix)
    at = f"{where} round {r}"
    reduced = sumcheck_verifier.verify(proof, claim.value, num_vars, round_spec(rnd, m), transcript, where=at,
                                       public=(0,))
    _check_eq(reduced, claim, at)
    return next_claim(reduced.values[1:], rnd, reduced.point, transcript)


def verify_blocked(proofs, claim: LaneClaim, num_vars: int, transcript, *, where: str = "poseidon2-gkr"):
    """`verify` with the partial rounds as one block (`gkr_block.py`): 9
    sum-checks. Returns the claim on the input states and the block's point
    z' and values U_j(z'), j < 22 (the caller checks them against its
    commitment to U)."""
    from zkaudit.hash import gkr_block as gb

    if len(proofs) != gb.NUM_SUMCHECKS:
        raise MalformedProof("wrong number of Poseidon2 GKR proofs", where=where, expected=gb.NUM_SUMCHECKS,
                             got=len(proofs))
    if len(claim.point) != num_vars:
        raise MalformedProof("claim point does not span the instances", where=where, expected=num_vars,
                             got=len(claim.point))
    rest = iter(proofs)
    for r in range(NUM_ROUNDS - 1, gb.AFTER_PARTIAL - 1, -1):
        claim = _layer(next(rest), r, claim, num_vars, transcript, where)
    lam, mu = gb.draw(transcript, len(claim.point))
    co = gb.coefficients(claim.gamma, lam, mu)
    at = f"{where} partial rounds"
    reduced = sumcheck_verifier.verify(next(rest), claim.value - co.shift, num_vars, gb.block_spec(co), transcript,
                                       where=at, public=(gb.EQ,))
    _check_eq(reduced, claim, at)
    point, values = tuple(reduced.point), reduced.values
    claim = gb.below_claim(values[gb.X0: gb.U0], point, transcript)
    for r in range(gb.FIRST_PARTIAL - 1, -1, -1):
        claim = _layer(next(rest), r, claim, num_vars, transcript, where)
    return LaneClaim(claim.point, tuple(through_matrix(claim.gamma, M_E)), claim.value), point, tuple(values[gb.U0:])
