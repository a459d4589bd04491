"""The hiding (zero-knowledge) tensor-code commitment: the construction and
the prover. What prover and verifier share (the claims, their checks and
encoding, the mask points, the row groups) is `hiding_claims.py`, whose
names this module re-exports; the verifier is `hiding_verifier.py` and
imports only that; parameters and soundness are in `params.py`.

**What is committed.** The tables are laid out as in `layout.py` together
with one companion *mask table* mu_i per table i (2^min(v_i, s) random
entries, s = params.mask_vars), giving R data rows of width m. Then

    rows R, R + 1      b_z = b_z0 + X b_z1 : the blinding row

(the blinding row is an *extension* vector, stored as two base rows: the
combination the verifier sees is an extension vector, and one base row
would blind only one of each entry's two coordinates -- the rank test
caught exactly that in a first version)
and every row, data or blinding, is extended with l_pad uniformly random
message symbols: row r is the polynomial
    P_r(X) = sum_{c < m} M[r, c] X^c + X^m sum_{k < l_pad} pad[r, k] X^k
of degree < m + l_pad, evaluated on H_n (n = m 2^b, bit-reversed order as
in `ntt.py`). Each Merkle leaf is one codeword column followed by a fresh
128-bit salt.

**Why any l_pad opened positions of a row are uniform.** The coefficient
form keeps the message and the padding apart, so no disjoint domains are
needed: for distinct points eta_1..eta_t of H_n, the values
P_r(eta_j) = D(eta_j) + eta_j^m Pad(eta_j) have, as functions of the pad,
the matrix [eta_j^(m + k)]_{j, k} = diag(eta_j^m) V, V the t x l_pad
Vandermonde matrix on distinct nodes: of rank t for t <= l_pad, so with a
uniform pad the t values are uniform whatever D is. Two pad symbols of each
row also mask the batching sum-check (below), so the opened columns are
uniform given everything else as long as t + 2 <= l_pad (l_pad = t + 8).

**Masked claims: the polynomial the caller states its claim on.** For a
table f of v >= 1 variables and a point z in K^v, a hiding `Claim(i, z, v)`
asserts

    f^(z) = f~(z) + Z(z) mu~(z_1, ..., z_s'),   Z(z) = prod_{k <= v} z_k (1 - z_k),

s' = min(v, s). Z vanishes on {0, 1}^v, so f^ agrees with f on the cube
(a GKR layer may use f^ in place of f~ in its sum-checks; Libra's randomized
extension), and for up to 2^(s' - 1) claims on f at generic points the
values are uniform: each value is an element of K, two base coordinates,
while mu has 2^s' base entries (`max_masked_claims`; a third claim on a
4-entry mask left the witness difference outside the span of the prover's
randomness in the exact rank test). A table of 0 variables cannot be masked (the cube is its only
point). `WeightedClaim(i, offset, weights, value)` asserts the *exact*
value sum_k weights[k] f[offset + k]: for tables that are themselves random
(the sum-check masks of `zkaudit.sumcheck.mask`); nothing else of them
leaks. The prover refuses more masked claims on a table than its mask hides.

**The opening** (interactive form; the transcript makes it Fiat-Shamir):

    1. absorb digest and claims (the D = R + 2 rows, data and b_z, are all
       the committed rows)
    2. tau_0, tau_1 <- K^l;  P: S = P0~(tau_0) + P1~(tau_1), where
       P_i(y) = pad[y, i] for y < D (the domain rows), 0 beyond
       rho_m <- K, gamma <- K
    3. sum-check over y in {0,1}^l of
           sum_t c_t eq(Y_t, y) W_t(y) + rho_m sum_i eq(tau_i, y) P_i(y)
       = sum_j gamma^j v_j + rho_m S,  with W_t(y) = <w_t, M[y, :m]>
       (t runs over the claims' terms: a masked claim has two, its table's
       and its mask's with coefficient Z(z); a weighted claim one per row
       it touches). Terms on one row point Y share eq(Y, y) and are proven
       as one pair of the sum-check, eq(Y, .) times sum_t c_t W_t
       (`row_groups`): the same polynomial, two final values per row point
       instead of per term.
    4. P: u_z = sum_{y < D} eq(rho, y) Row_y               (m + l_pad symbols)
       V: eq(Y_t, rho), eq(tau_i, rho) itself; P_i(rho) = u_z[m + i];
          the groups' values sum_t c_t W_t(rho), W_t(rho) = <w_t, u_z[:m]>,
          all at once by the column check (`column_check`: lambda <- K and
          one plain sum-check of sum_x u_z~(x) V(x), V the eq-weighted
          terms' column vectors combined, which the verifier evaluates at
          the sum-check's point in O(log m) per term); when the terms'
          blocks are small, by the verifier's own sums, and no sum-check
    5. t positions, drawn from the transcript (the proof sends none); columns
       and salts with Merkle paths;
       V: Enc(u_z)_j = sum_{y < D} eq(rho, y) C[y, j].

There is no separate proximity row: u_z = eq(rho, .) M is a tensor
combination of the rows at the sum-check's point rho, whose coordinates are
uniform challenges drawn after the commitment, and Reed-Solomon codes have
tensor-style proximity gaps up to the unique-decoding radius (`params.py`,
the l n / |K| term), so step 5's check on u_z is both the proximity test
and the evaluation check (a version-2 opening also sent a random row
combination u_r, blinded by a second blinding row, for the test).

What each revealed item is masked by: u_z[:m] and u_z[m + 2:] by b_z (the 2 x 2 base matrix of eq(rho, R),
eq(rho, R + 1) is invertible whp); the rounds, S and
u_z[m], u_z[m + 1] by the pad columns P_0, P_1 (two eq-weighted terms give
each round a full quadratic of fresh randomness); the claim values by the
mu tables; opened columns by the pads. tests/pcs/test_hiding.py checks all
of this at once with the exact rank test (every revealed element affine in
the prover's randomness, the difference of two witnesses' transcripts in
its span). Soundness: the blinding rows and pads are committed before any
challenge; step 3 is the plain opening's sum-check over a matrix with more
rows plus one random-linear term (rho_m after S: 1 / |K|); steps 4-5 are
the plain opening's evaluation check for the (m + l_pad)-dimensional code,
with the tensor proximity gap (l n / |K|) in place of the random
combination's (n / |K|).

**Cost against the plain commitment** (benchmarks/zk_bench.py). The rate,
width, queries and padding are solved per size (`PcsParams.hiding_shape`:
a small matrix takes narrower rows at a lower rate, a wide one the plain
width); below, the wide case. The matrix
has the plain width (`PcsParams.choose_log_cols`) and R + 2 rows of
m + l_pad entries. Committing encodes each row once: on block t's coset
X^m is the constant s_t^m, so the padding folds into the message before
the block's size-m transform (`encode_rows`; `encode_rows_reference` runs
the two transforms). Opening reads each claim term's column block only
(`term_dots`) and proves the batching sum-check with `pair_sumcheck`;
verifying encodes its two rows in one call. CPU time at 2^16 / 2^20
entries: commit 1.14x / 1.05x, open 0.8x / 0.95x, verify 1.1x / 1.17x the
plain commitment's, proof 1.16x / 1.09x. Remeasured after the per-size
shapes (medians of 7, 2 threads, a shared 2-core machine): 2^12 entries
(rows of 2^8 at rate 1/8, 137 queries) proof 1.39x (1.97x with the former
2^10 rows at 1/4), commit 2.8x, open 2.2x, verify 1.1x; 2^20 proof 1.00x,
commit 1.13x, open 1.17x, verify 1.33x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field import npfield as nf
from zkaudit.field.constants import W
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.pcs import kernels as k
from zkaudit.pcs.hiding_claims import (
    LABEL_MASK_RHO,
    LABEL_MASK_SUM,
    LinearClaim,
    NUM_BLIND,
    NUM_PAD_MASKS,
    Term,
    WeightedClaim,
    absorb_claims,
    all_num_vars,
    batch_spec,
    check_hiding_claims,
    check_linear_claim,
    claim_terms,
    claim_terms_reference,
    expected_finals_at,
    group_coeffs,
    mask_num_vars,
    mask_points,
    masked_value,
    max_masked_claims,
    row_groups,
    row_groups_reference,
    _block_terms,
    _term,
)
from zkaudit.pcs.hiding_code import encode_rows
from zkaudit.pcs.layout import Layout
from zkaudit.pcs.merkle import MerkleTree
from zkaudit.pcs.pair_sumcheck import prove_pairs
from zkaudit.pcs.params import MAX_LOG_CELLS, PcsParams
from zkaudit.pcs.proof import Commitment
from zkaudit.poly.mle import eq_table, point_array
from zkaudit.transcript import Transcript

U64 = np.uint64
_ZERO, _ONE = Fp2(0), Fp2(1)

# the prover's names, and the shared ones that other modules and the tests import from here
__all__ = [
    "HidingProverData",
    "LABEL_MASK_RHO",
    "LABEL_MASK_SUM",
    "LinearClaim",
    "NUM_BLIND",
    "NUM_PAD_MASKS",
    "SMALL_BLOCK_WORK",
    "Term",
    "WeightedClaim",
    "_block_terms",
    "_term",
    "absorb_claims",
    "all_num_vars",
    "batch_spec",
    "check_linear_claim",
    "claim_terms",
    "claim_terms_reference",
    "col_block",
    "col_vector",
    "combine_dots",
    "combine_dots_reference",
    "commit_hiding",
    "expected_finals_at",
    "group_coeffs",
    "mask_num_vars",
    "mask_points",
    "masked_value",
    "max_masked_claims",
    "open_hiding",
    "row_groups",
    "row_groups_reference",
    "term_dots",
    "term_dots_reference",
]

# ------------------------------------------------------------------ commit


@dataclass
class HidingProverData:
    params: PcsParams
    layout: Layout  # of all_num_vars: tables then masks
    num_tables: int
    matrix: np.ndarray  # (R + 2, m + l_pad): data rows, b_z (2 rows), each with its pads
    leaves: np.ndarray  # (n, R + 2 + 2): codeword columns then the salt words
    tree: MerkleTree
    commitment: Commitment
    tables: list[np.ndarray]
    masks: list[np.ndarray]

    @property
    def domain_rows(self) -> int:
        """Rows in the batching sum-check's domain: data rows and b_z."""
        return self.layout.num_rows + NUM_BLIND

    def masked_value(self, i: int, point) -> Fp2:
        return masked_value(self.tables[i], self.masks[i], point)


