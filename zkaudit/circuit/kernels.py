"""One kernel per IR op: the integer semantics, on int64 numpy arrays.

Accumulating ops (MatMul, Conv) multiply through float64 BLAS. That is exact,
not approximate: the validator guarantees every accumulator (and hence every
partial sum, whatever order BLAS adds in, since each is bounded by the sum of
absolute values of the terms) fits in int32, and float64 represents every
integer below 2^53 exactly. `tests/circuit` checks these kernels against
plain int64 loops.
"""

from __future__ import annotations

import numpy as np

from zkaudit.circuit.fixed_point import div_round, rshift_round


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def matmul(a, b, bias=None, *, a_zero_point, b_zero_point):
    out = _exact_matmul(a - a_zero_point, b - b_zero_point)
    return out if bias is None else out + bias


def _pad2d(x: np.ndarray, pads, value: int) -> np.ndarray:
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _windows(x: np.ndarray, kernel, strides, dilations) -> np.ndarray:
    """(N, C, OH, OW, KH, KW) view of every window of an already padded x."""
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    oh = (h - (dh * (kh - 1) + 1)) // sh + 1
    ow = (w - (dw * (kw - 1) + 1)) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw), writeable=False
    )


def conv(x, w, bias=None, *, dilations, group, pads, strides, w_zero_point, x_zero_point):
    xs = _pad2d(x - x_zero_point, pads, 0)
    ws = w - w_zero_point
    m, cg, kh, kw = ws.shape
    win = _windows(xs, (kh, kw), strides, dilations)  # N, C, OH, OW, KH, KW
    n, _, oh, ow = win.shape[:4]
    mg = m // group
    out = np.empty((n, m, oh, ow), dtype=np.int64)
    for g in range(group):
        cols = win[:, g * cg:(g + 1) * cg].transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, cg * kh * kw)
        wmat = ws[g * mg:(g + 1) * mg].reshape(mg, cg * kh * kw).T
        out[:, g * mg:(g + 1) * mg] = _exact_matmul(cols, wmat).reshape(n, oh, ow, mg).transpose(0, 3, 1, 2)
    if bias is not None:
        out += bias.reshape(1, m, 1, 1)
    return out


def add(a, b, *, a_zero_point, b_zero_point):
    return (a - a_zero_point) + (b - b_zero_point)


def sub(a, b, *, a_zero_point, b_zero_point):
    return (a - a_zero_point) - (b - b_zero_point)


def mul(a, b, *, a_zero_point, b_zero_point):
    return (a - a_zero_point) * (b - b_zero_point)


def _per_channel(values, axis: int, ndim: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.int64)
    if arr.size == 1:
        return arr.reshape(())
    shape = [1] * ndim
    shape[axis] = arr.size
    return arr.reshape(shape)


def requantize(x, *, axis, in_zero_point, multiplier, out_max, out_min, out_zero_point, shift):
    m = _per_channel(multiplier, axis, x.ndim)
    s = _per_channel(shift, axis, x.ndim)
    y = out_zero_point + rshift_round((x - in_zero_point) * m, s)
    return np.clip(y, out_min, out_max)


def relu(x, *, zero_point):
    return np.maximum(x, zero_point)


def clip(x, *, lo, hi):
    return np.clip(x, lo, hi)


def table(x, *, function, in_min, values):
    return np.asarray(values, dtype=np.int64)[x - in_min]


def maxpool(x, *, dilations, kernel_shape, pads, strides):
    low = int(x.min()) if x.size else 0  # padding never beats a real value
    win = _windows(_pad2d(x, pads, low), kernel_shape, strides, dilations)
    return win.max(axis=(4, 5))


