"""The training chain with real proofs (design/statements.md §5): a tiny
logistic-regression run is trained under its coin, proved
(`prove_training`), its int8 export compiled and published, and linked
(`zkaudit link`). The registry verifies both proofs itself, recomputes
epsilon composing every other run on the dataset, and refuses proofs out
of order, by the wrong key, tampered, twice, or about another run or
version; `registry show NAME@VERSION` prints the whole chain. SQLite and
PostgreSQL; no mocks."""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import pytest
from registry_helpers import CARD, key
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from training_chain_helpers import (AUDITOR, HOSPITAL, TRAINER, coin, consent_for, dataset_dir, make_run,
                                    publish_coin, publish_consent, publish_dataset, publish_run)

from zkaudit.registry import training_records as tr
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.chain import OutOfOrder, RecordRefused
from zkaudit.registry.client import publish_local
from zkaudit.registry.encoding import sha256_hex
from zkaudit.registry.errors import AlreadyExists, Forbidden
from zkaudit.registry.models import LinkProof, LogEntry, TrainingProof

MODEL = "bc-tiny"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.heavy])])
def registry_url(request, tmp_path):
    """These tests verify real training and link proofs: SQLite by default,
    PostgreSQL with -m heavy (the chain's writes are tested on both databases by
    test_training_chain.py, which needs no proofs)."""
    if request.param == "sqlite":
        return str(tmp_path / "registry.db")
    return request.getfixturevalue("pg_url")


def _main(argv) -> tuple[int, str]:
    from zkaudit.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = main(argv)
    return rc, out.getvalue()


@pytest.fixture(scope="module")
def proved(tmp_path_factory):
    """Run A trained and proved, its int8 model compiled twice (two salts:
    two weight commitments) and A linked to the first; run B registered only."""
    from zkaudit.api import compile as compile_model
    from zkaudit.statements.training.run_proof import prove_training
    from zkaudit.train.run import train_run

    root = tmp_path_factory.mktemp("training-proofs")
    ds = dataset_dir(root / "d1", 0)
    a, b = make_run(ds, root / "A", seed=1), make_run(ds, root / "B", seed=2)
    coin_a = coin(a)
    (a.path / "coin.json").write_text(json.dumps(coin_a))
    train_run(a, coin_a)
    proof = prove_training(a, coin_a)
    compile_model(a.path / "model_int8.onnx", root / "M1")
    compile_model(a.path / "model_int8.onnx", root / "M2")
    rc, out = _main(["link", str(a.path), "--model", str(root / "M1"), "--out", str(root / "link.zkp")])
    assert rc == 0, out
    for k in (TRAINER, AUDITOR, HOSPITAL):
        from zkaudit.registry.keys import write_keystore

        write_keystore(root / f"{k.name}.key", k)
    return {"root": root, "ds": ds, "A": a, "B": b, "coin_A": coin_a, "proof": proof,
            "link": (root / "link.zkp").read_bytes(), "consent": consent_for(ds)}


def _log_size(reg) -> int:
    with Session(reg.engine) as s:
        return s.scalar(select(func.count()).select_from(LogEntry))


