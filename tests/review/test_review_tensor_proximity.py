"""Adversarial review of commit 8dfc82b: the hiding opening (version 3)
reveals only the evaluation row u_z = eq(rho, .) M and checks the opened
columns against Enc(u_z) alone, relying on the tensor proximity gap of
Reed-Solomon codes in place of the former random-combination row u_r.

The prover is the adversary. Every test builds a forgery that must be
REJECTED by `zkaudit.pcs.verify` under `PcsParams.default_hiding()`:

1. malicious commitments: a data row's codeword corrupted on a random 40% /
   60% of positions, or a row that is one codeword on part of the
   positions and another elsewhere, opened with the committed message or
   with the message that best explains the corrupted row at the point rho;
2. a committed row close to Enc(M) opened with claims true of another
   message M' (the prover "decodes" to the message it likes);
3. false claims: an honest proof of other values, and proofs whose batching
   sum-check and evaluation row are adapted to the false value (the prover
   runs the protocol on an edited message, so every check before the
   columns passes and u_z is shifted to fit);
4. column count and order, and byte-level mutations: only `ProofRejected`;
5. version 2 headers and a version-2-shaped body, truncation and padding;
6. the 2^MAX_LOG_CELLS cell cap on forged (huge) commitments.

Mutation check (by hand, in a throwaway worktree of 8dfc82b): with the
Enc(u_z) column comparison removed from `hiding_verifier.verify_hiding`,
all 18 tests marked "Column check" fail with the forgery ACCEPTED; with
the cell cap removed, the cell-cap test fails; with the Merkle check
removed, the column-order and byte-mutation tests fail; with only the
first opened column compared, 6 of the corruption tests fail. Without the
column-count check a dropped column still meets the Merkle multiproof's
count check (MerkleProofShapeError): the count check is a second line.
"""

from __future__ import annotations

import dataclasses
import struct

import numpy as np
import pytest

from zkaudit.errors import ProofRejected
from zkaudit.field import Fp2, vec
from zkaudit.field.constants import P
from zkaudit.pcs import Claim, PcsParams, commit, hiding, open, verify
from zkaudit.pcs import kernels as k
from zkaudit.pcs.errors import (
    ClaimBatchRejected,
    EvaluationMismatch,
    EvaluationRowMismatch,
    MalformedOpening,
    MerkleRootMismatch,
    ParameterMismatch,
    ProofShapeError,
)
from zkaudit.pcs.hiding_code import encode_messages_ext, encode_rows
from zkaudit.pcs.hiding_verifier import read_hiding_opening
from zkaudit.pcs.merkle import MerkleTree
from zkaudit.pcs.params import MAX_LOG_CELLS
from zkaudit.pcs.proof import HIDING_OPENING_VERSION, Commitment
from zkaudit.poly.mle import eq_table, point_array
from zkaudit.transcript import Transcript

ZK = PcsParams.default_hiding()
U64 = np.uint64
SIZES = [8, 4]  # two tables, 2^8 and 2^4 entries: R = 2 data rows (table 0; table 1 and the masks)


def _transcript(c, tag="review-tensor-proximity") -> Transcript:
    t = Transcript()
    t.absorb_statement(tag, 1, commitments={"tables": c.to_bytes()})
    return t


def _point(n, rng):
    return tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(n, rng))


def _verify(c, claims, proof):
    """Through the bytes, as a verifier receives it."""
    verify(c, claims, read_hiding_opening(proof.to_bytes(), c, ZK), _transcript(c), ZK)


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(8_200)
    tables = [vec.random(1 << s, rng) for s in SIZES]
    c, data = commit(tables, ZK)
    points = [_point(s, rng) for s in SIZES]
    claims = [Claim(i, pt, data.masked_value(i, pt)) for i, pt in enumerate(points)]
    return tables, c, data, points, claims


def _cell(layout, table: int, idx: int) -> tuple[int, int]:
    """(row, column) of a table entry in the matrix (`layout.py` placement)."""
    place = layout.placements[table]
    if place.num_vars >= layout.log_cols:
        return place.row + idx // layout.cols, idx % layout.cols
    return place.row, place.col + idx


