"""The hiding opening's column check: the batching sum-check's final values
W_G(rho) checked against the evaluation row through one more sum-check
instead of one inner product per claim term (shared by prover and verifier).

After the batching sum-check the verifier holds, per row group G, the
prover's value W_G(rho) = sum_(t in G) s_t <w_t, u> (u = u_z[:m], the
evaluation row's message part, m = 2^n columns; s_t the term's scale in its
group, see `hiding_groups`). A term's column vector w_t is either explicit
(weighted entries, a dense block: the verifier reads those columns of u
itself) or eq(X_t, .) for a column point X_t (an evaluation claim). The
eq-weighted inner products are the expensive part: <eq(X_t, .), u> costs the
size of the term's block, 6.1 M field products for 2,374 claims of a
two-layer transformer, which was most of its verification. They are
linear in u, so the verifier checks them all at once:

    1. u is absorbed; lambda <- K.
    2. target = sum_G lambda^G (W_G(rho) - direct_G),  direct_G the explicit
       terms' part of group G, which the verifier computes from u.
    3. a plain degree-2 sum-check (`pair_sumcheck`, one pair) of
           sum_(x in {0,1}^n) u~(x) V(x) = target,
           V = sum_(t eq-weighted) lambda^G(t) s_t eq(X_t, .),
       ending at a point sigma with the claimed values (u~(sigma), V~(sigma)).
    4. the verifier computes u~(sigma) from u (2^n work) and
           V~(sigma) = sum_t lambda^G(t) s_t eq(X_t, sigma)
       in O(n) per term (`eq_sum_at`), and compares both.

Soundness: if some W_G(rho) is not the value u gives, the left side of 2 is
a nonzero polynomial in lambda of degree < #groups: it survives lambda with
probability below #groups / |K|; the sum-check adds 2 n / |K|
(`soundness_terms`). Zero knowledge: every message of 3 is a function of u
and of public values (lambda, the claims' points and coefficients), and u
is revealed already (blinded by b_z, `hiding.py`): a simulator holding u
computes them, so nothing more leaks.

**Small blocks: no column sum-check.** Each eq-weighted term folds only its
block of u: 2^k entries for k coordinates after the point's leading 0/1
ones (`block_entries`, `kernels.block_points`). When the terms' blocks hold
at most DIRECT_UP_TO entries in all (a public rule: the points and the
layout are public), the verifier computes every W_G(rho) from u itself and
compares, and the opening carries no column sum-check (`direct`). That is
exact (no lambda, no sum-check: no error term) and sends nothing. Measured
on the zoo's logistic model (92 terms, 505 entries): the prover's column
sum-check was 2.2 ms of a 37 ms proof; the verifier's check 1.25 ms
against ~1.0 ms for the direct sums (most of it the explicit terms' part,
which the check computes too); 328 bytes. The next zoo models up,
clinical_mlp_qdq and clinical_mlp, have 2,606 and 2,712 entries (the
direct sums would cost their verifiers about what the check costs): they
keep the sum-check.
"""

from __future__ import annotations

import math

import numpy as np

from zkaudit.field import npfield as nf
from zkaudit.field.constants import EXT_BITS, P, W
from zkaudit.field.scalar import Fp2, _fp2

U64 = np.uint64
LABEL_LAMBDA = b"pcs/hiding/column-lambda"
WHERE = "pcs/hiding/column check"


def ext_powers(gamma: Fp2, count: int) -> np.ndarray:
    """(count, 2) array of gamma^0 .. gamma^(count - 1), by doubling: count
    numpy products in log2(count) steps."""
    out = np.zeros((count, 2), dtype=U64)
    if count:
        out[0, 0] = 1
    done, step = 1, np.array([gamma.c0, gamma.c1], dtype=U64)  # step = gamma^done
    while done < count:
        take = min(done, count - done)
        out[done : done + take] = nf.ext_mul(out[:take], step)
        step = nf.ext_mul(step, step)
        done += take
    return out


