"""`zkaudit registry ...`: create, serve, publish to, read and audit a registry.

Every command takes `--registry URL_OR_PATH` (default `$ZKAUDIT_REGISTRY_URL`,
else ./zkaudit-registry.db). Commands that write sign the new tree head when
the registry key is at hand (`--registry-key`, default next to a SQLite file).
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import typer

from zkaudit.errors import ZkauditError
from zkaudit.registry import keys as bls
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.errors import LogMismatch
from zkaudit.registry.known_heads import KnownHeads
from zkaudit.registry.client import card_from, publish_local
from zkaudit.registry.log import SignedTreeHead
from zkaudit.registry.records import revocation, revocation_message
from zkaudit.registry.store import Registry, default_key_path
from zkaudit.registry.views import parse_ref

registry_app = typer.Typer(name="registry", help="The public model registry.", no_args_is_help=True)

REGISTRY = typer.Option(None, "--registry", help="Database: a SQLite path or postgresql:// URL, not the "
                        "http:// address of a served registry (default $ZKAUDIT_REGISTRY_URL, else "
                        "./zkaudit-registry.db).")
REGISTRY_KEY = typer.Option(None, "--registry-key", help="The registry's own keystore, used to sign tree heads "
                            "(default: REGISTRY.key beside a SQLite file, ./zkaudit-registry.key otherwise).")
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


def emit(as_json: bool, doc: Any, text: str) -> None:
    typer.echo(json.dumps(doc, indent=2, sort_keys=True) if as_json else text)


def open_registry(url: str | None, key_path: Path | None = None, *, need_key: bool = False) -> Registry:
    reg = Registry(url)
    path = key_path or default_key_path(reg.url)
    if key_path is not None or path.exists() or need_key:
        reg.key = bls.read_keystore(path)
        if reg.key.public_key != reg.public_key:
            raise ZkauditError(f"{path} is not this registry's key")
    return reg


@registry_app.command("init")
def init(registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Create the registry database (or bring it up to date) and its signing key."""
    reg, created, key_path = Registry.init(registry, registry_key)
    doc = {"registry": reg.url, "created": created, "registry_key": str(key_path),
           "registry_public_key": reg.public_key.hex()}
    emit(as_json, doc, f"{'created' if created else 'already initialised'}: {reg.url}\n"
         f"registry key: {key_path}\npublic key:   {reg.public_key.hex()}")


@registry_app.command("upgrade")
def upgrade(registry: str = REGISTRY, as_json: bool = JSON) -> None:
    """Apply pending schema migrations."""
    from zkaudit.registry import db

    reg = Registry(registry, check=False)
    before, after = db.upgrade(reg.engine)
    emit(as_json, {"registry": reg.url, "from": before, "to": after}, f"schema {before} -> {after}")


@registry_app.command("serve")
def serve(registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY,
          host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="TCP port, 0-65535 (0 picks a free one)."),
          max_body: int = typer.Option(16 * 1024 * 1024, help="Largest accepted request body, bytes (at least 1)."),
          check_workers: int = typer.Option(min(2, os.cpu_count() or 1), help="Verifier worker processes: proofs "
                                            "are checked there, one at a time each."),
          check_timeout: float = typer.Option(60.0, help="Seconds one proof check may take before its worker is "
                                              "killed and the request answered 422."),
          check_memory: int = typer.Option(2048, help="MiB of memory one proof check may use on top of a "
                                           "worker's own footprint (422 beyond it).")) -> None:
    """Run the HTTP API (OpenAPI schema at /openapi.json, docs at /docs)."""
    problems = []
    if not 0 <= port <= 65535:
        problems.append(f"--port must be 0-65535, not {port}")
    if max_body < 1:
        problems.append(f"--max-body must be at least 1 byte, not {max_body}")
    if check_workers < 1:
        problems.append(f"--check-workers must be at least 1, not {check_workers}")
    if not check_timeout > 0:
        problems.append(f"--check-timeout must be positive, not {check_timeout}")
    if check_memory < 1:
        problems.append(f"--check-memory must be at least 1 MiB, not {check_memory}")
    if problems:
        raise ZkauditError("; ".join(problems))
    import uvicorn

    from zkaudit.registry.api import create_app
    from zkaudit.registry.sandbox import Budget, VerifierPool

    reg = open_registry(registry, registry_key, need_key=True)
    sock = _listen(host, port)
    pool = VerifierPool(check_workers, Budget(seconds=check_timeout, memory_bytes=check_memory << 20))
    reg.verifier, reg.signatures = pool.verify, pool.verify_signatures
    try:
        config = uvicorn.Config(create_app(reg, max_body=max_body), log_level="info")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        pool.close()
        sock.close()


