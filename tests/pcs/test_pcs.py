"""Tensor-code commitment: honest openings over many shapes, cross-checked
against zkaudit.poly, wire-format round trips, and the attack catalogue,
each attack expecting its specific rejection.

Dishonest provers run the real prover's steps (`prover.combine_rows`,
`batching_tables`, `batching_sumcheck`, `open_columns`) with one lie
inserted, and keep the transcript consistent, as a real attacker would; a
test checks this harness reproduces the honest prover byte for byte."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkaudit import poly
from zkaudit.errors import MalformedProof
from zkaudit.field import Fp, Fp2, vec
from zkaudit.pcs import Claim, Commitment, OpeningProof, PcsParams, commit, open, prover, protocol, verify
from zkaudit.pcs.errors import (
    ClaimBatchRejected,
    CommitmentMismatch,
    EvaluationMismatch,
    EvaluationRowMismatch,
    InvalidClaim,
    MalformedOpening,
    MerkleProofShapeError,
    MerkleRootMismatch,
    ParameterMismatch,
    PcsRejected,
    ProofShapeError,
    ProximityMismatch,
    QueryPositionMismatch,
)
from zkaudit.pcs.layout import Layout
from zkaudit.pcs.merkle import MerkleTree
from zkaudit.poly.mle import eq_table, point_array
from zkaudit.transcript import Transcript

PARAMS = PcsParams.default()


def _transcript(c: Commitment, tag: str = "pcs-test") -> Transcript:
    t = Transcript()
    t.absorb_statement(tag, 1, commitments={"tables": c.to_bytes()})
    return t


def _ext_point(n: int, rng) -> tuple[Fp2, ...]:
    return tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(n, rng))


def _base_point(n: int, rng) -> tuple[Fp, ...]:
    return tuple(Fp(int(a)) for a in vec.random(n, rng))


def _claim(tables, i, point) -> Claim:
    return Claim(i, point, poly.evaluate(tables[i], point))


def _setup(sizes, seed=0, claims_per_table=1, base_points=False):
    rng = np.random.default_rng(seed)
    tables = [vec.random(1 << s, rng) for s in sizes]
    c, data = commit(tables, PARAMS)
    claims = []
    for i, s in enumerate(sizes):
        for _ in range(claims_per_table):
            claims.append(_claim(tables, i, _ext_point(s, rng)))
        if base_points:
            claims.append(_claim(tables, i, _base_point(s, rng)))
    return tables, c, data, claims


def _roundtrip(proof: OpeningProof) -> OpeningProof:
    return OpeningProof.from_bytes(proof.to_bytes())


def _verify(c, claims, proof, tag="pcs-test", params=PARAMS):
    verify(c, claims, _roundtrip(proof), _transcript(c, tag), params)


# ------------------------------------------------------------------ honest


SHAPES = {
    "one-var": [1],
    "zero-var": [0],
    "two-vars": [2],
    "square-ish": [8],
    "non-square": [11],
    "wide": [13],
    "mixed-sizes": [9, 3, 0, 6, 9, 1],
    "many-narrow": [2] * 7 + [5],
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_honest_open_verifies(name):
    tables, c, data, claims = _setup(SHAPES[name], seed=len(name), claims_per_table=2, base_points=True)
    proof = open(data, claims, _transcript(c))
    _verify(c, claims, proof)


def test_claim_values_are_the_tables_evaluations():
    """The claims verified are exactly zkaudit.poly's evaluations, and a claim
    built from the committed matrix read as one polynomial agrees."""
    tables, c, data, claims = _setup([7, 3, 7, 2], seed=3)
    lay = data.layout
    whole = np.zeros((1 << lay.log_rows) * lay.cols, dtype=np.uint64)
    whole[: data.matrix.size] = data.matrix.reshape(-1)
    for cl in claims:
        y, x = lay.global_point(cl.poly_index, cl.point)
        assert poly.evaluate(whole, y + x) == cl.value
        assert poly.evaluate(tables[cl.poly_index], cl.point) == cl.value
    _verify(c, claims, open(data, claims, _transcript(c)))


def test_many_claims_on_one_table_and_repeated_points():
    rng = np.random.default_rng(5)
    tables, c, data, _ = _setup([10], seed=5)
    pt = _ext_point(10, rng)
    claims = [_claim(tables, 0, _ext_point(10, rng)) for _ in range(16)] + [_claim(tables, 0, pt)] * 2
    _verify(c, claims, open(data, claims, _transcript(c)))


def test_boolean_point_is_a_table_entry():
    tables, c, data, _ = _setup([5, 4], seed=6)
    idx = 0b10110
    point = tuple(Fp2((idx >> (4 - k)) & 1) for k in range(5))
    claim = Claim(0, point, Fp2(int(tables[0][idx])))
    _verify(c, [claim], open(data, [claim], _transcript(c)))


def test_commitment_and_proof_bytes_are_canonical():
    tables, c, data, claims = _setup([6, 2], seed=7)
    assert Commitment.from_bytes(c.to_bytes()) == c
    proof = open(data, claims, _transcript(c))
    raw = proof.to_bytes()
    assert _roundtrip(proof).to_bytes() == raw
    # Deterministic: the same statement gives the same proof.
    assert open(data, claims, _transcript(c)).to_bytes() == raw
    # Same tables, same commitment.
    assert commit(tables, PARAMS)[0] == c


@pytest.mark.parametrize("sizes", [[11], [9, 3, 0, 6, 9, 1]])
def test_codeword_hashed_by_block_gives_the_same_commitment_and_proof(sizes, monkeypatch):
    """A codeword too large to keep is hashed a block at a time and encoded
    again where the queries fall: the same root and the same proof bytes."""
    tables, c, data, claims = _setup(sizes, seed=8, claims_per_table=2)
    kept = open(data, claims, _transcript(c)).to_bytes()
    monkeypatch.setattr(prover, "KEEP_CODEWORD_BYTES", 0)
    c_streamed, streamed = commit(tables, PARAMS)
    assert streamed.codeword is None and c_streamed == c
    proof = open(streamed, claims, _transcript(c))
    assert proof.to_bytes() == kept
    _verify(c, claims, proof)


@settings(max_examples=12)
@given(st.lists(st.integers(0, 8), min_size=1, max_size=4), st.integers(0, 2**32))
def test_honest_property(sizes, seed):
    tables, c, data, claims = _setup(sizes, seed=seed)
    _verify(c, claims, open(data, claims, _transcript(c)))


# ----------------------------------------------------- dishonest harness


def run_open(data, claims, transcript, *, digest=None, prox=None, tables=None, u_eval=None, positions=None):
    """The prover's steps, in the prover's order, with optional lies."""
    layout, params = data.layout, data.params
    digest = digest or data.commitment.digest()
    protocol.absorb_header(transcript, digest, claims)
    alpha = protocol.proximity_coefficients(transcript, layout.num_rows)
    u_prox = prover.combine_rows(data.matrix, alpha)
    if prox:
        u_prox = prox(u_prox)
    transcript.absorb_vec(protocol.LABEL_PROXIMITY_ROW, u_prox)
    powers = protocol.batching_powers(transcript, len(claims))
    tabs = prover.batching_tables(data, claims)
    if tables:
        tabs = tables(tabs)
    sc, evaluation = prover.batching_sumcheck(tabs, powers, claims, transcript)
    row = prover.combine_rows(data.matrix, eq_table(point_array(list(evaluation.point))))
    if u_eval:
        row = u_eval(row, evaluation)
    transcript.absorb_vec(protocol.LABEL_EVALUATION_ROW, row)
    pos = protocol.query_positions(transcript, layout.log_cols + params.log_blowup, params.num_queries)
    if positions:
        pos = positions(pos)
    columns, siblings = prover.open_columns(data, pos)
    return OpeningProof(digest, layout.num_rows, u_prox, sc, row, tuple(pos), columns, siblings)


def _e(a, i) -> Fp2:
    return Fp2(int(a[i, 0]), int(a[i, 1]))


def _set(a, i, x: Fp2):
    a[i] = (x.c0, x.c1)


@pytest.fixture
def case():
    tables, c, data, claims = _setup([9, 4], seed=11)
    return tables, c, data, claims


def test_harness_is_the_honest_prover(case):
    _, c, data, claims = case
    assert run_open(data, claims, _transcript(c)).to_bytes() == open(data, claims, _transcript(c)).to_bytes()


# ---------------------------------------------------------- the catalogue


def test_wrong_claimed_value(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    lie = [dataclasses.replace(claims[0], value=claims[0].value + 1)] + claims[1:]
    with pytest.raises(ClaimBatchRejected) as e:
        _verify(c, lie, proof)
    assert e.value.__cause__ is not None


def test_prover_asked_to_prove_a_wrong_value(case):
    """The honest prover run on a false claim: its sum-check cannot start."""
    _, c, data, claims = case
    lie = [dataclasses.replace(claims[0], value=claims[0].value + 1)] + claims[1:]
    with pytest.raises(ClaimBatchRejected):
        _verify(c, lie, open(data, lie, _transcript(c)))


def test_claim_at_a_different_point(case):
    tables, c, data, claims = case
    rng = np.random.default_rng(99)
    moved = [dataclasses.replace(claims[0], point=_ext_point(9, rng))] + claims[1:]
    with pytest.raises(ClaimBatchRejected):
        _verify(c, moved, open(data, claims, _transcript(c)))
    with pytest.raises(ClaimBatchRejected):  # proved there, with the old value
        _verify(c, moved, open(data, moved, _transcript(c)))


def _lie_in_witness(claims, delta: Fp2):
    """Shift W_0 at one row so the sum-check is consistent with value + delta."""

    def tamper(tabs):
        eq0, w0 = tabs[0], tabs[1].copy()
        r = int(np.flatnonzero(eq0.any(axis=1))[0])
        _set(w0, r, _e(w0, r) + delta * _e(eq0, r).inverse())
        return [eq0, w0] + tabs[2:]

    lie = [dataclasses.replace(claims[0], value=claims[0].value + delta)] + claims[1:]
    return lie, tamper


def test_mutated_witness_caught_by_evaluation_row(case):
    """A sum-check made consistent with a false value ends on W_0(rho) values
    that the honest evaluation row contradicts."""
    _, c, data, claims = case
    lie, tamper = _lie_in_witness(claims, Fp2(5))
    proof = run_open(data, lie, _transcript(c), tables=tamper)
    with pytest.raises(EvaluationMismatch):
        _verify(c, lie, proof)


def test_mutated_witness_and_matching_row_caught_by_columns(case):
    """...and when the evaluation row is bent to match, its encoding no
    longer matches the committed columns."""
    _, c, data, claims = case
    lie, tamper = _lie_in_witness(claims[:1], Fp2(5))  # one claim: the row has one constraint to meet
    lay = data.layout

    def bend(row, evaluation):
        y, x = lay.global_point(0, lie[0].point)
        col_eq = eq_table(point_array(x))
        want = evaluation.values[1]
        have = vec.inner(col_eq, row)
        j = int(np.flatnonzero(col_eq.any(axis=1))[0])
        row = row.copy()
        _set(row, j, _e(row, j) + (want - have) * _e(col_eq, j).inverse())
        return row

    proof = run_open(data, lie, _transcript(c), tables=tamper, u_eval=bend)
    with pytest.raises(EvaluationRowMismatch):
        _verify(c, lie, proof)


def test_wrong_eq_value_in_sumcheck(case):
    """Tampering an eq table (instead of W) is caught by the verifier's own eq."""
    _, c, data, claims = case
    lie = [dataclasses.replace(claims[0], value=claims[0].value + 3)] + claims[1:]

    def tamper(tabs):
        eq0, w0 = tabs[0].copy(), tabs[1]
        r = int(np.flatnonzero(w0.any(axis=1))[0])
        _set(eq0, r, _e(eq0, r) + Fp2(3) * _e(w0, r).inverse())
        return [eq0, w0] + tabs[2:]

    with pytest.raises(EvaluationMismatch):
        _verify(c, lie, run_open(data, lie, _transcript(c), tables=tamper))


