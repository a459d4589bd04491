"""Verifier of the hiding commitment's opening (protocol and argument in
`hiding.py`). Order of checks as in the plain verifier: parameters and
shapes first, then the transcript replay with the batching sum-check, the
sum-check's final values against the evaluation row and the verifier's own
eq values, the column count against the transcript's query positions, the
salted Merkle paths, and the opened columns against the encoded evaluation
row (the proximity test and the evaluation check at once: `hiding.py`).
The groups' values are checked against the evaluation row by the column
sum-check, or directly when the claims' blocks are small (`column_check`).
Every failure raises a `PcsRejected` subclass."""

from __future__ import annotations

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2
from zkaudit.pcs import column_check, hiding_groups
from zkaudit.pcs import kernels as k
from zkaudit.pcs import protocol
from zkaudit.pcs.claim import Claim
from zkaudit.pcs.errors import (
    ClaimBatchRejected,
    CommitmentMismatch,
    EvaluationMismatch,
    EvaluationRowMismatch,
    InvalidClaim,
    ParameterMismatch,
    ProofShapeError,
)
from zkaudit.pcs.hiding_claims import (
    LABEL_MASK_RHO,
    LABEL_MASK_SUM,
    NUM_BLIND,
    NUM_PAD_MASKS,
    LinearClaim,
    WeightedClaim,
    absorb_claims,
    check_linear_claim,
    all_num_vars,
    batch_spec,
    expected_finals_at,
    mask_points,
)
from zkaudit.pcs.hiding_code import encode_messages_ext
from zkaudit.pcs.layout import Layout
from zkaudit.pcs.merkle import MultiProof, hash_leaves, verify_multiproof
from zkaudit.pcs.params import MAX_LOG_CELLS, PcsParams
from zkaudit.pcs.proof import Commitment, HidingOpeningProof
from zkaudit.pcs.verifier import _check_parameters
from zkaudit.pcs.pair_sumcheck import pair_spec
from zkaudit.poly.mle import eq_table, evaluate, point_array
from zkaudit.sumcheck.errors import SumcheckRejected
from zkaudit.sumcheck.verifier import verify as sumcheck_verify
from zkaudit.transcript import Transcript

U64 = np.uint64
WHERE = "pcs/hiding"


def hiding_shape(commitment: Commitment, params: PcsParams) -> tuple[Layout, PcsParams]:
    """The commitment's layout and the parameters solved for its size
    (`PcsParams.hiding_shape`): its rate and width must be those, and they
    fix the queries and padding its openings use. Kept on the (immutable)
    commitment per parameters once checked: parsing and verifying ask for
    it, and a recurrent model's 10^4 tables cost ~3 ms to check each time."""
    cache = commitment.__dict__.setdefault("_hiding_shapes", {})  # not a field: eq and hash ignore it
    key = (params, params.target_bits)  # target_bits is no part of PcsParams' equality
    known = cache.get(key)
    if known is not None:
        return known
    if not commitment.num_vars or any(v > params.max_log_codeword for v in commitment.num_vars):
        raise ParameterMismatch("commitment table sizes are outside what the parameters cover", where=WHERE,
                                got=commitment.num_vars)
    shaped = params.hiding_shape(all_num_vars(commitment.num_vars, params))
    layout = _check_parameters(commitment, shaped, layout_vars=lambda nv: all_num_vars(nv, params), where=WHERE)
    cells = (layout.num_rows + NUM_BLIND) << (layout.log_cols + shaped.log_blowup)
    if cells > 1 << MAX_LOG_CELLS:  # the tensor proximity term's bound on the rows (`params.py`)
        raise ParameterMismatch("hiding commitment holds more codeword cells than the parameters cover", where=WHERE,
                                expected=f"<= 2^{MAX_LOG_CELLS}", got=cells)
    cache[key] = (layout, shaped)
    return layout, shaped


def read_hiding_opening(data: bytes, commitment: Commitment, params: PcsParams) -> HidingOpeningProof:
    """Parse with every count bounded by the commitment's layout and params."""
    layout, params = hiding_shape(commitment, params)
    return HidingOpeningProof.from_bytes(data, num_rows=layout.num_rows + NUM_BLIND, cols=layout.cols,
                                         pad_symbols=params.pad_symbols, max_queries=params.num_queries,
                                         sumcheck_rounds=(layout.num_rows + NUM_BLIND - 1).bit_length())


