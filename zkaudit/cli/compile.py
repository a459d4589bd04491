"""`zkaudit compile MODEL.onnx --out DIR`: a thin layer over
`zkaudit.api.compile`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from zkaudit.api import DEFAULT_WEIGHT_COMMITMENT


def compile_command(
    model: Path = typer.Argument(..., help="The ONNX model: float, QDQ or QOperator (onnxruntime-quantized)."),
    out: Path = typer.Option(..., "--out", help="Output directory: public/circuit.bin, public/summary.json, "
                                               "public/weights.commitment (what verifiers and the registry see) and "
                                               "private/weights.bin (never leaves the vendor). Created if absent; "
                                               "an existing folder is replaced only if it holds a compiled model and "
                                               "nothing else, and only once the new one is complete."),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Calibration samples: .npy (N x input shape), .npz (one array per input) or "
                                    "EZKL-style JSON {\"input_data\": [[...]]}. Required for float models."),
    eval_data: Path | None = typer.Option(
        None, "--eval", help="Held-out samples (same formats) to measure fidelity on; default: the calibration data."),
    input_shape: list[str] = typer.Option(
        [], "--input-shape", help="Fix an input's shape, e.g. --input-shape x=1,3,28,28 (repeatable)."),
    method: str = typer.Option("minmax", "--method", help="Calibration method: minmax or percentile."),
    percentile: float = typer.Option(99.99, "--percentile", help="Percentile for --method percentile, in (50, 100]."),
    weight_commitment: str = typer.Option(
        None, "--weight-commitment", metavar="[hashed|plain]", show_default=False,
        help="What public/weights.commitment holds. plain: the tensor-code commitment that every proof opens, "
             "so it is not hiding. hashed: a salted Poseidon2 Merkle root (p2gl8-tree-v2) that proofs never open, "
             "with its 16-byte salt in private/weights.salt (mode 0600; keep it with the weights). "
             f"Default: {DEFAULT_WEIGHT_COMMITMENT}."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.compile/1 in "
                                                       "docs/json.md): the summary and the files written."),
) -> None:
    """Compile an ONNX model into an integer circuit and a weights file."""
    from zkaudit.api import compile as compile_api
    from zkaudit.onnx import parse_shape_option
    from zkaudit.registry.weight_commitments import describe_weight_commitment, one_line

    shapes = dict(parse_shape_option(s) for s in input_shape)
    result = compile_api(model, out, calibration=calibration, input_shapes=shapes or None, eval_data=eval_data,
                         method=method, percentile=percentile, weight_commitment=weight_commitment)
    s = result.summary
    described = describe_weight_commitment((Path(result.out_dir) / FILES["weight_commitment"]).read_bytes())
    files = dict(FILES, **({"weight_salt": SALT} if (Path(result.out_dir) / SALT).is_file() else {}))
    if as_json:
        # the summary's fields at the top level, as public/summary.json holds them
        typer.echo(json.dumps({**s, "schema": "zkaudit.compile/1", "out": str(result.out_dir), "files": files,
                               "weight_commitment": described}, sort_keys=True))
        return
    from zkaudit.onnx.fidelity import fidelity_lines

    typer.echo(f"compiled {s['model']} ({s['kind']}) -> {result.out_dir}")
    typer.echo(f"  digest      {s['digest']}")
    typer.echo(f"  nodes       {s['nodes']}  ({', '.join(f'{k} x{v}' for k, v in s['ops'].items())})")
    typer.echo(f"  parameters  {s['parameters']}")
    typer.echo("  public      public/circuit.bin, public/summary.json, public/weights.commitment")
    typer.echo(f"  commitment  {one_line(described)}")
    if "weight_salt" in files:
        typer.echo(f"  private     private/weights.bin, {SALT} (keep both: proving needs them; never publish them)")
    else:
        typer.echo("  private     private/weights.bin (keep it: proving needs it; never publish it)")
    for io in s["inputs"] + s["outputs"]:
        typer.echo(f"  {io['name']:<11} shape {tuple(io['shape'])} scale {io['scale']} zero point {io['zero_point']}")
    for line in fidelity_lines(s, hints=False):
        typer.echo("  " + line)
    for note in s.get("notes", []):  # warnings (agreement, saturation, coarse features) and what was fixed
        typer.echo("  " + (note if note.startswith("warning:") else "note: " + note))


FILES = {"circuit": "public/circuit.bin", "summary": "public/summary.json",
         "weight_commitment": "public/weights.commitment", "weights": "private/weights.bin"}
SALT = "private/weights.salt"  # with a hashed weight commitment only


def _weight_commitment(circuit, weights) -> dict:
    """Kept for scripts that call compile_model directly: `zkaudit.api.weight_commitment_file`."""
    from zkaudit.api import weight_commitment_file

    return weight_commitment_file(circuit, weights)


def register(app: typer.Typer) -> None:
    app.command("compile")(compile_command)
