"""numba kernels of the Conv prover: binding the output channels against the
weights per group, and binding an output spatial axis against the input's
windows (the contraction im2col would do, without building im2col).
Importing this module loads no numba: each kernel is built on its first
call (`field.jit.njit`), so a model without a Conv never pays for them."""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field.jit import njit, prange

add, ext_mul, mul = jit.imported("zkaudit.field.arith", "add", "ext_mul", "mul")


@njit(parallel=True, cache=True)
def grouped_rows(e, w, count, group_out, out):
    """out[g, j] = sum_{o < count, o div group_out = g} e[o] w[o, j].
    e extension (>= count, 2), w base (O', J), out extension (G', J, 2), zeroed here."""
    cols = w.shape[1]
    for j in prange(cols):
        for g in range(out.shape[0]):
            out[g, j, 0] = np.uint64(0)
            out[g, j, 1] = np.uint64(0)
        for o in range(count):
            v = w[o, j]
            g = o // group_out
            out[g, j, 0] = add(out[g, j, 0], mul(e[o, 0], v))
            out[g, j, 1] = add(out[g, j, 1], mul(e[o, 1], v))


@njit(parallel=True, cache=True)
def window_contract(e, count, src, taps, stride, dilation, pad, in_real, out):
    """out[a, k, b] = sum_{o < count} e[o] src[a, o stride + k dilation - pad, b]
    over in-bounds input indices [0, in_real), for k < taps; other k are 0.
    e extension (>= count, 2), src extension (A, I, B, 2), out (A, K', B, 2)."""
    rows = src.shape[0]
    inner = src.shape[2]
    for a in prange(rows):
        for k in range(out.shape[1]):
            for b in range(inner):
                out[a, k, b, 0] = np.uint64(0)
                out[a, k, b, 1] = np.uint64(0)
        for k in range(taps):
            for o in range(count):
                i = o * stride + k * dilation - pad
                if i < 0 or i >= in_real:
                    continue
                e0 = e[o, 0]
                e1 = e[o, 1]
                for b in range(inner):
                    p0, p1 = ext_mul(e0, e1, src[a, i, b, 0], src[a, i, b, 1])
                    out[a, k, b, 0] = add(out[a, k, b, 0], p0)
                    out[a, k, b, 1] = add(out[a, k, b, 1], p1)


@njit(cache=True)
def scatter_add(values, idx, out):
    """out[idx[t]] += values[t] (extension), sequential: indices repeat."""
    for t in range(idx.shape[0]):
        i = idx[t]
        out[i, 0] = add(out[i, 0], values[t, 0])
        out[i, 1] = add(out[i, 1], values[t, 1])
