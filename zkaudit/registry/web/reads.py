"""What the pages show, read from the registry. Nothing here writes.

The public reads of `views.Reads` are used where they exist (the same
answers the JSON API gives); the few lists the API has no endpoint for
(every version, every revocation, a page of log entries, every dataset)
are read here, from the same tables.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from zkaudit.registry import merkle
from zkaudit.registry import models as tables
from zkaudit.registry.encoding import EncodingError, decode
from zkaudit.registry.errors import BadSignature
from zkaudit.registry.log import SignedTreeHead
from zkaudit.registry.models import DatasetCommitment, LogEntry, Model, ModelVersion, Revocation
from zkaudit.registry.store import Registry
from zkaudit.registry.web.summary import circuit_summary

LOG_PAGE = 50  # entries per log page
DATASETS_SHOWN = 200

# The provenance chain of a version (design/statements.md §5), in order:
# (key, title, what it is). Kinds this registry does not record yet are
# shown as "none recorded".
CHAIN = (
    ("dataset", "Dataset commitment", "the training data, committed and signed by its custodian"),
    ("consent", "Consent", "an IRB's consent table and the proof that every record is covered by it"),
    ("training", "Training proof", "that the model was trained on that data under the declared policy"),
    ("link", "Link proof", "that the trained weights are the weights this version commits to"),
    ("version", "Model version", "the published circuit and weight commitment, signed by the vendor"),
    ("inference", "Inference proofs", "predictions of this version, verified by the registry"),
    ("audit", "Audit proofs", "metrics on a regulator's or hospital's audit set"),
)


def _entry_label(kind: str, rec: Any) -> str:
    """A short description of a log entry's record."""
    if not isinstance(rec, dict):
        return kind
    if kind in ("model-version", "proof", "revocation"):
        label = f"{rec.get('model')}@{rec.get('version')}"
        if kind == "proof":
            label += " \u2014 valid" if rec.get("valid") else " \u2014 not valid"
        if kind == "model-version" and rec.get("supersedes"):
            label += f" (supersedes {rec.get('model')}@{rec.get('supersedes')}: hiding weight commitment)"
        return label
    if kind == "signer":
        return f"{rec.get('name')} ({rec.get('role')})"
    if kind == "model":
        return str(rec.get("name"))
    if kind == "attestation":
        return str(rec.get("tag"))
    if kind in ("dataset", "consent-table"):
        return f"record {str(rec.get('record_digest', ''))[:16]}"
    if kind in ("consent-proof", "training-proof", "link-proof"):
        return f"proof {str(rec.get('proof_digest', ''))[:16]}"
    if kind in ("training-run", "coin"):
        return f"run {str(rec.get('run_id', ''))[:16]}"
    return kind


def _provenance_stages(stages: dict[str, list], prov: dict[str, Any]) -> None:
    """The dataset, consent, training and link stages from a version's
    provenance (`training_chain.TrainingChain.provenance`)."""
    d, run, tp, link = prov["dataset"], prov["training_run"], prov["training_proof"], prov["link"]
    stages["dataset"].append({
        "title": f"dataset {d['record_digest'][:16]}", "verdict": "published", "ok": True,
        "log_index": d["log_index"], "by": d["custodian"],
        "detail": f"{d['rows']} records ({d.get('population') or 'population not described'}); the custodian's "
                  "signature was checked by the registry"})
    for c, t in zip(prov["consent_proofs"], prov["consent_tables"]):
        current = c["valid"] and c["status"] == "current"
        stages["consent"].append({
            "title": f"consent proof {c['proof_digest'][:16]}", "ok": current, "log_index": c["log_index"],
            "verdict": ("valid" if c["valid"] else "not valid") + ("" if c["status"] == "current" else
                                                                   ", consent changed"),
            "by": c["prover"],
            "detail": f"consent table v{t['version']} ({t['purpose']}) by IRB {t['irb']}; "
                      + ("zero-knowledge" if c["zero_knowledge"] else "not zero-knowledge (synthetic or public "
                                                                      "data only)")
                      + (f"; {c['consent_changed']}" if c["consent_changed"] else "")})
    p, coin = run["policy"], run["coin"]
    stages["training"].append({
        "title": f"training run {run['run_id'][:16]}", "verdict": "registered", "ok": True,
        "log_index": run["log_index"], "by": run["trainer"],
        "detail": f"{p['algorithm']}, {p['model']}: clip norm {p['clip_norm']}, noise multiplier "
                  f"{p['noise_multiplier']}, sampling rate {p['sampling_rate']}, {p['steps']} steps, learning rate "
                  f"{p['learning_rate']}; coin signed by "
                  + ("nobody yet" if coin is None else f"{coin['auditor']} ({coin['auditor_role']})")})
    if tp is not None:
        a = tp["accountant"]
        others = len(a["composed_runs"])
        stages["training"].append({
            "title": f"training proof {tp['proof_digest'][:16]}", "ok": tp["valid"],
            "verdict": "valid" if tp["valid"] else "not valid", "log_index": tp["log_index"], "by": tp["prover"],
            "detail": f"epsilon {float(a['epsilon']):.4g} at delta {float(a['delta']):g} (PLD, {a['accountant']}; "
                      f"RDP {float(a['epsilon_rdp']):.4g})"
                      + (f", composed with {others} other run(s) on the dataset" if others else "")
                      + f"; {'zero-knowledge' if tp['zero_knowledge'] else 'not zero-knowledge'} "
                        f"({tp['verifier_version']})"})
    stages["link"].append({
        "title": f"link proof {link['proof_digest'][:16]}", "ok": link["valid"],
        "verdict": "valid" if link["valid"] else "not valid", "log_index": link["log_index"], "by": link["vendor"],
        "detail": f"the registered int8 weights are the declared quantization of the trained weights; "
                  f"{link['saturated']} weight(s) saturated ({link['verifier_version']})"})


