"""The 22 partial rounds of the Poseidon2 GKR (`gkr.py`'s rounds 4..25) as
one sum-check, their lane-0 S-box inputs committed: what prover and
verifier share.

Why. The layered GKR spends one sequential masked sum-check per round, and
for the few hundred permutations of a small model's weight tree each costs
about a millisecond of per-round Python (transcript, mask, claim folding)
whatever the work. A partial round is affine but for one seventh power, so
once the 22 seventh powers' inputs are committed the whole block is one
identity between committed values and the layer below, checked by one
sum-check: 9 sequential sum-checks per tree instead of 30.

Block. Write x = V_4(b) (8 lanes) for instance b, and u_j(b) = V_{4+j}(b, 0)
+ c_{4+j,0} for the input of partial round j's S-box (j = 0..21), w_j = u_j^7.
A partial round maps V to M_I (V with lane 0 replaced by w), so by
induction, with public matrices computed once from the constants
(`BLOCK`, tested against the trace):

    u_j  = alpha_j . x + sum_{i<j} Gamma_{j,i} w_i + c'_j
    V_26 = A x + B w + e

U(b, j) = u_j(b) is committed (a table of 2^n x 32: lanes 22..31 are zero
in an honest table and enter no check, so they are irrelevant).

Protocol. From a claim sum_k gamma_k V~_26(z, k) = v, the verifier draws
lambda and mu; lambda_j = lambda^j. The prover proves by one sum-check over
b (degree 8, n variables)

    v - gamma.e + mu lambda.c' = sum_b eq(z, b) [ m . x(b)
        + sum_j q_j U_j(b)^7 + mu lambda_j U_j(b) ],
    m = gamma^T A - mu lambda^T alpha,  q = gamma^T B - mu lambda^T Gamma,

which ends at a point z' in x_k(z') (8 values) and U_j(z') (22 values); the
verifier computes eq(z, z') itself. The prover sends U~(z', j) for the ten
lanes j >= 22, a random rho over the lane bits makes the 32 one claim
U~(z', rho) = sum_j eq(rho, j) U~(z', j) for the commitment, and a fresh
gamma' (`gkr.next_claim`) makes the eight x values the claim on V_4.

Soundness. Let C_j(b) = U_j(b) - alpha_j . x(b) - sum_i Gamma_{j,i} U_i(b)^7
- c'_j, a table fixed before any challenge (U is committed, x a function of
the committed inputs). The sum equals gamma . V~'_26(z) + mu C~_lambda(z),
where V'_26 = A x + B U^7 + e is V_26 computed from U and C_lambda =
sum_j lambda_j C_j. If C is not zero, C~_lambda(z) = 0 has probability at
most 21/|K| over lambda and n/|K| over z (drawn before lambda, after U),
and then v, fixed before mu, matches for at most one mu (1/|K|). If C is
zero, U holds the honest S-box inputs, V'_26 = V_26, and this is the
layer's usual GKR reduction: the sum-check (8 n / |K|) and the two lane
combinations (1/|K| each, rho's 5/|K|). In all, with the eight full rounds'
sum-checks: 9 sum-checks of n variables, degree <= 8, plus (n + 30)/|K|.

Zero knowledge as every sum-check of a proof: the finals and the ten sent
lane values are padded from the bank; U is hidden in the advice commitment.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkaudit.field.constants import P as _P
from zkaudit.field.scalar import Fp2, _fp2
from zkaudit.hash.constants import INTERNAL, WIDTH
from zkaudit.hash.gkr import M_I, ROUNDS, SBOX_DEGREE, LaneClaim, Round, next_claim
from zkaudit.sumcheck import SumOfProducts
from zkaudit.sumcheck.claim import Term

NUM_PARTIAL = len(INTERNAL)  # 22
FIRST_PARTIAL = next(i for i, r in enumerate(ROUNDS) if not r.full)  # 4
AFTER_PARTIAL = FIRST_PARTIAL + NUM_PARTIAL  # 26
LANE_VARS = (NUM_PARTIAL - 1).bit_length()  # 5: the committed table's lane bits
LANES = 1 << LANE_VARS  # 32
NUM_SUMCHECKS = len(ROUNDS) - NUM_PARTIAL + 1  # 8 full rounds and the block
LABEL_LAMBDA = b"hash/gkr-block/lambda"
LABEL_MU = b"hash/gkr-block/mu"
LABEL_RHO = b"hash/gkr-block/lane-point"

# tables of the block's sum-check: eq(z, .), x_0..x_7, U_0..U_21
EQ, X0, U0 = 0, 1, 1 + WIDTH
NUM_TABLES = U0 + NUM_PARTIAL


@dataclass(frozen=True)
class BlockMaps:
    """The block's affine maps as plain ints mod p: row j of alpha (8) and
    Gamma (22, zero from column j on) and c'_j; A (8 x 8), B (8 x 22), e (8)."""

    alpha: tuple[tuple[int, ...], ...]
    gamma: tuple[tuple[int, ...], ...]
    c: tuple[int, ...]
    a: tuple[tuple[int, ...], ...]
    b: tuple[tuple[int, ...], ...]
    e: tuple[int, ...]


