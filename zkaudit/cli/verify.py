"""`zkaudit verify PROOF`: check a proof against a local compiled model or a
registry entry; a thin layer over `zkaudit.api.verify`.

Exit 0: valid (the proven output is printed); 1: rejected, with the exact
reason; 2: usage error."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from zkaudit.errors import ProofRejected


def verify(
    proof: Path = typer.Argument(..., help="Proof file."),
    circuit: Path = typer.Option(None, "--circuit", help="Compiled model directory (reads DIR/public/)."),
    model: str = typer.Option(None, "--model", help="NAME@VERSION in the registry; NAME@latest is the most "
                              "recently published version that is not revoked."),
    registry: str = typer.Option(None, "--registry", help="With --model: a served registry (https://HOST, or "
                                 "http://127.0.0.1:PORT; its log is checked and the proof verified here, never on "
                                 "the server's word) or its database (default $ZKAUDIT_REGISTRY_URL, else "
                                 "./zkaudit-registry.db)."),
    input_file: Path = typer.Option(None, "--input", help="Your record (input JSON, as for `zkaudit prove`): "
                                    "the proof must be about exactly this input, whether it carries the input "
                                    "or a commitment to it."),
    input_commitment: Path = typer.Option(None, "--input-commitment", help="The proof must be about exactly "
                                          "this committed input (a file from `zkaudit commit-input`)."),
    input_opening: Path = typer.Option(None, "--input-opening", help="With --input: the PROOF.input-opening file "
                                       "of a zero-knowledge proof with a committed input (its commitment is "
                                       "recomputed from your record and this secret)."),
    auditor: str = typer.Option(None, "--auditor", help="For a training proof: the auditor's BLS public key its "
                                "coin must come from (96 hex digits)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.verify/1 in "
                                                       "docs/json.md): valid, reason, outputs, input commitment."),
) -> None:
    """Verify PROOF against --circuit DIR, or against --model NAME@VERSION in --registry.

    With --input RECORD.json the proof is accepted only if it is about that
    record. A proof made with `prove --commit-input` carries a commitment to
    its input instead of the values; it verifies on its own (the commitment is
    printed), and with --input or --input-commitment it is accepted only if
    it is bound to that input; for a zero-knowledge proof, --input also needs
    --input-opening (the secret written beside the proof)."""
    from zkaudit import api

    from zkaudit.errors import ZkauditError

    if circuit is None and model is None and _is_training_proof(proof):
        from zkaudit.cli.prove_training import verify_training_file

        verify_training_file(proof, as_json, auditor)
        return
    # the API checks these too, in its own words (circuit=, model=); here in the options' names
    if (circuit is None) == (model is None):
        raise ZkauditError("give exactly one of --circuit DIR or --model NAME@VERSION")
    if registry is not None and model is None:
        raise ZkauditError("--registry needs --model NAME@VERSION")
    if input_file is not None and not input_file.is_file():
        raise ZkauditError(f"input file not found: {input_file} (--input takes your record as JSON: "
                           "{\"inputs\": {NAME: values}} or {\"input_data\": [[...]]})")
    v = api.verify(proof, circuit=circuit, model=model, registry=registry, inputs=input_file,
                   input_commitment=input_commitment, input_opening=input_opening)
    if as_json:
        doc = {"schema": "zkaudit.verify/1", "valid": v.valid, "reason": v.reason, "statement": v.statement,
               "proof": str(proof), "checked_against": {"circuit": str(circuit)} if circuit is not None else
               {"model": v.model, "registry": registry},
               "circuit_digest": v.circuit_digest, "batch": v.batch, "output": v.output, "output_int": v.output_int,
               "outputs": v.outputs,
               "input_commitment": None if v.input_commitment is None else v.input_commitment.hex(),
               "soundness_bits": None if v.soundness_bits is None else round(v.soundness_bits, 1),
               "zero_knowledge": None if v.privacy is None else v.privacy.get("zero_knowledge"),
               "privacy": v.privacy, "verifier_version": v.verifier_version}
        if not v.valid:
            doc.update(error=f"rejected: {v.reason}", code="proof_rejected", exit_code=1)
        typer.echo(json.dumps(doc, sort_keys=True))
        if not v.valid:
            raise typer.Exit(1)
        return
    if not v.valid:
        # Exit code 1 and the reason on stderr come from the CLI's ProofRejected handling.
        raise ProofRejected(f"rejected: {v.reason}")
    against = f"--circuit {circuit}" if circuit is not None else f"{v.model} in the registry"
    typer.echo(f"valid {v.statement} proof ({proof}, checked against {against})")
    if v.output is not None:
        typer.echo(f"  output      {json.dumps(v.output)}")
    if v.soundness_bits is not None:
        from zkaudit.transcript import Transcript  # loaded by the verification already

        typer.echo(f"  soundness   {v.soundness_bits:.1f} bits (proven bound over this run)")
        typer.echo(f"              ({Transcript.soundness_meaning(v.soundness_bits)})")
    for line in privacy_lines(v.privacy):
        typer.echo(line)
    if input_file is not None:
        typer.echo(f"  input       the proof is about {input_file}")
    if v.input_commitment is not None:
        checked = ("matches --input-commitment" if input_commitment is not None else "matches --input"
                   if input_file else "not compared: give --input or --input-commitment")
        typer.echo(f"  input       committed, sha256 {api.short_digest(v.input_commitment)}... ({checked})")


def _is_training_proof(proof: Path) -> bool:
    """A training proof is self-contained (it names its run, policy, dataset and coin)."""
    from zkaudit.statements.envelope import MAGIC

    try:
        with open(proof, "rb") as f:
            head = f.read(len(MAGIC) + 3 + 16)
    except OSError:
        return False
    return head.startswith(MAGIC) and head[len(MAGIC) + 3:].startswith(b"train-dpsgd")


def privacy_lines(privacy: dict | None) -> list[str]:
    """What the proof hides and reveals, in `verify`'s words."""
    if not privacy:
        return []
    if not privacy.get("zero_knowledge"):
        return ["  zero-knowledge no (a plain proof, made with --no-zero-knowledge: it reveals linear information "
                "about the activations, the input and the weights)"]
    out = ["  zero-knowledge yes (honest-verifier ZK made non-interactive by Fiat-Shamir, random-oracle model)",
           "  hidden      " + "; ".join(privacy.get("hidden", []))]
    after = privacy.get("weights_determined_after_proofs")
    if privacy.get("weights_hidden"):
        out.append("  weights     hidden (registered Poseidon2 commitment, unlimited proofs)")
    elif after is not None:
        out.append(f"  weights     NOT hidden: the registered weight commitment is opened in every proof "
                   f"({privacy['weight_columns_opened']} of its columns, {privacy['weight_evaluations_revealed']} "
                   f"evaluation(s)); {'this one proof determines' if after == 1 else f'about {after} proofs determine'}"
                   f" the weights. Recompile with --weight-commitment hashed and publish that, or give the published "
                   f"version a hiding successor (`zkaudit registry upgrade-commitment DIR --key VENDOR.key`), to keep "
                   f"them secret.")
    return out


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
