"""Consent uses: a dataset record holds one hiding commitment per consent
proof (`commit_dataset(consent_uses=K)`: the main commitment, then
`consent_commitments`), each proof names the one it opens (`dataset_use`)
and the verifier takes that commitment from the record. An honest
re-attestation on a second use verifies; a proof naming a use the record
does not hold, or relabelled to another use, is rejected; the prover's
ledger refuses a second opening. (The registry's refusal is in
tests/registry/test_consent_chain.py, on SQLite and PostgreSQL.)"""

from __future__ import annotations

import dataclasses
import json
import secrets

import pyarrow as pa
import pytest

from zkaudit.data.consent_table import commit_consent_table
from zkaudit.data.dataset import (CONSENT_USES_FILE, LEGACY_OPENINGS_FILE, ConsentUseRefused, choose_consent_use,
                                  commit_dataset, read_consent_uses, record_consent_use)
from zkaudit.data.errors import DataError, MalformedRecord, RecordRejected
from zkaudit.data.records import DatasetRecord
from zkaudit.errors import MalformedProof, ProofRejected
from zkaudit.statements.consent.proof import STATEMENT, ConsentProof
from zkaudit.statements.consent.prover import prove_consent
from zkaudit.statements.consent.verifier import StatementMismatch, UnknownDatasetUse, verify_consent
from zkaudit.statements.envelope import encode_envelope, parse_envelope

