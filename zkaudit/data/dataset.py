"""Committing a dataset: `commit_dataset(table, schema)`.

Each column becomes one multilinear polynomial over 2^k rows (an ID column
two: its 62-bit limbs), rows [N, 2^k) are zero, and a last polynomial
`valid` is 1 on the N real rows: statements sum over `valid`, never over
padding. All polynomials share one PCS commitment (one matrix, one Merkle
root). The public record names the schema by digest; the opening (the
polynomials' values and a 32-byte seed) stays with the custodian, or with
whoever it lets prove over the data.

**Hiding.** Patient data is low-entropy: a plain, deterministic commitment
could be tested against guessed records (statements.md §1.4). The
commitment is the hiding one (`pcs.hiding`, the parameters of
`records.hiding_params`): salted leaves, padded and blinded rows, all its
randomness expanded from a secret 32-byte *opening seed*
(`field.randomness.SeededStream`), exactly as a zero-knowledge inference
proof's committed input (`statements/inference/commitment.py:
commit_input_tables`). Whoever holds the record and the seed recomputes the
commitment; nobody else can test a guess. After the polynomials the
commitment holds the dataset's *bank*: one GF(p^2) pad per polynomial,
also from the seed. A zero-knowledge proof re-pads its claims on a column
with that column's pad and opens the commitment with a `LinearClaim` (the
column's evaluation minus its pad), which reveals nothing
(`statements/consent/verifier.py`).

What it does not hide: the hiding commitment's blinding rows and pads are
used once, so a commitment hides its data through *one* opening. So the
record holds, besides `commitment` (the consent proof's), `training_uses`
further hiding commitments of the same polynomials (`training_commitments`,
seeds derived from the opening seed by `use_seed`), one per training proof;
the prover and the registry refuse a second opening of any of them. A
second proof over the main commitment (a consent re-attestation against a
new table version) still reveals a second set of opened columns and reuses
the pads: linear information about the rows. Re-commit the data (a new
seed) for such a proof, until the PCS gains a multi-opening budget.
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
from zkaudit.data.records import DATASET_TYPE, DatasetRecord, bank_vars, hiding_params, padded_vars, params_json
from zkaudit.data.schema import Schema

RECORD_FILE = "dataset.json"
OPENING_FILE = "opening.npz"
SEED_DOMAIN = b"zkaudit/data/dataset-commitment/v1"
SEED_BYTES = 32


def bank_table(seed: bytes, num_polys: int) -> np.ndarray:
    """The commitment's last table: one GF(p^2) pad per polynomial as (c0, c1)
    words, zero-padded to 2^bank_vars words."""
    from zkaudit.field.randomness import SeededStream

    words = SeededStream(seed, SEED_DOMAIN + b"/bank").base(2 * num_polys)
    out = np.zeros(1 << bank_vars(num_polys), dtype=np.uint64)
    out[: words.shape[0]] = words
    return out


@dataclass(frozen=True)
class DatasetOpening:
    """The committed values: polys[i] is polynomial i (2^k entries), and the
    secret seed all of the hiding commitment's randomness comes from."""

    polys: np.ndarray  # (num_polys, 2^k) uint64
    seed: bytes

    def bank(self, use: int | None = None) -> np.ndarray:
        """The bank's pads as (num_polys, 2) GF(p^2) words: pad i hides claims on polynomial i."""
        n = self.polys.shape[0]
        return bank_table(use_seed(self.seed, use), n)[: 2 * n].reshape(n, 2)

    def prover_data(self, record: DatasetRecord, use: int | None = None):
        """Recommit (deterministic given the seed) and check the result is the record's
        commitment (use None: the consent proofs'; else training use `use`)."""
        if use is not None and not 0 <= use < len(record.training_commitments):
            raise RecordRejected(f"the dataset record has {len(record.training_commitments)} training "
                                 f"commitments, not a use {use}", where="dataset")
        c, data = commit_polynomials(self.polys, use_seed(self.seed, use))
        if c != record.use_commitment(use):
            raise RecordRejected("the dataset opening does not match the record's commitment", where="dataset")
        return data


