"""What prover and verifier share: the instance, the leaf layout, transcript
labels and the soundness accounting.

LogUp.  Looked-up rows f_i (each a tuple of columns) are all in their tables
iff, for a random alpha,
    sum_i 1/(alpha - F_i)  -  sum_j m_j/(alpha - T_j)  =  0,
where F_i = sum_c beta^c f_{i,c} + beta^W tag and T_j likewise fold a row's
columns and its table's tag with a random beta (W = the widest table), so
several tables and multi-column tables {(x, g(x))} share one argument.

Leaves.  Every lookup and every table is a segment of leaves, numerator p
and denominator q:
    lookup rows i < N:   p = 1,    q = alpha - F_i
    lookup padding:      p = 0,    q = alpha - F_i   (columns zero-padded)
    table row j:         p = -m_j, q = alpha - T_j
Segments are sorted by size (largest first) and packed into trees, one per
set bit of the total size (2^20 + 2^16 leaves make a 2^20 tree and a 2^16
tree, with no padding leaves). Inside a tree each segment starts at a
multiple of its own size: segment s of 2^n_s leaves at offset o occupies the
subcube whose top bits are o >> n_s, so for a leaf point r = (r_hi, r_lo)
    p~(r) = sum_s eq(o >> n_s, r_hi) P_s(r_lo),   q~(r) likewise with Q_s.
A column shorter than its segment is zero-padded; its numerator is the
indicator of [0, N), whose MLE the verifier evaluates in O(n)
(`prefix_indicator`). So a column of any length N <= 2^n_s can be looked up,
and the caller's claim is on the zero-padded column of 2^n_s entries.
The trees' roots (p_t, q_t) must sum to zero as fractions:
    sum_t p_t prod_{u != t} q_u = 0,   prod_t q_t != 0.

Fractional-sum GKR.  Layer k has 2^k fractions; layer k from layer k+1 pairs
the two halves L = [0, 2^k), R = [2^k, 2^(k+1)):
    p_k = p_L q_R + p_R q_L,     q_k = q_L q_R.
A claim (p_k~(rho), q_k~(rho))
goes to layer k+1 by one sum-check over
    sum_x eq(rho, x) [p_L q_R + p_R q_L + lambda q_L q_R](x) = p_k~(rho) + lambda q_k~(rho)
(tables [eq, pL, pR, qL, qR], degree 3), ending at rho' with the four values;
then a random c gives the new point (c, rho') -- c is the new top bit -- and
    p_{k+1}~(c, rho') = (1 - c) p_L~(rho') + c p_R~(rho')   (q likewise).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from zkaudit.field.constants import EXT_BITS, P, W
from zkaudit.field.scalar import Fp2, _fp2
from zkaudit.lookup.tables import TableSpec
from zkaudit.sumcheck.claim import SumOfProducts
from zkaudit.transcript import Transcript

PROTOCOL = "zkaudit/lookup/logup-gkr"
VERSION = 1

LABEL_INSTANCE = b"lookup/instance"
LABEL_TABLE = b"lookup/table-digest"
LABEL_BETA = b"lookup/beta"
LABEL_ALPHA = b"lookup/alpha"
LABEL_ROOT = b"lookup/root"
LABEL_LAMBDA = b"lookup/gkr-lambda"
LABEL_MERGE = b"lookup/gkr-merge"
LABEL_LEAVES = b"lookup/leaf-values"
LABEL_ROOT_Q = b"lookup/zk-root-denominator"
LABEL_MU = b"lookup/gkr-joint-mu"

# Tables of the per-layer sum-check: eq, p_L, p_R, q_L, q_R.
EQ, PL, PR, QL, QR = range(5)


def layer_spec(lam: Fp2) -> SumOfProducts:
    return SumOfProducts.of(5, [(1, (EQ, PL, QR)), (1, (EQ, PR, QL)), (lam, (EQ, QL, QR))])


def joint_layer_spec(lam: Fp2, mus) -> SumOfProducts:
    """Layer k of the trees proven in lock step (zero knowledge, below):
    tables [eq] + [p_L, p_R, q_L, q_R] per active tree, tree i weighted by mu_i."""
    terms = []
    for i, mu in enumerate(mus):
        pl, pr, ql, qr = 1 + 4 * i, 2 + 4 * i, 3 + 4 * i, 4 + 4 * i
        terms += [(mu, (EQ, pl, qr)), (mu, (EQ, pr, ql)), (mu * lam, (EQ, ql, qr))]
    return SumOfProducts.of(1 + 4 * len(mus), terms)


def joint_claim(mus, lam: Fp2, claims, active):
    """The lock-step layer's claimed sum: sum_i mu_i (p_i + lambda q_i) over
    the active trees' claims (values may be Hidden), accumulated on ints
    (`LinearSum`: the same form as the expression, `joint_claim_reference`,
    without a Hidden per operation)."""
    from zkaudit.field.hidden import LinearSum

    total = LinearSum()
    l0, l1 = lam.c0, lam.c1
    for mu, t in zip(mus, active):
        vp, vq = claims[t]
        m0, m1 = mu.c0, mu.c1
        total.add_ints(vp, m0, m1)
        total.add_ints(vq, m0 * l0 + W * m1 * l1, m0 * l1 + m1 * l0)  # mu lambda
    return total.value()


def joint_claim_reference(mus, lam: Fp2, claims, active):
    total = Fp2(0)
    for mu, t in zip(mus, active):
        vp, vq = claims[t]
        total = mu * (vp + lam * vq) + total
    return total


def joint_merge(values, c: Fp2, i: int):
    """Active tree i's claim on the next layer from the layer sum-check's
    final values (p_L, p_R, q_L, q_R at 1 + 4i..) on the line at c:
    (1 - c) left + c right, on ints (`joint_merge_reference` is the
    expression)."""
    pl, pr, ql, qr = values[1 + 4 * i : 5 + 4 * i]
    c0, c1 = c.c0, c.c1
    d0, d1 = (1 - c0) % P, -c1 % P  # 1 - c
    return _line(pl, pr, d0, d1, c0, c1), _line(ql, qr, d0, d1, c0, c1)


def _line(left, right, d0: int, d1: int, c0: int, c1: int):
    """d left + c right (d, c as int pairs) in canonical form: Fp2 when both
    are, else a Hidden whose terms are the two sorted term lists merged,
    each coefficient scaled once (a final value of a masked sum-check has one
    term: no dict, no sort)."""
    from zkaudit.field.hidden import Hidden

    lh, rh = type(left) is Hidden, type(right) is Hidden
    lc, rc = (left.const if lh else left), (right.const if rh else right)
    const = _fp2((d0 * lc.c0 + W * d1 * lc.c1 + c0 * rc.c0 + W * c1 * rc.c1) % P,
                 (d0 * lc.c1 + d1 * lc.c0 + c0 * rc.c1 + c1 * rc.c0) % P)
    if not (lh or rh):
        return const
    lt, rt = (left.terms if lh else ()), (right.terms if rh else ())
    out = []
    i = j = 0
    while i < len(lt) or j < len(rt):
        if j == len(rt) or (i < len(lt) and lt[i][0] < rt[j][0]):
            key, (a0, a1) = lt[i][0], (lt[i][1].c0, lt[i][1].c1)
            v0, v1 = a0 * d0 + W * a1 * d1, a0 * d1 + a1 * d0
            i += 1
        elif i == len(lt) or rt[j][0] < lt[i][0]:
            key, (b0, b1) = rt[j][0], (rt[j][1].c0, rt[j][1].c1)
            v0, v1 = b0 * c0 + W * b1 * c1, b0 * c1 + b1 * c0
            j += 1
        else:  # one key on both sides
            key = lt[i][0]
            a, b = lt[i][1], rt[j][1]
            v0 = a.c0 * d0 + W * a.c1 * d1 + b.c0 * c0 + W * b.c1 * c1
            v1 = a.c0 * d1 + a.c1 * d0 + b.c0 * c1 + b.c1 * c0
            i += 1
            j += 1
        v0, v1 = v0 % P, v1 % P
        if v0 or v1:
            out.append((key, _fp2(v0, v1)))
    return Hidden._raw(const, tuple(out))


def joint_merge_reference(values, c: Fp2, i: int):
    pl, pr, ql, qr = values[1 + 4 * i : 5 + 4 * i]
    return pl + c * (pr - pl), ql + c * (qr - ql)


def log2_ceil(n: int) -> int:
    return max(0, (n - 1).bit_length())


@dataclass(frozen=True)
class Lookup:
    """`num_rows` rows looked up in table number `table` (one column per table column)."""

    table: int
    num_rows: int

    @property
    def num_vars(self) -> int:
        return log2_ceil(self.num_rows)


@dataclass(frozen=True)
class Segment:
    kind: str  # "lookup" | "table"
    index: int  # into instance.lookups or instance.tables
    num_vars: int
    tree: int
    offset: int  # within its tree


@dataclass(frozen=True)
class LookupInstance:
    tables: tuple[TableSpec, ...]
    lookups: tuple[Lookup, ...]

    def __post_init__(self):
        if not self.tables or not self.lookups:
            raise ValueError("an instance needs at least one table and one lookup")
        for lk in self.lookups:
            if not 0 <= lk.table < len(self.tables):
                raise ValueError(f"lookup names table {lk.table}, instance has {len(self.tables)}")
            if lk.num_rows < 1:
                raise ValueError("a lookup needs at least one row")

    @property
    def width(self) -> int:
        return max(t.width for t in self.tables)

    def layout(self) -> tuple[tuple[int, ...], tuple[Segment, ...]]:
        """(leaf variables of each tree, segments at aligned offsets in their trees);
        computed once per instance (prover and verifier ask several times, and a
        batched instance has thousands of segments)."""
        cached = self.__dict__.get("_layout")
        if cached is None:
            cached = self._layout_uncached()
            object.__setattr__(self, "_layout", cached)
        return cached

    def _layout_uncached(self) -> tuple[tuple[int, ...], tuple[Segment, ...]]:
        segs = [("lookup", i, lk.num_vars) for i, lk in enumerate(self.lookups)]
        segs += [("table", j, t.num_vars) for j, t in enumerate(self.tables)]
        segs.sort(key=lambda s: -s[2])  # stable; sizes descending keep every offset aligned
        total = sum(1 << nv for _, _, nv in segs)
        tree_vars = tuple(b for b in range(total.bit_length() - 1, -1, -1) if total >> b & 1)
        out, tree, offset = [], 0, 0
        for kind, index, nv in segs:
            out.append(Segment(kind, index, nv, tree, offset))
            offset += 1 << nv
            if offset == 1 << tree_vars[tree]:  # a descending run of powers of two fills each tree exactly
                tree, offset = tree + 1, 0
        return tree_vars, tuple(out)

    def encode(self) -> bytes:
        parts = [struct.pack("<II", len(self.tables), len(self.lookups))]
        parts += [t.digest() for t in self.tables]
        parts += [struct.pack("<IQ", lk.table, lk.num_rows) for lk in self.lookups]
        return b"".join(parts)

    def absorb(self, transcript: Transcript) -> None:
        transcript.absorb_bytes(LABEL_INSTANCE, self.encode())


def row_combiners(beta: Fp2, width: int) -> list[Fp2]:
    """beta^0 .. beta^width: column c gets beta^c, the table tag gets beta^width."""
    out = [Fp2(1)]
    for _ in range(width):
        out.append(out[-1] * beta)
    return out


@dataclass
class Soundness:
    """Every challenge's soundness error, summed (union bound)."""

    items: list[tuple[str, float]] = field(default_factory=list)

    def add(self, name: str, log2_error: float) -> None:
        self.items.append((name, log2_error))

    @property
    def bits(self) -> float:
        total = sum(2.0**e for _, e in self.items)
        return -math.log2(total) if total else math.inf

    def __str__(self) -> str:
        lines = [f"  {name:<40s} 2^{e:.1f}" for name, e in self.items]
        return "lookup soundness:\n" + "\n".join(lines) + f"\n  total: {self.bits:.1f} bits"


