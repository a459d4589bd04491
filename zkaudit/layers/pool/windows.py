"""Public window wiring of a reducing op, from the IR kernels themselves.

Output cell y (padded flat index into Y's table) and window slot k (0 <= k <
2^kv, kv = log2_ceil(K), K real slots per window) form the row y * 2^kv + k
of a column over n_y + kv variables (y's bits most significant). `src[row]`
is X's padded flat index read by that slot, NONE (-1) where the slot reads
nothing (a slot k >= K, or a padding element of the window: MaxPool pads
with min(x), which never wins; AveragePool pads with 0), and ZERO (-2) at
slot 0 of every padded output cell: a slot holding the constant 0, so that
the maximum there is 0 and the output's padding is forced to zero.
`mask = src >= 0` (slots that read X), `selectable = src != NONE`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from zkaudit.circuit import kernels as ir
from zkaudit.layers.tensor import log2_ceil, num_vars, padded_shape

NONE = -1
ZERO = -2


@dataclass(frozen=True)
class Windows:
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    window: int  # K, real slots per window
    src: np.ndarray  # int64, 2^(n_y + kv) rows

    @property
    def slot_vars(self) -> int:
        return log2_ceil(self.window)

    @property
    def out_vars(self) -> int:
        return num_vars(self.out_shape)

    @property
    def in_vars(self) -> int:
        return num_vars(self.in_shape)

    @property
    def num_vars(self) -> int:
        return self.out_vars + self.slot_vars

    @property
    def mask(self) -> np.ndarray:
        return self.src >= 0

    @property
    def selectable(self) -> np.ndarray:
        return self.src != NONE

    @property
    def out_index(self) -> np.ndarray:
        """y of every row."""
        return np.arange(self.src.shape[0], dtype=np.int64) >> self.slot_vars

    def gather(self, x: np.ndarray, fill: int = 0) -> np.ndarray:
        """x's padded table (int64) read through the wiring; `fill` where masked."""
        return np.where(self.mask, x[np.maximum(self.src, 0)], fill)


def _padded_index(shape: tuple[int, ...]) -> np.ndarray:
    flat = np.arange(int(np.prod(padded_shape(shape), dtype=np.int64)), dtype=np.int64).reshape(padded_shape(shape))
    return flat[tuple(slice(0, d) for d in shape)]


def _from_windows(win: np.ndarray, in_shape, out_shape) -> Windows:
    """win: real output shape + (K,) array of X padded indices or NONE."""
    out_shape = tuple(out_shape)
    if tuple(win.shape[:-1]) != out_shape:
        raise ValueError(f"windows have output shape {win.shape[:-1]}, the circuit says {out_shape}")
    k = win.shape[-1]
    kp = 1 << log2_ceil(k)
    table = np.full(padded_shape(out_shape) + (kp,), NONE, dtype=np.int64)
    table[tuple(slice(0, d) for d in out_shape) + (slice(0, k),)] = win
    real = np.zeros(padded_shape(out_shape), dtype=bool)
    real[tuple(slice(0, d) for d in out_shape)] = True
    table[..., 0] = np.where(real, table[..., 0], ZERO)
    return Windows(tuple(in_shape), out_shape, k, table.ravel())


def pool_windows(attrs: dict, in_shape, out_shape, *, dilations=(1, 1)) -> Windows:
    """MaxPool/AveragePool windows (NCHW), via the kernels' own pad and window
    view. Cached per shape, so the result is shared: never write to its
    arrays (a verifier asks twice per pool, for the advice shapes and the
    check: 2^20 rows in big_cnn, ~10 ms each)."""
    def ints(v):
        return tuple(int(d) for d in v)

    return _pool_windows(ints(attrs["pads"]), ints(attrs["kernel_shape"]), ints(attrs["strides"]), ints(dilations),
                         ints(in_shape), ints(out_shape))


@functools.lru_cache(maxsize=4)
def _pool_windows(pads, kernel_shape, strides, dilations, in_shape, out_shape) -> Windows:
    idx = ir._pad2d(_padded_index(in_shape), pads, NONE)
    win = ir._windows(idx, kernel_shape, strides, dilations)
    n, c, oh, ow, kh, kw = win.shape
    return _from_windows(np.ascontiguousarray(win).reshape(n, c, oh, ow, kh * kw), in_shape, out_shape)


def axis_windows(in_shape, axis: int) -> Windows:
    """Reduction along `axis`: output keeps the axis with size 1."""
    in_shape = tuple(in_shape)
    axis = axis % len(in_shape)
    win = np.moveaxis(_padded_index(in_shape), axis, -1)
    out_shape = in_shape[:axis] + (1,) + in_shape[axis + 1 :]
    win = np.expand_dims(win, axis)  # (..., 1, ..., K)
    return _from_windows(win, in_shape, out_shape)
