"""`zkaudit demo`: the whole vendor -> registry -> hospital journey on the
clinical breast-cancer MLP of the zoo, on an embedded SQLite registry; then
the training act (`_demo_training`): a DP-SGD logistic regression on the
breast-cancer data, from the sealed, consented dataset to the registered
int8 model, with its provenance chain.

Every step runs the real code path (the same functions the individual
commands use); nothing is precomputed or printed without being computed."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import typer

from zkaudit.errors import ZkauditError

ZOO_MODEL = "clinical_mlp"


def _zoo() -> Path:
    root = Path(__file__).resolve().parents[2] / "circuits" / ZOO_MODEL
    if not (root / "model.onnx").exists():
        raise ZkauditError(f"the demo model is missing: {root / 'model.onnx'}",
                           hint="run the demo from a source checkout of zkaudit")
    return root


class _Steps:
    def __init__(self, as_json: bool):
        self.as_json = as_json
        self.record: list[dict] = []

    def run(self, title: str, fn):
        if not self.as_json:
            typer.secho(f"\n[{len(self.record) + 1}] {title}", bold=True)
        t0 = time.perf_counter()
        result, lines = fn()
        seconds = time.perf_counter() - t0
        self.record.append({"step": title, "act": "inference", "seconds": round(seconds, 3), **result})
        if not self.as_json:
            for line in lines:
                typer.echo(f"    {line}")
            typer.echo(f"    ({seconds:.2f} s)")
        return result


def demo_command(
    workdir: Path = typer.Option(None, "--dir", help="Folder for the registry, keys, compiled model and proof "
                                                     "(default: a temporary folder, removed afterwards)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema zkaudit.demo/1 in "
                                                                 "docs/json.md) recording every step."),
) -> None:
    """Run the whole journey on a local SQLite registry, in two acts.

    Inference: compile the zoo's clinical MLP, publish it with a signed
    attestation, prove a prediction for a sample patient (zero-knowledge),
    verify it against the registry as a hospital would, and show a tampered
    prediction rejected. Training: seal the breast-cancer data, prove
    consent, register a DP-SGD run, take the auditor's coin, train, prove the
    training (zero-knowledge) and see a tampered proof refused, publish the
    int8 model, link it to the trained weights, and show the provenance chain
    with epsilon and delta."""
    import numpy as np

    from zkaudit.circuit import load_circuit, load_weights, read_inputs
    from zkaudit.cli._demo_training import check_folder, training_act
    from zkaudit.cli._output import output_doc
    from zkaudit.api import compile as compile_model
    from zkaudit.registry.artifacts import read_model_dir
    from zkaudit.registry.client import card_from, publish_local
    from zkaudit.registry.keys import KeyPair, read_keystore, write_keystore
    from zkaudit.registry.store import Registry
    from zkaudit.statements.envelope import encode_envelope, parse_envelope
    from zkaudit.statements.inference.commitment import COMMITMENT_FILE
    from zkaudit.statements.inference.proof import InferenceBody
    from zkaudit.statements.inference.prover import prove

    zoo = _zoo()
    temporary = workdir is None
    root = Path(tempfile.mkdtemp(prefix="zkaudit-demo-")) if temporary else workdir
    check_folder(root)
    root.mkdir(parents=True, exist_ok=True)
    model_dir, db = root / "clinical_mlp", root / "registry.db"
    steps = _Steps(as_json)
    stamp = f"1.0.{int(time.time())}"  # both acts' model versions
    try:
        def compile_step():
            summary = compile_model(zoo / "model.onnx", model_dir, calibration=zoo / "calibration.npy").summary
            f = summary["fidelity"]
            return ({"digest": summary["digest"], "parameters": summary["parameters"], "fidelity": f}, [
                f"model       breast-cancer Wisconsin MLP, {summary['parameters']} parameters, ops {summary['ops']}",
                f"digest      {summary['digest']}",
                (f"fidelity    top-1 agreement with the float model {f['float_top1_agreement']:.2%} on "
                f"{f['samples']} samples, max abs error {f['float_max_abs_error']:.4f}"),
                (f"wrote       {model_dir}/public (circuit, hiding Poseidon2 weight commitment) and "
                 "private/weights.bin + weights.salt"),
            ])

        steps.run("vendor compiles the model and commits to its weights", compile_step)

        def publish_step():
            key_file = root / "vendor.key"
            if key_file.exists():  # a reused --dir keeps its vendor identity
                vendor = read_keystore(key_file)
            else:
                vendor = KeyPair.generate("demo-vendor")
                write_keystore(key_file, vendor)
            reg, _, _ = Registry.init(str(db), root / "registry.key")
            version = stamp
            out = publish_local(reg, vendor, read_model_dir(model_dir), "clinical-mlp", version,
                                card_from("breast-cancer malignancy risk, decision support only",
                                          "sklearn breast-cancer Wisconsin, 75% train split", {"top1": "0.99"}))
            reg.close()
            return ({"model": f"clinical-mlp@{version}", "log_index": out["log_index"]}, [
                f"registry    {db} (SQLite, Alembic schema, transparency log)",
                f"published   clinical-mlp@{version}, signed by vendor key {vendor.public_key.hex()[:16]}...",
                f"log entry   {out['log_index']} (BLS-signed attestation over the circuit digest and commitment)",
            ])

        published = steps.run("vendor publishes the model version with a signed attestation", publish_step)
        name, version = published["model"].split("@")

        circuit = load_circuit(model_dir)
        weights = load_weights(model_dir)
        sample = read_inputs(zoo / "input.json", circuit).samples[0]

        def prove_step():
            from zkaudit.api import weight_salt

            registered = (model_dir / COMMITMENT_FILE).read_bytes()
            proof = prove(circuit, weights, sample, weight_commitment=registered,
                          weight_salt=weight_salt(model_dir, registered))
            (root / "prediction.zkp").write_bytes(proof)
            out = output_doc(circuit, circuit.execute(weights, sample))
            risk = out["output"][0]
            return ({"proof_bytes": len(proof), "output": out["output"]}, [
                "patient     30 standardized features of one held-out breast-cancer record",
                f"prediction  P(malignant) = {risk[0]:.3f}, P(benign) = {risk[1]:.3f}",
                (f"proof       {root / 'prediction.zkp'} ({len(proof):,} bytes, zero-knowledge): this output "
                 "came from the registered model on this input; the weights stay hidden"),
            ])

        steps.run("vendor proves the prediction for a sample patient", prove_step)
        proof = (root / "prediction.zkp").read_bytes()

        def verify_step():
            reg = Registry(str(db))
            verdict = reg.check(model=name, version=version, proof=proof)
            reg.close()
            if not verdict.valid:
                raise ZkauditError(f"the honest proof was rejected: {verdict.reason}")
            return ({"valid": True, "reason": verdict.reason}, [
                f"checked     against registry entry {name}@{version} (circuit digest + weight commitment)",
                f"verdict     VALID - {verdict.reason}; output {json.dumps(verdict.output)}",
            ])

        steps.run("hospital verifies the prediction against the registry entry", verify_step)

        def tamper_step():
            env = parse_envelope(proof)
            body = InferenceBody.from_bytes(env.body, circuit)
            y = {k: v.copy() for k, v in body.outputs.items()}
            out_name = circuit.outputs[0].name
            flat = y[out_name].reshape(-1)
            flat[[0, 1]] = flat[[1, 0]]  # swap the two class scores: "benign" becomes "malignant"
            # every other field kept as proven: only the claimed output changes
            forged = encode_envelope(env.statement, dataclasses.replace(body, outputs=y).to_bytes(circuit))
            reg = Registry(str(db))
            verdict = reg.check(model=name, version=version, proof=forged)
            reg.close()
            if verdict.valid:
                raise ZkauditError("a tampered prediction was accepted: this is a soundness bug, please report it")
            return ({"valid": False, "reason": verdict.reason, "tampered_output": np.asarray(y[out_name]).tolist()}, [
                "tampered    the two class scores swapped in the proof file",
                f"verdict     REJECTED - {verdict.reason}",
                "meaning     the output in the proof is not what the registered model computes on this input",
            ])

        steps.run("a tampered prediction is rejected", tamper_step)

        if not as_json:
            typer.secho("\nThe training act: where the registered weights came from", bold=True)
        training_act(steps, root, db, stamp)
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    if as_json:
        typer.echo(json.dumps({"schema": "zkaudit.demo/1", "steps": steps.record,
                               "dir": None if temporary else str(root)}))
    else:
        total = sum(s["seconds"] for s in steps.record)
        typer.secho(f"\ndemo complete in {total:.1f} s. Every proof above is real and zero-knowledge; the "
                    "training figures measured apart (cold and warm, peak memory): benchmarks/training_bench.py.",
                    bold=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
