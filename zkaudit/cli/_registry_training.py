"""`zkaudit registry publish-run | publish-coin | publish-training | publish-link`:
the training chain (design/statements.md §5), attached to the `registry`
group by `cli/registry.py`; and the plain-words text of a training chain that
`registry show` prints. Writes go to a registry database (the HTTP API reads
the chain but takes no training records yet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from zkaudit.errors import ZkauditError

KEY_HELP = "Keystore that signs (`zkaudit keys gen`); registered with its proof of possession on first use."


def _database(registry, registry_key):
    from zkaudit.cli.registry import open_registry
    from zkaudit.registry.remote import is_remote, resolve

    if is_remote(resolve(registry)):
        raise ZkauditError(f"--registry {resolve(registry)} is a served registry: training records are published "
                           "to the registry's database", hint="give --registry its SQLite path or postgresql:// URL")
    return open_registry(registry, registry_key)


def _first_use(reg, key) -> dict[str, Any]:
    known = reg.signer_role(key.public_key) is not None
    return {"signer_name": None if known else key.name, "pop": None if known else key.proof_of_possession()}


def _run_id(value: str) -> str:
    """A run directory's run id, or a run id given as 64 hex digits."""
    p = Path(value)
    if p.is_dir():
        from zkaudit.train.run import load_run

        return load_run(p).run_id.hex()
    v = value.strip().lower()
    if len(v) == 64 and all(c in "0123456789abcdef" for c in v):
        return v
    raise ZkauditError(f"--run {value!r} is neither a run directory nor a run id (64 hex digits)",
                       hint="the folder `zkaudit train init --out` made")