def full_points(starts: np.ndarray, log_sizes: np.ndarray, rest: np.ndarray, n: int) -> np.ndarray:
    """(T, n, 2) column points X_t from a block form: the block of 2^k_t
    columns starting at starts[t] (aligned), whose address is X_t's first
    n - k_t coordinates (0/1, most significant first), then rest[t, :k_t]
    (`kernels.block_points`' form: rest zero-padded to n coordinates)."""
    starts = np.asarray(starts, dtype=np.int64)
    log_sizes = np.asarray(log_sizes, dtype=np.int64)
    count = starts.shape[0]
    j = np.arange(n, dtype=np.int64)
    prefix = n - log_sizes  # coordinates of the block address
    in_prefix = j[None, :] < prefix[:, None]
    bits = (starts[:, None] >> (n - 1 - j)[None, :]) & 1
    take = np.clip(j[None, :] - prefix[:, None], 0, n - 1)
    tail = np.take_along_axis(np.asarray(rest, dtype=U64).reshape(count, n, 2), take[:, :, None], axis=1)
    out = np.empty((count, n, 2), dtype=U64)
    out[:, :, 0] = np.where(in_prefix, bits.astype(U64), tail[:, :, 0])
    out[:, :, 1] = np.where(in_prefix, U64(0), tail[:, :, 1])
    return out


def points_array(col_points, n: int | None = None) -> np.ndarray:
    """(T, n, 2) from column points given as sequences of Fp2 (Term.col_point);
    n is needed only when there are none."""
    words = [[(x.c0, x.c1) for x in p] for p in col_points]
    if not words:
        return np.zeros((0, n or 0, 2), dtype=U64)
    return np.array(words, dtype=U64).reshape(len(words), -1, 2)


def eq_factors(points: np.ndarray, sigma) -> np.ndarray:
    """(T, n, 2): per term and coordinate the factor (1 - sigma_j) + x_tj (2 sigma_j - 1)
    of eq(X_t, sigma), as one product over all T n entries."""
    count, n = points.shape[0], points.shape[1]
    slopes, rests = [s + s - Fp2(1) for s in sigma], [Fp2(1) - s for s in sigma]
    slope = np.array([(v.c0, v.c1) for v in slopes], dtype=U64).reshape(n, 2)
    one_minus = np.array([(v.c0, v.c1) for v in rests], dtype=U64).reshape(n, 2)
    x = np.ascontiguousarray(points, dtype=U64).reshape(count * n, 2)
    return nf.add(nf.ext_mul(x, np.tile(slope, (count, 1))), np.tile(one_minus, (count, 1))).reshape(count, n, 2)


# Up to this many coordinates (terms x n) `eq_sum_at` runs on Python ints
# (`_eq_sum_at_ints`). Measured on the zoo's logistic model, 92 terms of 8
# coordinates: 0.6 ms on arrays (each of ~6 array products is ~85 numpy
# operations, ~1 us apiece whatever the size), 0.1 ms on ints, where equal
# points and shared prefixes (a block's address bits) are multiplied once.
INTS_UP_TO = 2048


def eq_sum_at(points: np.ndarray, coeffs: np.ndarray, sigma) -> Fp2:
    """sum_t coeffs[t] eq(points[t], sigma). A verifier's few hundred terms
    on ints (`_eq_sum_at_ints`); more as arrays: the T n factors in one
    product, then each term's n factors multiplied pairwise in log2(n)
    halvings (6 array products instead of 2 n). The per-coordinate loop is
    `eq_sum_at_reference`."""
    count = points.shape[0]
    if count == 0:
        return Fp2(0)
    if count * points.shape[1] <= INTS_UP_TO:
        return _eq_sum_at_ints(points, coeffs, sigma)
    return _eq_sum_at_arrays(points, coeffs, sigma)


def _eq_sum_at_arrays(points: np.ndarray, coeffs: np.ndarray, sigma) -> Fp2:
    """`eq_sum_at` as array products (count >= 1)."""
    count = points.shape[0]
    acc = eq_factors(points, sigma)
    while acc.shape[1] > 1:
        if acc.shape[1] % 2:  # an odd count: the last factor waits for the next halving
            last = acc[:, -1:, :]
            acc = acc[:, :-1, :]
        else:
            last = None
        h = acc.shape[1] // 2
        acc = nf.ext_mul(acc[:, :h, :], acc[:, h:, :])
        if last is not None:
            acc = np.concatenate([acc, last], axis=1)
    coeffs = np.ascontiguousarray(coeffs, dtype=U64).reshape(count, 2)
    if acc.shape[1] == 1:
        coeffs = nf.ext_mul(coeffs, np.ascontiguousarray(acc[:, 0, :]))
    a, b = nf.ext_sum(coeffs)
    return _fp2(int(a), int(b))