def _edited(data, table=0, idx=5, delta=1):
    """A second message M' differing from the committed M in one entry of a
    table (a false statement about that table), with its tables."""
    tables = [t.copy() for t in data.tables]
    tables[table][idx] = (int(tables[table][idx]) + delta) % P
    matrix = data.matrix.copy()
    r, col = _cell(data.layout, table, idx)
    matrix[r, col] = tables[table][idx]
    return tables, matrix


def _codewords(data, matrix) -> np.ndarray:
    """(n, rows + 2) leaves of a message matrix: codeword columns, then the
    honest commitment's salts (the salts play no part in soundness)."""
    rows = matrix.shape[0]
    leaves = np.zeros_like(data.leaves)
    encode_rows(np.ascontiguousarray(matrix), data.layout.log_cols, data.params, leaves)
    leaves[:, rows:] = data.leaves[:, rows:]
    return leaves


def _forge(data, leaves, message, tables):
    """A malicious commitment: the Merkle tree over `leaves` (whatever the
    prover likes), and prover data that opens with `message` and `tables`
    (the prover's story about what it committed)."""
    tree = MerkleTree(np.ascontiguousarray(leaves))
    com = Commitment(data.params.log_blowup, data.layout.log_cols, data.commitment.num_vars, tree.root)
    forged = hiding.HidingProverData(data.params, data.layout, data.num_tables, np.ascontiguousarray(message),
                                     leaves, tree, com, tables, list(data.masks))
    return com, forged


def _claims(forged, points):
    return [Claim(i, pt, forged.masked_value(i, pt)) for i, pt in enumerate(points)]


def _open_capturing_rho(forged, claims, monkeypatch):
    """`open` with the batching sum-check's point rho recorded (the prover
    knows it; the tests use it to measure how well u_z fits the columns)."""
    seen = {}
    real = hiding.prove_pairs

    def spy(*a, **kw):
        sc, ev = real(*a, **kw)
        seen["rho"] = list(ev.point)
        return sc, ev

    monkeypatch.setattr(hiding, "prove_pairs", spy)
    proof = open(forged, claims, _transcript(forged.commitment))
    monkeypatch.setattr(hiding, "prove_pairs", real)
    return proof, seen["rho"]


def _agreement(forged, proof, rho) -> float:
    """Fraction of ALL n positions where Enc(u_z) equals eq(rho, .) C: the
    chance per query that the column check passes."""
    rows = forged.matrix.shape[0]
    cols = np.ascontiguousarray(forged.leaves[:, :rows])
    raw = np.empty((2, cols.shape[0]), dtype=U64)
    k.row_dots(cols, k.coordinate_major(eq_table(point_array(rho))[None, :rows]), raw)
    combo = k.ext_results(raw)[0]
    enc = encode_messages_ext([proof.evaluation_row], forged.layout.log_cols, forged.params)[0]
    return float(np.mean(np.all(enc == combo, axis=1)))


# ------------------------------------------------ 1. malicious commitments


@pytest.mark.parametrize("fraction", [0.4, 0.6])
def test_random_corruption_of_a_data_row_rejected(case, fraction, monkeypatch):
    """Column check. Row 0 (table 0) committed as a non-codeword: a random
    `fraction` of its codeword symbols replaced by random values. Opened
    with the committed message (claims true of it): u_z is eq(rho, .) M, the
    best fit there is, and Enc(u_z) still disagrees with the columns on
    ~fraction of positions."""
    _, _, data, points, _ = case
    rng = np.random.default_rng(int(fraction * 100))
    leaves = _codewords(data, data.matrix)
    n = leaves.shape[0]
    hit = rng.choice(n, size=int(fraction * n), replace=False)
    leaves[hit, 0] = rng.integers(0, P, size=hit.shape[0], dtype=U64)
    com, forged = _forge(data, leaves, data.matrix, list(data.tables))
    claims = _claims(forged, points)
    proof, rho = _open_capturing_rho(forged, claims, monkeypatch)
    assert abs(_agreement(forged, proof, rho) - (1 - fraction)) < 0.01
    with pytest.raises(EvaluationRowMismatch):
        _verify(com, claims, proof)


