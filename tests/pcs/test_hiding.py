"""Hiding commitment: the encoding is the (m + l_pad)-dimensional RS code,
honest batched openings, the attack catalogue in hiding mode, the exact
mask-rank certificate, leakage attacks that work on the plain commitment and
fail on the hiding one, and randomness hygiene."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "sumcheck"))
from gfp_linalg import affine_map, flatten, in_column_span, rank  # noqa: E402

from zkaudit import poly  # noqa: E402
from zkaudit.errors import ProofRejected  # noqa: E402
from zkaudit.field import Fp2, vec  # noqa: E402
from zkaudit.field.constants import P  # noqa: E402
from zkaudit.pcs import Claim, PcsParams, commit, open, protocol, verify  # noqa: E402
from zkaudit.pcs import hiding, hiding_code  # noqa: E402
from zkaudit.pcs.errors import (  # noqa: E402
    ClaimBatchRejected,
    CommitmentMismatch,
    MalformedOpening,
    MerkleRootMismatch,
    ProofShapeError,
)
from zkaudit.pcs.hiding import WeightedClaim  # noqa: E402
from zkaudit.pcs.hiding_verifier import read_hiding_opening  # noqa: E402
from zkaudit.pcs.ntt import bit_reversal, root_of_unity  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402

ZK = PcsParams.default_hiding()
TINY = PcsParams.for_tests_hiding(4)


def _transcript(c, tag="hiding-test") -> Transcript:
    t = Transcript()
    t.absorb_statement(tag, 1, commitments={"tables": c.to_bytes()})
    return t


def _point(n, rng):
    return tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(n, rng))


def _setup(sizes, params=ZK, seed=0):
    rng = np.random.default_rng(seed)
    tables = [vec.random(1 << s, rng) for s in sizes]
    c, data = commit(tables, params)
    claims = [Claim(i, pt, data.masked_value(i, pt)) for i, s in enumerate(sizes) for pt in [_point(s, rng)]]
    return tables, c, data, claims


def _verify(c, claims, proof, params=ZK, tag="hiding-test"):
    verify(c, claims, read_hiding_opening(proof.to_bytes(), c, params), _transcript(c, tag), params)


# ------------------------------------------------------------- the code


def test_encoding_is_the_polynomial_of_degree_below_m_plus_pad():
    params = TINY
    log_m = params.min_log_cols
    m, pad = 1 << log_m, params.pad_symbols
    rng = np.random.default_rng(1)
    msg = vec.ext_random(m + pad, rng)
    enc = hiding_code.encode_message_ext(msg, log_m, params)
    log_n = log_m + params.log_blowup
    w = root_of_unity(log_n)
    rev = bit_reversal(log_n)
    for j in (0, 1, 5, (1 << log_n) - 1, 77):
        eta = pow(w, int(rev[j]), P)
        for coord in (0, 1):
            want = sum(int(msg[c, coord]) * pow(eta, c, P) for c in range(m + pad)) % P
            assert int(enc[j, coord]) == want


def test_hiding_parameters_reach_100_bits_with_pad_at_least_queries():
    assert ZK.soundness_bits >= 100 and ZK.pad_symbols >= ZK.num_queries + 8
    assert "hiding" in ZK.describe() and "not hiding" in PcsParams.default().describe()
    from zkaudit.pcs.params import soundness_report

    report = soundness_report()
    assert "ZK" in report and f"{ZK.num_queries} queries" in report


# ------------------------------------------------------------- honest

SHAPES = {"one": [3], "wide": [13], "mixed": [9, 4, 1], "many": [2] * 5 + [7]}


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("params", [ZK, TINY], ids=["default", "tiny"])
def test_honest_hiding_opening_verifies(name, params):
    tables, c, data, claims = _setup(SHAPES[name], params)
    proof = open(data, claims, _transcript(c))
    _verify(c, claims, proof, params)


def test_masked_value_agrees_with_the_table_on_the_cube():
    tables, c, data, _ = _setup([4])
    for idx in (0, 5, 15):
        pt = tuple(Fp2((idx >> (3 - k)) & 1) for k in range(4))
        assert data.masked_value(0, pt) == Fp2(int(tables[0][idx]))


def test_batched_masked_and_weighted_claims():
    rng = np.random.default_rng(4)
    params = dataclasses.replace(ZK, mask_vars=3)  # three masked claims on table 0 need an 8-entry mask
    tables, c, data, claims = _setup([8, 3], params, seed=4)
    more = [Claim(0, pt, data.masked_value(0, pt)) for pt in (_point(8, rng), _point(8, rng))]
    w = (Fp2(2), Fp2(7, 3), Fp2(0, 1))
    exact = Fp2(0)
    for k_, wk in enumerate(w):
        exact = exact + wk * Fp2(int(tables[0][250 + k_]))
    weighted = WeightedClaim(0, 250, w, exact)
    all_claims = claims + more + [weighted]
    _verify(c, all_claims, open(data, all_claims, _transcript(c)), params)


@pytest.mark.parametrize("sizes, table, allowed", [([6], 0, 2), ([6, 1], 1, 1), ([2], 0, 2)])
def test_more_masked_claims_than_the_mask_hides_refused(sizes, table, allowed):
    rng = np.random.default_rng(5)
    _, c, data, _ = _setup(sizes)
    v = sizes[table]
    claims = [Claim(table, pt, data.masked_value(table, pt)) for pt in (_point(v, rng) for _ in range(allowed + 1))]
    assert hiding.max_masked_claims(v, ZK) == allowed
    open(data, claims[:allowed], _transcript(c))
    with pytest.raises(ValueError, match="mask hides"):
        open(data, claims, _transcript(c))


@pytest.mark.parametrize("num_claims, hidden", [(1, True), (2, True), (3, False), (4, False)])
def test_claim_values_hidden_only_up_to_half_the_mask_entries(num_claims, hidden):
    """Exact linear algebra on the claim values alone (the only revealed
    items the mask mu enters): for masked claims on one table with a
    4-entry mu, the two witnesses' value difference lies in the span of mu's
    images for 2 claims (4 base coordinates, 4 unknowns) and not for 3 or 4.
    This is why `max_masked_claims` is 2^s' / 2, not 2^s'."""
    rng = np.random.default_rng(40 + num_claims)
    v = 6
    f1, f2 = vec.random(1 << v, rng), vec.random(1 << v, rng)
    points = [_point(v, rng) for _ in range(num_claims)]
    s = hiding.mask_num_vars(v, ZK)

    def values(table, mask):
        return flatten([hiding.masked_value(table, mask, pt) for pt in points])

    zero = np.zeros(1 << s, dtype=np.uint64)
    cols = [values(np.zeros(1 << v, dtype=np.uint64), np.eye(1 << s, dtype=np.uint64)[k]) for k in range(1 << s)]
    diff = [(a - b) % P for a, b in zip(values(f1, zero), values(f2, zero))]
    assert in_column_span(cols, diff) == hidden
    assert (num_claims <= hiding.max_masked_claims(v, ZK)) == hidden


# ------------------------------------------------ attacks, hiding mode


@pytest.fixture(scope="module")
def case():
    return _setup([9, 4], seed=11)


def test_wrong_masked_value_rejected(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    lie = [dataclasses.replace(claims[0], value=claims[0].value + 1)] + claims[1:]
    with pytest.raises(ClaimBatchRejected):
        _verify(c, lie, proof)


def test_unmasked_value_rejected(case):
    # A claim on f~ instead of f^ is a different (false) claim.
    tables, c, data, claims = case
    plain = [Claim(0, claims[0].point, poly.evaluate(tables[0], claims[0].point))] + claims[1:]
    proof = open(data, claims, _transcript(c))
    with pytest.raises(ClaimBatchRejected):
        _verify(c, plain, proof)


def test_prover_asked_to_prove_a_wrong_value_rejected(case):
    _, c, data, claims = case
    lie = [dataclasses.replace(claims[0], value=claims[0].value + 1)] + claims[1:]
    proof = open(data, lie, _transcript(c))
    with pytest.raises(ProofRejected):
        _verify(c, lie, proof)


def test_wrong_weighted_value_rejected(case):
    tables, c, data, claims = case
    good = WeightedClaim(1, 0, (Fp2(1),), Fp2(int(tables[1][0])))
    bad = dataclasses.replace(good, value=good.value + 1)
    proof = open(data, claims + [bad], _transcript(c))
    with pytest.raises(ProofRejected):
        _verify(c, claims + [bad], proof)


def _mutate(proof, **kw):
    return dataclasses.replace(proof, **kw)


def test_tampered_mask_sum_rejected(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    with pytest.raises(ClaimBatchRejected):
        _verify(c, claims, _mutate(proof, mask_sum=proof.mask_sum + 1))


def test_tampered_rows_rejected(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    row = proof.evaluation_row.copy()
    row[-1, 0] = (int(row[-1, 0]) + 1) % P  # a pad coordinate
    with pytest.raises(ProofRejected):
        _verify(c, claims, _mutate(proof, evaluation_row=row))


def test_tampered_column_salt_and_path_rejected(case):
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    cols = proof.columns.copy()
    cols[0, 0] = (int(cols[0, 0]) + 1) % P
    salts = proof.salts.copy()
    salts[0, 0] ^= np.uint64(1)
    sib = (bytes(32),) + proof.siblings[1:]
    for bad in (_mutate(proof, columns=cols), _mutate(proof, salts=salts), _mutate(proof, siblings=sib)):
        with pytest.raises(MerkleRootMismatch):
            _verify(c, claims, bad)


def test_blinding_row_chosen_after_seeing_the_point_rejected(case):
    """A prover that picks b_z after z (to steer the evaluation row) must
    commit anew; its proof does not verify against the commitment bound
    before the challenges."""
    tables, c, data, claims = case
    c2, data2 = commit(tables, ZK)  # fresh blinding rows, chosen "later"
    proof = open(data2, [Claim(i, cl.point, data2.masked_value(i, cl.point)) for i, cl in enumerate(claims)],
                 _transcript(c))
    with pytest.raises(CommitmentMismatch):
        _verify(c, claims, proof)
    forged = _mutate(proof, commitment_digest=c.digest())
    with pytest.raises(ProofRejected):
        _verify(c, claims, forged)


def test_eval_row_inconsistent_with_columns_rejected(case):
    """Change a data coordinate of u_z and move the sum-check's final value
    with it: caught by the opened columns."""
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    row = proof.evaluation_row.copy()
    row[3, 1] = (int(row[3, 1]) + 5) % P
    with pytest.raises(ProofRejected):
        _verify(c, claims, _mutate(proof, evaluation_row=row))


def test_positions_and_statement_bound(case):
    """The opening sends no positions: its columns are at the transcript's,
    one per distinct position in order; another count or order is refused."""
    _, c, data, claims = case
    proof = open(data, claims, _transcript(c))
    with pytest.raises(ProofRejected):
        _verify(c, claims, proof, tag="another statement")
    fewer = _mutate(proof, columns=proof.columns[:-1], salts=proof.salts[:-1])
    with pytest.raises(ProofShapeError, match="one per query position"):
        _verify(c, claims, fewer)
    order = [1, 0] + list(range(2, proof.columns.shape[0]))
    with pytest.raises(MerkleRootMismatch):
        _verify(c, claims, _mutate(proof, columns=proof.columns[order], salts=proof.salts[order]))


def test_plain_proof_is_not_a_hiding_proof(case):
    tables, c, _, claims = case
    c0, d0 = commit(tables, PcsParams.default())
    plain = open(d0, [Claim(i, cl.point, poly.evaluate(tables[i], cl.point)) for i, cl in enumerate(claims)],
                 _transcript(c0))
    with pytest.raises(ProofShapeError):
        verify(c, claims, plain, _transcript(c), ZK)


@pytest.mark.parametrize("cut", [1, 16, 1000])
def test_hiding_proof_truncated_or_padded(case, cut):
    _, c, data, claims = case
    raw = open(data, claims, _transcript(c)).to_bytes()
    for bad in (raw[:-cut], raw + b"\0" * cut):
        with pytest.raises(MalformedOpening):
            read_hiding_opening(bad, c, ZK)


def test_hiding_proof_shape_bounded_from_header(case):
    _, c, data, claims = case
    raw = open(data, claims, _transcript(c)).to_bytes()
    at = 4 + 2 + 32
    for rows, m, pad in ((2**32 - 1, data.layout.cols, ZK.pad_symbols), (data.matrix.shape[0], 2**31, 4),
                         (data.matrix.shape[0], data.layout.cols, ZK.pad_symbols + 2)):
        bad = raw[:at] + np.array([rows, m, pad], dtype="<u4").tobytes() + raw[at + 12 :]
        with pytest.raises(MalformedOpening):
            read_hiding_opening(bad, c, ZK)


# ------------------------------------------------------ randomness hygiene


def test_two_commitments_of_the_same_tables_differ_everywhere_randomness_reaches(case):
    tables, c, data, claims = case
    c2, data2 = commit(tables, ZK)
    assert c2.root != c.root
    m, R = data.layout.cols, data.layout.num_rows
    assert not np.any(data.matrix[:, m:] == data2.matrix[:, m:])  # pads
    assert not np.any(data.matrix[R:] == data2.matrix[R:])  # blinding rows
    assert not np.any(data.leaves[:, R + hiding.NUM_BLIND :] == data2.leaves[:, R + hiding.NUM_BLIND :])  # salts
    assert not np.any(data.leaves[:, :R] == data2.leaves[:, :R])  # every codeword symbol of every row
    claims2 = [Claim(i, cl.point, data2.masked_value(i, cl.point)) for i, cl in enumerate(claims)]
    p1, p2 = open(data, claims, _transcript(c)), open(data2, claims2, _transcript(c2))
    assert all(a.value != b.value for a, b in zip(claims, claims2))
    assert not np.any(p1.evaluation_row == p2.evaluation_row)
    assert p1.mask_sum != p2.mask_sum


# ------------------------------------------------------- leakage attacks


def _positions_seen_by_the_verifier(c, claims, proof, params) -> list[int]:
    """The opened columns' positions, as anyone who runs the verifier learns
    them (a hiding opening does not send them)."""
    t = _transcript(c)
    seen = []
    draw = t.challenge_indices
    t.challenge_indices = lambda label, n, count: seen.append(draw(label, n, count)) or seen[-1]
    verify(c, claims, proof, t, params)
    return sorted(set(seen[-1]))


def _secret_entry_attack(proof, position: int, data_row_index: int, known_row: np.ndarray, log_m: int,
                         log_blowup: int) -> int:
    """(a) Everything of a committed row is known but its first entry x: one
    opened column (the first, at `position`) gives
    C[row, eta] = x + sum_{c >= 1} known[c] eta^c under the plain code; solve for x."""
    log_n = log_m + log_blowup
    j = position
    eta = pow(root_of_unity(log_n), int(bit_reversal(log_n)[j]), P)
    rest = sum(int(known_row[c]) * pow(eta, c, P) for c in range(1, known_row.shape[0])) % P
    return (int(proof.columns[0, data_row_index]) - rest) % P


def test_attack_interpolate_committed_entry_from_an_opened_column():
    rng = np.random.default_rng(21)
    table = vec.random(1 << 12, rng)
    for params, should_work in ((PcsParams.default(), True), (ZK, False)):
        c, data = commit([table], params)
        pt = _point(12, rng)
        value = data.masked_value(0, pt) if params.hiding else poly.evaluate(table, pt)
        proof = open(data, [Claim(0, pt, value)], _transcript(c))
        m = data.layout.cols
        position = _positions_seen_by_the_verifier(c, [Claim(0, pt, value)], proof, params)[0]
        guess = _secret_entry_attack(proof, position, 0, table[:m], data.layout.log_cols, data.params.log_blowup)
        assert (guess == int(table[0])) is should_work


def test_a_commitment_at_another_rate_or_width_than_its_size_gets_is_refused():
    """A small hiding commitment's rate and width are solved from its tables'
    sizes (`PcsParams.hiding_shape`); the prover cannot pick a shape with
    fewer queries: the verifier derives the shape itself and refuses any
    other before reading the proof."""
    from zkaudit.pcs.errors import ParameterMismatch
    from zkaudit.pcs.proof import Commitment

    tables, c, data, claims = _setup([6, 3])
    assert data.params.row_log_cols and data.params.soundness_bits >= ZK.target_bits
    proof = open(data, claims, _transcript(c))
    verify(c, claims, proof, _transcript(c), ZK)
    for log_blowup, log_cols in ((c.log_blowup + 1, c.log_cols), (c.log_blowup - 1, c.log_cols),
                                 (c.log_blowup, c.log_cols + 1), (ZK.log_blowup, ZK.min_log_cols)):
        forged = Commitment(log_blowup, log_cols, c.num_vars, c.root)
        with pytest.raises(ParameterMismatch):
            read_hiding_opening(proof.to_bytes(), forged, ZK)
        with pytest.raises(ParameterMismatch):
            verify(forged, claims, proof, _transcript(forged), ZK)


def _replay_plain(c, claims, proof):
    """The verifier's challenges of a plain opening: alpha and the row point rho."""
    from zkaudit.sumcheck.verifier import verify as sc_verify

    t = _transcript(c)
    protocol.absorb_header(t, c.digest(), claims)
    alpha = protocol.proximity_coefficients(t, proof.num_rows)
    t.absorb_vec(protocol.LABEL_PROXIMITY_ROW, proof.proximity_row)
    powers = protocol.batching_powers(t, len(claims))
    ev = sc_verify(proof.sumcheck, protocol.batched_value(powers, claims), (proof.num_rows - 1).bit_length(),
                   protocol.batch_spec(powers), t)
    return alpha, list(ev.point)


