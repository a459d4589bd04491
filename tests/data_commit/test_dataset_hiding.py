"""The dataset commitment is hiding (statements.md §1.4): its randomness
comes from a secret 32-byte seed kept in the private opening (mode 0600),
so the published record cannot be tested against a guessed dataset; with
the seed the custodian recomputes it exactly. Plain records and openings
from before are refused with a message to re-commit."""

from __future__ import annotations

import copy
import secrets
import stat

import numpy as np
import pyarrow as pa
import pytest

from zkaudit.data.dataset import OPENING_FILE, commit_dataset, load_dataset, write_dataset
from zkaudit.data.errors import DataError, RecordRejected
from zkaudit.data.records import DatasetRecord, params_json
from zkaudit.pcs import PcsParams

SCHEMA = {"columns": [{"name": "pid", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
          "id_column": "pid", "population": "synthetic"}


def _cols(ids, ages):
    return {"pid": pa.array(ids), "age": pa.array([str(a) for a in ages])}


@pytest.fixture(scope="module")
def data():
    return _cols([secrets.token_hex(16) for _ in range(5)], [30, 41, 52, 63, 74])


def test_a_guess_cannot_be_tested_against_the_record(data):
    """Plain commitments are deterministic: committing a guessed dataset and
    comparing roots tells a right guess from a wrong one. Here committing the
    very same data again gives another commitment (fresh seed), so a right
    guess matches no better than a wrong one."""
    a, _ = commit_dataset(data, SCHEMA)
    b, _ = commit_dataset(data, SCHEMA)
    assert a.doc["commitment"] != b.doc["commitment"] and a.doc["pcs"]["hiding"] is True
    assert a.doc["schema_digest"] == b.doc["schema_digest"] and a.num_rows == b.num_rows


def test_the_seed_recomputes_the_commitment(data):
    seed = secrets.token_bytes(32)
    a, op = commit_dataset(data, SCHEMA, seed=seed)
    b, _ = commit_dataset(data, SCHEMA, seed=seed)
    assert a.digest == b.digest and op.seed == seed
    op.prover_data(a)  # recommits and matches
    other = _cols(list(data["pid"].to_pylist()), [30, 41, 52, 63, 75])  # one age differs
    c, _ = commit_dataset(other, SCHEMA, seed=seed)
    assert c.doc["commitment"] != a.doc["commitment"]


def test_opening_file_is_private_and_holds_the_seed(tmp_path, data):
    record, opening = commit_dataset(data, SCHEMA)
    write_dataset(tmp_path / "DS", record, opening, None)
    path = tmp_path / "DS" / OPENING_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "DS" / "dataset.json").stat().st_mode) == 0o644
    _, _, back = load_dataset(tmp_path / "DS", with_opening=True)
    assert back.seed == opening.seed and (back.polys == opening.polys).all()
    assert opening.seed not in (tmp_path / "DS" / "dataset.json").read_bytes()
    back.prover_data(record)
    # an opening of the plain format (no seed) is refused with what to do
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files if k != "seed"}
    path.chmod(0o600)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(DataError, match="re-commit"):
        load_dataset(tmp_path / "DS", with_opening=True)


def test_plain_dataset_record_refused_with_reason(data):
    record, _ = commit_dataset(data, SCHEMA)
    doc = copy.deepcopy(record.doc)
    doc["pcs"] = params_json(PcsParams.for_security(103))  # what a plain (old) record says
    with pytest.raises(RecordRejected, match="plain .*re-commit"):
        DatasetRecord.from_json(doc)


def test_commitment_holds_the_polynomials_and_the_bank(data):
    record, opening = commit_dataset(data, SCHEMA)
    polys = record.doc["polynomials"]
    assert record.commitment.num_vars[:-1] == (record.num_vars,) * len(polys)
    assert record.bank_index == len(polys)
    bank = opening.bank()
    assert bank.shape == (len(polys), 2) and len({tuple(r) for r in bank.tolist()}) == len(polys)
    doc = copy.deepcopy(record.doc)
    doc["polynomials"] = polys[:-1]
    with pytest.raises(RecordRejected):
        DatasetRecord.from_json(doc)
