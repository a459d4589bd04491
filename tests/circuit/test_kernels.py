"""The fast kernels against plain int64 loops, and the rounding rules against
exact rational arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from zkaudit.circuit import kernels
from zkaudit.circuit.fixed_point import div_round, multiplier_from_float32, multiplier_from_scale, rshift_round


def _round_half_even(fr: Fraction) -> int:
    floor = fr.numerator // fr.denominator
    rest = fr - floor
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2):
        return floor + 1
    return floor


def naive_conv(x, w, bias, stride, pads, dil, group, xz, wz):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    top, left, bottom, right = pads
    oh = (h + top + bottom - (dil[0] * (kh - 1) + 1)) // stride[0] + 1
    ow = (wd + left + right - (dil[1] * (kw - 1) + 1)) // stride[1] + 1
    out = np.zeros((n, m, oh, ow), dtype=np.int64)
    mg = m // group
    for b in range(n):
        for o in range(m):
            g = o // mg
            for i in range(oh):
                for j in range(ow):
                    acc = int(bias[o]) if bias is not None else 0
                    for ci in range(cg):
                        for a in range(kh):
                            for bb in range(kw):
                                y = i * stride[0] - top + a * dil[0]
                                xx = j * stride[1] - left + bb * dil[1]
                                if 0 <= y < h and 0 <= xx < wd:
                                    acc += (int(x[b, g * cg + ci, y, xx]) - xz) * (int(w[o, ci, a, bb]) - wz)
                    out[b, o, i, j] = acc
    return out


def test_conv_matches_naive_loops_for_groups_strides_pads_dilations():
    rng = np.random.default_rng(1)
    for group, cin, cout, stride, pads, dil in [
        (1, 3, 4, (1, 1), (1, 1, 1, 1), (1, 1)),
        (2, 4, 6, (2, 1), (0, 2, 1, 0), (1, 2)),
        (4, 4, 4, (1, 2), (1, 0, 0, 1), (2, 1)),  # depthwise
    ]:
        x = rng.integers(-128, 128, size=(2, cin, 7, 6))
        w = rng.integers(-127, 128, size=(cout, cin // group, 3, 2))
        bias = rng.integers(-1000, 1000, size=cout)
        want = naive_conv(x, w, bias, stride, pads, dil, group, 5, -3)
        got = kernels.conv(x, w, bias, dilations=dil, group=group, pads=pads, strides=stride, w_zero_point=-3,
                           x_zero_point=5)
        assert np.array_equal(got, want)


def test_matmul_is_exact_at_the_int32_edge():
    k = 4096
    a = np.full((1, k), 127, dtype=np.int64)
    b = np.full((k, 3), -128, dtype=np.int64)
    got = kernels.matmul(a, b, None, a_zero_point=-128, b_zero_point=127)
    assert got.tolist() == [[255 * -255 * k] * 3]


@given(st.integers(-(2**40), 2**40), st.integers(0, 40))
def test_rshift_round_is_round_half_even(v, shift):
    assert int(rshift_round(np.int64(v), shift)) == _round_half_even(Fraction(v, 2**shift))


@given(st.integers(-(2**40), 2**40), st.integers(1, 2**20))
def test_div_round_is_round_half_even(n, d):
    assert int(div_round(np.int64(n), np.int64(d))) == _round_half_even(Fraction(n, d))


@given(st.floats(1e-9, 1e6))  # below 2^-31 the 62-bit shift cap costs precision
def test_multipliers_approximate_scales(scale):
    m, s = multiplier_from_scale(scale)
    assert abs(m / 2**s - scale) <= scale * 2**-30
    m32, s32 = multiplier_from_float32(scale)
    assert Fraction(m32, 2**s32) == Fraction(float(np.float32(scale)))


def test_requantize_per_channel_saturates_and_rounds():
    x = np.array([[-1000, 3, 5, 1000]], dtype=np.int64)
    y = kernels.requantize(x, axis=1, in_zero_point=1, multiplier=(1, 1, 1, 1), shift=(1, 1, 1, 0),
                           out_zero_point=-128, out_min=-128, out_max=127)
    assert y.tolist() == [[-128, -127, -126, 127]]  # -500.5 clamps; 1 -> 1/2 -> 0; 2 -> 1; 999 clamps


def test_softmax_sums_to_about_one_and_argmax_takes_the_first_maximum():
    x = np.array([[0, 10, 20, 20]], dtype=np.int64)
    table = np.rint(np.exp(np.arange(-255, 1) * 0.05) * 2**16).astype(np.int64)
    y = kernels.softmax(x, axis=1, exp_values=table, out_multiplier=256, out_shift=0, out_zero_point=0,
                        out_min=0, out_max=255)
    assert abs(int(y.sum()) - 256) <= 2 and y[0, 2] == y[0, 3]
    assert kernels.argmax(x, axis=1, keepdims=0, select_last_index=0).tolist() == [2]
    assert kernels.argmax(x, axis=1, keepdims=1, select_last_index=1).tolist() == [[3]]