def _replay_hiding(c, claims, proof, data):
    """The verifier's row point rho of a hiding opening."""
    from zkaudit.sumcheck.verifier import verify as sc_verify

    t = _transcript(c)
    hiding.absorb_claims(t, c.digest(), claims)
    D = data.domain_rows
    l = (D - 1).bit_length()
    hiding.mask_points(t, l)
    t.absorb_ext(hiding.LABEL_MASK_SUM, proof.mask_sum)
    rho_m = t.challenge_ext(hiding.LABEL_MASK_RHO)
    powers = protocol.batching_powers(t, len(claims))
    flat = [(g, term) for g, ts in zip(powers, hiding.claim_terms(data.layout, 1, claims, ZK, l)) for term in ts]
    coeffs = [g * term.coeff for g, term in flat]
    pairs = hiding.group_coeffs(hiding.row_groups([term for _, term in flat]), coeffs)
    ev = sc_verify(proof.sumcheck, protocol.batched_value(powers, claims) + rho_m * proof.mask_sum, l,
                   hiding.batch_spec(pairs + [rho_m] * hiding.NUM_PAD_MASKS), t)
    return list(ev.point)


def _solve_two_rows(u_prox, u_eval, a, e, col) -> Fp2:
    """Row 0 at `col` from u_prox = a0 M0 + a1 M1 and u_eval = e0 M0 + e1 M1."""
    up = Fp2(int(u_prox[col, 0]), int(u_prox[col, 1]))
    ue = Fp2(int(u_eval[col, 0]), int(u_eval[col, 1]))
    det = a[0] * e[1] - a[1] * e[0]
    return (up * e[1] - ue * a[1]) * det.inverse()


