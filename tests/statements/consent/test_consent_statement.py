"""The consent statement: an honest run on 10^4 records against 10^5 IDs,
and the attack catalogue of design/statements.md §3.9 items 23-27 (26, the
stale version flag, is the registry's: here a proof for v1 checked against
v2 is refused), plus a tampered dataset commitment, a proof for another
dataset and byte tampering. Each attack runs on the zero-knowledge proof
(the default) and on the plain one (--no-zero-knowledge, synthetic data):
the plain run fails at the named check; the zero-knowledge run fails too,
often at the bank opening that the deferred checks fold into (the failing
equality is not visible on the spot there), so it expects a ProofRejected."""

from __future__ import annotations

import secrets

import numpy as np
import pyarrow as pa
import pytest

from zkaudit.data.consent_table import commit_consent_table, commit_sorted
from zkaudit.data.consent_table_verifier import verify_consent_table
from zkaudit.data.dataset import DatasetOpening, commit_dataset
from zkaudit.data.errors import DataError
from zkaudit.data.records import DatasetRecord, default_params
from zkaudit.errors import ProofRejected
from zkaudit.lookup.committed_table_prover import table_multiplicities
from zkaudit.lookup.errors import LookupSumNonZero
from zkaudit.pcs.errors import PcsRejected
from zkaudit.statements.consent.proof import ConsentProof
from zkaudit.statements.consent.prover import NotConsented, prove_consent
from zkaudit.statements.consent.verifier import StatementMismatch, verify_consent
from zkaudit.statements.envelope import encode_envelope, parse_envelope
from zkaudit.statements.verify import verify_proof
from zkaudit.sumcheck.errors import SumcheckRejected

U64 = np.uint64
SCHEMA = {"columns": [{"name": "patient", "type": "id"}, {"name": "encounter", "type": "id"},
                      {"name": "age", "type": "int", "min": 0, "max": 120}],
          "id_column": "patient", "population": "synthetic"}


def _ids(n):
    return [secrets.token_hex(16) for _ in range(n)]


def _dataset(patients, encounters=None, schema=SCHEMA, seed=None):
    n = len(patients)
    cols = {"patient": pa.array(patients), "encounter": pa.array(encounters or _ids(n)),
            "age": pa.array([str(30 + i % 50) for i in range(n)])}
    return commit_dataset(cols, schema, seed=seed)


@pytest.fixture(params=[True, False], ids=["zk", "plain"])
def zk(request):
    return request.param


def _expect(zk, plain_error):
    """The plain run's named rejection; a zero-knowledge run's ProofRejected."""
    return pytest.raises(ProofRejected if zk else plain_error)


@pytest.fixture(scope="module")
def small():
    table_ids = _ids(40)
    tb, top, tproof = commit_consent_table(table_ids, issuer="irb-a", purpose="train:sepsis", version=1)
    patients = table_ids[:12]
    ds, dop = _dataset(patients)
    return table_ids, tb, top, tproof, ds, dop


def test_honest_small_with_and_without_unique_ids(small, zk):
    _, tb, top, tproof, ds, dop = small
    verify_consent_table(tb, tproof)
    for uniq in (False, True):
        proof = prove_consent(ds, dop, tb, top, unique_ids=uniq, zero_knowledge=zk)
        v = verify_consent(proof, dataset=ds, table=tb, unique_ids=uniq)
        out = v.output
        assert out["dataset"] == ds.digest.hex() and out["table_version"] == 1
        assert out["purpose"] == "train:sepsis" and out["unique_ids"] is uniq and out["zero_knowledge"] is zk
        assert v.privacy["zero_knowledge"] is zk
        assert v.soundness_bits >= 100, v.soundness_bits
        verdict = verify_proof(proof, circuit_bin=b"", weight_commitment=b"")
        assert verdict.valid and verdict.statement == "consent" and verdict.output == out