class Pages:
    """Page data over one registry; caches tree-head signature checks."""

    def __init__(self, reg: Registry):
        self.reg = reg
        self._head_ok: dict[tuple[int, bytes, bytes], bool] = {}

    # -- models ----------------------------------------------------------

    def home(self) -> dict[str, Any]:
        with self.reg._read() as s:
            rows = s.execute(select(Model.name, ModelVersion.version, Revocation.id)
                             .join(ModelVersion, ModelVersion.model_id == Model.id)
                             .outerjoin(Revocation, Revocation.model_version_id == ModelVersion.id)
                             .order_by(Model.name, ModelVersion.id)).all()
        models: dict[str, list[dict[str, Any]]] = {}
        for name, version, rev in rows:
            models.setdefault(name, []).append({"version": version, "revoked": rev is not None})
        vendors = {m["name"]: m["vendor"] for m in self.reg.list_models()}
        return {"models": [{"name": n, "vendor": vendors.get(n, "?"), "versions": v} for n, v in models.items()],
                "head": self.head()}

    def model(self, name: str) -> dict[str, Any]:
        m = self.reg.show_model(name)
        for v in m["versions"]:
            v["circuit"] = circuit_summary(v["summary"])
            v["signers"] = self._signers(name, v["version"])
        return m

    def version(self, name: str, version: str) -> dict[str, Any]:
        v = self.reg.show_version(name, version)
        v["circuit"] = circuit_summary(v["summary"])
        v["claimed_metrics"] = _json_or_text(v["model_card"]["claimed_metrics"])
        v["attestations"] = self.reg.attestations(name, version)
        v["signers"] = self._signers(name, version, v["attestations"])
        v["proofs"] = self.reg.proofs(name, version)
        return v

    def _signers(self, name: str, version: str, atts: list[dict[str, Any]] | None = None) -> list[dict[str, str]]:
        """Who signed what about this version: the vendor's publication, then co-signed statements."""
        seen: list[dict[str, str]] = []
        for a in atts if atts is not None else self.reg.attestations(name, version):
            what = "published it" if a["tag"] == "model-version" else f"signed a {a['tag']}"
            seen.extend({"name": who, "what": what, "log_index": a["log_index"]} for who in a["signers"])
        return seen

    def chain(self, name: str, version: str) -> dict[str, Any]:
        """The provenance chain of `name@version`: each §5 stage with its records and verdicts."""
        v = self.version(name, version)
        with self.reg._read() as s:
            datasets = s.scalar(select(func.count()).select_from(DatasetCommitment)) or 0
        stages = {key: [] for key, _, _ in CHAIN}
        stages["version"].append({
            "title": f"{name}@{version}", "verdict": "revoked" if v["revoked"] else "published",
            "ok": v["revoked"] is None, "log_index": v["log_index"],
            "detail": (f"revoked by {v['revoked']['by']}: {v['revoked']['reason']}" if v["revoked"] else
                       "the vendor's signature was checked by the registry before it was published")
                      + f"; weight commitment: {v['weight_commitment']['label']}"
                      + (f", superseded by {v['superseded_by']}" if v.get("superseded_by") else ""),
            "by": ", ".join(x["name"] for x in v["signers"] if x["what"] == "published it") or v["vendor"]})
        for p in v["proofs"]:
            status = p.get("status") or ("valid" if p["valid"] else "invalid")
            detail = (f"pending re-verification: {p['verifier_version']} was revoked" if status == "re-verify" else
                      f"{p['reason']} ({p['verifier_version']})")
            stages["inference" if p["statement"] in (None, "inference") else "audit"].append({
                "title": f"proof {p['proof_digest'][:16]}", "ok": status == "valid", "log_index": p["log_index"],
                "verdict": {"valid": "valid", "invalid": "not valid", "re-verify": "re-verify"}.get(status, status),
                "by": p["submitter"], "detail": detail})
        if v.get("provenance"):
            _provenance_stages(stages, v["provenance"])
        unlinked = {"dataset": datasets, "consent": datasets}
        return {"version": v, "stages": [{"key": k, "title": t, "about": a, "records": stages[k],
                                          "unlinked": unlinked.get(k, 0)} for k, t, a in CHAIN]}

    # -- datasets and consent ----------------------------------------------

    def datasets(self) -> list[dict[str, Any]]:
        with self.reg._read() as s:
            digests = list(s.scalars(select(DatasetCommitment.record_digest).order_by(DatasetCommitment.id)
                                     .limit(DATASETS_SHOWN)))
        return [self.reg.show_record(d) for d in digests]

    # -- revocations ---------------------------------------------------------

    def revocations(self) -> dict[str, list[dict[str, Any]] | None]:
        """Revoked model versions, vendor keys (from a time) and verifier versions, newest first.
        A kind whose table this registry does not have yet is None."""
        out: dict[str, list[dict[str, Any]] | None] = {}
        with self.reg._read() as s:
            out["versions"] = [{"model": r.model_version.model.name, "version": r.model_version.version,
                                "reason": r.reason, "by": r.signer.name, "role": r.signer.role, "at": r.created_at,
                                "log_index": r.log_index}
                               for r in s.scalars(select(Revocation).order_by(Revocation.log_index.desc()))]
            keys = getattr(tables, "KeyRevocation", None)
            out["keys"] = None if keys is None else [
                {"signer": r.signer.name, "role": r.signer.role, "from_time": r.from_time, "reason": r.reason,
                 "by": r.revoker.name, "at": r.created_at, "log_index": r.log_index}
                for r in s.scalars(select(keys).order_by(keys.log_index.desc()))]
            verifiers = getattr(tables, "VerifierRevocation", None)
            out["verifiers"] = None if verifiers is None else [
                {"verifier_version": r.verifier_version, "reason": r.reason, "by": r.revoker.name,
                 "at": r.created_at, "log_index": r.log_index}
                for r in s.scalars(select(verifiers).order_by(verifiers.log_index.desc()))]
        return out

    def versions(self) -> list[str]:
        """Every published NAME@VERSION (the check form's choices)."""
        with self.reg._read() as s:
            return [f"{n}@{v}" for n, v in s.execute(select(Model.name, ModelVersion.version)
                                                    .join(ModelVersion, ModelVersion.model_id == Model.id)
                                                    .order_by(Model.name, ModelVersion.id))]

    # -- the log -------------------------------------------------------------

    def head(self) -> dict[str, Any]:
        """The latest signed tree head, and whether its signature verifies under the registry key."""
        h = self.reg.head()
        sth = h["signed_head"]
        if sth is not None:
            head = SignedTreeHead.from_json(sth)
            k = (head.tree_size, head.root_hash, head.signature)
            if k not in self._head_ok:
                if len(self._head_ok) >= 64:  # a head per write: keep the cache small
                    self._head_ok.clear()
                try:
                    head.verify(bytes.fromhex(h["registry_public_key"]))
                    self._head_ok[k] = True
                except BadSignature:
                    self._head_ok[k] = False
            h["signature_ok"] = self._head_ok[k]
        return h

    def log(self, page: int) -> dict[str, Any]:
        head = self.head()
        size = head["log_size"]
        pages = max(1, -(-size // LOG_PAGE))
        page = min(max(page, 1), pages)
        hi = size - (page - 1) * LOG_PAGE  # newest first
        lo = max(0, hi - LOG_PAGE)
        with self.reg._read() as s:
            rows = s.execute(select(LogEntry.idx, LogEntry.kind, LogEntry.body)
                             .where(LogEntry.idx >= lo, LogEntry.idx < hi).order_by(LogEntry.idx.desc())).all()
        entries = []
        for idx, kind, body in rows:
            try:
                rec = decode(body)
            except EncodingError:
                rec = None  # verify-log reports it; the page still lists the entry
            entries.append({"index": idx, "kind": kind,
                            "label": _entry_label(kind, rec.get("record") if isinstance(rec, dict) else None),
                            "time": rec.get("time") if isinstance(rec, dict) else None})
        return {"head": head, "entries": entries, "page": page, "pages": pages}

    def entry(self, index: int) -> dict[str, Any]:
        """One entry, decoded, with its inclusion proof in the latest signed tree and that proof checked."""
        e = self.reg.entry(index)
        head = self.head()
        sth = head["signed_head"]
        inc = None
        if sth is not None and index < sth["tree_size"]:
            inc = self.reg.inclusion(index, sth["tree_size"])
            inc["ok"] = merkle.verify_inclusion(bytes.fromhex(inc["leaf_hash"]), index, sth["tree_size"],
                                                [bytes.fromhex(p) for p in inc["path"]],
                                                bytes.fromhex(sth["root_hash"]))
        return {"entry": e, "pretty": json.dumps(e["decoded"], indent=2, sort_keys=True, default=str),
                "head": head, "inclusion": inc}


def _json_or_text(text: str) -> Any:
    try:
        doc = json.loads(text)
    except (TypeError, ValueError):
        return text
    return doc if isinstance(doc, dict) else text
