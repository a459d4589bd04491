"""Index-map verifier.

Y[y] = X_{id(y)}[idx(y)] on cells wired to an input, c on Pad cells, 0 on
Y's padding (see `wiring.py`). For a claim Y~(r) = v, with eq_r = eq(r, .):
    v = sum_j S_j + c * P_r,    P_r = sum_{y: Pad cell} eq_r[y]
    S_j = sum_x X_j(x) W_j(x),  W_j(x) = sum_{y: id(y)=j, idx(y)=x} eq_r[y].
The prover sends every S_j; each is reduced by a degree-2 sum-check over X_j's
variables to a point s_j with finals (x*, w*). The verifier computes
W_j~(s_j) = sum_y eq_r[y] eq(s_j, idx(y)) itself (O(|Y|), no prover help)
and returns the claim X_j~(s_j) = x*.
When the wiring is the identity on tables (a reshape that keeps the padded
layout, a squeeze of a size-1 axis) the claim passes through at no cost.
Soundness: 2 n_j / p^2 per input.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field.scalar import Fp2
from zkaudit.layers import kernels
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.index_map.proof import IndexMapProof
from zkaudit.layers.index_map.wiring import CONSTANT, Wiring
from zkaudit.layers.tensor import num_vars
from zkaudit.poly.mle import eq_table
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import check_equal, receive
from zkaudit.sumcheck.errors import FinalEvaluationMismatch, ProofShapeError, RoundSumMismatch
from zkaudit.transcript import Transcript

LABEL_PARTIALS = b"index-map/partial-sums"
PRODUCT = SumOfProducts.product(2)  # X_j * W_j


def constant_part(wiring: Wiring, eq_r: np.ndarray) -> Fp2:
    if wiring.constant == 0:
        return Fp2(0)
    c0, c1 = kernels.masked_eq_sum(eq_r, wiring.src_id, CONSTANT)
    return Fp2(int(c0), int(c1)) * wiring.constant


def verify(
    wiring: Wiring,
    in_shapes: list[tuple[int, ...]],
    names: list[str],
    claim: TensorClaim,
    proof: IndexMapProof,
    transcript: Transcript,
    *,
    where: str = "index-map",
) -> list[TensorClaim]:
    if len(in_shapes) == 1 and wiring.is_identity(in_shapes[0]):
        if proof.partial_sums:
            raise ProofShapeError("identity map carries no proof", where=where, expected=0, got=len(proof.partial_sums))
        return [TensorClaim(names[0], claim.point, claim.value)]
    k = len(in_shapes)
    if len(proof.partial_sums) != k or len(proof.sumchecks) != k:
        raise ProofShapeError("wrong number of partial sums", where=where, expected=k, got=len(proof.partial_sums))
    sums = [receive(transcript, s) for s in proof.partial_sums]
    # eq(r, .) as a table only for a Pad constant's cells; the wiring values
    # take it (and eq(s_j, .)) from half-size tables (`kernels.split_wiring_eval`)
    total = constant_part(wiring, eq_table(claim.point)) if wiring.constant != 0 else Fp2(0)
    for s in sums:
        total = s + total
    check_equal(transcript, total, claim.value, where=where, error=RoundSumMismatch,
                message="partial sums do not add up to the claim")
    transcript.absorb_exts(LABEL_PARTIALS, proof.partial_sums)
    out = []
    for j, (shape, s_j, sc) in enumerate(zip(in_shapes, sums, proof.sumchecks)):
        reduced = sumcheck_verifier.verify(sc, s_j, num_vars(shape), PRODUCT, transcript, where=f"{where} input {j}",
                                           public=(1,))
        x_star, w_star = reduced.values
        w0, w1 = kernels.split_wiring_eval(claim.point, reduced.point, wiring.src_id, wiring.src_idx, j)
        w_expected = Fp2(int(w0), int(w1))
        if w_star != w_expected:
            raise FinalEvaluationMismatch("wiring value is not the public wiring's", where=f"{where} input {j}",
                                          expected=w_expected, got=w_star)
        out.append(TensorClaim(names[j], reduced.point, x_star))
    return out
