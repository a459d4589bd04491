"""Conv prover (protocol in `verifier.py`). Cost: one pass over W (bind the
output channels), one over X (bind the batch), two window contractions
O(C'·KH·OH·IW' + C'·KH'·KW·OW), a wiring table of |X'| entries, and three
degree-2 sum-checks over G'Cg'KH'KW', O' (groups only) and |X'| entries.
The im2col matrix is never built."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.layers import kernels as layer_kernels
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.conv import kernels
from zkaudit.layers.conv.proof import ConvProof, ConvShape, conv_shape
from zkaudit.layers.conv.verifier import (
    LABEL_BIAS,
    PRODUCT,
    as_ext,
    axis_weights,
    channel_weights,
    input_wiring_sum,
    kernel_vars,
    output_channel_weights,
    split_kernel_point,
)
from zkaudit.layers.tensor import padded_shape, split_point
from zkaudit.poly.mle import eq_table, evaluate, prefix_indicator
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import send
from zkaudit.transcript import Transcript


def _centred(table: np.ndarray, shape: tuple[int, ...], zero_point: int) -> np.ndarray:
    """table - zero_point on the real entries (the padding stays 0)."""
    if zero_point == 0:
        return table
    real = np.zeros(padded_shape(shape), dtype=bool)
    real[tuple(slice(0, d) for d in shape)] = True
    const = np.where(real.ravel(), vec.from_int64(np.array([zero_point], dtype=np.int64))[0], np.uint64(0))
    return vec.sub(table, const.astype(np.uint64))


def _padded(values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, 2), dtype=np.uint64)
    out[: values.shape[0]] = values
    return out


def _outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-major outer product of two extension vectors."""
    return vec.mul(np.repeat(a, b.shape[0], axis=0), np.tile(b, (a.shape[0], 1)))


