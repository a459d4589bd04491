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
    input_file: Path = typer.Option(None, "--input", help="Your record (input JSON, as for `zkaudit prove`): "
                                    "the proof must be about exactly this input, whether it carries the input "
                                    "or a commitment to it."),
    input_commitment: Path = typer.Option(None, "--input-commitment", help="The proof must be about exactly "
                                          "this committed input (a file from `zkaudit commit-input`)."),
    as_json: bool = typer.Option(False, "--json", help="Print {valid, output, input_commitment, reason, ...} as "
                                                       "JSON."),
) -> None:
    """Verify PROOF against --circuit DIR, or against --model NAME@VERSION in --registry.

    With --input RECORD.json the proof is accepted only if it is about that
    record. A proof made with `prove --commit-input` carries a commitment to
    its input instead of the values; it verifies on its own (the commitment is
    printed), and with --input or --input-commitment it is accepted only if
    it is bound to that input. The commitment is binding, not hiding."""
    if (circuit is None) == (model is None):
        raise ZkauditError("give exactly one of --circuit DIR or --model NAME@VERSION")
    if registry is not None and model is None:
        raise ZkauditError("--registry needs --model NAME@VERSION")
    data = proof.read_bytes()
    expected = input_commitment.read_bytes() if input_commitment is not None else None
    inputs = None
    if input_file is not None:
        if not input_file.exists():
            raise ZkauditError(f"input file not found: {input_file}")

        def inputs(circ):  # quantized with the circuit the proof is checked against
            from zkaudit.circuit import read_inputs

            return list(read_inputs(input_file, circ).samples)
    if circuit is not None:
        pub = circuit / "public"
        try:
            circuit_bin, commitment = (pub / "circuit.bin").read_bytes(), (pub / "weights.commitment").read_bytes()
        except FileNotFoundError as exc:
            raise ZkauditError(f"{circuit} is not a compiled model directory: missing {exc.filename}") from None
        verdict = verify_proof(data, circuit_bin=circuit_bin, weight_commitment=commitment,
                               input_commitment=expected, inputs=inputs)
    else:
        from zkaudit.registry.store import Registry
        from zkaudit.registry.views import parse_ref

        name, version = parse_ref(model)
        verdict = Registry(registry).check(model=name, version=version, proof=data, input_commitment=expected,
                                           inputs=inputs)
    doc = verdict.to_json()
    if verdict.valid and circuit is not None and verdict.statement == "inference":
        doc.update(_dequantized(circuit_bin, verdict.output))
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
    elif verdict.valid:
        typer.echo(f"valid {verdict.statement} proof\noutput: {json.dumps(doc['output'])}")
        if verdict.soundness_bits is not None:
            typer.echo(f"soundness: {verdict.soundness_bits:.1f} bits (proven bound over this run; not zero-knowledge)")
        if input_file is not None:
            typer.echo(f"input: the proof is about {input_file}")
        if verdict.input_commitment is not None:
            checked = ("matches --input-commitment" if expected is not None else "matches --input" if input_file
                       else "not compared: give --input or --input-commitment")
            typer.echo(f"input: committed, {verdict.input_commitment.hex()[:32]}... ({checked})")
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
