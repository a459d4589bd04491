"""Conv verifier.

Relation (X: N×C×IH×IW, W: O×Cg×KH×KW, G groups, Cg = C/G, Mg = O/G):
    Y[n,o,y,x] = sum_{c<Cg, i<KH, j<KW} X°[n, g(o)Cg + c, y sh + i dh - pt, x sw + j dw - pl]
                                          · W°[o, c, i, j]  +  bias[o]
with g(o) = o div Mg, X° = X - zx on real in-bounds cells and 0 elsewhere
(padding contributes 0), W° = W - zw on real cells and 0 on the padding.
All tables are `tensor.embed` layouts; eq_* below are eq tables of points.

Claim in: Y~(r_n, r_o, r_y, r_x) = v.  Summing over the kernel coordinates
k = (g, c, i, j) (G'·Cg'·KH'·KW' entries):
    v - beta I_N(r_n) I_OH(r_y) I_OW(r_x) = sum_k a(k) b(k)                     (1)
    a(g,c,i,j) = sum_{o<O, g(o)=g} eq(r_o, o) W°[o,c,i,j]
    b(g,c,i,j) = [g<G, c<Cg, i<KH, j<KW] sum_{n, y, x real} eq(r_n,n) eq(r_y,y) eq(r_x,x) X°[n, gCg+c, ...]
with beta = bias~(r_o), sent by the prover.  A degree-2 sum-check on (1)
ends at s = (s_g, s_c, s_i, s_j) with finals a*, b*.

Weights.  For G = 1, a~(s) = W°~(r_o, s_c, s_i, s_j), so
    W~(r_o, s_c, s_i, s_j) = a* + zw I_O(r_o) I_Cg(s_c) I_KH(s_i) I_KW(s_j).
For G > 1, a~(s) = sum_o h(o) W°~(o, s_c, s_i, s_j), h(o) = [o<O] eq(r_o,o) eq(s_g, g(o)),
so a sum-check over the output channels proves
    sum_o h(o) W~(o, s_c, s_i, s_j) = a* + zw I_Cg(s_c) I_KH(s_i) I_KW(s_j) sum_o h(o)       (2)
ending at t with finals h*, w*; the verifier computes h~(t) itself (O(O))
and outputs W~(t, s_c, s_i, s_j) = w*.

Input.  b~(s) = sum_z X°[z] R(z) with a wiring that factors per dimension:
    R(n, ci, u, w) = [n<N] eq(r_n,n) · [ci<C] eq(s_g, ci div Cg) eq(s_c, ci mod Cg) · H(u) · V(w)
    H(u) = sum_{y<OH, i<KH: y sh + i dh - pt = u} eq(r_y, y) eq(s_i, i),   V likewise,
(H, V vanish off [0, IH), [0, IW)), so with X° = X - zx on real cells
    sum_z X[z] R(z) = b* + zx (sum R)                                             (3)
and sum R is the product of the four factors' sums.  A sum-check on (3) over
X's variables ends at u with finals x*, R*; the verifier evaluates
R~(u) = product of the factors' MLEs, O(N + C + OH·KH + OW·KW), never the
im2col matrix, checks R* and outputs X~(u) = x*, bias~(r_o) = beta.

Soundness: 2 (log G'Cg'KH'KW' + log O' [G > 1] + log |X'|) / p^2 from the
three degree-2 sum-checks; beta is bound by the bias claim.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.conv.proof import ConvProof, ConvShape
from zkaudit.layers.tensor import dim_vars, log2_ceil, num_vars, split_point
from zkaudit.poly.mle import eq_table, prefix_indicator
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck import verifier as sumcheck_verifier
from zkaudit.sumcheck.zk import receive
from zkaudit.sumcheck.errors import FinalEvaluationMismatch, ProofShapeError
from zkaudit.transcript import Transcript

LABEL_BIAS = b"conv/bias-value"
PRODUCT = SumOfProducts.product(2)


def as_ext(x) -> Fp2:
    return Fp2.from_base(x) if isinstance(x, Fp) else x


def kernel_vars(shape: ConvShape) -> tuple[int, int, int, int]:
    """Variables of the kernel sum-check per coordinate (g, c, i, j)."""
    return (log2_ceil(shape.group), log2_ceil(shape.group_in), log2_ceil(shape.kernel_h), log2_ceil(shape.kernel_w))


def split_kernel_point(shape: ConvShape, point) -> list[tuple]:
    out, at = [], 0
    for v in kernel_vars(shape):
        out.append(tuple(point[at : at + v]))
        at += v
    return out


def axis_pairs(shape: ConvShape, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (output index, kernel index, input index) of one spatial axis
    (0: height, 1: width) whose input index is in bounds: the public wiring."""
    out, k, size = (shape.out_h, shape.kernel_h, shape.in_h) if axis == 0 else (shape.out_w, shape.kernel_w, shape.in_w)
    o_idx, k_idx = np.meshgrid(np.arange(out, dtype=np.int64), np.arange(k, dtype=np.int64), indexing="ij")
    i_idx = o_idx * shape.strides[axis] + k_idx * shape.dilations[axis] - shape.pads[axis]
    ok = (i_idx >= 0) & (i_idx < size)
    return o_idx[ok], k_idx[ok], i_idx[ok]


