"""Public reads: models, versions, attestations, proofs and the log, as JSON-ready dicts.

Mixed into `store.Registry`; needs `self._read()` and `self.public_key`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zkaudit.registry import log, merkle
from zkaudit.registry.encoding import decode
from zkaudit.registry.errors import NotFound, RegistryError
from zkaudit.registry.models import (Attestation, LogEntry, KeyRevocation, Model, ModelVersion, Reverification, Revocation,
                                     Signer, SubmittedProof)
from zkaudit.registry.weight_commitments import commitment_kind, describe_weight_commitment


LIST_HINT = "see the models it holds with `zkaudit registry list` or GET /v1/models"


def parse_ref(ref: str) -> tuple[str, str]:
    """'NAME@VERSION' -> (name, version)."""
    name, sep, version = ref.rpartition("@")
    if not sep or not name or not version:
        raise RegistryError(f"model reference {ref!r} must be NAME@VERSION", hint="e.g. clinical-mlp@1.0")
    return name, version


def _hexify(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: _hexify(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_hexify(x) for x in v]
    return v


def _page(q, column, limit: int | None, after: int | None):
    if after is not None:
        q = q.where(column > after)
    return q if limit is None else q.limit(limit)


class Reads:
    def _version(self, s: Session, model: str, version: str, *, missing_ok: bool = False) -> ModelVersion | None:
        mv = s.scalars(select(ModelVersion).join(Model).where(Model.name == model, ModelVersion.version == version)).first()
        if mv is None and not missing_ok:
            known = s.scalars(select(Model).where(Model.name == model)).first()
            if known is None:
                raise NotFound(f"unknown model {model!r}: this registry has no {model}@{version}", hint=LIST_HINT)
            versions = ", ".join(v.version for v in known.versions)
            raise NotFound(f"model {model!r} has no version {version!r}, only {versions}", hint=LIST_HINT)
        return mv

    def signer_role(self, public_key: bytes) -> str | None:
        with self._read() as s:
            row = s.scalars(select(Signer).where(Signer.public_key == public_key)).first()
            return None if row is None else row.role

    def list_models(self, *, limit: int | None = None, after: str | None = None) -> list[dict[str, Any]]:
        """Models by name; a page of `limit` names after `after` when given."""
        q = select(Model).order_by(Model.name)
        if after is not None:
            q = q.where(Model.name > after)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as s:
            return [{"name": m.name, "vendor": m.vendor.name, "versions": [v.version for v in m.versions],
                     "weight_commitments": {v.version: commitment_kind(v.weight_commitment) for v in m.versions}}
                    for m in s.scalars(q)]

    def signer(self, public_key: bytes) -> dict[str, Any]:
        with self._read() as s:
            row = s.scalars(select(Signer).where(Signer.public_key == public_key)).first()
            if row is None:
                raise NotFound(f"signer {public_key.hex()[:16]}... is not registered")
            rev = s.scalars(select(KeyRevocation).where(KeyRevocation.signer_id == row.id)).first()
            return {"name": row.name, "role": row.role, "public_key": row.public_key.hex(), "log_index": row.log_index,
                    "revoked": None if rev is None else {"from_time": rev.from_time, "reason": rev.reason,
                                                         "by": rev.revoker.name, "log_index": rev.log_index}}

    def show_model(self, model: str) -> dict[str, Any]:
        with self._read() as s:
            m = s.scalars(select(Model).where(Model.name == model)).first()
            if m is None:
                raise NotFound(f"unknown model {model!r}", hint=LIST_HINT)
            return {"name": m.name, "vendor": m.vendor.name, "vendor_public_key": m.vendor.public_key.hex(),
                    "versions": [self._version_view(s, v) for v in m.versions]}

    def show_version(self, model: str, version: str) -> dict[str, Any]:
        with self._read() as s:
            return self._version_view(s, self._version(s, model, version))

    def _version_view(self, s: Session, mv: ModelVersion) -> dict[str, Any]:
        rev = s.scalars(select(Revocation).where(Revocation.model_version_id == mv.id)).first()
        revoked = None if rev is None else {"reason": rev.reason, "by": rev.signer.name, "log_index": rev.log_index}
        if revoked is None:
            krev = s.scalars(select(KeyRevocation).where(KeyRevocation.signer_id == mv.model.vendor_id,
                                                         KeyRevocation.from_time <= mv.created_at)).first()
            if krev is not None:
                revoked = {"reason": f"the vendor key was revoked from {krev.from_time}: {krev.reason}",
                           "by": krev.revoker.name, "log_index": krev.log_index}
        return {
            "model": mv.model.name,
            "version": mv.version,
            "vendor": mv.model.vendor.name,
            "circuit_digest": mv.circuit_digest,
            "circuit_bytes": len(mv.circuit_bin),
            "weight_commitment_digest": mv.weight_commitment_digest,
            "summary": mv.summary,
            "model_card": {"intended_use": mv.intended_use, "training_data": mv.training_data,
                           "claimed_metrics": mv.claimed_metrics},
            "published_at": mv.created_at,
            "log_index": mv.log_index,
            "revoked": revoked,
            "weight_commitment": describe_weight_commitment(mv.weight_commitment),
            "supersedes": None if mv.supersedes is None else f"{mv.model.name}@{mv.supersedes.version}",
            "superseded_by": next((f"{mv.model.name}@{n.version}" for n in s.scalars(
                select(ModelVersion).where(ModelVersion.supersedes_id == mv.id))), None),
            # the training chain behind the weights (`training_chain.py`), None until a link proof is logged
            "provenance": self.provenance(s, mv),
        }

    def artifacts(self, model: str, version: str) -> tuple[bytes, bytes]:
        """(circuit.bin, weights.commitment) of a published version."""
        with self._read() as s:
            mv = self._version(s, model, version)
            return mv.circuit_bin, mv.weight_commitment

    def attestations(self, model: str, version: str, *, limit: int | None = None,
                     after: int | None = None) -> list[dict[str, Any]]:
        """In log order; a page of `limit` after log index `after` when given."""
        with self._read() as s:
            mv = self._version(s, model, version)
            q = select(Attestation).where(Attestation.model_version_id == mv.id).order_by(Attestation.log_index)
            rows = s.scalars(_page(q, Attestation.log_index, limit, after))
            return [{"tag": a.tag, "statement": _hexify(decode(a.statement)), "signers": [x.signer.name for x in a.signers],
                     "signature": a.signature.hex(), "log_index": a.log_index} for a in rows]

    def proofs(self, model: str, version: str, *, limit: int | None = None,
               after: int | None = None) -> list[dict[str, Any]]:
        """In log order, each with its `status`: "valid", "invalid", or
        "re-verify" while its accepting verifier version is revoked and no
        current verifier has checked it again (then that verdict counts)."""
        with self._read() as s:
            mv = self._version(s, model, version)
            q = select(SubmittedProof).where(SubmittedProof.model_version_id == mv.id).order_by(SubmittedProof.log_index)
            out = []
            for p in s.scalars(_page(q, SubmittedProof.log_index, limit, after)):
                pending = self._pending(s, p)
                rvs = s.scalars(select(Reverification).where(Reverification.proof_id == p.id)
                                .order_by(Reverification.log_index)).all()
                last = rvs[-1] if rvs else None
                status = ("re-verify" if pending is not None else
                          ("valid" if last.valid else "invalid") if last is not None else
                          "valid" if p.valid else "invalid")
                out.append({"proof_digest": p.proof_digest, "statement": p.statement, "valid": p.valid,
                            "reason": p.reason, "verifier_version": p.verifier_version,
                            "submitter": p.submitter.name, "log_index": p.log_index, "status": status,
                            "verifier_revoked": pending,
                            "reverified": None if last is None else {
                                "valid": last.valid, "reason": last.reason,
                                "verifier_version": last.verifier_version, "log_index": last.log_index}})
            return out

    # -- the log ---------------------------------------------------------

    def log_size(self) -> int:
        with self._read() as s:
            return log.size(s)

    def head(self) -> dict[str, Any]:
        """The latest signed tree head, plus the current (possibly unsigned) size."""
        with self._read() as s:
            sth = log.latest_head(s)
            n = log.size(s)
        return {"registry_public_key": self.public_key.hex(), "log_size": n,
                "signed_head": None if sth is None else sth.to_json()}

    def inclusion(self, index: int, tree_size: int) -> dict[str, Any]:
        with self._read() as s:
            path = log.inclusion_proof(s, index, tree_size)
            body = log.entry(s, index).body
        return {"index": index, "tree_size": tree_size, "leaf_hash": merkle.leaf_hash(body).hex(),
                "path": [h.hex() for h in path]}

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        with self._read() as s:
            proof = log.consistency_proof(s, first, second)
        return {"first": first, "second": second, "proof": [h.hex() for h in proof]}

    def log_range(self, start: int, end: int, *, with_prefix: bool = True) -> dict[str, Any]:
        """Entries start..end-1 and (with_prefix) the stored subtree hashes that
        make up D[0:start]: a client appends the leaves to those and compares
        the root with a signed head, which proves every entry in the range."""
        if not 0 <= start <= end:
            raise RegistryError(f"range must satisfy 0 <= start <= end, not {start}..{end}")
        with self._read() as s:
            n = log.size(s)
            if end > n:
                raise NotFound(f"the log has {n} entries, not {end}")
            prefix = []
            if with_prefix:
                keys = merkle.decompose(0, start)
                nodes = log.fetch_nodes(s, set(keys))
                prefix = [nodes[k].hex() for k in keys]
            rows = s.execute(select(LogEntry.idx, LogEntry.kind, LogEntry.body)
                             .where(LogEntry.idx >= start, LogEntry.idx < end).order_by(LogEntry.idx)).all()
        return {"start": start, "end": end, "prefix": prefix,
                "entries": [{"index": i, "kind": k, "body": b.hex()} for i, k, b in rows]}

    def entry(self, index: int) -> dict[str, Any]:
        with self._read() as s:
            row = log.entry(s, index)
            return {"index": row.idx, "kind": row.kind, "body": row.body.hex(), "decoded": _hexify(decode(row.body))}