@pytest.mark.parametrize("row", [0, 1, 2, 3], ids=["table0", "table1+masks", "b_z0", "b_z1"])
def test_non_codeword_row_anywhere_in_the_domain_rejected(case, row):
    """Column check. Every committed row enters eq(rho, .) C, the blinding
    row b_z's two base rows included: a 60% random corruption of any one
    of them is caught."""
    _, _, data, points, _ = case
    rng = np.random.default_rng(100 + row)
    leaves = _codewords(data, data.matrix)
    n = leaves.shape[0]
    hit = rng.choice(n, size=int(0.6 * n), replace=False)
    leaves[hit, row] = rng.integers(0, P, size=hit.shape[0], dtype=U64)
    com, forged = _forge(data, leaves, data.matrix, list(data.tables))
    claims = _claims(forged, points)
    with pytest.raises(EvaluationRowMismatch):
        _verify(com, claims, open(forged, claims, _transcript(com)))


def _mixed_commitment(data, share_edited: float, seed: int):
    """Row 0's committed word is Enc(M') on a random `share_edited` of the
    positions and Enc(M) elsewhere (M' = M with table 0's entry 5 moved):
    the prover can tell either story about row 0."""
    tables2, matrix2 = _edited(data)
    honest, edited = _codewords(data, data.matrix), _codewords(data, matrix2)
    n = honest.shape[0]
    rng = np.random.default_rng(seed)
    where = rng.choice(n, size=int(share_edited * n), replace=False)
    leaves = honest.copy()
    leaves[where, 0] = edited[where, 0]
    return leaves, tables2, matrix2


