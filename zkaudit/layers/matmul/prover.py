"""MatMul prover (protocol in `verifier.py`). Cost: one pass over A and one
over B to bind the outer dimensions (O(M'K' + K'N')), then a degree-2
sum-check over K' entries."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.layers import kernels
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.matmul.proof import MatMulProof, MatMulShape
from zkaudit.layers.matmul.verifier import LABEL_BIAS, PRODUCT, split_output_point
from zkaudit.layers.tensor import log2_ceil
from zkaudit.poly.mle import eq_table, evaluate, prefix_indicator
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import send
from zkaudit.transcript import Transcript


def _minus_const_on_prefix(table: np.ndarray, count: int, c: Fp2) -> None:
    """table[:count] -= c, in place (table is an extension vector)."""
    if count and c:
        const = np.empty((count, 2), dtype=np.uint64)
        const[:] = (c.c0, c.c1)
        vec.sub(np.ascontiguousarray(table[:count]), const, out=const)
        table[:count] = const


def prove(
    shape: MatMulShape,
    names: tuple[str, str, str | None],
    claim: TensorClaim,
    a_table: np.ndarray,
    b_table: np.ndarray,
    bias_table: np.ndarray | None,
    transcript: Transcript,
) -> tuple[MatMulProof, list[TensorClaim]]:
    """a_table, b_table, bias_table: the embedded (padded, flattened) tensors."""
    a_name, b_name, bias_name = names
    r_m, r_n = split_output_point(shape, claim.point)
    rows_p, inner_p, cols_p = (1 << log2_ceil(d) for d in (shape.rows, shape.inner, shape.cols))
    ind_m = prefix_indicator(shape.rows, r_m)
    ind_n = prefix_indicator(shape.cols, r_n)

    a_bound = np.empty((inner_p, 2), dtype=np.uint64)
    kernels.vec_mat(eq_table(r_m), a_table.reshape(rows_p, inner_p), a_bound)
    b_bound = np.empty((inner_p, 2), dtype=np.uint64)
    kernels.mat_vec(b_table.reshape(inner_p, cols_p), eq_table(r_n), b_bound)
    _minus_const_on_prefix(a_bound, shape.inner, Fp2(shape.a_zero_point) * ind_m)
    _minus_const_on_prefix(b_bound, shape.inner, Fp2(shape.b_zero_point) * ind_n)

    target = claim.value
    bias_value = None
    if shape.has_bias:
        bias_value = evaluate(bias_table, r_n) if r_n else Fp2(int(bias_table[0]))
        bias_value = Fp2.from_base(bias_value) if not isinstance(bias_value, Fp2) else bias_value
        bias_sent, bias_value = send(transcript, bias_value)
        transcript.absorb_ext(LABEL_BIAS, bias_sent)
        target = target - bias_value * ind_m
    sc_proof, reduced, _ = sumcheck_prover.prove([a_bound, b_bound], PRODUCT, transcript, claimed_sum=target)
    r_k = reduced.point
    a_star, b_star = reduced.values
    ind_k = prefix_indicator(shape.inner, r_k)
    out = [
        TensorClaim(a_name, r_m + r_k, a_star + Fp2(shape.a_zero_point) * ind_m * ind_k),
        TensorClaim(b_name, r_k + r_n, b_star + Fp2(shape.b_zero_point) * ind_k * ind_n),
    ]
    if shape.has_bias:
        out.append(TensorClaim(bias_name, r_n, bias_value))
    return MatMulProof(bias_sent if shape.has_bias else None, sc_proof), out
