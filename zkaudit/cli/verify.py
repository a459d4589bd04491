"""`zkaudit verify PROOF`: check a proof against a local compiled model or a registry entry.

Exit 0: valid (the proven output is printed); 1: rejected, with the exact
reason; 2: usage error."""

from __future__ import annotations

import hashlib
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
    data = _read(proof, "proof file", "the file `zkaudit prove --out` wrote")
    expected = (_read(input_commitment, "input commitment", "the file `zkaudit commit-input --out` wrote")
                if input_commitment is not None else None)
    inputs = None
    if input_file is not None:
        if not input_file.is_file():
            raise ZkauditError(f"input file not found: {input_file} (--input takes your record as JSON: "
                               "{\"inputs\": {NAME: values}} or {\"input_data\": [[...]]})")

        def inputs(circ):  # quantized with the circuit the proof is checked against
            from zkaudit.circuit import read_inputs

            return list(read_inputs(input_file, circ).samples)
    if circuit is not None:
        pub = circuit / "public"
        if not circuit.is_dir():
            raise ZkauditError(f"compiled model directory not found: {circuit} (write one with "
                               f"`zkaudit compile MODEL.onnx --out {circuit}`)")
        try:
            circuit_bin, commitment = (pub / "circuit.bin").read_bytes(), (pub / "weights.commitment").read_bytes()
        except FileNotFoundError as exc:
            raise ZkauditError(f"{circuit} is not a compiled model directory: missing {exc.filename} (write one "
                               f"with `zkaudit compile MODEL.onnx --out {circuit}`)") from None
        verdict = verify_proof(data, circuit_bin=circuit_bin, weight_commitment=commitment,
                               input_commitment=expected, inputs=inputs)
    else:
        from zkaudit.registry.store import Registry
        from zkaudit.registry.views import parse_ref

        name, version = parse_ref(model)
        reg = Registry(registry)
        verdict = reg.check(model=name, version=version, proof=data, input_commitment=expected,
                                           inputs=inputs)
    doc = verdict.to_json()
    if verdict.valid and verdict.statement == "inference":
        if circuit is None:
            circuit_bin, _ = reg.artifacts(name, version)
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
            digest = hashlib.sha256(verdict.input_commitment).hexdigest()[:16]
            typer.echo(f"input: committed, sha256 {digest}... ({checked})")
    if not verdict.valid:
        # Exit code 1 and the reason on stderr come from the CLI's ProofRejected handling.
        raise ProofRejected(f"rejected: {verdict.reason}")


def _read(path: Path, what: str, hint: str) -> bytes:
    if path.is_dir():
        raise ZkauditError(f"{path} is a directory, expected the {what}")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ZkauditError(f"{what} not found: {path} ({hint})") from None


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
