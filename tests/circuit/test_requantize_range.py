"""Requantize's inferred output range (all channels' ends in one vectorised
rshift_round) equals the per-channel reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hst

from zkaudit.circuit.fixed_point import rshift_round
from zkaudit.circuit.graph import Node, TensorSpec
from zkaudit.circuit.infer import infer


def _reference(xl, xh, m, s, zp, out_min, out_max):
    ends = [rshift_round(np.int64(v * mi), si) for v in (xl, xh) for mi, si in zip(m, s)]
    lo = max(out_min, zp + int(min(ends)))
    hi = min(out_max, zp + int(max(ends)))
    return min(lo, out_max), max(hi, out_min)


@settings(max_examples=200, deadline=None)
@given(channels=hst.integers(1, 6), data=hst.data())
def test_range_equals_per_channel_reference(channels, data):
    m = data.draw(hst.lists(hst.integers(1, 2**31 - 1), min_size=channels, max_size=channels))
    s = data.draw(hst.lists(hst.integers(0, 62), min_size=channels, max_size=channels))
    bound = (2**62 - 1) // max(m)
    xl = data.draw(hst.integers(-bound, bound))
    xh = data.draw(hst.integers(xl, bound))
    zp = data.draw(hst.integers(-128, 127))
    out_min = data.draw(hst.integers(-(2**15), 2**15))
    out_max = data.draw(hst.integers(out_min, out_min + 2**16))
    x = TensorSpec("x", (2, channels), xl, xh)
    node = Node.make("rq", "Requantize", ["x"], "y", axis=1, in_zero_point=0, multiplier=m, shift=s,
                     out_zero_point=zp, out_min=out_min, out_max=out_max)
    _, lo, hi = infer(node, [x])
    assert (lo, hi) == _reference(xl, xh, m, s, zp, out_min, out_max)
