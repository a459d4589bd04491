"""`zkaudit registry revocations | show | list | head | export | verify-log`:
reading a registry and auditing its log.

Split out of `cli/registry.py`, which defines the `registry` group, its
shared options and `open_registry`; it imports this module, whose decorators
add the commands to the group in the order `registry --help` lists them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from zkaudit.cli.registry import JSON, REGISTRY, REGISTRY_KEY, _pubkey, emit, open_registry, registry_app
from zkaudit.errors import ZkauditError


@registry_app.command("revocations")
def revocations(registry: str = REGISTRY, as_json: bool = JSON) -> None:
    """List every revocation: model versions, signer keys (from a time), verifier versions."""
    from zkaudit.registry.remote import open_registry as open_any

    doc = open_any(registry).revocations()
    lines = [f"model {r['model']}@{r['version']}: {r['reason']} (by {r['by']}, log entry {r['log_index']})"
             for r in doc["model_versions"]]
    lines += [f"key {r['signer']} ({r['public_key'][:16]}...) from {r['from_time']}: {r['reason']} (by {r['by']}, "
              f"log entry {r['log_index']})" for r in doc["keys"]]
    lines += [f"verifier {r['verifier_version']!r}: {r['reason']} (by {r['by']}, log entry {r['log_index']})"
              for r in doc["verifiers"]]
    emit(as_json, doc, "\n".join(lines) or "no revocations")


@registry_app.command("show")
def show(ref: str = typer.Argument(..., help="NAME, NAME@VERSION (or NAME@latest, NAME@ALIAS), or the digest "
                                             "(8-64 hex digits) of a dataset record, consent-table record, "
                                             "consent proof, training run, training proof or link proof."),
         registry: str = REGISTRY, as_json: bool = JSON) -> None:
    """Show a model (all versions) or one version with its attestations and provenance;
    or the consent chain of a record: dataset -> consent table version -> consent proof,
    with verdicts and "consent changed" where a newer table version exists; or the
    training chain of a run: dataset, consent, policy, coin, epsilon, training and link
    verdicts in plain words."""
    from zkaudit.registry.remote import open_registry as open_any

    from zkaudit.cli._registry_training import provenance_lines, runs_text, training_text

    reg = open_any(registry)
    if "@" not in ref and reg.is_chain_ref(ref):
        doc = reg.show_record(ref)
        text = _chain_text(doc)
        if doc["kind"] == "dataset" and hasattr(reg, "training_runs"):  # a served registry: no such read yet
            doc["training_runs"] = reg.training_runs(dataset=doc["record"]["record_digest"])
            text += "\n" + runs_text(doc["training_runs"])
        emit(as_json, doc, text)
        return
    if "@" not in ref and reg.is_training_ref(ref):  # local database or served registry (GET /v1/training)
        doc = reg.show_training(ref)
        emit(as_json, doc, training_text(doc))
        return
    if "@" in ref:
        from zkaudit.api import resolve_model_ref

        name, version = resolve_model_ref(reg, ref)  # NAME@latest and NAME@ALIAS show the version they name
        doc = {**reg.show_version(name, version), "attestations": reg.attestations(name, version),
               "proofs": reg.proofs(name, version)}
        versions = [doc]
    else:
        doc = reg.show_model(ref)
        versions = doc["versions"]
    lines = []
    for v in versions:
        state = "REVOKED: " + v["revoked"]["reason"] if v["revoked"] else "active"
        lines.append(f"{v['model']}@{v['version']}  vendor {v['vendor']}  {state}\n"
                     f"  circuit {v['circuit_digest']}\n  commitment {v['weight_commitment_digest']}\n"
                     f"  weights: {_commitment_words(v)}")
        if v.get("supersedes"):
            lines.append(f"  supersedes {v['supersedes']} (same circuit, hiding weight commitment)")
        if v.get("superseded_by"):
            lines.append(f"  superseded by {v['superseded_by']} (hiding weight commitment)")
        lines.append(f"  intended use: {v['model_card']['intended_use'] or '-'}\n"
                     f"  claimed metrics: {json.dumps(v['model_card']['claimed_metrics'])}")
        if not as_json:
            from zkaudit.onnx.fidelity import fidelity_lines

            lines += ["  " + line for line in fidelity_lines(v.get("summary"))]
            if "provenance" in v:  # a served registry that predates the training chain sends none
                lines += provenance_lines(v["provenance"])
    for p in doc.get("proofs", []):  # NAME@VERSION: its submitted proofs, with the cascade's status
        why = f" (verifier revoked: {p['verifier_revoked']})" if p.get("verifier_revoked") else ""
        lines.append(f"  proof {p['proof_digest'][:16]}...  {p.get('status', 'valid' if p['valid'] else 'invalid')}"
                     f"  by {p['submitter']}, {p['verifier_version']}{why}")
    emit(as_json, doc, "\n".join(lines))


def _commitment_words(v: dict) -> str:
    """A version's weight commitment in words (a served registry that
    predates the labels sends none)."""
    from zkaudit.registry.weight_commitments import one_line

    doc = v.get("weight_commitment")
    return one_line(doc) if isinstance(doc, dict) and "label" in doc else "not described by this registry"


def _chain_text(doc: dict) -> str:
    def ds(d: dict) -> str:
        return (f"dataset {d['record_digest']}  {d['rows']} records, ID column {d['id_column']}, schema "
                f"{d['schema_digest'][:16]}..., custodian {d['custodian']} (log entry {d['log_index']})")

    def tb(t: dict) -> str:
        state = "current" if t["current"] else \
            f"SUPERSEDED by v{t['superseded_by'][-1]['version']} {t['superseded_by'][-1]['record_digest'][:16]}..."
        return (f"consent table v{t['version']} {t['record_digest']}  purpose {t['purpose']}, {t['rows']} IDs, "
                f"IRB {t['irb']} (log entry {t['log_index']}): {state}")

    def pf(p: dict) -> list[str]:
        verdict = "VALID" if p["valid"] else "INVALID"
        zk = "zero-knowledge" if p["zero_knowledge"] else "NOT ZERO-KNOWLEDGE" + (
            " (published with --allow-not-zero-knowledge: synthetic or public data only)"
            if p["allow_not_zero_knowledge"] else "")
        lines = [f"consent proof {p['proof_digest']}  {verdict} ({p['verifier_version']}), unique IDs "
                 f"{'proven' if p['unique_ids'] else 'not proven'}, {zk}, prover {p['prover']} "
                 f"(log entry {p['log_index']})"]
        lines.append(f"  CONSENT CHANGED: {p['consent_changed'].removeprefix('consent changed: ')}"
                     if p["consent_changed"] else "  consent: current table version")
        return lines

    rec = doc["record"]
    head = {"dataset": ds, "consent-table": tb}.get(doc["kind"])
    out = [head(rec)] if head else []
    if doc["kind"] == "dataset":
        out.append(f"consent: {doc['consent'].upper() if doc['consent'] == 'consent changed' else doc['consent']}")
    for c in doc["chains"]:
        out += ["", ds(c["dataset"]), "  -> " + tb(c["consent_table"]),
                *("       " + line if i else "     -> " + line for i, line in enumerate(pf(c["consent_proof"])))]
    if not doc["chains"]:
        out.append("no consent proof over it yet")
    return "\n".join(out)


@registry_app.command("list")
def list_(registry: str = REGISTRY, as_json: bool = JSON) -> None:
    """List models and versions."""
    from zkaudit.registry.remote import open_registry as open_any

    from zkaudit.registry.weight_commitments import LABELS

    models = open_any(registry).list_models()

    def version(m: dict, v: str) -> str:
        kind = m.get("weight_commitments", {}).get(v)
        return f"{v} [weights: {LABELS[kind]}]" if kind in LABELS else v

    emit(as_json, models, "\n".join(f"{m['name']}  ({m['vendor']}): {', '.join(version(m, v) for v in m['versions'])}"
                                    for m in models) or "no models")


@registry_app.command("head")
def head(registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY,
         sign: bool = typer.Option(False, "--sign", help="Sign a head for the current size first (needs the key)."),
         as_json: bool = JSON) -> None:
    """Print the latest signed tree head (save it to audit later with verify-log --since)."""
    reg = open_registry(registry, registry_key, need_key=sign)
    if sign:
        reg.sign_head()
    doc = reg.head()
    sth = doc["signed_head"]
    emit(as_json, doc, f"log size {doc['log_size']}; " + (
        f"signed head: size {sth['tree_size']} root {sth['root_hash']}" if sth else "no signed head yet"))


@registry_app.command("export")
def export(out: Path = typer.Option(..., "--out", help="JSON file to write."), registry: str = REGISTRY) -> None:
    """Write the log and its signed heads to a file that anyone can audit offline."""
    from zkaudit.registry.remote import open_registry as open_any

    doc = open_any(registry).export_log()
    out.write_text(json.dumps(doc))
    typer.echo(f"wrote {len(doc['entries'])} entries to {out}")


@registry_app.command("verify-log")
def verify_log(
    registry: str = REGISTRY,
    export_file: Path = typer.Option(None, "--export", help="Audit an exported copy instead of a database."),
    pubkey: str = typer.Option(None, "--registry-pubkey", help="Pin the registry public key (96 hex digits)."),
    since: Path = typer.Option(None, "--since", help="A head saved earlier (`registry head --json`); it must be a prefix."),
    as_json: bool = JSON,
) -> None:
    """Recompute the log and every row it covers; exit 1 at the first entry that does not match.

    The log must also extend the highest tree head this machine has signed or
    verified for the registry (kept in $ZKAUDIT_KNOWN_HEADS, default
    ~/.local/state/zkaudit/known-heads.json), so a deleted tail is caught; a
    log that passes has its latest head remembered there."""
    from zkaudit.registry.errors import LogMismatch
    from zkaudit.registry.known_heads import KnownHeads
    from zkaudit.registry.log import SignedTreeHead
    from zkaudit.registry.remote import open_registry as open_any

    from zkaudit.registry.audit import audit_export

    pk = _pubkey(pubkey)
    saved = None
    if since is not None:
        doc = _read_json(since, "--since", "a head saved with `zkaudit registry head --json`")
        try:
            saved = SignedTreeHead.from_json(doc.get("signed_head", doc) if isinstance(doc, dict) else doc)
        except ValueError as exc:
            raise ZkauditError(f"--since {since}: {exc}", hint="save one with `zkaudit registry head --json`") from None
    if export_file is not None:
        doc = _read_json(export_file, "--export", "an export written by `zkaudit registry export`")
        try:
            owner = pk or bytes.fromhex(doc["registry_public_key"]) if isinstance(doc, dict) else pk
        except (KeyError, TypeError, ValueError):
            owner = pk
        store = KnownHeads.default()
        known = store.get(owner) if store is not None and owner is not None else None
        try:
            rep = audit_export(doc, registry_pk=pk, since=saved, known=known)
        except ValueError as exc:
            raise ZkauditError(f"{export_file} is not a zkaudit log export: {exc}") from None
    else:
        rep = open_any(registry).verify_log(registry_pk=pk, since=saved)
    first = rep.first
    text = (f"log OK: {rep.size} entries, {rep.heads_checked} signed heads, {rep.rows_checked} rows"
            if first is None else f"log MISMATCH at entry {first[0]}: {first[1]}"
            + (f" (+{len(rep.problems) - 1} more problems)" if len(rep.problems) > 1 else ""))
    if first is None or as_json:
        emit(as_json, rep.to_json(), "\n".join([text, *(f"note: {n}" for n in rep.notes)]))
    if first is not None:
        raise LogMismatch(text.removeprefix("log MISMATCH at entry ").split(": ", 1)[-1], index=first[0])


def _read_json(path: Path, option: str, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ZkauditError(f"{option} {path}: no such file", hint=f"expected {what}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ZkauditError(f"{option} {path} is not JSON: {exc}", hint=f"expected {what}") from None