SCHEMA = {"columns": [{"name": "patient", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
          "id_column": "patient", "population": "synthetic"}


def _cols(ids):
    return {"patient": pa.array(ids), "age": pa.array([str(30 + i % 50) for i in range(len(ids))])}


@pytest.fixture(scope="module")
def material():
    ids = [secrets.token_hex(16) for _ in range(24)]
    t1, o1, _ = commit_consent_table(ids, issuer="irb-a", purpose="train:x", version=1)
    t2, o2, _ = commit_consent_table(ids[:23], issuer="irb-a", purpose="train:x", version=2,
                                     supersedes=t1.digest.hex())
    seed = secrets.token_bytes(32)
    ds, dop = commit_dataset(_cols(ids[:10]), SCHEMA, seed=seed, consent_uses=3, training_uses=2)
    p0 = prove_consent(ds, dop, t1, o1, unique_ids=True)
    p1 = prove_consent(ds, dop, t2, o2, unique_ids=True, dataset_use=1)  # the re-attestation against v2
    return {"ids": ids, "t1": (t1, o1), "t2": (t2, o2), "ds": ds, "dop": dop, "seed": seed, "p0": p0, "p1": p1}


def _relabel(proof: bytes, **changes) -> bytes:
    body = ConsentProof.from_bytes(parse_envelope(proof).body)
    st = dict(body.statement)
    for k, v in changes.items():
        if v is None:
            st.pop(k, None)
        else:
            st[k] = v
    return encode_envelope(STATEMENT, dataclasses.replace(body, statement=st).to_bytes())


def test_record_holds_one_commitment_per_use(material):
    ds = material["ds"]
    assert ds.consent_uses == 3 and len(ds.doc["consent_commitments"]) == 2
    assert len(ds.training_commitments) == 2
    assert len({c.to_bytes() for c in ds.all_commitments()}) == 5
    assert ds.consent_commitment(0) == ds.commitment
    with pytest.raises(RecordRejected, match="not a consent use 3"):
        ds.consent_commitment(3)
    # the commitments follow from the seed: a recommit reproduces the record
    again, _ = commit_dataset(_cols(material["ids"][:10]), SCHEMA, seed=material["seed"], consent_uses=3,
                              training_uses=2)
    assert again.digest == ds.digest
    # a record made with one consent use is written as before (no consent_commitments key)
    one, _ = commit_dataset(_cols(material["ids"][:10]), SCHEMA, seed=material["seed"], training_uses=2)
    assert "consent_commitments" not in one.doc and one.consent_uses == 1
    assert one.commitment == ds.commitment and one.training_commitments == ds.training_commitments
    with pytest.raises(DataError, match="consent uses must be in 1..64"):
        commit_dataset(_cols(material["ids"][:2]), SCHEMA, consent_uses=0)


def test_record_parsing_is_strict(material):
    doc = material["ds"].doc
    assert DatasetRecord.from_json(json.loads(json.dumps(doc))).consent_uses == 3
    with pytest.raises(MalformedRecord, match="empty consent_commitments"):
        DatasetRecord.from_json(dict(doc, consent_commitments=[]))
    with pytest.raises(MalformedRecord, match="repeats another commitment"):
        DatasetRecord.from_json(dict(doc, consent_commitments=[doc["commitment"]]))
    with pytest.raises(MalformedRecord, match="repeats another commitment"):
        DatasetRecord.from_json(dict(doc, consent_commitments=[doc["training_commitments"][0]]))
    with pytest.raises(MalformedRecord, match="at most 63"):
        DatasetRecord.from_json(dict(doc, consent_commitments="ab"))


def test_honest_uses_verify_and_name_their_commitment(material):
    ds, t1, t2 = material["ds"], material["t1"][0], material["t2"][0]
    v0 = verify_consent(material["p0"], dataset=ds, table=t1, unique_ids=True)
    v1 = verify_consent(material["p1"], dataset=ds, table=t2, unique_ids=True)
    assert (v0.output["dataset_use"], v1.output["dataset_use"]) == (0, 1)
    assert v0.output["dataset_uses"] == 3 and v0.output["zero_knowledge"] is True
    assert v0.output["dataset_commitment"] != v1.output["dataset_commitment"]
    # use 0's statement is the one written before uses existed: no dataset_use key
    assert "dataset_use" not in ConsentProof.from_bytes(parse_envelope(material["p0"]).body).statement
    assert ConsentProof.from_bytes(parse_envelope(material["p1"]).body).statement["dataset_use"] == 1
    plain = prove_consent(ds, material["dop"], t1, material["t1"][1], unique_ids=False, zero_knowledge=False,
                          dataset_use=2)
    assert verify_consent(plain, dataset=ds).output["dataset_use"] == 2


def test_a_use_the_record_does_not_hold_is_rejected(material):
    with pytest.raises(UnknownDatasetUse, match="does not hold"):
        verify_consent(_relabel(material["p1"], dataset_use=3))
    with pytest.raises(UnknownDatasetUse):
        verify_consent(_relabel(material["p1"], dataset_use=2 ** 40))
    # the record without its consent commitments (another record: one consent use)
    doc = {k: v for k, v in material["ds"].doc.items() if k != "consent_commitments"}
    with pytest.raises(UnknownDatasetUse):
        verify_consent(_relabel(material["p1"], dataset=doc))
    for bad in (0, -1, True, "1"):
        with pytest.raises(MalformedProof, match="dataset_use"):
            verify_consent(_relabel(material["p1"], dataset_use=bad))
    # the prover refuses too
    ds, dop = material["ds"], material["dop"]
    t1, o1 = material["t1"]
    with pytest.raises(RecordRejected, match="not a consent use 3"):
        prove_consent(ds, dop, t1, o1, unique_ids=True, dataset_use=3)


def test_a_proof_relabelled_to_another_use_is_rejected(material):
    """The proof opens use 1's commitment: claiming use 0 or 2 (a commitment the
    record holds) fails the binding and the openings."""
    t2 = material["t2"][0]
    for use in (None, 2):
        with pytest.raises(ProofRejected):
            verify_consent(_relabel(material["p1"], dataset_use=use), table=t2)
    with pytest.raises(ProofRejected):
        verify_consent(_relabel(material["p0"], dataset_use=1))
    # and a verifier holding the signed record sees another dataset when the record is swapped
    doc = {k: v for k, v in material["ds"].doc.items() if k != "consent_commitments"}
    with pytest.raises(StatementMismatch):
        verify_consent(_relabel(material["p0"], dataset=doc), dataset=material["ds"])


def test_prover_ledger_refuses_a_reopening(tmp_path, material):
    ds = material["ds"]
    assert read_consent_uses(tmp_path) == {} and choose_consent_use(ds, tmp_path) == 0
    record_consent_use(tmp_path, 0, "aa" * 32)
    assert choose_consent_use(ds, tmp_path) == 1 and choose_consent_use(ds, tmp_path, 2) == 2
    with pytest.raises(ConsentUseRefused, match="consent commitment 0 of the dataset is already opened") as err:
        choose_consent_use(ds, tmp_path, 0)
    assert "--consent-uses K" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConsentUseRefused, match="already opened"):
        record_consent_use(tmp_path, 0, "bb" * 32)
    record_consent_use(tmp_path, 2, "cc" * 32)
    record_consent_use(tmp_path, 1, "dd" * 32)
    assert read_consent_uses(tmp_path) == {0: "aa" * 32, 1: "dd" * 32, 2: "cc" * 32}
    with pytest.raises(ConsentUseRefused, match="all 3 consent commitment"):
        choose_consent_use(ds, tmp_path)
    with pytest.raises(ConsentUseRefused, match="use 3 does not exist"):
        choose_consent_use(ds, tmp_path, 3)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []  # no temporary file left
    (tmp_path / CONSENT_USES_FILE).write_text("{not json")
    with pytest.raises(DataError, match="unreadable"):
        choose_consent_use(ds, tmp_path)


def test_the_earlier_ledger_counts_as_use_0(tmp_path, material):
    """A dataset directory from before consent uses: zk-openings.txt lists the
    proofs over the main commitment, so use 0 is taken."""
    (tmp_path / LEGACY_OPENINGS_FILE).write_text(f"{'ee' * 32} table {'ff' * 32}\n")
    assert read_consent_uses(tmp_path) == {0: "ee" * 32}
    assert choose_consent_use(material["ds"], tmp_path) == 1
    one = DatasetRecord.from_json({k: v for k, v in material["ds"].doc.items() if k != "consent_commitments"})
    with pytest.raises(ConsentUseRefused, match="all 1 consent commitment"):
        choose_consent_use(one, tmp_path)
