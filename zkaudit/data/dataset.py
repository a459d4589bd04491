"""Committing a dataset: `commit_dataset(table, schema)`.

Each column becomes one multilinear polynomial over 2^k rows (an ID column
two: its 62-bit limbs), rows [N, 2^k) are zero, and a last polynomial
`valid` is 1 on the N real rows: statements sum over `valid`, never over
padding. All polynomials share one PCS commitment (one matrix, one Merkle
root). The public record names the schema by digest; the opening (the
polynomials' values) stays with the custodian, or with whoever it lets
prove over the data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkaudit import pcs
from zkaudit.data.canonical import digest
from zkaudit.data.errors import DataError, RecordRejected
from zkaudit.data.io import read_text_columns, table_polynomials
from zkaudit.data.records import DATASET_TYPE, DatasetRecord, default_params, padded_vars, params_json
from zkaudit.data.schema import Schema

RECORD_FILE = "dataset.json"
OPENING_FILE = "opening.npz"


@dataclass(frozen=True)
class DatasetOpening:
    """The committed values: polys[i] is polynomial i (2^k entries)."""

    polys: np.ndarray  # (num_polys, 2^k) uint64

    def prover_data(self, record: DatasetRecord) -> pcs.ProverData:
        """Recommit (deterministic) and check the result is the record's commitment."""
        c, data = pcs.commit(list(self.polys), record.params)
        if c != record.commitment:
            raise RecordRejected("the dataset opening does not match the record's commitment", where="dataset")
        return data


def commit_dataset(table, schema, params: pcs.PcsParams | None = None) -> tuple[DatasetRecord, DatasetOpening]:
    """`table`: a CSV/Parquet path or a mapping column -> values; `schema`: a
    Schema or its JSON. Raises DataError (naming row and column) on bad data."""
    if not isinstance(schema, Schema):
        schema = Schema.from_json(schema)
    params = params or default_params()
    columns = read_text_columns(Path(table), [c.name for c in schema.columns]) if isinstance(table, (str, Path)) \
        else table
    values, n = table_polynomials(schema, columns)
    k = padded_vars(n)
    polys = np.zeros((len(values) + 1, 1 << k), dtype=np.uint64)
    for i, v in enumerate(values):
        polys[i, :n] = v
    polys[-1, :n] = 1
    commitment, _ = pcs.commit(list(polys), params)
    doc = {"type": DATASET_TYPE, "schema": schema.to_json(), "schema_digest": digest(schema.to_json()).hex(),
           "num_rows": n, "num_vars": k, "polynomials": schema.polynomial_names(),
           "commitment": commitment.to_bytes().hex(), "pcs": params_json(params)}
    return DatasetRecord.from_json(doc), DatasetOpening(polys)


def write_atomically(out: Path, files: dict[str, bytes]) -> None:
    """Write every file into a fresh directory `out`, all or nothing."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"{out} exists and is not an empty directory; choose another --out")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if out.parent.exists() else None))
    try:
        for name, data in files.items():
            fd = os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if "opening" in name or
                         name.endswith(".npz") else 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def opening_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def signed_file(record_doc: dict, signature: dict | None) -> bytes:
    """The public file: the record, its digest and the signer's signature over the digest."""
    return (json.dumps({"record": record_doc, "record_digest": digest(record_doc).hex(), "signature": signature},
                       indent=1, sort_keys=True) + "\n").encode()


def write_dataset(out: Path, record: DatasetRecord, opening: DatasetOpening, signature: dict | None) -> None:
    write_atomically(out, {RECORD_FILE: signed_file(record.doc, signature),
                           OPENING_FILE: opening_bytes({"polys": opening.polys,
                                                        "record_digest": np.frombuffer(record.digest, np.uint8)})})


def read_signed(path: Path, what: str) -> tuple[dict, dict | None]:
    """(record JSON, signature) from a public record file."""
    from zkaudit.data.errors import MalformedRecord

    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {what} {path}: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"record", "record_digest", "signature"}:
        raise MalformedRecord(f"{path}: not a signed {what} file", where=what)
    if doc["record_digest"] != digest(doc["record"]).hex():
        raise RecordRejected(f"{path}: record digest does not match the record (the record was changed)",
                             where=what, expected=digest(doc["record"]).hex(), got=doc["record_digest"])
    return doc["record"], doc["signature"]


def load_dataset(directory: Path, *, with_opening: bool = False) -> tuple[DatasetRecord, dict | None, DatasetOpening | None]:
    directory = Path(directory)
    doc, sig = read_signed(directory / RECORD_FILE, "dataset record")
    record = DatasetRecord.from_json(doc)
    opening = None
    if with_opening:
        path = directory / OPENING_FILE
        if not path.is_file():
            raise DataError(f"{path} not found: proving needs the dataset's private opening")
        with np.load(path, allow_pickle=False) as z:
            polys, rd = z["polys"], z["record_digest"].tobytes()
        if rd != record.digest:
            raise RecordRejected(f"{path} belongs to another dataset record", where="dataset")
        opening = DatasetOpening(np.ascontiguousarray(polys, dtype=np.uint64))
    return record, sig, opening
