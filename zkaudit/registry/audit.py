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
   revocation, dataset, consent table, consent proof) equals the record in the entry it points to, each such entry
   has its row, and stored circuit / commitment bytes hash to their digests;
6. optionally, a tree head saved earlier (`--since HEAD.json`) is a prefix of
   this log: an operator that rewrote history and re-signed is caught too;
7. the highest head this machine signed or verified (`known_heads`) is a
   prefix of this log: a tail deleted with its rows and heads is caught, and
   a log with no head at all fails (init always signs one).

`checked_version` applies the same checks to one model version in O(log n)
node reads plus one pass from its entry on: what `verify --model` and the
check endpoint use, so a deleted revocation row never un-revokes a version.

An exported copy (`zkaudit registry export`) is audited the same way, minus
the rows and stored nodes it does not contain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zkaudit.registry import log, merkle
from zkaudit.registry.encoding import EncodingError, decode, encode, sha256_hex
from zkaudit.registry.errors import BadSignature, LogMismatch
from zkaudit.registry.log import SignedTreeHead
from zkaudit.registry.models import (Attestation, Coin, ConsentProof, ConsentTable, DatasetCommitment, KeyRevocation,
                                     LinkProof, LogEntry, LogNode, Model, ModelVersion, Reverification, Revocation,
                                     Signer, SubmittedProof, TrainingProof, TrainingRun, TreeHead, VerifierRevocation)

ROW_KINDS = {"signer": Signer, "model": Model, "model-version": ModelVersion, "attestation": Attestation,
             "proof": SubmittedProof, "revocation": Revocation, "dataset": DatasetCommitment,
             "consent-table": ConsentTable, "consent-proof": ConsentProof, "key-revocation": KeyRevocation,
             "verifier-revocation": VerifierRevocation, "reverification": Reverification,
             "training-run": TrainingRun, "coin": Coin, "training-proof": TrainingProof, "link-proof": LinkProof}


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
                  since: SignedTreeHead | None = None,
                  known: SignedTreeHead | None = None) -> tuple[AuditReport, dict[int, tuple[str, Any]]]:
    """Checks 1-4 and 6 over (index, kind, body) in index order. Returns the
    report and each entry's decoded (kind, record) for the row checks.
    `since` is a head the caller saved; `known` the highest head this machine
    signed or saw (`known_heads`): the log must extend both."""
    rep = AuditReport()
    records: dict[int, tuple[str, Any]] = {}
    heads = sorted(heads, key=lambda h: h.tree_size)
    outside = {id(h): label for h, label in ((since, "saved"), (known, "highest known")) if h is not None}
    want_roots: dict[int, list[SignedTreeHead]] = {}
    for h in heads + [h for h in (since, known) if h is not None]:
        want_roots.setdefault(h.tree_size, []).append(h)
    fr = merkle.Frontier(0, [])
    last_good_head = 0
    tainted: set[merkle.Node] = set()
    logged_pk: bytes | None = None

    def check_roots(size: int) -> None:
        nonlocal last_good_head
        for h in want_roots.get(size, []):
            tag = outside.get(id(h), "signed")
            if fr.root() != h.root_hash:
                rep.problems.append((last_good_head, f"log does not match the {tag} tree head at size {size}: "
                                     f"entries {last_good_head}..{size - 1} were changed"))
            elif id(h) not in outside:
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
            tags = sorted({outside.get(id(h), "signed") for h in want_roots[size]})
            rep.problems.append((rep.size, f"the log has only {rep.size} entries but a {' and '.join(tags)} tree "
                                 f"head has size {size}: entries {rep.size}..{size - 1} were removed"))
    if rep.size == 0:
        rep.problems.append((0, "the log is empty: even a new registry logs its key as entry 0"))
    pk = registry_pk or logged_pk
    if not heads and rep.size:
        # init signs a head at size 1, so a log without any head had its heads deleted.
        rep.problems.append((0, "no signed tree head: the registry signs one at init, so the heads were deleted"))
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
    if registry_pk is not None and logged_pk is not None and registry_pk != logged_pk:
        rep.problems.append((0, "entry 0 names a different registry key than the pinned one"))
    return rep, records


def audit_session(s: Session, *, registry_pk: bytes | None = None, since: SignedTreeHead | None = None,
                  known: SignedTreeHead | None = None) -> AuditReport:
    entries = ((e.idx, e.kind, e.body) for e in s.execute(
        select(LogEntry.idx, LogEntry.kind, LogEntry.body).order_by(LogEntry.idx)))
    nodes = {(lv, ix): h for lv, ix, h in s.execute(select(LogNode.level, LogNode.idx, LogNode.hash))}
    heads = [SignedTreeHead(h.tree_size, h.root_hash, h.timestamp, h.signature) for h in s.scalars(select(TreeHead))]
    rep, records = audit_entries(entries, heads, nodes=nodes, registry_pk=registry_pk, since=since, known=known)
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
            if isinstance(row, ConsentTable) and sha256_hex(row.distinctness_proof) != \
                    row.doc.get("distinctness_proof"):
                rep.problems.append((row.log_index, f"{where}: stored distinctness proof is not the one its "
                                     "record names"))
            if isinstance(row, (SubmittedProof, ConsentProof, TrainingProof, LinkProof)) and \
                    sha256_hex(row.proof) != row.proof_digest:
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


