"""`zkaudit registry ...`: create, serve, publish to, read and audit a registry.

Every command takes `--registry URL_OR_PATH` (default `$ZKAUDIT_REGISTRY_URL`,
else ./zkaudit-registry.db): a database (SQLite path, postgresql://...) or a
served registry (https://..., or http://127.0.0.1:PORT on this machine;
`registry/remote.py`). Commands that write to a database sign the new tree
head when the registry key is at hand (`--registry-key`, default next to a
SQLite file); a served registry signs its own heads, and writes to it are
requests signed with --key. init, upgrade, serve and register-signer work on
the database only.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import typer

from zkaudit.errors import ZkauditError

registry_app = typer.Typer(name="registry", help="The public model registry.", no_args_is_help=True)

REGISTRY = typer.Option(None, "--registry", help="A served registry (https://HOST, or http://127.0.0.1:PORT) "
                        "or its database (a SQLite path or postgresql:// URL); default $ZKAUDIT_REGISTRY_URL, "
                        "else ./zkaudit-registry.db.")
DB_REGISTRY = typer.Option(None, "--registry", help="The registry's database: a SQLite path or postgresql:// "
                           "URL (default $ZKAUDIT_REGISTRY_URL, else ./zkaudit-registry.db).")
REGISTRY_KEY = typer.Option(None, "--registry-key", help="The registry's own keystore, used to sign tree heads "
                            "(default: REGISTRY.key beside a SQLite file, ./zkaudit-registry.key otherwise).")
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


def emit(as_json: bool, doc: Any, text: str) -> None:
    typer.echo(json.dumps(doc, indent=2, sort_keys=True) if as_json else text)


def open_registry(url: str | None, key_path: Path | None = None, *, need_key: bool = False):
    """The registry to write to: a served one (`RemoteRegistry`; it signs its
    own heads) or a database, with its key when at hand."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote, open_registry as open_any, resolve
    from zkaudit.registry.store import Registry, default_key_path

    if is_remote(resolve(url)):
        if key_path is not None or need_key:
            raise ZkauditError(f"--registry {resolve(url)} is a served registry: it signs its own tree heads",
                               hint="--registry-key and --sign are for the registry's database")
        return open_any(url)
    reg = Registry(url)
    path = key_path or default_key_path(reg.url)
    if key_path is not None or path.exists() or need_key:
        reg.key = bls.read_keystore(path)
        if reg.key.public_key != reg.public_key:
            raise ZkauditError(f"{path} is not this registry's key")
    return reg