def commit_hiding(polys: list[np.ndarray], params: PcsParams, check_table,
                  stream=None) -> tuple[Commitment, HidingProverData]:
    """`stream`: where the randomness comes from (`field.randomness`): the OS
    CSPRNG by default, a `SeededStream` for a commitment its holder must be
    able to recompute from its seed."""
    from zkaudit.field.randomness import OsStream
    from zkaudit.pcs.prover import build_matrix

    rng = stream or OsStream
    num_vars = [check_table(i, t) for i, t in enumerate(polys)]
    sizes = [1 << mask_num_vars(v, params) for v in num_vars]
    if rng is OsStream:  # one draw cut into the masks (hundreds of tables: one system call, not one each)
        flat = rng.base(sum(sizes))
        masks = [flat[a : a + n] for a, n in zip(np.cumsum([0] + sizes[:-1]).tolist(), sizes)]
    else:  # a seeded stream keeps its draw order: its commitments are recomputed from the seed
        masks = [rng.base(n) for n in sizes]
    every = all_num_vars(num_vars, params)
    params = params.hiding_shape(every)  # rate, width, queries and padding for this size
    log_cols = params.choose_log_cols(every)
    layout = Layout.build(every, log_cols)
    m, pad = layout.cols, params.pad_symbols
    R = layout.num_rows
    rows = R + NUM_BLIND
    if rows << (log_cols + params.log_blowup) > 1 << MAX_LOG_CELLS:  # the verifier refuses it (`params.py`)
        raise ValueError(f"a hiding commitment of {rows} rows of 2^{log_cols} holds more than 2^{MAX_LOG_CELLS} "
                         "codeword cells: commit the tables in parts")
    matrix = np.empty((rows, m + pad), dtype=U64)
    matrix[:R, :m] = build_matrix(list(polys) + masks, layout)
    matrix[R:, :m] = rng.base(NUM_BLIND * m).reshape(NUM_BLIND, m)  # b_z
    matrix[:, m:] = rng.base(rows * pad).reshape(rows, pad)
    n = m << params.log_blowup
    leaves = np.empty((n, rows + 2), dtype=U64)  # one leaf: a codeword column, then its salt
    encode_rows(matrix, log_cols, params, leaves)
    leaves[:, rows:] = rng.salts(n)
    tree = MerkleTree(leaves)
    commitment = Commitment(params.log_blowup, log_cols, tuple(num_vars), tree.root)
    return commitment, HidingProverData(params, layout, len(polys), matrix, leaves, tree, commitment,
                                        list(polys), masks)


