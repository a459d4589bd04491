"""`zkaudit compile MODEL.onnx --out DIR`: a thin layer over
`zkaudit.onnx.compile_model`."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def compile_command(
    model: Path = typer.Argument(..., help="The ONNX model: float, QDQ or QOperator (onnxruntime-quantized)."),
    out: Path = typer.Option(..., "--out", help="Output directory: public/circuit.bin, public/summary.json, "
                                               "public/weights.commitment (what verifiers and the registry see) and "
                                               "private/weights.bin (never leaves the vendor); replaced only once "
                                               "complete."),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Calibration samples: .npy (N x input shape), .npz (one array per input) or "
                                    "EZKL-style JSON {\"input_data\": [[...]]}. Required for float models."),
    eval_data: Path | None = typer.Option(
        None, "--eval", help="Held-out samples (same formats) to measure fidelity on; default: the calibration data."),
    input_shape: list[str] = typer.Option(
        [], "--input-shape", help="Fix an input's shape, e.g. --input-shape x=1,3,28,28 (repeatable)."),
    method: str = typer.Option("minmax", "--method", help="Calibration method: minmax or percentile."),
    percentile: float = typer.Option(99.99, "--percentile", help="Percentile for --method percentile."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Compile an ONNX model into an integer circuit and a weights file."""
    from zkaudit.onnx import compile_model, parse_shape_option

    shapes = dict(parse_shape_option(s) for s in input_shape)
    result = compile_model(model, out, calibration=calibration, input_shapes=shapes or None, eval_data=eval_data,
                           method=method, percentile=percentile, extra_files=_weight_commitment)
    s = result.summary
    if as_json:
        typer.echo(json.dumps(s, sort_keys=True))
        return
    f = s["fidelity"]
    typer.echo(f"compiled {s['model']} ({s['kind']}) -> {result.out_dir}")
    typer.echo(f"  digest      {s['digest']}")
    typer.echo(f"  nodes       {s['nodes']}  ({', '.join(f'{k} x{v}' for k, v in s['ops'].items())})")
    typer.echo(f"  parameters  {s['parameters']}")
    typer.echo("  public      public/circuit.bin, public/summary.json, public/weights.commitment")
    typer.echo("  private     private/weights.bin (keep it: proving needs it; never publish it)")
    for io in s["inputs"] + s["outputs"]:
        typer.echo(f"  {io['name']:<11} shape {tuple(io['shape'])} scale {io['scale']} zero point {io['zero_point']}")
    typer.echo(f"  fidelity on {f['samples']} {f['source']} samples:")
    if "float_top1_agreement" in f:
        typer.echo(f"    vs float: top-1 agreement {f['float_top1_agreement']:.2%}, "
                   f"max abs error {f['float_max_abs_error']:.4g}")
    if "ort_exact_match_rate" in f:
        typer.echo(f"    vs onnxruntime: exact {f['ort_exact_match_rate']:.3%}, max {f['ort_max_lsb_diff']} LSB")


def _weight_commitment(circuit, weights) -> dict:
    """public/weights.commitment: the commitment every proof opens (and the registry publishes)."""
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE
    from zkaudit.statements.inference.prover import commit_weights

    commitment, _ = commit_weights(circuit, weights)
    return {COMMITMENT_FILE: commitment.to_bytes()}


def register(app: typer.Typer) -> None:
    app.command("compile")(compile_command)