def test_honest_10k_records_in_1m_table():
    """The issue's honest run: 10^4 records against a 10^6-row consent table,
    the table committed with its distinctness proof (about 20 s; the figures
    are benchmarks/consent_bench.py's)."""
    table_ids = _ids(1_000_000)
    tb, top, tproof = commit_consent_table(table_ids, issuer="irb-a", purpose="train:sepsis", version=1)
    verify_consent_table(tb, tproof)
    rng = np.random.default_rng(1)
    ds, dop = _dataset([table_ids[i] for i in rng.choice(1_000_000, 10_000, replace=False)])
    proof = prove_consent(ds, dop, tb, top, unique_ids=True)
    v = verify_consent(proof, dataset=ds, table=tb, unique_ids=True)
    assert v.output["dataset_rows"] == 10_000 and v.output["zero_knowledge"] is True
    assert v.soundness_bits >= 100


def test_23_id_not_in_table(small, zk):
    table_ids, tb, top, _, _, _ = small
    patients = table_ids[:7] + [secrets.token_hex(16)]
    ds, dop = _dataset(patients)
    with pytest.raises(NotConsented, match="row 8"):
        prove_consent(ds, dop, tb, top, unique_ids=False, zero_knowledge=zk)
    # a malicious prover counts the stranger as if it were a consented row
    polys = dop.polys
    fake = polys.copy()
    fake[0, 7], fake[1, 7] = top.hi[20], top.lo[20]
    m = table_multiplicities([fake[0], fake[1]], fake[-1], [top.hi, top.lo], tb.num_rows)
    proof = prove_consent(ds, dop, tb, top, unique_ids=False, multiplicities=m, zero_knowledge=zk)
    with _expect(zk, LookupSumNonZero):
        verify_consent(proof, dataset=ds, table=tb)
    # ... or looks up the consented row's ID in place of the stranger's: the dataset opening fails
    proof = prove_consent(ds, DatasetOpening(fake, dop.seed), tb, top, unique_ids=False, multiplicities=m,
                          zero_knowledge=zk, dataset_data=dop.prover_data(ds))
    with pytest.raises(PcsRejected):
        verify_consent(proof, dataset=ds, table=tb)


def test_24_duplicate_id_with_unique_ids(small, zk):
    table_ids, tb, top, _, _, _ = small
    ds, dop = _dataset(table_ids[:6] + [table_ids[2]])
    with pytest.raises(NotConsented, match="share one consented ID"):
        prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zk)
    proof = prove_consent(ds, dop, tb, top, unique_ids=False, zero_knowledge=zk)  # without the flag it proves
    assert verify_consent(proof, dataset=ds, table=tb).output["unique_ids"] is False
    m = table_multiplicities([dop.polys[0], dop.polys[1]], dop.polys[-1], [top.hi, top.lo], tb.num_rows)
    assert int(m.max()) == 2
    with _expect(zk, SumcheckRejected):  # honest counts: m(1 - m) = 0 fails
        verify_consent(prove_consent(ds, dop, tb, top, unique_ids=True, multiplicities=m, zero_knowledge=zk),
                       dataset=ds, table=tb)
    m01 = np.minimum(m, U64(1))  # counts forced into {0, 1}: the LogUp fails instead
    with _expect(zk, LookupSumNonZero):
        verify_consent(prove_consent(ds, dop, tb, top, unique_ids=True, multiplicities=m01, zero_knowledge=zk),
                       dataset=ds, table=tb)


def test_25_duplicate_table_rows_refused():
    ids = _ids(10)
    with pytest.raises(DataError, match="same pseudonymous ID twice"):
        commit_consent_table(ids + [ids[3]], issuer="irb", purpose="p", version=1)
    # an IRB that forges the distinctness witness around a duplicate: its proof fails
    tb, top, _ = commit_consent_table(ids, issuer="irb", purpose="p", version=1)
    hi, lo = top.hi.copy(), top.lo.copy()
    hi[4], lo[4] = hi[3], lo[3]
    beta, d = np.zeros_like(hi), np.zeros_like(hi)
    for j in range(9):
        up = hi[j + 1] > hi[j]
        beta[j] = U64(up)
        diff = int(hi[j + 1]) - int(hi[j]) - 1 if up else int(lo[j + 1]) - int(lo[j]) - 1
        d[j] = U64(diff) if 0 <= diff < 1 << 62 else U64(0)
    rec, _, proof = commit_sorted(hi, lo, 10, issuer="irb", purpose="p", version=1, supersedes=None,
                                  params=default_params(), beta=beta, d=d)
    with pytest.raises(ProofRejected):
        verify_consent_table(rec, proof)