def audit_export(doc: Any, *, registry_pk: bytes | None = None, since: SignedTreeHead | None = None,
                 known: SignedTreeHead | None = None) -> AuditReport:
    """Audit an exported copy. A document of the wrong shape raises ValueError."""
    if not isinstance(doc, dict) or doc.get("format") != "zkaudit-log-export/1":
        what = doc.get("format") if isinstance(doc, dict) else f"a JSON {type(doc).__name__}"
        raise ValueError(f"not a zkaudit log export (format {what!r})")
    if not isinstance(doc.get("entries"), list) or not isinstance(doc.get("tree_heads"), list):
        raise ValueError("entries and tree_heads must be lists")
    try:
        entries = [(int(e["index"]), str(e["kind"]), bytes.fromhex(e["body"])) for e in doc["entries"]]
        heads = [SignedTreeHead.from_json(h) for h in doc["tree_heads"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed entry or tree head ({type(exc).__name__}: {exc})") from None
    rep, _ = audit_entries(entries, heads, nodes=None, registry_pk=registry_pk, since=since, known=known)
    return rep


@dataclass(frozen=True)
class CheckedVersion:
    """A model version as the log vouches for it (`checked_version`)."""

    circuit_bin: bytes
    weight_commitment: bytes
    revoked: str | None  # the logged revocation's reason, if any
    head: SignedTreeHead  # the largest trusted head the entry was checked under


@dataclass(frozen=True)
class VersionScan:
    """Where a `checked_version` pass over the log stopped: the frontier at the
    trusted head it reached, so the next check of the same version hashes only
    the entries appended since (a server answering many checks of one version
    pays the pass once, not per request)."""

    log_index: int
    frontier: merkle.Frontier
    checked: CheckedVersion  # `revoked` here covers entries up to the head only
    published_at: int = 0  # the time in the version's log entry (key revocations count from it)


def checked_version(s: Session, mv: ModelVersion, *, registry_pk: bytes, known: SignedTreeHead | None = None,
                    verified_heads: set[SignedTreeHead] | None = None,
                    resume: VersionScan | None = None) -> tuple[CheckedVersion, VersionScan]:
    """Check one version's row and its revocation status against the log, in
    O(log n) node reads plus one pass over the entries from the version's own
    (from where `resume` stopped, when given).

    Let i = the version's entry, H = the latest head in the database (its
    signature verified under `registry_pk`, unless it is `known` or in
    `verified_heads`), K = `known`, and T the larger of H and K. The stored
    frontier nodes of D[0:i] plus the leaf hashes recomputed from the bodies
    of entries i..T-1 must give T's root: then (short of a hash collision)
    entry i and every entry after it up to T are the genuine ones. So:

    * entry i must be a model-version entry recording exactly this row, and
      the stored circuit and commitment must hash to its digests;
    * a revocation of this version can only be logged after i: every entry
      from i on is scanned (those past T too -- one found there can only
      refuse, never accept), so a deleted revocation *row* is still seen;
    * a deleted tail (rows, entries and heads) leaves fewer entries than K
      has, or a different root at K's size: refused.

    Raises `LogMismatch` (tampering, or a version no signed head covers yet)."""
    model, version, i = mv.model.name, mv.version, mv.log_index
    head = log.latest_head(s)
    trusted = [h for h in (head, known) if h is not None]
    if not trusted:
        raise LogMismatch("the log has no signed tree head to check the entry against (heads deleted?)", index=0)
    if head is not None and head != known and (verified_heads is None or head not in verified_heads):
        try:
            head.verify(registry_pk)
        except BadSignature:
            raise LogMismatch(f"the tree head at size {head.tree_size} is not signed by the registry key",
                              index=head.tree_size) from None
        if verified_heads is not None:
            verified_heads.add(head)
    top = max(trusted, key=lambda h: h.tree_size)
    n = log.size(s)
    if top.tree_size > n:
        raise LogMismatch(f"the log has only {n} entries but a {'known' if top is known else 'signed'} tree head "
                          f"has size {top.tree_size}: entries {n}..{top.tree_size - 1} were removed", index=n)
    if not 0 <= i < top.tree_size:
        raise LogMismatch(f"{model}@{version} is not covered by a signed tree head yet (the latest has size "
                          f"{top.tree_size}): the registry key's holder signs one after each write, or run "
                          "`zkaudit registry head --sign`", index=i)
    if resume is not None and (resume.log_index != i or resume.frontier.size > top.tree_size):
        resume = None  # another row now, or the heads went backwards: start over (and fail if it was tampering)
    start = i if resume is None else resume.frontier.size
    for h in trusted:
        if h is not top and h.tree_size < start:
            proof = log.consistency_proof(s, h.tree_size, top.tree_size)
            if not merkle.verify_consistency(h.tree_size, top.tree_size, h.root_hash, top.root_hash, proof):
                raise LogMismatch(f"the log does not extend the tree head at size {h.tree_size}", index=h.tree_size)
    want = {h.tree_size: h.root_hash for h in trusted if h.tree_size >= start}
    if resume is None:
        prefix = merkle.decompose(0, i)
        nodes = log.fetch_nodes(s, set(prefix))
        fr = merkle.Frontier(i, [nodes[k] for k in prefix])
        revoked: str | None = None
    else:
        fr, revoked = resume.frontier.copy(), resume.checked.revoked
    published_at = mv.created_at if resume is None else resume.published_at
    vendor_pk = mv.model.vendor.public_key
    if start in want and fr.root() != want.pop(start):
        raise LogMismatch(f"the log up to entry {start - 1} does not match the tree head at size {start}",
                          index=min(i, start))
    tail_revoked: str | None = None  # found past T: honoured, not cached
    rows = s.execute(select(LogEntry.idx, LogEntry.body).where(LogEntry.idx >= start).order_by(LogEntry.idx))
    for pos, (idx, body) in enumerate(rows, start=start):
        if idx != pos:
            raise LogMismatch(f"entry {pos} is missing (next stored entry is {idx})", index=pos)
        if (pos == i and resume is None) or b"revocation" in body:  # the kind is a raw string in a revocation
            try:
                doc = decode(body)
                kind, record = doc["kind"], doc["record"]
            except (EncodingError, TypeError, KeyError):
                raise LogMismatch(f"entry {pos} is not a canonical log entry", index=pos) from None
            if pos == i and (kind != "model-version" or encode(record) != encode(mv.record())):
                raise LogMismatch(f"{model}@{version} differs from its log entry {i}", index=i)
            if pos == i and isinstance(doc.get("time"), int):
                published_at = doc["time"]
            why = revocation_reason(kind, record, model=model, version=version, vendor=vendor_pk,
                                    published_at=published_at)
            if why is not None:
                if pos < top.tree_size:
                    revoked = revoked or why
                else:
                    tail_revoked = tail_revoked or why
        if pos < top.tree_size:  # past T nothing is hashed: the frontier stays at T for `resume`
            fr.append(merkle.leaf_hash(body))
            if fr.size in want and fr.root() != want.pop(fr.size):
                raise LogMismatch(f"entries {i}..{fr.size - 1} do not match the signed tree head at size "
                                  f"{fr.size}", index=i)
    if want:  # a trusted size the entries did not reach (rows vanished while we read)
        raise LogMismatch(f"the log ends before the tree head at size {min(want)}", index=fr.size)
    if resume is None:
        if sha256_hex(mv.circuit_bin) != mv.circuit_digest or \
                sha256_hex(mv.weight_commitment) != mv.weight_commitment_digest:
            raise LogMismatch(f"{model}@{version}: stored circuit or weight commitment does not hash to its "
                              "logged digest", index=i)
        circuit_bin, commitment = mv.circuit_bin, mv.weight_commitment
    else:  # the bytes verified when the scan began; later edits to the row do not reach a check
        circuit_bin, commitment = resume.checked.circuit_bin, resume.checked.weight_commitment
    at_top = CheckedVersion(circuit_bin, commitment, revoked, top)
    return (CheckedVersion(circuit_bin, commitment, revoked or tail_revoked, top),
            VersionScan(i, fr, at_top, published_at))


def revocation_reason(kind: str, record: Any, *, model: str, version: str, vendor: bytes,
                      published_at: int) -> str | None:
    """Why a logged entry (kind, record) revokes model@version published by
    `vendor` at `published_at`; None if it does not. One rule for the
    registry's own check and for remote clients (`remote.py`)."""
    if not isinstance(record, dict):
        return None
    if kind == "revocation" and (record.get("model"), record.get("version")) == (model, version):
        return str(record.get("reason"))
    if kind == "key-revocation" and record.get("public_key") == vendor and \
            isinstance(record.get("from_time"), int) and record["from_time"] <= published_at:
        return (f"the vendor key {vendor.hex()[:16]}... was revoked from {record['from_time']} "
                f"(before this version was published): {record.get('reason')}")
    return None
