"""Opening-proof and commitment parsing (issue 14): every count bounded
before allocation, one encoding per proof, and the expected shape enforced
from the header when the verifier passes its layout."""

from __future__ import annotations

import struct
import tracemalloc

import numpy as np
import pytest

from zkaudit import poly
from zkaudit.field import Fp2, vec
from zkaudit.pcs import Claim, Commitment, OpeningProof, PcsParams, commit, open, verify
from zkaudit.pcs.errors import MalformedOpening
from zkaudit.pcs.verifier import read_opening
from zkaudit.transcript import Transcript

PARAMS = PcsParams.default()
HEADER = 4 + 2 + 32  # magic, version, digest


def _transcript(c: Commitment) -> Transcript:
    t = Transcript()
    t.absorb_statement("pcs-parse-test", 1, commitments={"tables": c.to_bytes()})
    return t


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    tables = [vec.random(1 << 9, rng), vec.random(1 << 4, rng)]
    c, data = commit(tables, PARAMS)
    claims = []
    for i, t in enumerate(tables):
        pt = tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(int(t.shape[0]).bit_length() - 1, rng))
        claims.append(Claim(i, pt, poly.evaluate(t, pt)))
    proof = open(data, claims, _transcript(c))
    return c, data, claims, proof.to_bytes()


def _with_shape(raw: bytes, rows: int, cols: int) -> bytes:
    return raw[:HEADER] + struct.pack("<II", rows, cols) + raw[HEADER + 8 :]


def test_honest_proof_parses_with_and_without_expected_shape(case):
    c, _, claims, raw = case
    verify(c, claims, read_opening(raw, c, PARAMS), _transcript(c), PARAMS)
    assert OpeningProof.from_bytes(raw).to_bytes() == raw


def test_huge_row_width_rejected_from_header_without_allocating(case):
    c, _, _, raw = case
    tracemalloc.start()
    try:
        for cols in (2**31, 2**32 - 1 & ~1):
            with pytest.raises(MalformedOpening):
                OpeningProof.from_bytes(_with_shape(raw, 1, cols))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(raw) + (1 << 20)


def test_row_width_not_a_power_of_two_rejected(case):
    _, _, _, raw = case
    with pytest.raises(MalformedOpening, match="power of two"):
        OpeningProof.from_bytes(_with_shape(raw, 2, 48))


def test_zero_rows_rejected(case):
    _, _, _, raw = case
    with pytest.raises(MalformedOpening, match="row count"):
        OpeningProof.from_bytes(_with_shape(raw, 0, 64))


def test_shape_other_than_the_commitments_rejected_from_header(case):
    c, data, _, raw = case
    rows, cols = data.layout.num_rows, data.layout.cols
    for r, m in ((rows + 1, cols), (rows, cols * 2), (rows, cols // 2)):
        with pytest.raises(MalformedOpening, match="wrong"):
            read_opening(_with_shape(raw, r, m), c, PARAMS)


def _positions_at(raw: bytes, data) -> int:
    """Offset of the position count: header, shape, two rows and the sum-check."""
    m = data.layout.cols
    from zkaudit.sumcheck.proof import SumcheckProof

    _, end = SumcheckProof.read(raw, HEADER + 8 + 16 * m)
    return end + 16 * m


def test_more_positions_than_queries_rejected_before_reading(case):
    c, data, _, raw = case
    at = _positions_at(raw, data)
    bad = raw[:at] + struct.pack("<I", PARAMS.num_queries + 1) + raw[at + 4 :]
    with pytest.raises(MalformedOpening, match="position count"):
        read_opening(bad, c, PARAMS)
    huge = raw[:at] + struct.pack("<I", 2**32 - 1) + raw[at + 4 :]
    with pytest.raises(MalformedOpening, match="position count"):
        OpeningProof.from_bytes(huge)


def test_unsorted_or_repeated_positions_are_not_a_second_encoding(case):
    _, data, _, raw = case
    at = _positions_at(raw, data) + 4
    (p0, p1) = struct.unpack_from("<II", raw, at)
    swapped = raw[:at] + struct.pack("<II", p1, p0) + raw[at + 8 :]
    repeated = raw[:at] + struct.pack("<II", p0, p0) + raw[at + 8 :]
    for bad in (swapped, repeated):
        with pytest.raises(MalformedOpening, match="strictly increasing"):
            OpeningProof.from_bytes(bad)


def test_batching_sumcheck_round_count_bounded_by_layout(case):
    c, data, _, raw = case
    at = HEADER + 8 + 16 * data.layout.cols
    bad = raw[:at] + struct.pack("<I", data.layout.log_rows + 1) + raw[at + 4 :]
    with pytest.raises(MalformedOpening):
        read_opening(bad, c, PARAMS)
    huge = raw[:at] + struct.pack("<I", 2**31) + raw[at + 4 :]
    with pytest.raises(MalformedOpening):
        OpeningProof.from_bytes(huge)


def test_commitment_counts_bounded(case):
    c, _, _, _ = case
    raw = c.to_bytes()
    for log_cols, count in ((0, 2), (33, 2), (c.log_cols, 0), (c.log_cols, 2**32 - 1)):
        bad = raw[:6] + struct.pack("<BBI", c.log_blowup, log_cols, count) + raw[12:]
        with pytest.raises(MalformedOpening):
            Commitment.from_bytes(bad)
    big = raw[:12] + bytes([41]) + raw[13:]
    with pytest.raises(MalformedOpening):
        Commitment.from_bytes(big)


def test_every_header_byte_mutation_rejected_or_canonical(case):
    c, _, claims, raw = case
    from zkaudit.errors import ProofRejected

    for pos in range(HEADER + 8):
        for byte in (0x00, 0x01, 0x7F, 0x80, 0xFF):
            if raw[pos] == byte:
                continue
            bad = raw[:pos] + bytes([byte]) + raw[pos + 1 :]
            with pytest.raises(ProofRejected):
                verify(c, claims, read_opening(bad, c, PARAMS), _transcript(c), PARAMS)
