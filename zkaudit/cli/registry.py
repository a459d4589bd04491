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

import json
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


# Here, not in registry_read: revoke-key (registry_publish) parses a public key too.
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


# The commands live in three modules by concern: registry_serve (init,
# upgrade, serve), registry_publish (the signed writes: publish, aliases,
# datasets, consent, register-signer, the revokes, reverify) and
# registry_read (revocations, show, list, head, export, verify-log). Each decorates its
# functions with `registry_app.command`, so importing them here, in this
# order, is what adds them to the group and fixes the order `registry --help`
# lists them in. They import nothing heavy at module level (that happens
# inside each command), so `registry --help` stays fast.
from zkaudit.cli import registry_serve  # noqa: E402
from zkaudit.cli import registry_publish  # noqa: E402
from zkaudit.cli import registry_read  # noqa: E402

COMMAND_MODULES = (registry_serve, registry_publish, registry_read)

# publish-run, publish-coin, publish-training, publish-link: the training chain
from zkaudit.cli import _registry_training  # noqa: E402

_registry_training.attach(registry_app, DB_REGISTRY, REGISTRY_KEY, JSON, emit)


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")