def _check_claims(layout: Layout, num_tables: int, claims, params: PcsParams) -> None:
    if not 1 <= len(claims) <= params.max_claims:
        raise InvalidClaim("number of claims outside 1..max_claims", where=WHERE, expected=params.max_claims,
                           got=len(claims))
    for i, c in enumerate(claims):
        if isinstance(c, LinearClaim):
            problem = check_linear_claim(layout, num_tables, c)
            if problem:
                raise InvalidClaim(f"linear claim {i} {problem}", where=WHERE)
            continue
        if not isinstance(c, (Claim, WeightedClaim)):
            raise InvalidClaim(f"claim {i} is not a Claim or WeightedClaim", where=WHERE, got=type(c).__name__)
        if c.poly_index >= num_tables:
            raise InvalidClaim(f"claim {i} names an uncommitted table", where=WHERE, expected=num_tables,
                               got=c.poly_index)
        v = layout.num_vars[c.poly_index]
        if isinstance(c, Claim) and (len(c.point) != v or v == 0):
            raise InvalidClaim(f"claim {i} point has the wrong number of coordinates (or a 0-variable table)",
                               where=WHERE, expected=v, got=len(c.point))
        if isinstance(c, WeightedClaim) and c.offset + len(c.weights) > 1 << v:
            raise InvalidClaim(f"weighted claim {i} runs past its table", where=WHERE, expected=1 << v,
                               got=c.offset + len(c.weights))


def _ext(a: np.ndarray, i: int) -> Fp2:
    return Fp2(int(a[i, 0]), int(a[i, 1]))


def _row_values(flat, eq_at, eq_values, data_row) -> list[Fp2]:
    """W_t(rho) per term: its eq part (`_inner_with_row`'s value), its dense
    block and its weighted entries, each against the evaluation row."""
    row_values = [Fp2(0)] * len(flat)
    for i, v in zip(eq_at, eq_values):
        row_values[i] = v
    for i, t in enumerate(flat):
        if t.block is not None:
            start, w = t.block
            v = vec.inner(np.ascontiguousarray(w), np.ascontiguousarray(data_row[start : start + w.shape[0]]))
            row_values[i] = row_values[i] + (v if isinstance(v, Fp2) else Fp2.from_base(v))
        for col, w in t.col_weights:
            row_values[i] = row_values[i] + w * _ext(data_row, col)
    return row_values


def _group_values_reference(flat, groups, coeffs, eq_at, eq_values, data_row) -> list[Fp2]:
    """Per row group, sum_(t in G) c_t W_t(rho) (a lone term: its W_t(rho))."""
    row_values = _row_values(flat, eq_at, eq_values, data_row)
    return [row_values[g[0]] if len(g) == 1 else sum((coeffs[i] * row_values[i] for i in g), Fp2(0))
            for g in groups]


def _column_check(proof: HidingOpeningProof, groups, claimed: list[Fp2], data_row: np.ndarray, log_cols: int,
                  transcript: Transcript) -> None:
    """The groups' claimed W_G(rho) against the evaluation row (`column_check`)."""
    lam = transcript.challenge_ext(column_check.LABEL_LAMBDA)  # #groups / |K|
    powers = column_check.ext_powers(lam, len(claimed))
    claimed_words = np.array([(v.c0, v.c1) for v in claimed], dtype=U64).reshape(len(claimed), 2)
    target = vec.inner(powers, vec.sub(claimed_words, groups.direct(data_row))) if claimed else Fp2(0)
    try:
        ev = sumcheck_verify(proof.column_sumcheck, target, log_cols, pair_spec([Fp2(1)]), transcript,
                             where=column_check.WHERE)
    except SumcheckRejected as e:
        raise EvaluationMismatch(f"the row groups' values contradict the evaluation row: {e}",
                                 where=column_check.WHERE) from e
    sigma = list(ev.point)
    coeffs = vec.mul(np.ascontiguousarray(powers[groups.eq_group]), groups.eq_scale)
    for what, got, want in (("u", ev.values[0], evaluate(data_row, sigma)),
                            ("V", ev.values[1], column_check.eq_sum_at(groups.eq_points, coeffs, sigma))):
        if got != want:
            raise EvaluationMismatch(f"column check: the final {what} value is not the verifier's",
                                     where=column_check.WHERE, expected=want, got=got)


def _direct_check(groups, claimed: list[Fp2], data_row: np.ndarray) -> None:
    """The groups' claimed W_G(rho) against the values the evaluation row
    gives, computed here (`column_check.direct`: small blocks)."""
    for g, (want, got) in enumerate(zip(groups.values(data_row), claimed)):
        if want != got:
            raise EvaluationMismatch(f"row group {g}'s value contradicts the evaluation row", where=column_check.WHERE,
                                     expected=want, got=got)


