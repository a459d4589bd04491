"""Elementwise prover (protocol in `verifier.py`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.elementwise.proof import ElementwiseShape, LinearProof, MulProof
from zkaudit.layers.elementwise.verifier import LABEL_ALPHA, LINEAR_OPS, MUL_SPEC
from zkaudit.layers.tensor import padded_shape, real_indicator
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import send
from zkaudit.transcript import Transcript


def _centred(table: np.ndarray, shape: tuple[int, ...], zero_point: int) -> np.ndarray:
    """(T - z) on real entries, 0 on the padding."""
    if zero_point == 0:
        return table
    mask = np.zeros(padded_shape(shape), dtype=np.int64)
    mask[tuple(slice(0, d) for d in shape)] = zero_point
    return vec.sub(table, vec.from_int64(mask.ravel()))


def prove(
    shape: ElementwiseShape,
    names: tuple[str, str],
    claim: TensorClaim,
    a_table: np.ndarray,
    b_table: np.ndarray,
    transcript: Transcript,
) -> tuple[LinearProof | MulProof, list[TensorClaim]]:
    a_name, b_name = names
    if shape.op in LINEAR_OPS:
        alpha = evaluate(a_table, claim.point)
        alpha = Fp2.from_base(alpha) if isinstance(alpha, Fp) else alpha
        sent, alpha = send(transcript, alpha)
        transcript.absorb_ext(LABEL_ALPHA, sent)
        ind = real_indicator(shape.shape, claim.point)
        a_centred = alpha - Fp2(shape.a_zero_point) * ind
        b_centred = claim.value - a_centred if shape.op == "Add" else a_centred - claim.value
        beta = b_centred + Fp2(shape.b_zero_point) * ind
        return LinearProof(sent), [TensorClaim(a_name, claim.point, alpha), TensorClaim(b_name, claim.point, beta)]
    a_c = _centred(a_table, shape.shape, shape.a_zero_point)
    b_c = _centred(b_table, shape.shape, shape.b_zero_point)
    eq = eq_table(claim.point)
    sc, reduced, _ = sumcheck_prover.prove([eq, a_c, b_c], MUL_SPEC, transcript, claimed_sum=claim.value, public=(0,),
                                           eq_point=claim.point)
    s = reduced.point
    _, a_star, b_star = reduced.values
    ind = real_indicator(shape.shape, s)
    return MulProof(sc), [
        TensorClaim(a_name, s, a_star + Fp2(shape.a_zero_point) * ind),
        TensorClaim(b_name, s, b_star + Fp2(shape.b_zero_point) * ind),
    ]
