"""The hiding commitment's fast paths against their naive references: the
fused padded encoder (prover and verifier forms) against separate
transforms, the block-restricted row dots against full-width ones, the
serial pair sum-check against the generic prover (byte-identical proofs),
and a whole hiding opening through either set of paths."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.pcs import Claim, PcsParams, commit, hiding, open, verify
from zkaudit.pcs import hiding_code, pair_sumcheck
from zkaudit.pcs.hiding import LinearClaim, WeightedClaim
from zkaudit.pcs.layout import Layout
from zkaudit.sumcheck import prover as generic_prover
from zkaudit.sumcheck.errors import SumcheckRejected
from zkaudit.sumcheck.verifier import verify as sumcheck_verify
from zkaudit.transcript import Transcript

ZK = PcsParams.default_hiding()
TINY = PcsParams.for_tests_hiding(4)


def _transcript(tag="hiding-kernels") -> Transcript:
    t = Transcript()
    t.absorb_statement(tag, 1, digests={"c": b"\0" * 32})
    return t


def _message(rows, log_m, params, seed, edge=False):
    rng = np.random.default_rng(seed)
    mat = vec.random(rows * ((1 << log_m) + params.pad_symbols), rng).reshape(rows, -1)
    if edge:  # the largest canonical values, in the data and in the padding
        mat[:, ::3] = P - 1
        mat[:, (1 << log_m) :: 2] = P - 2
    return mat


# ------------------------------------------------------------ encoders


@pytest.mark.parametrize("params", [TINY, ZK], ids=["tiny", "default"])
@pytest.mark.parametrize("extra_cols", [0, 1])
@pytest.mark.parametrize("rows", [1, 5, 33, 69])
def test_fused_encoder_equals_two_transform_reference(params, extra_cols, rows):
    log_m = params.min_log_cols + extra_cols
    for edge in (False, True):
        mat = _message(rows, log_m, params, rows + 7 * extra_cols, edge)
        want = hiding_code.encode_rows_reference(mat, log_m, params)
        out = np.full((want.shape[0], rows + 2), 12345, dtype=np.uint64)
        hiding_code.encode_rows(mat, log_m, params, out)
        assert np.array_equal(out[:, :rows], want)
        assert np.all(out[:, rows:] == 12345)  # the salt words are the caller's


@pytest.mark.parametrize("params", [TINY, ZK], ids=["tiny", "default"])
def test_verifier_encoder_equals_reference(params):
    rng = np.random.default_rng(3)
    log_m = params.min_log_cols + 1
    rows = [vec.ext_random((1 << log_m) + params.pad_symbols, rng) for _ in range(3)]
    rows[1][:] = P - 1
    got = hiding_code.encode_messages_ext(rows, log_m, params)
    for u, enc in zip(rows, got):
        assert np.array_equal(enc, hiding_code.encode_message_ext_reference(u, log_m, params))
        assert np.array_equal(hiding_code.encode_message_ext(u, log_m, params), enc)


def test_encoder_refuses_wrong_shapes():
    log_m = TINY.min_log_cols
    mat = _message(3, log_m, TINY, 0)
    n = (1 << log_m) << TINY.log_blowup
    with pytest.raises(TypeError):
        hiding_code.encode_rows(mat[:, 1:], log_m, TINY, np.empty((n, 3), dtype=np.uint64))
    with pytest.raises(ValueError):
        hiding_code.encode_rows(mat, log_m, TINY, np.empty((n, 2), dtype=np.uint64))
    with pytest.raises(ValueError):
        hiding_code.encode_rows(mat, log_m, TINY, np.empty((n // 2, 3), dtype=np.uint64))


@pytest.mark.parametrize("threads", [1, 2, 3, 4, 16])
def test_encoder_groups_are_balanced_across_threads(threads):
    for rows in range(1, 300):
        g = hiding_code.balanced_group(rows, threads)
        tasks = -(-rows // g)
        assert 1 <= g <= 32
        # every thread gets the same number of tasks, or there is one task per row
        assert tasks % threads == 0 or g == 1 or tasks < threads
        assert -(-rows // threads) <= -(-tasks // threads) * g  # the rows are all covered


# ------------------------------------------------------------ row dots


def test_block_row_dots_equal_full_width_reference():
    rng = np.random.default_rng(5)
    params = ZK
    sizes = [12, 3, 0, 7, 1]
    every = hiding.all_num_vars(sizes, params)
    lay = Layout.build(every, params.choose_log_cols(every))
    mat = vec.random((lay.num_rows + 2) * (lay.cols + params.pad_symbols), rng).reshape(lay.num_rows + 2, -1)

    def pt(v):
        return tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(v, rng))

    claims = [Claim(0, pt(12), Fp2(1)), Claim(1, pt(3), Fp2(1)), Claim(3, pt(7), Fp2(1)),
              Claim(3, pt(7), Fp2(1)), Claim(4, pt(1), Fp2(1)),
              WeightedClaim(2, 0, (Fp2(3),), Fp2(1)),
              WeightedClaim(0, lay.cols - 2, (Fp2(3), Fp2(4, 5), Fp2(9), Fp2(0, 1)), Fp2(1)),
              Claim(0, (Fp2(1), Fp2(0)) + pt(10), Fp2(1))]  # a point with Boolean leading coordinates
    l = (lay.num_rows + 1).bit_length()
    terms = [t for ts in hiding.claim_terms(lay, len(sizes), claims, params, l) for t in ts]
    got = hiding.term_dots(mat, terms, lay.cols)
    assert np.array_equal(got, hiding.term_dots_reference(mat, terms, lay.cols))


def test_row_dots_shared_by_terms_with_one_column_point_equal_reference():
    """Claims on several tables at one point (and one table twice) share
    their column products: the shared rows land on every term."""
    rng = np.random.default_rng(6)
    params = ZK
    sizes = [12, 12, 11, 7, 7]
    every = hiding.all_num_vars(sizes, params)
    lay = Layout.build(every, params.choose_log_cols(every))
    mat = vec.random((lay.num_rows + 2) * (lay.cols + params.pad_symbols), rng).reshape(lay.num_rows + 2, -1)

    def pt(v):
        return tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(v, rng))

    p12, p7 = pt(12), pt(7)
    claims = [Claim(0, p12, Fp2(1)), Claim(1, p12, Fp2(1)), Claim(0, p12, Fp2(1)), Claim(2, p12[1:], Fp2(1)),
              Claim(3, p7, Fp2(1)), Claim(4, p7, Fp2(1)), Claim(0, pt(12), Fp2(1)),
              LinearClaim(((0, p12, Fp2(2)), (1, p12, Fp2(3))), ((4, 5, Fp2(7)),), Fp2(0))]
    l = (lay.num_rows + 1).bit_length()
    terms = [t for ts in hiding.claim_terms(lay, len(sizes), claims, params, l) for t in ts]
    got = hiding.term_dots(mat, terms, lay.cols)
    assert np.array_equal(got, hiding.term_dots_reference(mat, terms, lay.cols))


# ------------------------------------------------------------ sum-check


@pytest.mark.parametrize("num_vars", [1, 2, 5, 9])
@pytest.mark.parametrize("num_pairs", [1, 3, 6])
def test_pair_sumcheck_proof_is_the_generic_provers(num_vars, num_pairs):
    rng = np.random.default_rng(100 * num_vars + num_pairs)
    tables = [vec.ext_random(1 << num_vars, rng) if i % 3 else vec.random(1 << num_vars, rng)
              for i in range(2 * num_pairs)]
    tables[0][:] = P - 1
    coeffs = [Fp2(int(a), int(b)) for a, b in vec.ext_random(num_pairs, rng)]
    spec = pair_sumcheck.pair_spec(coeffs)
    for claimed in (None, Fp2(5)):  # the true sum, and a false one the prover is asked for
        ref, ref_eval, total = generic_prover.prove(tables, spec, _transcript(), claimed_sum=claimed)
        proof, evaluation = pair_sumcheck.prove_pairs(tables, coeffs, _transcript(), claimed_sum=total)
        assert proof.to_bytes() == ref.to_bytes() and evaluation == ref_eval
        if claimed is None:
            assert sumcheck_verify(proof, total, num_vars, spec, _transcript()) == evaluation
        else:
            with pytest.raises(SumcheckRejected):
                sumcheck_verify(proof, total, num_vars, spec, _transcript())


def test_pair_sumcheck_refuses_bad_shapes():
    t = vec.random(4)
    with pytest.raises(ValueError):
        pair_sumcheck.prove_pairs([t], [Fp2(1)], _transcript(), claimed_sum=Fp2(0))
    with pytest.raises(ValueError):
        pair_sumcheck.prove_pairs([t, vec.random(8)], [Fp2(1)], _transcript(), claimed_sum=Fp2(0))
    with pytest.raises(ValueError):
        pair_sumcheck.prove_pairs([vec.random(1), vec.random(1)], [Fp2(1)], _transcript(), claimed_sum=Fp2(0))


# ------------------------------------------------------------ whole opening


def test_hiding_opening_is_the_same_through_the_reference_paths(monkeypatch):
    rng = np.random.default_rng(9)
    sizes = [11, 4, 2]
    tables = [vec.random(1 << s, rng) for s in sizes]
    c, data = commit(tables, ZK)

    def pt(v):
        return tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(v, rng))

    claims = [Claim(i, p, data.masked_value(i, p)) for i, s in enumerate(sizes) for p in [pt(s), pt(s)]]
    claims.append(WeightedClaim(2, 1, (Fp2(2), Fp2(0, 3)), Fp2(2) * Fp2(int(tables[2][1]))
                                + Fp2(0, 3) * Fp2(int(tables[2][2]))))
    fast = open(data, claims, _transcript())
    # the small tables' terms share row points: fewer sum-check pairs than terms
    flat = [t for ts in hiding.claim_terms(data.layout, len(sizes), claims, data.params,
                                           (data.domain_rows - 1).bit_length()) for t in ts]
    groups = hiding.row_groups(flat)
    assert any(len(g) > 1 for g in groups)
    assert len(fast.sumcheck.final_values) == 2 * (len(groups) + hiding.NUM_PAD_MASKS) < 2 * len(flat)
    # the commitment itself through the two-transform encoder
    assert np.array_equal(data.leaves[:, : data.matrix.shape[0]],
                          hiding_code.encode_rows_reference(data.matrix, data.layout.log_cols, data.params))

    def generic(tables_, coeffs, transcript, *, claimed_sum):
        proof, evaluation, _ = generic_prover.prove(tables_, pair_sumcheck.pair_spec(coeffs), transcript,
                                                    claimed_sum=claimed_sum)
        return proof, evaluation

    monkeypatch.setattr(hiding, "prove_pairs", generic)
    monkeypatch.setattr(hiding, "term_dots", hiding.term_dots_reference)
    monkeypatch.setattr(hiding, "combine_dots", hiding.combine_dots_reference)
    slow = open(data, claims, _transcript())
    assert fast.to_bytes() == slow.to_bytes()
    verify(c, claims, fast, _transcript(), ZK)


def test_combine_dots_equals_the_scalar_reference():
    rng = np.random.default_rng(31)
    for g, rows in ((1, 1), (3, 5), (40, 17)):
        dots = vec.ext_random(g * rows, rng).reshape(g, rows, 2)
        dots[0, 0] = (P - 1, P - 1)
        coeffs = [Fp2(int(a), int(b)) for a, b in vec.ext_random(g, rng)]
        coeffs[-1] = Fp2(P - 1, P - 1)
        assert np.array_equal(hiding.combine_dots(dots, coeffs), hiding.combine_dots_reference(dots, coeffs))


def test_a_false_claim_sharing_a_row_with_true_ones_is_rejected():
    """Terms on one row point are batched into one pair: a false value among
    true claims on the same row (the merged column side) is still caught."""
    from zkaudit.pcs.errors import PcsRejected

    rng = np.random.default_rng(32)
    tables = [vec.random(1 << 3, rng) for _ in range(4)]
    c, data = commit(tables, ZK)

    def entry(t, k):
        return WeightedClaim(t, k, (Fp2(1),), Fp2(int(tables[t][k])))

    claims = [entry(t, k) for t in range(4) for k in (0, 5)]
    verify(c, claims, open(data, claims, _transcript()), _transcript(), ZK)
    bad = list(claims)
    bad[3] = WeightedClaim(bad[3].poly_index, bad[3].offset, bad[3].weights, bad[3].value + Fp2(1))
    with pytest.raises(PcsRejected):
        verify(c, bad, open(data, bad, _transcript()), _transcript(), ZK)


@pytest.mark.parametrize("num_vars", [[16], [20], [18], [22], [10, 12, 14], [20, 20, 16, 8], [3], [14] * 30])
def test_hiding_width_is_the_plain_width_for_a_wide_matrix(num_vars):
    """A wide matrix (the plain commitment of the same tables, masks
    included, would take rows wider than 4 L) keeps the plain width and the
    base rate, its queries solved at its own rate: the prover and verifier
    do the plain commitment's work on two more rows (params docstring)."""
    every = hiding.all_num_vars(num_vars, ZK)
    assert ZK.plain_twin() == PcsParams.default()
    wide = PcsParams.default().choose_log_cols(every)
    plain = PcsParams.default()
    top = max(1, min(max(1, int(np.ceil(np.log2(sum(1 << v for v in every))))), plain.max_log_codeword - 2))
    costs = {lc: plain.estimate_proof_bytes(lc, Layout.build(every, lc).num_rows, Layout.build(every, lc).log_rows)
             for lc in range(1, top + 1)}
    best = min(costs.values())
    assert costs[wide] <= 1.05 * best and all(costs[lc] > 1.05 * best for lc in costs if lc < wide)
    shaped = ZK.hiding_shape(every)
    assert ZK.choose_log_cols(every) == shaped.row_log_cols == shaped.choose_log_cols(every)
    assert shaped.soundness_bits >= ZK.target_bits and shaped.pad_symbols >= shaped.num_queries
    if wide > ZK.min_log_cols:
        assert (shaped.row_log_cols, shaped.log_blowup) == (wide, ZK.log_blowup)
        assert shaped.num_queries <= ZK.num_queries  # a wider row than the worst case: a lower rate