def verify_hiding(commitment: Commitment, claims, proof: HidingOpeningProof, transcript: Transcript,
                  params: PcsParams) -> None:
    """Accept only if every claim holds for the committed tables (a `Claim`
    on the masked polynomial f^ of `hiding.py`, a `WeightedClaim` exactly)."""
    if not isinstance(proof, HidingOpeningProof):
        raise ProofShapeError("a hiding commitment needs a hiding opening proof", where=WHERE,
                              got=type(proof).__name__)
    layout, params = hiding_shape(commitment, params)
    if proof.commitment_digest != commitment.digest():
        raise CommitmentMismatch("opening proof is for another commitment", where=WHERE,
                                 expected=commitment.digest().hex(), got=proof.commitment_digest.hex())
    num_tables = len(commitment.num_vars)
    _check_claims(layout, num_tables, claims, params)
    m, pad, R = layout.cols, params.pad_symbols, layout.num_rows
    rows = R + NUM_BLIND  # every committed row is in the batching sum-check's domain
    l = (rows - 1).bit_length()
    width = m + pad
    if proof.num_rows != rows or proof.pad_symbols != pad:
        raise ProofShapeError("wrong row count or padding", where=WHERE, expected=(rows, pad),
                              got=(proof.num_rows, proof.pad_symbols))
    if proof.evaluation_row.shape != (width, 2):
        raise ProofShapeError("evaluation row has the wrong length", where=WHERE, expected=width,
                              got=proof.evaluation_row.shape[0])
    q = proof.columns.shape[0]
    if not 1 <= q <= params.num_queries or proof.columns.shape != (q, rows) or proof.salts.shape != (q, 2):
        raise ProofShapeError("opened columns have the wrong shape", where=WHERE, expected=(params.num_queries, rows),
                              got=proof.columns.shape)
    log_n = layout.log_cols + params.log_blowup

    absorb_claims(transcript, proof.commitment_digest, claims)
    taus = mask_points(transcript, l)
    transcript.absorb_ext(LABEL_MASK_SUM, proof.mask_sum)
    rho_m = transcript.challenge_ext(LABEL_MASK_RHO)  # costs 1 / |K|: S is fixed before it
    # the claims' row groups (`hiding_groups`): on arrays for LinearClaims, else through Term objects
    powers = protocol.batching_powers_array(transcript, len(claims))
    groups = hiding_groups.plan(layout, claims, powers, l)
    if groups is None:
        power_list = [Fp2(int(a), int(b)) for a, b in powers]
        groups = hiding_groups.plan_reference(layout, num_tables, claims, params, power_list, l)
        claimed = protocol.batched_value(power_list, claims)
    else:
        claimed = protocol.batched_value_array(powers, claims)
    pair_coeffs = groups.coeffs + [rho_m] * NUM_PAD_MASKS
    claimed = claimed + rho_m * proof.mask_sum
    try:
        evaluation = sumcheck_verify(proof.sumcheck, claimed, l, batch_spec(pair_coeffs), transcript,
                                     where=f"{WHERE}/batch")
    except SumcheckRejected as e:
        raise ClaimBatchRejected(f"claims do not batch to the committed values: {e}", where=WHERE) from e

    rho = list(evaluation.point)
    u_eval = proof.evaluation_row
    data_row = np.ascontiguousarray(u_eval[:m])
    transcript.absorb_vec(protocol.LABEL_EVALUATION_ROW, u_eval)

    # the eq values and the pad columns' values against the verifier's own;
    # the row groups' W_G(rho) = sum_(t in G) c_t <w_t, u_z[:m]> by the column check
    num_groups = len(groups.row_points)
    wanted = expected_finals_at(groups.row_points, taus, rho, u_eval, m, [None] * num_groups)
    for i, (want, got) in enumerate(zip(wanted, evaluation.values)):
        if want is not None and want != got:
            raise EvaluationMismatch(f"batching sum-check final value {i} contradicts the evaluation row",
                                     where=WHERE, expected=want, got=got)
    claimed_groups = evaluation.values[1 : 2 * num_groups : 2]
    direct = column_check.direct(groups.eq_points)
    if (proof.column_sumcheck is None) != direct:
        raise ProofShapeError("column sum-check present or absent contrary to the claims' block sizes",
                              where=column_check.WHERE, expected="absent" if direct else "present",
                              got="absent" if proof.column_sumcheck is None else "present")
    if direct:
        _direct_check(groups, claimed_groups, data_row)
    else:
        _column_check(proof, groups, claimed_groups, data_row, layout.log_cols, transcript)

    transcript.charge("hiding commitment opening",
                      -params.soundness_bits_for(log_n, len(claims), l,
                                                 extra=column_check.soundness_terms(num_groups, layout.log_cols,
                                                                                    direct=direct)))
    positions = protocol.query_positions(transcript, log_n, params.num_queries)
    if len(positions) != q:
        raise ProofShapeError("opened columns are not one per query position", where=WHERE, expected=len(positions),
                              got=q)
    leaves = np.concatenate([proof.columns, proof.salts], axis=1)
    digests = hash_leaves(np.ascontiguousarray(leaves))
    verify_multiproof(commitment.root, log_n, positions,
                      [digests[32 * i : 32 * (i + 1)] for i in range(q)], MultiProof(proof.siblings))

    # the columns against Enc(u_z): the tensor proximity test and the evaluation check in one (`hiding.py`)
    raw = np.empty((2, q), dtype=U64)
    k.row_dots(np.ascontiguousarray(proof.columns), k.coordinate_major(eq_table(point_array(rho))[None, :rows]), raw)
    combo = k.ext_results(raw)[0]
    encoded = encode_messages_ext([u_eval], layout.log_cols, params, np.asarray(positions, dtype=np.int64))[0]
    bad = np.nonzero(np.any(encoded != combo, axis=1))[0]
    if bad.size:
        j = int(bad[0])
        raise EvaluationRowMismatch("opened column disagrees with the encoded evaluation row", where=WHERE,
                                    round=positions[j], expected=_ext(encoded, j), got=_ext(combo, j))
