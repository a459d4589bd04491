"""How an IR tensor becomes a multilinear table.

A tensor of shape (d_1, ..., d_k) is zero-padded per dimension to
(2^a_1, ..., 2^a_k), a_i = ceil(log2 d_i) (a size-1 dimension has no
variable), flattened row-major and embedded in F_p (negative v -> p - |v|).
Its MLE has sum(a_i) variables, dimension 1's most significant, so a point is
the concatenation of one sub-point per dimension and contracting a dimension
is folding (or summing over) its variables.

Padding entries are zero, so every layer must make its relation hold on the
padding too (e.g. zero points are applied only on real entries, through the
`prefix_indicator` of each dimension).
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.poly.mle import prefix_indicator


def log2_ceil(d: int) -> int:
    if d < 1:
        raise ValueError(f"dimension {d} must be >= 1")
    return (d - 1).bit_length()


def padded_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 << log2_ceil(d) for d in shape)


def dim_vars(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Variables per dimension, in point order."""
    return tuple(log2_ceil(d) for d in shape)


def num_vars(shape: tuple[int, ...]) -> int:
    return sum(dim_vars(shape))


def embed(values: np.ndarray) -> np.ndarray:
    """Integer tensor -> padded, flattened base-field table."""
    values = np.asarray(values, dtype=np.int64)
    padded = np.zeros(padded_shape(values.shape), dtype=np.int64)
    padded[tuple(slice(0, d) for d in values.shape)] = values
    return vec.from_int64(padded.ravel())


def split_point(point, shape: tuple[int, ...]) -> list[tuple]:
    """A point on the tensor's MLE, cut into one sub-point per dimension."""
    out, at = [], 0
    for v in dim_vars(shape):
        out.append(tuple(point[at : at + v]))
        at += v
    if at != len(point):
        raise ValueError(f"point has {len(point)} coordinates, shape {shape} has {at} variables")
    return out


def real_indicator(shape: tuple[int, ...], point) -> Fp2:
    """MLE at `point` of the indicator of the real (unpadded) entries."""
    acc = Fp2(1)
    for d, sub in zip(shape, split_point(point, shape)):
        acc = acc * prefix_indicator(d, sub)
    return acc
