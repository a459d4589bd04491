"""`zkaudit prove-consent --dataset DS --consent CT --out P` and
`zkaudit verify-consent P --dataset DS --consent CT`: the consent statement
(a thin layer over `zkaudit.statements.consent`). Proofs are
zero-knowledge unless --no-zero-knowledge (synthetic or public data only).

Each proof opens one of the dataset record's consent commitments
(`--dataset-use I`, or the lowest unopened one), and the dataset
directory's ledger (`consent-uses.json`, `data/dataset.py`) refuses a
second opening of any of them: one line, nothing written, and the fix
(the custodian commits with more `--consent-uses`)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import typer

PLAIN_WARNING = ("NOT ZERO-KNOWLEDGE (--no-zero-knowledge): this proof reveals evaluations of the dataset's ID "
                 "columns and of the multiplicities (which consented IDs the dataset uses); use it on synthetic or "
                 "public data only. The registry refuses it unless published with --allow-not-zero-knowledge.")
ZK_NOTE = ("zero-knowledge: the proof hides the dataset's ID columns and which consented IDs it uses (it opens "
           "its own consent commitment of the dataset, which hides the data through this one proof)")


def _zk_line(zero_knowledge: bool) -> str:
    return f"  zero-knowledge {'yes' if zero_knowledge else 'no'}"


def prove_consent(
    dataset: Path = typer.Option(..., "--dataset", help="Dataset directory from `zkaudit data commit` "
                                                         "(needs its private opening.npz)."),
    consent: Path = typer.Option(..., "--consent", help="Consent-table directory from `zkaudit consent commit` "
                                                         "(needs table.npz)."),
    out: Path = typer.Option(..., "--out", help="Proof file to write."),
    unique_ids: bool = typer.Option(False, "--unique-ids", help="Also prove each consented ID is used by at most "
                                                                "one record (patient-level uniqueness)."),
    zero_knowledge: bool = typer.Option(True, "--zero-knowledge/--no-zero-knowledge",
                                        help="Make a zero-knowledge proof (default). --no-zero-knowledge makes the "
                                             "plain proof, which reveals linear information about the ID columns: "
                                             "for synthetic or public data only."),
    dataset_use: int = typer.Option(None, "--dataset-use", min=0,
                                    help="Which of the dataset record's consent commitments the proof opens (0: the "
                                         "main one). Default: the lowest one no earlier proof opened (the dataset "
                                         "directory's consent-uses.json). Each hides the data through one proof, so "
                                         "reopening one is refused: a re-attestation against a new consent-table "
                                         "version needs a dataset committed with `zkaudit data commit "
                                         "--consent-uses K`."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: what the proof states, size, time."),
) -> None:
    """Prove every valid record's ID is in the consent table (zero-knowledge by default).

    The proof opens one of the dataset's consent commitments (--dataset-use,
    or the next unopened one) and records it in DS/consent-uses.json; a
    second proof on the same commitment is refused, nothing written."""
    from zkaudit.cli._records import check_signature
    from zkaudit.data.consent_table import load_consent_table
    from zkaudit.data.dataset import choose_consent_use, load_dataset, record_consent_use
    from zkaudit.data.errors import DataError
    from zkaudit.statements.consent.prover import prove_consent as prove
    from zkaudit.statements.consent.verifier import summary

    ds, ds_sig, ds_open = load_dataset(dataset, with_opening=True)
    tb, tb_sig, _, tb_open = load_consent_table(consent, with_opening=True)
    check_signature(ds.doc, ds.digest, ds_sig, "dataset record")
    check_signature(tb.doc, tb.digest, tb_sig, "consent-table record")
    if out.exists():
        raise DataError(f"{out} exists; choose another --out")
    if not out.parent.is_dir():
        raise DataError(f"{out.parent} is not a directory; choose another --out")
    use = choose_consent_use(ds, dataset, dataset_use)  # refuses a reopening: nothing written
    t0 = time.perf_counter()
    proof = prove(ds, ds_open, tb, tb_open, unique_ids=unique_ids, zero_knowledge=zero_knowledge, dataset_use=use)
    seconds = time.perf_counter() - t0
    # the ledger first (atomically): a proof on disk whose opening is not recorded could be made twice
    record_consent_use(dataset, use, hashlib.sha256(proof).hexdigest())
    _write_new(out, proof)
    doc = {"schema": "zkaudit.prove-consent/1", "out": str(out), "bytes": len(proof), "seconds": round(seconds, 3),
           "statement": summary(ds, tb, unique_ids, zero_knowledge=zero_knowledge, dataset_use=use),
           "warning": None if zero_knowledge else PLAIN_WARNING}
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    typer.echo(f"wrote {out} ({len(proof)} bytes, {seconds:.2f} s)")
    _print_statement(doc["statement"])
    typer.echo(f"  {ZK_NOTE}" if zero_knowledge else PLAIN_WARNING)


def _write_new(out: Path, data: bytes) -> None:
    """Write the proof file; refuse to replace one that appeared meanwhile."""
    import os

    from zkaudit.data.errors import DataError

    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise DataError(f"{out} exists; choose another --out") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def verify_consent(
    proof: Path = typer.Argument(..., help="Consent proof file."),
    dataset: Path = typer.Option(None, "--dataset", help="The signed dataset record's directory: the proof must be "
                                                         "about exactly it."),
    consent: Path = typer.Option(None, "--consent", help="The signed consent-table directory: the proof must be "
                                                         "about exactly this version; its distinctness proof is "
                                                         "checked too."),
    unique_ids: bool = typer.Option(None, "--unique-ids/--any-ids", help="Require the uniqueness flag to be set "
                                                                         "(or unset); default: report it."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: valid, reason, what was proven."),
) -> None:
    """Verify a consent proof; names the dataset, table version, purpose, uniqueness flag and whether it is zero-knowledge.

    Without --dataset/--consent the proof is checked against the records it
    embeds, whose digests are printed for you to compare with the signed ones."""
    from zkaudit.cli._records import check_signature
    from zkaudit.data.consent_table import load_consent_table
    from zkaudit.data.dataset import load_dataset
    from zkaudit.errors import ProofRejected
    from zkaudit.statements.consent.verifier import verify_consent as verify

    ds = tb = tproof = None
    try:
        if dataset is not None:
            ds, sig, _ = load_dataset(dataset)
            check_signature(ds.doc, ds.digest, sig, "dataset record")
        if consent is not None:
            tb, sig, tproof, _ = load_consent_table(consent)
            check_signature(tb.doc, tb.digest, sig, "consent-table record")
        t0 = time.perf_counter()
        v = verify(proof.read_bytes(), dataset=ds, table=tb, unique_ids=unique_ids, table_distinctness=tproof)
        seconds = time.perf_counter() - t0
    except ProofRejected as exc:
        if as_json:
            typer.echo(json.dumps({"schema": "zkaudit.verify-consent/1", "valid": False, "reason": str(exc),
                                   "error": f"rejected: {exc}", "code": "proof_rejected", "exit_code": 1}))
            raise typer.Exit(1) from None
        raise ProofRejected(f"rejected: {exc}") from None
    doc = {"schema": "zkaudit.verify-consent/1", "valid": True, "reason": "proof verified", "statement": v.output,
           "soundness_bits": round(v.soundness_bits, 1), "seconds": round(seconds, 3),
           "checked_against": {"dataset": str(dataset) if dataset else None, "consent": str(consent) if consent else None},
           "zero_knowledge": v.output["zero_knowledge"], "privacy": v.privacy,
           "warning": None if v.output["zero_knowledge"] else PLAIN_WARNING}
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    typer.echo(f"valid consent proof ({proof}, {seconds * 1000:.0f} ms)")
    _print_statement(v.output)
    typer.echo(f"  soundness     {v.soundness_bits:.1f} bits")
    if ds is None or tb is None:
        typer.echo("  checked against the records the proof embeds: compare the digests above with the signed ones "
                   "(--dataset, --consent)")
    if not v.output["zero_knowledge"]:
        typer.echo(PLAIN_WARNING)


def _print_statement(s: dict) -> None:
    typer.echo(f"  dataset       {s['dataset']} ({s['dataset_rows']} records, ID column {s['id_column']}, "
               f"schema {s['schema_digest'][:16]}...)")
    typer.echo(f"  opens         consent commitment {s['dataset_use']} of {s['dataset_uses']} "
               f"({s['dataset_commitment'][:16]}...)")
    typer.echo(f"  consent table {s['consent_table']} (issuer {s['table_issuer']}, version {s['table_version']}, "
               f"{s['table_rows']} IDs)")
    typer.echo(f"  purpose       {s['purpose']}")
    typer.echo(f"  unique IDs    {'yes: each consented ID used at most once' if s['unique_ids'] else 'not proven'}")
    typer.echo(_zk_line(s["zero_knowledge"]))


def register(app: typer.Typer) -> None:
    app.command("prove-consent")(prove_consent)
    app.command("verify-consent")(verify_consent)