def test_attack_recover_committed_vector_from_row_combinations():
    """(b) A table in two rows: the plain opening's proximity and evaluation
    rows are two known combinations of them, a 2 x 2 system per column that
    gives the whole table. The hiding opening reveals one combination,
    eq(rho, .) M: an attacker who even knows every committed row but the
    table's solves it for the table's row and gets nothing: b_z blinds it."""
    from zkaudit.poly.mle import eq_table, point_array

    rng = np.random.default_rng(22)
    table = vec.random(4, rng)
    pt = _point(2, rng)
    c, data = commit([table], PcsParams.default())
    assert data.layout.num_rows == 2
    claims = [Claim(0, pt, poly.evaluate(table, pt))]
    proof = open(data, claims, _transcript(c))
    alpha, rho = _replay_plain(c, claims, proof)
    a = [Fp2(int(x), int(y)) for x, y in alpha]
    e = [Fp2(int(x), int(y)) for x, y in eq_table(point_array(rho))]
    m = data.layout.cols
    recovered = [_solve_two_rows(proof.proximity_row, proof.evaluation_row, a, e, c_) for c_ in range(m)]
    assert recovered == [Fp2(int(table[i])) for i in range(m)]  # the plain opening gives the table away

    ch, dh = commit([table], ZK)
    hclaims = [Claim(0, pt, dh.masked_value(0, pt))]
    hp = open(dh, hclaims, _transcript(ch))
    e = [Fp2(int(x), int(y)) for x, y in eq_table(point_array(_replay_hiding(ch, hclaims, hp, dh)))]
    place, R = dh.layout.placements[0], dh.layout.num_rows
    guess = []
    for i in range(4):
        col = place.col + i
        others = sum((e[y] * Fp2(int(dh.matrix[y, col])) for y in range(R) if y != place.row), Fp2(0))
        u = Fp2(int(hp.evaluation_row[col, 0]), int(hp.evaluation_row[col, 1]))
        guess.append((u - others) * e[place.row].inverse())
    assert all(g != Fp2(int(x)) for g, x in zip(guess, table))
    # the same solve with b_z's contribution known gives the table: the blinding row is all that hides it
    b_z = sum((e[y] * Fp2(int(dh.matrix[y, place.col])) for y in range(R, R + hiding.NUM_BLIND)), Fp2(0))
    assert guess[0] - b_z * e[place.row].inverse() == Fp2(int(table[0]))
    verify(ch, hclaims, hp, _transcript(ch), ZK)


