"""A registry with something on every page, for the web-page tests (with
and without a browser): a real compiled model (circuits/logistic_risk, 11
parameters) published in two versions, one revoked, and the other upgraded to a hiding
weight commitment (a third version that supersedes it); a real proof of one
prediction submitted (valid) and a tampered copy submitted (not valid); and
a consent chain (dataset -> consent table -> consent proof), all real."""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
from pathlib import Path

import numpy as np
from registry_helpers import CARD, key

import zkaudit.api
from zkaudit.registry import records
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.client import (publish_consent_local, publish_consent_proof_local, publish_dataset_local,
                                     publish_local)
from zkaudit.registry.keys import read_keystore
from zkaudit.registry.store import Registry

ZOO = Path(__file__).resolve().parents[2] / "circuits" / "logistic_risk"
MODEL, VERSION, OLD = "logistic-risk", "1.0", "0.9"
HASHED = "1.0-hashed"  # VERSION upgraded to a hiding weight commitment (`registry upgrade-commitment`)
REVOKE_REASON = "calibrated on the wrong cohort"


def compiled_model(root: Path) -> tuple[Path, bytes, bytes]:
    """(compiled model folder, a valid proof of one prediction, that proof with one byte flipped)."""
    import zkaudit

    out = root / "logistic"
    # plain: the site shows this version upgraded to a hashed (hiding) successor
    zkaudit.compile(ZOO / "model.onnx", out, calibration=ZOO / "calibration.npy", weight_commitment="plain")
    proof = zkaudit.prove(out, np.load(ZOO / "calibration.npy")[0]).proof
    tampered = bytearray(proof)
    tampered[len(tampered) // 2] ^= 1
    return out, proof, bytes(tampered)


def consent_chain(reg: Registry) -> dict:
    """A 2-record synthetic dataset, a 4-ID consent table v1 and a consent proof over them, published."""
    import pyarrow as pa

    from zkaudit.data.consent_table import commit_consent_table
    from zkaudit.data.dataset import commit_dataset
    from zkaudit.statements.consent.prover import prove_consent

    schema = {"columns": [{"name": "patient", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
              "id_column": "patient", "population": "synthetic sepsis cohort"}
    ids = [secrets.token_hex(16) for _ in range(4)]
    table, opening, distinct = commit_consent_table(ids, issuer="irb-a", purpose="train:sepsis", version=1)
    ds, ds_opening = commit_dataset({"patient": pa.array(ids[:2]), "age": pa.array(["41", "67"])}, schema)
    proof = prove_consent(ds, ds_opening, table, opening, unique_ids=True)
    return {"dataset": publish_dataset_local(reg, key("hospital"), ds.doc, None),
            "table": publish_consent_local(reg, key("irb-a"), table.doc, None, distinct),
            "proof": publish_consent_proof_local(reg, key("acme"), proof, allow_not_zero_knowledge=True)}


_built: dict[bool, tuple[Path, dict]] = {}


def populated_registry(root: Path, *, consent: bool = True) -> dict:
    """The registry at root/registry.db, its key beside it (so `registry serve` finds it).
    Built once per test session (~15 s) and copied (SQLite backup) for each caller."""
    if consent not in _built:
        _built[consent] = (root / "built", _build(root / "built", consent))
    src, built = _built[consent]
    url = str(root / "registry.db")
    with sqlite3.connect(src / "registry.db") as a, sqlite3.connect(url) as b:
        a.backup(b)
    shutil.copy2(src / "registry.db.key", f"{url}.key")
    reg = Registry(url, key=read_keystore(Path(f"{url}.key")))
    return {**built, "reg": reg, "url": url}


def _build(root: Path, consent: bool) -> dict:
    root.mkdir(parents=True)
    model_dir, proof, tampered = compiled_model(root)
    url = str(root / "registry.db")
    reg, _, key_path = Registry.init(url, Path(f"{url}.key"))
    reg.key = None  # no tree head per write (0.3 s each); one head is signed at the end
    art = read_model_dir(model_dir)
    publish_local(reg, key("acme"), art, MODEL, OLD, CARD)
    publish_local(reg, key("acme"), art, MODEL, VERSION, CARD)
    stmt = records.revocation(model=MODEL, version=OLD, reason=REVOKE_REASON)
    reg.revoke(**stmt, signer=key("acme").public_key, signature=key("acme").sign(records.revocation_message(stmt)))
    valid = reg.submit_proof(model=MODEL, version=VERSION, proof=proof, submitter=key("acme").public_key)
    invalid = reg.submit_proof(model=MODEL, version=VERSION, proof=tampered, submitter=key("acme").public_key)
    hashed_dir = root / "logistic-hashed"
    shutil.copytree(model_dir, hashed_dir)
    upgraded = zkaudit.api.upgrade_commitment(hashed_dir, key("acme"), reg, ref=f"{MODEL}@{VERSION}")
    chain = consent_chain(reg) if consent else None
    reg.key = read_keystore(key_path)
    reg.sign_head()
    reg.close()
    summary = json.loads((model_dir / "public" / "summary.json").read_text())
    return {"model_dir": model_dir, "proof": proof, "tampered": tampered, "valid": valid, "invalid": invalid,
            "chain": chain, "summary": summary, "upgraded": upgraded, "hashed_dir": hashed_dir}
