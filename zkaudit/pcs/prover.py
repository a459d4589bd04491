"""Commitment prover: `commit` and `open` (the protocol is in `protocol.py`,
the soundness in `params.py`, the matrix layout in `layout.py`).

Cost for N committed entries at rate 2^-b: commit = one copy of the tables
into M, 2^b N log m butterflies, and 2^b N * 8 bytes of SHA-256 in n = 2^b m
leaves; open = three passes over M (proximity row, the q claims' row dots,
evaluation row) plus a sum-check over R_pad entries.

`open` is a straight line of the protocol's steps; the `_step` helpers are
module-level so the attack tests can run the same steps with one lie
inserted (a dishonest prover needs no second implementation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.field.constants import P
from zkaudit.pcs import kernels as k
from zkaudit.pcs import protocol
from zkaudit.pcs.claim import Claim
from zkaudit.pcs.layout import Layout
from zkaudit.pcs.merkle import MerkleTree, hash_leaves
from zkaudit.pcs.ntt import rs_encode_block_transposed, rs_encode_transposed
from zkaudit.pcs.params import PcsParams
from zkaudit.pcs.proof import Commitment, OpeningProof
from zkaudit.poly.mle import eq_table, point_array
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.claim import EvaluationClaim
from zkaudit.sumcheck.proof import SumcheckProof
from zkaudit.transcript import Transcript

U64 = np.uint64

# A codeword above this size is not kept: `commit` encodes and hashes it one
# block (coset) at a time and `open` encodes again the blocks its queries
# fall in. The proof is the same byte for byte; the prover trades one more
# encoding for 2^b - 1 blocks of memory (8 GB of a 2^24-row consent table's
# distinctness proof).
KEEP_CODEWORD_BYTES = 1 << 30


@dataclass
class ProverData:
    """Everything `open` needs; stays with the prover."""

    params: PcsParams
    layout: Layout
    matrix: np.ndarray  # M, (R, m)
    codeword: np.ndarray | None  # C transposed, (n, R): row j = Merkle leaf j; None: not kept
    tree: MerkleTree
    commitment: Commitment


def _check_table(i: int, t: np.ndarray) -> int:
    if not isinstance(t, np.ndarray) or t.dtype != U64 or t.ndim != 1:
        raise TypeError(f"table {i} must be a 1-D np.uint64 array of base-field elements")
    n = t.shape[0]
    if n == 0 or n & (n - 1):
        raise ValueError(f"table {i} has length {n}, not a power of two")
    if int(t.max()) >= P:
        raise ValueError(f"table {i} holds a non-canonical element (>= p)")
    return n.bit_length() - 1


def build_matrix(polys: list[np.ndarray], layout: Layout) -> np.ndarray:
    m = layout.cols
    mat = np.zeros((layout.num_rows, m), dtype=U64)
    for f, p in zip(polys, layout.placements):
        if p.num_vars >= layout.log_cols:
            mat[p.row : p.row + p.num_rows] = f.reshape(p.num_rows, m)
        else:
            mat[p.row, p.col : p.col + f.shape[0]] = f
    return mat


def commit(polys: list[np.ndarray], params: PcsParams, *, stream=None) -> tuple[Commitment, ProverData]:
    """Commit to base-field tables (each of power-of-two length) under one root.
    With `params.hiding` the commitment is the zero-knowledge one of
    `hiding.py` (the returned prover data is a `HidingProverData`), its
    randomness drawn from `stream` (default: the OS CSPRNG)."""
    if not polys:
        raise ValueError("nothing to commit to")
    if params.hiding:
        from zkaudit.pcs.hiding import commit_hiding

        return commit_hiding(polys, params, _check_table, stream)
    num_vars = [_check_table(i, t) for i, t in enumerate(polys)]
    log_cols = params.choose_log_cols(num_vars)
    layout = Layout.build(num_vars, log_cols)
    matrix = build_matrix(polys, layout)
    if matrix.nbytes << params.log_blowup > KEEP_CODEWORD_BYTES:
        codeword, tree = None, MerkleTree.from_leaf_digests(b"".join(
            hash_leaves(rs_encode_block_transposed(matrix, params.log_blowup, t))
            for t in range(1 << params.log_blowup)))
    else:
        codeword = rs_encode_transposed(matrix, params.log_blowup)
        tree = MerkleTree(codeword)
    commitment = Commitment(params.log_blowup, log_cols, tuple(num_vars), tree.root)
    return commitment, ProverData(params, layout, matrix, codeword, tree, commitment)


# ------------------------------------------------------------------ steps


def check_claims(layout: Layout, claims: list[Claim]) -> None:
    if not claims:
        raise ValueError("an opening needs at least one claim")
    for c in claims:
        if not isinstance(c, Claim):
            raise TypeError(f"claims must be Claim objects, got {type(c).__name__}")
        if c.poly_index >= len(layout.num_vars):
            raise ValueError(f"claim on table {c.poly_index}, only {len(layout.num_vars)} committed")
        if len(c.point) != layout.num_vars[c.poly_index]:
            raise ValueError(f"claim on table {c.poly_index} has {len(c.point)} coordinates, "
                             f"table has {layout.num_vars[c.poly_index]} variables")


def combine_rows(matrix: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    out = np.empty((matrix.shape[1], 2), dtype=U64)
    k.combine_rows(matrix, np.ascontiguousarray(coeffs[: matrix.shape[0]]), out)
    return out


def batching_tables(data: ProverData, claims: list[Claim]) -> list[np.ndarray]:
    """[eq(y_0, .), W_0, eq(y_1, .), W_1, ...], each of length R_pad."""
    layout = data.layout
    points = [layout.global_point(c.poly_index, c.point) for c in claims]
    col_eqs = k.coordinate_major(np.stack([eq_table(point_array(x)) for _, x in points]))
    raw = np.empty((col_eqs.shape[0], layout.num_rows), dtype=U64)
    k.row_dots(data.matrix, col_eqs, raw)
    dots = k.ext_results(raw)
    r_pad = 1 << layout.log_rows
    tables = []
    for i, (y, _) in enumerate(points):
        w = np.zeros((r_pad, 2), dtype=U64)
        w[: layout.num_rows] = dots[i]
        tables += [eq_table(point_array(y)), w]
    return tables


def batching_sumcheck(tables, powers, claims, transcript) -> tuple[SumcheckProof, EvaluationClaim]:
    spec = protocol.batch_spec(powers)
    claimed = protocol.batched_value(powers, claims)
    proof, evaluation, _ = sumcheck_prover.prove(tables, spec, transcript, claimed_sum=claimed)
    return proof, evaluation


def open_columns(data: ProverData, positions: list[int]) -> tuple[np.ndarray, tuple[bytes, ...]]:
    if data.codeword is not None:
        return data.codeword[positions], data.tree.open(positions).siblings
    # the codeword was hashed a block at a time and not kept: encode again
    # the blocks (cosets) the queries fall in
    m = data.matrix.shape[1]
    columns = np.empty((len(positions), data.matrix.shape[0]), dtype=U64)
    at = np.asarray(positions, dtype=np.int64)
    for t in np.unique(at // m):
        mine = np.flatnonzero(at // m == t)
        block = rs_encode_block_transposed(data.matrix, data.params.log_blowup, int(t))
        columns[mine] = block[at[mine] - int(t) * m]
    return columns, data.tree.open(positions).siblings


# ------------------------------------------------------------------- open


def open(data: ProverData, claims: list[Claim], transcript: Transcript) -> OpeningProof:  # noqa: A001
    """Prove every claim against `data.commitment` in one proof. The caller
    has absorbed the commitment into `transcript` (with its statement);
    `open` samples its own challenges there, and the verifier must call
    `verify` on a transcript in the same state. Hiding commitments open
    through `hiding.open_hiding` (claims on the masked polynomials)."""
    if data.params.hiding:
        from zkaudit.pcs.hiding import open_hiding

        return open_hiding(data, claims, transcript)
    layout, params = data.layout, data.params
    check_claims(layout, claims)
    digest = data.commitment.digest()
    protocol.absorb_header(transcript, digest, claims)

    alpha = protocol.proximity_coefficients(transcript, layout.num_rows)
    u_prox = combine_rows(data.matrix, alpha)
    transcript.absorb_vec(protocol.LABEL_PROXIMITY_ROW, u_prox)

    powers = protocol.batching_powers(transcript, len(claims))
    tables = batching_tables(data, claims)
    sc_proof, evaluation = batching_sumcheck(tables, powers, claims, transcript)

    rho_eq = eq_table(point_array(list(evaluation.point)))
    u_eval = combine_rows(data.matrix, rho_eq)
    transcript.absorb_vec(protocol.LABEL_EVALUATION_ROW, u_eval)

    positions = protocol.query_positions(transcript, layout.log_cols + params.log_blowup, params.num_queries)
    columns, siblings = open_columns(data, positions)
    return OpeningProof(digest, layout.num_rows, u_prox, sc_proof, u_eval, tuple(positions), columns, siblings)