def alpha_beta_log2(tree_vars, width: int) -> float:
    """log2 of the error of the LogUp identity at (alpha, beta): (#leaves * width) / p^2."""
    return math.log2(sum(1 << nv for nv in tree_vars)) + math.log2(width) - EXT_BITS


def soundness(instance: LookupInstance) -> Soundness:
    tree_vars, _ = instance.layout()
    s = Soundness()
    # alpha and beta together: rows fold to F(beta) = sum_c beta^c col_c + beta^w tag,
    # distinct rows to distinct polynomials, so a row outside its table leaves
    # sum 1/(alpha - F_i(beta)) - sum m_j/(alpha - T_j(beta)) a non-zero rational
    # function; cleared of denominators (prod q_t != 0 is checked) its numerator
    # has total degree <= leaves * w (Schwartz-Zippel over the pair).
    s.add("alpha, beta (LogUp identity, rows folded)", alpha_beta_log2(tree_vars, instance.width))
    for t, nv in enumerate(tree_vars):
        for k in range(1, nv + 1):
            # lambda batches two claims: 1/p^2; sum-check over k-1 variables, degree 3:
            # 3(k-1)/p^2; c merges the L/R halves on a line (degree 1): 1/p^2.
            s.add(f"tree {t} layer {k}: lambda + sum-check + merge", math.log2(2 + 3 * (k - 1)) - EXT_BITS)
    return s


