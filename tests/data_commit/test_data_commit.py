"""Datasets and consent tables: schema validation, CSV/Parquet reading with
row/column errors, the commitment's layout, nothing written on error, the
consent table's sorting, duplicates and versions."""

from __future__ import annotations

import json
import secrets

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zkaudit.data.canonical import digest
from zkaudit.data.consent_table import commit_consent_table, load_consent_table, write_consent_table
from zkaudit.data.consent_table_verifier import verify_consent_table
from zkaudit.data.dataset import commit_dataset, load_dataset, write_dataset
from zkaudit.data.errors import DataError, MalformedRecord, RecordRejected
from zkaudit.data.records import ConsentTableRecord, DatasetRecord
from zkaudit.data.schema import Schema, id_limbs
from zkaudit.errors import ProofRejected
from zkaudit.field.constants import P

SCHEMA = {"columns": [{"name": "pid", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120},
                      {"name": "bmi", "type": "fixed", "scale": 4, "min": 10, "max": "80.5"},
                      {"name": "delta", "type": "int", "min": -50, "max": 50},
                      {"name": "label", "type": "bool"}],
          "id_column": "pid", "population": "synthetic adults"}


def _csv(path, rows, header="pid,age,bmi,delta,label"):
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def _rows(n, rng):
    return [(secrets.token_hex(16), int(rng.integers(0, 121)), round(float(rng.uniform(10, 80)), 2),
             int(rng.integers(-50, 51)), int(rng.integers(0, 2))) for _ in range(n)]


def test_schema_reports_every_problem_at_once():
    bad = {"columns": [{"name": "a", "type": "int"}, {"name": "a", "type": "float"},
                       {"name": "b", "type": "fixed", "scale": 99, "min": 0, "max": 1}],
           "id_column": "b", "population": ""}
    with pytest.raises(DataError) as info:
        Schema.from_json(bad)
    msg = str(info.value)
    for part in ("declared range", "duplicate column", "'float' is not one of", "scale", "id_column",
                 "population"):
        assert part in msg, part


def test_id_limbs_take_the_124_leading_bits():
    s = "f" * 31 + "0"
    hi, lo = id_limbs([s, "0" * 31 + "f"])
    assert int(hi[0]) == (1 << 62) - 1 and int(lo[0]) == (1 << 62) - 1
    assert int(hi[1]) == 0 and int(lo[1]) == 0  # the last hex digit is below the 124 bits
    with pytest.raises(DataError, match="row 2"):
        id_limbs(["0" * 32, "xyz"])


def test_commit_layout_values_and_padding(tmp_path):
    rng = np.random.default_rng(0)
    rows = _rows(5, rng)
    rows[0] = (rows[0][0], 7, 12.5, -3, 1)
    record, opening = commit_dataset(_csv(tmp_path / "d.csv", rows), SCHEMA)
    assert record.num_rows == 5 and record.num_vars == 3
    assert record.doc["polynomials"] == ["pid.hi", "pid.lo", "age", "bmi", "delta", "label", "valid"]
    polys = opening.polys
    assert polys.shape == (7, 8)
    assert int(polys[2, 0]) == 7 and int(polys[3, 0]) == 200 and int(polys[4, 0]) == P - 3
    assert list(polys[-1]) == [1] * 5 + [0] * 3
    assert not polys[:, 5:].any() or list(polys[-1, 5:]) == [0, 0, 0]
    assert (polys[:-1, 5:] == 0).all()
    hi, lo = id_limbs([r[0] for r in rows])
    assert (polys[0, :5] == hi).all() and (polys[1, :5] == lo).all()
    assert record.doc["schema_digest"] == digest(record.schema.to_json()).hex()
    assert DatasetRecord.from_json(json.loads(json.dumps(record.doc))).digest == record.digest


def test_parquet_and_csv_commit_to_the_same_thing(tmp_path):
    rng = np.random.default_rng(1)
    rows = _rows(9, rng)
    seed = secrets.token_bytes(32)  # the hiding commitment's randomness: the same for both
    a, _ = commit_dataset(_csv(tmp_path / "d.csv", rows), SCHEMA, seed=seed)
    cols = list(zip(*rows))
    table = pa.table({"pid": list(cols[0]), "age": list(cols[1]), "bmi": list(cols[2]), "delta": list(cols[3]),
                      "label": [bool(x) for x in cols[4]]})
    pq.write_table(table, tmp_path / "d.parquet")
    b, _ = commit_dataset(tmp_path / "d.parquet", SCHEMA, seed=seed)
    assert a.digest == b.digest


