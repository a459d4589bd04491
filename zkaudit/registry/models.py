"""The registry's tables, as typed SQLAlchemy 2.0 models.

The schema itself is created and changed only by the Alembic migrations in
`registry/migrations/` (a test checks they agree with these models).

Every row a write creates is also recorded in the transparency log: its
`log_index` names the entry whose body holds exactly `row.record()`, so an
auditor can recompute every row's record and compare it with the log.
Content is addressed by digest (circuit, weight commitment, proof). No
weights and no patient data are stored: a model version holds the public
circuit artifact and the weight *commitment* only.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# vendor: models and consent proofs; regulator: co-signs, revokes, may seal
# audit sets; custodian: seals datasets (and may prove consent over them);
# irb: publishes consent tables; auditor: signs training runs' coins.
SIGNER_ROLES = ("vendor", "regulator", "custodian", "irb", "auditor")


class Base(DeclarativeBase):
    pass


def canonical_json(value: Any) -> str:
    """The one JSON text stored for a JSON value (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Meta(Base):
    """Registry-wide settings, e.g. the registry's own public key."""

    __tablename__ = "registry_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Signer(Base):
    """A vendor or regulator: a name and a BLS public key with its proof of possession."""

    __tablename__ = "signers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    proof_of_possession: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "public_key": self.public_key,
            "proof_of_possession": self.proof_of_possession,
        }


class Model(Base):
    """A named model owned by one vendor; versions hang off it."""

    __tablename__ = "models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    vendor: Mapped[Signer] = relationship()
    versions: Mapped[list["ModelVersion"]] = relationship(back_populates="model", order_by="ModelVersion.id")

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "vendor": self.vendor.public_key}