def col_vector(term: Term, m: int) -> np.ndarray:
    """w_t as an (m, 2) extension vector (the reference form of `term_dots`)."""
    if term.col_point is not None:
        e = eq_table(point_array(list(term.col_point)))
        if e.shape[0] == m:
            return e
    out = np.zeros((m, 2), dtype=U64)
    if term.block is not None:
        start, w = term.block
        out[start : start + w.shape[0]] = w
        return out
    for col, w in term.col_weights:
        out[col] = (w.c0, w.c1)
    return out


def col_block(term: Term) -> tuple[int, np.ndarray]:
    """(start, w): w_t is zero outside columns start .. start + len(w) - 1.
    An eq-weighted term's column point starts with its block's address bits
    (a table narrower than a row, e.g. every mask table), and each leading
    0/1 coordinate picks a half exactly; a weighted term spans its columns."""
    if term.col_point is not None:
        x = term.col_point
        start, i = 0, 0
        while i < len(x) and (x[i] == _ZERO or x[i] == _ONE):
            start += int(x[i] == _ONE) << (len(x) - 1 - i)
            i += 1
        return start, eq_table(point_array(list(x[i:])))
    if term.block is not None:
        return term.block
    cols = [c for c, _ in term.col_weights]
    start = min(cols)
    out = np.zeros((max(cols) - start + 1, 2), dtype=U64)
    for col, w in term.col_weights:
        out[col - start] = (w.c0, w.c1)
    return start, out


