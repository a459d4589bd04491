"""`zkaudit verify PROOF`: check a proof against a local compiled model or a registry entry.

Exit 0: valid (the proven output is printed); 1: rejected, with the exact
reason; 2: usage error."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from zkaudit.errors import ProofRejected, ZkauditError
from zkaudit.statements.verify import verify_proof


def verify(
    proof: Path = typer.Argument(..., help="Proof file."),
    circuit: Path = typer.Option(None, "--circuit", help="Compiled model directory (reads DIR/public/)."),
    model: str = typer.Option(None, "--model", help="NAME@VERSION in the registry."),
    registry: str = typer.Option(None, "--registry", help="Registry database (with --model; default "
                                 "$ZKAUDIT_REGISTRY_URL, else ./zkaudit-registry.db)."),
    as_json: bool = typer.Option(False, "--json", help="Print {valid, output, reason, ...} as JSON."),
) -> None:
    """Verify PROOF against --circuit DIR, or against --model NAME@VERSION in --registry."""
    if (circuit is None) == (model is None):
        raise ZkauditError("give exactly one of --circuit DIR or --model NAME@VERSION")
    if registry is not None and model is None:
        raise ZkauditError("--registry needs --model NAME@VERSION")
    data = proof.read_bytes()
    if circuit is not None:
        pub = circuit / "public"
        try:
            circuit_bin, commitment = (pub / "circuit.bin").read_bytes(), (pub / "weights.commitment").read_bytes()
        except FileNotFoundError as exc:
            raise ZkauditError(f"{circuit} is not a compiled model directory: missing {exc.filename}") from None
        verdict = verify_proof(data, circuit_bin=circuit_bin, weight_commitment=commitment)
    else:
        from zkaudit.registry.store import Registry
        from zkaudit.registry.views import parse_ref

        name, version = parse_ref(model)
        verdict = Registry(registry).check(model=name, version=version, proof=data)
    doc = verdict.to_json()
    if verdict.valid and circuit is not None and verdict.statement == "inference":
        doc.update(_dequantized(circuit_bin, verdict.output))
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
    elif verdict.valid:
        typer.echo(f"valid {verdict.statement} proof\noutput: {json.dumps(doc['output'])}")
    if not verdict.valid:
        # Exit code 1 and the reason on stderr come from the CLI's ProofRejected handling.
        raise ProofRejected(f"rejected: {verdict.reason}")


def _dequantized(circuit_bin: bytes, ints: dict) -> dict:
    """`output` dequantized in the output's shape, `output_int` the integers
    (as `zkaudit run --json`), from the circuit's output scales."""
    import numpy as np

    from zkaudit.circuit import decode_circuit
    from zkaudit.cli._output import output_doc

    circuit = decode_circuit(circuit_bin)
    doc = output_doc(circuit, {k: np.asarray(v, dtype=np.int64) for k, v in ints.items()})
    return {"output": doc["output"], "output_int": doc["output_int"], "outputs": doc["outputs"]}


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