# ------------------------------------------------------------ zero knowledge
#
# A zero-knowledge run (the transcript carries a `sumcheck.zk` session) never
# reveals a tree's root (p_t, q_t): those are fingerprints of the hidden
# multiset. The roots are sent padded, and sum_t p_t / q_t = 0 is proven by
# one more fractional-sum GKR whose leaves are the roots (padded to a power
# of two with 0/1), from the root claim (0, Q) with Q padded: its leaf claim
# is a linear form in the padded roots, checked by deferral. Column and
# multiplicity values are sent padded too; the leaf checks are deferred.
# No "q_t != 0" check is made in the clear: the GKR binds the roots to the
# leaves, whose denominators alpha - row are nonzero but with probability
# (#leaves) / |K| over alpha, which the alpha term already charges.
#
# The trees are then proven in lock step (every root being known, nothing
# keeps them apart): trees are sorted by depth, largest first, so at layer k
# the active trees (depth >= k) are a prefix, and every active tree's claim
# sits at the same point rho (they have shared every challenge so far).
# One sum-check per layer proves them all:
#     sum_x eq(rho, x) sum_i mu_i [p_L q_R + p_R q_L + lambda q_L q_R]_i(x)
#         = sum_i mu_i (p_i~(rho) + lambda q_i~(rho)),
# mu_0 = 1 and mu_1.. drawn after lambda (one random linear combination of
# the active trees' claims: a false one survives with probability 1/|K|),
# then one merge challenge c for all. A tree of depth d leaves the run after
# layer d, at its leaf point (c, rho'). Per layer: lambda, the mu's (one
# combination), a degree-3 sum-check over k - 1 variables and c: about the
# error of one tree's layer, where proving trees apart paid it per tree; and
# a tree of n leaf variables costs one n-variable round per layer, not one
# sum-check of its own (the rounds are where the time went).


