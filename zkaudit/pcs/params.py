"""Parameters of the tensor-code commitment, and its soundness as code.

Notation: rows are Reed-Solomon encoded at rate rho = 2^-b (b = log_blowup)
from m = 2^log_cols message entries to n = m 2^b positions; t column queries;
q claims in one opening; R_pad = 2^l the padded row count; K = GF(p^2), the
field every challenge is drawn from, |K| = p^2 ~ 2^128.

**Soundness** (interactive, every term proven, none conjectured):

    eps  <=  n / |K|            proximity test (random combination of rows)
           + 2 (1 - delta)^t    column queries (proximity row + evaluation row)
           + (q - 1) / |K|      batching the q claims with powers of gamma
           + 2 l / |K|          the degree-2 batching sum-check over l row vars
    with delta = (1 - rho) / 2.

* delta is the unique-decoding radius of the code: distance d = n - m + 1 and
  floor((d - 1) / 2) = (n - m) / 2 = delta n exactly, because m is even
  (log_cols >= 1 is enforced).
* n / |K|: Reed-Solomon codes have a proximity gap in the unique-decoding
  regime (Ben-Sasson, Carmon, Ishai, Kopparty, Saraf, "Proximity gaps for
  Reed-Solomon codes", FOCS 2020, the affine-space statement): if a uniformly
  random element of the span of the rows (our coefficients alpha_r are
  independent and uniform in K) is delta-close to the code with probability
  above n / |K|, then all rows agree with codewords on one common set of
  (1 - delta) n positions. Otherwise the combination is delta-far and each
  query catches it with probability > delta.
* If the matrix is delta-close, its decoding M* is unique; a wrong evaluation
  row then differs from the true one's encoding in >= d positions, of which
  >= d - delta n > delta n are outside the agreement set, so again each query
  catches it with probability > delta. The two query events are counted
  separately (the factor 2).
* With the evaluation row right, the sum-check's final values are those of
  M*, so a false claim survives only the batching and sum-check terms.

The bits are those of the interactive protocol. Made non-interactive with
Fiat-Shamir, a prover who can afford 2^k hash evaluations may retry the
query phase, so the query term is worth t * -log2(1 - delta) - k bits against
such a prover (no proof-of-work grinding is applied). SHA-256's collision
resistance (128 bits) bounds the Merkle binding separately. Larger list-
decoding radii (Johnson bound, proven; up to capacity, conjectured) would cut
the queries by up to ~2.5x at this rate; they are not used.

Defaults: b = 2 (rate 1/4, delta = 3/8, 0.678 bits per query), target 100
bits, giving t = 150 queries.

**Hiding mode** (`hiding=True`, `zkaudit.pcs.hiding`). Each row carries
l_pad = t + 8 extra uniformly random message symbols (the coefficients of
X^m .. X^(m + l_pad - 1)), so the code has dimension k = m + l_pad in length
n = m 2^b: delta = (n - k) / (2 n) (n - k is even: l_pad is made even). Rows
must be at least 4 L wide, L = 2^ceil(log2 l_pad), so the worst rate, at the
narrowest allowed row, is (m_min + l_pad) / (4 m_min) ~ 0.29 at b = 2, and
the bits per query are taken there. t and l_pad depend on each other; both
are iterated to a fixed point. The opening adds a blinding row and a mask on
its batching sum-check (the challenge rho_m for it costs one more 1 / |K|
term). The sum-check still has degree 2 and l rounds. Figures are taken at the largest codeword and
claim count the verifier accepts (`max_log_codeword`, `max_claims`), so the
printed bits hold for every opening verified under these parameters
(hiding: see "Per-size hiding shape" below).

A hiding opening has no separate proximity row: its one revealed row
combination, the evaluation row, is the tensor combination eq(rho, .) of
the matrix's rows at the batching sum-check's point rho, whose l
coordinates are uniform challenges drawn after the commitment. That
combination is itself the proximity test: Reed-Solomon codes have
tensor-style proximity gaps up to the unique-decoding radius (Diamond and
Gruen, "Proximity gaps in interleaved codes", 2025, Corollary 3.7, from the
affine-line gap of Ben-Sasson et al. lifted to interleaved codes, and the
tensor reduction of Diamond and Posen, "Proximity testing with logarithmic
randomness", 2023): if eq(rho, .) U is delta-close to the code for more than
an l n / |K| fraction of rho, the rows of U agree with codewords on one
common set of (1 - delta) n positions. So the hiding bound reads

    eps  <=  l n / |K|  +  2 (1 - delta)^t  +  (q - 1) / |K|  +  2 l / |K|  +  1 / |K|,

and its figures need a bound on l: a hiding commitment holds at most
2^MAX_LOG_CELLS codeword cells (rows x n, the verifier refuses larger
ones), so l <= MAX_LOG_CELLS - log2 n, and the term is at most
(MAX_LOG_CELLS - log2 n) n / |K|: 2^-101 at the largest codeword, 2^-113 at
the 2^11 of a small model's advice. Dropping the row saves a row of m + l_pad
symbols and two blinding-row words per opened column (18% of a small
model's opening) and a transform for each of prover and verifier.

**Matrix shape.** The row width 2^log_cols is chosen from the polynomial
sizes by `choose_log_cols`: it minimises the estimated proof size
    2 * 16 m  (two rows in K)  +  t' * 8 R  (opened columns)  +  Merkle digests,
with t' the expected number of distinct positions among t draws, which is
balanced near m ~ sqrt(t N / 4) for N committed entries. Among widths within
5% of the smallest proof it takes the narrowest: fewer columns mean fewer
Merkle leaves, and hashing leaves one call at a time is the prover's
largest fixed cost per column.

**Per-size hiding shape** (`hiding_shape`). The parameters above are the
worst case over rows >= 4 L wide at rate 2^-b; a commitment is made and
verified with parameters solved for its own size, each reaching the same
target at its own codeword n (with max_claims claims and the most rows
MAX_LOG_CELLS allows at n), so the target printed for the base parameters
holds for every opening, and the verifier charges its transcript the
opening's own bound:

* rows of exactly m = 2^log_cols, rate 2^-b': t is the fewest queries with
  t * -log2(1 - delta) reaching the target for delta = (n - k) / (2 n),
  k = m + l_pad, n = m 2^b', l_pad = hiding_pad(t) (t and l_pad iterated to
  their fixed point as above); l_pad <= m (the fused encoder folds the
  padding into each coset block), so rows are >= L wide.
* a wide matrix (the width search below picks more than 4 L) keeps that
  width and b' = b: its rate is lower than the worst case, so t and l_pad
  are smaller (157 instead of 167 queries at 2^20 entries).
* a small one (the search picks 4 L) tries every width from L to 4 L and
  b' in b .. b + 2 (a narrow row's padded code needs the longer codeword to
  keep its distance; b' > b only for codewords of at most 2^17 cells, where
  the prover's encoding and hashing cost little), and takes, among the
  shapes within 5% of the smallest estimated proof, the one with the fewest
  codeword cells (the prover encodes and hashes every cell). For a zero-knowledge inference proof's
  4,548-entry advice commitment: rows of 2^8 at rate 1/8 with 143 queries,
  a 54 KB opening instead of 74 KB (2^10 at 1/4 with 167).

The verifier derives the shape from the committed tables' sizes and
refuses a commitment with another rate or width (`ParameterMismatch`), so
the prover has no choice in it. Openings made under the former rule (every
hiding commitment at 2^-b with >= 4 L wide rows) are refused the same way.

A hiding commitment that is wide takes the width the plain commitment would take for
the same tables (its mask tables included; `_hiding_shape` asks the plain
twin's search), never below 4 L. Its own estimate differs (one revealed
row, not two; the l_pad symbols; the blinding row; the salts), which tips
the 5% window to rows twice as wide: measured (`zk_bench.py 16 20`), that
saved 11-20 % of the opening's bytes for a commit 1.1-1.5x and an open
1.2-1.9x the plain one's (twice the leaves to hash, longer transforms);
with the plain width commit is 1.06-1.09x, open 0.98-1.4x and the proof
0.89-0.97x the plain one's. The prover and verifier do the plain
commitment's work on a matrix two rows taller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from zkaudit.field.constants import EXT_BITS, TWO_ADICITY
from zkaudit.pcs.layout import count_rows

DIGEST_BYTES = 32
# log2 of the most codeword cells (rows x n) a hiding commitment may hold:
# bounds the rows l of its tensor proximity term (module docstring); 2^32
# base cells are 32 GiB, past any prover this runs on
MAX_LOG_CELLS = 32
EXT_BYTES = 16
BASE_BYTES = 8


def _log2_sum(terms_log2: list[float]) -> float:
    """log2 of a sum of 2^x terms, without underflow."""
    top = max(terms_log2)
    return top + math.log2(sum(2.0 ** (x - top) for x in terms_log2))


@dataclass(frozen=True)
class PcsParams:
    """Soundness and code parameters. Build with `default()` or
    `for_security()`; `num_queries` is then derived, never hand-picked."""

    log_blowup: int
    num_queries: int
    max_log_codeword: int = 24
    max_claims: int = 1 << 16
    hiding: bool = False
    target_bits: float = field(default=0.0, compare=False)
    pad_symbols: int = 0  # l_pad: random message symbols per row (hiding mode only)
    mask_vars: int = 2  # hiding: a table's mask has <= 2^mask_vars entries, hiding half as many claims
    # hiding: the one row width (log2) these parameters are solved for (`hiding_shape`); 0: any width
    # >= 4 L, the bits taken at the narrowest
    row_log_cols: int = 0

    def __post_init__(self):
        if not 1 <= self.log_blowup <= 8:
            raise ValueError(f"log_blowup must be in 1..8, got {self.log_blowup}")
        if self.num_queries < 1:
            raise ValueError("at least one query is needed")
        if not self.log_blowup + 1 <= self.max_log_codeword <= TWO_ADICITY:
            raise ValueError(f"max_log_codeword must be in {self.log_blowup + 1}..{TWO_ADICITY}")
        if self.max_claims < 1:
            raise ValueError("max_claims must be positive")
        if self.hiding:
            if self.pad_symbols < self.num_queries or self.pad_symbols % 2:
                raise ValueError(f"hiding needs an even pad_symbols >= num_queries ({self.num_queries}), "
                                 f"got {self.pad_symbols}")
            if self.min_log_cols + self.log_blowup > self.max_log_codeword:
                raise ValueError("hiding rows do not fit under max_log_codeword")
            if not 0 <= self.mask_vars <= 8:
                raise ValueError("mask_vars must be in 0..8")
            if self.row_log_cols and (self.pad_symbols > 1 << self.row_log_cols
                                      or self.pad_symbols + (1 << self.row_log_cols) >= 1 << self.log_codeword):
                raise ValueError("hiding rows of this width need pad_symbols <= m and a code of rate < 1")
        elif self.pad_symbols or self.row_log_cols:
            raise ValueError("pad_symbols and row_log_cols are for hiding commitments only")

    # ------------------------------------------------------------ builders

    @classmethod
    def default(cls) -> PcsParams:
        return cls.for_security(100)

    @classmethod
    def for_security(cls, bits: float, *, log_blowup: int = 2, max_log_codeword: int = 24,
                     max_claims: int = 1 << 16, hiding: bool = False) -> PcsParams:
        """The fewest queries that reach `bits` at the given rate. Raises
        ValueError when no number of queries can: the field terms (n / |K|
        and the rest) cap the bound near 128 - max_log_codeword bits.
        Hiding: the padding l_pad = t + 8 and t are iterated together.
        Memoized (`_for_security`): parameters are immutable, and a verifier
        asks for the same ones in every proof."""
        return _for_security(cls, bits, log_blowup, max_log_codeword, max_claims, hiding)

    @classmethod
    def _solve_for_security(cls, bits: float, log_blowup: int, max_log_codeword: int, max_claims: int,
                            hiding: bool) -> PcsParams:
        probe = cls(log_blowup, 1, max_log_codeword, max_claims, False, bits)
        ceiling = probe.soundness_bits_for(max_log_codeword, max_claims, TWO_ADICITY, with_queries=False)
        if bits >= ceiling:
            raise ValueError(f"{bits} bits are out of reach: the field terms alone allow {ceiling:.1f} "
                             f"(lower max_log_codeword or max_claims)")
        t = max(1, math.floor((bits + 1) / probe.bits_per_query))
        if not hiding:
            while cls(log_blowup, t, max_log_codeword, max_claims, False, bits).soundness_bits < bits:
                t += 1
            return cls(log_blowup, t, max_log_codeword, max_claims, False, bits)
        for _ in range(64):  # t -> l_pad -> worst rate -> t: increasing, converges in a few steps
            pad = hiding_pad(t)
            made = cls(log_blowup, t, max_log_codeword, max_claims, True, bits, pad)
            if made.soundness_bits >= bits:
                return made
            t += 1
        raise ValueError(f"no hiding parameters reach {bits} bits at rate 2^-{log_blowup}")

    @classmethod
    def default_hiding(cls) -> PcsParams:
        """The zero-knowledge commitment at >= 100 bits."""
        return cls.for_security(100, hiding=True)

    @classmethod
    def for_tests_hiding(cls, num_queries: int, log_blowup: int = 2) -> PcsParams:
        """Tiny hiding parameters for exact linear-algebra tests (low soundness:
        never for proofs)."""
        return cls(log_blowup, num_queries, 24, 1 << 16, True, 0.0, hiding_pad(num_queries))

    # ------------------------------------------------------------- hiding

    @property
    def pad_transform(self) -> int:
        """L = 2^ceil(log2 l_pad). Rows are >= 4 L wide, which bounds the worst
        rate and keeps l_pad <= m, what the fused encoder needs (the padding
        folds into each coset block); the naive reference encoder
        (`hiding_code.encode_rows_reference`) uses size-L transforms."""
        return 1 << max(1, (self.pad_symbols - 1).bit_length())

    @property
    def min_log_cols(self) -> int:
        """Narrowest row: 1 for plain commitments, log2(4 L) when hiding,
        the one width of parameters solved for a width (`hiding_shape`)."""
        if self.row_log_cols:
            return self.row_log_cols
        return self.pad_transform.bit_length() + 1 if self.hiding else 1

    @property
    def log_codeword(self) -> int:
        """log2 n at the narrowest row (the codeword of parameters solved for a width)."""
        return self.min_log_cols + self.log_blowup

    def hiding_shape(self, num_vars) -> PcsParams:
        """The parameters a hiding commitment of tables of these sizes (mask
        tables included) is made and verified with: row width, rate, queries
        and padding solved together (module docstring, "Per-size hiding
        shape"). Parameters already solved for a width, plain ones and test
        parameters without a soundness target are returned as they are.
        Deterministic in (self, num_vars): the verifier derives the same."""
        if not self.hiding or self.row_log_cols or self.target_bits <= 0:
            return self
        # target_bits is no part of PcsParams' equality: it keys the cache itself
        return _hiding_shape(self, self.target_bits, tuple(int(v) for v in num_vars))

    def at_width(self, log_cols: int, log_blowup: int) -> PcsParams | None:
        """Hiding parameters solved for rows of exactly 2^log_cols entries at
        rate 2^-log_blowup (before padding): the fewest queries t reaching
        target_bits with the padded code's own rate (m + l_pad) / n,
        l_pad = hiding_pad(t); None if none does with l_pad <= m."""
        return _at_width(self.max_log_codeword, self.max_claims, self.target_bits, self.mask_vars,
                         log_cols, log_blowup)

    # ----------------------------------------------------------- soundness

    @property
    def rate(self) -> float:
        return 2.0 ** -self.log_blowup

    @property
    def delta(self) -> float:
        """Unique-decoding radius (1 - rate) / 2, relative to n. Hiding: the
        code has dimension m + l_pad; the worst (narrowest allowed) row."""
        if self.hiding:
            m = 1 << self.min_log_cols
            return (1.0 - (m + self.pad_symbols) / (m << self.log_blowup)) / 2.0
        return (1.0 - self.rate) / 2.0

    @property
    def bits_per_query(self) -> float:
        return -math.log2(1.0 - self.delta)

    def soundness_bits_for(self, log_codeword: int, num_claims: int, log_rows: int, *,
                           with_queries: bool = True, extra: list[float] | tuple = ()) -> float:
        """-log2 of the error bound in the module docstring for one opening
        (without the query term: the ceiling that more queries approach);
        `extra`: log2 of further error terms (the hiding opening's column
        check, `column_check.soundness_terms`)."""
        # n / |K|: proximity gap of a random row combination; hiding: l n / |K|, the evaluation row's tensor one
        gap = log_codeword - EXT_BITS + (math.log2(max(1, log_rows)) if self.hiding else 0.0)
        terms = [gap, *extra]
        if with_queries:
            terms.append(1.0 - self.num_queries * self.bits_per_query)  # 2 (1 - delta)^t
        if num_claims > 1:
            terms.append(math.log2(num_claims - 1) - EXT_BITS)  # gamma batching
        if log_rows > 0:
            terms.append(math.log2(2 * log_rows) - EXT_BITS)  # degree-2 sum-check
        if self.hiding:
            terms.append(-EXT_BITS)  # rho_m: the batching sum-check's mask sum
        return -_log2_sum(terms)

    @property
    def soundness_bits(self) -> float:
        """The bound at the largest opening these parameters accept. Hiding:
        at the codeword of the narrowest row (`log_codeword`: the one width
        of parameters solved for a width) with the most rows MAX_LOG_CELLS
        allows there -- every commitment is made and verified with
        parameters solved for its own width (`hiding_shape`), each reaching
        the target at its own codeword."""
        if not self.hiding:
            return self.soundness_bits_for(self.max_log_codeword, self.max_claims, TWO_ADICITY)
        return self.soundness_bits_for(self.log_codeword, self.max_claims, max_log_rows(self.log_codeword))

    # --------------------------------------------------------------- shape

    def choose_log_cols(self, num_vars: list[int] | tuple[int, ...]) -> int:
        """Row width for committing tables of these sizes (see the docstring).
        Hiding: the same search with the hiding layout's costs (each row
        carries l_pad more symbols, the matrix two more rows, each leaf a
        salt), at least 4 L: a wider matrix than the plain one, since the
        padding is paid per row combination, not per row. Memoized: a
        verifier asks twice per opening, for a thousand tables each time."""
        if self.row_log_cols:
            return self.row_log_cols
        if self.hiding and self.target_bits > 0:
            return self.hiding_shape(num_vars).row_log_cols
        return _choose_log_cols(self, tuple(int(v) for v in num_vars))

    def _search_log_cols(self, num_vars: tuple[int, ...]) -> int:
        total_log = max(1, math.ceil(math.log2(sum(1 << v for v in num_vars))))
        top = max(self.min_log_cols, min(total_log, self.max_log_codeword - self.log_blowup))
        sizes = []
        for log_cols in range(self.min_log_cols, top + 1):
            num_rows = count_rows(num_vars, log_cols)  # the layout's row count, no table placed
            sizes.append((self.estimate_proof_bytes(log_cols, num_rows, (num_rows - 1).bit_length()), log_cols))
        best = min(s for s, _ in sizes)
        return min(lc for s, lc in sizes if s <= 1.05 * best)

    def plain_twin(self) -> PcsParams:
        """The non-hiding parameters at this rate, target and limits."""
        return _plain_twin(self.log_blowup, self.max_log_codeword, self.max_claims, self.target_bits)

    def expected_distinct_queries(self, log_codeword: int) -> float:
        n = 1 << log_codeword
        return n * -math.expm1(self.num_queries * math.log1p(-1.0 / n)) if n > 1 else 1.0

    def estimate_proof_bytes(self, log_cols: int, num_rows: int, log_rows: int) -> float:
        log_n = log_cols + self.log_blowup
        t = self.expected_distinct_queries(log_n)
        if self.hiding:
            num_rows += 2  # the blinding row
        # two revealed rows (plain: proximity and evaluation); hiding: the evaluation row only
        rows = (1 if self.hiding else 2) * EXT_BYTES * ((1 << log_cols) + self.pad_symbols)
        columns = t * BASE_BYTES * (num_rows + (2 if self.hiding else 0))  # hiding: the salt
        merkle = t * DIGEST_BYTES * max(0.0, log_n - math.log2(t))
        sumcheck = 3 * EXT_BYTES * log_rows
        return rows + columns + merkle + sumcheck

    def describe(self) -> str:
        mode = (f"hiding (zero-knowledge): {self.pad_symbols} random symbols per row, an extension-field blinding row, "
                f"128-bit leaf salts" if self.hiding else "not hiding (no zero knowledge)")
        if self.hiding and self.row_log_cols:
            mode += f"; rows of 2^{self.row_log_cols}"
        elif self.hiding and self.target_bits > 0:
            mode += (f"; figures at rows >= 2^{self.min_log_cols}; smaller commitments are solved per size "
                     f"(>= {self.target_bits:g} bits each, printed by the verifier)")
        return (f"rate 1/{1 << self.log_blowup}, {self.num_queries} queries, "
                f"{self.soundness_bits:.1f} bits (proven, unique decoding; codewords <= 2^{self.max_log_codeword}, "
                f"<= {self.max_claims} claims); {mode}")


@lru_cache(maxsize=64)
def _for_security(cls, bits: float, log_blowup: int, max_log_codeword: int, max_claims: int,
                  hiding: bool) -> PcsParams:
    return cls._solve_for_security(bits, log_blowup, max_log_codeword, max_claims, hiding)


@lru_cache(maxsize=16)
def _plain_twin(log_blowup: int, max_log_codeword: int, max_claims: int, target_bits: float) -> PcsParams:
    return PcsParams.for_security(target_bits, log_blowup=log_blowup, max_log_codeword=max_log_codeword,
                                  max_claims=max_claims)


def max_log_rows(log_codeword: int) -> int:
    """The most row variables l a hiding commitment with codewords of 2^log_codeword may have."""
    return max(1, MAX_LOG_CELLS - log_codeword)


def hiding_pad(num_queries: int) -> int:
    """l_pad = t + 8, even (zero-knowledge.md §8: margin over the t opened columns)."""
    pad = num_queries + 8
    return pad + (pad & 1)


def soundness_report(params: PcsParams | None = None) -> str:
    """Printable soundness of the commitment, plain and hiding (for the CLI)."""
    plain = params if params is not None and not params.hiding else PcsParams.default()
    hiding = params if params is not None and params.hiding else PcsParams.default_hiding()
    return f"commitment: {plain.describe()}\ncommitment (ZK): {hiding.describe()}"


@lru_cache(maxsize=64)
def _choose_log_cols(params: PcsParams, num_vars: tuple[int, ...]) -> int:
    return params._search_log_cols(num_vars)


# A small hiding matrix may take a rate up to 2^-(b + 2) for b the base rate's
# log blow-up: with the padding fixed by the queries, a narrow row's code
# needs the longer codeword to keep its distance ...
HIDING_EXTRA_BLOWUP = 2
# ... while its codeword has at most this many cells (rows x n): there the
# proof's fixed parts dominate and encoding and hashing cost a few ms; past
# it the prover's time grows with the cells (rate 1/8 instead of 1/4 made
# digits_cnn's advice commitment 8.3 -> 14.5 ms for 6% fewer proof bytes).
EXTRA_BLOWUP_CELLS = 1 << 17
# Among shapes within this factor of the smallest estimated proof, the one
# with the fewest codeword cells (rows x n) is taken: the prover encodes and
# hashes every cell, the proof only sees the queried ones.
SHAPE_BYTES_SLACK = 1.05


@lru_cache(maxsize=256)
def _at_width(max_log_codeword: int, max_claims: int, target_bits: float, mask_vars: int,
              log_cols: int, log_blowup: int) -> PcsParams | None:
    if log_cols + log_blowup > max_log_codeword or not 1 <= log_blowup <= 8:
        return None
    m = 1 << log_cols
    n = m << log_blowup

    def made(t: int) -> PcsParams | None:
        pad = hiding_pad(t)
        if pad > m or m + pad >= n:
            return None
        return PcsParams(log_blowup, t, max_log_codeword, max_claims, True, target_bits, pad, mask_vars, log_cols)

    t = 1
    for _ in range(64):  # t -> l_pad -> rate -> t: nondecreasing, converges in a few steps
        here = made(t)
        if here is None:
            return None
        # a lower bound: the query term 2 (1 - delta)^t alone must reach the target
        need = max(t, math.ceil((target_bits + 1) / here.bits_per_query))
        while True:
            there = made(need)
            if there is None:
                return None
            if there.soundness_bits >= target_bits:
                break
            need += 1
        if need == t:
            return here
        t = need
    return None


@lru_cache(maxsize=256)
def _hiding_shape(params: PcsParams, target_bits: float, num_vars: tuple[int, ...]) -> PcsParams:
    wide = _choose_log_cols(params.plain_twin(), num_vars)  # the width rule of wide matrices (docstring)
    base_b = params.log_blowup
    if wide > params.min_log_cols:
        shaped = params.at_width(wide, base_b)
        if shaped is not None:
            return shaped
    candidates = []
    for log_cols in range(1, params.min_log_cols + 1):
        num_rows = count_rows(num_vars, log_cols)
        log_rows = (num_rows - 1).bit_length()
        for b in range(base_b, base_b + HIDING_EXTRA_BLOWUP + 1):
            shaped = params.at_width(log_cols, b)
            if shaped is None:
                continue
            cells = (num_rows + 2) << (log_cols + b)  # data rows and the blinding row's two
            if b > base_b and cells > EXTRA_BLOWUP_CELLS:
                continue
            size = shaped.estimate_proof_bytes(log_cols, num_rows, log_rows)
            candidates.append((size, cells, log_cols, b, shaped))
    if not candidates:
        raise ValueError("no hiding shape reaches the target for these tables")
    best = min(c[0] for c in candidates)
    return min((c for c in candidates if c[0] <= SHAPE_BYTES_SLACK * best), key=lambda c: (c[1], c[2], c[3]))[4]
