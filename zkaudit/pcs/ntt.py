"""Number-theoretic transforms over Goldilocks and Reed-Solomon encoding.

For n = 2^k <= 2^32, w_n = TWO_ADIC_ROOT^(2^(32 - k)) is a primitive n-th root
of unity and H_n = <w_n>. The transform of a coefficient vector a is

    NTT(a)[i] = sum_j a[j] w_n^(i j) = f(w_n^i),   f(X) = sum_j a[j] X^j,

and INTT is its inverse (n^-1 and w_n^-1). The coset variants evaluate on
s * H_n: coset_ntt(a, s)[i] = f(s w_n^i), i.e. NTT of (a[j] s^j)_j.
Every function works on a vector or, batched, on each row of a matrix.

Kernels are radix-2 in place: DIF (natural in, bit-reversed out) for the
forward transform and DIT (bit-reversed in, natural out) for the inverse,
with one bit-reversal pass to give natural order here. Twiddle tables are
cached per size.

**Reed-Solomon code.** `rs_encode(rows, log_blowup)` maps a message row
(a_0..a_{m-1}), read as the coefficients of f of degree < m, to the
evaluations of f on H_n, n = m * 2^log_blowup, listed in *bit-reversed*
order: codeword[j] = f(w_n^bitrev_n(j)). That order lets the encoder skip the
final permutation, and it splits into blocks: positions t*m .. t*m + m - 1 are
f on the coset w_n^bitrev_b(t) * H_m (b = log_blowup), in bit-reversed order
within the block, so the encoder runs 2^b transforms of size m instead of one
of size n. The code has rate 2^-b and distance n - m + 1 (any permutation of
positions keeps an RS code's distance).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from zkaudit.field.constants import MULTIPLICATIVE_GENERATOR, P, TWO_ADIC_ROOT, TWO_ADICITY
from zkaudit.pcs import ntt_kernels as k

U64 = np.uint64

# Rows encoded together before the transposing write: 32 uint64 = four cache
# lines of each output row per write (measured best among 8..64).
_GROUP = 32


def root_of_unity(log_n: int) -> int:
    """A primitive 2^log_n-th root of unity (the same one for every caller)."""
    if not 0 <= log_n <= TWO_ADICITY:
        raise ValueError(f"no 2^{log_n}-th root of unity in Goldilocks (two-adicity {TWO_ADICITY})")
    return pow(TWO_ADIC_ROOT, 1 << (TWO_ADICITY - log_n), P)


@lru_cache(maxsize=64)
def twiddles(log_n: int, inverse: bool = False) -> np.ndarray:
    """Stage twiddles for size n (see `ntt_kernels`): entry h + j holds
    w_{2h}^j, j < h, with w the chosen n-th root (or its inverse); the stage
    of half-size h reads entries h .. 2h - 1. Read-only, cached per size."""
    w = root_of_unity(log_n)
    if inverse:
        w = pow(w, P - 2, P)
    n = 1 << log_n
    half = max(1, n >> 1)
    first = np.empty(half, dtype=U64)
    k.powers(U64(w), half, first)  # w^j: the largest stage; smaller ones subsample it
    out = np.zeros(max(2, n), dtype=U64)
    h, stride = n >> 1, 1
    while h >= 1:
        out[h : 2 * h] = first[::stride][:h]
        h >>= 1
        stride <<= 1
    out.setflags(write=False)
    return out


@lru_cache(maxsize=64)
def bit_reversal(log_n: int) -> np.ndarray:
    n = 1 << log_n
    idx = np.arange(n, dtype=np.int64)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(log_n):
        rev |= ((idx >> b) & 1) << (log_n - 1 - b)
    rev.setflags(write=False)
    return rev


def _log2_exact(n: int) -> int:
    if n < 1 or n & (n - 1):
        raise ValueError(f"length {n} is not a power of two")
    return n.bit_length() - 1


def _as_rows(a: np.ndarray) -> tuple[np.ndarray, bool]:
    if not isinstance(a, np.ndarray) or a.dtype != U64 or a.ndim not in (1, 2):
        raise TypeError("expected a 1-D or 2-D np.uint64 array of base-field elements")
    rows = np.array(a.reshape(1, -1) if a.ndim == 1 else a, dtype=U64, order="C", copy=True)
    return rows, a.ndim == 1


def _powers(base: int, count: int) -> np.ndarray:
    out = np.empty(count, dtype=U64)
    k.powers(U64(base % P), count, out)
    return out


def bit_reverse(a: np.ndarray) -> np.ndarray:
    """Permute the last axis by bit reversal of the index."""
    rows, flat = _as_rows(a)
    log_n = _log2_exact(rows.shape[1])
    out = np.empty_like(rows)
    k.bit_reverse_rows(rows, bit_reversal(log_n), out)
    return out[0] if flat else out


def ntt(a: np.ndarray) -> np.ndarray:
    """Evaluations on H_n, natural order, of each row's coefficient vector."""
    rows, flat = _as_rows(a)
    log_n = _log2_exact(rows.shape[1])
    k.dif_rows(rows, twiddles(log_n))
    out = np.empty_like(rows)
    k.bit_reverse_rows(rows, bit_reversal(log_n), out)
    return out[0] if flat else out


