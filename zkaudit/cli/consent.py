"""`zkaudit consent commit IDS.csv --key IRB.key --purpose CODE --out CT/`:
an IRB's consent table, committed with its distinctness proof (a thin layer
over `zkaudit.data.consent_table`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

consent_app = typer.Typer(name="consent", help="IRB consent tables: commit the sorted list of consented "
                                               "pseudonymous IDs, with a proof that the rows are distinct.",
                          no_args_is_help=True)


@consent_app.command("commit")
def commit(
    ids: Path = typer.Argument(..., help="CSV or Parquet whose first column holds the consented IDs "
                                         "(32 hex digits each), with a header row."),
    key: Path = typer.Option(..., "--key", help="The IRB's keystore (`zkaudit keys gen`); signs the record."),
    purpose: str = typer.Option(..., "--purpose", help="Purpose code the consent covers, e.g. train:sepsis-2024."),
    out: Path = typer.Option(..., "--out", help="New directory: consent.json (public, signed), distinctness.zkp "
                                                 "(public) and table.npz (the rows, for provers the IRB trusts)."),
    supersedes: Path = typer.Option(None, "--supersedes", help="The previous version's directory: this one "
                                                               "replaces it (withdrawals, expiries)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: record digest, version, rows."),
) -> None:
    """Commit a consent table version (sorted IDs, distinctness proof, signed)."""
    from zkaudit.cli._records import check_signature, sign_record
    from zkaudit.data.consent_table import commit_consent_table, load_consent_table, read_ids, write_consent_table
    from zkaudit.data.errors import DataError

    version, prev = 1, None
    if supersedes is not None:
        old, old_sig, _, _ = load_consent_table(supersedes)
        check_signature(old.doc, old.digest, old_sig, "previous consent table")
        version, prev = old.doc["version"] + 1, old.digest.hex()
        if old.doc["purpose"] != purpose:
            raise DataError(f"--supersedes names a table for purpose {old.doc['purpose']!r}, not {purpose!r}")
    record, opening, proof = commit_consent_table(read_ids(ids), issuer=_issuer(key), purpose=purpose,
                                                  version=version, supersedes=prev)
    signature = sign_record(key, record.doc, record.digest)
    write_consent_table(out, record, opening, proof, signature)
    doc = {"schema": "zkaudit.consent-commit/1", "out": str(out), "record_digest": record.digest.hex(),
           "version": version, "supersedes": prev, "rows": record.num_rows, "purpose": purpose,
           "issuer": record.doc["issuer"], "distinctness_proof_bytes": len(proof)}
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    typer.echo(f"committed consent table v{version} ({record.num_rows} IDs, purpose {purpose}) -> {out}")
    typer.echo(f"  record       {record.digest.hex()} (signed by {signature['signer']})")
    if prev:
        typer.echo(f"  supersedes   {prev}")
    typer.echo(f"  distinctness proof {len(proof)} bytes (rows sorted and distinct)")
    typer.echo("  registry publication: `zkaudit registry publish-consent`")


def _issuer(key: Path) -> str:
    from zkaudit.registry.keys import read_keystore

    import re

    name = read_keystore(key).name
    return name if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}", name) else "irb"


def register(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent")