def _listen(host: str, port: int):
    """Bind the server's socket here, so a busy port or an unknown host is one
    clear line (exit 2) instead of uvicorn's log and exit 3."""
    import socket

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ZkauditError(f"cannot listen on {host}: {exc.strerror}", hint="give --host an address of this "
                           "machine, e.g. 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        hint = "another process is listening there; stop it or pick another --port (0 picks a free one)" \
            if exc.errno == errno.EADDRINUSE else None
        raise ZkauditError(f"cannot listen on {host}:{port}: {exc.strerror}", hint=hint) from None
    sock.set_inheritable(True)
    return sock


@registry_app.command("publish")
def publish(
    model_dir: Path = typer.Argument(..., help="Compiled model directory (only DIR/public/ is read)."),
    name: str = typer.Option(..., "--name", help="Model name."),
    version: str = typer.Option(..., "--version", help="Version label; an existing NAME+VERSION is refused."),
    key: Path = typer.Option(..., "--key", help="Vendor keystore (registered with its proof of possession on first use)."),
    intended_use: str = typer.Option("", help="Model card: intended use."),
    training_data: str = typer.Option("", help="Model card: training data description."),
    metrics: str = typer.Option("{}", help="Model card: claimed metrics as a JSON object."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish a compiled model version, signed by the vendor key."""
    try:
        claimed = json.loads(metrics)
    except ValueError as exc:
        raise ZkauditError(f"--metrics is not JSON: {exc}") from None
    art = read_model_dir(model_dir)
    vendor = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = publish_local(reg, vendor, art, name, version, card_from(intended_use, training_data, claimed))
    emit(as_json, out, f"published {name}@{version} by {out['vendor']}\ncircuit digest: {out['circuit_digest']}\n"
         f"log entry:      {out['log_index']}")


@registry_app.command("register-signer")
def register_signer(key: Path = typer.Option(..., "--key", help="The signer's keystore."),
                    role: str = typer.Option("regulator", help="vendor or regulator."),
                    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Register a signer (operator action, e.g. admitting a regulator)."""
    k = bls.read_keystore(key)
    out = open_registry(registry, registry_key).register_signer(name=k.name, role=role, public_key=k.public_key,
                                                                pop=k.proof_of_possession())
    emit(as_json, out, f"registered {role} {k.name}")


@registry_app.command("revoke")
def revoke(ref: str = typer.Argument(..., help="NAME@VERSION"), reason: str = typer.Option(..., help="Why."),
           key: Path = typer.Option(..., "--key", help="Vendor or regulator keystore."),
           registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Withdraw a model version with a signed reason."""
    name, version = parse_ref(ref)
    k = bls.read_keystore(key)
    sig = k.sign(revocation_message(revocation(model=name, version=version, reason=reason)))
    out = open_registry(registry, registry_key).revoke(model=name, version=version, reason=reason,
                                                       signer=k.public_key, signature=sig)
    emit(as_json, out, f"revoked {ref}: {reason}")


@registry_app.command("show")
def show(ref: str = typer.Argument(..., help="NAME or NAME@VERSION"), registry: str = REGISTRY,
         as_json: bool = JSON) -> None:
    """Show a model (all versions) or one version with its attestations."""
    reg = Registry(registry)
    if "@" in ref:
        name, version = parse_ref(ref)
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
                     f"  intended use: {v['model_card']['intended_use'] or '-'}\n"
                     f"  claimed metrics: {json.dumps(v['model_card']['claimed_metrics'])}")
    emit(as_json, doc, "\n".join(lines))


@registry_app.command("list")
def list_(registry: str = REGISTRY, as_json: bool = JSON) -> None:
    """List models and versions."""
    models = Registry(registry).list_models()
    emit(as_json, models, "\n".join(f"{m['name']}  ({m['vendor']}): {', '.join(m['versions'])}" for m in models)
         or "no models")


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
    doc = Registry(registry).export_log()
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
        rep = Registry(registry).verify_log(registry_pk=pk, since=saved)
    first = rep.first
    text = (f"log OK: {rep.size} entries, {rep.heads_checked} signed heads, {rep.rows_checked} rows"
            if first is None else f"log MISMATCH at entry {first[0]}: {first[1]}"
            + (f" (+{len(rep.problems) - 1} more problems)" if len(rep.problems) > 1 else ""))
    if first is None or as_json:
        emit(as_json, rep.to_json(), "\n".join([text, *(f"note: {n}" for n in rep.notes)]))
    if first is not None:
        raise LogMismatch(text.removeprefix("log MISMATCH at entry ").split(": ", 1)[-1], index=first[0])


def _pubkey(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        pk = bytes.fromhex(value)
    except ValueError:
        pk = b""
    if len(pk) != bls.PUBKEY_LEN:
        raise ZkauditError(f"--registry-pubkey must be {2 * bls.PUBKEY_LEN} hex digits (a BLS12-381 public key), "
                           f"not {value[:20]!r}", hint="`zkaudit registry head --json` prints it")
    return pk


def _read_json(path: Path, option: str, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ZkauditError(f"{option} {path}: no such file", hint=f"expected {what}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ZkauditError(f"{option} {path} is not JSON: {exc}", hint=f"expected {what}") from None


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")