@pytest.mark.parametrize("share_edited", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("story", ["committed", "edited"])
def test_row_mixing_two_codewords_rejected_with_either_message(case, share_edited, story, monkeypatch):
    """Column check. The adversarial decoding: at the point rho the opened
    combination eq(rho, .) C is eq(rho, .) Enc(M) on one region and
    eq(rho, .) Enc(M') on the other, so the u_z that fits the most columns is
    one of those two (u_z interpolating the combined column values on the
    larger region); both are tried. Claims: true of the message told. With
    share 0.3 and the edited story this is attack 2 (the row is 70%
    Enc(M), decoding to M, and the claims are of M': false). The measured
    agreement is the region's share, and 137 queries catch it."""
    _, _, data, points, _ = case
    leaves, tables2, matrix2 = _mixed_commitment(data, share_edited, seed=int(share_edited * 10))
    message, tables = (data.matrix, list(data.tables)) if story == "committed" else (matrix2, tables2)
    com, forged = _forge(data, leaves, message, tables)
    claims = _claims(forged, points)
    proof, rho = _open_capturing_rho(forged, claims, monkeypatch)
    expected = share_edited if story == "edited" else 1 - share_edited
    assert abs(_agreement(forged, proof, rho) - expected) < 0.01
    with pytest.raises(EvaluationRowMismatch):
        _verify(com, claims, proof)


def test_mixed_row_claims_are_false_for_the_decoded_message(case):
    """Attack 2's premise: the edited story's claim on table 0 is a different
    value from the committed (majority) message's."""
    _, _, data, points, _ = case
    tables2, _ = _edited(data)
    assert hiding.masked_value(tables2[0], data.masks[0], points[0]) != data.masked_value(0, points[0])


# ------------------------------------------------------ 3. false claims


def test_false_claim_with_honest_proof_rejected(case):
    """Batching sum-check: the honest proof of the true values, presented
    for another value."""
    _, c, data, _, claims = case
    proof = open(data, claims, _transcript(c))
    _verify(c, claims, proof)
    lie = [dataclasses.replace(claims[0], value=claims[0].value + Fp2(0, 1))] + claims[1:]
    with pytest.raises(ClaimBatchRejected):
        _verify(c, lie, proof)


EDITS = {
    # (kind, row or table, entry): data and mask edits make false claims; pad and blinding edits keep
    # the claims true but the proof inconsistent with the committed rows
    "table0": ("data", 0, 5),
    "table1": ("data", 1, 3),
    "mask0": ("mask", 0, 1),
    "pad": ("pad", 0, 0),  # pad column 0 of row 0: the sum-check's mask column P_0, u_z[m]
    "late_pad": ("pad", 1, 20),  # a pad symbol no sum-check term reads
    "b_z": ("blind", 2, 7),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_adapted_sum_check_and_shifted_evaluation_row_rejected(case, name):
    """Column check. The strongest false-claim prover short of breaking the
    code: it runs the whole opening on an edited message M' (a table entry,
    a mask entry, a pad or a blinding entry moved by one) while the tree
    holds Enc(M). The batching sum-check then proves the false value
    honestly for M', its finals match u_z = eq(rho, .) M' (the shift that
    makes the final checks pass), and the column sum-check is honest too:
    only Enc(u_z) against the opened columns is left to catch it."""
    _, c, data, points, claims = case
    kind, a, b = EDITS[name]
    tables, matrix = [t.copy() for t in data.tables], data.matrix.copy()
    masks = [mk.copy() for mk in data.masks]
    m = data.layout.cols
    if kind == "data":
        tables, matrix = _edited(data, table=a, idx=b)
    elif kind == "mask":
        masks[a][b] = (int(masks[a][b]) + 1) % P
        r, col = _cell(data.layout, data.num_tables + a, b)
        matrix[r, col] = masks[a][b]
    elif kind == "pad":
        matrix[a, m + b] = (int(matrix[a, m + b]) + 1) % P
    else:
        matrix[a, b] = (int(matrix[a, b]) + 1) % P
    forged = dataclasses.replace(data, matrix=matrix, tables=tables, masks=masks)
    told = _claims(forged, points)
    if kind in ("data", "mask"):
        assert told[a].value != claims[a].value  # a false claim about the committed tables
    else:
        assert told == claims
    proof = open(forged, told, _transcript(c))
    with pytest.raises(EvaluationRowMismatch):
        _verify(c, told, proof)


def test_shifted_evaluation_row_without_adapting_the_sum_check_rejected_earlier(case):
    """Evaluation check (not the columns): u_z shifted on a data coordinate
    while the batching sum-check is the honest one. The sum-check's final
    values then disagree with u_z (column sum-check) or the pad values."""
    _, c, data, _, claims = case
    proof = open(data, claims, _transcript(c))
    for col in (5, data.layout.cols):  # a data coordinate; pad column 0 (u_z[m])
        row = proof.evaluation_row.copy()
        row[col, 0] = (int(row[col, 0]) + 1) % P
        with pytest.raises(EvaluationMismatch):
            _verify(c, claims, dataclasses.replace(proof, evaluation_row=row))


# ----------------------------------------------- 4. columns, byte mutations


def test_column_count_and_order_attacks_rejected(case):
    _, c, data, _, claims = case
    proof = open(data, claims, _transcript(c))
    q = proof.columns.shape[0]
    mutants = {
        "drop last": (proof.columns[:-1], proof.salts[:-1], ProofShapeError),
        "drop first": (proof.columns[1:], proof.salts[1:], ProofShapeError),
        "duplicate": (np.concatenate([proof.columns, proof.columns[:1]]),
                      np.concatenate([proof.salts, proof.salts[:1]]), ProofShapeError),
        "swap": (proof.columns[[1, 0, *range(2, q)]], proof.salts[[1, 0, *range(2, q)]], MerkleRootMismatch),
        "reverse": (proof.columns[::-1], proof.salts[::-1], MerkleRootMismatch),
    }
    for name, (cols, salts, err) in mutants.items():
        bad = dataclasses.replace(proof, columns=np.ascontiguousarray(cols), salts=np.ascontiguousarray(salts))
        with pytest.raises(err):
            _verify(c, claims, bad)
        with pytest.raises(err):  # the object itself, not re-read from bytes
            verify(c, claims, bad, _transcript(c), ZK)


def test_columns_of_a_drop_with_the_salts_kept_rejected(case):
    """A column dropped but all salts kept: a shape error, not an index error."""
    _, c, data, _, claims = case
    proof = open(data, claims, _transcript(c))
    bad = dataclasses.replace(proof, columns=np.ascontiguousarray(proof.columns[:-1]))
    with pytest.raises(ProofShapeError):
        verify(c, claims, bad, _transcript(c), ZK)


def test_random_byte_mutations_only_ever_raise_proof_rejected(case):
    """Every single-byte change of the serialized opening is rejected, and
    by a `ProofRejected` (never an IndexError, ValueError, ...)."""
    _, c, data, _, claims = case
    raw = open(data, claims, _transcript(c)).to_bytes()
    rng = np.random.default_rng(8)
    offsets = sorted(set(rng.integers(0, len(raw), size=60).tolist()) | {0, 4, 5, 6, 38, 42, 46, len(raw) - 1})
    for off in offsets:
        bad = bytearray(raw)
        bad[off] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises(ProofRejected):
            verify(c, claims, read_hiding_opening(bytes(bad), c, ZK), _transcript(c), ZK)


# -------------------------------------------------- 5. version and shape


def test_version_2_header_refused_by_name(case):
    _, c, data, _, claims = case
    raw = open(data, claims, _transcript(c)).to_bytes()
    assert HIDING_OPENING_VERSION == 4 and raw[4:6] == struct.pack("<H", 4)
    for old in (1, 2, 3, 5):
        with pytest.raises(MalformedOpening, match="version") as e:
            read_hiding_opening(raw[:4] + struct.pack("<H", old) + raw[6:], c, ZK)
        assert (e.value.expected, e.value.got) == (4, old)


def test_version_2_shaped_body_under_a_version_3_header_refused(case):
    """A version-2 body (a proximity row after the shape, positions after
    the column count) relabelled as version 3 does not parse as one."""
    _, c, data, _, claims = case
    proof = open(data, claims, _transcript(c))
    raw = proof.to_bytes()
    width = proof.evaluation_row.shape[0]
    at = 4 + 2 + 32 + 12
    body = raw[:at] + bytes(16 * width) + raw[at:]
    with pytest.raises(MalformedOpening):
        read_hiding_opening(body, c, ZK)


@pytest.mark.parametrize("cut", [1, 8, 16, 32, 4096])
def test_truncated_or_padded_bytes_refused(case, cut):
    _, c, data, _, claims = case
    raw = open(data, claims, _transcript(c)).to_bytes()
    for bad in (raw[:-cut], raw + b"\0" * cut, raw + raw[-cut:]):
        with pytest.raises(MalformedOpening):
            read_hiding_opening(bad, c, ZK)


# ---------------------------------------------------------- 6. cell cap


def _huge_commitment(num_tables: int, log_size: int = 24) -> Commitment:
    """A commitment to num_tables tables of 2^log_size entries with the shape
    the parameters solve for it (nothing allocated: only the shape)."""
    num_vars = (log_size,) * num_tables
    every = hiding.all_num_vars(num_vars, ZK)
    shaped = ZK.hiding_shape(every)
    return Commitment(shaped.log_blowup, shaped.choose_log_cols(every), num_vars, b"\x07" * 32)


def test_commitment_past_the_cell_cap_refused(case):
    """64 tables of 2^24 entries (with the masks and b_z: 4,099 rows of 2^20
    codeword symbols) hold just over 2^32 cells; 63 fit."""
    from zkaudit.pcs.hiding_verifier import hiding_shape

    _, c, data, _, claims = case
    proof = open(data, claims, _transcript(c))
    fits = _huge_commitment(63)
    layout, shaped = hiding_shape(fits, ZK)
    assert (layout.num_rows + hiding.NUM_BLIND) << (layout.log_cols + shaped.log_blowup) <= 1 << MAX_LOG_CELLS
    for num_tables in (64, 65, 1000):
        big = _huge_commitment(num_tables)
        with pytest.raises(ParameterMismatch, match="codeword cells"):
            verify(big, claims, proof, _transcript(big), ZK)
        with pytest.raises(ParameterMismatch, match="codeword cells"):
            read_hiding_opening(proof.to_bytes(), big, ZK)