# --------------------------------------------- exact mask-rank certificate


class FixedChallenges(Transcript):
    """Honest-verifier coins fixed in advance (absorbs still run)."""

    def __init__(self, seed: int):
        super().__init__()
        self.absorb_statement("zk-rank", 1, digests={"c": b"\0" * 32})
        self._rng = np.random.default_rng(seed)

    def challenge_ext(self, label):
        super().challenge_ext(label)
        a, b = self._rng.integers(1, P, size=2, dtype=np.uint64)
        return Fp2(int(a), int(b))

    def challenge_exts(self, label, count):
        return [self.challenge_ext(label) for _ in range(count)]

    def challenge_indices(self, label, n, count):
        super().challenge_ext(label)
        return [int(x) for x in self._rng.integers(0, n, size=count)]


def _revealed_hiding(tables, points, randomness: list[int], params, shape):
    """Run commit + open with the prover's randomness given as a flat vector
    (pads, blinding rows, mask tables) and fixed challenges; return every
    revealed field element except Merkle digests (random-oracle outputs)."""
    R, m, pad, mask_sizes = shape
    it = iter(randomness)

    def take(n):
        return np.array([next(it) for _ in range(n)], dtype=np.uint64)

    from zkaudit.pcs import layout as layout_mod
    from zkaudit.pcs.merkle import MerkleTree
    from zkaudit.pcs.prover import build_matrix
    from zkaudit.pcs.proof import Commitment

    masks = [take(s) for s in mask_sizes]
    every = hiding.all_num_vars([int(t.shape[0]).bit_length() - 1 for t in tables], params)
    lay = layout_mod.Layout.build(every, params.choose_log_cols(every))
    rows = R + hiding.NUM_BLIND
    matrix = np.empty((rows, m + pad), dtype=np.uint64)
    matrix[:R, :m] = build_matrix(list(tables) + masks, lay)
    matrix[R:, :m] = take(hiding.NUM_BLIND * m).reshape(hiding.NUM_BLIND, m)
    matrix[:, m:] = take(rows * pad).reshape(rows, pad)
    n = m << params.log_blowup
    leaves = np.zeros((n, rows + 2), dtype=np.uint64)
    hiding_code.encode_rows(matrix, lay.log_cols, params, leaves)  # the commitment's own (fused) encoder
    tree = MerkleTree(leaves)
    com = Commitment(params.log_blowup, lay.log_cols, tuple(every[: len(tables)]), tree.root)
    data = hiding.HidingProverData(params, lay, len(tables), matrix, leaves, tree, com, list(tables), masks)
    claims = [Claim(i, pt, data.masked_value(i, pt)) for i, pt in points]
    proof = open(data, claims, FixedChallenges(7))
    out = [c.value for c in claims] + [proof.mask_sum]
    out += [e for r in proof.sumcheck.round_evals for e in r] + list(proof.sumcheck.final_values)
    if proof.column_sumcheck is not None:
        out += [e for r in proof.column_sumcheck.round_evals for e in r] + list(proof.column_sumcheck.final_values)
    return (flatten(out) + [int(x) for x in proof.evaluation_row.reshape(-1)]
            + [int(x) for x in proof.columns.reshape(-1)])


