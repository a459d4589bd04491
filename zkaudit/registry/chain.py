"""The consent chain (design/statements.md §5): dataset commitments,
consent-table versions and consent proofs. Mixed into `store.Registry`.

    DatasetCommitment(c_D) ── ConsentProof ── ConsentTable(v)

Publication rules (each checked before the signatures, and again inside
the locked write transaction, so concurrent publishers cannot break them):

* a dataset record is signed by a custodian (or a regulator: audit sets);
  a consent-table record by an IRB; a consent proof by its prover (a vendor
  or a custodian). An unknown key is registered with that role on first
  use, with its proof of possession. Each signature is checked in one batch
  with the PoP and the HTTP request signature (`keys.verify_batch`).
* a consent table's distinctness proof is verified before publication.
  Version 1 supersedes nothing and is the only version 1 of its IRB key and
  purpose; version v > 1 supersedes the published version v - 1 of the same
  IRB key and purpose, which no other version supersedes yet (no forks).
* a consent proof is verified by the registry (`verify_proof`, statement
  "consent"); the dataset and table version it embeds must both be
  published already, and the table version must be current (not superseded).
* each consent commitment is opened once: a consent proof opens one of its
  dataset record's consent commitments (`dataset_use`: the main commitment
  or one of `consent_commitments`, `data/dataset.py`), whose pads hide the
  data through one opening. A proof opening a commitment that another
  published consent proof already opened is refused (a re-attestation
  opens the next consent use; the custodian commits with
  `--consent-uses K`). Proofs published before uses existed opened the
  main commitment.
* zero knowledge (§1.4): a consent proof that is not zero-knowledge is
  refused with the reason "not zero-knowledge", unless its prover signed
  `allow_not_zero_knowledge` (synthetic or public data only). The flag is
  part of the prover's signed statement and of the logged row, and `show`
  prints it on every chain the proof is in.

"consent changed" is computed on read, never stored: a consent proof is
flagged once a newer version of its table (same IRB key and purpose) is in
the log. The log entries are read as well as the rows, so deleting the newer
version's row does not clear the flag (a flag can only be added that way).
The registry cannot tell whether a newer version removed IDs (the lists are
committed, not revealed), so every newer version flags. A dataset is
"consent changed" while none of its consent proofs is against a current
version; a re-attestation (a new proof against the current version) clears it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zkaudit.data.canonical import canonical_json as data_canonical_json
from zkaudit.data.errors import DataError
from zkaudit.data.records import ConsentTableRecord, DatasetRecord
from zkaudit.errors import ProofRejected
from zkaudit.registry import keys, records
from zkaudit.registry.auth import RequestAuth
from zkaudit.registry.encoding import EncodingError, decode, sha256_hex
from zkaudit.registry.errors import AlreadyExists, BadSignature, Forbidden, NotFound, RegistryError
from zkaudit.registry.models import (ConsentProof, ConsentTable, DatasetCommitment, LogEntry, Signer,
                                     canonical_json)
from zkaudit.registry.store_base import _now, check_name

CONSENT_STATEMENT = "consent"
NOT_ZERO_KNOWLEDGE = "not zero-knowledge"
DATASET_ROLES = ("custodian", "regulator")
IRB_ROLES = ("irb",)
PROVER_ROLES = ("vendor", "custodian")
_HEX = re.compile(r"[0-9a-f]{8,64}")


class RecordRefused(RegistryError):
    """A record, distinctness proof or consent proof the registry does not accept. Nothing was written."""

    status = 422


class NotZeroKnowledge(RecordRefused):
    """A consent proof that is not zero-knowledge, submitted without `allow_not_zero_knowledge`."""


class OutOfOrder(RegistryError):
    """A record whose predecessor is missing, superseded or taken (§5 ordering)."""

    status = 409


def _parse(cls, doc: Any, what: str):
    try:
        return cls.from_json(doc)
    except (ProofRejected, DataError) as exc:
        raise RecordRefused(f"{what} refused: {exc}") from None


class Chain:
    # -- shared ----------------------------------------------------------

    def _author(self, s: Session, pk: bytes, roles: tuple[str, ...], what: str) -> Signer | None:
        """The registered signer for `pk` (None if unknown), refused if its role may not sign `what`."""
        row = self._signer(s, pk)
        if row is not None and row.role not in roles:
            raise Forbidden(f"{row.name} is a {row.role}; {what} is signed by a {' or '.join(roles)}")
        return row

    def _check_author(self, batch: list, known: Signer | None, pk: bytes, name: str | None, pop: bytes | None,
                      auth: RequestAuth | None) -> None:
        """Add the first-use PoP and the request signature to `batch`, then check it all at once."""
        if known is None:
            if not name or pop is None:
                raise BadSignature("unknown signer key: its first publication must include the signer name and "
                                   "proof of possession")
            self._check_name("signer name", name)
            keys.check_public_key(pk)
            batch.insert(0, keys.pop_item(pk, pop))
        if auth is not None:
            batch.insert(0, auth.batch_item(self.public_key))
        self.signatures(pk, batch)

    def _author_row(self, s: Session, app, pk: bytes, roles: tuple[str, ...], what: str, name: str | None,
                    pop: bytes | None, auth: RequestAuth | None) -> Signer:
        """Inside the write: the signer (registered now if it still is not), and the request nonce."""
        row = self._author(s, pk, roles, what) or self._insert_signer(s, app, name or "", roles[0], pk,
                                                                         pop or b"")
        self._record_nonce(s, auth, row.id)
        return row

    @staticmethod
    def _check_name(what: str, value: str) -> None:
        check_name(what, value)

    # -- writes ----------------------------------------------------------

    def publish_dataset(self, record: Any, *, signer: bytes, signature: bytes, signer_name: str | None = None,
                        pop: bytes | None = None, auth: RequestAuth | None = None) -> dict[str, Any]:
        """Publish a custodian-signed dataset record (`zkaudit data commit`'s dataset.json)."""
        rec = _parse(DatasetRecord, record, "dataset record")
        digest = rec.digest.hex()
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            self._refuse_existing(s, DatasetCommitment, digest, "dataset record")
            known = self._author(s, signer, DATASET_ROLES, "a dataset record")
        batch = [keys.signature_item(records.data_record_message(records.DATASET_RECORD, rec.digest), signature,
                                     what=f"dataset record {digest[:16]}")]
        self._check_author(batch, known, signer, signer_name, pop, auth)
        with self._write() as (s, app):  # after the signatures: a tampered copy is refused for its signature
            self._refuse_existing(s, DatasetCommitment, digest, "dataset record")
            self._refuse_shared_commitments(s, rec)
            who = self._author_row(s, app, signer, DATASET_ROLES, "a dataset record", signer_name, pop, auth)
            row = DatasetCommitment(record_digest=digest, record_json=data_canonical_json(rec.doc).decode(),
                                    schema_digest=rec.doc["schema_digest"], num_rows=rec.num_rows, custodian=who,
                                    signature=signature, created_at=_now())
            row.log_index = app.append("dataset", row.record())
            s.add(row)
            s.flush()
            return {"kind": "dataset", "record_digest": digest, "rows": rec.num_rows, "custodian": who.name,
                    "log_index": row.log_index}

    def publish_consent_table(self, record: Any, distinctness_proof: bytes, *, signer: bytes, signature: bytes,
                              signer_name: str | None = None, pop: bytes | None = None,
                              auth: RequestAuth | None = None) -> dict[str, Any]:
        """Publish an IRB-signed consent-table version with its distinctness proof."""
        rec = _parse(ConsentTableRecord, record, "consent-table record")
        digest = rec.digest.hex()
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            self._refuse_existing(s, ConsentTable, digest, "consent-table record")
            known = self._author(s, signer, IRB_ROLES, "a consent table")
            self._predecessor(s, rec, known)
        problem = self.table_checker(rec.doc, bytes(distinctness_proof))
        if problem is not None:
            raise RecordRefused(f"consent table v{rec.doc['version']} refused: its distinctness proof does not "
                                f"verify: {problem}")
        batch = [keys.signature_item(records.data_record_message(records.CONSENT_TABLE_RECORD, rec.digest),
                                     signature, what=f"consent-table record {digest[:16]}")]
        self._check_author(batch, known, signer, signer_name, pop, auth)
        with self._write() as (s, app):
            self._refuse_existing(s, ConsentTable, digest, "consent-table record")
            who = self._author_row(s, app, signer, IRB_ROLES, "a consent table", signer_name, pop, auth)
            prev = self._predecessor(s, rec, who)
            row = ConsentTable(record_digest=digest, record_json=data_canonical_json(rec.doc).decode(), irb=who,
                               purpose=rec.doc["purpose"], version=rec.doc["version"], supersedes=prev,
                               num_rows=rec.num_rows, distinctness_proof=bytes(distinctness_proof),
                               signature=signature, created_at=_now())
            row.log_index = app.append("consent-table", row.record())
            s.add(row)
            s.flush()
            return {"kind": "consent-table", "record_digest": digest, "version": row.version, "purpose": row.purpose,
                    "rows": row.num_rows, "irb": who.name, "supersedes": prev.record_digest if prev else None,
                    "log_index": row.log_index}

    def _predecessor(self, s: Session, rec: ConsentTableRecord, irb: Signer | None) -> ConsentTable | None:
        """The version `rec` supersedes (None for version 1); raises `OutOfOrder` unless §5's order holds."""
        v, purpose = rec.doc["version"], rec.doc["purpose"]
        if v == 1:
            if irb is not None and s.scalars(select(ConsentTable).where(
                    ConsentTable.irb_id == irb.id, ConsentTable.purpose == purpose, ConsentTable.version == 1)).first():
                raise OutOfOrder(f"{irb.name} already published consent table v1 for purpose {purpose!r}",
                                 hint="a new version names the one it replaces (`zkaudit consent commit --supersedes`)")
            return None
        prev = s.scalars(select(ConsentTable).where(ConsentTable.record_digest == rec.doc["supersedes"])).first()
        if prev is None:
            raise OutOfOrder(f"consent table v{v} supersedes {rec.doc['supersedes'][:16]}..., which is not published",
                             hint="publish the earlier version first")
        if irb is None or prev.irb_id != irb.id or prev.purpose != purpose:
            raise OutOfOrder(f"consent table v{v} supersedes a table of another IRB key or purpose "
                             f"({prev.irb.name}, {prev.purpose!r})")
        if prev.version != v - 1:
            raise OutOfOrder(f"consent table v{v} supersedes v{prev.version}: versions go up by one")
        nxt = s.scalars(select(ConsentTable).where(ConsentTable.supersedes_id == prev.id)).first()
        if nxt is not None:
            raise OutOfOrder(f"consent table v{prev.version} ({purpose!r}) is already superseded by "
                             f"{nxt.record_digest[:16]}... (v{nxt.version})")
        return prev

    def publish_consent_proof(self, proof: bytes, *, signer: bytes, signature: bytes,
                              allow_not_zero_knowledge: bool = False, signer_name: str | None = None,
                              pop: bytes | None = None, auth: RequestAuth | None = None) -> dict[str, Any]:
        """Verify a consent proof and publish it over its (published) dataset and table version.
        The prover signs `records.consent_proof(...)`."""
        proof = bytes(proof)
        digest = sha256_hex(proof)
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            if s.scalars(select(ConsentProof).where(ConsentProof.proof_digest == digest)).first() is not None:
                raise AlreadyExists(f"consent proof {digest[:16]}... is already published")
            known = self._author(s, signer, PROVER_ROLES, "a consent proof")
        verdict = self.verifier(proof, circuit_bin=b"", weight_commitment=b"")
        if verdict.statement != CONSENT_STATEMENT:
            raise RecordRefused(f"not a consent proof (statement {verdict.statement!r}): {verdict.reason}")
        if not verdict.valid:
            raise RecordRefused(f"consent proof rejected: {verdict.reason}")
        out = verdict.output
        zk = out.get("zero_knowledge") is True
        if not zk and not allow_not_zero_knowledge:
            raise NotZeroKnowledge(f"consent proof refused: {NOT_ZERO_KNOWLEDGE}",
                                   hint="proofs over patient data are published only when zero-knowledge: re-prove "
                                        "without --no-zero-knowledge (zero knowledge is the default); for "
                                        "synthetic or public data, publish with --allow-not-zero-knowledge")
        stmt = records.consent_proof(proof_digest=digest, dataset=out["dataset"], consent_table=out["consent_table"],
                                     allow_not_zero_knowledge=allow_not_zero_knowledge)
        with self._read() as s:
            ds, _ = self._proof_targets(s, out)
            opened = self._consent_opening(ds, out)
            self._refuse_reopened_consent(s, opened, out)
        batch = [keys.signature_item(records.consent_proof_message(stmt), signature,
                                     what=f"consent proof {digest[:16]}")]
        self._check_author(batch, known, signer, signer_name, pop, auth)
        with self._write() as (s, app):
            if s.scalars(select(ConsentProof).where(ConsentProof.proof_digest == digest)).first() is not None:
                raise AlreadyExists(f"consent proof {digest[:16]}... is already published")
            who = self._author_row(s, app, signer, PROVER_ROLES, "a consent proof", signer_name, pop, auth)
            ds, tb = self._proof_targets(s, out)
            self._refuse_reopened_consent(s, opened, out)
            row = ConsentProof(proof_digest=digest, proof=proof, dataset=ds, consent_table=tb, prover=who,
                               unique_ids=bool(out["unique_ids"]), zero_knowledge=zk,
                               allow_not_zero_knowledge=bool(allow_not_zero_knowledge), valid=True,
                               output_json=canonical_json(out), reason=verdict.reason,
                               verifier_version=verdict.verifier_version, signature=signature, created_at=_now())
            row.log_index = app.append("consent-proof", row.record())
            s.add(row)
            s.flush()
            return {"kind": "consent-proof", "proof_digest": digest, "dataset": ds.record_digest,
                    "consent_table": tb.record_digest, "table_version": tb.version, "unique_ids": row.unique_ids,
                    "zero_knowledge": zk, "allow_not_zero_knowledge": row.allow_not_zero_knowledge,
                    "dataset_use": out.get("dataset_use", 0), "prover": who.name,
                    "verifier_version": row.verifier_version, "log_index": row.log_index}

    def _proof_targets(self, s: Session, out: dict) -> tuple[DatasetCommitment, ConsentTable]:
        ds = s.scalars(select(DatasetCommitment).where(DatasetCommitment.record_digest == out["dataset"])).first()
        if ds is None:
            raise OutOfOrder(f"the proof's dataset record {out['dataset'][:16]}... is not published",
                             hint="publish it first: `zkaudit registry publish-dataset DS --key CUSTODIAN.key`")
        tb = s.scalars(select(ConsentTable).where(ConsentTable.record_digest == out["consent_table"])).first()
        if tb is None:
            raise OutOfOrder(f"the proof's consent table {out['consent_table'][:16]}... is not published",
                             hint="publish it first: `zkaudit registry publish-consent CT --key IRB.key`")
        newer = self._newer_versions(s, tb)
        if newer:
            raise OutOfOrder(f"consent table v{tb.version} ({tb.purpose!r}) is superseded by v{newer[-1]['version']}: "
                             "a consent proof must be against the current version",
                             hint="prove again against the current version (`zkaudit prove-consent --consent ...`)")
        return ds, tb

    @staticmethod
    def _consent_opening(ds: DatasetCommitment, out: dict) -> str:
        """SHA-256 of the consent commitment the proof opens, taken from the
        published record by the proof's use (and checked against the verifier's)."""
        use = out.get("dataset_use", 0)
        try:
            rec = DatasetRecord.from_json(json.loads(ds.record_json))
            opened = sha256_hex(rec.consent_commitment(use).to_bytes())
        except (DataError, ProofRejected, ValueError) as exc:
            raise RecordRefused(f"consent proof refused: {exc}") from None
        if out.get("dataset_commitment", opened) != opened:
            raise RecordRefused("consent proof refused: the commitment it opens is not the dataset record's consent "
                                f"commitment {use}")
        return opened

    @staticmethod
    def _refuse_reopened_consent(s: Session, opened: str, out: dict) -> None:
        """A hiding commitment hides its data through one opening: refuse a
        proof whose consent commitment a published consent proof opened
        (rows from before consent uses opened their record's main commitment)."""
        rows = s.execute(select(ConsentProof.proof_digest, ConsentProof.output_json, DatasetCommitment.record_json)
                         .join(DatasetCommitment, ConsentProof.dataset_id == DatasetCommitment.id)).all()
        for digest, output, record_json in rows:
            earlier = json.loads(output).get("dataset_commitment")
            if earlier is None:
                earlier = sha256_hex(bytes.fromhex(json.loads(record_json)["commitment"]))
            if earlier == opened:
                raise AlreadyExists(f"consent proof refused: the dataset commitment it opens (consent use "
                                    f"{out.get('dataset_use', 0)}) is already opened by consent proof "
                                    f"{digest[:16]}...: a second opening would reveal linear combinations of the "
                                    "data", hint="prove with another --dataset-use, or have the custodian re-commit "
                                    "the data with more --consent-uses")

    @staticmethod
    def _refuse_existing(s: Session, model, digest: str, what: str) -> None:
        if s.scalars(select(model).where(model.record_digest == digest)).first() is not None:
            raise AlreadyExists(f"{what} {digest[:16]}... is already published")

    # -- reads -----------------------------------------------------------

    def _newer_versions(self, s: Session, tb: ConsentTable) -> list[dict[str, Any]]:
        """Later versions of `tb`'s table (same IRB key and purpose), from the rows
        and from the log's consent-table entries (so a deleted row still counts)."""
        found: dict[str, dict[str, Any]] = {}
        for r in s.scalars(select(ConsentTable).where(ConsentTable.irb_id == tb.irb_id,
                                                      ConsentTable.purpose == tb.purpose,
                                                      ConsentTable.version > tb.version)):
            found[r.record_digest] = {"version": r.version, "record_digest": r.record_digest, "log_index": r.log_index}
        pk = tb.irb.public_key
        for idx, body in s.execute(select(LogEntry.idx, LogEntry.body).where(LogEntry.kind == "consent-table")):
            try:
                rec = decode(body)["record"]
                doc = json.loads(rec["record"])
                if rec["irb"] == pk and doc["purpose"] == tb.purpose and doc["version"] > tb.version:
                    found.setdefault(rec["record_digest"], {"version": doc["version"],
                                                            "record_digest": rec["record_digest"], "log_index": idx})
            except (EncodingError, TypeError, KeyError, ValueError):
                continue  # a mangled entry is verify-log's finding; it cannot un-flag anything here
        return sorted(found.values(), key=lambda x: (x["version"], x["log_index"]))

    @staticmethod
    def _refuse_shared_commitments(s: Session, rec) -> None:
        """A record may not reuse a commitment of a published one (a re-commit
        with the same seed re-derives them): each commitment is opened once,
        and two records holding one would let two proofs open it."""
        def held(doc: dict) -> set:
            return {doc["commitment"], *doc.get("consent_commitments", []), *doc.get("training_commitments", [])}

        mine = held(rec.doc)
        for digest, record_json in s.execute(select(DatasetCommitment.record_digest,
                                                    DatasetCommitment.record_json)).all():
            if mine & held(json.loads(record_json)):
                raise RecordRefused(f"dataset record refused: it reuses a commitment of published record "
                                    f"{digest[:16]}... (re-commit the data with a fresh seed)")

    def _dataset_view(self, d: DatasetCommitment) -> dict[str, Any]:
        doc = json.loads(d.record_json)
        return {"kind": "dataset", "record_digest": d.record_digest, "rows": d.num_rows,
                "schema_digest": d.schema_digest, "id_column": doc["schema"].get("id_column"),
                "population": doc["schema"].get("population"), "custodian": d.custodian.name,
                "custodian_public_key": d.custodian.public_key.hex(), "hiding": doc["pcs"].get("hiding"),
                "training_uses": len(doc.get("training_commitments", [])),
                "consent_uses": 1 + len(doc.get("consent_commitments", [])),
                "published_at": d.created_at, "log_index": d.log_index}

    def _table_view(self, s: Session, t: ConsentTable) -> dict[str, Any]:
        newer = self._newer_versions(s, t)
        return {"kind": "consent-table", "record_digest": t.record_digest, "irb": t.irb.name,
                "irb_public_key": t.irb.public_key.hex(), "issuer": t.doc["issuer"], "purpose": t.purpose,
                "version": t.version, "rows": t.num_rows,
                "supersedes": t.supersedes.record_digest if t.supersedes is not None else None,
                "current": not newer, "superseded_by": newer, "published_at": t.created_at,
                "log_index": t.log_index}

    def _proof_view(self, s: Session, p: ConsentProof) -> dict[str, Any]:
        newer = self._newer_versions(s, p.consent_table)
        changed = None if not newer else (f"consent changed: table v{p.consent_table.version} "
                                          f"({p.consent_table.purpose}) is superseded by v{newer[-1]['version']} "
                                          f"(log entry {newer[-1]['log_index']}); re-attest against it or retrain")
        return {"kind": "consent-proof", "proof_digest": p.proof_digest, "prover": p.prover.name,
                "valid": p.valid, "reason": p.reason, "verifier_version": p.verifier_version,
                "unique_ids": p.unique_ids, "zero_knowledge": p.zero_knowledge,
                "allow_not_zero_knowledge": p.allow_not_zero_knowledge, "dataset": p.dataset.record_digest,
                "dataset_use": json.loads(p.output_json).get("dataset_use", 0),
                "consent_table": p.consent_table.record_digest, "table_version": p.consent_table.version,
                "purpose": p.consent_table.purpose, "status": "consent changed" if newer else "current",
                "consent_changed": changed, "published_at": p.created_at, "log_index": p.log_index}

    def _resolve(self, s: Session, ref: str) -> DatasetCommitment | ConsentTable | ConsentProof:
        ref = ref.strip().lower()
        if _HEX.fullmatch(ref) is None:
            raise RegistryError(f"record reference {ref!r} must be 8-64 hex digits of a record or proof digest")
        hits = [*s.scalars(select(DatasetCommitment).where(DatasetCommitment.record_digest.startswith(ref))),
                *s.scalars(select(ConsentTable).where(ConsentTable.record_digest.startswith(ref))),
                *s.scalars(select(ConsentProof).where(ConsentProof.proof_digest.startswith(ref)))]
        if not hits:
            raise NotFound(f"no dataset, consent table or consent proof with digest {ref}...")
        if len(hits) > 1:
            raise RegistryError(f"{ref} names {len(hits)} records; give more digits")
        return hits[0]

    def is_chain_ref(self, ref: str) -> bool:
        """Whether `ref` names a chain record here (rather than a model)."""
        if _HEX.fullmatch(ref.strip().lower()) is None:
            return False
        with self._read() as s:
            try:
                self._resolve(s, ref)
            except NotFound:
                return False
            except RegistryError:
                return True  # ambiguous: let show_record say so
        return True

    def show_record(self, ref: str) -> dict[str, Any]:
        """The chain(s) a record is in: dataset -> consent table version -> consent proof,
        each with its verdict and the "consent changed" flag computed now."""
        with self._read() as s:
            row = self._resolve(s, ref)
            if isinstance(row, ConsentProof):
                proofs, view = [row], self._proof_view(s, row)
            elif isinstance(row, DatasetCommitment):
                proofs = list(s.scalars(select(ConsentProof).where(ConsentProof.dataset_id == row.id)
                                        .order_by(ConsentProof.id)))
                view = self._dataset_view(row)
            else:
                proofs = list(s.scalars(select(ConsentProof).where(ConsentProof.consent_table_id == row.id)
                                        .order_by(ConsentProof.id)))
                view = self._table_view(s, row)
            chains = [{"dataset": self._dataset_view(p.dataset), "consent_table": self._table_view(s, p.consent_table),
                       "consent_proof": self._proof_view(s, p)} for p in proofs]
        doc = {"kind": view["kind"], "record": view, "chains": chains}
        if view["kind"] == "dataset":
            current = [c for c in chains if c["consent_proof"]["status"] == "current"]
            doc["consent"] = ("no consent proof published" if not chains else
                              "attested against a current consent-table version" if current else "consent changed")
        return doc