def term_dots(matrix: np.ndarray, terms: list[Term], m: int) -> np.ndarray:
    """W_t(y) = <w_t, M[y, :m]> for every row y of `matrix` and every term:
    (terms, rows, 2). An eq-weighted term on a small block (rows x block
    below SMALL_BLOCK_WORK: a claim on a table of a few dozen entries) is
    the MLE of its block of each row at its point (`kernels.block_points`),
    every distinct point of all such terms in one `eval_blocks_matrix`
    call; they cost a kernel call each before (clinical_mlp's 256 claims).
    A weighted term (a few bank entries) is its entries' columns times
    their weights, all such terms in one numpy product and one exact sum.
    Every other term reads only its column block, terms sharing a block in
    one kernel call (a mask term costs 2^s columns, not m).
    Terms with the same column weights (claims on several tables at one
    point, a table's and its neighbours' rows) share one product: a term
    on a wide table reads every row, so each distinct weight vector costs
    rows x block width. `term_dots_reference` is the full-width form."""
    num_rows = matrix.shape[0]
    out = np.empty((len(terms), num_rows, 2), dtype=U64)
    done = np.zeros(len(terms), dtype=bool)
    eq_at = [i for i, t in enumerate(terms) if t.col_point is not None]
    if eq_at:
        distinct: dict[tuple, int] = {}
        which = np.array([distinct.setdefault(terms[i].col_point, len(distinct)) for i in eq_at], dtype=np.int64)
        starts, log_sizes, points = k.block_points(list(distinct), m.bit_length() - 1)
        small = (num_rows << log_sizes) < SMALL_BLOCK_WORK
        if small.any():
            sel = np.nonzero(small)[0]
            values = np.empty((len(distinct), num_rows, 2), dtype=U64)
            part = np.empty((sel.shape[0], num_rows, 2), dtype=U64)
            # the whole rows (blocks lie in the first m columns): no copy of the matrix
            k.eval_blocks_matrix(np.ascontiguousarray(matrix), starts[sel], log_sizes[sel], points[sel], part)
            values[sel] = part
            take = small[which]
            at = np.asarray(eq_at, dtype=np.int64)[take]
            out[at] = values[which[take]]
            done[at] = True
    weighted = [i for i, t in enumerate(terms) if t.col_point is None and t.block is None and t.col_weights]
    if weighted:  # a few entries each (bank pads): every entry's column times its weight, summed per term
        offsets, cols, words = [0], [], []
        for i in weighted:
            for col, w in terms[i].col_weights:
                cols.append(col)
                words += (w.c0, w.c1)
            offsets.append(len(cols))
        sums = np.empty((len(weighted), num_rows, 2), dtype=U64)
        k.weighted_dots(np.ascontiguousarray(matrix), np.asarray(offsets, dtype=np.int64),
                        np.asarray(cols, dtype=np.int64), np.array(words, dtype=U64).reshape(-1, 2), sums)
        out[weighted] = sums
        done[weighted] = True
    groups: dict[tuple[int, int], dict[bytes, tuple[np.ndarray, list[int]]]] = {}
    for i, t in enumerate(terms):
        if done[i]:
            continue
        start, w = col_block(t)
        same = groups.setdefault((start, w.shape[0]), {})
        key = w.tobytes()
        if key in same:
            same[key][1].append(i)
        else:
            same[key] = (w, [i])
    for (start, size), members in groups.items():
        vecs = list(members.values())
        raw = np.empty((2 * len(vecs), matrix.shape[0]), dtype=U64)
        k.row_dots(matrix[:, start : start + size], k.coordinate_major(np.stack([w for w, _ in vecs])), raw)
        res = k.ext_results(raw)
        for j, (_, idx) in enumerate(vecs):
            out[idx] = res[j]
    return out


