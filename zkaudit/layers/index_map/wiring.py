"""The public wiring of an index-map op, derived from the IR executor itself.

Each input X_j gets an array of its own padded flat indices in its shape; the
op's reference kernel is applied to those arrays (so the wiring is exactly the
semantics), and every output cell learns where it came from:
    src_id[y] = j >= 0, src_idx[y] = x   the value is X_j's padded entry x
    src_id[y] = CONSTANT                 a Pad cell holding the constant
    src_id[y] = PADDING                  outside the real output (zero)

Padding (the rule in `zkaudit.layers`): only real input cells are wired, so
W_j is zero on X_j's padding and no input's padding is relied on; Y's
padding is wired to nothing, so the relation makes it zero. `Expand`
(numpy broadcasting) is the one map where an input cell feeds several
output cells; W_j then adds their eq weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.circuit import kernels as ir
from zkaudit.layers.tensor import padded_shape

CONSTANT = -2
PADDING = -1
_ID_SHIFT = 40  # encode (input, index) in one int64 while the kernel moves it


@dataclass(frozen=True)
class Wiring:
    src_id: np.ndarray  # int64, one per padded output cell
    src_idx: np.ndarray  # int64
    constant: int  # the Pad value (0 for other ops)

    def is_identity(self, in_shape: tuple[int, ...]) -> bool:
        """Y's table equals X_0's table: the claim passes through unchanged.
        Every output cell reads the input cell at its own position, and every
        real input cell is read: a Gather that drops X's last real cells (a
        crop) leaves them in Y's padding, which must be zero, so it is no
        identity even where the kept cells stay in place."""
        if self.src_id.shape[0] != int(np.prod(padded_shape(in_shape), dtype=np.int64)):
            return False
        real = self.src_id >= 0
        return bool(np.all(self.src_id[real] == 0)) and bool(
            np.all(self.src_idx[real] == np.nonzero(real)[0])
        ) and int(np.count_nonzero(real)) == int(np.prod(in_shape, dtype=np.int64)) and not bool(
            np.any(self.src_id == CONSTANT))


def wiring(op: str, attrs: dict, in_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...]) -> Wiring:
    encoded = []
    for j, shape in enumerate(in_shapes):
        padded = padded_shape(shape)
        flat = np.arange(int(np.prod(padded, dtype=np.int64)), dtype=np.int64).reshape(padded)
        real = flat[tuple(slice(0, d) for d in shape)]
        encoded.append((j << _ID_SHIFT) + real)
    constant = 0
    if op == "Reshape":
        moved = ir.reshape(encoded[0], shape=attrs["shape"])
    elif op == "Transpose":
        moved = ir.transpose(encoded[0], perm=attrs["perm"])
    elif op == "Concat":
        moved = ir.concat(*encoded, axis=attrs["axis"])
    elif op == "Pad":
        constant = int(attrs["value"])
        moved = ir.pad(encoded[0], pads=attrs["pads"], value=-1)
    elif op == "Expand":
        # Many output cells read one input cell: W_j(x) sums their eq weights.
        moved = ir.expand(encoded[0], shape=attrs["shape"])
    elif op == "Gather":
        # Selections and slices: an input cell may be read by several output
        # cells (summed eq weights, as for Expand) or by none (weight zero).
        moved = ir.gather(encoded[0], axis=attrs["axis"], indices=attrs["indices"])
    else:
        raise ValueError(f"{op} is not an index-map op")
    if tuple(moved.shape) != tuple(out_shape):
        raise ValueError(f"{op} maps {in_shapes} to {moved.shape}, the circuit says {out_shape}")
    out = np.full(padded_shape(out_shape), -1, dtype=np.int64)
    out[tuple(slice(0, d) for d in out_shape)] = moved
    out = out.ravel()
    src_id = np.where(out >= 0, out >> _ID_SHIFT, PADDING)
    src_idx = np.where(out >= 0, out & ((1 << _ID_SHIFT) - 1), 0)
    # Pad cells inside the real output carry the constant.
    inside = np.zeros(padded_shape(out_shape), dtype=bool)
    inside[tuple(slice(0, d) for d in out_shape)] = True
    src_id = np.where((out < 0) & inside.ravel(), CONSTANT, src_id)
    return Wiring(src_id.astype(np.int64), src_idx.astype(np.int64), constant)
