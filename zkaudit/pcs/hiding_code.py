"""The hiding commitment's code (`hiding.py` states it): row r is the
polynomial

    P_r(X) = sum_{c < m} M[r, c] X^c + X^m sum_{k < l_pad} pad[r, k] X^k

of degree < m + l_pad, evaluated on H_n in the bit-reversed order of
`ntt.py`, n = m 2^b. Block t of a codeword is P_r on the coset s_t H_m
(s_t = w_n^bitrev_b(t)), where X^m is the constant s_t^m; P_r agrees there
with the degree < m polynomial D_r + s_t^m Pad_r (l_pad <= m, rows being
>= 4 L wide), so one size-m transform per block encodes the whole row, the
plain encoder's work plus l_pad products per block.

Fast paths: `encode_rows` (the commitment's leaves, transposed) and
`encode_messages_ext` (the verifier's rows). Naive references, tested
against them: `encode_rows_reference` and `encode_message_ext_reference`,
which transform message and padding separately (the padding with size-L
NTTs at blow-up n / L) and add.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.pcs import ntt_kernels
from zkaudit.pcs.ntt import (
    _GROUP,
    bit_reversal,
    coset_shift_powers,
    root_of_unity,
    rs_encode,
    rs_encode_ext,
    rs_encode_transposed,
    twiddles,
)
from zkaudit.pcs.params import PcsParams

U64 = np.uint64


def _flat(op, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Entry-wise base-field op on equal-shape arrays (an extension array's
    coordinates add independently)."""
    return op(np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1)).reshape(a.shape)


@lru_cache(maxsize=16)
def block_factors(log_m: int, log_blowup: int) -> np.ndarray:
    """eta^m for the positions of block t (constant per block): s_t^m with
    s_t = w_n^bitrev_b(t) the block's coset shift."""
    w_n = root_of_unity(log_m + log_blowup)
    rev = bit_reversal(log_blowup)
    m = 1 << log_m
    out = np.array([pow(pow(w_n, int(rev[t]), P), m, P) for t in range(1 << log_blowup)], dtype=U64)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=16)
def pad_shift_powers(log_m: int, log_blowup: int, pad_symbols: int) -> np.ndarray:
    """(2^b, l_pad) table of s_t^(m + k): where pad symbol k of a row lands
    in block t's folded polynomial, times the block's coset scaling
    (s_t = w_n^bitrev_b(t), as in `ntt.coset_shift_powers`)."""
    w_n = root_of_unity(log_m + log_blowup)
    rev = bit_reversal(log_blowup)
    m = 1 << log_m
    out = np.empty((1 << log_blowup, pad_symbols), dtype=U64)
    for t in range(1 << log_blowup):
        s_t = pow(w_n, int(rev[t]), P)
        acc = pow(s_t, m, P)
        for k_ in range(pad_symbols):
            out[t, k_] = acc
            acc = acc * s_t % P
    out.setflags(write=False)
    return out


def encode_pads(pads: np.ndarray, log_m: int, params: PcsParams) -> np.ndarray:
    """(rows, l_pad) pads -> (rows, n): eta_j^m Pad(eta_j) in codeword order.
    A degree < L polynomial on H_n in bit-reversed order is `rs_encode` at
    blow-up n / L (block c of L positions is a coset of H_L). Part of the
    naive reference encoding only."""
    rows = pads.shape[0]
    L = params.pad_transform
    padded = np.zeros((rows, L), dtype=U64)
    padded[:, : pads.shape[1]] = pads
    enc = rs_encode(padded, log_m + params.log_blowup - L.bit_length() + 1)
    factors = np.repeat(block_factors(log_m, params.log_blowup), 1 << log_m)
    return _flat(vec.mul, enc, np.broadcast_to(factors, enc.shape)) if rows else enc


def encode_rows_reference(matrix: np.ndarray, log_m: int, params: PcsParams) -> np.ndarray:
    """Naive reference of `encode_rows`: the message part and the padding
    encoded separately (two full transforms) and added, (n, rows)."""
    m = 1 << log_m
    code = rs_encode_transposed(np.ascontiguousarray(matrix[:, :m]), params.log_blowup)
    pads = encode_pads(np.ascontiguousarray(matrix[:, m:]), log_m, params)
    return _flat(vec.add, code, np.ascontiguousarray(pads.T))