def _proof_bytes(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ZkauditError(f"{what} {path}: no such file") from None
    except OSError as exc:
        raise ZkauditError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def attach(app: typer.Typer, REGISTRY, REGISTRY_KEY, JSON, emit) -> None:  # noqa: N803 (registry.py's option objects)
    @app.command("publish-run")
    def publish_run(run: Path = typer.Argument(..., help="Run directory from `zkaudit train init` (run.json and "
                                                         "policy.json are read; private/ never is)."),
                    key: Path = typer.Option(..., "--key", help="The trainer's keystore (a vendor or custodian). "
                                             + KEY_HELP),
                    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
        """Register a training run before its coin: policy, dataset, tape commitment and
        auditor key, signed by the trainer.

        The dataset must be published already. Prints epsilon if the run were
        trained now, composed with every run already registered on the dataset."""
        from zkaudit.registry import keys as bls
        from zkaudit.registry import training_records as tr
        from zkaudit.train.run import load_run

        r = load_run(run)
        k = bls.read_keystore(key)
        reg = _database(registry, registry_key)
        sig = k.sign(tr.training_run_message(tr.training_run(run_id=r.run_id.hex())))
        out = reg.publish_training_run(r.record, r.policy.doc, signer=k.public_key, signature=sig,
                                       **_first_use(reg, k))
        consent = out["consent_proof"] or "none published (a consent proof over the dataset is shown when one is)"
        emit(as_json, out, f"registered training run {out['run_id']} by {out['trainer']}\n"
             f"dataset:        {out['dataset']}\nconsent proof:  {consent}\n"
             f"tape:           commitment {out['tape_commitment']}\nauditor key:    {out['auditor_public_key']}\n"
             f"epsilon now:    {out['epsilon_if_trained_now']:.4g} at delta {out['delta']:g} "
             f"({out['runs_on_dataset']} run(s) on this dataset composed)\nlog entry:      {out['log_index']}\n"
             f"next:           the auditor signs the coin (`zkaudit coin sign {run} --key AUDITOR.key`)")

    @app.command("publish-coin")
    def publish_coin(run: Path = typer.Argument(..., help="Run directory (its coin.json is read unless --coin "
                                                          "names another file)."),
                     coin: Path = typer.Option(None, "--coin", help="The coin file (`zkaudit coin sign --out`)."),
                     key: Path = typer.Option(None, "--key", help="The auditor's keystore: signs the coin when "
                                              "there is no coin file, and registers the auditor on first use."),
                     registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
        """Log the auditor's coin for a registered run: its unique BLS signature over the run id (one per run)."""
        from zkaudit.registry import keys as bls
        from zkaudit.train.run import load_run, read_coin, sign_coin_file

        r = load_run(run)
        k = bls.read_keystore(key) if key is not None else None
        path = coin or run / "coin.json"
        if path.exists() or coin is not None:
            doc = read_coin(path)
            if k is not None and doc.get("public_key") != k.public_key.hex():
                raise ZkauditError(f"{path} was signed by {str(doc.get('signer'))!r}, not by --key {k.name!r}",
                                   hint="give the auditor's keystore, or leave --key out if it is registered")
        elif k is not None:
            doc = sign_coin_file(r, k.secret_key, k.name)
        else:
            raise ZkauditError(f"{path} not found and no --key to sign the coin with",
                               hint="the auditor runs `zkaudit coin sign RUN --key AUDITOR.key` first")
        if doc.get("run_id") != r.run_id.hex():
            raise ZkauditError(f"{path} is a coin for run {str(doc.get('run_id'))[:16]}..., not for {run} "
                               f"({r.run_id.hex()[:16]}...): the run record changed after the coin",
                               hint="a run has one coin; a changed run is a new run and needs its own")
        reg = _database(registry, registry_key)
        first = _first_use(reg, k) if k is not None else {}
        out = reg.publish_coin(doc, **first)
        emit(as_json, out, f"logged coin {out['coin']} for run {out['run_id']}\n"
             f"signed by:  {out['auditor']} ({out['auditor_public_key'][:16]}...)\nlog entry:  {out['log_index']}")

    @app.command("publish-training")
    def publish_training(run: Path = typer.Argument(..., help="Run directory (its run id is read)."),
                         proof: Path = typer.Argument(..., help="The training proof (`zkaudit prove-training`)."),
                         key: Path = typer.Option(..., "--key", help="The trainer's keystore (the key that "
                                                  "registered the run)."),
                         registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
        """Publish a training proof after its coin; the registry verifies it and recomputes epsilon itself.

        Epsilon composes this run with every other run registered on the same
        dataset, so training several runs and publishing the best cannot hide
        their privacy cost."""
        from zkaudit.registry import keys as bls
        from zkaudit.registry import training_records as tr
        from zkaudit.registry.encoding import sha256_hex

        run_id = _run_id(str(run))
        data = _proof_bytes(proof, "training proof")
        k = bls.read_keystore(key)
        reg = _database(registry, registry_key)
        sig = k.sign(tr.training_proof_message(tr.training_proof(proof_digest=sha256_hex(data), run_id=run_id)))
        out = reg.publish_training_proof(data, run_id=run_id, signer=k.public_key, signature=sig)
        emit(as_json, out, f"training proof {out['proof_digest']} VALID for run {run_id}\n"
             f"epsilon:   {out['epsilon']:.4g} at delta {out['delta']:g} (PLD; RDP cross-check "
             f"{out['epsilon_rdp']:.4g}), {out['composed_runs']} run(s) on the dataset composed\n"
             f"weights:   c_theta digest {out['theta_commitment_digest']}\n"
             f"verifier:  {out['verifier_version']}\nlog entry: {out['log_index']}")

    @app.command("publish-link")
    def publish_link(proof: Path = typer.Argument(..., help="The link proof (`zkaudit link`)."),
                     run: str = typer.Option(..., "--run", help="The run directory (or its run id) whose training "
                                             "proof the link starts from."),
                     model: str = typer.Option(..., "--model", help="NAME@VERSION whose registered weights it ends "
                                               "at (NAME@latest and aliases too)."),
                     key: Path = typer.Option(..., "--key", help="The model's vendor keystore."),
                     registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
        """Publish a link proof: a model version's registered int8 weights are the declared
        quantization of the trained weights."""
        from zkaudit.api import resolve_model_ref
        from zkaudit.registry import keys as bls
        from zkaudit.registry import training_records as tr
        from zkaudit.registry.encoding import sha256_hex

        run_id = _run_id(run)
        data = _proof_bytes(proof, "link proof")
        k = bls.read_keystore(key)
        reg = _database(registry, registry_key)
        name, version = resolve_model_ref(reg, model)
        sig = k.sign(tr.link_proof_message(tr.link_proof(proof_digest=sha256_hex(data), run_id=run_id, model=name,
                                                         version=version)))
        out = reg.publish_link_proof(data, run_id=run_id, model=name, version=version, signer=k.public_key,
                                     signature=sig)
        emit(as_json, out, f"link proof {out['proof_digest']} VALID: {name}@{version}'s weights are the declared "
             f"quantization of run {run_id[:16]}...'s trained weights\n"
             f"saturated:      {out['saturated']} weight(s) clamped to [-127, 127]\n"
             f"training proof: {out['training_proof']}\nlog entry:      {out['log_index']}")


# -- the chain in plain words ------------------------------------------------------


def chain_lines(doc: dict) -> list[str]:
    """A training chain (`show_training`, or a version's `provenance`) in plain words."""
    d, run, tp = doc["dataset"], doc["training_run"], doc.get("training_proof")
    p = run["policy"]
    population = d.get("population") or "population not described"
    lines = [f"dataset    {d['record_digest']}: {d['rows']} records ({population}), custodian {d['custodian']}"]
    if not doc["consent_proofs"]:
        lines.append("consent    no consent proof published over this dataset")
    for c, t in zip(doc["consent_proofs"], doc["consent_tables"]):
        zk = "zero-knowledge" if c["zero_knowledge"] else "NOT zero-knowledge (synthetic or public data only)"
        state = "current" if t["current"] else f"SUPERSEDED by v{t['superseded_by'][-1]['version']}"
        lines.append(f"consent    table v{t['version']} ({t['purpose']}, IRB {t['irb']}, {state}): proof "
                     f"{c['proof_digest'][:16]}... {'VALID' if c['valid'] else 'INVALID'}, {zk}"
                     + (f"; {c['consent_changed']}" if c["consent_changed"] else ""))
    lines.append(f"policy     {p['algorithm']}, {p['model']}; clip norm C = {p['clip_norm']}, noise multiplier "
                 f"sigma = {p['noise_multiplier']}, sampling rate q = {p['sampling_rate']} "
                 f"({p['sampling_rate_float']:.4g}), T = {p['steps']} steps, learning rate {p['learning_rate']}, "
                 f"batch {p['expected_batch']} expected / {p['max_batch']} max, initial weights {p['init']}")
    lines.append(f"run        {run['run_id']} by {run['trainer']} (tape commitment {run['tape_commitment'][:16]}..., "
                 f"log entry {run['log_index']})")
    c = run["coin"]
    lines.append("coin       not yet signed" if c is None else
                 f"coin       signed by {c['auditor']} ({c['auditor_role']}, key {c['auditor_public_key'][:16]}...)")
    if tp is None:
        lines.append("training   no training proof yet")
        return lines
    a = tp["accountant"]
    others = len(a["composed_runs"])
    lines.append(f"privacy    epsilon = {float(a['epsilon']):.4g} at delta = {float(a['delta']):g} (PLD, "
                 f"{a['accountant']}; RDP cross-check {float(a['epsilon_rdp']):.4g}; implementation slack "
                 f"{float(a['slack']):.2g} inside delta); " + ("this run only" if not others else
                                                              f"composed with {others} other run(s) on this dataset"))
    zk = "zero-knowledge" if tp["zero_knowledge"] else "NOT zero-knowledge"
    use = (tp.get("output") or {}).get("dataset_use")
    lines.append(f"training   proof {tp['proof_digest'][:16]}... {'VALID' if tp['valid'] else 'INVALID'} ({zk}, "
                 f"{tp['verifier_version']}), by {tp['prover']}"
                 + ("" if use is None else f"; opens the dataset's training commitment (use {use})"))
    for k in doc.get("links", []):
        lines.append(f"link       proof {k['proof_digest'][:16]}... {'VALID' if k['valid'] else 'INVALID'}: "
                     f"{k['model']}@{k['version']} weights = the declared int8 quantization of the trained weights, "
                     f"{k['saturated']} saturated")
    return lines


def provenance_lines(prov: dict | None) -> list[str]:
    if prov is None:
        return ["  provenance: none (no link proof to a training proof)"]
    return ["  provenance:", *("    " + line for line in chain_lines(prov))]


def training_text(doc: dict) -> str:
    return "\n".join(chain_lines(doc))


def runs_text(runs: list[dict]) -> str:
    """The training runs registered on a dataset, one line each."""
    if not runs:
        return "training runs: none registered on this dataset"
    lines = [f"training runs: {len(runs)} registered on this dataset (each training proof's epsilon composes "
             "the runs registered before it)"]
    for r in runs:
        coin = "no coin yet" if r["coin"] is None else f"coin by {r['coin']['auditor']}"
        proof = "no training proof yet" if r["training_proof"] is None else \
            f"training proof {r['training_proof'][:16]}..."
        lines.append(f"  run {r['run_id'][:16]}... by {r['trainer']}: {r['policy']['model']}, "
                     f"{r['policy']['steps']} steps, sigma {r['policy']['noise_multiplier']}; {coin}; {proof} "
                     f"(log entry {r['log_index']})")
    return "\n".join(lines)