def test_inconsistent_proximity_row(case):
    _, c, data, claims = case

    def bend(row):
        row = row.copy()
        row[3, 0] = (int(row[3, 0]) + 1) % (2**64 - 2**32 + 1)
        return row

    with pytest.raises(ProximityMismatch):
        _verify(c, claims, run_open(data, claims, _transcript(c), prox=bend))


def test_committed_matrix_not_a_codeword(case):
    """Commit to columns that are not an encoding (every other position of
    row 0 off by one) and open honestly from the true rows."""
    _, _, data, claims = case
    bad = data.codeword.copy()
    bad[::2, 0] = (bad[::2, 0] + np.uint64(1)) % np.uint64(2**64 - 2**32 + 1)
    tree = MerkleTree(bad)
    c = dataclasses.replace(data.commitment, root=tree.root)
    evil = dataclasses.replace(data, codeword=bad, tree=tree, commitment=c)
    with pytest.raises(ProximityMismatch):
        _verify(c, claims, open(evil, claims, _transcript(c)))


def test_tampered_column_entry(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    cols = proof.columns.copy()
    cols[2, 1] ^= np.uint64(1)
    with pytest.raises(MerkleRootMismatch):
        _verify(c, claims, dataclasses.replace(proof, columns=cols))


def test_tampered_merkle_path(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    sib = list(proof.siblings)
    sib[len(sib) // 2] = bytes(32)
    with pytest.raises(MerkleRootMismatch):
        _verify(c, claims, dataclasses.replace(proof, siblings=tuple(sib)))


def test_merkle_path_missing_a_digest(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    with pytest.raises(MerkleProofShapeError):
        _verify(c, claims, dataclasses.replace(proof, siblings=proof.siblings[:-1]))


def test_swapped_columns(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    cols = proof.columns.copy()
    cols[[0, 1]] = cols[[1, 0]]
    with pytest.raises(MerkleRootMismatch):
        _verify(c, claims, dataclasses.replace(proof, columns=cols))


def test_wrong_root(case):
    """Open commitment B (same shape, other tables) with A's data on B's
    transcript: everything is consistent except the Merkle paths."""
    tables, c, data, claims = case
    other = [vec.random(t.shape[0], np.random.default_rng(7)) for t in tables]
    c_b, _ = commit(other, PARAMS)
    proof = run_open(data, claims, _transcript(c_b), digest=c_b.digest())
    with pytest.raises(MerkleRootMismatch):
        _verify(c_b, claims, proof)


def test_proof_replayed_against_another_commitment(case):
    tables, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    c_b, data_b = commit([tables[0], tables[1]], PARAMS)
    c_b = dataclasses.replace(c_b, root=MerkleTree(data_b.codeword[::-1].copy()).root)
    with pytest.raises(CommitmentMismatch):
        _verify(c_b, claims, proof)


def test_query_positions_not_the_transcripts(case):
    _, c, data, claims = case
    n = 1 << (data.layout.log_cols + PARAMS.log_blowup)

    def shift(pos):
        return sorted({(p + 1) % n for p in pos})

    proof = run_open(data, claims, _transcript(c), positions=shift)
    with pytest.raises(QueryPositionMismatch):
        _verify(c, claims, proof)
    fewer = run_open(data, claims, _transcript(c), positions=lambda pos: pos[:-1])
    with pytest.raises(QueryPositionMismatch):
        _verify(c, claims, fewer)


def test_different_statement_in_the_transcript(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c, "one statement"))
    with pytest.raises(PcsRejected):
        _verify(c, claims, proof, tag="another statement")


@pytest.mark.parametrize("cut", [1, 8, 100, 1000])
def test_proof_truncated(case, cut):
    _, c, data, claims = case
    raw = open(data, claims, _transcript(c)).to_bytes()
    with pytest.raises(MalformedOpening):
        OpeningProof.from_bytes(raw[:-cut])


@pytest.mark.parametrize("pad", [b"\x00", b"\x00" * 32])
def test_proof_padded(case, pad):
    _, c, data, claims = case
    raw = open(data, claims, _transcript(c)).to_bytes()
    with pytest.raises(MalformedOpening):
        OpeningProof.from_bytes(raw + pad)


def test_non_canonical_element_magic_and_version(case):
    _, c, data, claims = case
    raw = bytearray(open(data, claims, _transcript(c)).to_bytes())
    at = 4 + 2 + 32 + 8  # first word of the proximity row
    bad = bytes(raw[:at]) + (2**64 - 1).to_bytes(8, "little") + bytes(raw[at + 8 :])
    with pytest.raises(MalformedOpening, match="non-canonical"):
        OpeningProof.from_bytes(bad)
    with pytest.raises(MalformedOpening, match="magic"):
        OpeningProof.from_bytes(b"XXXX" + bytes(raw[4:]))
    with pytest.raises(MalformedOpening, match="version"):
        OpeningProof.from_bytes(bytes(raw[:4]) + b"\x09\x00" + bytes(raw[6:]))
    with pytest.raises(MalformedOpening):
        OpeningProof.from_bytes("not bytes")
    assert issubclass(MalformedOpening, MalformedProof)


def test_commitment_parse_is_strict(case):
    _, c, _, _ = case
    raw = c.to_bytes()
    for bad in (raw[:-1], raw + b"\x00", b"ZPCX" + raw[4:], raw[:4] + b"\x02\x00" + raw[6:]):
        with pytest.raises(MalformedOpening):
            Commitment.from_bytes(bad)


def test_proof_shape_errors(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    m = data.layout.cols
    with pytest.raises(ProofShapeError):
        _verify(c, claims, dataclasses.replace(proof, num_rows=proof.num_rows + 1,
                                               columns=np.zeros((len(proof.positions), proof.num_rows + 1), np.uint64)))
    with pytest.raises(ProofShapeError):
        _verify(c, claims, dataclasses.replace(proof, proximity_row=np.zeros((m // 2, 2), np.uint64),
                                               evaluation_row=np.zeros((m // 2, 2), np.uint64)))
    no_positions = dataclasses.replace(proof, positions=(), columns=np.zeros((0, proof.num_rows), np.uint64))
    with pytest.raises(ProofShapeError):
        verify(c, claims, no_positions, _transcript(c), PARAMS)
    with pytest.raises(MalformedOpening, match="position count"):  # not even parsed
        _roundtrip(no_positions)
    with pytest.raises(ClaimBatchRejected):  # wrong number of sum-check rounds
        rounds = proof.sumcheck.round_evals[:-1]
        _verify(c, claims, dataclasses.replace(proof, sumcheck=dataclasses.replace(proof.sumcheck, round_evals=rounds)))


def test_invalid_claims(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    with pytest.raises(InvalidClaim):
        _verify(c, [dataclasses.replace(claims[0], poly_index=5)] + claims[1:], proof)
    with pytest.raises(InvalidClaim):
        _verify(c, [dataclasses.replace(claims[0], point=claims[0].point[:-1])] + claims[1:], proof)
    with pytest.raises(InvalidClaim):
        _verify(c, [], proof)
    with pytest.raises(ValueError):
        open(data, [dataclasses.replace(claims[0], poly_index=5)], _transcript(c))


def test_parameter_mismatch(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    with pytest.raises(ParameterMismatch):
        _verify(c, claims, proof, params=PcsParams.for_security(100, log_blowup=3))
    wide = dataclasses.replace(c, log_cols=c.log_cols + 1)
    with pytest.raises(ParameterMismatch):
        _verify(wide, claims, proof)
    with pytest.raises(ParameterMismatch):
        _verify(dataclasses.replace(c, num_vars=(40,)), claims, proof)


def test_more_queries_demanded_than_made(case):
    """A verifier at a higher level rejects a proof made with fewer queries."""
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    strict = dataclasses.replace(PARAMS, num_queries=PARAMS.num_queries + 20)
    with pytest.raises(QueryPositionMismatch):
        _verify(c, claims, proof, params=strict)


def test_plain_prover_data_under_hiding_params_is_refused(case):
    """The plain and hiding openings are different protocols: plain data
    cannot be opened as hiding, and a plain proof does not verify under
    hiding parameters."""
    _, c, data, claims = case
    hiding = PcsParams.default_hiding()
    with pytest.raises((AttributeError, TypeError, ValueError)):
        open(dataclasses.replace(data, params=hiding), claims, _transcript(c))
    with pytest.raises(PcsRejected):
        verify(c, claims, open(data, claims, _transcript(c)), _transcript(c), hiding)


def test_commit_rejects_bad_tables():
    with pytest.raises(ValueError):
        commit([np.zeros(3, dtype=np.uint64)], PARAMS)
    with pytest.raises(ValueError):
        commit([np.full(4, 2**64 - 1, dtype=np.uint64)], PARAMS)
    with pytest.raises(TypeError):
        commit([np.zeros(4, dtype=np.int64)], PARAMS)
    with pytest.raises(ValueError):
        commit([], PARAMS)


def test_layout_round_trip_through_global_point():
    lay = Layout.build([6, 2, 2], 3)
    y, x = lay.global_point(1, [Fp2(1), Fp2(0)])
    assert len(y) == lay.log_rows and len(x) == 3
