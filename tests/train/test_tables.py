"""Sampler tables: exact construction, computed TV, and the samplers against
their ideal laws (chi-square over 10^6 rounded-Gaussian draws; geometric gaps
against Binomial(N, q) batch sizes)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from zkaudit.train import tables

ONE = 1 << 63


@pytest.fixture(scope="module")
def gauss():
    s = tables.noise_std_text(1024, 31, Fraction(1))
    return s, tables.rounded_gaussian(s)


def test_rounded_gaussian_table_shape_and_tv(gauss):
    s, t = gauss
    assert s.startswith("1029.5677")  # 1 * (1024 + sqrt(31))
    K = t.offset
    assert t.size == 2 * K + 1 == 19757  # the design's figure for sigma = 1, d = 31
    th = [int(v) for v in t.thresholds]
    assert th[-1] == ONE and all(a <= b for a, b in zip(th, th[1:]))
    # exactly symmetric: T_{-k-1} = 2^63 - T_k
    assert all(th[K - 1 - k] == ONE - th[K + k] for k in range(K))
    assert 1e-16 < t.tv < 4e-16  # computed, as the design's 3.3e-16
    # the far tails round to empty buckets (T_(k-1) = T_k), which no word reaches
    first = next(i for i, v in enumerate(th) if v > 0) - K
    assert t.draw(np.array([0, ONE - 1], np.uint64)).tolist() == [first, -first]
    assert -K < first < -9 * 1029
    lo, hi = t.interval(0)
    assert t.draw(np.array([lo, hi - 1], np.uint64)).tolist() == [0, 0]
    assert t.draw(np.array([hi], np.uint64))[0] == 1


def test_geometric_table_is_exact():
    Q, k, N = 604127268, 32, 455
    t = tables.geometric(Q, k, N)
    q = Fraction(Q, 1 << k)
    for g in (0, 1, 7, 100, 300):
        ideal = ONE * (1 - (1 - q) ** (g + 1))
        assert int(t.thresholds[g]) == ONE - ((ONE * (1 - q) ** (g + 1) + Fraction(1, 2)).__floor__())
        assert abs(int(t.thresholds[g]) - ideal) <= Fraction(1, 2)
    assert int(t.thresholds[N]) == ONE and t.size == N + 1
    assert t.tv < 1e-16


def test_sigmoid_table():
    sig = tables.sigmoid(8, 16, 2048)
    j = np.arange(-2048, 2048)
    ideal = 65536 / (1 + np.exp(-j / 256))
    assert np.max(np.abs(sig - ideal)) <= 0.5 + 1e-9
    assert sig[2048] == 32768 and np.all(np.diff(sig) >= 0)


def _chi_square(observed: np.ndarray, expected: np.ndarray, bins: int = 200) -> float:
    """p-value of Pearson's test over `bins` runs of consecutive values of about
    equal expected count (sparse tail cells merged into their neighbours)."""
    edges = np.searchsorted(np.cumsum(expected) / expected.sum(), np.linspace(0, 1, bins + 1)[1:-1])
    edges = np.unique(edges[(edges > 0) & (edges < len(expected))])  # reduceat needs increasing starts
    o = np.add.reduceat(observed, np.r_[0, edges])
    e = np.add.reduceat(expected, np.r_[0, edges])
    keep = e > 0
    return stats.chisquare(o[keep], e[keep] * o[keep].sum() / e[keep].sum()).pvalue


def test_rounded_gaussian_sampler_chi_square_over_a_million_draws(gauss):
    s, t = gauss
    rng = np.random.default_rng(2024)
    draws = t.draw(rng.integers(0, ONE, size=10 ** 6, dtype=np.uint64))
    observed = np.bincount(draws + t.offset, minlength=t.size).astype(float)
    pmf = tables.rounded_gaussian_pmf(t, s)
    assert abs(pmf.sum() - 1) < 1e-12
    # the table's own law is within its TV of the exact pmf
    assert 0.5 * np.abs(t.pmf().astype(float) / ONE - pmf).sum() <= t.tv + 1e-15
    p = _chi_square(observed, pmf * len(draws))
    assert p > 1e-3, p


def test_chi_square_catches_scaled_noise(gauss):
    """The test can fail: the same draws scaled by 0.97 (noise of a smaller s) are rejected."""
    s, t = gauss
    rng = np.random.default_rng(2024)
    draws = np.round(0.97 * t.draw(rng.integers(0, ONE, size=10 ** 6, dtype=np.uint64))).astype(np.int64)
    observed = np.bincount(draws + t.offset, minlength=t.size).astype(float)
    assert _chi_square(observed, tables.rounded_gaussian_pmf(t, s) * len(draws)) < 1e-6


def test_geometric_gaps_give_binomial_batch_sizes():
    """Poisson sampling by gaps: the number of live slots of a step is Binomial(N, q)."""
    Q, k, N, B = 604127268, 32, 455, 128
    t = tables.geometric(Q, k, N)
    q = Q / (1 << k)
    rng = np.random.default_rng(5)
    steps = 40_000
    gaps = t.draw(rng.integers(0, ONE, size=(steps, B + 1), dtype=np.uint64))
    index = np.cumsum(gaps + 1, axis=1) - 1
    assert np.all(index[:, B] >= N)  # no overflow at this B_max
    sizes = (index[:, :B] < N).sum(axis=1)
    observed = np.bincount(sizes, minlength=N + 1).astype(float)
    expected = stats.binom.pmf(np.arange(N + 1), N, q) * steps
    assert _chi_square(observed, expected) > 1e-3
    assert abs(sizes.mean() - N * q) < 4 * np.sqrt(N * q * (1 - q) / steps)
    # every record equally likely to be included (uniform marginal q)
    counts = np.zeros(N)
    for row, s in zip(index[:2000], sizes[:2000]):
        counts[row[:s]] += 1
    assert stats.chisquare(counts).pvalue > 1e-4