def root_tree_leaves_check(zk, point, vp, vq, hidden_roots, size: int) -> None:
    from zkaudit.poly.mle import eq_bits

    exp_p, exp_q = 0, 0
    for t in range(size):
        e = eq_bits(t, point)
        if t < len(hidden_roots):
            hp, hq = hidden_roots[t]
            exp_p = hp * e + exp_p
            exp_q = hq * e + exp_q
        else:
            exp_q = exp_q + e
    zk.require_equal(vp, exp_p, where="lookup/roots")
    zk.require_equal(vq, exp_q, where="lookup/roots")


def _segment_selector(ends):
    """selector(tree, depth, prefix) = eq(prefix, point[:depth]) (MSB first)
    with point = ends[tree][0], memoized per tree along the prefix: a tree's
    hundreds of segments share their leading bits. One product per level
    on plain ints, with each coordinate's factors (1 - r, r) as int pairs
    made once per tree."""
    one = Fp2(1)
    factors: dict = {}  # tree -> per coordinate ((1 - r) pair, r pair)
    memo: dict = {}

    def selector(tree: int, depth: int, prefix: int) -> Fp2:
        if depth == 0:
            return one
        key = (tree, depth, prefix)
        v = memo.get(key)
        if v is None:
            f = factors.get(tree)
            if f is None:
                f = factors[tree] = [(((1 - r.c0) % P, -r.c1 % P), (r.c0, r.c1)) for r in ends[tree][0]]
            b0, b1 = f[depth - 1][prefix & 1]
            up = memo.get((tree, depth - 1, prefix >> 1)) if depth > 1 else one
            if up is None:
                up = selector(tree, depth - 1, prefix >> 1)
            a0, a1 = up.c0, up.c1
            v = memo[key] = _fp2((a0 * b0 + W * a1 * b1) % P, (a0 * b1 + a1 * b0) % P)
        return v

    return selector