def _check_hiding_message(matrix: np.ndarray, log_m: int, params: PcsParams) -> None:
    m = 1 << log_m
    if (not isinstance(matrix, np.ndarray) or matrix.dtype != U64 or matrix.ndim != 2
            or not matrix.flags.c_contiguous or matrix.shape[1] != m + params.pad_symbols):
        raise TypeError(f"expected a C-contiguous uint64 (rows, {m + params.pad_symbols}) hiding message")
    if params.pad_symbols > m:
        raise ValueError("the fused encoder needs l_pad <= m (hiding rows are >= 4 L wide)")


def encode_rows(matrix: np.ndarray, log_m: int, params: PcsParams, out: np.ndarray) -> None:
    """Codewords of the rows of `matrix` (rows, m + l_pad) in the hiding code,
    written as columns 0 .. rows - 1 of `out` (n, >= rows), the commitment's
    leaf layout. One fused pass (`ntt_kernels.encode_padded_rows_transposed`):
    per block the padding folds into the message (X^m is constant on a
    block's coset), so the cost is the plain encoder's; `encode_rows_reference`
    is the two-transform form it is tested against."""
    _check_hiding_message(matrix, log_m, params)
    n = (1 << log_m) << params.log_blowup
    if out.dtype != U64 or out.ndim != 2 or out.shape[0] != n or out.shape[1] < matrix.shape[0]:
        raise ValueError(f"out must be a uint64 array of shape ({n}, >= {matrix.shape[0]})")
    ntt_kernels.encode_padded_rows_transposed(matrix, 1 << log_m, coset_shift_powers(log_m, params.log_blowup),
                                              pad_shift_powers(log_m, params.log_blowup, params.pad_symbols),
                                              twiddles(log_m), out, balanced_group(matrix.shape[0]))


def balanced_group(num_rows: int, threads: int | None = None) -> int:
    """Rows per encoder task: at most `_GROUP`, with the task count a multiple
    of the thread count. The hiding matrix has a few rows more than a power
    of two (mask row, blinding rows): 69 rows in groups of 32 make three
    tasks, two of them on one of two threads, which measured 1.5x slower
    than four tasks of 18."""
    if threads is None:
        from zkaudit.field import jit

        threads = jit.num_threads()  # numba's pool size, without starting numba
    threads = max(1, threads)
    tasks = -(-num_rows // _GROUP)
    tasks = -(-tasks // threads) * threads
    return max(1, -(-num_rows // tasks))


def encode_message_ext_reference(u: np.ndarray, log_m: int, params: PcsParams) -> np.ndarray:
    """Naive reference of `encode_message_ext` (separate transforms, then add)."""
    m = 1 << log_m
    data = rs_encode_ext(np.ascontiguousarray(u[:m]), params.log_blowup)
    pads = np.ascontiguousarray(u[m:].T)  # (2, l_pad): each coordinate encodes separately
    enc = encode_pads(pads, log_m, params)
    return _flat(vec.add, data, enc.T)


def encode_messages_ext(rows: list[np.ndarray], log_m: int, params: PcsParams,
                        positions: np.ndarray | None = None) -> list[np.ndarray]:
    """The hiding code's codewords of extension messages (m + l_pad, 2) ->
    (n, 2) each, or only their entries at `positions` (q, 2); all
    coordinates of all rows in one parallel kernel call (the code is
    F_p-linear, each coordinate encodes separately)."""
    msg = np.empty((2 * len(rows), (1 << log_m) + params.pad_symbols), dtype=U64)
    for i, u in enumerate(rows):
        msg[2 * i : 2 * i + 2] = u.T
    _check_hiding_message(msg, log_m, params)
    n = (1 << log_m) << params.log_blowup
    out = np.empty((msg.shape[0], n), dtype=U64)
    ntt_kernels.encode_padded_rows(msg, 1 << log_m, coset_shift_powers(log_m, params.log_blowup),
                                   pad_shift_powers(log_m, params.log_blowup, params.pad_symbols), twiddles(log_m), out)
    picked = out if positions is None else out[:, positions]
    return [np.ascontiguousarray(picked[2 * i : 2 * i + 2].T) for i in range(len(rows))]


def encode_message_ext(u: np.ndarray, log_m: int, params: PcsParams) -> np.ndarray:
    """The hiding code's codeword of an extension message (m + l_pad, 2)."""
    return encode_messages_ext([u], log_m, params)[0]