def _kernel_tables(shape: ConvShape, r, x0: np.ndarray, w0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a and b of (1), both over (g, c, i, j), flattened."""
    r_n, r_o, r_y, r_x = r
    n_p, c_p, ih_p, iw_p = padded_shape(shape.x_shape)
    o_p, cg_p, kh_p, kw_p = padded_shape(shape.w_shape)
    g_p = 1 << kernel_vars(shape)[0]
    a = np.empty((g_p, cg_p * kh_p * kw_p, 2), dtype=np.uint64)
    kernels.grouped_rows(eq_table(r_o), w0.reshape(o_p, -1), shape.out_channels, shape.group_out, a)

    xn = np.empty((c_p * ih_p * iw_p, 2), dtype=np.uint64)
    layer_kernels.vec_mat(eq_table(r_n), x0.reshape(n_p, -1), xn)
    t = np.empty((c_p, kh_p, iw_p, 2), dtype=np.uint64)
    kernels.window_contract(eq_table(r_y), shape.out_h, xn.reshape(c_p, ih_p, iw_p, 2), shape.kernel_h,
                            shape.strides[0], shape.dilations[0], shape.pads[0], shape.in_h, t)
    t2 = np.empty((c_p * kh_p, kw_p, 1, 2), dtype=np.uint64)
    kernels.window_contract(eq_table(r_x), shape.out_w, t.reshape(c_p * kh_p, iw_p, 1, 2), shape.kernel_w,
                            shape.strides[1], shape.dilations[1], shape.pads[1], shape.in_w, t2)
    b = np.zeros((g_p, cg_p, kh_p, kw_p, 2), dtype=np.uint64)
    b[: shape.group, : shape.group_in] = t2.reshape(c_p, kh_p, kw_p, 2)[: shape.in_channels].reshape(
        shape.group, shape.group_in, kh_p, kw_p, 2)
    return a.reshape(-1, 2), b.reshape(-1, 2)


def _input_wiring_table(shape: ConvShape, r_n, r_y, r_x, s) -> np.ndarray:
    """R over X's padded layout: the outer product of its four factors."""
    s_g, s_c, s_i, s_j = s
    n_p, c_p, ih_p, iw_p = padded_shape(shape.x_shape)
    table = _padded(eq_table(r_n)[: shape.batch], n_p)
    table = _outer(table, _padded(channel_weights(shape, s_g, s_c), c_p))
    for axis, r_out, s_k, size in ((0, r_y, s_i, ih_p), (1, r_x, s_j, iw_p)):
        values, i_idx = axis_weights(shape, axis, r_out, s_k)
        factor = np.zeros((size, 2), dtype=np.uint64)
        kernels.scatter_add(values, i_idx, factor)
        table = _outer(table, factor)
    return table


def prove(
    shape: ConvShape,
    names: tuple[str, str, str | None],
    claim: TensorClaim,
    x_table: np.ndarray,
    w_table: np.ndarray,
    bias_table: np.ndarray | None,
    transcript: Transcript,
) -> tuple[ConvProof, list[TensorClaim]]:
    """x_table, w_table, bias_table: the embedded (padded, flattened) tensors."""
    x_name, w_name, bias_name = names
    r = split_point(claim.point, shape.y_shape)
    r_n, r_o, r_y, r_x = r
    ind_out = prefix_indicator(shape.batch, r_n) * prefix_indicator(shape.out_h, r_y) * prefix_indicator(shape.out_w, r_x)

    target = claim.value
    bias_value = None
    if shape.has_bias:
        bias_value = as_ext(evaluate(bias_table, r_o)) if r_o else Fp2(int(bias_table[0]))
        bias_sent, bias_value = send(transcript, bias_value)
        transcript.absorb_ext(LABEL_BIAS, bias_sent)
        target = target - bias_value * ind_out

    x0 = _centred(x_table, shape.x_shape, shape.x_zero_point)
    w0 = _centred(w_table, shape.w_shape, shape.w_zero_point)
    a, b = _kernel_tables(shape, r, x0, w0)
    kernel_proof, reduced, _ = sumcheck_prover.prove([a, b], PRODUCT, transcript, claimed_sum=target)
    s = split_kernel_point(shape, reduced.point)
    s_g, s_c, s_i, s_j = s
    a_star, b_star = reduced.values
    s_rest = s_c + s_i + s_j
    ind_rest = (prefix_indicator(shape.group_in, s_c) * prefix_indicator(shape.kernel_h, s_i)
                * prefix_indicator(shape.kernel_w, s_j))

    zw = Fp2(shape.w_zero_point)
    channel_proof = None
    if shape.group == 1:
        w_claim = TensorClaim(w_name, r_o + s_rest, a_star + zw * prefix_indicator(shape.out_channels, r_o) * ind_rest)
    else:
        o_p = padded_shape(shape.w_shape)[0]
        h = output_channel_weights(shape, r_o, s_g)
        w_s = np.empty((o_p, 2), dtype=np.uint64)
        layer_kernels.mat_vec(w_table.reshape(o_p, -1), eq_table(s_rest), w_s)
        target_w = a_star + zw * ind_rest * as_ext(vec.sum(h))
        channel_proof, red_w, _ = sumcheck_prover.prove([_padded(h, o_p), w_s], PRODUCT, transcript,
                                                        claimed_sum=target_w, public=(0,))
        w_claim = TensorClaim(w_name, tuple(red_w.point) + s_rest, red_w.values[1])

    target_x = b_star + Fp2(shape.x_zero_point) * input_wiring_sum(shape, r_n, r_y, r_x, s)
    wiring = _input_wiring_table(shape, r_n, r_y, r_x, s)
    input_proof, red_x, _ = sumcheck_prover.prove([x_table, wiring], PRODUCT, transcript, claimed_sum=target_x,
                                                  public=(1,))
    out = [TensorClaim(x_name, tuple(red_x.point), red_x.values[0]), w_claim]
    if shape.has_bias:
        out.append(TensorClaim(bias_name, r_o, bias_value))
    return ConvProof(bias_sent if shape.has_bias else None, kernel_proof, channel_proof, input_proof), out


def _handler(node, specs, claim, tables, transcript, out):
    shape = conv_shape(node, specs)
    names = (node.inputs[0], node.inputs[1], node.inputs[2] if shape.has_bias else None)
    bias = tables[node.inputs[2]] if shape.has_bias else None
    proof, claims = prove(shape, names, claim, tables[node.inputs[0]], tables[node.inputs[1]], bias, transcript)
    out.append(proof.to_bytes())
    return claims


def register(handlers, advice) -> None:
    """Called by `dispatch_prover` on discovery: Conv needs no advice."""
    handlers["Conv"] = _handler
