"""The training chain for an MLP run (2-3-1, ReLU): trained under its coin,
proved (`prove_training`, the MLP relation), its int8 export compiled and
linked (`zkaudit link`: the link proof reads the flat theta that c_theta
hashes, the same for both model families); the registry verifies both proofs
itself and `registry show NAME@VERSION` names the MLP. SQLite (the chain's
writes are tested on PostgreSQL by test_training_chain.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_training_chain_proofs import MODEL, _main, _publish_link, _publish_model, _publish_training
from training_chain_helpers import (AUDITOR, TRAINER, coin, consent_for, dataset_dir, policy_doc, publish_coin,
                                    publish_consent, publish_dataset, publish_run)

from zkaudit.train import policy as pol
from zkaudit.train import run as runs


pytestmark = pytest.mark.heavy  # an MLP's proofs through the registry (the link's MLP case: tests/statements/link)


@pytest.fixture
def registry_url(tmp_path):
    return str(tmp_path / "registry.db")


@pytest.fixture(scope="module")
def proved(tmp_path_factory):
    from zkaudit.api import compile as compile_model
    from zkaudit.statements.training.run_proof import prove_training
    from zkaudit.train.run import train_run

    root = tmp_path_factory.mktemp("training-mlp")
    ds = dataset_dir(root / "d1", 0)
    doc = policy_doc(4)
    doc["model"], doc["init"] = {"family": "mlp", "hidden": [3]}, {"kind": "seeded", "seed": "0a"}
    runs.init_run(pol.Policy.from_json(doc), ds, root / "A", AUDITOR.public_key, rng=np.random.default_rng(5))
    a = runs.load_run(root / "A")
    coin_a = coin(a)
    (a.path / "coin.json").write_text(json.dumps(coin_a))
    train_run(a, coin_a)
    proof = prove_training(a, coin_a)
    compile_model(a.path / "model_int8.onnx", root / "M1")
    rc, out = _main(["link", str(a.path), "--model", str(root / "M1"), "--out", str(root / "link.zkp")])
    assert rc == 0, out
    return {"root": root, "ds": ds, "A": a, "coin_A": coin_a, "proof": proof,
            "link": (root / "link.zkp").read_bytes(), "consent": consent_for(ds)}


def test_mlp_whole_chain_and_show(registry, proved):
    p = proved
    publish_dataset(registry, p["ds"])
    publish_consent(registry, *p["consent"])
    publish_run(registry, p["A"])
    publish_coin(registry, p["coin_A"])
    t = _publish_training(registry, p["proof"], p["A"])
    assert t["epsilon"] > 0
    _publish_model(registry, p, "M1", "1.0")
    k = _publish_link(registry, p["link"], p["A"], "1.0", k=TRAINER)
    assert k["training_proof"] == t["proof_digest"]
    assert registry.verify_log().ok
    rc, out = _main(["registry", "show", f"{MODEL}@1.0", "--registry", registry.url.replace("sqlite:///", "")])
    assert rc == 0, out
    for words in ("policy     dpsgd/v1, MLP", "VALID (zero-knowledge", "link       proof",
                  f"{MODEL}@1.0 weights = the declared int8 quantization of the trained weights"):
        assert words in out, (words, out)
