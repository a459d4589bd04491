"""`verify-log`: recompute the transparency log and everything it covers.

Checks, in log order, each reported against the first entry that fails:

1. entries are numbered 0, 1, 2, ... with no gap (a deleted row shows as a gap);
2. each body decodes canonically and names its own index and kind (a
   reordered or renumbered row carries the wrong index);
3. each stored leaf hash and every stored subtree node equals the hash
   recomputed from the bodies (a forged node would serve false proofs);
4. each signed tree head's root equals the recomputed root at its size, and
   the latest head's signature verifies under the registry key logged in
   entry 0 (or a pinned key); a rewrite that recomputed every hash still
   fails here, between the last matching head and the first failing one;
5. every registry row (signer, model, version, attestation, proof,
   revocation) equals the record in the entry it points to, each such entry
   has its row, and stored circuit / commitment bytes hash to their digests;
6. optionally, a tree head saved earlier (`--since HEAD.json`) is a prefix of
   this log: an operator that rewrote history and re-signed is caught too.

An exported copy (`zkaudit registry export`) is audited the same way, minus
the rows and stored nodes it does not contain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zkaudit.registry import merkle
from zkaudit.registry.encoding import EncodingError, decode, encode, sha256_hex
from zkaudit.registry.errors import BadSignature
from zkaudit.registry.log import SignedTreeHead
from zkaudit.registry.models import (Attestation, LogEntry, LogNode, Model, ModelVersion, Revocation, Signer,
                                     SubmittedProof, TreeHead)

ROW_KINDS = {"signer": Signer, "model": Model, "model-version": ModelVersion, "attestation": Attestation,
             "proof": SubmittedProof, "revocation": Revocation}


@dataclass
class AuditReport:
    size: int = 0
    heads_checked: int = 0
    rows_checked: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> tuple[int, str] | None:
        """The earliest entry shown not to match. A head mismatch only bounds
        where the change is; it is reported when nothing more precise is known."""
        precise = [p for p in self.problems if not p[1].startswith("log does not match")]
        pool = precise or self.problems
        return min(pool, key=lambda p: p[0]) if pool else None

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {"ok": self.ok, "log_size": self.size, "heads_checked": self.heads_checked,
                "rows_checked": self.rows_checked,
                "first_bad_entry": None if first is None else {"index": first[0], "reason": first[1]},
                "problems": len(self.problems), "notes": self.notes}


def audit_entries(entries: Iterable[tuple[int, str, bytes]], heads: list[SignedTreeHead], *,
                  nodes: dict[merkle.Node, bytes] | None, registry_pk: bytes | None,
                  since: SignedTreeHead | None = None) -> tuple[AuditReport, dict[int, tuple[str, Any]]]:
    """Checks 1-4 and 6 over (index, kind, body) in index order. Returns the
    report and each entry's decoded (kind, record) for the row checks."""
    rep = AuditReport()
    records: dict[int, tuple[str, Any]] = {}
    heads = sorted(heads, key=lambda h: h.tree_size)
    want_roots: dict[int, list[SignedTreeHead]] = {}
    for h in heads + ([since] if since else []):
        want_roots.setdefault(h.tree_size, []).append(h)
    fr = merkle.Frontier(0, [])
    last_good_head = 0
    tainted: set[merkle.Node] = set()
    logged_pk: bytes | None = None

    def check_roots(size: int) -> None:
        nonlocal last_good_head
        for h in want_roots.get(size, []):
            tag = "saved" if h is since else "signed"
            if fr.root() != h.root_hash:
                rep.problems.append((last_good_head, f"log does not match the {tag} tree head at size {size}: "
                                     f"entries {last_good_head}..{size - 1} were changed"))
            elif h is not since:
                last_good_head = size
                rep.heads_checked += 1

    check_roots(0)
    for pos, (idx, kind, body) in enumerate(entries):
        if idx != pos:
            rep.problems.append((pos, f"entry {pos} is missing (next stored entry is {idx})"))
            return rep, records
        try:
            doc = decode(body)
            if not isinstance(doc, dict) or set(doc) != {"index", "kind", "time", "record"}:
                raise EncodingError("not a log entry")
        except EncodingError as exc:
            rep.problems.append((idx, f"entry {idx} body is not a canonical log entry: {exc}"))
            doc = None
        if doc is not None:
            if doc["index"] != idx:
                rep.problems.append((idx, f"entry {idx} is out of place: its body says index {doc['index']}"))
            if doc["kind"] != kind:
                rep.problems.append((idx, f"entry {idx} kind column {kind!r} differs from its body ({doc['kind']!r})"))
            records[idx] = (doc["kind"], doc["record"])
            if idx == 0 and doc["kind"] == "registry":
                logged_pk = doc["record"].get("public_key")
        for lv, ix, h in fr.append(merkle.leaf_hash(body)):
            if nodes is not None and nodes.get((lv, ix)) != h:
                # Report a wrong node only where it starts: its parents are wrong because of it.
                tainted.add((lv, ix))
                if lv == 0 or not {(lv - 1, 2 * ix), (lv - 1, 2 * ix + 1)} & tainted:
                    what = "leaf hash" if lv == 0 else f"tree node (level {lv}, index {ix})"
                    rep.problems.append((ix << lv, f"stored {what} does not match the entries it covers"))
        rep.size = pos + 1
        check_roots(rep.size)
    for size in sorted(want_roots):
        if size > rep.size:
            rep.problems.append((rep.size, f"a tree head has size {size} but the log has only {rep.size} entries"))
    pk = registry_pk or logged_pk
    if heads:
        latest = heads[-1]
        if pk is None:
            rep.problems.append((0, "no registry public key to check tree-head signatures with"))
        else:
            try:
                latest.verify(pk)
            except BadSignature:
                rep.problems.append((min(latest.tree_size, rep.size), f"signature on the tree head at size "
                                     f"{latest.tree_size} does not verify under the registry key"))
        if latest.tree_size < rep.size:
            rep.notes.append(f"entries {latest.tree_size}..{rep.size - 1} are not yet covered by a signed tree head")
    else:
        rep.notes.append("no signed tree head yet")
    if registry_pk is not None and logged_pk is not None and registry_pk != logged_pk:
        rep.problems.append((0, "entry 0 names a different registry key than the pinned one"))
    return rep, records


