"""Zero knowledge of consent proofs (design/zero-knowledge.md §9, the
inference tests' counterpart: tests/statements/test_zero_knowledge.py,
test_zk_attacks.py).

The attacker is an honest verifier that keeps every claim the proof's
openings confirm (spying on `pcs.verify`) and holds candidate datasets
(a dictionary attack on low-entropy patient data: "is patient X in D?").
From a plain proof it reads the ID columns' evaluations and the
multiplicities' evaluation in the clear, so it tells the true dataset from
a candidate differing in one patient, and learns which consented IDs the
dataset uses. From a zero-knowledge proof every such claim carries a fresh
pad of a committed bank with a nonzero coefficient: every candidate is
consistent with it. Two zero-knowledge proofs of one statement differ
wherever randomness reaches (two plain ones are byte-identical: re-proving
a guessed dataset tests the guess)."""

from __future__ import annotations

import secrets
import struct

import numpy as np
import pyarrow as pa
import pytest

from zkaudit import pcs
from zkaudit.data.consent_table import commit_consent_table
from zkaudit.data.dataset import commit_dataset
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.lookup.committed_table_prover import table_multiplicities
from zkaudit.pcs.hiding import LinearClaim
from zkaudit.poly.mle import evaluate
from zkaudit.statements.common.statement import canonical_json
from zkaudit.statements.consent.proof import MAGIC, ConsentProof, OldConsentFormat
from zkaudit.statements.consent.prover import prove_consent
from zkaudit.statements.consent.verifier import PROTOCOL_VERSION, verify_consent
from zkaudit.statements.envelope import encode_envelope, parse_envelope
from zkaudit.statements.verify import verify_proof

SCHEMA = {"columns": [{"name": "patient", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
          "id_column": "patient", "population": "synthetic"}


def _ext(v) -> Fp2:
    return Fp2.from_base(v) if isinstance(v, Fp) else v


@pytest.fixture(scope="module")
def world():
    ids = [secrets.token_hex(16) for _ in range(32)]
    tb, top, _ = commit_consent_table(ids, issuer="irb-a", purpose="train:x", version=1)
    patients = ids[:10]
    ds, dop = commit_dataset({"patient": pa.array(patients), "age": pa.array([str(40 + i) for i in range(10)])},
                             SCHEMA)
    return ids, tb, top, ds, dop


def _captured(proof, monkeypatch) -> dict[bytes, list]:
    seen: dict[bytes, list] = {}
    real = pcs.verify

    def spy(com, claims, opening, transcript, params):
        real(com, claims, opening, transcript, params)
        seen.setdefault(com.digest(), []).extend(claims)

    monkeypatch.setattr(pcs, "verify", spy)
    verify_consent(proof)
    monkeypatch.setattr(pcs, "verify", real)
    return seen


def _body(proof) -> ConsentProof:
    return ConsentProof.from_bytes(parse_envelope(proof).body)


def _candidates(world):
    """The true ID column and multiplicities, and a candidate dataset that
    differs in one patient (its ID another consented one)."""
    ids, tb, top, ds, dop = world
    hi_i, lo_i = ds.schema.id_polynomials()
    true_hi = dop.polys[hi_i]
    m = table_multiplicities([dop.polys[hi_i], dop.polys[lo_i]], dop.polys[-1], [top.hi, top.lo], tb.num_rows)
    j = int(np.flatnonzero(m == 0)[0])  # a consented ID the dataset does not use
    i = int(np.flatnonzero(m == 1)[0])
    alt_hi = true_hi.copy()
    alt_hi[int(np.flatnonzero((dop.polys[hi_i] == top.hi[i]) & (dop.polys[lo_i] == top.lo[i]))[0])] = top.hi[j]
    alt_m = m.copy()
    alt_m[i], alt_m[j] = 0, 1
    return hi_i, true_hi, alt_hi, m, alt_m


def _exact_claims(claims, table: int):
    """(point, value) of every claim that states one table's evaluation with
    no pad, and every padded one as (point, value, pad coefficients)."""
    exact, padded = [], []
    for c in claims:
        if isinstance(c, LinearClaim):
            evals = [(z, a) for t, z, a in c.evals if t == table]
            if not evals:
                continue
            (z, a), = evals
            assert a == Fp2(1)
            (padded if c.entries else exact).append((z, c.value, [w for _, _, w in c.entries]))
        elif c.poly_index == table:
            exact.append((c.point, c.value, []))
    return exact, padded


def test_plain_proof_tells_the_true_dataset_and_its_multiplicities(world, monkeypatch):
    ids, tb, top, ds, dop = world
    proof = prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=False)
    seen = _captured(proof, monkeypatch)
    hi_i, true_hi, alt_hi, m, alt_m = _candidates(world)
    exact, padded = _exact_claims(seen[ds.commitment.digest()], hi_i)
    assert exact and not padded
    for z, value, _ in exact:  # the ID column's evaluation, in the clear: a guess is tested
        assert _ext(evaluate(true_hi, list(z))) == value != _ext(evaluate(alt_hi, list(z)))
    mc = pcs.Commitment.from_bytes(_body(proof).multiplicity_commitment)
    m_exact, _ = _exact_claims(seen[mc.digest()], 0)
    assert len(m_exact) == 2  # the LogUp point and the zero-check point
    for z, value, _ in m_exact:  # which consented IDs the dataset uses, in the clear
        assert _ext(evaluate(m, list(z))) == value != _ext(evaluate(alt_m, list(z)))


def test_zero_knowledge_proof_is_consistent_with_every_candidate(world, monkeypatch):
    ids, tb, top, ds, dop = world
    proof = prove_consent(ds, dop, tb, top, unique_ids=True)
    seen = _captured(proof, monkeypatch)
    hi_i, true_hi, alt_hi, m, alt_m = _candidates(world)
    mc = pcs.Commitment.from_bytes(_body(proof).multiplicity_commitment)
    for digest, table, true, alt in ((ds.commitment.digest(), hi_i, true_hi, alt_hi), (mc.digest(), 0, m, alt_m)):
        exact, padded = _exact_claims(seen[digest], table)
        assert not exact and padded  # no evaluation of the data without a pad
        for z, value, pad_coeffs in padded:
            # value = T~(z) + sum c_k pad_k with the pads unknown: a nonzero
            # coefficient solves for a pad whatever T is, so both candidates fit
            assert any(c != Fp2(0) for c in pad_coeffs)
            assert value != _ext(evaluate(true, list(z))) and value != _ext(evaluate(alt, list(z)))


def test_two_proofs_of_one_statement(world):
    ids, tb, top, ds, dop = world
    a, b = (_body(prove_consent(ds, dop, tb, top, unique_ids=True)) for _ in range(2))
    assert a.statement == b.statement
    assert a.multiplicity_commitment != b.multiplicity_commitment
    for x, y in zip(a.lookup.roots + ((a.lookup.root_q, a.lookup.root_q),),
                    b.lookup.roots + ((b.lookup.root_q, b.lookup.root_q),)):
        assert x[0] != y[0] and x[1] != y[1]
    sent_a = a.lookup.lookup_values + (a.lookup.numerator_value, a.lookup.multiplicity_value) + a.lookup.table_values
    sent_b = b.lookup.lookup_values + (b.lookup.numerator_value, b.lookup.multiplicity_value) + b.lookup.table_values
    assert all(x != y for x, y in zip(sent_a, sent_b))
    assert all(x.mask_sum != y.mask_sum for x, y in zip(a.repad + (a.uniqueness,), b.repad + (b.uniqueness,)))
    assert a.dataset_opening != b.dataset_opening
    # the plain proof is a function of the data: proving a guessed dataset again reproduces it byte for byte
    p1, p2 = (prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=False) for _ in range(2))
    assert p1 == p2


