"""Naive references for `ntt.py`, on Python ints: the O(n^2) DFT and a
Reed-Solomon encoder that evaluates each polynomial point by point. Same
names and meaning as the fast versions; tests hold the kernels to these."""

from __future__ import annotations

import numpy as np

from zkaudit.field.constants import MULTIPLICATIVE_GENERATOR, P
from zkaudit.pcs.ntt import bit_reversal, root_of_unity


def _log2(n: int) -> int:
    return n.bit_length() - 1


def _eval(coeffs: list[int], x: int) -> int:
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % P
    return acc


def _rows(a: np.ndarray) -> list[list[int]]:
    return [[int(v) for v in row] for row in (a.reshape(1, -1) if a.ndim == 1 else a)]


def _out(rows: list[list[int]], flat: bool) -> np.ndarray:
    arr = np.array(rows, dtype=np.uint64)
    return arr[0] if flat else arr


def ntt(a: np.ndarray) -> np.ndarray:
    n = a.shape[-1]
    w = root_of_unity(_log2(n))
    return _out([[_eval(r, pow(w, i, P)) for i in range(n)] for r in _rows(a)], a.ndim == 1)


def intt(a: np.ndarray) -> np.ndarray:
    n = a.shape[-1]
    w_inv = pow(root_of_unity(_log2(n)), P - 2, P)
    n_inv = pow(n, P - 2, P)
    return _out([[_eval(r, pow(w_inv, i, P)) * n_inv % P for i in range(n)] for r in _rows(a)], a.ndim == 1)


def coset_ntt(a: np.ndarray, shift: int = MULTIPLICATIVE_GENERATOR) -> np.ndarray:
    n = a.shape[-1]
    w = root_of_unity(_log2(n))
    return _out([[_eval(r, shift * pow(w, i, P) % P) for i in range(n)] for r in _rows(a)], a.ndim == 1)


def rs_encode(rows: np.ndarray, log_blowup: int) -> np.ndarray:
    """codeword[j] = f(w_n^bitrev(j)), f with the row as coefficients."""
    m = rows.shape[-1]
    log_n = _log2(m) + log_blowup
    w = root_of_unity(log_n)
    rev = bit_reversal(log_n)
    pts = [pow(w, int(rev[j]), P) for j in range(1 << log_n)]
    return _out([[_eval(r, x) for x in pts] for r in _rows(rows)], rows.ndim == 1)
