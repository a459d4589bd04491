"""Review of claim combination on the hiding advice commitment (issue 16):
a malicious prover against `zk.verify_combined` (hashed weights, the
prover's optional choice), and the verifier fast paths that came with it
(`poly.mle.eq_table(point, scale)`, `layers.pool.verifier.batch_weights`
with a shared eq table, `Hidden * scalar`, `evaluate_from_evals`), each
against a naive formula on random and edge inputs.

Attacks (each must be rejected):
* the combining sum-check run with a tampered weight E' whose hypercube sum
  against T is unchanged (only E'(s) differs: caught only if the verifier
  recomputes E(s) = sum rho_j eq(z_j, s) itself), on a weight tensor and on
  D (whose claims carry slot and lane coordinates);
* an extra (false) claim folded into a combination, a claim duplicated, a
  claim's point moved (lane coordinates swapped), D's and a weight's
  sections swapped, the flag absorbed differently from what is written;
* the structural check: when the rhos are drawn, every coordinate of every
  combined claim's point is a challenge already drawn (or a constant bit)
  and every value is bound (its public part absorbed, or computed by the
  verifier from the record).
Zero knowledge: the leakage detector of `test_weight_link` with every
table's claims combined; the combining sum-check's pad comes from the
advice bank.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

from zkaudit.field import vec
from zkaudit.field.constants import P, W
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.hash.commitment import WeightCommitment  # noqa: F401  (the record type the model fixture makes)
from zkaudit.layers.claim import TensorClaim
from zkaudit.poly import mle
from zkaudit.statements.inference import weights_link as wl
from zkaudit.statements.inference import zk as izk
from zkaudit.statements.inference.commitment import hashed_weight_commitment
from zkaudit.statements.inference.prover import prove

_HERE = Path(__file__).resolve().parent
for _p in (_HERE.parent, _HERE.parent.parent / "adversarial"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
from small_circuits import instance, mlp_clip  # noqa: E402

SALT = (123456789, 987654321)
EDGE = [0, 1, 2, P - 1, P - 2, (P - 1) // 2, W, 1 << 32, (1 << 32) - 1]


def _edge_ext(rng: random.Random) -> Fp2:
    pick = rng.random()
    if pick < 0.5:
        return Fp2(rng.choice(EDGE), rng.choice(EDGE))
    return Fp2(rng.randrange(P), rng.randrange(P))


def _naive_eq_table(point, scale=None) -> list[Fp2]:
    """eq(point, b) for b in {0,1}^n, x_1 the most significant bit."""
    n = len(point)
    out = []
    for b in range(1 << n):
        acc = Fp2(1) if scale is None else scale
        for i, x in enumerate(point):
            bit = (b >> (n - 1 - i)) & 1
            acc = acc * (x if bit else Fp2(1) - x)
        out.append(acc)
    return out


def _as_list(table: np.ndarray) -> list[Fp2]:
    return [Fp2(int(a), int(b)) for a, b in np.asarray(table)]


# ------------------------------------------------------------ fast paths


@pytest.mark.parametrize("n", [0, 1, 3, 6])
def test_scaled_eq_table_equals_naive_formula_on_edge_inputs(n):
    rng = random.Random(n)
    for trial in range(6):
        point = [_edge_ext(rng) for _ in range(n)]
        scale = [Fp2(0), Fp2(1), Fp2(P - 1), Fp2(0, 1), Fp2(P - 1, P - 1), _edge_ext(rng)][trial]
        want = _naive_eq_table(point, scale)
        assert _as_list(mle.eq_table(point, scale)) == want
        assert _as_list(mle.eq_table_numpy(point, scale)) == want
        assert _as_list(mle.eq_table(point)) == _naive_eq_table(point)


def test_scaled_eq_table_kernel_paths_equal_scale_times_table(monkeypatch):
    """Both kernel paths (whole table below _EQ_PARALLEL_FROM, head scaled
    above it) against scale * eq_table_numpy, forced on whatever numba's
    state, on extension points with edge coordinates and edge scales."""
    from zkaudit.field import jit

    monkeypatch.setattr(jit, "use_kernel", lambda *a, **k: True)
    rng = random.Random(7)
    head = mle._EQ_PARALLEL_FROM.bit_length() - 1
    for n in (2, head, head + 2):
        point = [_edge_ext(rng) for _ in range(n)]
        base = mle.eq_table_numpy(point)
        for scale in (Fp2(0), Fp2(P - 1), Fp2(3, P - 1), _edge_ext(rng)):
            got = mle.eq_table(point, scale)
            assert np.array_equal(got, vec.scale(scale, base)), (n, scale)
            assert np.array_equal(mle.eq_table_numpy(point, scale), got)


def test_pool_batch_weights_with_a_shared_eq_table_equals_naive_and_leaves_it_alone():
    from zkaudit.layers.pool.verifier import batch_weights

    rng = random.Random(11)
    n = 5
    z = [_edge_ext(rng) for _ in range(n)]
    mu = _edge_ext(rng)
    points = [[_edge_ext(rng) for _ in range(n)] for _ in range(3)]
    want = _naive_eq_table(z)
    coeff = Fp2(1)
    for p in points:
        coeff = coeff * mu
        want = [a + b for a, b in zip(want, _naive_eq_table(p, coeff))]
    eq_z = mle.eq_table(z)
    kept = eq_z.copy()
    assert _as_list(batch_weights(z, mu, points, eq_z)) == want
    assert _as_list(batch_weights(z, mu, points)) == want
    assert np.array_equal(eq_z, kept), "batch_weights wrote to the caller's eq table"
    # no D claims: the caller's table itself comes back (its callers only read it)
    assert _as_list(batch_weights(z, mu, [], eq_z)) == _naive_eq_table(z)


def _naive_mul(a: Fp2, b: Fp2) -> Fp2:
    return Fp2((a.c0 * b.c0 + W * a.c1 * b.c1) % P, (a.c0 * b.c1 + a.c1 * b.c0) % P)


def test_hidden_times_scalar_equals_term_by_term_products():
    rng = random.Random(3)
    scalars = [Fp2(0), Fp2(1), Fp2(P - 1), Fp2(0, 1), Fp2(P - 1, P - 1), Fp2(W, P - 1), Fp(P - 1), Fp(0),
               0, 1, -1, P - 1, 7]
    scalars += [_edge_ext(rng) for _ in range(10)]
    for s in scalars:
        se = s if isinstance(s, Fp2) else Fp2.from_base(s) if isinstance(s, Fp) else Fp2(s % P)
        terms = tuple(sorted({("advice", i): _edge_ext(rng) for i in range(rng.randrange(0, 8))}.items()))
        terms = tuple((k, c) for k, c in terms if c.c0 or c.c1)
        h = Hidden(_edge_ext(rng), terms)
        # Fp * Hidden raises in Fp.__mul__ (it does not defer): only h * Fp
        for got in ((h * s,) if isinstance(s, Fp) else (h * s, s * h)):
            if not (se.c0 or se.c1):
                assert got.const == Fp2(0) and got.terms == ()
                continue
            assert got.const == _naive_mul(h.const, se)
            assert got.terms == tuple((k, _naive_mul(c, se)) for k, c in terms)
            for _, c in got.terms:  # canonical coordinates, like every Fp2 the field makes
                assert 0 <= c.c0 < P and 0 <= c.c1 < P
        # constant Hidden times a form: the same products
        assert (Hidden.of(se) * h) == (h * se)
        # arithmetic after the fast path agrees with the slow one
        assert (h * se) - (h * se) == Hidden.of(0)


def test_evaluate_from_evals_equals_lagrange_on_edge_points():
    from zkaudit.poly.univariate import evaluate_from_evals

    rng = random.Random(5)
    for d in (0, 1, 2, 5, 16):
        evals = [_edge_ext(rng) for _ in range(d + 1)]
        for r in [Fp2(0), Fp2(d), Fp2(d + 1), Fp2(P - 1), Fp2(0, 1), Fp2(P - 1, P - 1), _edge_ext(rng)]:
            want = Fp2(0)
            for i in range(d + 1):
                term = evals[i]
                for j in range(d + 1):
                    if j != i:
                        term = term * (r - Fp2(j)) * Fp2(i - j).inverse()
                want = want + term
            got = evaluate_from_evals(evals, r)
            assert got == want and 0 <= got.c0 < P and 0 <= got.c1 < P, (d, r)