def use_seed(seed: bytes, use: int | None) -> bytes:
    """The seed of a training use's commitment: derived, so one opening seed serves all."""
    import hashlib

    if use is None:
        return seed
    return hashlib.shake_256(SEED_DOMAIN + b"/training-use" + int(use).to_bytes(4, "little") + seed).digest(SEED_BYTES)


def commit_polynomials(polys: np.ndarray, seed: bytes):
    """(commitment, prover data) of prepared polynomials (the last `valid`)
    and their bank, all randomness from `seed`."""
    from zkaudit.field.randomness import SeededStream

    if len(seed) != SEED_BYTES:
        raise ValueError(f"a dataset opening seed is {SEED_BYTES} bytes, got {len(seed)}")
    return pcs.commit(list(polys) + [bank_table(seed, polys.shape[0])], hiding_params(),
                      stream=SeededStream(seed, SEED_DOMAIN))


def commit_dataset(table, schema, *, seed: bytes | None = None,
                   training_uses: int = 1) -> tuple[DatasetRecord, DatasetOpening]:
    """`table`: a CSV/Parquet path or a mapping column -> values; `schema`: a
    Schema or its JSON. Raises DataError (naming row and column) on bad data.
    `seed`: the opening seed (a fresh one from the OS CSPRNG by default; give
    one only to recompute a commitment). `training_uses`: how many training
    proofs may open the data (one further hiding commitment each)."""
    from zkaudit.data.records import MAX_TRAINING_USES

    if not 0 <= training_uses <= MAX_TRAINING_USES:
        raise DataError(f"training uses must be in 0..{MAX_TRAINING_USES}, got {training_uses}")
    from zkaudit.field.randomness import new_seed

    if not isinstance(schema, Schema):
        schema = Schema.from_json(schema)
    seed = new_seed() if seed is None else bytes(seed)
    params = hiding_params()
    columns = read_text_columns(Path(table), [c.name for c in schema.columns]) if isinstance(table, (str, Path)) \
        else table
    values, n = table_polynomials(schema, columns)
    k = padded_vars(n)
    polys = np.zeros((len(values) + 1, 1 << k), dtype=np.uint64)
    for i, v in enumerate(values):
        polys[i, :n] = v
    polys[-1, :n] = 1
    commitment, _ = commit_polynomials(polys, seed)
    doc = {"type": DATASET_TYPE, "schema": schema.to_json(), "schema_digest": digest(schema.to_json()).hex(),
           "num_rows": n, "num_vars": k, "polynomials": schema.polynomial_names(),
           "commitment": commitment.to_bytes().hex(), "pcs": params_json(params)}
    if training_uses:
        doc["training_commitments"] = [commit_polynomials(polys, use_seed(seed, u))[0].to_bytes().hex()
                                       for u in range(training_uses)]
    return DatasetRecord.from_json(doc), DatasetOpening(polys, seed)


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
    # the opening (values and seed) is written 0600 (`write_atomically`): the
    # seed is what keeps the commitment from being tested against guesses
    write_atomically(out, {RECORD_FILE: signed_file(record.doc, signature),
                           OPENING_FILE: opening_bytes({"polys": opening.polys,
                                                        "seed": np.frombuffer(opening.seed, np.uint8),
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
            if "seed" not in z.files:
                raise DataError(f"{path} has no opening seed: it is a plain (non-hiding) dataset commitment's "
                                "opening; re-commit the data with `zkaudit data commit`")
            polys, rd, seed = z["polys"], z["record_digest"].tobytes(), z["seed"].tobytes()
        if rd != record.digest:
            raise RecordRejected(f"{path} belongs to another dataset record", where="dataset")
        opening = DatasetOpening(np.ascontiguousarray(polys, dtype=np.uint64), seed)
    return record, sig, opening
