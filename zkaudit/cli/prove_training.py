"""`zkaudit prove-training RUN --out TRAIN.zkp`: the zero-knowledge proof that
a trained run followed its DP-SGD policy (statement train-dpsgd/v1; a thin
layer over `zkaudit.statements.training`). `zkaudit verify TRAIN.zkp` checks it."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import typer


def prove_training_cmd(
    run_dir: Path = typer.Argument(..., help="The trained run directory (`zkaudit train RUN --coin COIN`)."),
    out: Path = typer.Option(..., "--out", help="Where to write the proof (written atomically)."),
    dataset: Path = typer.Option(None, "--dataset", help="The dataset directory, if it moved since `train init`."),
    dataset_use: int = typer.Option(0, "--dataset-use", min=0, help="Which of the dataset record's training "
                                    "commitments to open (each hides the data through one proof; the registry "
                                    "refuses a second published proof on one)."),
    workers: int = typer.Option(None, "--workers", min=1, help="Processes proving a chunked run's chunks side "
                                "by side (default: up to 2 when the chunks are heavy; each holds one chunk)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Prove that RUN trained by its policy's DP-SGD (logistic regression, or an
    MLP with one ReLU layer) on the committed dataset with the coin-masked tape:
    every step's sampling, gradients, clipping, noise and update, zero-knowledge. Writes the proof,
    RUN/theta.commitment (c_theta, the trained weights' commitment the link
    proof starts from) and RUN/private/theta.salt. A large run (its policy's
    proving.chunk_steps, or an MLP past 2^20 hidden-unit rows) is proven in
    chunks, with a progress bar."""
    from zkaudit.statements.training.run_proof import prove_training
    from zkaudit.statements.training.verifier import verify_training
    from zkaudit.train.run import load_run, read_coin

    run = load_run(run_dir)
    coin = read_coin(run_dir / "coin.json")
    t0 = time.perf_counter()
    from zkaudit.train.tape import TapeShape

    if as_json or not TapeShape.of(run.policy).chunked:
        proof = prove_training(run, coin, dataset_dir=dataset, dataset_use=dataset_use, workers=workers)
    else:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
            TimeRemainingColumn

        with Progress(TextColumn("proving"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
                      TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                      console=Console(stderr=True)) as bar:
            task = bar.add_task("prove", total=TapeShape.of(run.policy).num_chunks)
            proof = prove_training(run, coin, dataset_dir=dataset, dataset_use=dataset_use, workers=workers,
                                   progress=lambda done, total: bar.update(task, completed=done))
    seconds = time.perf_counter() - t0
    verdict = verify_training(proof, run_record=run.record, coin_doc=coin)
    out = Path(out)
    fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=".train-proof-")
    with os.fdopen(fd, "wb") as f:
        f.write(proof)
    os.replace(tmp, out)
    eps = verdict.privacy.to_json()
    doc = {"schema": "zkaudit.prove-training/1", "out": str(out), "bytes": len(proof), "seconds": round(seconds, 3),
           "run_id": verdict.run_id.hex(), "theta_commitment": verdict.theta_commitment.hex(),
           "dataset_use": verdict.dataset_use,
           "soundness_bits": round(verdict.soundness_bits, 1), "privacy": eps}
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    typer.echo(f"wrote {out} ({len(proof)} bytes, {seconds:.2f} s, {verdict.soundness_bits:.1f} bits)")
    typer.echo(f"  run {verdict.run_id.hex()[:16]}...  c_theta {verdict.theta_commitment.hex()[:32]}...")
    typer.echo(f"  privacy {json.dumps(eps, sort_keys=True)}")


def verify_training_file(proof: Path, as_json: bool, auditor: str | None = None) -> None:
    """`zkaudit verify TRAIN.zkp [--auditor PUBKEY]`: the verdict in plain words (exit 1 when rejected)."""
    from zkaudit.errors import ProofRejected, ZkauditError
    from zkaudit.statements.training.verifier import verify_training

    data = Path(proof).read_bytes()
    key = None
    if auditor is not None:
        try:
            key = bytes.fromhex(auditor)
        except ValueError:
            raise ZkauditError("--auditor takes the auditor's BLS public key as 96 hex digits") from None
    try:
        v = verify_training(data, auditor_public_key=key)
    except ProofRejected as exc:
        if as_json:
            typer.echo(json.dumps({"schema": "zkaudit.verify-training/1", "valid": False,
                                   "statement": "train-dpsgd/v1", "proof": str(proof), "reason": str(exc),
                                   "error": f"rejected: {exc}", "code": "proof_rejected", "exit_code": 1},
                                  sort_keys=True))
            raise typer.Exit(1) from None
        raise ProofRejected(f"rejected: {exc}") from None
    from zkaudit.data.canonical import parse_canonical
    from zkaudit.statements.envelope import parse_envelope
    from zkaudit.statements.training.protocol import Blobs

    st = parse_canonical(Blobs(parse_envelope(data).body).next("statement"), "training statement")
    pol, ds, eps = st["policy"], st["dataset"], v.privacy.to_json()
    if as_json:
        typer.echo(json.dumps({"schema": "zkaudit.verify-training/1", "valid": True, "statement": "train-dpsgd/v1",
                               "proof": str(proof), "run_id": v.run_id.hex(), "policy": pol, "dataset_use": v.dataset_use,
                               "auditor_public_key": v.auditor_public_key.hex(), "auditor_required": key is not None,
                               "policy_digest": v.policy_digest.hex(), "dataset_digest": v.dataset_digest.hex(),
                               "dataset_rows": ds["num_rows"], "theta_commitment": v.theta_commitment.hex(),
                               "privacy_loss": eps, "soundness_bits": round(v.soundness_bits, 1),
                               "zero_knowledge": True}, sort_keys=True))
        return
    model = pol["model"]["family"] + (f" {pol['model']['hidden']}" if pol["model"].get("hidden") else "")
    typer.echo(f"valid train-dpsgd/v1 proof ({proof})")
    typer.echo(f"  run         {v.run_id.hex()[:16]}...  coin signed by {v.auditor_public_key.hex()[:16]}..., the key the "
               f"run named" + (" (as required by --auditor)" if key is not None else
                               "; give --auditor PUBKEY, or check `registry show`, to know it is a real auditor's "
                               "and that the run was registered before the coin"))
    typer.echo(f"  policy      {pol['algorithm']} {model}, clip {pol['clip_norm']}, sigma {pol['noise_multiplier']}, "
               f"q {pol['sampling']['rate_numerator']}/2^{pol['sampling']['rate_log2_denominator']}, "
               f"{pol['steps']} steps, lr {pol['learning_rate']}")
    typer.echo(f"  privacy     epsilon {float(eps['epsilon']):.3f} at delta {eps['delta']} (PLD, recomputed here; "
               f"RDP {float(eps['epsilon_rdp']):.3f}; {eps['accountant']})")
    typer.echo(f"  dataset     {v.dataset_digest.hex()[:16]}... ({ds['num_rows']} rows, schema "
               f"{ds['schema_digest'][:16]}...)")
    typer.echo(f"  output      c_theta {v.theta_commitment.hex()[:32]}... (the link proof starts here)")
    typer.echo(f"  soundness   {v.soundness_bits:.1f} bits; zero-knowledge: the data, the tape, the noise and "
               "every step's weights stay hidden")


def register(app: typer.Typer) -> None:
    app.command("prove-training")(prove_training_cmd)
