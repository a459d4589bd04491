"""Poseidon2 over Goldilocks, width 8 (Plonky3 `default_goldilocks_poseidon2_8`),
batched: the public entry points over uint64 arrays.

    permute(states)         (n, 8) -> (n, 8), or (8,) -> (8,)
    compress(left, right)   (n, 4), (n, 4) -> (n, 4): permute(l || r)[0:4]
    hash_leaves(blocks)     (n, 7) -> (n, 4): permute(b || LEAF_TAG)[0:4]

`compress` is Plonky3's `TruncatedPermutation<_, 2, 4, 8>` convention: the
children's digests fill the 8 lanes, left first, and the parent is the first
4 output lanes. Inputs are checked (dtype, shape, every element < p) before
any kernel runs; the kernels themselves trust their inputs.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field.constants import P
from zkaudit.hash import kernels
from zkaudit.hash.constants import WIDTH
from zkaudit.hash.params import DIGEST_LEN, LEAF_RATE, LEAF_TAG

U64 = np.uint64
_P = U64(P)
_TAG = U64(LEAF_TAG)


def as_elements(values, cols: int | None = None, what: str = "input") -> np.ndarray:
    """A C-contiguous uint64 array of canonical elements; ValueError or
    TypeError otherwise. Python ints are converted one by one (numpy would
    turn a list mixing small ints and ints >= 2^63 into float64)."""
    if isinstance(values, np.ndarray) and values.dtype == U64:
        arr = values
        if arr.size and bool((arr >= _P).any()):
            raise ValueError(f"{what} holds a value outside [0, p)")
    elif isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        if values.size and (int(values.min()) < 0 or int(values.max()) >= P):
            raise ValueError(f"{what} holds a value outside [0, p)")
        arr = values.astype(U64)
    else:
        obj = np.array(values, dtype=object)
        flat = obj.reshape(-1).tolist()
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in flat):
            raise TypeError(f"{what} must hold integers")
        if any(not 0 <= int(v) < P for v in flat):
            raise ValueError(f"{what} holds a value outside [0, p)")
        arr = np.array([int(v) for v in flat], dtype=U64).reshape(obj.shape)
    if cols is not None and (arr.ndim != 2 or arr.shape[1] != cols):
        raise ValueError(f"{what} must have shape (n, {cols}), got {arr.shape}")
    return np.ascontiguousarray(arr)


def permute(states) -> np.ndarray:
    arr = as_elements(states, what="Poseidon2 state")
    single = arr.ndim == 1
    x = as_elements(arr.reshape(1, -1) if single else arr, WIDTH, "Poseidon2 state")
    out = np.empty_like(x)
    kernels.permute_rows(x, out, kernels.RC_EXTERNAL, kernels.RC_INTERNAL)
    return out[0] if single else out


def compress_rows(pairs: np.ndarray) -> np.ndarray:
    """(n, 8) canonical rows (left || right) -> (n, 4); no checks (internal use)."""
    out = np.empty((pairs.shape[0], DIGEST_LEN), dtype=U64)
    kernels.compress_rows(pairs, out, kernels.RC_EXTERNAL, kernels.RC_INTERNAL)
    return out


def compress(left, right) -> np.ndarray:
    lhs = as_elements(left, DIGEST_LEN, "left digest")
    rhs = as_elements(right, DIGEST_LEN, "right digest")
    if lhs.shape != rhs.shape:
        raise ValueError(f"left and right batches differ: {lhs.shape} vs {rhs.shape}")
    return compress_rows(np.ascontiguousarray(np.concatenate([lhs, rhs], axis=1)))


def hash_leaf_rows(blocks: np.ndarray) -> np.ndarray:
    """(n, 7) canonical rows -> (n, 4) leaf digests; no checks (internal use)."""
    out = np.empty((blocks.shape[0], DIGEST_LEN), dtype=U64)
    kernels.hash_leaf_rows(blocks, _TAG, out, kernels.RC_EXTERNAL, kernels.RC_INTERNAL)
    return out


def hash_leaves(blocks) -> np.ndarray:
    return hash_leaf_rows(as_elements(blocks, LEAF_RATE, "leaf block"))