def test_verdict_says_zero_knowledge(world):
    ids, tb, top, ds, dop = world
    for zk in (True, False):
        v = verify_proof(prove_consent(ds, dop, tb, top, unique_ids=False, zero_knowledge=zk), circuit_bin=b"",
                         weight_commitment=b"")
        assert v.valid and v.output["zero_knowledge"] is zk and v.privacy["zero_knowledge"] is zk


def test_flag_and_body_must_agree(world):
    """A zero-knowledge body under a statement that says plain (or the
    reverse) is refused: the flag is bound and the body's shape follows it."""
    ids, tb, top, ds, dop = world
    zk_body = _body(prove_consent(ds, dop, tb, top, unique_ids=False))
    plain_body = _body(prove_consent(ds, dop, tb, top, unique_ids=False, zero_knowledge=False))
    for body, flag in ((zk_body, False), (plain_body, True)):
        forged = ConsentProof(dict(body.statement, zero_knowledge=flag), *list(body.__dict__.values())[1:])
        with pytest.raises(ProofRejected):
            verify_consent(encode_envelope("consent", forged.to_bytes()))
    # a plain body's openings under the zero-knowledge body's parts (a downgrade mid-proof)
    mixed = ConsentProof(zk_body.statement, plain_body.multiplicity_commitment, plain_body.lookup, None,
                         zk_body.repad, zk_body.table_values, plain_body.dataset_opening, plain_body.table_opening,
                         plain_body.multiplicity_opening)
    with pytest.raises(ProofRejected):
        verify_consent(encode_envelope("consent", mixed.to_bytes()))