@pytest.mark.parametrize("num_vars", [[3], [12] + [3] * 49, [13, 10, 9, 8], [16], [11, 4, 2], [15, 12]])
def test_small_hiding_shape_is_the_smallest_proof_within_5_percent(num_vars):
    """A small matrix: every (width, rate) whose own soundness reaches the
    target is a candidate (a rate below the base one only for codewords of
    at most EXTRA_BLOWUP_CELLS cells); the shape taken is, among those within 5% of the
    smallest estimated opening, the one with the fewest codeword cells; its
    queries are the fewest that reach the target at its rate, l_pad <= m,
    and the verifier's transcript is charged its own bound."""
    from zkaudit.pcs.params import EXTRA_BLOWUP_CELLS, HIDING_EXTRA_BLOWUP, hiding_pad

    every = hiding.all_num_vars(num_vars, ZK)
    shaped = ZK.hiding_shape(every)
    if PcsParams.default().choose_log_cols(every) > ZK.min_log_cols:
        pytest.skip("a wide matrix")
    found = []
    for lc in range(1, ZK.min_log_cols + 1):
        lay = Layout.build(every, lc)
        for b in range(ZK.log_blowup, ZK.log_blowup + HIDING_EXTRA_BLOWUP + 1):
            p = ZK.at_width(lc, b)
            if p is None:
                continue
            assert p.soundness_bits >= ZK.target_bits and hiding_pad(p.num_queries) == p.pad_symbols <= 1 << lc
            fewer = PcsParams(b, p.num_queries - 1, hiding=True, target_bits=ZK.target_bits,
                              pad_symbols=hiding_pad(p.num_queries - 1), row_log_cols=lc)
            assert fewer.soundness_bits < ZK.target_bits  # the fewest queries
            cells = (lay.num_rows + hiding.NUM_BLIND) << (lc + b)
            if b > ZK.log_blowup and cells > EXTRA_BLOWUP_CELLS:
                continue  # a lower rate only for small codewords
            found.append((p.estimate_proof_bytes(lc, lay.num_rows, lay.log_rows), cells, p))
    best = min(f[0] for f in found)
    ok = [f for f in found if f[0] <= 1.05 * best]
    assert shaped == min(ok, key=lambda f: (f[1], f[2].row_log_cols, f[2].log_blowup))[2]
    c, data = commit([vec.random(1 << v) for v in num_vars], ZK)
    assert data.params == shaped and c.log_blowup == shaped.log_blowup and c.log_cols == shaped.row_log_cols


