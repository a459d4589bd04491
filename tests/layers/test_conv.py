"""Conv layer: honest reductions over many shapes (stride, padding, dilation,
groups incl. depthwise, bias or none, non-power-of-two sizes, zero points),
each checked by discharging every output claim against the real embedded
tensors, and a catalogue of attacks each expecting its specific rejection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.circuit.kernels import conv
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field import Fp, Fp2, vec
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.conv import prover, verifier
from zkaudit.layers.conv.proof import ConvProof, ConvShape
from zkaudit.layers.tensor import embed, num_vars
from zkaudit.poly.mle import evaluate
from zkaudit.sumcheck.errors import FinalEvaluationMismatch, ProofShapeError, RoundSumMismatch
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

NAMES = ("x", "w", "b")


def _transcript():
    t = Transcript()
    t.absorb_statement("conv-test", 1)
    return t


def _as_ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _case(n, c, h, w, o, k, *, stride=(1, 1), dil=(1, 1), pads=(0, 0, 0, 0), group=1, zx=0, zw=0, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rng.integers(-128, 128, size=(n, c, h, w))
    wt = rng.integers(-127, 128, size=(o, c // group, kh, kw))
    b = rng.integers(-(2**20), 2**20, size=(o,)) if bias else None
    y = conv(x, wt, b, dilations=dil, group=group, pads=pads, strides=stride, w_zero_point=zw, x_zero_point=zx)
    shape = ConvShape(n, c, h, w, o, kh, kw, y.shape[2], y.shape[3], group, tuple(stride), tuple(dil), tuple(pads),
                      zx, zw, bias)
    shape.check()
    tables = {"x": embed(x), "w": embed(wt), "b": embed(b) if bias else None, "y": embed(y)}
    point = tuple(Fp2(int(u), int(v)) for u, v in vec.ext_random(num_vars(y.shape), rng))
    claim = TensorClaim("y", point, _as_ext(evaluate(tables["y"], point)))
    return shape, tables, claim


def _prove(shape, tables, claim):
    return prover.prove(shape, NAMES, claim, tables["x"], tables["w"], tables["b"], _transcript())


def _verify(shape, claim, proof):
    return verifier.verify(shape, NAMES, claim, proof, _transcript())


def _discharge(claims, tables):
    for c in claims:
        if _as_ext(evaluate(tables[c.tensor], c.point)) != c.value:
            return c.tensor
    return None


CASES = {
    "zoo-like 3x3 pad 1, zx=-128": dict(n=1, c=3, h=8, w=8, o=4, k=3, pads=(1, 1, 1, 1), zx=-128),
    "stride 2, odd sizes": dict(n=1, c=3, h=7, w=9, o=5, k=3, stride=(2, 2), pads=(1, 1, 1, 1), zx=5, zw=-3),
    "asymmetric stride/pads": dict(n=2, c=2, h=6, w=5, o=3, k=(2, 3), stride=(1, 2), pads=(0, 2, 1, 0), zx=-7),
    "dilation 2": dict(n=1, c=2, h=9, w=7, o=3, k=3, dil=(2, 1), pads=(2, 1, 2, 1), zx=3, zw=2),
    "no bias": dict(n=1, c=4, h=5, w=5, o=6, k=3, pads=(1, 1, 1, 1), bias=False, zx=-128),
    "groups 2": dict(n=1, c=4, h=6, w=6, o=6, k=3, pads=(1, 1, 1, 1), group=2, zx=-3, zw=1),
    "groups 3 (non power of two)": dict(n=2, c=6, h=5, w=7, o=9, k=(3, 1), pads=(1, 0, 1, 0), group=3, zx=11),
    "depthwise": dict(n=1, c=5, h=7, w=6, o=5, k=3, stride=(2, 1), pads=(1, 1, 1, 1), group=5, zx=-128, zw=-1),
    "depthwise multiplier 2": dict(n=1, c=3, h=5, w=5, o=6, k=3, pads=(1, 1, 1, 1), group=3, bias=False, zx=4),
    "1x1, one channel (empty kernel sum-check)": dict(n=1, c=1, h=4, w=3, o=2, k=1, zx=9),
    "1x1 pointwise": dict(n=3, c=5, h=3, w=3, o=7, k=1, zw=5),
    "kernel larger than input with padding": dict(n=1, c=2, h=2, w=3, o=2, k=5, pads=(2, 2, 2, 2), zx=-9),
    "one output channel": dict(n=1, c=3, h=4, w=4, o=1, k=2, stride=(2, 2), zx=1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_honest_reduction_discharges(name):
    shape, tables, claim = _case(**CASES[name])
    proof, prover_claims = _prove(shape, tables, claim)
    proof = ConvProof.read(proof.to_bytes(), 0)[0]
    claims = _verify(shape, claim, proof)
    assert claims == prover_claims
    assert {c.tensor for c in claims} == ({"x", "w", "b"} if shape.has_bias else {"x", "w"})
    assert _discharge(claims, tables) is None
    assert (proof.channel_sumcheck is None) == (shape.group == 1)


def test_parser_round_trip_rejects_trailing_and_truncation():
    shape, tables, claim = _case(**CASES["groups 2"])
    data = _prove(shape, tables, claim)[0].to_bytes()
    parsed, end = ConvProof.read(data, 0)
    assert end == len(data) and parsed.to_bytes() == data
    for cut in (0, 1, 10, len(data) // 2, len(data) - 1):
        with pytest.raises(MalformedProof):
            ConvProof.read(data[:cut], 0)
    with pytest.raises(MalformedProof):
        ConvProof.read(b"\x02" + data[1:], 0)


# --- attacks ---------------------------------------------------------------

@pytest.fixture(params=["zoo-like 3x3 pad 1, zx=-128", "depthwise"])
def honest(request):
    shape, tables, claim = _case(**CASES[request.param])
    proof, _ = _prove(shape, tables, claim)
    return shape, tables, claim, proof


def _tamper_round(sc: SumcheckProof, rnd: int) -> SumcheckProof:
    evals = [list(e) for e in sc.round_evals]
    evals[rnd][0] = evals[rnd][0] + 1
    return dataclasses.replace(sc, round_evals=tuple(tuple(e) for e in evals))


def _tamper_final(sc: SumcheckProof, i: int) -> SumcheckProof:
    finals = list(sc.final_values)
    finals[i] = finals[i] + 1
    return dataclasses.replace(sc, final_values=tuple(finals))


def test_wrong_output_value_rejected(honest):
    shape, _, claim, proof = honest
    bad = TensorClaim(claim.tensor, claim.point, claim.value + 1)
    with pytest.raises(RoundSumMismatch):
        _verify(shape, bad, proof)


def test_prover_lying_about_output_is_caught(honest):
    """An honest prover run on a false claim yields a proof the verifier rejects."""
    shape, tables, claim, _ = honest
    bad = TensorClaim(claim.tensor, claim.point, claim.value + 1)
    proof, _ = _prove(shape, tables, bad)
    with pytest.raises(ProofRejected):
        _verify(shape, bad, proof)


def test_tampered_bias_value_rejected(honest):
    shape, _, claim, proof = honest
    bad = dataclasses.replace(proof, bias_value=proof.bias_value + 1)
    with pytest.raises(RoundSumMismatch):
        _verify(shape, claim, bad)


def test_false_output_hidden_in_bias_fails_bias_discharge(honest):
    """A prover that lies about Y by delta and hides it in beta (proving with a
    bias tensor changed after the fact) passes the sum-checks, but its bias
    claim is false for the committed bias."""
    shape, tables, claim, _ = honest
    bias = vec.to_signed(tables["b"]).copy()
    bias[0] += 5
    lying = dict(tables, b=vec.from_int64(bias))
    y_lie = _as_ext(evaluate(embed(_output_with_bias(shape, tables, bias)), claim.point))
    false_claim = TensorClaim("y", claim.point, y_lie)
    assert false_claim.value != claim.value
    proof, _ = _prove(shape, lying, false_claim)
    claims = _verify(shape, false_claim, proof)
    assert _discharge(claims, lying) is None
    assert _discharge(claims, tables) == "b"


def _output_with_bias(shape, tables, bias):
    x = vec.to_signed(tables["x"]).reshape([1 << (d - 1).bit_length() for d in shape.x_shape])
    w = vec.to_signed(tables["w"]).reshape([1 << (d - 1).bit_length() for d in shape.w_shape])
    x = x[tuple(slice(0, d) for d in shape.x_shape)]
    w = w[tuple(slice(0, d) for d in shape.w_shape)]
    return conv(x, w, bias[: shape.out_channels], dilations=shape.dilations, group=shape.group, pads=shape.pads,
                strides=shape.strides, w_zero_point=shape.w_zero_point, x_zero_point=shape.x_zero_point)


@pytest.mark.parametrize("which", ["kernel_sumcheck", "input_sumcheck"])
def test_tampered_round_value_rejected(honest, which):
    shape, _, claim, proof = honest
    sc = getattr(proof, which)
    bad = dataclasses.replace(proof, **{which: _tamper_round(sc, len(sc.round_evals) - 1)})
    with pytest.raises(RoundSumMismatch):
        _verify(shape, claim, bad)


def test_tampered_kernel_final_value_rejected(honest):
    shape, _, claim, proof = honest
    bad = dataclasses.replace(proof, kernel_sumcheck=_tamper_final(proof.kernel_sumcheck, 0))
    with pytest.raises(FinalEvaluationMismatch):
        _verify(shape, claim, bad)


def test_forged_input_wiring_value_rejected(honest):
    """The prover claims a different wiring value R*; to pass the product
    check it scales x* to match, so only the public wiring check catches it."""
    shape, _, claim, proof = honest
    sc = proof.input_sumcheck
    x_star, r_star = sc.final_values
    two = Fp2(2)
    forged = dataclasses.replace(sc, final_values=(x_star * two.inverse(), r_star * two))
    with pytest.raises(FinalEvaluationMismatch, match="wiring"):
        _verify(shape, claim, dataclasses.replace(proof, input_sumcheck=forged))


def test_forged_group_selector_value_rejected():
    shape, tables, claim = _case(**CASES["depthwise"])
    proof, _ = _prove(shape, tables, claim)
    sc = proof.channel_sumcheck
    h_star, w_star = sc.final_values
    three = Fp2(3)
    forged = dataclasses.replace(sc, final_values=(h_star * three, w_star * three.inverse()))
    with pytest.raises(FinalEvaluationMismatch, match="group-selector"):
        _verify(shape, claim, dataclasses.replace(proof, channel_sumcheck=forged))


def test_weights_changed_after_the_fact_fail_discharge(honest):
    """A proof computed with other weights (the output claim is the honest
    one for the committed weights) verifies only into a weight claim that the
    committed weights do not satisfy, or is rejected outright."""
    shape, tables, claim, _ = honest
    other = dict(tables)
    w = vec.to_signed(tables["w"]).copy()
    w[0] += 1
    other["w"] = vec.from_int64(w)
    proof, _ = _prove(shape, other, claim)
    try:
        claims = _verify(shape, claim, proof)
    except ProofRejected:
        return
    assert _discharge(claims, tables) is not None


def test_input_changed_after_the_fact_fails(honest):
    shape, tables, claim, _ = honest
    x = vec.to_signed(tables["x"]).copy()
    x[1] += 3
    proof, _ = _prove(shape, dict(tables, x=vec.from_int64(x)), claim)
    try:
        claims = _verify(shape, claim, proof)
    except ProofRejected:
        return
    assert _discharge(claims, tables) is not None


def test_shape_mismatches_rejected_before_transcript_work(honest):
    shape, _, claim, proof = honest
    with pytest.raises(ProofShapeError):
        _verify(dataclasses.replace(shape, has_bias=not shape.has_bias), claim, proof)
    with pytest.raises(ProofShapeError):
        _verify(shape, TensorClaim("y", claim.point[:-1], claim.value), proof)
    flipped = dataclasses.replace(proof, channel_sumcheck=None if proof.channel_sumcheck else proof.kernel_sumcheck)
    with pytest.raises(ProofShapeError):
        _verify(shape, claim, flipped)


def test_invalid_attributes_refused():
    with pytest.raises(ValueError):
        ConvShape(1, 3, 8, 8, 4, 3, 3, 8, 8, 2, (1, 1), (1, 1), (1, 1, 1, 1), 0, 0, False).check()
    with pytest.raises(ValueError):
        ConvShape(1, 4, 8, 8, 4, 3, 3, 7, 8, 1, (1, 1), (1, 1), (1, 1, 1, 1), 0, 0, False).check()


# --- reference and integration ----------------------------------------------

def _naive_kernel_tables(shape, tables, point):
    """a and b of the kernel sum-check from an explicit im2col matrix (the
    multiply-count-sized object the prover avoids), for conformance."""
    from zkaudit.layers import kernels as layer_kernels
    from zkaudit.layers.tensor import padded_shape, split_point
    from zkaudit.poly.mle import eq_table

    r_n, r_o, r_y, r_x = split_point(point, shape.y_shape)
    pad = lambda t, s: vec.to_signed(t).reshape(padded_shape(s))[tuple(slice(0, d) for d in s)]  # noqa: E731
    x, w = pad(tables["x"], shape.x_shape), pad(tables["w"], shape.w_shape)
    g, cg, mg = shape.group, shape.group_in, shape.group_out
    kh, kw = shape.kernel_h, shape.kernel_w
    top, left, bottom, right = shape.pads
    xs = np.pad(x - shape.x_zero_point, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, oh, ow = shape.batch, shape.out_h, shape.out_w
    cols = np.zeros((n, oh, ow, shape.in_channels, kh, kw), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            hs = slice(i * shape.dilations[0], i * shape.dilations[0] + (oh - 1) * shape.strides[0] + 1, shape.strides[0])
            ws = slice(j * shape.dilations[1], j * shape.dilations[1] + (ow - 1) * shape.strides[1] + 1, shape.strides[1])
            cols[..., i, j] = xs[:, :, hs, ws].transpose(0, 2, 3, 1)
    _, cg_p, kh_p, kw_p = padded_shape(shape.w_shape)
    g_p = 1 << (g - 1).bit_length()
    b_int = np.zeros((n, oh, ow, g_p, cg_p, kh_p, kw_p), dtype=np.int64)
    b_int[:, :, :, :g, :cg, :kh, :kw] = cols.reshape(n, oh, ow, g, cg, kh, kw)
    weights = np.zeros((n * oh * ow, 2), dtype=np.uint64)
    en, ey, ex = eq_table(r_n), eq_table(r_y), eq_table(r_x)
    for a_ in range(n):
        for y_ in range(oh):
            for x_ in range(ow):
                weights[(a_ * oh + y_) * ow + x_] = vec.mul(vec.mul(en[a_:a_ + 1], ey[y_:y_ + 1]), ex[x_:x_ + 1])[0]
    b = np.empty((g_p * cg_p * kh_p * kw_p, 2), dtype=np.uint64)
    layer_kernels.vec_mat(weights, vec.from_int64(b_int).reshape(n * oh * ow, -1), b)
    w_int = np.zeros((g_p, shape.out_channels, cg_p, kh_p, kw_p), dtype=np.int64)
    for o in range(shape.out_channels):
        w_int[o // mg, o, :cg, :kh, :kw] = w[o] - shape.w_zero_point
    eo = eq_table(r_o)[: shape.out_channels]
    a = np.empty((g_p, cg_p * kh_p * kw_p, 2), dtype=np.uint64)
    for gi in range(g_p):
        layer_kernels.vec_mat(np.ascontiguousarray(eo), vec.from_int64(w_int[gi]).reshape(shape.out_channels, -1), a[gi])
    return a.reshape(-1, 2), b


@pytest.mark.parametrize("name", ["stride 2, odd sizes", "dilation 2", "groups 3 (non power of two)", "depthwise",
                                  "kernel larger than input with padding"])
def test_kernel_tables_match_naive_im2col(name):
    from zkaudit.layers.conv.prover import _centred, _kernel_tables
    from zkaudit.layers.tensor import split_point

    shape, tables, claim = _case(**CASES[name])
    x0 = _centred(tables["x"], shape.x_shape, shape.x_zero_point)
    w0 = _centred(tables["w"], shape.w_shape, shape.w_zero_point)
    a, b = _kernel_tables(shape, split_point(claim.point, shape.y_shape), x0, w0)
    a_ref, b_ref = _naive_kernel_tables(shape, tables, claim.point)
    assert np.array_equal(a, a_ref)
    assert np.array_equal(b, b_ref)


def _zoo_folders():
    from pathlib import Path

    zoo = Path(__file__).resolve().parents[2] / "circuits"
    return sorted(p for p in zoo.iterdir() if (p / "gen.py").exists() and "cnn" in p.name)


@pytest.mark.parametrize("folder", _zoo_folders(), ids=lambda p: p.name)
def test_zoo_convs_prove_through_dispatch(folder, tmp_path):
    """Every Conv of the zoo's CNNs, on the real witness, through the layer
    dispatch tables: accepted, and every returned claim discharges."""
    from zkaudit.circuit import load_circuit, load_weights, read_inputs
    from zkaudit.layers import dispatch_prover, dispatch_verifier
    from zkaudit.layers.stream import ProofReader
    from zkaudit.onnx import compile_model

    calibration = folder / "calibration.npy"
    compile_model(folder / "model.onnx", tmp_path / "out", calibration=calibration if calibration.exists() else None)
    circuit, weights = load_circuit(tmp_path / "out"), load_weights(tmp_path / "out")
    sample = read_inputs(folder / "input.json", circuit).samples[0]
    env = circuit.execute(weights, sample, return_all=True)
    specs = circuit.specs()
    convs = [node for node in circuit.nodes if node.op == "Conv"]
    assert convs
    rng = np.random.default_rng(7)
    for node in convs:
        tables = {name: embed(np.asarray(env[name])) for name in (*node.inputs, node.output)}
        point = tuple(Fp2(int(u), int(v)) for u, v in vec.ext_random(num_vars(specs[node.output].shape), rng))
        claim = TensorClaim(node.output, point, _as_ext(evaluate(tables[node.output], point)))
        out = []
        prover_claims = dispatch_prover.prove_node(node, specs, claim, tables, _transcript(), out)
        reader = ProofReader(b"".join(out))
        claims = dispatch_verifier.verify_node(node, specs, claim, reader, _transcript())
        reader.finish()
        assert claims == prover_claims
        assert _discharge(claims, tables) is None, node.name