def gathered_product(pairs) -> np.ndarray:
    """Elementwise product of eq_j[idx_j] over (eq_j, idx_j) pairs."""
    (e, idx), rest = pairs[0], pairs[1:]
    acc = np.ascontiguousarray(e[idx])
    for e, idx in rest:
        acc = vec.mul(acc, np.ascontiguousarray(e[idx]))
    return acc


def _sum(a: np.ndarray) -> Fp2:
    return as_ext(vec.sum(a)) if a.shape[0] else Fp2(0)


def channel_weights(shape: ConvShape, s_g, s_c) -> np.ndarray:
    """F_c(ci) = eq(s_g, ci div Cg) eq(s_c, ci mod Cg) for ci < C."""
    ci = np.arange(shape.in_channels, dtype=np.int64)
    return gathered_product([(eq_table(s_g), ci // shape.group_in), (eq_table(s_c), ci % shape.group_in)])


def output_channel_weights(shape: ConvShape, r_o, s_g) -> np.ndarray:
    """h(o) = eq(r_o, o) eq(s_g, o div Mg) for o < O."""
    o = np.arange(shape.out_channels, dtype=np.int64)
    return gathered_product([(eq_table(r_o), o), (eq_table(s_g), o // shape.group_out)])


def axis_weights(shape: ConvShape, axis: int, r_out, s_k) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero terms of H (axis 0) or V (axis 1): values and input indices."""
    o_idx, k_idx, i_idx = axis_pairs(shape, axis)
    return gathered_product([(eq_table(r_out), o_idx), (eq_table(s_k), k_idx)]), i_idx


def input_wiring_sum(shape: ConvShape, r_n, r_y, r_x, s) -> Fp2:
    """sum_z R(z): the product of the factors' sums."""
    s_g, s_c, s_i, s_j = s
    total = _sum(np.ascontiguousarray(eq_table(r_n)[: shape.batch])) * _sum(channel_weights(shape, s_g, s_c))
    for axis, r_out, s_k in ((0, r_y, s_i), (1, r_x, s_j)):
        total = total * _sum(axis_weights(shape, axis, r_out, s_k)[0])
    return total


def input_wiring_eval(shape: ConvShape, r_n, r_y, r_x, s, u) -> Fp2:
    """R~(u), factor by factor: O(N + C + OH·KH + OW·KW)."""
    s_g, s_c, s_i, s_j = s
    u_n, u_c, u_h, u_w = split_point(u, shape.x_shape)
    n = np.arange(shape.batch, dtype=np.int64)
    ci = np.arange(shape.in_channels, dtype=np.int64)
    total = _sum(gathered_product([(eq_table(r_n), n), (eq_table(u_n), n)]))
    total = total * _sum(vec.mul(channel_weights(shape, s_g, s_c), np.ascontiguousarray(eq_table(u_c)[ci])))
    for axis, r_out, s_k, u_k in ((0, r_y, s_i, u_h), (1, r_x, s_j, u_w)):
        values, i_idx = axis_weights(shape, axis, r_out, s_k)
        if values.shape[0]:
            total = total * _sum(vec.mul(values, np.ascontiguousarray(eq_table(u_k)[i_idx])))
        else:
            total = Fp2(0)
    return total


def verify(
    shape: ConvShape,
    names: tuple[str, str, str | None],
    claim: TensorClaim,
    proof: ConvProof,
    transcript: Transcript,
    *,
    where: str = "conv",
) -> list[TensorClaim]:
    """Reduce a claim on Y to claims on X, W (and bias), named by `names`."""
    x_name, w_name, bias_name = names
    # Shapes first, before any transcript work.
    if (proof.bias_value is not None) != shape.has_bias:
        raise ProofShapeError("bias value present/absent contrary to the circuit", where=where,
                              expected=shape.has_bias, got=proof.bias_value is not None)
    if (proof.channel_sumcheck is not None) != (shape.group > 1):
        raise ProofShapeError("output-channel sum-check present/absent contrary to the group count", where=where,
                              expected=shape.group > 1, got=proof.channel_sumcheck is not None)
    if len(claim.point) != num_vars(shape.y_shape):
        raise ProofShapeError("claim point has the wrong number of coordinates", where=where,
                              expected=num_vars(shape.y_shape), got=len(claim.point))
    r_n, r_o, r_y, r_x = split_point(claim.point, shape.y_shape)
    ind_out = prefix_indicator(shape.batch, r_n) * prefix_indicator(shape.out_h, r_y) * prefix_indicator(shape.out_w, r_x)

    target = claim.value
    bias_value = None
    if proof.bias_value is not None:
        bias_value = receive(transcript, proof.bias_value)
        transcript.absorb_ext(LABEL_BIAS, proof.bias_value)
        target = target - bias_value * ind_out
    reduced = sumcheck_verifier.verify(proof.kernel_sumcheck, target, sum(kernel_vars(shape)), PRODUCT, transcript,
                                       where=f"{where} kernel")
    s = split_kernel_point(shape, reduced.point)
    s_g, s_c, s_i, s_j = s
    a_star, b_star = reduced.values
    s_rest = s_c + s_i + s_j
    ind_rest = (prefix_indicator(shape.group_in, s_c) * prefix_indicator(shape.kernel_h, s_i)
                * prefix_indicator(shape.kernel_w, s_j))

    zw = Fp2(shape.w_zero_point)
    if proof.channel_sumcheck is None:
        w_claim = TensorClaim(w_name, r_o + s_rest, a_star + zw * prefix_indicator(shape.out_channels, r_o) * ind_rest)
    else:
        h = output_channel_weights(shape, r_o, s_g)
        target_w = a_star + zw * ind_rest * _sum(h)
        red_w = sumcheck_verifier.verify(proof.channel_sumcheck, target_w, dim_vars(shape.w_shape)[0], PRODUCT,
                                         transcript, where=f"{where} output channels", public=(0,))
        h_star, w_star = red_w.values
        o = np.arange(shape.out_channels, dtype=np.int64)
        h_expected = _sum(vec.mul(h, np.ascontiguousarray(eq_table(red_w.point)[o])))
        if h_star != h_expected:
            raise FinalEvaluationMismatch("group-selector value is not the public one", where=f"{where} output channels",
                                          expected=h_expected, got=h_star)
        w_claim = TensorClaim(w_name, tuple(red_w.point) + s_rest, w_star)

    target_x = b_star + Fp2(shape.x_zero_point) * input_wiring_sum(shape, r_n, r_y, r_x, s)
    red_x = sumcheck_verifier.verify(proof.input_sumcheck, target_x, num_vars(shape.x_shape), PRODUCT, transcript,
                                     where=f"{where} input", public=(1,))
    x_star, wiring_star = red_x.values
    wiring_expected = input_wiring_eval(shape, r_n, r_y, r_x, s, red_x.point)
    if wiring_star != wiring_expected:
        raise FinalEvaluationMismatch("input wiring value is not the public wiring's", where=f"{where} input",
                                      expected=wiring_expected, got=wiring_star)
    out = [TensorClaim(x_name, tuple(red_x.point), x_star), w_claim]
    if proof.bias_value is not None:
        out.append(TensorClaim(bias_name, r_o, bias_value))
    return out


def _handler(node, specs, claim, reader, transcript):
    from zkaudit.layers.conv.proof import conv_shape

    shape = conv_shape(node, specs)
    names = (node.inputs[0], node.inputs[1], node.inputs[2] if shape.has_bias else None)
    return verify(shape, names, claim, reader.read(ConvProof), transcript, where=f"node {node.name} (Conv)")


def register(handlers, advice_shapes) -> None:
    """Called by `dispatch_verifier` on discovery: Conv needs no advice."""
    handlers["Conv"] = _handler
