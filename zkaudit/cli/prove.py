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
    commit_input: bool = typer.Option(False, "--commit-input", help="Keep the input private: the proof carries a "
                                      "hiding commitment to it instead of its values (written to "
                                      "PROOF.input-commitment; its secret opening to PROOF.input-opening)."),
    zero_knowledge: bool = typer.Option(True, "--zero-knowledge/--no-zero-knowledge", help="Make a zero-knowledge "
                                        "proof (the default). --no-zero-knowledge makes the smaller plain proof, "
                                        "which `verify` labels as not zero-knowledge."),
    force: bool = typer.Option(False, "--force", help="Replace an existing proof (and input commitment) file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.prove/1 in "
                                                       "docs/json.md): outputs, files written, timings."),
) -> None:
    """Prove an inference (or a batch of them) from a compiled model.

    An input file with several samples gives one proof for all of them (the
    weights' cost is paid once). The outputs are in the proof, and the inputs
    too unless --commit-input; the weights are not.

    The proof is zero-knowledge: it reveals the output (and the input unless
    --commit-input) and nothing else of the activations or of a committed
    input. The weights stay hidden across any number of proofs with the
    default hashed weight commitment of `zkaudit compile` (each proof commits
    them afresh and proves they hash to the registered root); a model compiled
    with --weight-commitment plain has its commitment opened in every proof
    (`verify` says after how many proofs the opened columns determine the
    weights; for small models, one). --commit-input writes the
    input commitment's secret opening to PROOF.input-opening: whoever holds
    the record keeps it, and checks a proof is about that record with
    `zkaudit verify --input RECORD.json --input-opening PROOF.input-opening`;
    the opening never enters the proof."""
    from zkaudit import api

    progress = _progress_bar() if sys.stderr.isatty() and not as_json else None
    try:
        result = api.prove(directory, input_file, out=out, commit_input=commit_input, force=force,
                           progress=progress.update if progress else None, zero_knowledge=zero_knowledge)
    finally:
        if progress:
            progress.close()
    doc = {"schema": "zkaudit.prove/1", "digest": result.digest, "batch": result.batch,
           "output": result.output, "output_int": result.output_int, "outputs": result.outputs,
           "proof": str(out), "proof_bytes": result.proof_bytes, "committed_input": commit_input,
           "input_commitment": result.input_commitment.hex() if commit_input else None,
           "input_commitment_file": str(result.input_commitment_path) if commit_input else None,
           "input_opening_file": str(result.input_opening_path) if result.input_opening_path else None,
           "zero_knowledge": zero_knowledge,
           "timings": {"prove_seconds": round(result.prove_seconds, 4)}}
    if as_json:
        typer.echo(json.dumps(doc))
        return
    typer.echo(f"proved {result.batch} sample(s) in {result.prove_seconds:.2f} s")
    typer.echo(f"  proof       {out} ({result.proof_bytes:,} bytes)")
    typer.echo(f"  zero-knowledge {'yes' if zero_knowledge else 'no (--no-zero-knowledge)'}")
    if commit_input and zero_knowledge:
        typer.echo(f"  input       committed (hiding) -> {result.input_commitment_path}")
        typer.echo(f"  opening     {result.input_opening_path} (secret: give it only to whoever holds the record)")
    elif commit_input:
        typer.echo(f"  input       committed -> {result.input_commitment_path} (binding, not hiding)")
    typer.echo(f"  output      {json.dumps(result.output)}")


def commit_input_command(
    directory: Path = typer.Argument(..., help="A compiled model directory (reads only DIR/public/)."),
    input_file: Path = typer.Option(..., "--input", help="Input JSON, as for `zkaudit prove`."),
    out: Path = typer.Option(Path("input.commitment"), "--out", help="Commitment file to write; an existing file "
                                                                    "is refused unless --force."),
    force: bool = typer.Option(False, "--force", help="Replace an existing commitment file."),
    opening: Path = typer.Option(None, "--opening", help="The PROOF.input-opening file of a zero-knowledge "
                                 "proof: recompute that proof's hiding commitment (without it: the plain "
                                 "commitment of --no-zero-knowledge proofs)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.commit-input/1 in "
                                                       "docs/json.md)."),
) -> None:
    """Commit to an input, as `zkaudit prove --commit-input` does.

    Whoever holds the data (a hospital, an auditor) runs this and passes the
    file to `zkaudit verify --input-commitment` to check a proof is about
    exactly that data (or passes the record itself with `verify --input`).
    With --opening it recomputes a zero-knowledge proof's hiding commitment;
    without, the plain commitment (deterministic and binding, NOT hiding)."""
    from zkaudit import api

    commitment = api.commit_input(directory, input_file, out=out, force=force, opening=opening)
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