def leaf_sums(instance, ends, column_values, multiplicity_values, alpha, beta):
    """(p~, q~) of every tree's leaves at its GKR end point, from the
    looked-up rows' column values and the multiplicities at the segment
    points (the verifier's leaf check; linear in those values, so it holds
    for Hidden values too). ends[t] = (point, ...).

    Each sum is accumulated term by term on plain ints (`LinearSum`): a
    zero-knowledge run's column values are Hidden forms, and building a
    form per product was most of a big lookup's leaf check.
    `leaf_sums_reference` computes the same forms with Hidden arithmetic."""
    from zkaudit.field.hidden import LinearSum
    from zkaudit.poly.mle import prefix_indicator

    tree_vars, segments = instance.layout()
    w = instance.width
    comb = row_combiners(beta, w)
    p_sums = [LinearSum() for _ in tree_vars]
    q_sums = [LinearSum() for _ in tree_vars]
    selector = _segment_selector(ends)
    # A table's columns at a segment point depend on the table's values and
    # the point, which is fixed by (tree, cut): equal tables (one shared
    # object: a recurrent model's sigmoid per step, 960 segments in
    # vitals_gru; equal range specs, one per Requantize system) in one tree
    # at one size are evaluated once.
    table_evals: dict = {}
    # The row indicator at a lookup's segment point, likewise, by (rows, tree, cut).
    indicators: dict = {}
    # Scalars on plain ints (reduced once per product, summed unreduced).
    a0, a1 = alpha.c0, alpha.c1
    combs = [(c.c0, c.c1) for c in comb]
    tag0, tag1 = combs[w]
    for s in segments:
        tree = s.tree
        point = ends[tree][0]
        cut = tree_vars[tree] - s.num_vars
        sel = selector(tree, cut, s.offset >> s.num_vars)
        s0, s1 = sel.c0, sel.c1
        if s.kind == "lookup":
            lk = instance.lookups[s.index]
            table, vals = lk.table, column_values[s.index]
            key = (lk.num_rows, tree, cut)
            ind = indicators.get(key)
            if ind is None:
                ind = indicators[key] = prefix_indicator(lk.num_rows, point[cut:])
            p_sums[tree].add_ints(ind, s0, s1)
        else:
            tbl = instance.tables[s.index]
            # a TableSpec is a value (frozen): equal specs share, not only one object
            key = (tbl if type(tbl) is TableSpec else id(tbl), tree, cut)
            vals = table_evals.get(key)
            if vals is None:
                vals = table_evals[key] = tbl.evaluate_columns(point[cut:])
            table = s.index
            p_sums[tree].add_ints(multiplicity_values[s.index], -s0, -s1)
        q = q_sums[tree]
        d0, d1 = a0 - tag0 * table, a1 - tag1 * table  # alpha - beta^w table
        q.add_const(d0 * s0 + W * d1 * s1, d0 * s1 + d1 * s0)
        for (k0, k1), v in zip(combs, vals):  # - beta^c sel v
            q.add_ints(v, -(k0 * s0 + W * k1 * s1) % P, -(k0 * s1 + k1 * s0) % P)
    return [a.value() for a in p_sums], [a.value() for a in q_sums]


def leaf_sums_reference(instance, ends, column_values, multiplicity_values, alpha, beta):
    """`leaf_sums` in Hidden arithmetic, a Hidden built per operation."""
    from zkaudit.field.hidden import hidden_sum
    from zkaudit.poly.mle import prefix_indicator

    tree_vars, segments = instance.layout()
    w = instance.width
    comb = row_combiners(beta, w)
    p_terms = [[] for _ in tree_vars]
    q_terms = [[] for _ in tree_vars]
    selector = _segment_selector(ends)
    for s in segments:
        point = ends[s.tree][0]
        cut = tree_vars[s.tree] - s.num_vars
        lo = point[cut:]
        sel = selector(s.tree, cut, s.offset >> s.num_vars)
        if s.kind == "lookup":
            lk = instance.lookups[s.index]
            table, vals = lk.table, column_values[s.index]
            num = prefix_indicator(lk.num_rows, lo)
        else:
            table, vals = s.index, instance.tables[s.index].evaluate_columns(lo)
            num = -multiplicity_values[s.index]
        den = alpha - comb[w] * table
        for c, v in enumerate(vals):
            den = -(comb[c] * v) + den
        p_terms[s.tree].append(num * sel)
        q_terms[s.tree].append(den * sel)
    return [hidden_sum(t) for t in p_terms], [hidden_sum(t) for t in q_terms]
