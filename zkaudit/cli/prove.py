"""`zkaudit prove DIR --input INPUT.json --out PROOF`: prove that the compiled
model's committed weights map the input to the output the proof carries."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer



def prove_command(
    directory: Path = typer.Argument(..., help="A directory written by `zkaudit compile` (needs private/weights.bin)."),
    input_file: Path = typer.Option(..., "--input", help="Input JSON: {\"inputs\": {name: values}}, "
                                                         "{\"inputs_int\": ...} or EZKL {\"input_data\": [[...]]}."),
    out: Path = typer.Option(Path("proof.zkp"), "--out", help="Proof file to write; an existing file is refused "
                                                            "unless --force."),
    commit_input: bool = typer.Option(False, "--commit-input", help="Bind the input by a commitment instead of "
                                      "writing its values into the proof (the commitment is also written to "
                                      "PROOF.input-commitment). Binding, NOT hiding: see below."),
    force: bool = typer.Option(False, "--force", help="Replace an existing proof (and input commitment) file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.prove/1 in "
                                                       "docs/json.md): outputs, files written, timings."),
) -> None:
    """Prove an inference (or a batch of them) from a compiled model.

    An input file with several samples gives one proof for all of them (the
    weights' cost is paid once). The outputs are in the proof, and the inputs
    too unless --commit-input; the weights are not.

    NOT zero-knowledge yet: the proof opens evaluations of the weights and of
    a committed input, and a commitment to low-entropy data (a patient record)
    can be matched by guessing, so do not rely on zkaudit to keep weights or
    inputs secret. --commit-input proves the output came from exactly the
    input behind the commitment (whoever holds the data recomputes it with
    `zkaudit commit-input`); it does not hide that input."""
    from zkaudit import api

    progress = _progress_bar() if sys.stderr.isatty() and not as_json else None
    try:
        result = api.prove(directory, input_file, out=out, commit_input=commit_input, force=force,
                           progress=progress.update if progress else None)
    finally:
        if progress:
            progress.close()
    doc = {"schema": "zkaudit.prove/1", "digest": result.digest, "batch": result.batch,
           "output": result.output, "output_int": result.output_int, "outputs": result.outputs,
           "proof": str(out), "proof_bytes": result.proof_bytes, "committed_input": commit_input,
           "input_commitment": result.input_commitment.hex() if commit_input else None,
           "input_commitment_file": str(result.input_commitment_path) if commit_input else None,
           "timings": {"prove_seconds": round(result.prove_seconds, 4)}}
    if as_json:
        typer.echo(json.dumps(doc))
        return
    typer.echo(f"proved {result.batch} sample(s) in {result.prove_seconds:.2f} s")
    typer.echo(f"  proof       {out} ({result.proof_bytes:,} bytes)")
    if commit_input:
        typer.echo(f"  input       committed -> {result.input_commitment_path} (binding, not hiding)")
    typer.echo(f"  output      {json.dumps(result.output)}")


def commit_input_command(
    directory: Path = typer.Argument(..., help="A compiled model directory (reads only DIR/public/)."),
    input_file: Path = typer.Option(..., "--input", help="Input JSON, as for `zkaudit prove`."),
    out: Path = typer.Option(Path("input.commitment"), "--out", help="Commitment file to write; an existing file "
                                                                    "is refused unless --force."),
    force: bool = typer.Option(False, "--force", help="Replace an existing commitment file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.commit-input/1 in "
                                                       "docs/json.md)."),
) -> None:
    """Commit to an input, as `zkaudit prove --commit-input` does.

    Whoever holds the data (a hospital, an auditor) runs this and passes the
    file to `zkaudit verify --input-commitment` to check a proof is about
    exactly that data (or passes the record itself with `verify --input`).
    The commitment is deterministic and binding, NOT hiding."""
    from zkaudit import api

    commitment = api.commit_input(directory, input_file, out=out, force=force)
    if as_json:
        typer.echo(json.dumps({"schema": "zkaudit.commit-input/1", "commitment": commitment.hex(),
                               "input_commitment_file": str(out)}))
    else:
        typer.echo(f"input commitment -> {out} (sha256 {api.short_digest(commitment)}...)")


class _progress_bar:
    def __init__(self):
        from rich.progress import Progress

        self._p = Progress(transient=True)
        self._p.start()
        self._task = self._p.add_task("proving layers", total=None)

    def update(self, done: int, total: int) -> None:
        self._p.update(self._task, completed=done, total=total)

    def close(self) -> None:
        self._p.stop()


def register(app: typer.Typer) -> None:
    app.command("prove")(prove_command)
    app.command("commit-input")(commit_input_command)
