"""Commitment verifier: checks one opening proof of many claims (the protocol
is in `protocol.py`, the soundness bound in `params.py`).

Order of checks: parameters and shapes first (no transcript work), then the
transcript replay with the batching sum-check, the evaluation values, the
query positions, the Merkle paths, and last the two column checks. Every
failure raises a `PcsRejected` subclass; nothing here asserts.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field.constants import W
from zkaudit.field.scalar import Fp2, _fp2
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
    ProximityMismatch,
    QueryPositionMismatch,
)
from zkaudit.pcs.layout import Layout
from zkaudit.pcs.merkle import MultiProof, hash_leaves, verify_multiproof
from zkaudit.pcs.ntt import rs_encode_ext
from zkaudit.pcs.params import PcsParams
from zkaudit.pcs.proof import Commitment, OpeningProof
from zkaudit.poly.mle import eq_eval, eq_table, point_array
from zkaudit.sumcheck.errors import SumcheckRejected
from zkaudit.sumcheck.verifier import verify as sumcheck_verify
from zkaudit.transcript import Transcript

U64 = np.uint64
WHERE = "pcs"


def _check_parameters(commitment: Commitment, params: PcsParams, *, layout_vars=None,
                      where: str = WHERE) -> Layout:
    """The commitment's code rate, table sizes and matrix width are the ones
    `params` gives; returns its layout. `layout_vars` maps the committed
    tables' sizes to every table the matrix holds (the hiding mode adds its
    mask tables)."""
    if commitment.log_blowup != params.log_blowup:
        raise ParameterMismatch("commitment uses another code rate", where=where,
                                expected=params.log_blowup, got=commitment.log_blowup)
    if not commitment.num_vars or any(v > params.max_log_codeword for v in commitment.num_vars):
        raise ParameterMismatch("commitment table sizes are outside what the parameters cover", where=where,
                                got=commitment.num_vars)
    every = layout_vars(commitment.num_vars) if layout_vars else commitment.num_vars
    expected_cols = params.choose_log_cols(every)
    if commitment.log_cols != expected_cols:
        raise ParameterMismatch("commitment matrix width is not the canonical one for its tables", where=where,
                                expected=expected_cols, got=commitment.log_cols)
    return Layout.build(every, commitment.log_cols)


def read_opening(data: bytes, commitment: Commitment, params: PcsParams) -> OpeningProof:
    """Parse an opening proof for `commitment` under `params`, with every
    count bounded by the commitment's layout and the parameters before any
    array is read (a proof for another shape is rejected from its header)."""
    layout = _check_parameters(commitment, params)
    return OpeningProof.from_bytes(data, num_rows=layout.num_rows, cols=layout.cols,
                                   max_queries=params.num_queries, sumcheck_rounds=layout.log_rows)


def _check_claims(layout: Layout, claims: list[Claim], params: PcsParams) -> None:
    if not 1 <= len(claims) <= params.max_claims:
        raise InvalidClaim("number of claims outside 1..max_claims", where=WHERE,
                           expected=params.max_claims, got=len(claims))
    for i, c in enumerate(claims):
        if not isinstance(c, Claim):
            raise InvalidClaim(f"claim {i} is not a Claim", where=WHERE, got=type(c).__name__)
        if c.poly_index >= len(layout.num_vars):
            raise InvalidClaim(f"claim {i} names an uncommitted table", where=WHERE,
                               expected=len(layout.num_vars), got=c.poly_index)
        if len(c.point) != layout.num_vars[c.poly_index]:
            raise InvalidClaim(f"claim {i} point has the wrong number of coordinates", where=WHERE,
                               expected=layout.num_vars[c.poly_index], got=len(c.point))


def _check_shape(proof: OpeningProof, layout: Layout, params: PcsParams) -> None:
    m = layout.cols
    if proof.num_rows != layout.num_rows:
        raise ProofShapeError("wrong row count", where=WHERE, expected=layout.num_rows, got=proof.num_rows)
    for name, row in (("proximity", proof.proximity_row), ("evaluation", proof.evaluation_row)):
        if row.shape != (m, 2):
            raise ProofShapeError(f"{name} row has the wrong length", where=WHERE, expected=m, got=row.shape[0])
    q = len(proof.positions)
    if not 1 <= q <= params.num_queries:
        raise ProofShapeError("wrong number of opened positions", where=WHERE, expected=params.num_queries, got=q)
    if proof.columns.shape != (q, layout.num_rows):
        raise ProofShapeError("opened columns have the wrong shape", where=WHERE,
                              expected=(q, layout.num_rows), got=proof.columns.shape)


def _inner_with_row(col_points: list[list[Fp2]], row: np.ndarray) -> list[Fp2]:
    """<eq(x_i, .), row> = row~(x_i) for every column point x_i. A table
    smaller than a row sits in one block of it, and its column point starts
    with that block's address bits: each leading 0/1 coordinate just picks a
    half (eq is exact there), so only the block is folded, O(table) rather
    than O(row) per claim, all claims in one kernel call.
    `_inner_with_row_reference` is the eq-table form."""
    m, n = len(col_points), row.shape[0].bit_length() - 1
    starts, log_sizes, points = k.block_points(col_points, n)
    out = np.empty((m, 2), dtype=U64)
    k.eval_blocks(row, starts, log_sizes, points, out)
    return [_fp2(a, b) for a, b in out.tolist()]  # canonical words from the kernel


def _inner_with_row_reference(col_points: list[list[Fp2]], row: np.ndarray) -> list[Fp2]:
    """The same values through full eq tables, in one kernel call:
    (e0 + e1 X)(u0 + u1 X) = e0 u0 + 7 e1 u1 + (e0 u1 + e1 u0) X."""
    eqs = k.coordinate_major(np.stack([eq_table(point_array(x)) for x in col_points]))
    dots = np.empty((eqs.shape[0], 2), dtype=U64)  # dots[2i + a, b] = <e_a, u_b>
    k.row_dots(np.ascontiguousarray(row.T), eqs, dots)
    out = []
    for i in range(len(col_points)):
        e0u0, e0u1 = Fp2(int(dots[2 * i, 0])), Fp2(int(dots[2 * i, 1]))
        e1u0, e1u1 = Fp2(int(dots[2 * i + 1, 0])), Fp2(int(dots[2 * i + 1, 1]))
        out.append(e0u0 + W * e1u1 + Fp2(0, 1) * (e0u1 + e1u0))
    return out


def _ext(a: np.ndarray, i: int) -> Fp2:
    return Fp2(int(a[i, 0]), int(a[i, 1]))


def verify(
    commitment: Commitment,
    claims: list[Claim],
    proof: OpeningProof,
    transcript: Transcript,
    params: PcsParams,
) -> None:
    """Accept (return None) only if every claim holds for the committed
    tables; otherwise raise a `PcsRejected` subclass. `transcript` must be in
    the state the prover's was in when it called `open` (statement, with
    the commitment, absorbed). Hiding parameters verify a hiding opening
    (`hiding_verifier.verify_hiding`)."""
    if params.hiding:
        from zkaudit.pcs.hiding_verifier import verify_hiding

        return verify_hiding(commitment, claims, proof, transcript, params)
    layout = _check_parameters(commitment, params)
    if proof.commitment_digest != commitment.digest():
        raise CommitmentMismatch("opening proof is for another commitment", where=WHERE,
                                 expected=commitment.digest().hex(), got=proof.commitment_digest.hex())
    _check_claims(layout, claims, params)
    _check_shape(proof, layout, params)
    log_n = layout.log_cols + params.log_blowup

    # Transcript replay, in the prover's order.
    protocol.absorb_header(transcript, proof.commitment_digest, claims)
    alpha = protocol.proximity_coefficients(transcript, layout.num_rows)
    transcript.absorb_vec(protocol.LABEL_PROXIMITY_ROW, proof.proximity_row)
    powers = protocol.batching_powers(transcript, len(claims))
    try:
        evaluation = sumcheck_verify(proof.sumcheck, protocol.batched_value(powers, claims), layout.log_rows,
                                     protocol.batch_spec(powers), transcript, where=f"{WHERE}/batch")
    except SumcheckRejected as e:
        raise ClaimBatchRejected(f"claims do not batch to the committed values: {e}", where=WHERE) from e

    # The sum-check's final values: eq(y_i, rho) by the verifier, W_i(rho) from u_eval.
    rho = list(evaluation.point)
    u_eval = proof.evaluation_row
    points = [layout.global_point(c.poly_index, c.point) for c in claims]
    row_values = _inner_with_row([x for _, x in points], u_eval)
    for i, (y, _) in enumerate(points):
        eq_y = eq_eval(y, rho)
        if evaluation.values[2 * i] != eq_y:
            raise EvaluationMismatch(f"claim {i}: row eq value is wrong", where=WHERE,
                                     expected=eq_y, got=evaluation.values[2 * i])
        w = row_values[i]
        if evaluation.values[2 * i + 1] != w:
            raise EvaluationMismatch(f"claim {i}: row-combination value contradicts the evaluation row", where=WHERE,
                                     expected=w, got=evaluation.values[2 * i + 1])
    transcript.absorb_vec(protocol.LABEL_EVALUATION_ROW, u_eval)

    # This opening's proven bound (module docstring of `params`), at its own sizes.
    transcript.charge("commitment opening", -params.soundness_bits_for(log_n, len(claims), layout.log_rows))
    positions = protocol.query_positions(transcript, log_n, params.num_queries)
    if list(proof.positions) != positions:
        raise QueryPositionMismatch("opened positions are not the transcript's", where=WHERE,
                                    expected=positions[:8], got=list(proof.positions[:8]))

    digests = hash_leaves(proof.columns)
    leaf_digests = [digests[32 * i : 32 * (i + 1)] for i in range(len(positions))]
    verify_multiproof(commitment.root, log_n, positions, leaf_digests, MultiProof(proof.siblings))

    # Column checks: encoded rows against the same combinations of the opened columns.
    rho_eq = eq_table(point_array(rho))[: layout.num_rows]
    coeffs = k.coordinate_major(np.stack([alpha, rho_eq]))
    raw = np.empty((4, len(positions)), dtype=U64)
    k.row_dots(proof.columns, coeffs, raw)
    combos = k.ext_results(raw)
    idx = np.asarray(positions, dtype=np.int64)
    for which, row, err in ((0, proof.proximity_row, ProximityMismatch), (1, u_eval, EvaluationRowMismatch)):
        encoded = rs_encode_ext(row, params.log_blowup)[idx]
        bad = np.nonzero(np.any(encoded != combos[which], axis=1))[0]
        if bad.size:
            j = int(bad[0])
            raise err("opened column disagrees with the encoded row", where=WHERE, round=positions[j],
                      expected=_ext(encoded, j), got=_ext(combos[which], j))
