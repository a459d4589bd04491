"""The registry's reads that vouch for something: revocation lists, the
whole-log audit and export, and checking a received proof against the entry
the log records. Mixed into `store.Registry`, which supplies `_read`,
`public_key`, `known_heads`, `_remember` and `verifier`; nothing here writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zkaudit.registry import log
from zkaudit.registry.audit import AuditReport, CheckedVersion, audit_session, checked_version, export
from zkaudit.registry.models import KeyRevocation, Meta, ModelVersion, Revocation, VerifierRevocation
from zkaudit.registry.store_base import META_PUBLIC_KEY, Gone
from zkaudit.statements.verify import VERIFIER_VERSION, Verdict


class Checks:
    """Revocation lists, log audits and proof checks, without writing."""

    def revoked_verifier(self, version: str = VERIFIER_VERSION) -> str | None:
        """The reason `version` was revoked, or None."""
        with self._read() as s:
            row = s.scalars(select(VerifierRevocation).where(VerifierRevocation.verifier_version == version)).first()
            return None if row is None else row.reason

    def revocations(self) -> dict[str, Any]:
        """Every revocation: model versions, signer keys, verifier versions."""
        with self._read() as s:
            return {
                "model_versions": [{"model": r.model_version.model.name, "version": r.model_version.version,
                                    "reason": r.reason, "by": r.signer.name, "log_index": r.log_index}
                                   for r in s.scalars(select(Revocation).order_by(Revocation.log_index))],
                "keys": [{"public_key": r.signer.public_key.hex(), "signer": r.signer.name, "from_time": r.from_time,
                          "reason": r.reason, "by": r.revoker.name, "log_index": r.log_index}
                         for r in s.scalars(select(KeyRevocation).order_by(KeyRevocation.log_index))],
                "verifiers": [{"verifier_version": r.verifier_version, "reason": r.reason, "by": r.revoker.name,
                               "log_index": r.log_index}
                              for r in s.scalars(select(VerifierRevocation).order_by(VerifierRevocation.log_index))],
            }

    # -- checks without writing -------------------------------------------

    def verify_log(self, *, registry_pk: bytes | None = None, since: log.SignedTreeHead | None = None) -> AuditReport:
        """Audit the whole log (`audit.py`), against `since` and the highest
        head known here too; a log that passes has its latest head remembered."""
        known = self.known_head(registry_pk)
        with self._read() as s:
            rep = audit_session(s, registry_pk=registry_pk, since=since, known=known)
            meta = s.get(Meta, META_PUBLIC_KEY)
            latest = log.latest_head(s)
        first = rep.first
        if meta is not None and rep.size and (first is None or first[0] > 0):
            try:
                if bytes.fromhex(meta.value) != (registry_pk or self._logged_key()):
                    rep.problems.append((0, "registry_meta public key differs from the key logged in entry 0"))
            except ValueError:
                rep.problems.append((0, "registry_meta public key is not hex"))
        if known is not None:
            rep.notes.append(f"extends the highest head known here (size {known.tree_size}, "
                             f"{self.known_heads.path})")
        if rep.ok and latest is not None:
            self._remember(latest, registry_pk)
        return rep

    def _logged_key(self) -> bytes | None:
        """The registry key recorded in log entry 0."""
        pk = self.entry(0)["decoded"]["record"].get("public_key")
        return bytes.fromhex(pk) if isinstance(pk, str) else None

    def export_log(self) -> dict[str, Any]:
        with self._read() as s:
            doc = export(s)
        doc["registry_public_key"] = self.public_key.hex()
        return doc

    def check(self, *, model: str, version: str, proof: bytes, input_commitment: bytes | None = None,
              inputs=None) -> Verdict:
        """Verify a received prediction's proof against the registered entry
        (stores nothing); with `input_commitment` or `inputs`, the proof must
        be about that input (`verify_proof`). The entry and its revocation
        status are read through the log (`checked_version`), never from the
        tables alone; a tampered log raises `LogMismatch`."""
        cv = self.checked_version(model, version)
        if cv.revoked is not None:
            return Verdict(False, None, None, f"{model}@{version} was revoked: {cv.revoked}")
        why = self.revoked_verifier()
        if why is not None:
            return Verdict(False, None, None, f"this verifier ({VERIFIER_VERSION}) was revoked by the registry: "
                           f"{why}; upgrade zkaudit and check again")
        return self.verifier(proof, circuit_bin=cv.circuit_bin, weight_commitment=cv.weight_commitment,
                             input_commitment=input_commitment, inputs=inputs)

    def checked_version(self, model: str, version: str) -> CheckedVersion:
        """`model@version` as the log vouches for it: its circuit and weight
        commitment, and whether a revocation of it is logged (a revocation
        row is honoured too, logged or not: it can only refuse)."""
        known = self.known_head()
        with self._read() as s:
            mv = self._version(s, model, version)
            cv, scan = checked_version(s, mv, registry_pk=self.public_key, known=known,
                                       verified_heads=self._verified_heads, resume=self._scans.get((model, version)))
            rev = s.scalars(select(Revocation).where(Revocation.model_version_id == mv.id)).first()
            krev = s.scalars(select(KeyRevocation).where(KeyRevocation.signer_id == mv.model.vendor_id,
                                                         KeyRevocation.from_time <= mv.created_at)).first()
            row_reason = rev.reason if rev is not None else None if krev is None else (
                f"the vendor key {mv.model.vendor.public_key.hex()[:16]}... was revoked from {krev.from_time} "
                f"(before this version was published): {krev.reason}")
        if len(self._scans) >= 1024:
            self._scans.clear()
        self._scans[(model, version)] = scan
        self._remember(cv.head)
        if cv.revoked is None and row_reason is not None:
            cv = CheckedVersion(cv.circuit_bin, cv.weight_commitment, row_reason, cv.head)
        return cv

    def _refuse_revoked(self, s: Session, mv: ModelVersion) -> None:
        rev = s.scalars(select(Revocation).where(Revocation.model_version_id == mv.id)).first()
        if rev is not None:
            raise Gone(f"{mv.model.name}@{mv.version} was revoked: {rev.reason}")
