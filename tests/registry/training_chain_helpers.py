"""Helpers for the training-chain tests: a tiny sealed dataset (32 rows, two
Q8 features and a 0/1 label), a tiny logistic-regression policy on it, runs
made by `zkaudit.train.run.init_run`, and local publishing with real
signatures (imported as a module: tests/ has no packages)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from registry_helpers import key

from zkaudit.registry import training_records as tr
from zkaudit.train import policy as pol
from zkaudit.train import run as runs

HOSPITAL, TRAINER, AUDITOR = key("hospital"), key("acme"), key("auditor-a")
N = 32
SCHEMA = {"columns": [{"name": "pid", "type": "id"},
                      {"name": "a", "type": "fixed", "scale": 8, "min": -1, "max": 1},
                      {"name": "b", "type": "fixed", "scale": 8, "min": -1, "max": 1},
                      {"name": "y", "type": "bool"}],
          "id_column": "pid", "population": "synthetic"}


def _pid(seed: int, i: int) -> str:
    """A pseudonymous ID (32 hex digits; proofs compare the leading 124 bits)."""
    return f"{seed:08x}{i:08x}" + "0" * 16


def dataset_dir(root: Path, seed: int = 0) -> Path:
    """A sealed dataset directory (record + opening), unsigned."""
    from zkaudit.data.dataset import commit_dataset, write_dataset

    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-1, 1, N), rng.uniform(-1, 1, N)
    cols = {"pid": [_pid(seed, i) for i in range(N)], "a": [f"{v:.4f}" for v in a],
            "b": [f"{v:.4f}" for v in b], "y": [str(int(x + y > 0)) for x, y in zip(a, b)]}
    record, opening = commit_dataset(cols, SCHEMA)
    root.mkdir(parents=True, exist_ok=True)
    write_dataset(root / "DS", record, opening, None)
    return root / "DS"


def policy_doc(steps: int = 4, sigma: str = "1") -> dict:
    doc = pol.example_policy(["a", "b"], "y", num_rows=N, expected_batch=4, epochs=1, sigma=sigma)
    doc["steps"] = steps
    doc["sampling"]["max_batch"] = 16  # overflow slack well inside delta on 32 rows
    return doc


def make_run(ds: Path, out: Path, *, seed: int = 1, steps: int = 4, auditor=AUDITOR, sigma: str = "1"):
    policy = pol.Policy.from_json(policy_doc(steps, sigma))
    runs.init_run(policy, ds, out, auditor.public_key, rng=np.random.default_rng(seed))
    return runs.load_run(out)


def dataset_doc(ds: Path) -> dict:
    return json.loads((ds / "dataset.json").read_text())


def publish_dataset(reg, ds: Path) -> dict:
    from zkaudit.registry.client import publish_dataset_local

    doc = dataset_doc(ds)
    return publish_dataset_local(reg, HOSPITAL, doc.get("record", doc), doc.get("signature"))


def first_use(reg, k) -> dict:
    known = reg.signer_role(k.public_key) is not None
    return {"signer_name": None if known else k.name, "pop": None if known else k.proof_of_possession()}


def publish_run(reg, run, k=TRAINER, record=None, policy=None) -> dict:
    record = run.record if record is None else record
    from zkaudit.data.canonical import digest

    stmt = tr.training_run(run_id=digest(record).hex())
    return reg.publish_training_run(record, run.policy.doc if policy is None else policy, signer=k.public_key,
                                    signature=k.sign(tr.training_run_message(stmt)), **first_use(reg, k))


def coin(run, k=AUDITOR) -> dict:
    return runs.sign_coin_file(run, k.secret_key, k.name)


def publish_coin(reg, doc: dict, k=AUDITOR) -> dict:
    return reg.publish_coin(doc, **first_use(reg, k))


def consent_for(ds: Path, *, zero_knowledge: bool = False):
    """A consent table (v1) holding every ID of the dataset in `ds`, and a
    consent proof over the dataset against it: (table record, distinctness proof, proof)."""
    from zkaudit.data.consent_table import commit_consent_table
    from zkaudit.data.dataset import load_dataset
    from zkaudit.statements.consent.prover import prove_consent

    record, _, opening = load_dataset(ds, with_opening=True)
    ids = [_pid(s, i) for s in range(2) for i in range(N)]  # both test datasets' IDs, and no others
    table, topen, distinct = commit_consent_table(ids, issuer="irb-a", purpose="train:test", version=1)
    proof = prove_consent(record, opening, table, topen, unique_ids=True, zero_knowledge=zero_knowledge)
    return table, distinct, proof


def publish_consent(reg, table, distinct, proof) -> dict:
    from zkaudit.registry.client import publish_consent_local, publish_consent_proof_local

    publish_consent_local(reg, key("irb-a"), table.doc, None, distinct)
    return publish_consent_proof_local(reg, TRAINER, proof, allow_not_zero_knowledge=True)