def intt(a: np.ndarray) -> np.ndarray:
    """Coefficients from evaluations on H_n (natural order): inverse of `ntt`."""
    rows, flat = _as_rows(a)
    n = rows.shape[1]
    log_n = _log2_exact(n)
    perm = np.empty_like(rows)
    k.bit_reverse_rows(rows, bit_reversal(log_n), perm)
    k.dit_rows(perm, twiddles(log_n, inverse=True))
    k.scale_rows(perm, np.full(n, pow(n, P - 2, P), dtype=U64))
    return perm[0] if flat else perm


def coset_ntt(a: np.ndarray, shift: int = MULTIPLICATIVE_GENERATOR) -> np.ndarray:
    """Evaluations on shift * H_n (shift != 0) of each row's coefficients."""
    if shift % P == 0:
        raise ValueError("a coset shift must be non-zero")
    rows, flat = _as_rows(a)
    k.scale_rows(rows, _powers(shift, rows.shape[1]))
    out = ntt(rows)
    return out[0] if flat else out


def coset_intt(a: np.ndarray, shift: int = MULTIPLICATIVE_GENERATOR) -> np.ndarray:
    """Coefficients from evaluations on shift * H_n: inverse of `coset_ntt`."""
    if shift % P == 0:
        raise ValueError("a coset shift must be non-zero")
    out = intt(a)
    rows = out.reshape(1, -1) if out.ndim == 1 else out
    k.scale_rows(rows, _powers(pow(shift, P - 2, P), rows.shape[1]))
    return out


def rs_encode(rows: np.ndarray, log_blowup: int) -> np.ndarray:
    """Reed-Solomon codewords of each row (bit-reversed order on H_n, see the
    module docstring): (k, m) -> (k, m * 2^log_blowup); a vector -> a vector."""
    msg, flat = _as_rows(rows)
    m = msg.shape[1]
    log_n = _log2_exact(m) + log_blowup
    padded = np.zeros((msg.shape[0], 1 << log_n), dtype=U64)
    padded[:, :m] = msg
    k.dif_rows(padded, twiddles(log_n))
    return padded[0] if flat else padded


def rs_encode_ext(row: np.ndarray, log_blowup: int) -> np.ndarray:
    """Codeword of an extension-field message (m, 2): the code is F_p-linear
    and the twiddles lie in F_p, so each coordinate encodes separately."""
    if row.ndim != 2 or row.shape[1] != 2:
        raise ValueError("expected an extension vector of shape (m, 2)")
    return np.ascontiguousarray(rs_encode(np.ascontiguousarray(row.T), log_blowup).T)


@lru_cache(maxsize=16)
def coset_shift_powers(log_m: int, log_blowup: int) -> np.ndarray:
    """(2^b, m) table of s_t^i with s_t = w_n^bitrev_b(t): block t's coset shift."""
    m, blocks = 1 << log_m, 1 << log_blowup
    w_n = root_of_unity(log_m + log_blowup)
    rev = bit_reversal(log_blowup)
    out = np.empty((blocks, m), dtype=U64)
    for t in range(blocks):
        k.powers(U64(pow(w_n, int(rev[t]), P)), m, out[t])
    out.setflags(write=False)
    return out


def rs_encode_transposed(msg: np.ndarray, log_blowup: int, out: np.ndarray | None = None) -> np.ndarray:
    """Encode every row of msg (R, m) and return the codewords as columns of
    an (m * 2^b, R) array: result[:, r] = rs_encode(msg[r]). The commitment
    hashes each row of the result (one codeword position of every row)."""
    log_m = _message_log_cols(msg)
    return _encode_blocks(msg, coset_shift_powers(log_m, log_blowup), log_m, out)


def rs_encode_block_transposed(msg: np.ndarray, log_blowup: int, block: int) -> np.ndarray:
    """Rows block*m .. block*m + m of `rs_encode_transposed(msg, log_blowup)`
    (one coset of the domain), computed alone: a prover short of memory
    encodes and hashes the codeword a block at a time."""
    log_m = _message_log_cols(msg)
    if not 0 <= block < 1 << log_blowup:
        raise ValueError(f"block {block} outside the {1 << log_blowup} blocks of the codeword")
    return _encode_blocks(msg, coset_shift_powers(log_m, log_blowup)[block : block + 1], log_m, None)


def _message_log_cols(msg) -> int:
    if not isinstance(msg, np.ndarray) or msg.dtype != U64 or msg.ndim != 2 or not msg.flags.c_contiguous:
        raise TypeError("expected a C-contiguous 2-D np.uint64 message matrix")
    return _log2_exact(msg.shape[1])


def _encode_blocks(msg, shifts, log_m: int, out):
    """The codeword blocks whose coset shifts are the rows of `shifts`."""
    n, num_rows = shifts.shape[0] << log_m, msg.shape[0]
    if out is None:
        out = np.empty((n, num_rows), dtype=U64)
    elif out.shape != (n, num_rows) or out.dtype != U64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous uint64 array of shape {(n, num_rows)}")
    k.encode_rows_transposed(msg, shifts, twiddles(log_m), out, _GROUP)
    return out
