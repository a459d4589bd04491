"""`zkaudit prove DIR --input INPUT.json --out PROOF`: prove that the compiled
model's committed weights map the input to the output the proof carries."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer

from zkaudit.errors import ZkauditError


def prove_command(
    directory: Path = typer.Argument(..., help="A directory written by `zkaudit compile` (needs private/weights.bin)."),
    input_file: Path = typer.Option(..., "--input", help="Input JSON: {\"inputs\": {name: values}}, "
                                                         "{\"inputs_int\": ...} or EZKL {\"input_data\": [[...]]}."),
    out: Path = typer.Option(Path("proof.zkp"), "--out", help="Proof file to write (replaced only once complete)."),
    commit_input: bool = typer.Option(False, "--commit-input", help="Bind the input by a commitment instead of "
                                      "writing its values into the proof (the commitment is also written to "
                                      "PROOF.input-commitment). Binding, NOT hiding: see below."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: output (dequantized), output_int, "
                                                       "timings and proof bytes."),
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
    from zkaudit.circuit import load_circuit, load_weights, read_inputs
    from zkaudit.cli._output import output_doc
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE
    from zkaudit.statements.inference.prover import prove

    _check_out_folder(out)
    circuit = load_circuit(directory)
    weights = load_weights(directory)
    weights.check(circuit)
    batch = read_inputs(input_file, circuit)
    try:
        published = (directory / COMMITMENT_FILE).read_bytes()
    except FileNotFoundError:
        raise ZkauditError(f"{directory / COMMITMENT_FILE} is missing", hint="recompile with `zkaudit compile`") from None
    started = time.perf_counter()
    progress = _progress_bar(len(circuit.nodes)) if sys.stderr.isatty() and not as_json else None
    try:
        proof = prove(circuit, weights, list(batch.samples), weight_commitment=published,
                      commit_input=commit_input, progress=progress.update if progress else None)
    finally:
        if progress:
            progress.close()
    elapsed = time.perf_counter() - started
    written = {out: proof}
    if commit_input:
        from zkaudit.statements.inference.commitment import input_commitment

        written[_input_commitment_path(out)] = input_commitment(circuit, list(batch.samples))
    _write_all(written)
    results = [output_doc(circuit, circuit.execute(weights, sample)) for sample in batch.samples]
    doc = dict(results[0])
    if batch.batched:  # as `zkaudit run --json`: a batch file gives a list per sample
        doc.update(output=[r["output"] for r in results], output_int=[r["output_int"] for r in results])
    doc.update({"proof": str(out), "proof_bytes": len(proof), "prove_seconds": round(elapsed, 4),
                "batch": len(batch.samples), "committed_input": commit_input})
    if commit_input:
        doc["input_commitment"] = written[_input_commitment_path(out)].hex()
    if as_json:
        typer.echo(json.dumps(doc))
        return
    typer.echo(f"proved in {elapsed:.2f} s -> {out} ({len(proof):,} bytes)")
    typer.echo(f"output: {doc['output']}")
    if commit_input:
        typer.echo(f"input committed -> {_input_commitment_path(out)} (binding, not hiding)")


def commit_input_command(
    directory: Path = typer.Argument(..., help="A compiled model directory (reads only DIR/public/)."),
    input_file: Path = typer.Option(..., "--input", help="Input JSON, as for `zkaudit prove`."),
    out: Path = typer.Option(Path("input.commitment"), "--out", help="Commitment file to write."),
    as_json: bool = typer.Option(False, "--json", help="Print {commitment, file, batch} as JSON."),
) -> None:
    """Commit to an input, as `zkaudit prove --commit-input` does.

    Whoever holds the data (a hospital, an auditor) runs this and passes the
    file to `zkaudit verify --input-commitment` to check a proof is about
    exactly that data (or passes the record itself with `verify --input`).
    The commitment is deterministic and binding, NOT hiding."""
    from zkaudit.circuit import load_circuit, read_inputs
    from zkaudit.statements.inference.commitment import input_commitment

    _check_out_folder(out)
    circuit = load_circuit(directory)
    batch = read_inputs(input_file, circuit)
    commitment = input_commitment(circuit, list(batch.samples))
    _write_all({out: commitment})
    if as_json:
        typer.echo(json.dumps({"commitment": commitment.hex(), "file": str(out), "batch": len(batch.samples)}))
    else:
        typer.echo(f"input commitment ({len(batch.samples)} sample(s)) -> {out}")


def _input_commitment_path(proof: Path) -> Path:
    return proof.with_name(proof.name + ".input-commitment")


def _check_out_folder(out: Path) -> None:
    """Before any work: the folder --out names must exist."""
    if not out.parent.is_dir():
        raise ZkauditError(f"the --out folder does not exist: {out.parent} (create it first)")


def _write_all(files: dict[Path, bytes]) -> None:
    """Write every file, each replaced only once complete."""
    for path, data in files.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
    for path in files:
        path.with_name(f".{path.name}.tmp").replace(path)


class _progress_bar:
    def __init__(self, total: int):
        from rich.progress import Progress

        self._p = Progress(transient=True)
        self._p.start()
        self._task = self._p.add_task("proving layers", total=total)

    def update(self, done: int, total: int) -> None:
        self._p.update(self._task, completed=done)

    def close(self) -> None:
        self._p.stop()


def register(app: typer.Typer) -> None:
    app.command("prove")(prove_command)
    app.command("commit-input")(commit_input_command)