@pytest.mark.parametrize("mutate,expect", [
    (lambda r: r.__setitem__(2, (r[2][0], 121, 20.0, 0, 1)), "row 3, column age: 121 is outside"),
    (lambda r: r.__setitem__(1, (r[1][0], "abc", 20.0, 0, 1)), "row 2, column age: 'abc' is not an integer"),
    (lambda r: r.__setitem__(3, (r[3][0], 30, "", 0, 1)), "row 4, column bmi: missing value"),
    (lambda r: r.__setitem__(0, (r[0][0], 30, 9.9, 0, 1)), "row 1, column bmi: 9.9 is outside"),
    (lambda r: r.__setitem__(4, (r[4][0], 30, 20.0, 0, 2)), "row 5, column label: '2' is not a bool"),
    (lambda r: r.__setitem__(1, ("nothex", 30, 20.0, 0, 1)), "row 2, column pid"),
    (lambda r: r.__setitem__(2, (r[2][0], 30, 20.0, -51, 1)), "row 3, column delta"),
])
def test_bad_cells_name_row_and_column_and_write_nothing(tmp_path, mutate, expect):
    rng = np.random.default_rng(2)
    rows = _rows(6, rng)
    mutate(rows)
    with pytest.raises(DataError, match=expect.replace("(", r"\(")):
        commit_dataset(_csv(tmp_path / "d.csv", rows), SCHEMA)


def test_missing_column_and_dataset_files(tmp_path):
    rng = np.random.default_rng(3)
    rows = [r[:4] for r in _rows(3, rng)]
    with pytest.raises(DataError, match="label"):
        commit_dataset(_csv(tmp_path / "d.csv", rows, header="pid,age,bmi,delta"), SCHEMA)
    record, opening = commit_dataset(_csv(tmp_path / "e.csv", _rows(3, rng)), SCHEMA)
    write_dataset(tmp_path / "DS", record, opening, None)
    back, sig, op = load_dataset(tmp_path / "DS", with_opening=True)
    assert back.digest == record.digest and sig is None and (op.polys == opening.polys).all()
    with pytest.raises(DataError, match="exists"):
        write_dataset(tmp_path / "DS", record, opening, None)
    doc = json.loads((tmp_path / "DS" / "dataset.json").read_text())
    doc["record"]["schema"]["id_column"] = "age"  # tampered schema
    (tmp_path / "DS" / "dataset.json").write_text(json.dumps(doc))
    with pytest.raises(RecordRejected):
        load_dataset(tmp_path / "DS")


def test_opening_must_match_the_commitment(tmp_path):
    rng = np.random.default_rng(4)
    record, opening = commit_dataset(_csv(tmp_path / "d.csv", _rows(4, rng)), SCHEMA)
    opening.polys[2, 0] += np.uint64(1)
    with pytest.raises(RecordRejected):
        opening.prover_data(record)


def test_consent_table_sorted_distinct_versions(tmp_path):
    ids = [secrets.token_hex(16) for _ in range(37)]
    rec, op, proof = commit_consent_table(ids, issuer="irb-a", purpose="train:x", version=1)
    hi, lo = id_limbs(ids)
    order = np.lexsort((lo, hi))
    assert (op.hi[:37] == hi[order]).all() and (op.lo[:37] == lo[order]).all() and not op.hi[37:].any()
    verify_consent_table(rec, proof)
    write_consent_table(tmp_path / "CT", rec, op, proof, None)
    back, _, proof2, op2 = load_consent_table(tmp_path / "CT", with_opening=True)
    assert back.digest == rec.digest and proof2 == proof and (op2.hi == op.hi).all()
    v2, _, p2 = commit_consent_table(ids[1:], issuer="irb-a", purpose="train:x", version=2,
                                     supersedes=rec.digest.hex())
    verify_consent_table(v2, p2)
    assert v2.doc["supersedes"] == rec.digest.hex() and v2.num_rows == 36
    with pytest.raises(RecordRejected):  # v2's proof is not v1's
        verify_consent_table(rec, p2)
    with pytest.raises(MalformedRecord):
        ConsentTableRecord.from_json(dict(rec.doc, version=2))  # a later version must name what it supersedes


def test_consent_table_with_duplicate_ids_refused():
    ids = [secrets.token_hex(16) for _ in range(5)]
    with pytest.raises(DataError, match="rows 2 and 6"):
        commit_consent_table(ids + [ids[1]], issuer="irb", purpose="p", version=1)


def test_consent_table_proof_tampering_rejected():
    ids = [secrets.token_hex(16) for _ in range(9)]
    rec, _, proof = commit_consent_table(ids, issuer="irb", purpose="p", version=1)
    for pos in range(0, len(proof), len(proof) // 20):
        bad = bytearray(proof)
        bad[pos] ^= 1
        with pytest.raises(ProofRejected):
            verify_consent_table(rec, bytes(bad))
    # the record re-pointed at a tampered proof: the proof itself must fail
    bad = bytearray(proof)
    bad[len(bad) // 2] ^= 1
    import hashlib

    forged = ConsentTableRecord.from_json(dict(rec.doc, distinctness_proof=hashlib.sha256(bytes(bad)).hexdigest()))
    with pytest.raises(ProofRejected):
        verify_consent_table(forged, bytes(bad))