@registry_app.command("init")
def init(registry: str = DB_REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Create the registry database (or bring it up to date) and its signing key."""
    from zkaudit.registry.store import Registry

    reg, created, key_path = Registry.init(registry, registry_key)
    doc = {"registry": reg.url, "created": created, "registry_key": str(key_path),
           "registry_public_key": reg.public_key.hex()}
    emit(as_json, doc, f"{'created' if created else 'already initialised'}: {reg.url}\n"
         f"registry key: {key_path}\npublic key:   {reg.public_key.hex()}")


@registry_app.command("upgrade")
def upgrade(registry: str = DB_REGISTRY, as_json: bool = JSON) -> None:
    """Apply pending schema migrations."""
    from zkaudit.registry import db
    from zkaudit.registry.store import Registry

    reg = Registry(registry, check=False)
    before, after = db.upgrade(reg.engine)
    emit(as_json, {"registry": reg.url, "from": before, "to": after}, f"schema {before} -> {after}")


@registry_app.command("serve")
def serve(registry: str = DB_REGISTRY, registry_key: Path = REGISTRY_KEY,
          host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="TCP port, 0-65535 (0 picks a free one)."),
          max_body: int = typer.Option(16 * 1024 * 1024, help="Largest accepted request body, bytes (at least 1)."),
          check_workers: int = typer.Option(min(2, os.cpu_count() or 1), help="Verifier worker processes: proofs "
                                            "are checked there, one at a time each."),
          check_timeout: float = typer.Option(60.0, help="Seconds one proof check may take before its worker is "
                                              "killed and the request answered 422."),
          check_memory: int = typer.Option(2048, help="MiB of memory one proof check may use on top of a "
                                           "worker's own footprint (422 beyond it)."),
          workers: int = typer.Option(1, help="Server processes sharing the port (each with its own database "
                                      "connections, verifier workers and write limits); use PostgreSQL beyond 1."),
          write_rate: float = typer.Option(5.0, help="Signed writes per second allowed per client address and "
                                           "per signer key, after --write-burst at once (0: no limit)."),
          write_burst: int = typer.Option(60, help="Signed writes accepted at once per client address and per "
                                          "signer key before --write-rate applies (answered 429 beyond).")) -> None:
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
    if write_rate < 0:
        problems.append(f"--write-rate must be 0 (no limit) or positive, not {write_rate}")
    if write_burst < 1:
        problems.append(f"--write-burst must be at least 1, not {write_burst}")
    if workers < 1:
        problems.append(f"--workers must be at least 1, not {workers}")
    if problems:
        raise ZkauditError("; ".join(problems))
    import uvicorn

    from zkaudit.registry.api import create_app
    from zkaudit.registry.sandbox import Budget, VerifierPool

    open_registry(registry, registry_key, need_key=True).close()  # fail here, once, on a bad URL or key
    sock = _listen(host, port)

    def run() -> None:
        reg = open_registry(registry, registry_key, need_key=True)
        pool = VerifierPool(check_workers, Budget(seconds=check_timeout, memory_bytes=check_memory << 20))
        reg.verifier, reg.signatures, reg.table_checker = pool.verify, pool.verify_signatures, pool.check_table
        try:
            app = create_app(reg, max_body=max_body, write_rate=write_rate, write_burst=write_burst)
            uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])
        finally:
            pool.close()
            reg.close()

    try:
        if workers == 1:
            run()
        else:
            _fork_workers(workers, run)
    finally:
        sock.close()


def _fork_workers(n: int, run) -> None:
    """`n` processes serving the one listening socket (the kernel spreads the
    connections); each opens its own database engine after the fork. SIGTERM
    or SIGINT here stops them all."""
    import signal

    children = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                run()
            except BaseException:  # a worker's failure is its exit status; the parent reports it
                code = 1
            os._exit(code)
        children.append(pid)

    def stop(_sig, _frame) -> None:
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = 0
    for c in children:
        while True:
            try:
                _, status = os.waitpid(c, 0)
                break
            except InterruptedError:
                continue
        failed += os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM)
    if failed:
        raise ZkauditError(f"{failed} of {n} server workers failed", hint="see their log lines above")


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
    supersedes: str = typer.Option(None, "--supersedes", help="A version of the same model that this one upgrades "
                                   "to a hiding weight commitment (same circuit; DIR's commitment hashed, the old "
                                   "one not). `registry upgrade-commitment` does this for you."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish a compiled model version, signed by the vendor key."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.artifacts import read_model_dir
    from zkaudit.registry.client import card_from, publish_local
    from zkaudit.registry.remote import is_remote

    try:
        claimed = json.loads(metrics)
    except ValueError as exc:
        raise ZkauditError(f"--metrics is not JSON: {exc}") from None
    from zkaudit.registry.weight_commitments import one_line

    art = read_model_dir(model_dir)
    vendor = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    card = card_from(intended_use, training_data, claimed)
    out = reg.publish_as(vendor, art, name, version, card, supersedes) if is_remote(reg.url) else \
        publish_local(reg, vendor, art, name, version, card, supersedes)
    words = f"\nweights:        {one_line(out['weight_commitment'])}" if "weight_commitment" in out else ""
    words += f"\nsupersedes:     {out['supersedes']}" if out.get("supersedes") else ""
    emit(as_json, out, f"published {name}@{version} by {out['vendor']}\ncircuit digest: {out['circuit_digest']}"
         f"{words}\nlog entry:      {out['log_index']} (this version's; a vendor key's first publication and a "
         f"model's first version each log their own entry before it)")


@registry_app.command("upgrade-commitment")
def upgrade_commitment(
    model_dir: Path = typer.Argument(..., help="The compiled model folder that was published with a plain "
                                               "(tensor-code) weight commitment."),
    key: Path = typer.Option(..., "--key", help="The vendor keystore that published it."),
    model: str = typer.Option(None, "--model", help="NAME@VERSION to upgrade (default: the one version whose "
                                                    "circuit and weight commitment are DIR's)."),
    version: str = typer.Option(None, "--version", help="Version label of the successor (default VERSION-hashed)."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Upgrade a published version to a hiding weight commitment: same circuit, same weights, a new version.

    Checks that private/weights.bin commits to exactly the published plain
    commitment, writes the salted Poseidon2 commitment and its salt
    (private/weights.salt, mode 0600) into DIR in one atomic swap, and
    publishes NAME@NEW naming the version it supersedes (the log records the
    link; `registry show` of the old version says "superseded by"). If
    publishing fails, DIR is put back as it was. The old version stays
    published and valid until its vendor revokes it."""
    from zkaudit.registry import keys as bls

    from zkaudit.api import upgrade_commitment as upgrade_api
    from zkaudit.registry.weight_commitments import one_line

    vendor = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = upgrade_api(model_dir, vendor, reg, ref=model, new_version=version)
    emit(as_json, out, f"published {out['model']}@{out['version']} by {out['vendor']}, superseding "
         f"{out['supersedes']}\nweights: {one_line(out['weight_commitment'])}\n"
         f"salt:    {out['salt_file']} (keep it with private/weights.bin; never publish it)\n"
         f"log entry: {out['log_index']}")


alias_app = typer.Typer(name="alias", no_args_is_help=True,
                        help="Movable aliases: NAME@ALIAS (e.g. NAME@champion) names the version its vendor last "
                             "pointed ALIAS at; every move is signed and logged. NAME@latest needs none.")
registry_app.add_typer(alias_app, name="alias")


@alias_app.command("set")
def alias_set(name: str = typer.Argument(..., help="Model name."),
              alias: str = typer.Argument(..., help="Alias: lowercase letters, digits, '-' and '_', starting with a "
                                                    "letter ('latest' is reserved)."),
              version: str = typer.Argument(..., help="The version it names from now on."),
              key: Path = typer.Option(..., "--key", help="The model's vendor keystore (only its moves count)."),
              registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Point ALIAS at NAME@VERSION (a signed endorsement in the log); `--model NAME@ALIAS` then checks against it."""
    from zkaudit.registry import keys as bls

    from zkaudit.registry.aliases import set_alias

    out = set_alias(open_registry(registry, registry_key), bls.read_keystore(key), name, alias, version)
    emit(as_json, out, f"{name}@{alias} -> {name}@{version}\nlog entry: {out['log_index']}")


@alias_app.command("remove")
def alias_remove(name: str = typer.Argument(..., help="Model name."),
                 alias: str = typer.Argument(..., help="The alias to unset."),
                 key: Path = typer.Option(..., "--key", help="The model's vendor keystore."),
                 registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Unset ALIAS (a logged move); NAME@ALIAS then names no version."""
    from zkaudit.registry import keys as bls

    from zkaudit.registry.aliases import remove_alias

    out = remove_alias(open_registry(registry, registry_key), bls.read_keystore(key), name, alias)
    emit(as_json, out, f"{name}@{alias} removed (it named {name}@{out['version']})\nlog entry: {out['log_index']}")


@alias_app.command("list")
def alias_list(name: str = typer.Argument(..., help="Model name."), registry: str = REGISTRY,
               as_json: bool = JSON) -> None:
    """List a model's aliases and the versions they name, with latest."""
    from zkaudit.registry.remote import open_registry as open_any

    from zkaudit.api import resolve_model_ref
    from zkaudit.registry.aliases import aliases

    reg = open_any(registry)
    current = aliases(reg, name)
    try:
        latest = resolve_model_ref(reg, f"{name}@latest")[1]
    except ZkauditError:  # every version revoked
        latest = None
    doc = {"model": name, "aliases": current, "latest": latest}
    emit(as_json, doc, "\n".join([f"{name}@latest -> {name}@{latest}" if latest else f"{name}@latest: no version "
                                  "that is not revoked", *(f"{name}@{a} -> {name}@{v}" for a, v in current.items())]))


@registry_app.command("publish-dataset")
def publish_dataset(
    dataset: Path = typer.Argument(..., help="Dataset directory from `zkaudit data commit` (only the public "
                                             "dataset.json is read; the opening never leaves your machine)."),
    key: Path = typer.Option(..., "--key", help="The custodian's keystore: the key that signed the record "
                                                "(registered as a custodian on first use)."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish a custodian-signed dataset record (a transparency-log leaf)."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    from zkaudit.data.dataset import RECORD_FILE, read_signed
    from zkaudit.registry.client import publish_dataset_local

    record, signed = read_signed(dataset / RECORD_FILE, "dataset record")
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = reg.publish_dataset_as(k, record, signed) if is_remote(reg.url) else \
        publish_dataset_local(reg, k, record, signed)
    emit(as_json, out, f"published dataset {out['record_digest']} ({out['rows']} records) by {out['custodian']}\n"
         f"log entry: {out['log_index']}")


@registry_app.command("publish-consent")
def publish_consent(
    consent: Path = typer.Argument(..., help="Consent-table directory from `zkaudit consent commit` (consent.json "
                                             "and distinctness.zkp are read; table.npz is not)."),
    key: Path = typer.Option(..., "--key", help="The IRB's keystore: the key that signed the record (registered "
                                                "as an IRB on first use)."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish an IRB consent-table version; its distinctness proof is verified first.

    Version 1 of a purpose comes first; version v supersedes the published
    version v-1 of the same IRB key and purpose. Consent proofs against an
    older version are then shown as "consent changed"."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    from zkaudit.data.consent_table import PROOF_FILE, RECORD_FILE
    from zkaudit.data.dataset import read_signed
    from zkaudit.registry.client import publish_consent_local

    record, signed = read_signed(consent / RECORD_FILE, "consent-table record")
    try:
        proof = (consent / PROOF_FILE).read_bytes()
    except OSError as exc:
        raise ZkauditError(f"cannot read the distinctness proof: {exc}") from None
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = reg.publish_consent_as(k, record, signed, proof) if is_remote(reg.url) else \
        publish_consent_local(reg, k, record, signed, proof)
    sup = f", supersedes {out['supersedes']}" if out["supersedes"] else ""
    emit(as_json, out, f"published consent table v{out['version']} ({out['purpose']}, {out['rows']} IDs) by "
         f"{out['irb']}: {out['record_digest']}{sup}\nlog entry: {out['log_index']}")


@registry_app.command("publish-consent-proof")
def publish_consent_proof(
    proof: Path = typer.Argument(..., help="Consent proof file from `zkaudit prove-consent`."),
    key: Path = typer.Option(..., "--key", help="The prover's keystore (a vendor's, or the custodian's; a new key "
                                                "is registered as a vendor on first use)."),
    allow_not_zero_knowledge: bool = typer.Option(
        False, "--allow-not-zero-knowledge", help="Publish although the proof is not zero-knowledge. Only for "
        "synthetic or public data: the flag is part of your signed statement, logged, and shown with the proof. "
        "Without it such a proof is refused (reason: not zero-knowledge)."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish a consent proof: the registry verifies it, and its dataset and (current)
    consent-table version must already be published."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    from zkaudit.registry.client import publish_consent_proof_local

    try:
        data = proof.read_bytes()
    except OSError as exc:
        raise ZkauditError(f"cannot read {proof}: {exc.strerror}") from None
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = (reg.publish_consent_proof_as if is_remote(reg.url) else
           lambda key, proof, **kw: publish_consent_proof_local(reg, key, proof, **kw))(
        k, data, allow_not_zero_knowledge=allow_not_zero_knowledge)
    zk = "zero-knowledge" if out["zero_knowledge"] else \
        "NOT ZERO-KNOWLEDGE (published with --allow-not-zero-knowledge: synthetic or public data only)"
    emit(as_json, out, f"published consent proof {out['proof_digest']} by {out['prover']}: valid, {zk}\n"
         f"  dataset {out['dataset']}\n  consent table v{out['table_version']} {out['consent_table']}\n"
         f"log entry: {out['log_index']}")


@registry_app.command("register-signer")
def register_signer(key: Path = typer.Option(..., "--key", help="The signer's keystore."),
                    role: str = typer.Option("regulator", help="vendor, regulator, custodian or irb."),
                    registry: str = DB_REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Register a signer (operator action on the database, e.g. admitting a regulator)."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote, resolve

    if is_remote(resolve(registry)):
        raise ZkauditError("register-signer is an operator action on the registry's database, not over HTTP",
                           hint="the operator runs it with --registry postgresql://... (vendors, custodians and "
                                "IRBs register on their first publication)")
    k = bls.read_keystore(key)
    out = open_registry(registry, registry_key).register_signer(name=k.name, role=role, public_key=k.public_key,
                                                                pop=k.proof_of_possession())
    emit(as_json, out, f"registered {role} {k.name}")


@registry_app.command("revoke")
def revoke(ref: str = typer.Argument(..., help="NAME@VERSION"), reason: str = typer.Option(..., help="Why."),
           key: Path = typer.Option(..., "--key", help="Vendor or regulator keystore."),
           registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Withdraw a model version with a signed reason."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.records import revocation, revocation_message
    from zkaudit.registry.remote import is_remote
    from zkaudit.registry.views import parse_ref

    name, version = parse_ref(ref)
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    if is_remote(reg.url):
        out = reg.revoke_as(k, name, version, reason)
    else:
        sig = k.sign(revocation_message(revocation(model=name, version=version, reason=reason)))
        out = reg.revoke(model=name, version=version, reason=reason, signer=k.public_key, signature=sig)
    emit(as_json, out, f"revoked {ref}: {reason}\nlog entry: {out['log_index']}")


@registry_app.command("revoke-key")
def revoke_key(target: str = typer.Argument(..., help="The revoked key: a keystore file or its public key "
                                                      "(96 hex digits)."),
               from_time: str = typer.Option(..., "--from", help="From when it is compromised: Unix seconds or "
                                             "an ISO 8601 time (UTC unless it names a zone)."),
               reason: str = typer.Option(..., help="Why."),
               key: Path = typer.Option(..., "--key", help="The revoked key itself, or a regulator's keystore."),
               registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Revoke a signer key from a time on: every version it published from then is revoked, and it publishes no more."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    pk = _target_key(target)
    t = _time(from_time)
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    if is_remote(reg.url):
        out = reg.revoke_key_as(k, pk, t, reason)
    else:
        from zkaudit.registry.records import key_revocation, key_revocation_message

        sig = k.sign(key_revocation_message(key_revocation(public_key=pk, from_time=t, reason=reason)))
        out = reg.revoke_key(public_key=pk, from_time=t, reason=reason, signer=k.public_key, signature=sig)
    hit = ", ".join(out["versions_revoked"]) or "none yet"
    emit(as_json, out, f"revoked {out['signer']}'s key from {t}: {reason}\nversions revoked with it: {hit}\n"
         f"log entry: {out['log_index']}")


@registry_app.command("revoke-verifier")
def revoke_verifier(version: str = typer.Argument(..., help="The verifier version as proofs record it, e.g. "
                                                            "'zkaudit-verify 0.4.0 (envelope v3)'."),
                    reason: str = typer.Option(..., help="Why (the soundness bug)."),
                    key: Path = typer.Option(..., "--key", help="A regulator's keystore."),
                    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Revoke a verifier version: every proof it accepted reads "re-verify" until `registry reverify`."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    if is_remote(reg.url):
        out = reg.revoke_verifier_as(k, version, reason)
    else:
        from zkaudit.registry.records import verifier_revocation, verifier_revocation_message

        sig = k.sign(verifier_revocation_message(verifier_revocation(verifier_version=version, reason=reason)))
        out = reg.revoke_verifier(verifier_version=version, reason=reason, signer=k.public_key, signature=sig)
    emit(as_json, out, f"revoked verifier {version!r}: {reason}\n{len(out['proofs_to_reverify'])} accepted "
         f"proof(s) now read re-verify (`zkaudit registry reverify DIGEST`)\nlog entry: {out['log_index']}")


@registry_app.command("reverify")
def reverify(proof_digest: str = typer.Argument(..., help="SHA-256 of a stored proof (see `registry show "
                                                          "NAME@VERSION`)."),
             key: Path = typer.Option(None, "--key", help="Any registered signer's keystore (needed for a served "
                                      "registry: the request is signed)."),
             registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Check a proof accepted by a revoked verifier again, with this registry's verifier; the verdict is logged."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    reg = open_registry(registry, registry_key)
    if is_remote(reg.url):
        if key is None:
            raise ZkauditError("reverify on a served registry needs --key (a registered signer's keystore)")
        out = reg.reverify_as(bls.read_keystore(key), proof_digest)
    else:
        out = reg.reverify(proof_digest=proof_digest)
    emit(as_json, out, f"proof {proof_digest[:16]}... re-verified by {out['verifier_version']}: "
         f"{'VALID' if out['valid'] else 'INVALID: ' + out['reason']}\nlog entry: {out['log_index']}")


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


def _target_key(value: str) -> bytes:
    from zkaudit.registry import keys as bls

    p = Path(value)
    if p.is_file():
        return bls.read_keystore(p).public_key
    return _pubkey(value, "the revoked key")


def _time(value: str) -> int:
    from datetime import datetime, timezone

    if value.strip().isdigit():
        return int(value)
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ZkauditError(f"--from {value!r} is neither Unix seconds nor an ISO 8601 time",
                           hint="e.g. 2026-12-01T00:00:00Z or 1796083200") from None
    return int((t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp())


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


def _pubkey(value: str | None, what: str = "--registry-pubkey") -> bytes | None:
    from zkaudit.registry import keys as bls

    if value is None:
        return None
    try:
        pk = bytes.fromhex(value)
    except ValueError:
        pk = b""
    if len(pk) != bls.PUBKEY_LEN:
        raise ZkauditError(f"{what} must be {2 * bls.PUBKEY_LEN} hex digits (a BLS12-381 public key), "
                           f"not {value[:20]!r}", hint="`zkaudit registry head --json` prints it")
    return pk


def _read_json(path: Path, option: str, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ZkauditError(f"{option} {path}: no such file", hint=f"expected {what}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ZkauditError(f"{option} {path} is not JSON: {exc}", hint=f"expected {what}") from None


# publish-run, publish-coin, publish-training, publish-link: the training chain
from zkaudit.cli import _registry_training  # noqa: E402

_registry_training.attach(registry_app, DB_REGISTRY, REGISTRY_KEY, JSON, emit)


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")
