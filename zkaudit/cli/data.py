"""`zkaudit data commit DATA.csv --schema SCHEMA.json --key CUSTODIAN.key --out DS/`:
seal a dataset (a thin layer over `zkaudit.data.dataset`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

data_app = typer.Typer(name="data", help="Sealed datasets: commit a table under a schema, signed by its custodian.",
                       no_args_is_help=True)


@data_app.command("commit")
def commit(
    table: Path = typer.Argument(..., help="The table: CSV with a header row, or Parquet (.parquet)."),
    schema: Path = typer.Option(..., "--schema", help="Schema JSON: columns (name, type id/int/fixed/bool, scale, "
                                                      "min, max), id_column, population."),
    key: Path = typer.Option(..., "--key", help="The custodian's keystore (`zkaudit keys gen`); signs the record."),
    out: Path = typer.Option(..., "--out", help="New directory: dataset.json (public, signed record) and "
                                                 "opening.npz (private, mode 0600: the committed values and the "
                                                 "commitment's secret seed; keep it)."),
    training_uses: int = typer.Option(1, "--training-uses", min=0, max=64,
                                      help="How many training proofs may use the data: one more hiding commitment "
                                           "each (a hiding commitment hides its data through one proof; the "
                                           "consent proofs have their own: --consent-uses)."),
    consent_uses: int = typer.Option(1, "--consent-uses", min=1, max=64,
                                     help="How many consent proofs may use the data: the main commitment and one "
                                          "more hiding commitment per further proof. A re-attestation against a "
                                          "new consent-table version is a further proof; each commitment hides the "
                                          "data through one proof, so `prove-consent` refuses to reopen one."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: record digest, rows, commitment."),
) -> None:
    """Commit a dataset: one polynomial per column, rows padded with a valid column.

    Missing cells, wrong types and values outside the declared ranges stop the
    command with the row and column; nothing is written then. The commitment is
    hiding: its randomness comes from a secret seed kept in opening.npz, so the
    public record cannot be tested against guessed data."""
    from zkaudit.cli._records import sign_record
    from zkaudit.data.dataset import commit_dataset, write_dataset
    from zkaudit.data.errors import DataError

    try:
        schema_doc = json.loads(schema.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read schema {schema}: {exc}") from None
    record, opening = commit_dataset(table, schema_doc, training_uses=training_uses,
                                     consent_uses=consent_uses)
    signature = sign_record(key, record.doc, record.digest)
    write_dataset(out, record, opening, signature)
    doc = {"schema": "zkaudit.data-commit/1", "out": str(out), "record_digest": record.digest.hex(),
           "rows": record.num_rows, "padded_rows": 1 << record.num_vars, "polynomials": record.doc["polynomials"],
           "schema_digest": record.doc["schema_digest"], "signer": signature["signer"], "hiding": True,
           "training_uses": len(record.training_commitments), "consent_uses": record.consent_uses}
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    typer.echo(f"committed {record.num_rows} rows x {len(record.schema.columns)} columns -> {out}")
    typer.echo(f"  record      {record.digest.hex()} (signed by {signature['signer']})")
    typer.echo(f"  schema      {record.doc['schema_digest']} (ID column {record.schema.id_column})")
    typer.echo(f"  padded to   {1 << record.num_vars} rows (valid column marks the {record.num_rows} real ones)")
    typer.echo("  public      dataset.json; private opening.npz (values and seed; keep it; never publish it)")
    typer.echo(f"  commitments hiding, one per proof ({record.consent_uses} consent, "
               f"{len(record.training_commitments)} training; each hides the data through one proof); registry "
               "publication: `zkaudit registry publish-dataset`")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