def test_mask_points_are_canonical_distinct_and_bound_to_the_transcript():
    a = hiding.mask_points(_transcript(), 9)
    b = hiding.mask_points(_transcript(), 9)
    c = hiding.mask_points(_transcript("another statement"), 9)
    assert len(a) == hiding.NUM_PAD_MASKS and all(len(tau) == 9 for tau in a)
    assert a == b and a != c
    coords = [x for tau in a for e in tau for x in (e.c0, e.c1)]
    assert all(0 <= x < P for x in coords) and len(set(coords)) == len(coords)


@pytest.mark.parametrize("log_m, log_blowup, pad", [(8, 3, 152), (4, 2, 6), (9, 4, 130)])
def test_numpy_encoders_equal_the_kernels(log_m, log_blowup, pad):
    """The numpy paths (one batch of every block's transforms, what a
    verifier that never loads numba runs) against the numba kernels."""
    from zkaudit.pcs import ntt_kernels as nk
    from zkaudit.pcs.ntt import coset_shift_powers, twiddles

    rng = np.random.default_rng(log_m)
    m, rows = 1 << log_m, 5
    n = m << log_blowup
    msg = vec.random(rows * (m + pad), rng).reshape(rows, m + pad)
    msg[0, :3] = P - 1
    sp, tws = coset_shift_powers(log_m, log_blowup), twiddles(log_m)
    psp = hiding_code.pad_shift_powers(log_m, log_blowup, pad)
    want, got = np.zeros((rows, n), np.uint64), np.ones((rows, n), np.uint64)
    nk._encode_padded_rows(msg, m, sp, psp, tws, want)
    nk.encode_padded_rows_numpy(msg, m, sp, psp, tws, got)
    assert np.array_equal(want, got)
    want_t, got_t = np.zeros((n, rows + 2), np.uint64), np.zeros((n, rows + 2), np.uint64)
    nk._encode_padded_rows_transposed(msg, m, sp, psp, tws, want_t, 2)
    nk.encode_padded_rows_transposed_numpy(msg, m, sp, psp, tws, got_t, 2)
    assert np.array_equal(want_t, got_t) and np.array_equal(want_t[:, :rows], want.T)
    plain = np.ascontiguousarray(msg[:, :m])
    nk._encode_rows_transposed(plain, sp, tws, want_t, 2)
    nk.encode_rows_transposed_numpy(plain, sp, tws, got_t, 2)
    assert np.array_equal(want_t, got_t)