def _block_maps() -> BlockMaps:
    """Run the 22 partial rounds on affine forms over (x_0..x_7, w_0..w_21, 1)."""
    size = WIDTH + NUM_PARTIAL + 1
    const = size - 1

    def unit(i):
        f = [0] * size
        f[i] = 1
        return f

    state = [unit(k) for k in range(WIDTH)]
    us = []
    for j in range(NUM_PARTIAL):
        rnd = ROUNDS[FIRST_PARTIAL + j]
        u = list(state[0])
        u[const] = (u[const] + rnd.constants[0]) % _P
        us.append(u)
        state[0] = unit(WIDTH + j)
        state = [[sum(M_I[r][k] * state[k][i] for k in range(WIDTH)) % _P for i in range(size)]
                 for r in range(WIDTH)]
    return BlockMaps(
        alpha=tuple(tuple(u[:WIDTH]) for u in us),
        gamma=tuple(tuple(u[WIDTH: WIDTH + NUM_PARTIAL]) for u in us),
        c=tuple(u[const] for u in us),
        a=tuple(tuple(s[:WIDTH]) for s in state),
        b=tuple(tuple(s[WIDTH: WIDTH + NUM_PARTIAL]) for s in state),
        e=tuple(s[const] for s in state),
    )


BLOCK = _block_maps()


def _lin(coeffs, rows, width: int) -> list[tuple[int, int]]:
    """sum_r coeffs_r rows_r (Fp2 coefficients, int rows) as int pairs."""
    out0, out1 = [0] * width, [0] * width
    for c, row in zip(coeffs, rows):
        c0, c1 = c.c0, c.c1
        for i, v in enumerate(row):
            if v:
                out0[i] += c0 * v
                out1[i] += c1 * v
    return [(a % _P, b % _P) for a, b in zip(out0, out1)]


@dataclass(frozen=True)
class BlockCoefficients:
    """One block sum-check's public numbers: m, q (Fp2 lists), p_j = mu lambda_j
    and the shift of the claim, gamma.e - mu lambda.c'."""

    m: tuple[Fp2, ...]
    q: tuple[Fp2, ...]
    p: tuple[Fp2, ...]
    shift: Fp2


def coefficients(gamma, lam: Fp2, mu: Fp2) -> BlockCoefficients:
    """m, q, p and the shift from the claim's lane combination and the two
    challenges (plain-int arithmetic; `coefficients_reference` in Fp2, tested)."""
    lams = [Fp2(1)]
    for _ in range(NUM_PARTIAL - 1):
        lams.append(lams[-1] * lam)
    ml = [mu * x for x in lams]
    ga = _lin(gamma, BLOCK.a, WIDTH)
    gb = _lin(gamma, BLOCK.b, NUM_PARTIAL)
    la = _lin(ml, BLOCK.alpha, WIDTH)
    lg = _lin(ml, BLOCK.gamma, NUM_PARTIAL)
    m = tuple(_fp2((a0 - b0) % _P, (a1 - b1) % _P) for (a0, a1), (b0, b1) in zip(ga, la))
    q = tuple(_fp2((a0 - b0) % _P, (a1 - b1) % _P) for (a0, a1), (b0, b1) in zip(gb, lg))
    ge0 = sum(g.c0 * v for g, v in zip(gamma, BLOCK.e))
    ge1 = sum(g.c1 * v for g, v in zip(gamma, BLOCK.e))
    lc0 = sum(x.c0 * v for x, v in zip(ml, BLOCK.c))
    lc1 = sum(x.c1 * v for x, v in zip(ml, BLOCK.c))
    return BlockCoefficients(m, q, tuple(ml), _fp2((ge0 - lc0) % _P, (ge1 - lc1) % _P))


