"""`zkaudit run DIR --input FILE`: run the integer reference executor of a
compiled circuit on an input file (zkaudit or EZKL-style JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def run_command(
    directory: Path = typer.Argument(..., help="A directory written by `zkaudit compile`."),
    input_file: Path = typer.Option(..., "--input", help="Input JSON: {\"inputs\": {name: values}}, "
                                                         "{\"inputs_int\": ...} or EZKL {\"input_data\": [[...]]}."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.run/1 in "
                                                       "docs/json.md): output (dequantized, in the output's shape) "
                                                       "and output_int (the integers)."),
) -> None:
    """Run the compiled circuit's reference executor and print its output."""
    from zkaudit.circuit import dequantize, load_circuit, load_weights, read_inputs

    circuit = load_circuit(directory)
    weights = load_weights(directory)
    weights.check(circuit)
    batch = read_inputs(input_file, circuit)
    results = [circuit.execute(weights, sample) for sample in batch.samples]
    per_output = {}
    for spec in circuit.outputs:
        ints = [r[spec.name] for r in results]
        reals = [dequantize(spec, q) for q in ints]
        if not batch.batched:
            ints, reals = ints[0], reals[0]
        per_output[spec.name] = {"output": _lists(reals), "output_int": _lists(ints)}
    first = per_output[circuit.outputs[0].name]
    doc = {"schema": "zkaudit.run/1", "digest": circuit.digest(), "output": first["output"], "output_int": first["output_int"],
           "outputs": per_output, "batch": len(results) if batch.batched else None}
    if as_json:
        typer.echo(json.dumps(doc))
        return
    for name, o in per_output.items():
        typer.echo(f"{name}: {o['output']}")
        typer.echo(f"{name} (integers): {o['output_int']}")


def _lists(value):
    import numpy as np

    if isinstance(value, list):
        return [_lists(v) for v in value]
    arr = np.asarray(value)
    return arr.tolist()


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
