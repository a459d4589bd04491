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

**One opening per commitment.** The hiding commitment's blinding rows and
pads are used once, so a commitment hides its data through *one* opening: a
second opening reveals linear combinations of the rows. So the record holds
one hiding commitment of the same polynomials per proof that may open it,
each with its own seed derived from the opening seed (`use_seed`), and the
custodian chooses how many when committing:

  * consent uses (`consent_uses`, `zkaudit data commit --consent-uses K`,
    default 1): use 0 is the record's `commitment` (the opening seed
    itself, so a record made before consent uses existed is consent use 0
    of itself), uses 1..K-1 are `consent_commitments`. Each consent proof
    opens one (`prove-consent --dataset-use I`, or the lowest unopened), so
    a re-attestation against a new consent-table version opens a fresh
    commitment instead of reopening the first;
  * training uses (`training_uses`, `--training-uses T`, default 1):
    `training_commitments`, one per training proof.

The seeds are domain-separated (`/consent-use`, `/training-use`), so no two
uses share randomness. Which uses are opened is kept twice: by the prover,
in the dataset directory's ledgers (`consent-uses.json` here,
`training-uses.json` by the training prover), each written atomically and
checked before proving; and by the registry, which refuses a published
proof whose commitment another published proof already opened. The
custodian's signature over the record is what says all the commitments
hold the same data (as it says the data is the patients').
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

    def consent_bank(self, use: int) -> np.ndarray:
        """Consent use `use`'s pads (use 0: the main commitment's, `bank()`)."""
        n = self.polys.shape[0]
        return bank_table(consent_seed(self.seed, use), n)[: 2 * n].reshape(n, 2)

    def consent_prover_data(self, record: DatasetRecord, use: int = 0):
        """Recommit consent use `use` and check it is the record's commitment for that use."""
        expected = record.consent_commitment(use)  # RecordRejected for a use the record does not hold
        c, data = commit_polynomials(self.polys, consent_seed(self.seed, use))
        if c != expected:
            raise RecordRejected(f"the dataset opening does not match the record's consent commitment {use}",
                                 where="dataset")
        return data

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


def consent_seed(seed: bytes, use: int) -> bytes:
    """The seed of consent use `use`'s commitment: the opening seed itself for
    use 0 (the record's main commitment), else derived like `use_seed`."""
    import hashlib

    if use == 0:
        return seed
    return hashlib.shake_256(SEED_DOMAIN + b"/consent-use" + int(use).to_bytes(4, "little") + seed).digest(SEED_BYTES)


def commit_polynomials(polys: np.ndarray, seed: bytes):
    """(commitment, prover data) of prepared polynomials (the last `valid`)
    and their bank, all randomness from `seed`."""
    from zkaudit.field.randomness import SeededStream

    if len(seed) != SEED_BYTES:
        raise ValueError(f"a dataset opening seed is {SEED_BYTES} bytes, got {len(seed)}")
    return pcs.commit(list(polys) + [bank_table(seed, polys.shape[0])], hiding_params(),
                      stream=SeededStream(seed, SEED_DOMAIN))


def commit_dataset(table, schema, *, seed: bytes | None = None,
                   training_uses: int = 1, consent_uses: int = 1) -> tuple[DatasetRecord, DatasetOpening]:
    """`table`: a CSV/Parquet path or a mapping column -> values; `schema`: a
    Schema or its JSON. Raises DataError (naming row and column) on bad data.
    `seed`: the opening seed (a fresh one from the OS CSPRNG by default; give
    one only to recompute a commitment). `training_uses`: how many training
    proofs may open the data (one further hiding commitment each);
    `consent_uses`: how many consent proofs (the main commitment, then one
    further hiding commitment each)."""
    from zkaudit.data.records import MAX_CONSENT_USES, MAX_TRAINING_USES

    if not 0 <= training_uses <= MAX_TRAINING_USES:
        raise DataError(f"training uses must be in 0..{MAX_TRAINING_USES}, got {training_uses}")
    if not 1 <= consent_uses <= MAX_CONSENT_USES:
        raise DataError(f"consent uses must be in 1..{MAX_CONSENT_USES}, got {consent_uses}")
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
    if consent_uses > 1:
        doc["consent_commitments"] = [commit_polynomials(polys, consent_seed(seed, u))[0].to_bytes().hex()
                                      for u in range(1, consent_uses)]
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


# -- the prover's ledger of opened consent commitments ---------------------

CONSENT_USES_FILE = "consent-uses.json"  # in the dataset directory: consent use -> SHA-256 of the proof opening it
LEGACY_OPENINGS_FILE = "zk-openings.txt"  # the earlier ledger: one line per zero-knowledge proof over the main one


class ConsentUseRefused(DataError):
    """A consent proof that would reopen a consent commitment of the dataset (nothing written)."""


def read_consent_uses(directory: Path) -> dict[int, str]:
    """The dataset directory's opened consent uses: use -> the opening proof's
    SHA-256. The earlier ledger (`zk-openings.txt`, proofs over the main
    commitment) counts as use 0 opened."""
    directory = Path(directory)
    ledger = directory / CONSENT_USES_FILE
    uses: dict[int, str] = {}
    if ledger.exists():
        try:
            doc = json.loads(ledger.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"{ledger} is unreadable ({exc}): it records which consent commitments of the dataset "
                            "are opened; restore it rather than delete it") from None
        if not isinstance(doc, dict) or not all(isinstance(k, str) and k.isdigit() and isinstance(v, str)
                                                for k, v in doc.items()):
            raise DataError(f"{ledger} is not a ledger of consent uses (use -> proof SHA-256)")
        uses = {int(k): v for k, v in doc.items()}
    try:
        legacy = [ln.split()[0] for ln in (directory / LEGACY_OPENINGS_FILE).read_text().splitlines() if ln.strip()]
    except OSError:
        legacy = []
    if legacy:
        uses.setdefault(0, legacy[0])
    return uses


def choose_consent_use(record: DatasetRecord, directory: Path, use: int | None = None) -> int:
    """The consent use a new proof opens: `use` if given and unopened, else the
    lowest unopened one. Raises `ConsentUseRefused` (one line, with the fix)."""
    opened = read_consent_uses(directory)
    more = ("the custodian re-commits the data with more consent uses (`zkaudit data commit --consent-uses K`) "
            "and publishes the new record")
    if use is not None:
        if not 0 <= use < record.consent_uses:
            raise ConsentUseRefused(f"the dataset record has {record.consent_uses} consent commitment(s); consent "
                                    f"use {use} does not exist", hint=more)
        if use in opened:
            raise ConsentUseRefused(f"consent commitment {use} of the dataset is already opened by proof "
                                    f"{opened[use][:16]}... ({Path(directory) / CONSENT_USES_FILE}): a second "
                                    "opening would reveal linear combinations of the data",
                                    hint="prove with another --dataset-use, or " + more)
        return use
    free = [u for u in range(record.consent_uses) if u not in opened]
    if not free:
        raise ConsentUseRefused(f"all {record.consent_uses} consent commitment(s) of the dataset are already opened "
                                f"({Path(directory) / CONSENT_USES_FILE}): another proof would reveal linear "
                                "combinations of the data", hint=more)
    return free[0]


def record_consent_use(directory: Path, use: int, proof_sha256: str) -> None:
    """Add `use` to the ledger, atomically (a temporary file, then a rename),
    under an exclusive lock so two provers cannot both take one use."""
    import fcntl

    directory = Path(directory)
    ledger = directory / CONSENT_USES_FILE
    try:
        lock = os.open(directory / f".{CONSENT_USES_FILE}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DataError(f"cannot write {ledger} ({exc}): the ledger of opened consent commitments must be "
                        "writable before a consent proof is made") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        uses = read_consent_uses(directory)
        if use in uses:
            raise ConsentUseRefused(f"consent commitment {use} of the dataset is already opened by proof "
                                    f"{uses[use][:16]}... ({ledger})")
        uses[use] = proof_sha256
        tmp = ledger.with_name(f".{ledger.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps({str(k): v for k, v in sorted(uses.items())}, sort_keys=True, indent=1) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, ledger)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DataError(f"cannot write {ledger} ({exc}): the ledger of opened consent commitments must be "
                            "writable before a consent proof is made") from None
    finally:
        os.close(lock)
