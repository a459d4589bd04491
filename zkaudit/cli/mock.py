"""`zkaudit mock DIR --input INPUT.json`: check the witness against every
constraint without proving, naming the first op that fails."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def mock_command(
    directory: Path = typer.Argument(..., help="A directory written by `zkaudit compile`."),
    input_file: Path = typer.Option(..., "--input", help="Input JSON (zkaudit or EZKL format)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.mock/1 in "
                                                       "docs/json.md)."),
) -> None:
    """Check every constraint on the witness without proving.

    Runs every op's constraints (shapes, declared ranges, and that the proof
    protocol covers the op) and reports the first node that fails. Exit 0
    when all hold, 1 naming the first failing node."""
    from zkaudit.circuit import load_circuit, load_weights, read_inputs
    from zkaudit.circuit.kernels import KERNELS
    from zkaudit.api import sample_outputs
    from zkaudit.layers.dispatch_prover import HANDLERS

    circuit = load_circuit(directory)
    weights = load_weights(directory)
    weights.check(circuit)
    batch = read_inputs(input_file, circuit)
    specs = circuit.specs()
    failure = None
    for sample in batch.samples:
        env = {**{k: v for k, v in sample.items()}, **dict(weights.items())}
        for node in circuit.nodes:
            spec = specs[node.output]
            if node.op not in HANDLERS:
                failure = f"node {node.name!r} ({node.op}): no proof protocol for this op yet"
                break
            out = KERNELS[node.op](*(env[i] for i in node.inputs), **node.a)
            if out.shape != spec.shape:
                failure = f"node {node.name!r} ({node.op}): shape {out.shape}, circuit says {spec.shape}"
                break
            if out.size and (int(out.min()) < spec.lo or int(out.max()) > spec.hi):
                failure = (f"node {node.name!r} ({node.op}): values [{int(out.min())}, {int(out.max())}] "
                           f"outside the declared range [{spec.lo}, {spec.hi}]")
                break
            env[node.output] = out
        if failure:
            break
    doc = {"schema": "zkaudit.mock/1", "ok": failure is None, "first_failure": failure, "batch": len(batch.samples)}
    if failure is not None:
        doc.update(error=f"constraint check failed at {failure}", code="constraint_failed", exit_code=1)
    else:
        # every sample's output, shaped as `run` and `prove` give it
        doc.update(sample_outputs(circuit, weights, list(batch.samples), batch.batched))
    if as_json:
        typer.echo(json.dumps(doc))
    elif failure is None:
        typer.echo(f"all constraints hold on {len(batch.samples)} input(s); output: {doc['output']}")
    if failure is not None:
        if not as_json:
            typer.secho(f"constraint check failed at {failure}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("mock")(mock_command)
