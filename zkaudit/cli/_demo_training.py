"""The training act of `zkaudit demo`: a DP-SGD logistic regression on the
breast-cancer data, from the sealed dataset to the registered int8 model
(design/statements.md §5's order), with real proofs and a real registry.

Parties, each with its own key in the demo folder: the hospital (custodian:
seals the data, proves consent), the IRB (a synthetic consent table: every
patient of the data set, and the held-out ones, consented), the vendor
(trains, proves the training and the link, publishes the model: the same
key as the inference act) and the auditor (signs the coin). Every step
calls the code the individual commands call; nothing is precomputed."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import time
from pathlib import Path

import numpy as np

from zkaudit.cli.link import _write_atomic
from zkaudit.errors import ZkauditError

MODEL = "bc-logreg"
PURPOSE = "train:breast-cancer-demo"
ACT = "training"
MARKER = ".zkaudit-demo"  # only a folder the demo made is replaced on a rerun


def _key(root: Path, name: str):
    """`root/name.key`, made on first use: a reused --dir keeps every party's identity."""
    from zkaudit.registry.keys import KeyPair, read_keystore, write_keystore

    path = root / f"{name.removeprefix('demo-')}.key"
    if path.exists():
        return read_keystore(path), path
    k = KeyPair.generate(name)
    write_keystore(path, k)
    return k, path


def check_folder(root: Path) -> Path:
    """ROOT/training, which the act replaces: refused before any work unless an earlier demo made it."""
    path = root / "training"
    if (path.exists() or path.is_symlink()) and not (path.is_dir() and (path / MARKER).is_file()):
        raise ZkauditError(f"{path} exists and was not made by the demo; the training act writes there",
                           hint="give --dir an empty folder, or one an earlier demo used")
    return path