def audit_session(s: Session, *, registry_pk: bytes | None = None, since: SignedTreeHead | None = None) -> AuditReport:
    entries = ((e.idx, e.kind, e.body) for e in s.execute(
        select(LogEntry.idx, LogEntry.kind, LogEntry.body).order_by(LogEntry.idx)))
    nodes = {(lv, ix): h for lv, ix, h in s.execute(select(LogNode.level, LogNode.idx, LogNode.hash))}
    heads = [SignedTreeHead(h.tree_size, h.root_hash, h.timestamp, h.signature) for h in s.scalars(select(TreeHead))]
    rep, records = audit_entries(entries, heads, nodes=nodes, registry_pk=registry_pk, since=since)
    _audit_rows(s, rep, records)
    return rep


def _audit_rows(s: Session, rep: AuditReport, records: dict[int, tuple[str, Any]]) -> None:
    covered: set[int] = set()
    for kind, model in ROW_KINDS.items():
        for row in s.scalars(select(model)):
            rep.rows_checked += 1
            where = f"{model.__tablename__} row id={row.id}"
            logged = records.get(row.log_index)
            if logged is None or logged[0] != kind:
                rep.problems.append((row.log_index, f"{where} points to log entry {row.log_index}, "
                                     f"which is not a {kind} entry"))
                continue
            covered.add(row.log_index)
            if encode(row.record()) != encode(logged[1]):
                diff = [k for k in row.record() if row.record().get(k) != logged[1].get(k)]
                rep.problems.append((row.log_index, f"{where} differs from log entry {row.log_index} "
                                     f"in {', '.join(diff) or 'its fields'}"))
            if isinstance(row, ModelVersion):
                if sha256_hex(row.circuit_bin) != row.circuit_digest:
                    rep.problems.append((row.log_index, f"{where}: stored circuit does not hash to its digest"))
                if sha256_hex(row.weight_commitment) != row.weight_commitment_digest:
                    rep.problems.append((row.log_index, f"{where}: stored weight commitment does not hash to its digest"))
            if isinstance(row, SubmittedProof) and sha256_hex(row.proof) != row.proof_digest:
                rep.problems.append((row.log_index, f"{where}: stored proof does not hash to its digest"))
    for idx, (kind, _) in records.items():
        if kind in ROW_KINDS and idx not in covered:
            rep.problems.append((idx, f"log entry {idx} records a {kind} whose row is missing"))


def export(s: Session) -> dict[str, Any]:
    """A self-contained copy of the log for independent auditors."""
    return {
        "format": "zkaudit-log-export/1",
        "entries": [{"index": i, "kind": k, "body": b.hex()} for i, k, b in
                    s.execute(select(LogEntry.idx, LogEntry.kind, LogEntry.body).order_by(LogEntry.idx))],
        "tree_heads": [SignedTreeHead(h.tree_size, h.root_hash, h.timestamp, h.signature).to_json()
                       for h in s.scalars(select(TreeHead).order_by(TreeHead.tree_size))],
    }


def audit_export(doc: dict[str, Any], *, registry_pk: bytes | None = None,
                 since: SignedTreeHead | None = None) -> AuditReport:
    if doc.get("format") != "zkaudit-log-export/1":
        raise ValueError(f"not a zkaudit log export (format {doc.get('format')!r})")
    entries = ((int(e["index"]), str(e["kind"]), bytes.fromhex(e["body"])) for e in doc["entries"])
    heads = [SignedTreeHead.from_json(h) for h in doc["tree_heads"]]
    rep, _ = audit_entries(entries, heads, nodes=None, registry_pk=registry_pk, since=since)
    return rep