def test_26_proof_for_v1_refused_against_v2(small, zk):
    table_ids, tb, top, _, ds, dop = small
    v2, _, _ = commit_consent_table(table_ids[1:], issuer="irb-a", purpose="train:sepsis", version=2,
                                    supersedes=tb.digest.hex())
    proof = prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zk)
    with pytest.raises(StatementMismatch, match="another consent table or version"):
        verify_consent(proof, dataset=ds, table=v2)


def test_27_id_column_swap(small, zk):
    """The custodian named `patient` as the ID; a prover whose encounter IDs
    are all consented (but patients are not) swaps the ID column."""
    table_ids, tb, top, _, _, _ = small
    patients, encounters = _ids(6), table_ids[:6]
    seed = secrets.token_bytes(32)
    ds, dop = _dataset(patients, encounters, seed=seed)
    with pytest.raises(NotConsented):
        prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zk)
    swapped = dict(SCHEMA, id_column="encounter")
    ds_swapped, dop_swapped = _dataset(patients, encounters, swapped, seed=seed)
    assert ds_swapped.doc["schema_digest"] != ds.doc["schema_digest"]
    assert ds_swapped.doc["commitment"] == ds.doc["commitment"]  # same data and seed, only the schema moved
    proof = prove_consent(ds_swapped, dop_swapped, tb, top, unique_ids=True, zero_knowledge=zk)
    with pytest.raises(StatementMismatch, match="schema"):
        verify_consent(proof, dataset=ds, table=tb)
    # keep the custodian's record but look up the encounter polynomials: the opening fails
    fake = dop.polys.copy()
    fake[[0, 1]] = dop.polys[[2, 3]]
    m = table_multiplicities([fake[0], fake[1]], fake[-1], [top.hi, top.lo], tb.num_rows)
    proof = prove_consent(ds, DatasetOpening(fake, seed), tb, top, unique_ids=True, multiplicities=m,
                          dataset_data=dop.prover_data(ds), zero_knowledge=zk)
    with pytest.raises(PcsRejected):
        verify_consent(proof, dataset=ds, table=tb)


def test_tampered_dataset_commitment(small, zk):
    _, tb, top, _, ds, dop = small
    proof = prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zk)
    env = parse_envelope(proof)
    body = ConsentProof.from_bytes(env.body)
    doc = dict(ds.doc)
    c = bytearray(bytes.fromhex(doc["commitment"]))
    c[-1] ^= 1  # another Merkle root
    doc["commitment"] = c.hex()
    forged = encode_envelope("consent", ConsentProof(dict(body.statement, dataset=doc), *list(
        body.__dict__.values())[1:]).to_bytes())
    with pytest.raises(StatementMismatch):
        verify_consent(forged, dataset=ds, table=tb)
    with pytest.raises(ProofRejected):  # on its own: the openings no longer match
        verify_consent(forged)
    assert not verify_proof(forged, circuit_bin=b"", weight_commitment=b"").valid


def test_proof_for_another_dataset(small, zk):
    table_ids, tb, top, _, ds, dop = small
    other, _ = _dataset(table_ids[20:30])
    proof = prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zk)
    with pytest.raises(StatementMismatch, match="another dataset"):
        verify_consent(proof, dataset=other, table=tb)
    with pytest.raises(StatementMismatch, match="unique_ids"):
        verify_consent(proof, dataset=ds, table=tb, unique_ids=False)


def test_byte_tampering(small, zk):
    _, tb, top, _, ds, dop = small
    proof = prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zk)
    assert DatasetRecord.from_json(ds.doc).digest == ds.digest
    for bad in (proof + b"\0", proof[:-1]):
        with pytest.raises(ProofRejected):
            verify_consent(bad, dataset=ds, table=tb)
    step = max(1, len(proof) // 60)
    for pos in range(0, len(proof), step):
        flipped = bytearray(proof)
        flipped[pos] ^= 0x10
        with pytest.raises(ProofRejected):
            verify_consent(bytes(flipped), dataset=ds, table=tb)