def coefficients_reference(gamma, lam: Fp2, mu: Fp2) -> BlockCoefficients:
    lams = [Fp2(1)]
    for _ in range(NUM_PARTIAL - 1):
        lams.append(lams[-1] * lam)
    ml = [mu * x for x in lams]

    def dot(cs, col):
        return sum((c * Fp2(v) for c, v in zip(cs, col)), Fp2(0))

    m = tuple(dot(gamma, [row[k] for row in BLOCK.a]) - dot(ml, [row[k] for row in BLOCK.alpha])
              for k in range(WIDTH))
    q = tuple(dot(gamma, [row[j] for row in BLOCK.b]) - dot(ml, [row[j] for row in BLOCK.gamma])
              for j in range(NUM_PARTIAL))
    return BlockCoefficients(m, q, tuple(ml), dot(gamma, BLOCK.e) - dot(ml, BLOCK.c))


def _shape() -> tuple[tuple[int, ...], ...]:
    out = [(EQ, X0 + k) for k in range(WIDTH)]
    out += [(EQ,) + (U0 + j,) * SBOX_DEGREE for j in range(NUM_PARTIAL)]
    out += [(EQ, U0 + j) for j in range(NUM_PARTIAL)]
    return tuple(out)


_SHAPE = _shape()


def block_spec(co: BlockCoefficients) -> SumOfProducts:
    """Tables [eq(z, .), x_0..x_7, U_0..U_21]; terms m_k eq x_k, q_j eq U_j^7,
    p_j eq U_j (a zero coefficient is kept: the shape is fixed)."""
    coeffs = co.m + co.q + co.p
    return SumOfProducts(NUM_TABLES, tuple(Term.trusted(c, t) for c, t in zip(coeffs, _SHAPE)))


def block_spec_reference(co: BlockCoefficients) -> SumOfProducts:
    return SumOfProducts.of(NUM_TABLES, list(zip(co.m + co.q + co.p, _SHAPE)))


def draw(transcript, num_vars: int) -> tuple[Fp2, Fp2]:
    """lambda, mu: after the claim on V_26 (its point z and value) is fixed.
    Charges what the default per-challenge degree does not cover: lambda
    enters with degree 21, and z, drawn for the layer above, serves again as
    the zero-check's point (num_vars / |K|)."""
    import math

    lam, mu = transcript.challenge_ext(LABEL_LAMBDA), transcript.challenge_ext(LABEL_MU)
    transcript.charge("Poseidon2 partial-round block: lambda's powers and the zero-check at z",
                      math.log2(NUM_PARTIAL - 1 + max(num_vars, 1)) - 2 * math.log2(_P))
    return lam, mu


_NO_CONSTANTS = Round(True, (0,) * WIDTH)


def below_claim(x_values, point, transcript) -> LaneClaim:
    """The claim on V_4 from x_k(z') (a fresh gamma', `gkr.next_claim`; V_4 carries no constants)."""
    return next_claim(x_values, _NO_CONSTANTS, point, transcript)


def lane_point(transcript) -> list[Fp2]:
    """rho over the committed table's 5 lane bits (after the ten lanes j >= 22 are sent)."""
    return transcript.challenge_exts(LABEL_RHO, LANE_VARS)


def lane_claim_value(rho, lane_values):
    """U~(z', rho) = sum_j eq(rho, j) u_j over the 32 lanes (rho's bits MSB first)."""
    from zkaudit.poly.mle import eq_table

    e = eq_table(list(rho))
    total = None
    for (a, b), v in zip(e.tolist(), lane_values):
        term = Fp2(int(a), int(b)) * v
        total = term if total is None else total + term
    return total
