"""`zkaudit link RUN --model DIR --out LINK.zkp`: prove that the compiled
model's registered weights are exactly the declared quantization of the
run's trained theta (statement link-quant/v1; a thin layer over
`zkaudit.statements.link`). `zkaudit verify LINK.zkp --circuit DIR` checks it."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import typer

THETA_SALT = Path("private") / "theta.salt"


def _theta_commitment(run, salt_file: Path | None):
    """(c_theta bytes, salt): the training proof's output commitment of theta."""
    import numpy as np

    from zkaudit.errors import ZkauditError
    from zkaudit.hash import commitment as hc

    if salt_file is None:
        try:  # the training statement's own derivation, once it lands (lead-owned)
            from zkaudit.statements.training.output import theta_commitment
        except ImportError:
            theta_commitment = None
        if theta_commitment is not None and (run.path / THETA_SALT).is_file():
            com, salt = theta_commitment(run)
            return com.to_bytes(), tuple(salt)
    path = salt_file or run.path / THETA_SALT
    if not path.is_file():
        raise ZkauditError(f"{path} not found: it holds the salt of c_theta, written by the training proof "
                           "(`zkaudit prove-training`); or give it with --theta-salt FILE")
    try:
        salt = hc.salt_from_bytes(path.read_bytes())
    except hc.MalformedWeightCommitment as exc:
        raise ZkauditError(f"{path}: {exc}") from None
    theta = np.array(_result(run)["theta"], dtype=np.int64)
    policy = run.policy
    layout = hc.TensorLayout("theta", (theta.shape[0],), -policy.weight_limit, policy.weight_limit)
    return hc.commit_weights([layout], [theta], salt)[0].to_bytes(), salt


def _result(run) -> dict:
    from zkaudit.errors import ZkauditError

    path = run.path / "result.json"
    try:
        doc = json.loads(path.read_text())
        doc["theta"], doc["quantization"]["layers"]  # noqa: B018 - presence check
    except (OSError, ValueError, KeyError, TypeError):
        raise ZkauditError(f"{path} is missing or malformed: train the run first (`zkaudit train RUN --coin ...`)") \
            from None
    return doc


def _write_atomic(out: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def link(
    run_dir: Path = typer.Argument(..., help="Trained run directory (result.json, policy.json, private/theta.salt)."),
    model: Path = typer.Option(..., "--model", help="Compiled model directory (`zkaudit compile` of "
                                                    "RUN/model_int8.onnx, hashed weight commitment)."),
    out: Path = typer.Option(..., "--out", help="Proof file to write."),
    theta_salt: Path = typer.Option(None, "--theta-salt", help="The salt of c_theta (default RUN/private/theta.salt)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: what the proof states, size, time."),
) -> None:
    """Prove the compiled model's weights are the declared quantization of the run's trained theta (zero-knowledge)."""
    import numpy as np

    from zkaudit.circuit import load_circuit, load_weights
    from zkaudit.errors import ZkauditError
    from zkaudit.hash import commitment as hc
    from zkaudit.statements.link.proof import SCALES
    from zkaudit.statements.link.prover import prove_link
    from zkaudit.statements.link.verifier import verify_link
    from zkaudit.train.run import load_run

    if out.exists():
        raise ZkauditError(f"{out} exists; choose another --out")
    if not out.parent.is_dir():
        raise ZkauditError(f"--out {out}: folder {out.parent} does not exist")
    run = load_run(run_dir)
    result = _result(run)
    c_theta, t_salt = _theta_commitment(run, theta_salt)
    written = run.path / "theta.commitment"  # what `zkaudit prove-training` wrote beside its proof
    if written.is_file() and written.read_bytes() != c_theta:
        raise ZkauditError(f"theta and its salt do not make {written} (the training proof's c_theta): "
                           "give the salt that training proof wrote (RUN/private/theta.salt)")
    circuit, weights = load_circuit(model), load_weights(model)
    cw_path, salt_path = model / "public" / "weights.commitment", model / "private" / "weights.salt"
    if not cw_path.is_file() or not hc.is_hashed_commitment(cw_path.read_bytes()):
        raise ZkauditError(f"{model} has no hashed weight commitment: compile with the default "
                           "(--weight-commitment hashed)")
    if not salt_path.is_file():
        raise ZkauditError(f"{salt_path} not found: the link proof needs the weights' salt (the vendor's folder)")
    w_salt = hc.salt_from_bytes(salt_path.read_bytes())
    try:
        layers = [{k: float(layer[k]) for k in SCALES} for layer in result["quantization"]["layers"]]
    except (KeyError, TypeError, ValueError):
        raise ZkauditError(f"{run_dir / 'result.json'}: the quantization layers lack their scales "
                           f"({', '.join(SCALES)})") from None
    policy = run.policy
    t0 = time.perf_counter()
    proof = prove_link(np.array(result["theta"], dtype=np.int64), t_salt, circuit, dict(weights), w_salt, layers,
                       limit=policy.weight_limit, weight_bits=policy.weight_bits, theta_commitment=c_theta,
                       weight_commitment=cw_path.read_bytes())
    seconds = time.perf_counter() - t0
    verdict = verify_link(proof, theta_commitment=c_theta, weight_commitment=cw_path.read_bytes(), circuit=circuit)
    _write_atomic(out, proof)
    doc = {"schema": "zkaudit.link/1", "out": str(out), "bytes": len(proof), "seconds": round(seconds, 3),
           "statement": verdict.to_json(), "soundness_bits": round(verdict.soundness_bits, 1)}
    if as_json:
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    typer.echo(f"wrote {out} ({len(proof)} bytes, {seconds:.2f} s)")
    typer.echo(f"  theta       c_theta {c_theta.hex()[:32]}... ({verdict.num_params} parameters)")
    typer.echo(f"  weights     c_W {cw_path.read_bytes().hex()[:32]}... (circuit {verdict.circuit_digest[:16]}...)")
    typer.echo(f"  saturated   {verdict.saturated} weights clamped to +-127")
    typer.echo(f"  quant spec  {verdict.quant_spec_digest.hex()[:16]}...   pi {verdict.pi_digest.hex()[:16]}...")
    typer.echo("  zero-knowledge: theta, the weights and both salts stay hidden")


def register(app: typer.Typer) -> None:
    app.command("link")(link)