class ModelVersion(Base):
    """One published version: circuit artifact, weight commitment, summary and model card."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    version: Mapped[str] = mapped_column(String(100))
    circuit_digest: Mapped[str] = mapped_column(String(64), index=True)
    circuit_bin: Mapped[bytes] = mapped_column(LargeBinary)
    weight_commitment: Mapped[bytes] = mapped_column(LargeBinary)
    weight_commitment_digest: Mapped[str] = mapped_column(String(64), index=True)
    summary_json: Mapped[str] = mapped_column(Text)
    intended_use: Mapped[str] = mapped_column(Text)
    training_data: Mapped[str] = mapped_column(Text)
    claimed_metrics_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    # The version this one upgrades to a hiding weight commitment (same model,
    # same circuit); a unique index, so a version has at most one successor.
    # No database foreign key (migration 0004 says why): the store sets it
    # only from a row it read, and the logged record names the version too.
    supersedes_id: Mapped[int | None] = mapped_column(Integer, index=True, unique=True)
    model: Mapped[Model] = relationship(back_populates="versions")
    supersedes: Mapped["ModelVersion | None"] = relationship(
        primaryjoin="foreign(ModelVersion.supersedes_id) == ModelVersion.id", remote_side=[id])

    @property
    def summary(self) -> Any:
        return json.loads(self.summary_json)

    @property
    def claimed_metrics(self) -> Any:
        return json.loads(self.claimed_metrics_json)

    def record(self) -> dict[str, Any]:
        """The vendor-signed publication statement this row was created from."""
        return {
            "model": self.model.name,
            "version": self.version,
            "vendor": self.model.vendor.public_key,
            "circuit_digest": self.circuit_digest,
            "weight_commitment_digest": self.weight_commitment_digest,
            "summary": self.summary_json,
            "model_card": {
                "intended_use": self.intended_use,
                "training_data": self.training_data,
                "claimed_metrics": self.claimed_metrics_json,
            },
            **({} if self.supersedes is None else {"supersedes": self.supersedes.version}),
        }


class Attestation(Base):
    """A statement signed by one or more signers (their BLS signatures aggregated)."""

    __tablename__ = "attestations"
    __table_args__ = (UniqueConstraint("statement_digest", "signers_digest", name="uq_attestations_statement_signers"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag: Mapped[str] = mapped_column(String(64))
    statement: Mapped[bytes] = mapped_column(LargeBinary)  # encoding.encode(value), signed under `tag`
    statement_digest: Mapped[str] = mapped_column(String(64), index=True)
    signers_digest: Mapped[str] = mapped_column(String(64))
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"), index=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    signers: Mapped[list["AttestationSigner"]] = relationship(order_by="AttestationSigner.position")
    model_version: Mapped[ModelVersion | None] = relationship()

    def record(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "statement": self.statement,
            "signers": [s.signer.public_key for s in self.signers],
            "signature": self.signature,
        }


class AttestationSigner(Base):
    __tablename__ = "attestation_signers"
    attestation_id: Mapped[int] = mapped_column(ForeignKey("attestations.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    signer: Mapped[Signer] = relationship()


class SubmittedProof(Base):
    """A proof the registry verified itself, with the verdict and the verifier that gave it."""

    __tablename__ = "proofs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    statement: Mapped[str | None] = mapped_column(String(64))
    proof: Mapped[bytes] = mapped_column(LargeBinary)
    proof_digest: Mapped[str] = mapped_column(String(64), index=True)
    valid: Mapped[bool] = mapped_column(Boolean)
    output_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    verifier_version: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    model_version: Mapped[ModelVersion] = relationship()
    submitter: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        mv = self.model_version
        return {
            "model": mv.model.name,
            "version": mv.version,
            "submitter": self.submitter.public_key,
            "statement": self.statement,
            "proof_digest": self.proof_digest,
            "valid": self.valid,
            "output": self.output_json,
            "reason": self.reason,
            "verifier_version": self.verifier_version,
        }


class Revocation(Base):
    """A model version withdrawn by its vendor or a regulator, with the signed reason."""

    __tablename__ = "revocations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), unique=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    reason: Mapped[str] = mapped_column(Text)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    model_version: Mapped[ModelVersion] = relationship()
    signer: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        mv = self.model_version
        return {
            "model": mv.model.name,
            "version": mv.version,
            "signer": self.signer.public_key,
            "reason": self.reason,
            "signature": self.signature,
        }


class KeyRevocation(Base):
    """A signer key withdrawn from `from_time` on (compromise): what it signed
    at or after that time is shown revoked. Signed by the key itself or a regulator."""

    __tablename__ = "key_revocations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"), unique=True)
    from_time: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    revoker_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    signer: Mapped[Signer] = relationship(foreign_keys=[signer_id])
    revoker: Mapped[Signer] = relationship(foreign_keys=[revoker_id])

    def record(self) -> dict[str, Any]:
        return {"public_key": self.signer.public_key, "from_time": self.from_time, "reason": self.reason,
                "revoker": self.revoker.public_key, "signature": self.signature}


class VerifierRevocation(Base):
    """A verifier version withdrawn (a soundness bug): every proof it accepted
    shows "re-verify" until the current verifier re-checks it (`Reverification`)."""

    __tablename__ = "verifier_revocations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verifier_version: Mapped[str] = mapped_column(String(200), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    revoker_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    revoker: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        return {"verifier_version": self.verifier_version, "reason": self.reason,
                "revoker": self.revoker.public_key, "signature": self.signature}


class Reverification(Base):
    """A stored proof checked again by a later verifier (after its first verifier was revoked)."""

    __tablename__ = "reverifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proof_id: Mapped[int] = mapped_column(ForeignKey("proofs.id"), index=True)
    valid: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    verifier_version: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    proof: Mapped[SubmittedProof] = relationship()

    def record(self) -> dict[str, Any]:
        return {"proof_digest": self.proof.proof_digest, "log_index_of_proof": self.proof.log_index,
                "valid": self.valid, "reason": self.reason, "verifier_version": self.verifier_version}


class DatasetCommitment(Base):
    """A custodian-signed dataset record (`zkaudit data commit`): the hiding-to-be
    commitment c_D, its schema and row count. Named by the record's canonical
    digest (`zkaudit.data.canonical.digest`); no data is stored."""

    __tablename__ = "dataset_commitments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_digest: Mapped[str] = mapped_column(String(64), unique=True)
    record_json: Mapped[str] = mapped_column(Text)  # canonical JSON of the record, exactly as signed
    schema_digest: Mapped[str] = mapped_column(String(64), index=True)
    num_rows: Mapped[int] = mapped_column(BigInteger)
    custodian_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    custodian: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        return {"record_digest": self.record_digest, "record": self.record_json,
                "custodian": self.custodian.public_key, "signature": self.signature}


class ConsentTable(Base):
    """One version of an IRB's consent table for one purpose. Version v > 1
    supersedes version v - 1 of the same IRB key and purpose; the unique
    constraints make a fork (two versions v, or two successors of one
    version) impossible even if the ordering checks were bypassed."""

    __tablename__ = "consent_tables"
    __table_args__ = (UniqueConstraint("irb_id", "purpose", "version", name="uq_consent_tables_irb_purpose_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_digest: Mapped[str] = mapped_column(String(64), unique=True)
    record_json: Mapped[str] = mapped_column(Text)
    irb_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    purpose: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("consent_tables.id"), unique=True)
    num_rows: Mapped[int] = mapped_column(BigInteger)
    distinctness_proof: Mapped[bytes] = mapped_column(LargeBinary)  # checked before publication
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    irb: Mapped[Signer] = relationship()
    supersedes: Mapped["ConsentTable | None"] = relationship(remote_side=[id])

    @property
    def doc(self) -> Any:
        return json.loads(self.record_json)

    def record(self) -> dict[str, Any]:
        return {"record_digest": self.record_digest, "record": self.record_json, "irb": self.irb.public_key,
                "signature": self.signature}


class ConsentProof(Base):
    """A consent proof the registry verified, over a published dataset record
    and a published consent-table version, signed by its prover.

    `zero_knowledge` is what the verified statement says; a proof that is not
    zero-knowledge is stored only when its prover signed
    `allow_not_zero_knowledge` (synthetic or public data, never patient data)."""

    __tablename__ = "consent_proofs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proof_digest: Mapped[str] = mapped_column(String(64), unique=True)
    proof: Mapped[bytes] = mapped_column(LargeBinary)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset_commitments.id"), index=True)
    consent_table_id: Mapped[int] = mapped_column(ForeignKey("consent_tables.id"), index=True)
    prover_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    unique_ids: Mapped[bool] = mapped_column(Boolean)
    zero_knowledge: Mapped[bool] = mapped_column(Boolean)
    allow_not_zero_knowledge: Mapped[bool] = mapped_column(Boolean)
    valid: Mapped[bool] = mapped_column(Boolean)
    output_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    verifier_version: Mapped[str] = mapped_column(String(200))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    dataset: Mapped[DatasetCommitment] = relationship()
    consent_table: Mapped[ConsentTable] = relationship()
    prover: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        return {"proof_digest": self.proof_digest, "dataset": self.dataset.record_digest,
                "consent_table": self.consent_table.record_digest, "prover": self.prover.public_key,
                "unique_ids": self.unique_ids, "zero_knowledge": self.zero_knowledge,
                "allow_not_zero_knowledge": self.allow_not_zero_knowledge, "valid": self.valid,
                "output": self.output_json, "reason": self.reason, "verifier_version": self.verifier_version,
                "signature": self.signature}


class TrainingRun(Base):
    """A training run registered before any coin (`zkaudit train init`'s run.json):
    the policy, the dataset, the tape commitment c_R and the auditor key whose
    coin it will take. Named by run_id, the run record's canonical digest;
    signed by its trainer. `consent_proof` is the current consent proof over
    the dataset at registration, if one was published."""

    __tablename__ = "training_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    record_json: Mapped[str] = mapped_column(Text)  # canonical JSON of run.json, exactly as digested
    policy_json: Mapped[str] = mapped_column(Text)  # canonical JSON of the policy the record names
    policy_digest: Mapped[str] = mapped_column(String(64))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset_commitments.id"), index=True)
    consent_proof_id: Mapped[int | None] = mapped_column(ForeignKey("consent_proofs.id"))
    tape_commitment: Mapped[str] = mapped_column(String(64))
    auditor_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    dataset: Mapped[DatasetCommitment] = relationship()
    consent_proof: Mapped[ConsentProof | None] = relationship()
    trainer: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "record": self.record_json, "policy": self.policy_json,
                "dataset": self.dataset.record_digest,
                "consent_proof": None if self.consent_proof is None else self.consent_proof.proof_digest,
                "trainer": self.trainer.public_key, "signature": self.signature}


class Coin(Base):
    """The auditor's coin over a registered run: its unique BLS signature over
    the run id. One per run (training_run_id is unique)."""

    __tablename__ = "coins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    training_run_id: Mapped[int] = mapped_column(ForeignKey("training_runs.id"), unique=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    coin: Mapped[str] = mapped_column(String(64))  # SHA-256 of the signature (randomness.coin_value)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    training_run: Mapped[TrainingRun] = relationship()
    auditor: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        return {"run_id": self.training_run.run_id, "auditor": self.auditor.public_key, "signature": self.signature,
                "coin": self.coin}


class TrainingProof(Base):
    """A training proof the registry verified over a run with its coin; the
    accountant block is the registry's own recomputation of epsilon, composing
    every other run registered on the same dataset before it."""

    __tablename__ = "training_proofs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proof_digest: Mapped[str] = mapped_column(String(64), unique=True)
    proof: Mapped[bytes] = mapped_column(LargeBinary)
    training_run_id: Mapped[int] = mapped_column(ForeignKey("training_runs.id"), unique=True)
    prover_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    theta_commitment: Mapped[bytes] = mapped_column(LargeBinary)  # c_theta (WeightCommitment.to_bytes())
    theta_commitment_digest: Mapped[str] = mapped_column(String(64), index=True)
    accountant_json: Mapped[str] = mapped_column(Text)
    zero_knowledge: Mapped[bool] = mapped_column(Boolean)
    valid: Mapped[bool] = mapped_column(Boolean)
    output_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    verifier_version: Mapped[str] = mapped_column(String(200))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    training_run: Mapped[TrainingRun] = relationship()
    prover: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        return {"proof_digest": self.proof_digest, "run_id": self.training_run.run_id,
                "prover": self.prover.public_key, "theta_commitment": self.theta_commitment,
                "accountant": self.accountant_json, "zero_knowledge": self.zero_knowledge, "valid": self.valid,
                "output": self.output_json, "reason": self.reason, "verifier_version": self.verifier_version,
                "signature": self.signature}


class LinkProof(Base):
    """A link proof the registry verified: a model version's registered
    weights are the declared quantization of a training proof's c_theta.
    One per model version; signed by the version's vendor."""

    __tablename__ = "link_proofs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proof_digest: Mapped[str] = mapped_column(String(64), unique=True)
    proof: Mapped[bytes] = mapped_column(LargeBinary)
    training_proof_id: Mapped[int] = mapped_column(ForeignKey("training_proofs.id"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), unique=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    saturated: Mapped[int] = mapped_column(BigInteger)
    valid: Mapped[bool] = mapped_column(Boolean)
    output_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    verifier_version: Mapped[str] = mapped_column(String(200))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    training_proof: Mapped[TrainingProof] = relationship()
    model_version: Mapped[ModelVersion] = relationship()
    vendor: Mapped[Signer] = relationship()

    def record(self) -> dict[str, Any]:
        mv = self.model_version
        return {"proof_digest": self.proof_digest, "training_proof": self.training_proof.proof_digest,
                "model": mv.model.name, "version": mv.version, "vendor": self.vendor.public_key,
                "saturated": self.saturated, "valid": self.valid, "output": self.output_json,
                "reason": self.reason, "verifier_version": self.verifier_version, "signature": self.signature}


class RequestNonce(Base):
    """Nonces of accepted signed HTTP requests, so a replay is refused."""

    __tablename__ = "request_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"))
    timestamp: Mapped[int] = mapped_column(BigInteger)


class LogEntry(Base):
    """Entry `idx` of the transparency log; `body` is the logged leaf data."""

    __tablename__ = "log_entries"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class LogNode(Base):
    """Hash of the complete subtree of 2^level leaves starting at leaf idx * 2^level."""

    __tablename__ = "log_nodes"
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class TreeHead(Base):
    """A tree head signed by the registry key."""

    __tablename__ = "tree_heads"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