def combine_dots_reference(dots: np.ndarray, coeffs: list[Fp2]) -> np.ndarray:
    """`combine_dots` entry by entry on Fp2 scalars."""
    out = np.zeros((dots.shape[1], 2), dtype=U64)
    for y in range(dots.shape[1]):
        acc = _ZERO
        for j, c in enumerate(coeffs):
            acc = acc + c * Fp2(int(dots[j, y, 0]), int(dots[j, y, 1]))
        out[y] = (acc.c0, acc.c1)
    return out


def term_dots_reference(matrix: np.ndarray, terms: list[Term], m: int) -> np.ndarray:
    colvecs = np.stack([col_vector(t, m) for t in terms])
    raw = np.empty((2 * len(terms), matrix.shape[0]), dtype=U64)
    k.row_dots(np.ascontiguousarray(matrix[:, :m]), k.coordinate_major(colvecs), raw)
    return k.ext_results(raw)


# Below this many matrix entries (rows x block width) an eq-weighted term is
# folded with all the others in one `eval_blocks_matrix` call (`term_dots`);
# from it on it gets its own `row_dots` call, whose start-up it then repays.
SMALL_BLOCK_WORK = 1 << 12


def combine_dots(dots: np.ndarray, coeffs: list[Fp2]) -> np.ndarray:
    """sum_j coeffs[j] dots[j] for (g, D, 2) extension rows: the two base
    coordinates of the rows as two row-dot products with the coefficients,
    then (a0 + X a1) + X (b0 + X b1) = (a0 + W b1) + X (a1 + b0)."""
    g, num_rows, _ = dots.shape
    weights = k.coordinate_major(np.array([[(c.c0, c.c1) for c in coeffs]], dtype=U64))
    parts = []
    for coord in (0, 1):
        raw = np.empty((2, num_rows), dtype=U64)
        k.row_dots(np.ascontiguousarray(dots[:, :, coord].T), weights, raw)
        parts.append(raw)
    (a0, a1), (b0, b1) = parts
    out = np.empty((num_rows, 2), dtype=U64)
    out[:, 0] = nf.add(a0, nf.mul_small(b1, W))
    out[:, 1] = nf.add(a1, b0)
    return out


