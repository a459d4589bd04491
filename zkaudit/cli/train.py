"""`zkaudit train init|run|check` and `zkaudit coin sign`: DP-SGD runs under a
declared policy (a thin layer over `zkaudit.train.run`). `zkaudit train RUN
--coin COIN` is short for `zkaudit train run RUN --coin COIN`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.core import TyperGroup


class _TrainGroup(TyperGroup):
    """`train RUN ...` runs `train run RUN ...`: a first argument that is not a
    subcommand (nor an option) names a run directory."""

    def parse_args(self, ctx, args):
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


train_app = typer.Typer(name="train", cls=_TrainGroup, no_args_is_help=True,
                        help="DP-SGD training under a declared policy: init a run (commit its secret tape), then "
                             "train it with the auditor's coin (`zkaudit train RUN --coin COIN`), check it.")
coin_app = typer.Typer(name="coin", no_args_is_help=True,
                       help="The auditor's coin for a training run: a unique BLS signature over the run record.")

PRIVATE_NOTE = "private/ holds the secret tape and the training trace: never publish it"


def _dump(doc: dict) -> None:
    typer.echo(json.dumps(doc, sort_keys=True))


@train_app.command("init")
def init(
    policy: Path = typer.Option(..., "--policy", help="The training policy JSON (algorithm dpsgd/v1; fields as in this command's description)."),
    dataset: Path = typer.Option(..., "--dataset", help="Dataset directory from `zkaudit data commit` (needs its "
                                                        "private opening.npz)."),
    out: Path = typer.Option(..., "--out", help="New run directory: run.json (the public run record with the tape "
                                                "commitment), policy.json, dataset.json, private/ (the secret tape)."),
    auditor: str = typer.Option(..., "--auditor", help="The auditor's BLS public key (96 hex digits, as `zkaudit "
                                                       "keys gen` prints it): only its coin will be accepted."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: run id, record, epsilon."),
) -> None:
    """Start a run: draw a secret random tape, commit to it, and fix the policy,
    dataset and auditor before any coin exists.

    Prints epsilon for the policy on this dataset (dp-accounting PLD, RDP as a
    cross-check). Send run.json to the auditor for its coin.

    The policy (JSON; exact decimal strings for reals, every problem reported at
    once): algorithm "dpsgd/v1"; model {family: logreg} or {family: mlp, hidden:
    [h]} (one ReLU layer; needs seeded init); data {features: [columns], label:
    column}, features fixed-point at scale feature_bits; fixed_point
    {feature_bits, weight_bits, grid_bits, sigmoid_input_bits,
    sigmoid_input_limit, weight_limit_log2}; clip_norm C; noise_multiplier sigma;
    learning_rate (dyadic); sampling {rate_numerator Q, rate_log2_denominator k
    (q = Q/2^k), expected_batch (a power of two, the divisor), max_batch};
    steps; init {kind: zeros} or {kind: seeded, seed: hex}; privacy {delta,
    neighbouring: add_or_remove_one}; accountant {library: dp-accounting,
    version: 0.6.0, method: pld, pld_discretization, cross_check: rdp}; optional
    proving {chunk_steps: S}: prove the run in chunks of S steps (the tape is
    laid out by chunk, so it is fixed here; without it, an MLP past 2^20
    hidden-unit rows is chunked by size)."""
    from zkaudit.data.canonical import digest
    from zkaudit.train.accountant import epsilon
    from zkaudit.train.errors import TrainingError
    from zkaudit.train.policy import load_policy
    from zkaudit.train.run import init_run

    try:
        pk = bytes.fromhex(auditor)
    except ValueError:
        raise TrainingError(f"--auditor: {auditor[:20]!r} is not hex (96 hex digits expected)") from None
    pol = load_policy(policy)
    record = init_run(pol, dataset, out, pk)
    privacy = epsilon(pol, record["num_rows"])
    run_id = digest(record).hex()
    if as_json:
        _dump({"schema": "zkaudit.train-init/1", "out": str(out), "run_id": run_id, "record": record,
               "privacy": privacy.to_json()})
        return
    typer.echo(f"run {run_id} -> {out}")
    typer.echo(f"  policy      {record['policy_digest']} ({pol.steps} steps, q = {pol.rate_numerator}/2^"
               f"{pol.rate_log2_denominator}, B_max {pol.max_batch}, sigma {float(pol.noise_multiplier):g})")
    typer.echo(f"  dataset     {record['dataset_record_digest']} ({record['num_rows']} rows)")
    typer.echo(f"  tape        {record['tape']['words']} words, commitment {record['tape']['commitment']}")
    typer.echo(f"  epsilon     {privacy.epsilon:.3f} (PLD; RDP {privacy.epsilon_rdp:.3f}) at delta "
               f"{privacy.delta:g} (implementation slack {privacy.slack:.2g})")
    typer.echo(f"  next        the auditor runs `zkaudit coin sign {out} --key AUDITOR.key`")
    typer.echo(f"  {PRIVATE_NOTE}")


@train_app.command("run")
def run_command(
    run: Path = typer.Argument(..., help="Run directory from `zkaudit train init`."),
    coin: Path = typer.Option(..., "--coin", help="The auditor's coin file (`zkaudit coin sign`)."),
    dataset: Path | None = typer.Option(None, "--dataset", help="Dataset directory, if it moved since init."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (result.json) instead of progress."),
) -> None:
    """Train: verify the coin, derive the noise and batches from tape + coin, run
    the integer DP-SGD, export model.onnx (float) and model_int8.onnx (QDQ).

    Both models compile with `zkaudit compile`; the float one with
    --calibration RUN/private/calibration.npy."""
    from zkaudit.train.run import load_run, read_coin, train_run

    r = load_run(run)
    coin_doc = read_coin(coin)
    if as_json:
        _dump(train_run(r, coin_doc, dataset_dir=dataset))
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    console = Console(stderr=True)
    with console.status("building the sampler tables (rounded-Gaussian and gap CDTs, sigmoid)"):
        from zkaudit.train.trainer import Semantics

        Semantics.of(r.policy, r.record["num_rows"])  # cached for the run below
    with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("steps  loss {task.fields[loss]}"),
                  TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=console,
                  transient=False) as progress:
        task = progress.add_task("train", total=r.policy.steps, loss="-")

        def on_step(t: int, loss: float) -> None:
            progress.update(task, completed=t + 1, loss=f"{loss:.4f}")

        result = train_run(r, coin_doc, dataset_dir=dataset, on_step=on_step)
    p, qz = result["privacy"], result["quantization"]
    typer.echo(f"trained {run}: {result['steps']} steps, mean batch {float(result['mean_batch']):.1f}, "
               f"train accuracy {float(result['train_accuracy']):.2%}, final loss {float(result['final_loss']):.4f}")
    typer.echo(f"  epsilon     {float(p['epsilon']):.3f} (PLD; RDP {float(p['epsilon_rdp']):.3f}) at delta "
               f"{float(p['delta']):g}")
    typer.echo(f"  models      {run / 'model.onnx'} (float), {run / 'model_int8.onnx'} (int8 QDQ, "
               f"{qz['saturated']} weights saturated)")
    typer.echo(f"  compile     zkaudit compile {run / 'model_int8.onnx'} --out MODEL/")
    typer.echo(f"  {PRIVATE_NOTE}")


@train_app.command("check")
def check_command(
    run: Path = typer.Argument(..., help="A trained run directory."),
    coin: Path = typer.Option(..., "--coin", help="The coin the run was trained with."),
    dataset: Path | None = typer.Option(None, "--dataset", help="Dataset directory, if it moved since init."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Re-check a trained run in the clear (not zero-knowledge: it reads the
    secret tape and trace): the tape opens its commitment, the coin is the
    auditor's signature over this run, and every step follows the policy."""
    from zkaudit.train.run import check_run, load_run, read_coin

    summary = check_run(load_run(run), read_coin(coin), dataset_dir=dataset)
    if as_json:
        _dump({"schema": "zkaudit.train-check/1", "verdict": "ok", **summary})
        return
    typer.echo(f"ok: run {summary['run_id']}, {summary['steps']} steps ({summary['checked']})")


