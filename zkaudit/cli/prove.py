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
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: output (dequantized), output_int, "
                                                       "timings and proof bytes."),
) -> None:
    """Prove an inference, or a batch of them in one proof (an input file with
    several samples; the weights' cost is paid once). The public inputs and
    outputs are in the proof; the weights are not. NOT zero-knowledge yet: the proof does not hide the
    weights' evaluations it opens, so do not rely on it to keep weights secret."""
    from zkaudit.circuit import load_circuit, load_weights, read_inputs
    from zkaudit.cli._output import output_doc
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE
    from zkaudit.statements.inference.prover import prove

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
                      progress=progress.update if progress else None)
    finally:
        if progress:
            progress.close()
    elapsed = time.perf_counter() - started
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(proof)
    tmp.replace(out)
    results = [output_doc(circuit, circuit.execute(weights, sample)) for sample in batch.samples]
    doc = dict(results[0])
    if batch.batched:  # as `zkaudit run --json`: a batch file gives a list per sample
        doc.update(output=[r["output"] for r in results], output_int=[r["output_int"] for r in results])
    doc.update({"proof": str(out), "proof_bytes": len(proof), "prove_seconds": round(elapsed, 4),
                "batch": len(batch.samples)})
    if as_json:
        typer.echo(json.dumps(doc))
        return
    typer.echo(f"proved in {elapsed:.2f} s -> {out} ({len(proof):,} bytes)")
    typer.echo(f"output: {doc['output']}")


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
