"""Prover side of the hiding opening's column check (protocol in
`column_check.py`): the column vector V of the eq-weighted claim terms and
the sum-check of sum_x u~(x) V(x)."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.pcs import column_check
from zkaudit.pcs import kernels as k
from zkaudit.pcs.hiding import Term, col_vector
from zkaudit.pcs.pair_sumcheck import prove_pairs
from zkaudit.transcript import Transcript

U64 = np.uint64
_ONE = Fp2(1)


def column_vector(flat: list[Term], groups: list[list[int]], coeffs: list[Fp2], powers: np.ndarray,
                  m: int) -> np.ndarray:
    """V = sum over eq-weighted terms t of lambda^G(t) s_t eq(X_t, .), (m, 2)
    (`column_check`; s_t = c_t in a shared group, 1 for a lone term): each
    term's eq table over its block only (`kernels.block_points`,
    `kernels.scatter_eq_blocks`). `column_vector_reference` sums full eq tables."""
    eq_at, scaled = _column_terms(flat, groups, coeffs, powers)
    out = np.zeros((m, 2), dtype=U64)
    if eq_at:
        starts, log_sizes, points = k.block_points([flat[i].col_point for i in eq_at], m.bit_length() - 1)
        k.scatter_eq_blocks(starts, log_sizes, points, scaled, out)
    return out


def _column_terms(flat, groups, coeffs, powers) -> tuple[list[int], np.ndarray]:
    """The eq-weighted terms and each one's lambda^G(t) s_t, (T, 2)."""
    factor: dict[int, Fp2] = {}
    for g, members in enumerate(groups):
        lam = Fp2(int(powers[g, 0]), int(powers[g, 1]))
        for i in members:
            if flat[i].col_point is not None:
                factor[i] = lam * coeffs[i] if len(members) > 1 else lam
    eq_at = sorted(factor)
    return eq_at, np.array([(factor[i].c0, factor[i].c1) for i in eq_at], dtype=U64).reshape(len(eq_at), 2)


def column_vector_reference(flat, groups, coeffs, powers, m: int) -> np.ndarray:
    out = np.zeros((m, 2), dtype=U64)
    eq_at, scaled = _column_terms(flat, groups, coeffs, powers)
    for i, (a, b) in zip(eq_at, scaled.tolist()):
        out = vec.add(out, vec.scale(Fp2(a, b), col_vector(flat[i], m)))
    return out


def prove_column_check(flat: list[Term], groups: list[list[int]], coeffs: list[Fp2], data_row: np.ndarray,
                       transcript: Transcript):
    """The column check's sum-check of sum_x u~(x) V(x) (`column_check`)."""
    lam = transcript.challenge_ext(column_check.LABEL_LAMBDA)
    powers = column_check.ext_powers(lam, len(groups))
    v = column_vector(flat, groups, coeffs, powers, data_row.shape[0])
    target = vec.inner(data_row, v)
    sc, _ = prove_pairs([data_row, v], [_ONE], transcript, claimed_sum=target)
    return sc