def averagepool(x, *, count_include_pad, kernel_shape, pads, strides, zero_point):
    centred = _pad2d(x - zero_point, pads, 0)
    sums = _windows(centred, kernel_shape, strides, (1, 1)).sum(axis=(4, 5))
    if count_include_pad or not any(pads):
        counts = np.int64(kernel_shape[0] * kernel_shape[1])
    else:
        ones = _pad2d(np.ones((1, 1) + x.shape[2:], dtype=np.int64), pads, 0)
        counts = _windows(ones, kernel_shape, strides, (1, 1)).sum(axis=(4, 5))
    return zero_point + div_round(sums, counts)


def reshape(x, *, shape):
    return x.reshape(shape)


def transpose(x, *, perm):
    return np.ascontiguousarray(x.transpose(perm))


def concat(*xs, axis):
    return np.concatenate(xs, axis=axis)


def pad(x, *, pads, value):
    half = len(pads) // 2
    return np.pad(x, list(zip(pads[:half], pads[half:])), constant_values=value)


def gather(x, *, axis, indices):
    return np.ascontiguousarray(np.take(x, np.asarray(indices, dtype=np.int64), axis=axis))


def expand(x, *, shape):
    return np.ascontiguousarray(np.broadcast_to(x, tuple(shape)))


def softmax(x, *, axis, exp_values, out_max, out_min, out_multiplier, out_shift, out_zero_point):
    """Integer softmax along `axis`:

        d = x - max(x)                      (d in [-(len(exp_values)-1), 0])
        e = exp_values[d + len - 1]         (~ 2^16 * exp(d * input_scale))
        y = clamp(zo + rnd(e * M / (sum(e) * 2^out_shift)))

    with M / 2^out_shift ~= 1 / output_scale. sum(e) >= e_max > 0, and every
    step is an integer op a proof checks with a lookup and a remainder."""
    table = np.asarray(exp_values, dtype=np.int64)
    d = x - x.max(axis=axis, keepdims=True)
    e = table[d + (len(table) - 1)]
    total = e.sum(axis=axis, keepdims=True)
    y = out_zero_point + div_round(e * out_multiplier, total << out_shift)
    return np.clip(y, out_min, out_max)


def argmax(x, *, axis, keepdims, select_last_index):
    if select_last_index:
        flipped = np.flip(x, axis=axis)
        idx = x.shape[axis] - 1 - flipped.argmax(axis=axis)
    else:
        idx = x.argmax(axis=axis)
    idx = idx.astype(np.int64)
    return np.expand_dims(idx, axis) if keepdims else idx


def gather_rows(table, indices):
    """table[indices[k], :]; an index outside [0, rows) is an error (ValueError)."""
    idx = np.asarray(indices, dtype=np.int64)
    bad = np.flatnonzero((idx < 0) | (idx >= table.shape[0]))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"index {int(idx[k])} at position {k} is outside the table's {table.shape[0]} rows")
    return np.ascontiguousarray(table[idx])


def pointer_walk(table, start, *, steps):
    """P_{steps-1}: P_{-1} = start, P_l = table[P_{l-1}, 0]; an index outside
    [0, rows) at any step is an error (ValueError)."""
    p = np.asarray(start, dtype=np.int64)
    succ = np.asarray(table, dtype=np.int64)[:, 0]
    for step in range(steps):
        bad = np.flatnonzero((p < 0) | (p >= succ.shape[0]))
        if bad.size:
            k = int(bad[0])
            raise ValueError(f"step {step}: index {int(p[k])} at position {k} is outside the table's "
                             f"{succ.shape[0]} rows")
        p = succ[p]
    return np.ascontiguousarray(p)


KERNELS = {
    "MatMul": matmul, "Conv": conv, "Add": add, "Sub": sub, "Mul": mul, "Requantize": requantize,
    "Relu": relu, "Clip": clip, "Table": table, "MaxPool": maxpool, "AveragePool": averagepool,
    "Reshape": reshape, "Transpose": transpose, "Concat": concat, "Pad": pad, "Expand": expand, "Gather": gather,
    "Softmax": softmax,
    "ArgMax": argmax, "GatherRows": gather_rows, "PointerWalk": pointer_walk,
}