def _rank_setup(zero_masks=False):
    params = TINY
    rng = np.random.default_rng(30)
    sizes = [7, 3]
    t1 = [vec.random(1 << s, rng) for s in sizes]
    t2 = [vec.random(1 << s, rng) for s in sizes]
    points = [(0, _point(7, rng)), (0, _point(7, rng)), (1, _point(3, rng))]
    every = hiding.all_num_vars(sizes, params)
    lay = __import__("zkaudit.pcs.layout", fromlist=["Layout"]).Layout.build(every, params.choose_log_cols(every))
    shape = (lay.num_rows, lay.cols, params.pad_symbols, [1 << v for v in every[len(sizes):]])
    R, m, pad, mask_sizes = shape
    num_rand = sum(mask_sizes) + hiding.NUM_BLIND * m + (R + hiding.NUM_BLIND) * pad
    return params, t1, t2, points, shape, num_rand


@pytest.mark.slow
@pytest.mark.parametrize("column_sumcheck", [False, True], ids=["direct-sums", "column-sumcheck"])
def test_hiding_opening_reveals_only_an_affine_image_of_its_randomness_spanning_any_witness_difference(
        monkeypatch, column_sumcheck):
    from zkaudit.pcs import column_check

    if column_sumcheck:  # this small opening would be checked by direct sums (`column_check.direct`)
        monkeypatch.setattr(column_check, "DIRECT_UP_TO", -1)
    params, t1, t2, points, shape, num_rand = _rank_setup()
    run1 = lambda rho: _revealed_hiding(t1, points, rho, params, shape)  # noqa: E731
    a1, cols = affine_map(run1, num_rand)
    rho = [int(x) for x in np.random.default_rng(3).integers(0, P, size=num_rand, dtype=np.uint64)]
    from gfp_linalg import apply

    assert run1(rho) == apply(a1, cols, rho)  # affine, exactly
    a2 = _revealed_hiding(t2, points, [0] * num_rand, params, shape)
    diff = [(x - y) % P for x, y in zip(a1, a2)]
    assert any(diff)
    # Two unrelated witnesses of the same shape, the same claim points: the
    # transcripts' difference lies in the span of the prover's randomness,
    # so the two transcript distributions are identical.
    assert in_column_span(cols, diff)
    # With the masks zeroed (Virgo's dead-mask bug) the same test fails.
    assert not in_column_span([[0] * len(diff)], diff)
    assert rank(list(map(list, zip(*cols)))) > 0