def _eq_sum_at_ints(points: np.ndarray, coeffs: np.ndarray, sigma) -> Fp2:
    """`eq_sum_at` on Python ints. Terms at one point are merged (their
    coefficients added) and the running products over each point's leading
    coordinates are kept in a trie, so a prefix shared by many points (the
    address bits of a table's block) is multiplied once. A Boolean
    coordinate's factor is 1 - sigma_j or sigma_j itself, no product."""
    count, n = points.shape[0], points.shape[1]
    zero_f = [((1 - s.c0) % P, -s.c1 % P) for s in sigma]  # factor at x_j = 0
    one_f = [(s.c0, s.c1) for s in sigma]  # at x_j = 1
    slope = [((2 * s.c0 - 1) % P, 2 * s.c1 % P) for s in sigma]  # f_j(x) = f_j(0) + x (2 sigma_j - 1)
    merged: dict[tuple, list[int]] = {}
    for row, (c0, c1) in zip(np.ascontiguousarray(points, dtype=U64).reshape(count, 2 * n).tolist(),
                             np.ascontiguousarray(coeffs, dtype=U64).reshape(count, 2).tolist()):
        key = tuple(row)
        got = merged.get(key)
        if got is None:
            merged[key] = [c0, c1]
        else:
            got[0] += c0
            got[1] += c1
    trie: dict = {}
    t0 = t1 = 0
    for key, (c0, c1) in merged.items():
        a0, a1, node = 1, 0, trie
        for j in range(n):
            x0, x1 = key[2 * j], key[2 * j + 1]
            child = node.get((x0, x1))
            if child is None:
                if x1 == 0 and x0 < 2:
                    f0, f1 = (one_f if x0 else zero_f)[j]
                else:
                    s0, s1 = slope[j]
                    z0, z1 = zero_f[j]
                    f0, f1 = (z0 + x0 * s0 + W * x1 * s1) % P, (z1 + x0 * s1 + x1 * s0) % P
                child = ((a0 * f0 + W * a1 * f1) % P, (a0 * f1 + a1 * f0) % P, {})
                node[(x0, x1)] = child
            a0, a1, node = child
        t0 += c0 * a0 + W * c1 * a1
        t1 += c0 * a1 + c1 * a0
    return _fp2(t0 % P, t1 % P)


def eq_sum_at_reference(points: np.ndarray, coeffs: np.ndarray, sigma) -> Fp2:
    """`eq_sum_at` one coordinate at a time: n vector products over the terms."""
    count = points.shape[0]
    if count == 0:
        return Fp2(0)
    acc = np.ascontiguousarray(coeffs, dtype=U64).reshape(count, 2)
    for j, s in enumerate(sigma):
        one_minus = Fp2(1) - s
        slope = s + s - Fp2(1)
        x = np.ascontiguousarray(points[:, j, :])
        factor = nf.add(nf.ext_mul(x, np.array([slope.c0, slope.c1], dtype=U64)),
                        np.array([one_minus.c0, one_minus.c1], dtype=U64))
        acc = nf.ext_mul(acc, factor)
    a, b = nf.ext_sum(acc)
    return _fp2(int(a), int(b))


# The most block entries (all eq-weighted terms together) whose values the
# verifier computes itself instead of the column sum-check (module docstring).
DIRECT_UP_TO = 2048


def block_entries(points: np.ndarray) -> int:
    """sum_t 2^(n - a_t) for points (T, n, 2), a_t the number of leading
    coordinates of X_t that are 0 or 1: the entries of u the terms' blocks
    hold (`kernels.block_points`)."""
    count, n = points.shape[0], points.shape[1]
    if count == 0:
        return 0
    x = np.ascontiguousarray(points, dtype=U64).reshape(count, n, 2)
    boolean = (x[:, :, 1] == 0) & (x[:, :, 0] < 2)
    leading = np.cumprod(boolean, axis=1).sum(axis=1)
    return int(np.sum(np.left_shift(np.int64(1), (n - leading).astype(np.int64))))


def direct(points: np.ndarray) -> bool:
    """True when the eq-weighted terms at these column points (T, n, 2) are
    checked by direct sums, with no column sum-check (module docstring)."""
    return block_entries(points) <= DIRECT_UP_TO


def soundness_terms(num_groups: int, log_cols: int, *, direct: bool = False) -> list[float]:
    """log2 of the error terms of the column check (module docstring);
    none for direct sums."""
    if direct:
        return []
    out = [math.log2(2 * log_cols) - EXT_BITS]
    if num_groups > 1:
        out.append(math.log2(num_groups - 1) - EXT_BITS)
    return out