# ------------------------------------------------------------------- open


def open_hiding(data: HidingProverData, claims, transcript: Transcript):
    from zkaudit.pcs import column_check, column_check_prover, protocol
    from zkaudit.pcs.prover import combine_rows
    from zkaudit.pcs.proof import HidingOpeningProof

    params, layout = data.params, data.layout
    check_hiding_claims(layout, data.num_tables, claims, params)
    m, D = layout.cols, data.domain_rows
    l = (D - 1).bit_length()
    r_pad = 1 << l
    digest = data.commitment.digest()
    absorb_claims(transcript, digest, claims)

    # 2. the sum-check's mask: two pad columns, eq-weighted at tau_0, tau_1
    taus = mask_points(transcript, l)
    pad_tables = []
    for i in range(NUM_PAD_MASKS):
        col = np.zeros(r_pad, dtype=U64)
        col[:D] = data.matrix[:D, m + i]
        pad_tables.append(col)
    from zkaudit.poly.mle import evaluate

    mask_sum = _ZERO
    for tau, col in zip(taus, pad_tables):
        v = evaluate(col, tau)
        mask_sum = mask_sum + (Fp2.from_base(v) if isinstance(v, Fp) else v)
    transcript.absorb_ext(LABEL_MASK_SUM, mask_sum)
    rho_m = transcript.challenge_ext(LABEL_MASK_RHO)
    powers = protocol.batching_powers(transcript, len(claims))

    # 3. the batching sum-check
    terms = claim_terms(layout, data.num_tables, claims, params, l)
    flat, coeffs_t = [], []
    for g, ts in zip(powers, terms):
        for t in ts:
            flat.append(t)
            coeffs_t.append(g * t.coeff)
    dots = term_dots(data.matrix[:D], flat, m)
    groups = row_groups(flat)
    pair_coeffs = group_coeffs(groups, coeffs_t)
    tables = []
    for g in groups:
        w = np.zeros((r_pad, 2), dtype=U64)
        w[:D] = dots[g[0]] if len(g) == 1 else combine_dots(dots[g], [coeffs_t[i] for i in g])
        tables += [eq_table(point_array(list(flat[g[0]].row_point))), w]
    for tau, col in zip(taus, pad_tables):
        tables += [eq_table(point_array(tau)), col]
        pair_coeffs.append(rho_m)
    claimed = protocol.batched_value(powers, claims) + rho_m * mask_sum
    sc, evaluation = prove_pairs(tables, pair_coeffs, transcript, claimed_sum=claimed)

    # 4. evaluation row over the domain rows (b_z included), and the column
    # check of the groups' values against it (`column_check`)
    rho_eq = eq_table(point_array(list(evaluation.point)))[:D]
    u_eval = combine_rows(np.ascontiguousarray(data.matrix[:D]), rho_eq)
    transcript.absorb_vec(protocol.LABEL_EVALUATION_ROW, u_eval)
    column_sc = None
    if not column_check.direct(column_check.points_array([t.col_point for t in flat if t.col_point is not None],
                                                         layout.log_cols)):
        column_sc = column_check_prover.prove_column_check(flat, groups, coeffs_t, np.ascontiguousarray(u_eval[:m]),
                                                           transcript)

    # 5. columns with their salts, at the transcript's positions (the verifier draws them too)
    positions = protocol.query_positions(transcript, layout.log_cols + params.log_blowup, params.num_queries)
    leaves = data.leaves[positions]
    R2 = data.matrix.shape[0]
    siblings = data.tree.open(positions).siblings
    return HidingOpeningProof(digest, R2, params.pad_symbols, mask_sum, sc, u_eval, column_sc,
                              np.ascontiguousarray(leaves[:, :R2]), np.ascontiguousarray(leaves[:, R2:]), siblings)