def test_format_1_refused_with_re_prove(world):
    ids, tb, top, ds, dop = world
    statement = dict(_body(prove_consent(ds, dop, tb, top, unique_ids=False)).statement, protocol_version=1,
                     zero_knowledge=False)
    parts = [canonical_json(statement)] + [b""] * 6
    old = MAGIC + b"\x01" + b"".join(struct.pack("<I", len(p)) + p for p in parts)
    with pytest.raises(OldConsentFormat, match="re-prove"):
        verify_consent(encode_envelope("consent", old))
    verdict = verify_proof(encode_envelope("consent", old), circuit_bin=b"", weight_commitment=b"")
    assert not verdict.valid and "re-prove" in verdict.reason
    # a version-2 body whose statement says protocol 1
    body = _body(prove_consent(ds, dop, tb, top, unique_ids=False))
    forged = ConsentProof(dict(body.statement, protocol_version=1), *list(body.__dict__.values())[1:])
    with pytest.raises(MalformedProof, match=f"made by consent protocol 1, and this verifier runs protocol "
                                             f"{PROTOCOL_VERSION}; re-prove with this version"):
        verify_consent(encode_envelope("consent", forged.to_bytes()))
    # named before the keys are looked at: an older protocol may have had others
    older = ConsentProof(dict(body.statement, protocol_version=2, an_older_key=True), *list(body.__dict__.values())[1:])
    with pytest.raises(MalformedProof, match="made by consent protocol 2"):
        verify_consent(encode_envelope("consent", older.to_bytes()))


def _solve_table(claims, table: int, size: int):
    """The table's entries from the claims on it, when they determine them:
    each claim is one GF(p^2) equation (two over GF(p)) on the entries, plus
    two unknowns (its pad's coordinates) when the claim carries bank
    entries. None when some entry stays free."""
    import galois

    from zkaudit.field.constants import P
    from zkaudit.poly.mle import eq_table, point_array

    GF = galois.GF(P)
    eqs = []
    for c in claims:
        if isinstance(c, LinearClaim):
            terms = [(z, a) for t, z, a in c.evals if t == table]
            padded = bool(c.entries)
        elif c.poly_index == table:
            terms, padded = [(c.point, Fp2(1))], False
        else:
            continue
        if terms:
            eqs.append((terms, c.value, padded))
    pads = sum(p for _, _, p in eqs)
    rows, rhs = [], []
    for k, (terms, value, padded) in enumerate(eqs):
        coeff = [Fp2(0)] * size
        for z, a in terms:
            e = eq_table(point_array(list(z)))
            coeff = [coeff[i] + a * Fp2(int(e[i][0]), int(e[i][1])) for i in range(size)]
        extra = [[0] * (2 * pads), [0] * (2 * pads)]
        if padded:
            slot = sum(p for _, _, p in eqs[:k])
            extra[0][2 * slot], extra[1][2 * slot + 1] = 1, 1
        rows += [[x.c0 for x in coeff] + extra[0], [x.c1 for x in coeff] + extra[1]]
        rhs += [value.c0, value.c1]
    A, b = GF(np.array(rows, dtype=object) % P), GF(np.array(rhs, dtype=object) % P)
    null = A.null_space() if np.linalg.matrix_rank(A) < A.shape[1] else GF.Zeros((0, A.shape[1]))
    if null.shape[0] and np.any(null[:, :size] != 0):
        return None  # some entry is free: the claims do not determine the table
    red = np.hstack([A, b.reshape(-1, 1)]).row_reduce()
    out = []
    for col in range(size):
        row = next(r for r in range(red.shape[0]) if red[r, col] == 1 and not np.any(red[r, :col] != 0))
        out.append(int(red[row, -1]))
    return out


def test_which_consented_patients_are_in_the_dataset_recovered_from_a_plain_proof_only(monkeypatch):
    """A 4-row consent table: the multiplicities have 4 entries, and a
    unique-IDs proof states m~ at two points (the LogUp's and the
    zero-check's): four equations over GF(p). From the plain proof they
    solve to the exact multiplicities, i.e. which consented patients the
    dataset holds; likewise a 2-record dataset's ID column (the high limbs of
    both patients' pseudonyms). In the zero-knowledge proof each statement
    also carries an unknown pad, and both stay free."""
    ids = [secrets.token_hex(16) for _ in range(4)]
    tb, top, _ = commit_consent_table(ids, issuer="irb-a", purpose="train:x", version=1)
    assert tb.num_vars == 2
    ds, dop = commit_dataset({"patient": pa.array([ids[3], ids[0]]), "age": pa.array(["50", "61"])}, SCHEMA)
    hi_i, lo_i = ds.schema.id_polynomials()
    truth = [int(v) for v in table_multiplicities([dop.polys[hi_i], dop.polys[lo_i]], dop.polys[-1],
                                                  [top.hi, top.lo], tb.num_rows)]
    assert sorted(truth) == [0, 0, 1, 1]
    id_hi = [int(v) for v in dop.polys[hi_i]]  # two records: a 2-entry column, one GF(p^2) claim solves it
    for zk in (False, True):
        proof = prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zk)
        seen = _captured(proof, monkeypatch)
        mc = pcs.Commitment.from_bytes(_body(proof).multiplicity_commitment)
        assert _solve_table(seen[mc.digest()], 0, 4) == (None if zk else truth)
        assert _solve_table(seen[ds.commitment.digest()], hi_i, 2) == (None if zk else id_hi)
