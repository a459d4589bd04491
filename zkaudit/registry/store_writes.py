"""The registry's writes: signers, publications and their successors,
proofs, attestations, and revocations with their cascade. Mixed into
`store.Registry`, which supplies `_read`, `_write`, `public_key`,
`signatures` and `verifier`.

A write runs in two phases. First, without the lock: cheap checks (names,
existence, freshness of a signed request), then the slow signature checks
(~0.7 s each in py_ecc). Then one locked transaction re-checks what could
have changed meanwhile, inserts the rows, appends their log entries and
records the request nonce -- all or nothing. If the registry key is loaded,
a signed tree head for the new size follows in its own short transaction.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zkaudit.registry import keys, log, records
from zkaudit.registry.artifacts import PublicArtifacts
from zkaudit.registry.auth import RequestAuth
from zkaudit.registry.encoding import encode, message, sha256_hex
from zkaudit.registry.errors import AlreadyExists, BadSignature, Forbidden, NotFound, RegistryError, ReplayedRequest
from zkaudit.registry.models import (SIGNER_ROLES, Attestation, AttestationSigner, KeyRevocation, Model,
                                     ModelVersion, RequestNonce, Reverification, Revocation, Signer, SubmittedProof,
                                     VerifierRevocation, canonical_json)
from zkaudit.registry.store_base import Gone, _now, check_name
from zkaudit.registry.weight_commitments import HASHED, commitment_kind, describe_weight_commitment
from zkaudit.statements.verify import VERIFIER_VERSION


class Writes:
    """Every write of the model registry proper (the consent and training
    chains' writes: `chain.py`, `training_chain.py`)."""

    # -- shared write helpers -------------------------------------------

    def _precheck_request(self, s: Session, auth: RequestAuth | None, signer: bytes | None) -> None:
        """Cheap checks before any signature work: freshness, unused nonce, signer match."""
        if auth is None:
            return
        auth.check_fresh()
        if signer is not None and auth.signer != signer:
            raise Forbidden("request must be signed by the statement's signer")
        if s.get(RequestNonce, auth.nonce) is not None:
            raise ReplayedRequest("request nonce was already used (replayed request)")

    def _record_nonce(self, s: Session, auth: RequestAuth | None, signer_id: int) -> None:
        if auth is None:
            return
        if s.get(RequestNonce, auth.nonce) is not None:
            raise ReplayedRequest("request nonce was already used (replayed request)")
        s.add(RequestNonce(nonce=auth.nonce, signer_id=signer_id, timestamp=auth.timestamp))

    @staticmethod
    def _signer(s: Session, pk: bytes) -> Signer | None:
        return s.scalars(select(Signer).where(Signer.public_key == pk)).first()

    def _registered(self, s: Session, pk: bytes) -> Signer:
        row = self._signer(s, pk)
        if row is None:
            raise BadSignature(f"signer {pk.hex()[:16]}... is not registered")
        return row

    # -- writes ----------------------------------------------------------

    def register_signer(self, *, name: str, role: str, public_key: bytes, pop: bytes) -> dict[str, Any]:
        """Register a regulator (operator action), or a vendor, custodian or IRB ahead of its first publication."""
        check_name("signer name", name)
        if role not in SIGNER_ROLES:
            raise RegistryError(f"role must be one of {', '.join(SIGNER_ROLES)}, not {role!r}")
        keys.check_public_key(public_key)
        self.signatures(public_key, [keys.pop_item(public_key, pop)])
        with self._write() as (s, app):
            self._insert_signer(s, app, name, role, public_key, pop)
        return {"name": name, "role": role, "public_key": public_key.hex()}

    def _insert_signer(self, s: Session, app: log.Appender, name: str, role: str, pk: bytes, pop: bytes) -> Signer:
        if self._signer(s, pk) is not None:
            raise AlreadyExists("this public key is already registered")
        if s.scalars(select(Signer).where(Signer.name == name)).first() is not None:
            raise AlreadyExists(f"signer name {name!r} is taken by another key")
        row = Signer(name=name, role=role, public_key=pk, proof_of_possession=pop, created_at=_now())
        row.log_index = app.append("signer", row.record())
        s.add(row)
        s.flush()
        return row

    def publish(self, art: PublicArtifacts, *, model: str, version: str, card: dict[str, str], vendor: bytes,
                signature: bytes, vendor_name: str | None = None, pop: bytes | None = None,
                auth: RequestAuth | None = None, supersedes: str | None = None) -> dict[str, Any]:
        """Publish `model@version`, signed by `vendor` over `records.publication`.
        An unknown vendor is registered on the way (needs `vendor_name` and `pop`).
        With `supersedes` (a version of `model`) it is that version's successor
        under a hiding weight commitment (`_check_successor`)."""
        check_name("model name", model)
        check_name("version", version)
        if supersedes is not None:
            check_name("superseded version", supersedes)
        art.check()
        try:
            json.loads(card["claimed_metrics"])
            card = records.model_card(str(card["intended_use"]), str(card["training_data"]), card["claimed_metrics"])
        except (KeyError, TypeError, ValueError):
            raise RegistryError("model card needs intended_use, training_data and claimed_metrics (JSON text)") from None
        stmt = records.publication(model=model, version=version, vendor=vendor, circuit_digest=art.circuit_digest,
                                   weight_commitment_digest=art.weight_commitment_digest,
                                   summary_json=art.summary_json, card=card, supersedes=supersedes)
        with self._read() as s:
            self._precheck_request(s, auth, vendor)
            if self._version(s, model, version, missing_ok=True) is not None:
                raise AlreadyExists(f"{model}@{version} is already published")
            if supersedes is not None:
                self._check_successor(s, art, model, supersedes, vendor)
            known = self._signer(s, vendor)
        # All of the vendor's signatures in this request -- PoP (first use), the
        # request, the statement -- are checked as one batch, before the write
        # transaction: the slow part never holds the log's lock.
        batch = [keys.signature_item(records.publication_message(stmt), signature,
                                     what=f"publication of {model}@{version}")]
        if known is None:
            if not vendor_name or pop is None:
                raise BadSignature("unknown vendor key: first publish must include the vendor name and proof of possession")
            check_name("vendor name", vendor_name)
            keys.check_public_key(vendor)
            batch.insert(0, keys.pop_item(vendor, pop))
        elif known.role != "vendor":
            raise Forbidden(f"{known.name} is a {known.role}, not a vendor")
        else:
            self._refuse_revoked_key(known)
        if auth is not None:
            batch.insert(0, auth.batch_item(self.public_key))
        self.signatures(vendor, batch)
        with self._write() as (s, app):
            if self._version(s, model, version, missing_ok=True) is not None:
                raise AlreadyExists(f"{model}@{version} is already published")
            signer = self._signer(s, vendor) or self._insert_signer(s, app, vendor_name or "", "vendor", vendor, pop or b"")
            self._record_nonce(s, auth, signer.id)
            m = s.scalars(select(Model).where(Model.name == model)).first()
            if m is None:
                m = Model(name=model, vendor=signer, created_at=_now())
                m.log_index = app.append("model", m.record())
                s.add(m)
            elif m.vendor_id != signer.id:
                raise Forbidden(f"model {model!r} belongs to vendor {m.vendor.name!r}")
            old = None if supersedes is None else self._check_successor(s, art, model, supersedes, vendor)
            mv = ModelVersion(model=m, version=version, circuit_digest=art.circuit_digest, circuit_bin=art.circuit_bin,
                              weight_commitment=art.weight_commitment,
                              weight_commitment_digest=art.weight_commitment_digest, summary_json=art.summary_json,
                              intended_use=card["intended_use"], training_data=card["training_data"],
                              claimed_metrics_json=card["claimed_metrics"], created_at=_now(), supersedes=old)
            if mv.record() != stmt:
                raise RegistryError("internal: stored version would differ from the signed statement")
            mv.log_index = app.append("model-version", mv.record())
            s.add(mv)
            s.flush()
            att = self._insert_attestation(s, app, records.PUBLICATION, stmt, [signer], signature, mv)
            result = {"model": model, "version": version, "circuit_digest": mv.circuit_digest,
                      "weight_commitment_digest": mv.weight_commitment_digest, "log_index": mv.log_index,
                      "attestation_log_index": att.log_index, "vendor": signer.name,
                      "weight_commitment": describe_weight_commitment(mv.weight_commitment),
                      "supersedes": None if old is None else f"{model}@{old.version}"}
        return result

    def _check_successor(self, s: Session, art: PublicArtifacts, model: str, supersedes: str,
                         vendor: bytes) -> ModelVersion:
        """The version a successor may supersede (run before the signature checks
        and again under the write lock). The registry can check the shape of an
        upgrade, not its weights: the new root hides them, so "same weights"
        is the vendor's signed word (its `zkaudit registry upgrade-commitment`
        checked them against the old commitment before signing)."""
        old = self._version(s, model, supersedes)
        ref = f"{model}@{supersedes}"
        if old.model.vendor.public_key != vendor:
            raise Forbidden(f"{ref} belongs to vendor {old.model.vendor.name!r}: only it may publish a successor")
        if commitment_kind(art.weight_commitment) != HASHED:
            raise RegistryError(f"a successor of {ref} must carry a hashed (hiding) weight commitment",
                                hint="compile with --weight-commitment hashed, or use `zkaudit registry "
                                     "upgrade-commitment`")
        if commitment_kind(old.weight_commitment) == HASHED:
            raise AlreadyExists(f"{ref} already has a hashed (hiding) weight commitment: nothing to upgrade")
        if old.circuit_digest != art.circuit_digest:
            raise RegistryError(f"a successor of {ref} keeps its circuit (digest {old.circuit_digest[:16]}...), "
                                f"this one is {art.circuit_digest[:16]}...", hint="publish a new model version "
                                "without --supersedes for a new circuit")
        self._refuse_revoked(s, old)
        krev = s.scalars(select(KeyRevocation).where(KeyRevocation.signer_id == old.model.vendor_id,
                                                     KeyRevocation.from_time <= old.created_at)).first()
        if krev is not None:
            raise Gone(f"{ref} was revoked with its vendor key: {krev.reason}")
        after = s.scalars(select(ModelVersion).where(ModelVersion.supersedes_id == old.id)).first()
        if after is not None:
            raise AlreadyExists(f"{ref} is already superseded by {model}@{after.version}")
        return old

    def _insert_attestation(self, s: Session, app: log.Appender, tag: str, stmt: Any, signers: list[Signer],
                            signature: bytes, mv: ModelVersion | None) -> Attestation:
        body = encode(stmt)
        signers_digest = sha256_hex(b"".join(x.public_key for x in signers))
        dup = s.scalars(select(Attestation).where(Attestation.statement_digest == sha256_hex(body),
                                                  Attestation.signers_digest == signers_digest)).first()
        if dup is not None:
            raise AlreadyExists("this statement is already attested by these signers")
        att = Attestation(tag=tag, statement=body, statement_digest=sha256_hex(body), signers_digest=signers_digest,
                          model_version=mv, signature=signature, created_at=_now())
        att.signers = [AttestationSigner(position=i, signer=x) for i, x in enumerate(signers)]
        att.log_index = app.append("attestation", att.record())
        s.add(att)
        s.flush()
        return att

    def submit_proof(self, *, model: str, version: str, proof: bytes, submitter: bytes,
                     auth: RequestAuth | None = None, input_commitment: bytes | None = None) -> dict[str, Any]:
        """Verify `proof` against the registered circuit and commitment; store the verdict.
        A proof in the committed-input form verifies on its own; with
        `input_commitment` it must be bound to exactly that commitment."""
        with self._read() as s:
            self._precheck_request(s, auth, submitter)
            mv = self._version(s, model, version)
            self._refuse_revoked(s, mv)
            self._registered(s, submitter)
            circuit_bin, commitment = mv.circuit_bin, mv.weight_commitment
        if auth is not None:
            self.signatures(auth.signer, [auth.batch_item(self.public_key)])
        verdict = self.verifier(proof, circuit_bin=circuit_bin, weight_commitment=commitment,
                                input_commitment=input_commitment)
        with self._write() as (s, app):
            mv = self._version(s, model, version)
            self._refuse_revoked(s, mv)
            who = self._registered(s, submitter)
            self._record_nonce(s, auth, who.id)
            row = SubmittedProof(model_version=mv, submitter=who, statement=verdict.statement, proof=proof,
                                 proof_digest=sha256_hex(proof), valid=verdict.valid,
                                 output_json=canonical_json(verdict.output), reason=verdict.reason,
                                 verifier_version=verdict.verifier_version, created_at=_now())
            row.log_index = app.append("proof", row.record())
            s.add(row)
            s.flush()
            return {**verdict.to_json(), "proof_digest": row.proof_digest, "log_index": row.log_index}

    def revoke(self, *, model: str, version: str, reason: str, signer: bytes, signature: bytes,
               auth: RequestAuth | None = None) -> dict[str, Any]:
        if not reason.strip():
            raise RegistryError("a revocation needs a reason")
        stmt = records.revocation(model=model, version=version, reason=reason)
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            mv = self._version(s, model, version)
            self._refuse_revoked(s, mv)
            who = self._registered(s, signer)
            if who.role != "regulator" and mv.model.vendor_id != who.id:
                raise Forbidden(f"only {mv.model.vendor.name!r} or a regulator may revoke {model}@{version}")
        batch = [keys.signature_item(records.revocation_message(stmt), signature, what=f"revocation of {model}@{version}")]
        if auth is not None:
            batch.insert(0, auth.batch_item(self.public_key))
        self.signatures(signer, batch)
        with self._write() as (s, app):
            mv = self._version(s, model, version)
            self._refuse_revoked(s, mv)
            who = self._registered(s, signer)
            self._record_nonce(s, auth, who.id)
            row = Revocation(model_version=mv, signer=who, reason=reason, signature=signature, created_at=_now())
            row.log_index = app.append("revocation", row.record())
            s.add(row)
            s.flush()
            return {"model": model, "version": version, "reason": reason, "log_index": row.log_index}

    def attest(self, *, tag: str, statement: dict[str, Any], signers: list[bytes], signature: bytes,
               auth: RequestAuth | None = None) -> dict[str, Any]:
        """Record a statement co-signed by `signers` (one aggregate BLS signature).
        A verdict statement must match a verdict this registry reached."""
        if tag not in records.ATTESTATION_TAGS:
            raise RegistryError(f"attestation tag must be one of {', '.join(records.ATTESTATION_TAGS)}, not {tag!r}")
        if not isinstance(statement, dict) or not all(isinstance(statement.get(k), str) for k in ("model", "version")):
            raise RegistryError("an attested statement is an object naming its model and version")
        with self._read() as s:
            self._precheck_request(s, auth, None)
            if auth is not None and auth.signer not in signers:
                raise Forbidden("the request must be signed by one of the co-signers")
            mv = self._version(s, statement["model"], statement["version"])
            for pk in signers:
                self._registered(s, pk)
            if tag == records.VERDICT:
                self._check_verdict(s, mv, statement)
        if auth is not None:
            auth.verify(self.public_key)
        keys.verify_aggregate(signers, message(tag, statement), signature, what=f"{tag} attestation")
        with self._write() as (s, app):
            mv = self._version(s, statement["model"], statement["version"])
            rows = [self._registered(s, pk) for pk in signers]
            if auth is not None:
                self._record_nonce(s, auth, self._registered(s, auth.signer).id)
            att = self._insert_attestation(s, app, tag, statement, rows, signature, mv)
            return {"tag": tag, "statement_digest": att.statement_digest, "signers": [r.name for r in rows],
                    "log_index": att.log_index}

    def _check_verdict(self, s: Session, mv: ModelVersion, stmt: dict[str, Any]) -> None:
        expected = set(records.verdict(model="", version="", proof_digest="", valid=False, verifier_version=""))
        if set(stmt) != expected:
            raise RegistryError(f"a verdict statement has exactly the fields {sorted(expected)}")
        row = s.scalars(select(SubmittedProof).where(SubmittedProof.model_version_id == mv.id,
                                                     SubmittedProof.proof_digest == stmt["proof_digest"])).first()
        if row is None:
            raise NotFound(f"no proof {stmt['proof_digest']!r} was submitted for {mv.model.name}@{mv.version}")
        if (row.valid, row.verifier_version) != (stmt["valid"], stmt["verifier_version"]):
            raise RegistryError("the co-signed verdict differs from the verdict the registry reached",
                                hint=f"registry: valid={row.valid}, {row.verifier_version}")

    # -- revocations with cascade (design/statements.md §5) ----------------

    def revoke_key(self, *, public_key: bytes, from_time: int, reason: str, signer: bytes, signature: bytes,
                   auth: RequestAuth | None = None) -> dict[str, Any]:
        """Withdraw a signer key from `from_time` on (signed by that key or a
        regulator): versions it published from then on read as revoked, and it
        can publish no more."""
        if not reason.strip():
            raise RegistryError("a revocation needs a reason")
        if type(from_time) is not int or from_time < 0:
            raise RegistryError(f"from_time must be a Unix time in seconds, not {from_time!r}")
        stmt = records.key_revocation(public_key=public_key, from_time=from_time, reason=reason)
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            target = self._registered(s, public_key)
            who = self._registered(s, signer)
            if who.role != "regulator" and who.id != target.id:
                raise Forbidden(f"only the key itself or a regulator may revoke {target.name}'s key")
            self._refuse_key_revoked_twice(s, target)
        batch = [keys.signature_item(records.key_revocation_message(stmt), signature,
                                     what=f"revocation of {target.name}'s key")]
        if auth is not None:
            batch.insert(0, auth.batch_item(self.public_key))
        self.signatures(signer, batch)
        with self._write() as (s, app):
            target, who = self._registered(s, public_key), self._registered(s, signer)
            self._refuse_key_revoked_twice(s, target)
            self._record_nonce(s, auth, who.id)
            row = KeyRevocation(signer=target, from_time=from_time, reason=reason, revoker=who, signature=signature,
                                created_at=_now())
            row.log_index = app.append("key-revocation", row.record())
            s.add(row)
            s.flush()
            hit = [f"{v.model.name}@{v.version}" for m in s.scalars(select(Model).where(Model.vendor_id == target.id))
                   for v in m.versions if v.created_at >= from_time]
            return {"public_key": public_key.hex(), "signer": target.name, "from_time": from_time, "reason": reason,
                    "by": who.name, "log_index": row.log_index, "versions_revoked": hit}

    @staticmethod
    def _refuse_key_revoked_twice(s: Session, target: Signer) -> None:
        old = s.scalars(select(KeyRevocation).where(KeyRevocation.signer_id == target.id)).first()
        if old is not None:
            raise AlreadyExists(f"{target.name}'s key is already revoked from {old.from_time}: {old.reason}")

    def _refuse_revoked_key(self, who: Signer) -> None:
        with self._read() as s:
            rev = s.scalars(select(KeyRevocation).where(KeyRevocation.signer_id == who.id)).first()
        if rev is not None and rev.from_time <= _now():
            raise Gone(f"{who.name}'s key was revoked from {rev.from_time}: {rev.reason}")

    def revoke_verifier(self, *, verifier_version: str, reason: str, signer: bytes, signature: bytes,
                        auth: RequestAuth | None = None) -> dict[str, Any]:
        """A regulator withdraws a verifier version (a soundness bug): every proof
        it accepted reads "re-verify" until `reverify` checks it again."""
        if not reason.strip():
            raise RegistryError("a revocation needs a reason")
        if not isinstance(verifier_version, str) or not 0 < len(verifier_version) <= 200:
            raise RegistryError("verifier_version must be 1-200 characters, as proofs record it")
        stmt = records.verifier_revocation(verifier_version=verifier_version, reason=reason)
        with self._read() as s:
            self._precheck_request(s, auth, signer)
            who = self._registered(s, signer)
            if who.role != "regulator":
                raise Forbidden(f"only a regulator may revoke a verifier version ({who.name} is a {who.role})")
            self._refuse_verifier_revoked_twice(s, verifier_version)
        batch = [keys.signature_item(records.verifier_revocation_message(stmt), signature,
                                     what=f"revocation of verifier {verifier_version!r}")]
        if auth is not None:
            batch.insert(0, auth.batch_item(self.public_key))
        self.signatures(signer, batch)
        with self._write() as (s, app):
            who = self._registered(s, signer)
            self._refuse_verifier_revoked_twice(s, verifier_version)
            self._record_nonce(s, auth, who.id)
            row = VerifierRevocation(verifier_version=verifier_version, reason=reason, revoker=who,
                                     signature=signature, created_at=_now())
            row.log_index = app.append("verifier-revocation", row.record())
            s.add(row)
            s.flush()
            pending = s.scalars(select(SubmittedProof.proof_digest).where(
                SubmittedProof.verifier_version == verifier_version, SubmittedProof.valid.is_(True))).all()
            return {"verifier_version": verifier_version, "reason": reason, "by": who.name,
                    "log_index": row.log_index, "proofs_to_reverify": list(pending)}

    @staticmethod
    def _refuse_verifier_revoked_twice(s: Session, version: str) -> None:
        if s.scalars(select(VerifierRevocation).where(VerifierRevocation.verifier_version == version)).first():
            raise AlreadyExists(f"verifier version {version!r} is already revoked")

    def reverify(self, *, proof_digest: str, requester: bytes | None = None,
                 auth: RequestAuth | None = None) -> dict[str, Any]:
        """Check a stored proof again with this verifier and log the verdict.
        Only proofs whose verdict came from a revoked verifier version are
        re-checked (anything else has nothing to re-verify)."""
        with self._read() as s:
            self._precheck_request(s, auth, requester)
            if requester is not None:
                self._registered(s, requester)
            row = self._proof_by_digest(s, proof_digest)
            if self._pending(s, row) is None:
                raise RegistryError(f"proof {proof_digest[:16]}... does not need re-verification: its verifier "
                                    f"({row.verifier_version}) is not revoked, or it was re-verified already",
                                    hint="re-verification applies to proofs accepted by a revoked verifier version")
            if self.revoked_verifier() is not None:
                raise RegistryError(f"this registry's verifier ({VERIFIER_VERSION}) is itself revoked",
                                    hint="upgrade the registry's zkaudit first")
            mv, proof = row.model_version, row.proof
            circuit_bin, commitment = mv.circuit_bin, mv.weight_commitment
        if auth is not None:
            self.signatures(auth.signer, [auth.batch_item(self.public_key)])
        verdict = self.verifier(proof, circuit_bin=circuit_bin, weight_commitment=commitment)
        with self._write() as (s, app):
            row = self._proof_by_digest(s, proof_digest)
            if self._pending(s, row) is None:
                raise AlreadyExists(f"proof {proof_digest[:16]}... was re-verified meanwhile")
            if auth is not None:
                self._record_nonce(s, auth, self._registered(s, auth.signer).id)
            rv = Reverification(proof=row, valid=verdict.valid, reason=verdict.reason,
                                verifier_version=verdict.verifier_version, created_at=_now())
            rv.log_index = app.append("reverification", rv.record())
            s.add(rv)
            s.flush()
            return {"proof_digest": row.proof_digest, "previous_verifier_version": row.verifier_version,
                    "valid": verdict.valid, "reason": verdict.reason, "verifier_version": verdict.verifier_version,
                    "log_index": rv.log_index}

    def _proof_by_digest(self, s: Session, digest: str) -> SubmittedProof:
        rows = s.scalars(select(SubmittedProof).where(SubmittedProof.proof_digest == digest)).all()
        if not rows:
            raise NotFound(f"no submitted proof with digest {digest!r}")
        return rows[0]

    @staticmethod
    def _pending(s: Session, row: SubmittedProof) -> str | None:
        """The revocation reason if `row`'s accepting verifier is revoked and no
        unrevoked verifier re-checked it since; else None."""
        if not row.valid:
            return None
        rev = s.scalars(select(VerifierRevocation).where(
            VerifierRevocation.verifier_version == row.verifier_version)).first()
        if rev is None:
            return None
        revoked = set(s.scalars(select(VerifierRevocation.verifier_version)))
        for rv in s.scalars(select(Reverification).where(Reverification.proof_id == row.id)):
            if rv.verifier_version not in revoked:
                return None
        return rev.reason
