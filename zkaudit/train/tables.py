"""Public lookup tables of the DP-SGD semantics, exact and digested.

CDT sampling (cumulative distribution table, inversion): a table is an
increasing array T_0 <= ... <= T_{n-1} = 2^63 of integers, and a uniform
63-bit word u in [0, 2^63) draws

    index(u) = the k with T_{k-1} <= u < T_k        (T_{-1} = 0)

which the circuit proves as one table lookup of (k, T_{k-1}, T_k) plus
R_63(u - T_{k-1}) and R_63(T_k - 1 - u) (gadget G7). The probability of k is
(T_k - T_{k-1}) / 2^63 exactly, so the distance to the ideal distribution is
computed, not assumed (`tv`), and goes into delta.

* Rounded Gaussian round(N(0, s^2)) on [-K, K]: with L_k = round(2^63 *
  Phi(-(k + 1/2) / s)) (the mass above k + 1/2), T_k = 2^63 - L_k for k >= 0
  and T_{-k-1} = L_k, so the table is exactly symmetric; K is the least
  integer with 2 Phi(-(K + 1/2)/s) <= 2^-70 and L_K = 0 (the end buckets
  absorb the cut tails). Values are index - K.
* Geometric gaps G ~ Geo(q), P(G = g) = q (1-q)^g, q = Q / 2^k exact: T_g =
  2^63 - round(2^63 (1-q)^(g+1)) for g < N, computed in exact integers, and
  T_N = 2^63: the last bucket is "G >= N" (the walk has left the dataset).
* Sigmoid: sig[j] = round(2^out / (1 + exp(-j / 2^in))) for j in
  [-limit, limit - 1].

Rounding is half-up everywhere (floor(x + 1/2)). Real values come from
mpmath at 80+ bits; a value within 2^-20 of a rounding tie is recomputed at
higher precision, so the integer tables are the same on every machine."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

PRECISION_BITS = 63
ONE = 1 << PRECISION_BITS  # 2^63: the words are uniform in [0, ONE)
TAIL_BITS = 70
_DOMAIN = b"zkaudit/table/v1\x00"


@dataclass(frozen=True)
class CdtTable:
    """Thresholds (uint64, last = 2^63) and the value of each bucket."""

    name: str
    thresholds: np.ndarray  # T_k, uint64
    offset: int  # value = index - offset
    tv: float  # exact total-variation distance to the ideal law, rounded up to a float
    params: str  # what the table was made from, in words (part of the digest)

    @property
    def size(self) -> int:
        return len(self.thresholds)

    @property
    def digest(self) -> bytes:
        """h_Z: names the table a statement uses."""
        return hashlib.sha256(_DOMAIN + self.params.encode() + b"\x00"
                              + self.thresholds.astype("<u8").tobytes()).digest()

    def draw(self, words: np.ndarray) -> np.ndarray:
        """Values drawn by uniform 63-bit words (vectorised inversion)."""
        return np.searchsorted(self.thresholds, np.asarray(words, dtype=np.uint64), side="right").astype(np.int64) \
            - self.offset

    def interval(self, value: int) -> tuple[int, int]:
        """(T_{k-1}, T_k) for a value: the word drew it iff T_{k-1} <= u < T_k."""
        k = value + self.offset
        if not 0 <= k < self.size:
            raise ValueError(f"value {value} is outside the table's support")
        return (int(self.thresholds[k - 1]) if k else 0), int(self.thresholds[k])

    def pmf(self) -> np.ndarray:
        """The table's own probabilities times 2^63 (exact integers, as int objects)."""
        t = [int(x) for x in self.thresholds]
        return np.array([t[0]] + [t[i] - t[i - 1] for i in range(1, len(t))], dtype=object)


def _round_half_up(x, mp) -> int:
    """floor(x + 1/2) of an mpf, or None when x is too close to a tie to tell."""
    f = mp.floor(x + mp.mpf(0.5))
    frac = x + mp.mpf(0.5) - f
    if frac < mp.mpf(2) ** -20 or frac > 1 - mp.mpf(2) ** -20:
        return None
    return int(f)


def _upper_tails(s, count: int, dps: int):
    """P_k = Phi(-(k + 1/2) / s) for k in [0, count), as mpf at `dps` digits."""
    import mpmath as mp

    with mp.workdps(dps):
        scale = 1 / (mp.mpf(s) * mp.sqrt(2))
        return [mp.erfc((k + mp.mpf(0.5)) * scale) / 2 for k in range(count)]


def _tail_cut(s) -> int:
    """K: the least k with 2 Phi(-(k + 1/2)/s) <= 2^-TAIL_BITS."""
    import mpmath as mp

    with mp.workdps(30):
        bound = mp.mpf(2) ** -TAIL_BITS
        tail = lambda k: mp.erfc((k + mp.mpf(0.5)) / (s * mp.sqrt(2)))  # noqa: E731  (= 2 Phi(-(k+1/2)/s))
        lo, hi = 0, 1
        while tail(hi) > bound:
            hi *= 2
        while lo < hi:  # tail is decreasing in k
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if tail(mid) > bound else (lo, mid)
        return lo