def _count(reg, model) -> int:
    with Session(reg.engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def _publish_training(reg, proof: bytes, run, k=TRAINER, run_id: str | None = None) -> dict:
    run_id = run_id or run.run_id.hex()
    sig = k.sign(tr.training_proof_message(tr.training_proof(proof_digest=sha256_hex(proof), run_id=run_id)))
    return reg.publish_training_proof(proof, run_id=run_id, signer=k.public_key, signature=sig)


def _publish_link(reg, proof: bytes, run, version: str, k=TRAINER) -> dict:
    stmt = tr.link_proof(proof_digest=sha256_hex(proof), run_id=run.run_id.hex(), model=MODEL, version=version)
    return reg.publish_link_proof(proof, run_id=run.run_id.hex(), model=MODEL, version=version,
                                  signer=k.public_key, signature=k.sign(tr.link_proof_message(stmt)))


def _publish_model(reg, proved, folder: str, version: str, k=TRAINER) -> dict:
    return publish_local(reg, k, read_model_dir(proved["root"] / folder), MODEL, version, CARD)


def _up_to_coin(reg, p) -> None:
    publish_dataset(reg, p["ds"])
    publish_run(reg, p["A"])
    publish_coin(reg, p["coin_A"])


def test_whole_chain_and_show(registry, proved):
    p = proved
    publish_dataset(registry, p["ds"])
    cp = publish_consent(registry, *p["consent"])
    publish_run(registry, p["A"])
    publish_coin(registry, p["coin_A"])
    t = _publish_training(registry, p["proof"], p["A"])
    assert t["composed_runs"] == 1 and t["epsilon"] > 0 and t["epsilon_rdp"] >= t["epsilon"]
    _publish_model(registry, p, "M1", "1.0")
    k = _publish_link(registry, p["link"], p["A"], "1.0")
    assert k["training_proof"] == t["proof_digest"] and k["saturated"] >= 0
    v = registry.show_version(MODEL, "1.0")
    prov = v["provenance"]
    assert prov["ids"] == {"training_run": p["A"].run_id.hex(), "training_proof": t["proof_digest"],
                           "link_proof": k["proof_digest"], "dataset": prov["dataset"]["record_digest"],
                           "consent_proofs": [cp["proof_digest"]]}
    acc = prov["training_proof"]["accountant"]
    assert acc["composed_runs"] == [] and float(acc["epsilon"]) == t["epsilon"]
    assert acc["accountant"] == "dp-accounting==0.6.0" and float(acc["delta"]) == 0.001
    assert prov["training_proof"]["zero_knowledge"] is True
    assert registry.verify_log().ok
    # the CLI's plain words, and the chain page
    url = registry.url.replace("postgresql+psycopg://", "postgresql://").replace("sqlite:///", "")
    rc, out = _main(["registry", "show", f"{MODEL}@1.0", "--registry", url])
    assert rc == 0, out
    for words in ("custodian hospital", "consent    table v1 (train:test, IRB irb-a, current)",
                  "policy     dpsgd/v1, logistic regression (2 features); clip norm C = 1",
                  "privacy    epsilon = ", "this run only", "coin       signed by auditor-a (auditor",
                  "training   proof", "VALID (zero-knowledge", "link       proof",
                  f"{MODEL}@1.0 weights = the declared int8 quantization of the trained weights"):
        assert words in out, (words, out)
    from zkaudit.registry.web.reads import Pages

    stages = {st["key"]: st["records"] for st in Pages(registry).chain(MODEL, "1.0")["stages"]}
    assert all(stages[k] for k in ("dataset", "consent", "training", "link", "version"))
    assert [r["ok"] for r in stages["training"]] == [True, True]


def test_training_proof_before_its_coin_or_run_is_refused(registry, proved):
    p = proved
    publish_dataset(registry, p["ds"])
    with pytest.raises(OutOfOrder, match="is not registered"):
        _publish_training(registry, p["proof"], p["A"])
    publish_run(registry, p["A"])
    before = _log_size(registry)
    with pytest.raises(OutOfOrder, match="has no coin yet"):
        _publish_training(registry, p["proof"], p["A"])
    assert _log_size(registry) == before and _count(registry, TrainingProof) == 0


def test_a_second_run_on_the_dataset_raises_the_proofs_epsilon(registry, proved):
    """Grinding: B is registered on the same dataset before A's proof, so A's
    epsilon composes both runs (the verifier's own, for A alone, is lower)."""
    p = proved
    _up_to_coin(registry, p)
    publish_run(registry, p["B"])
    t = _publish_training(registry, p["proof"], p["A"])
    acc = registry.show_training(t["proof_digest"])["training_proof"]["accountant"]
    assert acc["composed_runs"] == [p["B"].run_id.hex()] and acc["runs"] == 2
    assert t["composed_runs"] == 2
    assert float(acc["epsilon"]) > float(acc["this_run_alone"]["epsilon"])


def test_bad_training_proofs_are_refused(registry, proved):
    p = proved
    _up_to_coin(registry, p)
    publish_run(registry, p["B"])
    publish_coin(registry, coin(p["B"]))
    before = _log_size(registry)
    proof = bytearray(p["proof"])
    proof[len(proof) // 2] ^= 1
    with pytest.raises(RecordRefused, match="training proof rejected"):
        _publish_training(registry, bytes(proof), p["A"])
    with pytest.raises(RecordRefused, match="training proof rejected"):  # A's proof presented as B's
        _publish_training(registry, p["proof"], p["B"])
    registry.register_signer(name="someone", role="vendor", public_key=key("someone").public_key,
                             pop=key("someone").proof_of_possession())
    before = _log_size(registry)
    with pytest.raises(Forbidden, match="published by the run's trainer"):
        _publish_training(registry, p["proof"], p["A"], k=key("someone"))
    assert _log_size(registry) == before and _count(registry, TrainingProof) == 0
    _publish_training(registry, p["proof"], p["A"])
    with pytest.raises(AlreadyExists, match="already published"):
        _publish_training(registry, p["proof"], p["A"])
    assert _count(registry, TrainingProof) == 1


def test_link_order_vendor_version_and_duplicates(registry, proved):
    p = proved
    _up_to_coin(registry, p)
    _publish_model(registry, p, "M1", "1.0")
    _publish_model(registry, p, "M2", "2.0")
    with pytest.raises(OutOfOrder, match="has no training proof yet"):
        _publish_link(registry, p["link"], p["A"], "1.0")
    _publish_training(registry, p["proof"], p["A"])
    registry.register_signer(name="someone", role="vendor", public_key=key("someone").public_key,
                             pop=key("someone").proof_of_possession())
    before = _log_size(registry)
    with pytest.raises(RecordRefused, match="link proof rejected"):  # 2.0 commits to the weights under another salt
        _publish_link(registry, p["link"], p["A"], "2.0")
    with pytest.raises(Forbidden, match="only it may link its weights"):
        _publish_link(registry, p["link"], p["A"], "1.0", k=key("someone"))
    assert _log_size(registry) == before and _count(registry, LinkProof) == 0
    _publish_link(registry, p["link"], p["A"], "1.0")
    with pytest.raises(AlreadyExists):
        _publish_link(registry, p["link"], p["A"], "1.0")
    assert registry.show_version(MODEL, "2.0")["provenance"] is None
    assert registry.verify_log().ok


def test_cli_publish_training_and_link(proved, tmp_path):
    from zkaudit.registry.store import Registry

    p, root = proved, proved["root"]
    reg, _, _ = Registry.init(str(tmp_path / "r.db"), tmp_path / "r.key")
    try:
        _up_to_coin(reg, p)
        _publish_model(reg, p, "M1", "1.0")
    finally:
        reg.close()
    db = ["--registry", str(tmp_path / "r.db")]
    shutil.copy(root / "link.zkp", tmp_path / "link.zkp")
    (tmp_path / "train.zkp").write_bytes(p["proof"])
    rc, out = _main(["registry", "publish-training", str(p["A"].path), str(tmp_path / "train.zkp"), "--key",
                     str(root / "acme.key"), *db])
    assert rc == 0 and "VALID for run" in out and "epsilon:" in out, out
    rc, out = _main(["registry", "publish-link", str(tmp_path / "link.zkp"), "--run", str(p["A"].path), "--model",
                     f"{MODEL}@latest", "--key", str(root / "acme.key"), *db])
    assert rc == 0 and f"{MODEL}@1.0's weights are the declared quantization" in out, out
    rc, out = _main(["registry", "publish-link", str(tmp_path / "link.zkp"), "--run", str(p["A"].path), "--model",
                     f"{MODEL}@1.0", "--key", str(root / "acme.key"), *db])
    assert rc == 2 and "is already published" in out and "Traceback" not in out


def test_verify_log_checks_the_training_chain(registry, proved):
    """verify-log re-reads runs, coins, training and link proofs from the log:
    a stored training proof swapped in the database is reported."""
    from sqlalchemy import text

    p = proved
    publish_dataset(registry, p["ds"])
    publish_consent(registry, *p["consent"])
    publish_run(registry, p["A"])
    publish_coin(registry, p["coin_A"])
    t = _publish_training(registry, p["proof"], p["A"])
    _publish_model(registry, p, "M1", "1.0")
    _publish_link(registry, p["link"], p["A"], "1.0")
    rep = registry.verify_log()
    assert rep.ok, rep.problems
    with registry.engine.begin() as conn:
        conn.execute(text("update training_proofs set proof = :b where proof_digest = :d"),
                     {"b": p["proof"][:-1] + bytes([p["proof"][-1] ^ 1]), "d": t["proof_digest"]})
    rep = registry.verify_log()
    assert not rep.ok
    assert any("stored proof does not hash to its digest" in msg for _, msg in rep.problems)


def test_a_second_proof_opening_the_same_training_commitment_is_refused(registry, proved):
    """Each of a dataset's training commitments hides the data through one
    proof: run B's proof opens the same one as A's and is refused, nothing written."""
    from zkaudit.statements.training.run_proof import prove_training
    from zkaudit.train.run import train_run

    p = proved
    _up_to_coin(registry, p)
    publish_run(registry, p["B"])
    coin_b = coin(p["B"])
    publish_coin(registry, coin_b)
    t = _publish_training(registry, p["proof"], p["A"])
    assert registry.show_training(t["proof_digest"])["training_proof"]["output"]["dataset_use"] == 0
    if "proof_B" not in p:  # once for both databases (B is trained once)
        from zkaudit.statements.training.run_proof import USES_FILE

        (p["B"].path / "coin.json").write_text(json.dumps(coin_b))
        if not (p["B"].path / "result.json").exists():
            train_run(p["B"], coin_b)
        (p["ds"] / USES_FILE).unlink(missing_ok=True)  # a trainer ignoring its local ledger: the registry must refuse
        p["proof_B"] = prove_training(p["B"], coin_b)
    proof_b = p["proof_B"]
    before = _log_size(registry)
    with pytest.raises(AlreadyExists, match="is already opened by training proof"):
        _publish_training(registry, proof_b, p["B"])
    assert _log_size(registry) == before
