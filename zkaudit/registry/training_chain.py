"""The training chain (design/statements.md §5 and §3.3-3.4): training runs,
coins, training proofs and link proofs. Mixed into `store.Registry`, beside
the consent chain (`chain.py`), whose dataset records it hangs off.

    DatasetCommitment ── TrainingRun(h_Pi, c_R) ── Coin ── TrainingProof(c_theta, eps)
                                                               └─ LinkProof ── ModelVersion

Publication rules (each checked before the signatures and again inside the
locked write transaction):

* a run (`zkaudit train init`'s run.json with its policy) is signed by its
  trainer (a vendor or custodian) over its run id, before any coin. Its
  dataset must be published, with the row count the record states; its
  table digests must be the ones the policy defines on that many rows; the
  auditor key must be a valid BLS key other than the trainer's. The current
  consent proof over the dataset, if any, is recorded with it.
* a coin is the auditor's unique BLS signature over a registered run id,
  checked with `randomness.verify_coin` against exactly the key the run
  names (an auditor or regulator; registered on first use). One per run: a
  second is refused even though BLS makes it the same bytes. A run record
  changed after its coin (a new tape, c_R) has another run id, so the coin
  does not carry over.
* a training proof comes after its run's coin, from the run's trainer, and
  is verified by the registry (`verify_training`). The registry recomputes
  epsilon itself with the pinned accountant, composing this run with every
  other run registered on the same dataset before the proof: registering
  runs until one trains well (grinding) costs privacy in the proof's own
  epsilon. One proof per run. Zero knowledge (§1.4: without it the proof
  shows the noise and voids the privacy it certifies) is the statement's
  own: train-dpsgd/v1 has no other mode and `verify_training` accepts no
  other statement, so the row records it from the verdict's statement type.
* a link proof comes after the training proof and the model version, from
  the version's vendor, verified by the registry (`verify_link`): the
  version's registered weights are the declared quantization of the
  training proof's c_theta. One per model version.

Nothing is written when a check fails. The model version's provenance
(training, link, dataset and consent records) is computed on read."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zkaudit.data.canonical import canonical_json as data_canonical_json
from zkaudit.data.canonical import digest as data_digest
from zkaudit.errors import ProofRejected
from zkaudit.registry import keys, training_records
from zkaudit.registry.auth import RequestAuth
from zkaudit.registry.chain import PROVER_ROLES, OutOfOrder, RecordRefused, _now
from zkaudit.registry.encoding import sha256_hex
from zkaudit.registry.errors import AlreadyExists, BadSignature, Forbidden, NotFound, RegistryError
from zkaudit.registry.models import (Coin, ConsentProof, DatasetCommitment, LinkProof, ModelVersion, TrainingProof,
                                     TrainingRun, canonical_json)

AUDITOR_ROLES = ("auditor", "regulator")
TRAINING_STATEMENT = "train-dpsgd/v1"
NOT_ZERO_KNOWLEDGE = "not zero-knowledge"


def _hex32(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise RegistryError(f"{what} must be 64 hex digits, not {str(value)[:20]!r}")
    return raw


def parse_run(record: Any, policy_doc: Any):
    """(record, Policy) of a run.json and its policy, strictly; RecordRefused naming the problem."""
    from zkaudit.train.errors import PolicyError
    from zkaudit.train.policy import Policy
    from zkaudit.train.run import RUN_TYPE, parse_run_record

    try:
        policy = Policy.from_json(policy_doc)
    except PolicyError as exc:
        raise RecordRefused(f"training run refused: {exc}") from None
    if not isinstance(record, dict) or record.get("type") != RUN_TYPE:
        raise RecordRefused(f"training run refused: the run record is not a {RUN_TYPE} record",
                            hint="publish the run.json `zkaudit train init` wrote")
    try:
        parse_run_record(record, policy)
        data_canonical_json(record)
    except (ProofRejected, ValueError) as exc:
        raise RecordRefused(f"training run refused: {exc}") from None
    if record["policy_digest"] != policy.digest.hex():
        raise RecordRefused("training run refused: the run record names another policy than the one given",
                            hint=f"record {record['policy_digest'][:16]}..., policy {policy.digest.hex()[:16]}...")
    return record, policy


def parse_coin(doc: Any) -> tuple[str, bytes, bytes, str | None]:
    """(run_id, auditor public key, signature, claimed coin value or None) of a coin.json."""
    from zkaudit.train.run import COIN_TYPE

    if not isinstance(doc, dict) or doc.get("type") != COIN_TYPE:
        raise RecordRefused(f"coin refused: not a {COIN_TYPE} document (made by `zkaudit coin sign`)")
    run_id = _hex32(doc.get("run_id"), "the coin's run_id").hex()
    try:
        pk, sig = bytes.fromhex(doc["public_key"]), bytes.fromhex(doc["signature"])
    except (KeyError, TypeError, ValueError):
        raise RecordRefused("coin refused: its public_key and signature must be hex") from None
    claimed = doc.get("coin")
    if claimed is not None and not isinstance(claimed, str):
        raise RecordRefused("coin refused: its coin value must be hex")
    return run_id, pk, sig, claimed


def _schema_problems(dataset_doc: dict, policy) -> list[str]:
    """What the policy asks of the dataset's schema that it does not have (the
    verifier checks the data itself; this catches a wrong dataset early)."""
    cols = {c.get("name"): c for c in dataset_doc.get("schema", {}).get("columns", []) if isinstance(c, dict)}
    out = []
    for f in policy.features:
        c = cols.get(f)
        if c is None or c.get("type") != "fixed" or c.get("scale") != policy.feature_bits:
            out.append(f"feature {f!r} is not a fixed column at scale {policy.feature_bits}")
    lab = cols.get(policy.label)
    if lab is None or lab.get("type") not in ("bool", "int"):
        out.append(f"label {policy.label!r} is not a 0/1 column")
    return out


class TrainingChain:
    # -- training runs -----------------------------------------------------

    def publish_training_run(self, record: Any, policy: Any, *, signer: bytes, signature: bytes,
                             signer_name: str | None = None, pop: bytes | None = None,
                             auth: RequestAuth | None = None) -> dict[str, Any]:
        """Register a run before its coin: run.json and policy.json from
        `zkaudit train init`, signed by the trainer over `training_records.training_run`."""
        from zkaudit.train.run import table_digests

        rec, pol = parse_run(record, policy)
        run_id = data_digest(rec).hex()
        auditor = bytes.fromhex(rec["coin_source"]["public_key"])
        if auditor == bytes(signer):
            raise RecordRefused("training run refused: the auditor key is the trainer's own key; the coin must "
                                "come from another party, or the trainer could grind it")
        try:
            keys.check_public_key(auditor)
        except BadSignature:
            raise RecordRefused("training run refused: the auditor public key in the run record is not a valid "
                                "BLS12-381 key") from None
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            self._refuse_run_exists(s, run_id)
            known = self._author(s, signer, PROVER_ROLES, "a training run")
            ds = self._run_dataset(s, rec, pol)
            num_rows, others = ds.num_rows, self._dataset_runs(s, ds.id)
        if rec["tables"] != table_digests(pol, num_rows):
            raise RecordRefused("training run refused: its table digests are not the ones the policy defines on "
                                f"{num_rows} rows (noise, gaps, sigmoid)")
        report = self._epsilon(pol, num_rows, [p for _, p in others])  # a policy whose slack eats delta stops here
        stmt = training_records.training_run(run_id=run_id)
        batch = [keys.signature_item(training_records.training_run_message(stmt), signature,
                                     what=f"training run {run_id[:16]}")]
        self._check_author(batch, known, signer, signer_name, pop, auth)
        with self._write() as (s, app):
            self._refuse_run_exists(s, run_id)
            who = self._author_row(s, app, signer, PROVER_ROLES, "a training run", signer_name, pop, auth)
            ds = self._run_dataset(s, rec, pol)
            consent = self._current_consent_proof(s, ds)
            row = TrainingRun(run_id=run_id, record_json=data_canonical_json(rec).decode(),
                              policy_json=data_canonical_json(pol.doc).decode(), policy_digest=pol.digest.hex(),
                              dataset=ds, consent_proof=consent, tape_commitment=rec["tape"]["commitment"],
                              auditor_public_key=auditor, trainer=who, signature=signature, created_at=_now())
            row.log_index = app.append("training-run", row.record())
            s.add(row)
            s.flush()
            return {"kind": "training-run", "run_id": run_id, "dataset": ds.record_digest,
                    "consent_proof": None if consent is None else consent.proof_digest,
                    "policy_digest": row.policy_digest, "tape_commitment": row.tape_commitment,
                    "auditor_public_key": auditor.hex(), "trainer": who.name, "log_index": row.log_index,
                    "epsilon_if_trained_now": report.epsilon, "delta": report.delta,
                    "runs_on_dataset": len(others) + 1}

    def _run_dataset(self, s: Session, rec: dict, pol) -> DatasetCommitment:
        ds = s.scalars(select(DatasetCommitment).where(
            DatasetCommitment.record_digest == rec["dataset_record_digest"])).first()
        if ds is None:
            raise OutOfOrder(f"the run's dataset record {rec['dataset_record_digest'][:16]}... is not published",
                             hint="the custodian publishes it first: `zkaudit registry publish-dataset DS --key "
                                  "CUSTODIAN.key`")
        if ds.num_rows != rec["num_rows"]:
            raise RecordRefused(f"training run refused: the record says {rec['num_rows']} rows, the published "
                                f"dataset has {ds.num_rows}")
        doc = json.loads(ds.record_json)
        problems = _schema_problems(doc, pol)
        if not doc.get("training_commitments"):
            problems.append("the dataset record has no training commitments, so no training proof could open it "
                            "(the custodian re-commits with `zkaudit data commit --training-uses K`)")
        if problems:
            raise RecordRefused("training run refused: the dataset does not fit the policy: " + "; ".join(problems))
        return ds

    @staticmethod
    def _refuse_run_exists(s: Session, run_id: str) -> None:
        if s.scalars(select(TrainingRun).where(TrainingRun.run_id == run_id)).first() is not None:
            raise AlreadyExists(f"training run {run_id[:16]}... is already registered")

    def _current_consent_proof(self, s: Session, ds: DatasetCommitment) -> ConsentProof | None:
        """The latest valid consent proof over `ds` against a current table version."""
        for p in s.scalars(select(ConsentProof).where(ConsentProof.dataset_id == ds.id, ConsentProof.valid.is_(True))
                           .order_by(ConsentProof.log_index.desc())):
            if not self._newer_versions(s, p.consent_table):
                return p
        return None

    @staticmethod
    def _dataset_runs(s: Session, dataset_id: int, *, but: int | None = None) -> list[tuple[str, Any]]:
        """(run_id, Policy) of every run registered on a dataset, in log order (but the run `but`)."""
        from zkaudit.train.policy import Policy

        q = select(TrainingRun).where(TrainingRun.dataset_id == dataset_id).order_by(TrainingRun.log_index)
        return [(r.run_id, Policy.from_json(json.loads(r.policy_json))) for r in s.scalars(q) if r.id != but]

    @staticmethod
    def _epsilon(policy, num_rows: int, earlier: list):
        from zkaudit.train.accountant import epsilon
        from zkaudit.train.errors import PolicyError

        try:
            return epsilon(policy, num_rows, earlier_runs=earlier)
        except PolicyError as exc:
            raise RecordRefused(f"the accountant cannot certify this run: {exc}") from None

    def _run(self, s: Session, run_id: str) -> TrainingRun:
        row = s.scalars(select(TrainingRun).where(TrainingRun.run_id == run_id)).first()
        if row is None:
            raise OutOfOrder(f"training run {run_id[:16]}... is not registered",
                             hint="the trainer registers it first: `zkaudit registry publish-run RUN --key K`")
        return row

    # -- coins ---------------------------------------------------------------

    def publish_coin(self, coin: Any, *, signer_name: str | None = None, pop: bytes | None = None,
                     auth: RequestAuth | None = None) -> dict[str, Any]:
        """Log the auditor's coin over a registered run (`zkaudit coin sign`'s coin.json)."""
        from zkaudit.train import randomness
        from zkaudit.train.errors import CoinRejected

        run_id, pk, sig, claimed = parse_coin(coin)
        with self._read() as s:
            self._precheck_request(s, auth, pk)
            run = self._run(s, run_id)
            if pk != run.auditor_public_key:
                raise RecordRefused(f"coin refused: signed by {pk.hex()[:16]}..., but the run names the auditor "
                                    f"{run.auditor_public_key.hex()[:16]}...")
            self._refuse_coin_exists(s, run)
            known = self._author(s, pk, AUDITOR_ROLES, "a coin")
        try:
            value = randomness.verify_coin(pk, bytes.fromhex(run_id), sig).hex()
        except CoinRejected as exc:
            raise RecordRefused(f"coin refused: {exc}") from None
        if claimed is not None and claimed != value:
            raise RecordRefused("coin refused: its coin value is not the hash of its signature",
                                hint=f"expected {value[:16]}...")
        if known is None or auth is not None:  # the PoP of a first-use key, the request's signature
            self._check_author([], known, pk, signer_name, pop, auth)
        with self._write() as (s, app):
            run = self._run(s, run_id)
            self._refuse_coin_exists(s, run)
            who = self._author_row(s, app, pk, AUDITOR_ROLES, "a coin", signer_name, pop, auth)
            row = Coin(training_run=run, auditor=who, signature=sig, coin=value, created_at=_now())
            row.log_index = app.append("coin", row.record())
            s.add(row)
            s.flush()
            return {"kind": "coin", "run_id": run_id, "coin": value, "auditor": who.name,
                    "auditor_public_key": pk.hex(), "log_index": row.log_index}

    @staticmethod
    def _refuse_coin_exists(s: Session, run: TrainingRun) -> None:
        if s.scalars(select(Coin).where(Coin.training_run_id == run.id)).first() is not None:
            raise AlreadyExists(f"training run {run.run_id[:16]}... already has its coin: one coin per run")

    def _coin(self, s: Session, run: TrainingRun) -> Coin:
        row = s.scalars(select(Coin).where(Coin.training_run_id == run.id)).first()
        if row is None:
            raise OutOfOrder(f"training run {run.run_id[:16]}... has no coin yet: a training proof comes after it",
                             hint="the auditor signs it (`zkaudit coin sign RUN --key AUDITOR.key`) and it is "
                                  "logged with `zkaudit registry publish-coin RUN`")
        return row

    @staticmethod
    def coin_doc(c: Coin) -> dict[str, Any]:
        """The coin as `zkaudit coin sign` wrote it (what the training verifier reads)."""
        from zkaudit.train.run import COIN_TYPE

        return {"type": COIN_TYPE, "run_id": c.training_run.run_id, "signer": c.auditor.name,
                "public_key": c.auditor.public_key.hex(), "signature": c.signature.hex(), "coin": c.coin}

    # -- training proofs -------------------------------------------------------

    def publish_training_proof(self, proof: bytes, *, run_id: str, signer: bytes, signature: bytes,
                               auth: RequestAuth | None = None) -> dict[str, Any]:
        """Verify a training proof over a registered run with its coin, recompute
        epsilon composed with every other run on the dataset, and log both.
        The run's trainer signs `training_records.training_proof(...)`."""
        from zkaudit.train.policy import Policy

        proof = bytes(proof)
        digest = sha256_hex(proof)
        run_id = _hex32(run_id, "run id").hex()
        stmt = training_records.training_proof(proof_digest=digest, run_id=run_id)
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            self._refuse_training_exists(s, digest, run_id)
            run = self._run(s, run_id)
            coin = self._coin(s, run)
            if run.trainer.public_key != bytes(signer):
                raise Forbidden(f"a training proof is published by the run's trainer ({run.trainer.name})")
            docs = {"run_record": json.loads(run.record_json), "policy_doc": json.loads(run.policy_json),
                    "dataset_doc": json.loads(run.dataset.record_json), "coin_doc": self.coin_doc(coin)}
            others = self._dataset_runs(s, run.dataset_id, but=run.id)
            policy, num_rows = Policy.from_json(docs["policy_doc"]), run.dataset.num_rows
        batch = [keys.signature_item(training_records.training_proof_message(stmt), signature,
                                     what=f"training proof {digest[:16]}")]
        if auth is not None:
            batch.insert(0, auth.batch_item(self.public_key))
        self.signatures(signer, batch)
        verdict = self._verify_training(proof, docs)
        for what, got, expected in (("run", verdict.run_id.hex(), run_id),
                                    ("policy", verdict.policy_digest.hex(), docs["run_record"]["policy_digest"]),
                                    ("dataset", verdict.dataset_digest.hex(),
                                     docs["run_record"]["dataset_record_digest"])):
            if got != expected:
                raise RecordRefused(f"training proof refused: it is about another {what} ({got[:16]}...) than run "
                                    f"{run_id[:16]}... names ({expected[:16]}...)")
        from zkaudit.data.records import DatasetRecord

        opened = sha256_hex(DatasetRecord.from_json(docs["dataset_doc"]).use_commitment(verdict.dataset_use).to_bytes())
        report = self._epsilon(policy, num_rows, [p for _, p in others])
        accountant = {**report.to_json(), "composed_runs": [r for r, _ in others],
                      "this_run_alone": verdict.privacy.to_json()}
        output = {"statement": TRAINING_STATEMENT, "run_id": run_id, "policy_digest": verdict.policy_digest.hex(),
                  "dataset": verdict.dataset_digest.hex(), "theta_commitment": verdict.theta_commitment.hex(),
                  "soundness_bits": repr(float(verdict.soundness_bits)), "dataset_use": verdict.dataset_use,
                  "dataset_commitment": opened,
                  "zero_knowledge": True}  # train-dpsgd/v1 is zero-knowledge only (module docstring)
        from zkaudit.statements.verify import VERIFIER_VERSION

        with self._read() as s:
            self._refuse_opened_commitment(s, opened, verdict.dataset_use)
        with self._write() as (s, app):
            self._refuse_training_exists(s, digest, run_id)
            run = self._run(s, run_id)
            self._coin(s, run)
            self._refuse_opened_commitment(s, opened, verdict.dataset_use)
            now = [r for r, _ in self._dataset_runs(s, run.dataset_id, but=run.id)]
            if now != accountant["composed_runs"]:
                raise OutOfOrder("another run on this dataset was registered while the proof was checked; its "
                                 "privacy cost must be in this proof's epsilon", hint="submit the proof again")
            who = self._registered(s, signer)
            self._record_nonce(s, auth, who.id)
            row = TrainingProof(proof_digest=digest, proof=proof, training_run=run, prover=who,
                                theta_commitment=verdict.theta_commitment,
                                theta_commitment_digest=sha256_hex(verdict.theta_commitment),
                                accountant_json=canonical_json(accountant), zero_knowledge=True, valid=True,
                                output_json=canonical_json(output), reason="", verifier_version=VERIFIER_VERSION,
                                signature=signature, created_at=_now())
            row.log_index = app.append("training-proof", row.record())
            s.add(row)
            s.flush()
            return {"kind": "training-proof", "proof_digest": digest, "run_id": run_id, "prover": who.name,
                    "dataset_use": verdict.dataset_use,
                    "theta_commitment_digest": row.theta_commitment_digest, "epsilon": report.epsilon,
                    "epsilon_rdp": report.epsilon_rdp, "delta": report.delta, "composed_runs": len(others) + 1,
                    "verifier_version": VERIFIER_VERSION, "log_index": row.log_index}

    @staticmethod
    def _refuse_opened_commitment(s: Session, commitment_digest: str, use: int) -> None:
        """A hiding commitment hides its data through one opening: a second
        published proof opening the same dataset commitment -- through this
        record's use or any other record holding it -- is refused."""
        rows = s.execute(select(TrainingProof.proof_digest, TrainingProof.output_json)).all()
        for digest, output in rows:
            if json.loads(output).get("dataset_commitment") == commitment_digest:
                raise AlreadyExists(f"the dataset commitment this proof opens (training use {use}) is already opened "
                                    f"by training proof {digest[:16]}...: a second opening would reveal linear "
                                    "combinations of the data", hint="prove with another --dataset-use, or have the "
                                    "custodian re-commit the data with a fresh seed and more --training-uses")

    @staticmethod
    def _refuse_training_exists(s: Session, digest: str, run_id: str) -> None:
        if s.scalars(select(TrainingProof).where(TrainingProof.proof_digest == digest)).first() is not None:
            raise AlreadyExists(f"training proof {digest[:16]}... is already published")
        if s.scalars(select(TrainingProof).join(TrainingRun).where(TrainingRun.run_id == run_id)).first():
            raise AlreadyExists(f"training run {run_id[:16]}... already has its training proof: one run, one coin, "
                                "one training")

    @staticmethod
    def _verify_training(proof: bytes, docs: dict):
        """The lead's verifier, in this process; rejections become RecordRefused (nothing written)."""
        from zkaudit.statements.training.verifier import verify_training

        try:
            return verify_training(proof, **docs)
        except ProofRejected as exc:
            raise RecordRefused(f"training proof rejected: {exc}") from None

    # -- link proofs -------------------------------------------------------------

    def publish_link_proof(self, proof: bytes, *, run_id: str, model: str, version: str, signer: bytes,
                           signature: bytes, auth: RequestAuth | None = None) -> dict[str, Any]:
        """Verify a link proof from a run's training proof (c_theta) to a model
        version (its registered weight commitment and circuit) and log it.
        The version's vendor signs `training_records.link_proof(...)`."""
        proof = bytes(proof)
        digest = sha256_hex(proof)
        run_id = _hex32(run_id, "run id").hex()
        stmt = training_records.link_proof(proof_digest=digest, run_id=run_id, model=model, version=version)
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            mv, tp = self._link_targets(s, digest, run_id, model, version, signer)
            c_theta, c_w, circuit = tp.theta_commitment, mv.weight_commitment, mv.circuit_bin
        batch = [keys.signature_item(training_records.link_proof_message(stmt), signature,
                                     what=f"link proof {digest[:16]}")]
        if auth is not None:
            batch.insert(0, auth.batch_item(self.public_key))
        self.signatures(signer, batch)
        verdict = self._verify_link(proof, c_theta, c_w, circuit)
        from zkaudit.statements.verify import VERIFIER_VERSION

        with self._write() as (s, app):
            mv, tp = self._link_targets(s, digest, run_id, model, version, signer)
            who = self._registered(s, signer)
            self._record_nonce(s, auth, who.id)
            row = LinkProof(proof_digest=digest, proof=proof, training_proof=tp, model_version=mv, vendor=who,
                            saturated=int(verdict.saturated), valid=True, output_json=canonical_json(verdict.to_json()),
                            reason="", verifier_version=VERIFIER_VERSION, signature=signature, created_at=_now())
            row.log_index = app.append("link-proof", row.record())
            s.add(row)
            s.flush()
            return {"kind": "link-proof", "proof_digest": digest, "run_id": run_id, "model": model,
                    "version": version, "training_proof": tp.proof_digest, "saturated": row.saturated,
                    "vendor": who.name, "verifier_version": VERIFIER_VERSION, "log_index": row.log_index}

    def _link_targets(self, s: Session, digest: str, run_id: str, model: str, version: str,
                      signer: bytes) -> tuple[ModelVersion, TrainingProof]:
        if s.scalars(select(LinkProof).where(LinkProof.proof_digest == digest)).first() is not None:
            raise AlreadyExists(f"link proof {digest[:16]}... is already published")
        run = self._run(s, run_id)
        tp = s.scalars(select(TrainingProof).where(TrainingProof.training_run_id == run.id)).first()
        if tp is None:
            raise OutOfOrder(f"training run {run_id[:16]}... has no training proof yet: a link proof comes after it",
                             hint="publish it first: `zkaudit registry publish-training RUN TRAIN.zkp --key K`")
        mv = self._version(s, model, version)
        self._refuse_revoked(s, mv)
        if mv.model.vendor.public_key != bytes(signer):
            raise Forbidden(f"{model}@{version} belongs to {mv.model.vendor.name}: only it may link its weights")
        old = s.scalars(select(LinkProof).where(LinkProof.model_version_id == mv.id)).first()
        if old is not None:
            raise AlreadyExists(f"{model}@{version} is already linked to training proof "
                                f"{old.training_proof.proof_digest[:16]}... (link proof {old.proof_digest[:16]}...)")
        return mv, tp

    @staticmethod
    def _verify_link(proof: bytes, c_theta: bytes, c_w: bytes, circuit: bytes):
        from zkaudit.statements.link.verifier import verify_link

        try:
            return verify_link(proof, theta_commitment=c_theta, weight_commitment=c_w, circuit=circuit)
        except ProofRejected as exc:
            raise RecordRefused(f"link proof rejected: {exc}") from None

    # -- reads -----------------------------------------------------------------

    def _run_view(self, s: Session, r: TrainingRun) -> dict[str, Any]:
        pol = json.loads(r.policy_json)
        smp = pol["sampling"]
        d_in = len(pol["data"]["features"])
        model = f"logistic regression ({d_in} features)" if pol["model"]["family"] == "logreg" else \
            f"MLP {d_in}-{'-'.join(str(h) for h in pol['model']['hidden'])}-1"
        coin = s.scalars(select(Coin).where(Coin.training_run_id == r.id)).first()
        tp = s.scalars(select(TrainingProof.proof_digest).where(TrainingProof.training_run_id == r.id)).first()
        return {"kind": "training-run", "run_id": r.run_id, "trainer": r.trainer.name,
                "policy_digest": r.policy_digest,
                "policy": {"algorithm": pol["algorithm"], "model": model, "clip_norm": pol["clip_norm"],
                           "noise_multiplier": pol["noise_multiplier"], "learning_rate": pol["learning_rate"],
                           "sampling_rate": f"{smp['rate_numerator']}/2^{smp['rate_log2_denominator']}",
                           "sampling_rate_float": smp["rate_numerator"] / 2 ** smp["rate_log2_denominator"],
                           "expected_batch": smp["expected_batch"], "max_batch": smp["max_batch"],
                           "steps": pol["steps"], "init": pol["init"]["kind"], "delta": pol["privacy"]["delta"],
                           "features": len(pol["data"]["features"]), "label": pol["data"]["label"]},
                "policy_json": pol, "tape_commitment": r.tape_commitment,
                "auditor_public_key": r.auditor_public_key.hex(),
                "consent_proof_at_registration": None if r.consent_proof is None else r.consent_proof.proof_digest,
                "coin": None if coin is None else {"coin": coin.coin, "auditor": coin.auditor.name,
                                                   "auditor_role": coin.auditor.role,
                                                   "auditor_public_key": coin.auditor.public_key.hex(),
                                                   "log_index": coin.log_index, "published_at": coin.created_at},
                "training_proof": tp,
                "published_at": r.created_at, "log_index": r.log_index}

    def _training_view(self, t: TrainingProof) -> dict[str, Any]:
        return {"kind": "training-proof", "proof_digest": t.proof_digest, "run_id": t.training_run.run_id,
                "prover": t.prover.name, "valid": t.valid, "reason": t.reason,
                "verifier_version": t.verifier_version, "zero_knowledge": t.zero_knowledge,
                "theta_commitment_digest": t.theta_commitment_digest, "accountant": json.loads(t.accountant_json),
                "output": json.loads(t.output_json), "published_at": t.created_at, "log_index": t.log_index}

    def _link_view(self, k: LinkProof) -> dict[str, Any]:
        mv = k.model_version
        return {"kind": "link-proof", "proof_digest": k.proof_digest, "training_proof": k.training_proof.proof_digest,
                "model": mv.model.name, "version": mv.version, "vendor": k.vendor.name, "valid": k.valid,
                "reason": k.reason, "verifier_version": k.verifier_version, "saturated": k.saturated,
                "output": json.loads(k.output_json), "published_at": k.created_at, "log_index": k.log_index}

    def _training_chain(self, s: Session, run: TrainingRun) -> dict[str, Any]:
        """Everything from the dataset to the linked model versions, for one run."""
        ds = run.dataset
        proofs = list(s.scalars(select(ConsentProof).where(ConsentProof.dataset_id == ds.id)
                                .order_by(ConsentProof.log_index)))
        consent = [self._proof_view(s, p) for p in proofs]
        tp = s.scalars(select(TrainingProof).where(TrainingProof.training_run_id == run.id)).first()
        links = [] if tp is None else [self._link_view(k) for k in s.scalars(
            select(LinkProof).where(LinkProof.training_proof_id == tp.id).order_by(LinkProof.log_index))]
        current = [c for c in consent if c["valid"] and c["status"] == "current"]
        return {"dataset": self._dataset_view(ds),
                "consent_proofs": consent,
                "consent": ("no consent proof published" if not consent else
                            "attested against a current consent-table version" if current else "consent changed"),
                "consent_tables": [self._table_view(s, p.consent_table) for p in proofs],
                "training_run": self._run_view(s, run),
                "training_proof": None if tp is None else self._training_view(tp),
                "links": links}

    def provenance(self, s: Session, mv: ModelVersion) -> dict[str, Any] | None:
        """A model version's provenance: its link proof and the chain behind it, or None."""
        k = s.scalars(select(LinkProof).where(LinkProof.model_version_id == mv.id)).first()
        if k is None:
            return None
        chain = self._training_chain(s, k.training_proof.training_run)
        consent = chain["consent_proofs"]
        return {"link": self._link_view(k), **chain,
                "ids": {"training_run": chain["training_run"]["run_id"],
                        "training_proof": k.training_proof.proof_digest, "link_proof": k.proof_digest,
                        "dataset": chain["dataset"]["record_digest"],
                        "consent_proofs": [c["proof_digest"] for c in consent]}}

    def _resolve_training(self, s: Session, ref: str) -> TrainingRun | None:
        ref = ref.strip().lower()
        hits = [*s.scalars(select(TrainingRun).where(TrainingRun.run_id.startswith(ref))),
                *(t.training_run for t in s.scalars(select(TrainingProof).where(
                    TrainingProof.proof_digest.startswith(ref)))),
                *(k.training_proof.training_run for k in s.scalars(select(LinkProof).where(
                    LinkProof.proof_digest.startswith(ref))))]
        if len({h.id for h in hits}) > 1:
            raise RegistryError(f"{ref} names {len(hits)} training records; give more digits")
        return hits[0] if hits else None

    def is_training_ref(self, ref: str) -> bool:
        """Whether `ref` (8-64 hex digits) names a training run, training proof or link proof here."""
        from zkaudit.registry.chain import _HEX

        if _HEX.fullmatch(ref.strip().lower()) is None:
            return False
        with self._read() as s:
            try:
                return self._resolve_training(s, ref) is not None
            except RegistryError:
                return True  # ambiguous: let show_training say so

    def show_training(self, ref: str) -> dict[str, Any]:
        """The training chain a run, training proof or link proof is in."""
        from zkaudit.registry.chain import _HEX

        if _HEX.fullmatch(ref.strip().lower()) is None:
            raise RegistryError(f"record reference {ref!r} must be 8-64 hex digits of a run id or proof digest")
        with self._read() as s:
            run = self._resolve_training(s, ref)
            if run is None:
                raise NotFound(f"no training run, training proof or link proof with digest {ref}...")
            return {"kind": "training-chain", **self._training_chain(s, run)}

    def training_runs(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """Every registered run (on one dataset, given its record digest), in log order."""
        with self._read() as s:
            q = select(TrainingRun).order_by(TrainingRun.log_index)
            if dataset is not None:
                q = q.join(DatasetCommitment).where(DatasetCommitment.record_digest == dataset)
            return [self._run_view(s, r) for r in s.scalars(q)]