@lru_cache(maxsize=16)
def rounded_gaussian(s_text: str) -> CdtTable:
    """The CDT of round(N(0, s^2)); `s_text` is s as an mpmath-readable string
    (callers pass `noise_std_text(policy)`, so equal policies share a table)."""
    import mpmath as mp

    with mp.workdps(40):
        s = mp.mpf(s_text)
        if not s > 0:
            raise ValueError("the noise standard deviation must be positive")
        K = _tail_cut(s)
    tails = _upper_tails(s, K, 25)
    L = []
    with mp.workdps(25):
        for k, pk in enumerate(tails):
            v = _round_half_up(pk * ONE, mp)
            if v is None:
                with mp.workdps(80):
                    v = _round_half_up(mp.erfc((k + mp.mpf(0.5)) / (s * mp.sqrt(2))) / 2 * ONE, mp)
                if v is None:  # a tie at 80 digits: not seen for any real s; refuse rather than guess
                    raise ArithmeticError(f"rounding tie in the Gaussian table at k={k}")
            L.append(v)
    L.append(0)  # L_K: the end buckets absorb the cut tails
    upper = [ONE - x for x in L]  # T_k, k = 0..K
    lower = [L[k] for k in range(K, -1, -1)][1:]  # T_{-k-1} = L_k for k = K-1..0, i.e. T_{-K}..T_{-1}
    thresholds = np.array(lower + upper, dtype=np.uint64)
    # exact TV: 1/2 sum over all integers |p^_k - p_k|
    with mp.workdps(40):
        P = tails + [mp.erfc((K + mp.mpf(0.5)) / (s * mp.sqrt(2))) / 2]  # P_0..P_K (P_K: the cut tail)
        one = mp.mpf(ONE)
        tv = abs(mp.mpf(ONE - 2 * L[0]) / one - (1 - 2 * P[0]))
        for k in range(1, K + 1):
            tv += 2 * abs(mp.mpf(L[k - 1] - L[k]) / one - (P[k - 1] - P[k]))
        tv += 2 * P[K]
        tv = float(tv / 2) * (1 + 2 ** -40)  # rounded up
    return CdtTable("rounded-gaussian", thresholds, K, tv, f"rounded-gaussian s={s_text} precision=63 tail=2^-70")


def rounded_gaussian_pmf(table: CdtTable, s_text: str) -> np.ndarray:
    """The exact law of round(N(0, s^2)) on the table's support (float64; the
    cut tails added to the end buckets): what the sampler is tested against."""
    import mpmath as mp

    K = table.offset
    with mp.workdps(30):
        s = mp.mpf(s_text)
        cdf = [mp.ncdf((k + mp.mpf(0.5)) / s) for k in range(-K - 1, K + 1)]
        p = [float(cdf[i + 1] - cdf[i]) for i in range(2 * K + 1)]
        p[0] += float(cdf[0])
        p[-1] += float(1 - cdf[-1])
    return np.array(p)


@lru_cache(maxsize=16)
def geometric(rate_numerator: int, rate_log2_denominator: int, num_rows: int) -> CdtTable:
    """The gap table: G ~ Geometric(q) on {0..N-1}, bucket N = 'G >= N'."""
    import mpmath as mp

    Q, k, N = rate_numerator, rate_log2_denominator, num_rows
    if not 0 < Q < (1 << k):
        raise ValueError("the sampling rate must be in (0, 1)")
    A = (1 << k) - Q  # 1 - q = A / 2^k
    thresholds = np.full(N + 1, ONE, dtype=np.uint64)
    L = []
    power, bits = A, k  # (1-q)^(g+1) = power / 2^bits
    for g in range(N):
        # L_g = floor(2^63 power / 2^bits + 1/2), exact
        v = ((power << (PRECISION_BITS + 1)) + (1 << bits)) >> (bits + 1)
        L.append(v)
        thresholds[g] = ONE - v
        if v == 0:
            break  # every later L_g is 0 too: the rest of the table is 2^63
        power, bits = power * A, bits + k
    # exact TV against the ideal law (geometric on 0..N-1 plus the mass of 'G >= N')
    with mp.workdps(40):
        q = mp.mpf(Q) / mp.mpf(2) ** k
        one = mp.mpf(ONE)
        prev_t, prev_f, tv = 0, mp.mpf(0), mp.mpf(0)
        for g in range(N + 1):
            f = mp.mpf(1) if g == N else 1 - (1 - q) ** (g + 1)
            t = int(thresholds[g])
            tv += abs(mp.mpf(t - prev_t) / one - (f - prev_f))
            prev_t, prev_f = t, f
            if g >= len(L) and f == 1:
                break
        tv = float(tv / 2) * (1 + 2 ** -40)
    return CdtTable("geometric", thresholds, 0, tv, f"geometric q={Q}/2^{k} N={N} precision=63")


@lru_cache(maxsize=8)
def sigmoid(in_bits: int, out_bits: int, limit: int) -> np.ndarray:
    """sig[j + limit] = round(2^out / (1 + exp(-j / 2^in))) for j in [-limit, limit)."""
    import mpmath as mp

    out = np.empty(2 * limit, dtype=np.int64)
    with mp.workdps(30):
        scale = mp.mpf(2) ** -in_bits
        top = mp.mpf(2) ** out_bits
        for i, j in enumerate(range(-limit, limit)):
            v = _round_half_up(top / (1 + mp.exp(-j * scale)), mp)
            if v is None:
                raise ArithmeticError(f"rounding tie in the sigmoid table at {j}")
            out[i] = v
    return out


def sigmoid_digest(table: np.ndarray, in_bits: int, out_bits: int, limit: int) -> bytes:
    return hashlib.sha256(_DOMAIN + f"sigmoid in={in_bits} out={out_bits} limit={limit}".encode() + b"\x00"
                          + table.astype("<i8").tobytes()).digest()


def noise_std_text(clip_grid: int, num_params: int, noise_multiplier: Fraction) -> str:
    """s = sigma * (Delta + sqrt(d)) grid units, as a 40-digit decimal string
    (the exact string the table and its digest are made from)."""
    import mpmath as mp

    with mp.workdps(60):
        s = mp.mpf(noise_multiplier.numerator) / noise_multiplier.denominator * (clip_grid + mp.sqrt(num_params))
        return mp.nstr(s, 40, strip_zeros=False)