@pytest.mark.parametrize("rows, terms", [(1, 1), (5, 3), (12, 40)])
def test_weighted_dots_kernel_equals_numpy_and_the_definition(rows, terms):
    from zkaudit.pcs import kernels as k

    rng = np.random.default_rng(rows * 7 + terms)
    width = 64
    matrix = vec.random(rows * width, rng).reshape(rows, width)
    matrix[0, 0] = P - 1
    sizes = rng.integers(0, 5, size=terms)  # a term may have no entry at all
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    cols = rng.integers(0, width, size=int(offsets[-1])).astype(np.int64)
    words = vec.ext_random(int(offsets[-1]), rng)
    if words.shape[0]:
        words[0] = (P - 1, P - 1)
    want = np.zeros((terms, rows, 2), dtype=np.uint64)
    for i in range(terms):
        for y in range(rows):
            acc = Fp2(0)
            for j in range(offsets[i], offsets[i + 1]):
                acc = acc + Fp2(int(words[j, 0]), int(words[j, 1])) * Fp2(int(matrix[y, cols[j]]))
            want[i, y] = (acc.c0, acc.c1)
    for run in (k._weighted_dots, k.weighted_dots_numpy):
        out = np.empty((terms, rows, 2), dtype=np.uint64)
        run(matrix, offsets, cols, words, out)
        assert np.array_equal(out, want)
