"""`zkaudit keys gen`: create a BLS signing key for a vendor or regulator."""

from __future__ import annotations

import json
from pathlib import Path

import typer

keys_app = typer.Typer(name="keys", help="Signing keys (BLS12-381) for vendors, regulators and registries.",
                       no_args_is_help=True)


@keys_app.command("gen")
def gen(
    out: Path = typer.Option(..., "--out", help="Keystore file to create (mode 0600; never overwritten)."),
    name: str = typer.Option(None, "--name", help="Name this key signs as in the registry (default: the file name)."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Generate a key; the file holds the secret key, readable only by you."""
    from zkaudit.registry.keys import KeyPair, write_keystore  # BLS: only when a key is made

    key = KeyPair.generate(name or out.stem)
    write_keystore(out, key)
    if as_json:
        typer.echo(json.dumps({"path": str(out), "name": key.name, "public_key": key.public_key.hex()}))
    else:
        typer.echo(f"wrote {out} (mode 0600)\nname:       {key.name}\npublic key: {key.public_key.hex()}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