@coin_app.command("sign")
def coin_sign(
    run: Path = typer.Argument(..., help="Run directory from `zkaudit train init` (only run.json and policy.json "
                                         "are read)."),
    key: Path = typer.Option(..., "--key", help="The auditor's keystore (`zkaudit keys gen`); must be the key the "
                                                "run record names."),
    out: Path | None = typer.Option(None, "--out", help="Coin file to write (default RUN/coin.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the coin as one JSON object."),
) -> None:
    """Sign a run's coin: the auditor's BLS signature over the run id (which binds
    the tape commitment, the policy and the dataset). BLS signatures are unique,
    so the coin cannot be ground by either side."""
    from zkaudit.registry.keys import read_keystore
    from zkaudit.train.errors import TrainingError
    from zkaudit.train.run import load_run, sign_coin_file

    r = load_run(run)
    k = read_keystore(key)
    doc = sign_coin_file(r, k.secret_key, k.name)
    target = out or run / "coin.json"
    if target.exists():
        raise TrainingError(f"{target} already exists; a run has one coin")
    target.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    if as_json:
        _dump({**doc, "out": str(target)})
        return
    typer.echo(f"coin {doc['coin']} for run {doc['run_id']} -> {target} (signed by {doc['signer']})")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
    app.add_typer(coin_app, name="coin")
