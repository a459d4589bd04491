"""A data-parallel GKR for Poseidon2 (width 8) over B permutations at once
(zero-knowledge.md §5.2): what prover and verifier share.

Layers. V_0 = M_E X (X the (B, 8) input states), then one layer per round,

    V_{r+1}(b, j) = sum_k M_r[j, k] * s_{r,k}( V_r(b, k) + c_{r,k} ),

full rounds (4, 22 partial, 4) with s = x^7 on every lane and M_r = M_E,
partial rounds with s = x^7 on lane 0 only, c only on lane 0, M_r = M_I.
V_30 is the output. Lane k of layer r is a table over the B = 2^n
instances, A_{r,k}(b) = V_r(b, k) + c_{r,k}.

Claims. Every claim has the form "sum_j gamma_j V~_r(z, j) = v": a point z
over the instances and a lane combination gamma (the output claim on the
first 4 lanes takes gamma_j = eq(z_lane, j), 0 on lanes 4..7). One round,
from layer r + 1 back to layer r, is one sum-check over b:

    v = sum_b eq(z, b) sum_k m_k s_{r,k}(A_{r,k}(b)),   m = gamma^T M_r

(degree 8: eq times a seventh power; a partial round has one seventh power
and seven degree-2 terms, so every lane ends at the same point z'). The
sum-check leaves A~_{r,k}(z') for all k (eq(z, z') the verifier computes),
hence V~_r(z', k) = A~_{r,k}(z') - c_{r,k}; a fresh gamma' from the
transcript folds the eight into the next claim (a false value survives
with probability <= 1/|K|). After round 0 the claim on V_0 is one on X with
mu = gamma^T M_E, no sum-check needed. 30 sum-checks of n variables,
degree <= 8: soundness error <= 30 (8 n + 1) / |K| + 30 / |K|.

A caller that commits the partial rounds' S-box inputs may run rounds
4..25 as one sum-check instead (`gkr_block.py`, `gkr_prover.prove_blocked`):
9 sum-checks in all, for a small tree's per-round Python most of the cost.

Zero knowledge comes from the transcript's session like every other
sum-check of a proof (`zkaudit.sumcheck.zk`): the A values are padded and
Hidden, and claims may be Hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.field.constants import P as _P
from zkaudit.field.constants import W as _W
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2, _fp2
from zkaudit.hash.constants import EXTERNAL_FINAL, EXTERNAL_INITIAL, INTERNAL, M4, MATRIX_DIAG_8, WIDTH
from zkaudit.hash.reference import external_matrix, internal_matrix
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck.claim import Term

LABEL_GAMMA = b"hash/gkr/lane-combination"
NUM_ROUNDS = len(EXTERNAL_INITIAL) + len(INTERNAL) + len(EXTERNAL_FINAL)
SBOX_DEGREE = 7

M_E = external_matrix()
M_I = internal_matrix()


@dataclass(frozen=True)
class Round:
    full: bool
    constants: tuple[int, ...]  # c_{r,k}, k = 0..7 (zero on lanes 1..7 of a partial round)

    @property
    def matrix(self) -> list[list[int]]:
        return M_E if self.full else M_I


def _rounds() -> tuple[Round, ...]:
    out = [Round(True, tuple(rc)) for rc in EXTERNAL_INITIAL]
    out += [Round(False, (c,) + (0,) * (WIDTH - 1)) for c in INTERNAL]
    out += [Round(True, tuple(rc)) for rc in EXTERNAL_FINAL]
    return tuple(out)


ROUNDS = _rounds()


@dataclass(frozen=True)
class LaneClaim:
    """sum_j gamma_j V~(point, j) = value, for one layer (value Fp2 or Hidden)."""

    point: tuple[Fp2, ...]
    gamma: tuple[Fp2, ...]
    value: object


def through_matrix(gamma, matrix) -> list[Fp2]:
    """m = gamma^T M: the lane weights of the layer below a linear map, on
    plain ints by the matrices' structure (the verifier's 30 a proof):
    M_I = 1 1^T + diag(V) gives m_k = sum_j gamma_j + V_k gamma_k, and
    M_E = [[2 A, A], [A, 2 A]] (A = M4) gives each half of m as one 4 x 4
    product, (2 g_lo + g_hi) A and (g_lo + 2 g_hi) A. Any other matrix by
    its 64 products; `through_matrix_reference` is the Fp2 expression,
    tested equal."""
    g = [(x.c0, x.c1) for x in gamma]
    if matrix is M_I:
        s0, s1 = sum(a for a, _ in g), sum(b for _, b in g)
        return [_fp2((s0 + v * a) % _P, (s1 + v * b) % _P) for v, (a, b) in zip(MATRIX_DIAG_8, g)]
    if matrix is M_E:
        lo, hi = g[:4], g[4:]
        out = []
        for u, w in ((2, 1), (1, 2)):
            x = [(u * a + w * c, u * b + w * d) for (a, b), (c, d) in zip(lo, hi)]
            for k in range(4):
                out.append(_fp2(sum(a * row[k] for (a, _), row in zip(x, M4)) % _P,
                                sum(b * row[k] for (_, b), row in zip(x, M4)) % _P))
        return out
    out = []
    for k in range(WIDTH):
        a0 = a1 = 0
        for (x0, x1), row in zip(g, matrix):
            m = row[k] % _P
            a0 += x0 * m
            a1 += x1 * m
        out.append(_fp2(a0 % _P, a1 % _P))
    return out


def through_matrix_reference(gamma, matrix) -> list[Fp2]:
    return [sum((g * Fp2(matrix[j][k] % _P) for j, g in enumerate(gamma)), Fp2(0)) for k in range(WIDTH)]


def _round_shape(full: bool) -> tuple[tuple[int, ...], ...]:
    """The terms' tables of a round's sum-check: eq times sigma_k(A_k) per lane."""
    power = (1,) * SBOX_DEGREE
    shape = [(0,) + power]
    for k in range(1, WIDTH):
        shape.append((0,) + (k + 1,) * SBOX_DEGREE if full else (0, k + 1))
    return tuple(shape)


_SHAPES = {full: _round_shape(full) for full in (True, False)}


def round_spec(rnd: Round, m) -> SumOfProducts:
    """Tables [eq(z, .), A_0, ..., A_7]; the terms of one round's sum-check
    (`round_spec_reference`'s, built from a fixed shape and the Fp2 lane
    weights without `SumOfProducts.of`'s checks: 60 per proof, both sides)."""
    if not all(type(x) is Fp2 for x in m):
        return round_spec_reference(rnd, m)
    return SumOfProducts(WIDTH + 1, tuple(Term.trusted(c, t) for c, t in zip(m, _SHAPES[rnd.full])))


def round_spec_reference(rnd: Round, m) -> SumOfProducts:
    return SumOfProducts.of(WIDTH + 1, list(zip(m, _round_shape(rnd.full))))


def next_claim(values, rnd: Round, point, transcript) -> LaneClaim:
    """From the A values at z' to the claim on the layer below (shared
    arithmetic; values[k] = A~_{r,k}(z'), Fp2 or Hidden)."""
    gamma = transcript.challenge_exts(LABEL_GAMMA, WIDTH)
    return LaneClaim(tuple(point), tuple(gamma), lane_sum(gamma, values, rnd.constants))


def lane_sum(gamma, values, constants):
    """sum_k gamma_k (values_k - c_k) on plain ints, where every value is an
    Fp2 or a Hidden over bank entries no other value names and every gamma_k
    is nonzero (a zero-knowledge layer's padded values: one entry each):
    the constant summed, the terms scaled and sorted, no merging. Otherwise
    `lane_sum_reference`, the same form (tested)."""
    c0 = c1 = 0
    terms, hidden = [], False
    for g, v, c in zip(gamma, values, constants):
        g0, g1 = g.c0, g.c1
        if not (g0 or g1):
            return lane_sum_reference(gamma, values, constants)
        if type(v) is Hidden:
            hidden = True
            const = v.const
            for key, k in v.terms:
                terms.append((key, _fp2((g0 * k.c0 + _W * g1 * k.c1) % _P, (g0 * k.c1 + g1 * k.c0) % _P)))
        elif type(v) is Fp2:
            const = v
        else:
            return lane_sum_reference(gamma, values, constants)
        x0, x1 = const.c0 - c, const.c1
        c0 += g0 * x0 + _W * g1 * x1
        c1 += g0 * x1 + g1 * x0
    if not hidden:
        return _fp2(c0 % _P, c1 % _P)
    if len({key for key, _ in terms}) != len(terms):
        return lane_sum_reference(gamma, values, constants)
    terms.sort(key=lambda t: t[0])
    return Hidden._raw(_fp2(c0 % _P, c1 % _P), tuple(terms))


def lane_sum_reference(gamma, values, constants):
    total = None
    for g, v, c in zip(gamma, values, constants):
        term = g * (v - Fp2(c))
        total = term if total is None else total + term
    return total


def soundness_bits_lost(num_vars: int) -> float:
    """log2 of the soundness error's numerator: 30 sum-checks plus the folds."""
    import math

    return math.log2(NUM_ROUNDS * ((SBOX_DEGREE + 1) * max(num_vars, 1) + 2))
