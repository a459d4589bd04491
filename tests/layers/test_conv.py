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


def test_bias_shifted_into_bias_claim_fails_discharge(honest):
    """Moving a delta from the output into beta passes the sum-checks only if
    the prover also lies about beta, which the bias discharge catches."""
    shape, tables, claim, _ = honest
    proof, _ = _prove(shape, tables, claim)
    claims = _verify(shape, claim, proof)
    bias_claim = next(c for c in claims if c.tensor == "b")
    forged = TensorClaim("b", bias_claim.point, bias_claim.value + 1)
    assert _discharge([forged], tables) == "b"


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
    other = dict(tables)
    x = vec.to_signed(tables["x"]).copy()
    x[1] += 3
    other["x"] = vec.from_int64(x)
    proof, _ = _prove(shape, other, claim)
    with pytest.raises(ProofRejected):
        claims = _verify(shape, claim, proof)
        # A consistent-looking reduction must still fail at the discharge.
        if _discharge(claims, tables) is not None:
            raise ProofRejected("discharge failed")


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