def _fresh_folder(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("made by `zkaudit demo`; replaced by the next run in this folder\n")
    return path


def _latest_consent_table(reg, irb_key: bytes, purpose: str):
    """(version, record digest) of the IRB's newest table for `purpose`, or None:
    an IRB publishes one version 1 per purpose, so a rerun supersedes it."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from zkaudit.registry.models import ConsentTable, Signer

    with Session(reg.engine) as s:
        row = s.execute(select(ConsentTable.version, ConsentTable.record_digest).join(Signer, ConsentTable.irb)
                        .where(Signer.public_key == irb_key, ConsentTable.purpose == purpose)
                        .order_by(ConsentTable.version.desc()).limit(1)).first()
    return None if row is None else (row[0], row[1])


def _quiet(fn, *args, **kwargs) -> dict:
    """Run a CLI command function that prints one JSON object; return it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn(*args, **kwargs)
    return json.loads(out.getvalue())


def training_act(steps, root: Path, db: Path, version: str) -> dict:
    """Run the act's steps on the registry `db`; returns the chain's summary."""
    from zkaudit.cli._records import sign_record
    from zkaudit.registry.client import publish_consent_local, publish_consent_proof_local, publish_dataset_local
    from zkaudit.registry.store import Registry
    from zkaudit.train import example

    work = _fresh_folder(check_folder(root))
    hospital, hospital_file = _key(root, "demo-hospital")
    irb, irb_file = _key(root, "demo-irb")
    vendor, _ = _key(root, "demo-vendor")
    auditor, _ = _key(root, "demo-auditor")
    reg = Registry(str(db))
    figures: dict = {"seconds": {}, "proof_bytes": {}}

    def timed(key, fn, *a, **kw):
        t0 = time.perf_counter()
        out = fn(*a, **kw)
        figures["seconds"][key] = round(time.perf_counter() - t0, 3)
        return out

    try:
        def seal_step():
            from zkaudit.data.dataset import commit_dataset, write_dataset

            files = example.write_example(work / "data")
            record, opening = commit_dataset(files["train"], example.schema())
            signature = sign_record(hospital_file, record.doc, record.digest)
            write_dataset(work / "DS", record, opening, signature)
            out = publish_dataset_local(reg, hospital, record.doc, signature)
            return ({"act": ACT, "dataset": out["record_digest"], "rows": record.num_rows,
                     "custodian": out["custodian"], "log_index": out["log_index"]}, [
                f"data        scikit-learn's Wisconsin breast-cancer set: {record.num_rows} training patients x "
                f"{len(example.feature_names())} features (Q8 in [-1, 1]) + diagnosis; 114 held out for testing",
                f"sealed      {work / 'DS'}: hiding commitment, record {out['record_digest'][:16]}..., signed by "
                f"custodian {out['custodian']}",
                f"registry    dataset record published (log entry {out['log_index']}); the public sees the "
                "commitment only, the trainer gets the rows and their opening",
            ])

        sealed = steps.run("hospital seals the training data", seal_step)

        def consent_step():
            from zkaudit.data.consent_table import commit_consent_table, write_consent_table
            from zkaudit.data.dataset import load_dataset
            from zkaudit.statements.consent.prover import prove_consent

            ids = _consent_ids(work / "data" / "train.csv")
            latest = _latest_consent_table(reg, irb.public_key, PURPOSE)
            version, prev = (1, None) if latest is None else (latest[0] + 1, latest[1])
            table, topen, distinct = commit_consent_table(ids, issuer=irb.name, purpose=PURPOSE, version=version,
                                                          supersedes=prev)
            tsig = sign_record(irb_file, table.doc, table.digest)
            write_consent_table(work / "CT", table, topen, distinct, tsig)
            publish_consent_local(reg, irb, table.doc, tsig, distinct)
            ds, _, ds_open = load_dataset(work / "DS", with_opening=True)
            # opens the record's main commitment; the training proof opens its own training commitment
            proof = timed("consent_prove", prove_consent, ds, ds_open, table, topen, unique_ids=True)
            _write_atomic(work / "consent.zkp", proof)
            out = publish_consent_proof_local(reg, hospital, proof, allow_not_zero_knowledge=False)
            figures["proof_bytes"]["consent"] = len(proof)
            again = "" if prev is None else f", superseding v{version - 1} of an earlier demo run"
            return ({"act": ACT, "consent_table_version": version, "table_rows": table.num_rows,
                     "proof_bytes": len(proof), "unique_ids": out["unique_ids"],
                     "zero_knowledge": out["zero_knowledge"], "valid": True}, [
                f"consent     IRB {irb.name} commits a synthetic consent table v{version} ({table.num_rows} "
                f"pseudonymous IDs: the {sealed['rows']} training patients and {table.num_rows - sealed['rows']} "
                f"others; purpose {PURPOSE}{again}) with its distinctness proof",
                f"proof       {work / 'consent.zkp'} ({len(proof):,} bytes, zero-knowledge): every training "
                "record's ID is in the table, each used once; which IDs the data uses stays hidden",
                "registry    VALID; published. It opens the dataset record's main commitment; the training "
                "proof opens the record's own training commitment (each hides the data through one proof)",
            ])

        consent = steps.run("IRB publishes a consent table; the hospital proves every patient consented",
                            consent_step)
        run_dir = work / "RUN"

        def init_step():
            from zkaudit.registry import training_records as tr
            from zkaudit.train.policy import Policy, example_policy
            from zkaudit.train.run import init_run, load_run

            policy = Policy.from_json(example_policy(example.feature_names(), example.LABEL,
                                                     num_rows=sealed["rows"]))
            (work / "policy.json").write_bytes(policy.canonical_bytes() + b"\n")
            init_run(policy, work / "DS", run_dir, auditor.public_key)
            run = load_run(run_dir)
            sig = vendor.sign(tr.training_run_message(tr.training_run(run_id=run.run_id.hex())))
            out = reg.publish_training_run(run.record, policy.doc, signer=vendor.public_key, signature=sig,
                                           **_first_use(reg, vendor))
            return ({"act": ACT, "run_id": out["run_id"], "policy_digest": out["policy_digest"],
                     "steps": policy.steps, "epsilon_if_trained_now": out["epsilon_if_trained_now"]}, [
                f"policy      dpsgd/v1 logistic regression, {policy.steps} steps (20 epochs), Poisson rate "
                f"{policy.rate_numerator}/2^{policy.rate_log2_denominator} (batch {policy.expected_batch} "
                f"expected, {policy.max_batch} max), clip C = {policy.clip_norm}, noise sigma = "
                f"{policy.noise_multiplier}, learning rate {policy.learning_rate}, zero initial weights",
                f"run         {out['run_id'][:16]}...: secret random tape committed ({policy.tape_words:,} words) "
                f"before any coin exists; auditor {auditor.name} named",
                f"registry    run registered (log entry {out['log_index']}); epsilon if trained now "
                f"{out['epsilon_if_trained_now']:.3f} at delta {out['delta']:g}",
            ])

        steps.run("vendor registers the training run: policy, dataset, tape commitment, auditor", init_step)

        def coin_step():
            from zkaudit.train.run import load_run, sign_coin_file

            doc = sign_coin_file(load_run(run_dir), auditor.secret_key, auditor.name)
            (run_dir / "coin.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
            out = reg.publish_coin(doc, **_first_use(reg, auditor))
            return ({"act": ACT, "coin": out["coin"], "log_index": out["log_index"]}, [
                f"coin        {out['coin'][:16]}...: the auditor's unique BLS signature over the run record",
                "meaning     the noise is tape + a mask from this coin: the vendor could neither choose nor "
                "predict it, and no one else sees it",
                f"registry    coin logged (log entry {out['log_index']})",
            ])

        steps.run("auditor signs the run's coin", coin_step)

        def train_step():
            from zkaudit.train.run import load_run, read_coin, train_run
            from zkaudit.train.trainer import predict

            run = load_run(run_dir)
            result = timed("train", train_run, run, read_coin(run_dir / "coin.json"))
            _, _, Xte, yte = example.breast_cancer()
            theta = np.array(result["theta"], dtype=np.int64)
            X8 = np.round(Xte * (1 << run.policy.feature_bits)).astype(np.int64)
            test_acc = float((predict(run.policy, theta, X8) == yte).mean())
            p = result["privacy"]
            return ({"act": ACT, "train_accuracy": float(result["train_accuracy"]), "test_accuracy": test_acc,
                     "epsilon": float(p["epsilon"]), "delta": float(p["delta"]),
                     "saturated": result["quantization"]["saturated"]}, [
                f"trained     {result['steps']} integer DP-SGD steps, mean batch {float(result['mean_batch']):.1f}; "
                f"accuracy {float(result['train_accuracy']):.1%} train, {test_acc:.1%} on the 114 held-out patients",
                f"privacy     epsilon {float(p['epsilon']):.3f} (PLD; RDP {float(p['epsilon_rdp']):.3f}) at delta "
                f"{float(p['delta']):g}",
                f"exported    {run_dir / 'model.onnx'} (float) and model_int8.onnx (int8, "
                f"{result['quantization']['saturated']} weights saturated)",
            ])

        trained = steps.run("vendor trains with DP-SGD under the coin", train_step)

        def prove_step():
            from zkaudit.statements.training.run_proof import prove_training
            from zkaudit.train.run import load_run, read_coin

            proof = timed("training_prove", prove_training, load_run(run_dir), read_coin(run_dir / "coin.json"))
            _write_atomic(work / "train.zkp", proof)
            figures["proof_bytes"]["training"] = len(proof)
            return ({"act": ACT, "proof_bytes": len(proof)}, [
                f"proof       {work / 'train.zkp'} ({len(proof):,} bytes, zero-knowledge): every step's Poisson "
                "sampling, gradients, clipping, noise and update, on the sealed data with the coin-masked tape",
                f"commits     the trained weights (hiding commitment c_theta in {run_dir / 'theta.commitment'})",
                "hidden      the data, the noise, the batches and every intermediate weight",
            ])

        steps.run("vendor proves the training (zero-knowledge)", prove_step)

        def publish_training(proof: bytes) -> dict:
            from zkaudit.registry import training_records as tr
            from zkaudit.registry.encoding import sha256_hex

            run_id = proved_run_id()
            sig = vendor.sign(tr.training_proof_message(tr.training_proof(proof_digest=sha256_hex(proof),
                                                                          run_id=run_id)))
            return reg.publish_training_proof(proof, run_id=run_id, signer=vendor.public_key, signature=sig)

        def proved_run_id() -> str:
            from zkaudit.train.run import load_run

            return load_run(run_dir).run_id.hex()

        def tamper_step():
            from zkaudit.registry.chain import RecordRefused
            from zkaudit.statements.envelope import encode_envelope, parse_envelope

            env = parse_envelope((work / "train.zkp").read_bytes())
            body = bytearray(env.body)
            body[len(body) // 2] ^= 1  # one bit in the middle of the proof stream
            try:
                publish_training(encode_envelope(env.statement, bytes(body)))
            except RecordRefused as exc:
                reason = str(exc)
            else:
                raise ZkauditError("the registry accepted a tampered training proof: this is a soundness bug, "
                                   "please report it")
            return ({"act": ACT, "valid": False, "reason": reason}, [
                "tampered    one bit flipped in the middle of the training proof, published for the run",
                f"verdict     REFUSED by the registry, nothing written - {reason}",
            ])

        steps.run("a tampered training proof is refused", tamper_step)

        def verify_step():
            out = timed("training_publish", publish_training, (work / "train.zkp").read_bytes())
            return ({"act": ACT, "valid": True, "epsilon": out["epsilon"], "epsilon_rdp": out["epsilon_rdp"],
                     "delta": out["delta"], "composed_runs": out["composed_runs"]}, [
                "verdict     VALID: the run followed its policy on the sealed dataset with the auditor's coin",
                f"privacy     the registry recomputed epsilon itself: {out['epsilon']:.3f} at delta {out['delta']:g} "
                f"(PLD; RDP cross-check {out['epsilon_rdp']:.3f}), {out['composed_runs']} run(s) on this dataset "
                "composed",
                f"registry    training proof published (log entry {out['log_index']})",
            ])

        steps.run("the registry verifies the honest training proof and recomputes epsilon", verify_step)

        def publish_model_step():
            from zkaudit.api import compile as compile_model
            from zkaudit.registry.artifacts import read_model_dir
            from zkaudit.registry.client import card_from, publish_local

            summary = compile_model(run_dir / "model_int8.onnx", work / "model").summary
            out = publish_local(reg, vendor, read_model_dir(work / "model"), MODEL, version,
                                card_from("breast-cancer malignancy risk, decision support only",
                                          f"training run {proved_run_id()[:16]}... (DP-SGD, see its provenance)",
                                          {"test_accuracy": f"{trained['test_accuracy']:.3f}"}))
            return ({"act": ACT, "model": f"{MODEL}@{version}", "digest": summary["digest"],
                     "log_index": out["log_index"]}, [
                f"compiled    {run_dir / 'model_int8.onnx'} -> {work / 'model'} (circuit "
                f"{summary['digest'][:16]}..., hiding weight commitment)",
                f"published   {MODEL}@{version}, signed by vendor {vendor.name} (log entry {out['log_index']})",
            ])

        steps.run("vendor compiles the int8 export and publishes the model version", publish_model_step)

        def link_step():
            from zkaudit.cli.link import link
            from zkaudit.registry import training_records as tr
            from zkaudit.registry.encoding import sha256_hex

            out_file = work / "link.zkp"
            doc = timed("link_command", _quiet, link, run_dir=run_dir, model=work / "model", out=out_file,
                        theta_salt=None, as_json=True)  # `zkaudit link`: prove, check its own proof, write
            figures["seconds"]["link_prove"] = doc["seconds"]
            proof = out_file.read_bytes()
            run_id = proved_run_id()
            sig = vendor.sign(tr.link_proof_message(tr.link_proof(proof_digest=sha256_hex(proof), run_id=run_id,
                                                                  model=MODEL, version=version)))
            out = timed("link_publish", reg.publish_link_proof, proof, run_id=run_id, model=MODEL, version=version,
                        signer=vendor.public_key, signature=sig)
            figures["proof_bytes"]["link"] = len(proof)
            return ({"act": ACT, "proof_bytes": len(proof), "prove_seconds": doc["seconds"],
                     "saturated": out["saturated"], "valid": True}, [
                f"proof       {out_file} ({len(proof):,} bytes, {doc['seconds']:.2f} s, zero-knowledge): the "
                f"registered int8 weights of {MODEL}@{version} are exactly the declared quantization (scales, "
                "rounding, clamp) of the weights the training proof committed",
                f"registry    VALID ({figures['seconds']['link_publish']:.1f} s); {out['saturated']} weights "
                "saturated; published",
            ])

        steps.run("vendor links the registered int8 weights to the trained weights", link_step)

        def show_step():
            from zkaudit.cli._registry_training import chain_lines

            prov = reg.show_version(MODEL, version)["provenance"]
            if prov is None:
                raise ZkauditError(f"{MODEL}@{version} has no provenance after its link proof: please report it")
            tp, acc = prov["training_proof"], prov["training_proof"]["accountant"]
            verdicts = {"consent": all(c["valid"] for c in prov["consent_proofs"]) and bool(prov["consent_proofs"]),
                        "training": bool(tp["valid"]), "link": all(k["valid"] for k in prov.get("links", []))
                        and bool(prov.get("links"))}
            summary = {"act": ACT, "model": f"{MODEL}@{version}", "dataset": prov["dataset"]["record_digest"],
                       "custodian": prov["dataset"]["custodian"], "consent_table_version":
                       consent["consent_table_version"], "policy": prov["training_run"]["policy"]["algorithm"],
                       "steps": prov["training_run"]["policy"]["steps"], "epsilon": float(acc["epsilon"]),
                       "epsilon_rdp": float(acc["epsilon_rdp"]), "delta": float(acc["delta"]),
                       "accountant": acc["accountant"], "verdicts": verdicts,
                       "proof_bytes": dict(figures["proof_bytes"]), "timings": dict(figures["seconds"]),
                       "test_accuracy": trained["test_accuracy"], "zero_knowledge": bool(tp["zero_knowledge"])}
            if not all(verdicts.values()):
                raise ZkauditError(f"the chain of {MODEL}@{version} is not all VALID: {verdicts}")
            return (summary, [f"registry show {MODEL}@{version}:", *chain_lines(prov),
                              f"meaning     {MODEL}@{version} was trained by DP-SGD under the published policy on "
                              f"the sealed, consented dataset, with epsilon = {float(acc['epsilon']):.3f} at delta = "
                              f"{float(acc['delta']):g}, and its deployed int8 weights are that training's output"])

        chain = steps.run("a regulator reads the model's provenance chain", show_step)
    finally:
        reg.close()
    return chain


def _consent_ids(train_csv: Path, others: int = 145) -> list[str]:
    """The synthetic consent table: every training patient's pseudonymous ID,
    and `others` consented patients who are not in the data set."""
    import hashlib

    lines = train_csv.read_text().splitlines()[1:]
    ids = [line.split(",", 1)[0] for line in lines if line]
    return ids + [hashlib.sha256(f"zkaudit-demo/consented/{i}".encode()).hexdigest()[:32] for i in range(others)]


def _first_use(reg, k) -> dict:
    known = reg.signer_role(k.public_key) is not None
    return {"signer_name": None if known else k.name, "pop": None if known else k.proof_of_possession()}
