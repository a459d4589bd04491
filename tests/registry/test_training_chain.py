"""The training chain in the registry, runs and coins (design/statements.md §5,
§3.3): on SQLite and PostgreSQL, a run is registered only over a published
dataset and before its coin; the coin is logged only after its run, signed by
exactly the auditor key the run names, once per run; a run record changed
after its coin (a new tape) does not take the old coin; nothing is written
when a check fails. Real datasets, runs, BLS signatures (no mocks)."""

from __future__ import annotations

import copy

import pytest
from registry_helpers import key
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from training_chain_helpers import (AUDITOR, TRAINER, coin, consent_for, dataset_dir, make_run, publish_coin,
                                    publish_consent, publish_dataset, publish_run)

from zkaudit.registry import training_records as tr
from zkaudit.registry.chain import OutOfOrder, RecordRefused
from zkaudit.registry.errors import AlreadyExists, BadSignature, Forbidden
from zkaudit.registry.models import Coin, LogEntry, TrainingRun


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """Two datasets; runs A and B on the first (B a second run), run C on the
    second, run D naming another auditor, run E with the tape changed after
    A's coin (same everything but c_R)."""
    root = tmp_path_factory.mktemp("training-chain")
    ds, ds2 = dataset_dir(root / "d1", 0), dataset_dir(root / "d2", 1)
    a = make_run(ds, root / "A", seed=1)
    b = make_run(ds, root / "B", seed=2)
    c = make_run(ds2, root / "C", seed=3)
    d = make_run(ds, root / "D", seed=4, auditor=key("auditor-b"))
    return {"ds": ds, "ds2": ds2, "A": a, "B": b, "C": c, "D": d, "coin_A": coin(a), "coin_C": coin(c),
            "consent": consent_for(ds)}


def _log_size(reg) -> int:
    with Session(reg.engine) as s:
        return s.scalar(select(func.count()).select_from(LogEntry))


def _count(reg, model) -> int:
    with Session(reg.engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_run_then_coin_in_order(registry, material):
    m = material
    publish_dataset(registry, m["ds"])
    out = publish_run(registry, m["A"])
    assert out["run_id"] == m["A"].run_id.hex() and out["trainer"] == "acme"
    assert out["consent_proof"] is None and out["runs_on_dataset"] == 1
    assert out["epsilon_if_trained_now"] > 0
    c = publish_coin(registry, m["coin_A"])
    assert c["run_id"] == out["run_id"] and c["coin"] == m["coin_A"]["coin"] and c["auditor"] == "auditor-a"
    assert registry.signer(AUDITOR.public_key)["role"] == "auditor"
    doc = registry.show_training(out["run_id"][:12])
    run = doc["training_run"]
    assert run["coin"]["auditor"] == "auditor-a" and run["tape_commitment"] == m["A"].record["tape"]["commitment"]
    assert run["policy"]["steps"] == 4 and run["policy"]["sampling_rate"] == "536870912/2^32"
    assert doc["dataset"]["custodian"] == "hospital" and doc["consent"] == "no consent proof published"
    assert doc["training_proof"] is None
    assert registry.verify_log().ok


def test_run_needs_its_dataset_first(registry, material):
    before = _log_size(registry)
    with pytest.raises(OutOfOrder, match="dataset record .* is not published"):
        publish_run(registry, material["A"])
    assert _log_size(registry) == before and _count(registry, TrainingRun) == 0


def test_coin_needs_its_run_first(registry, material):
    publish_dataset(registry, material["ds"])
    before = _log_size(registry)
    with pytest.raises(OutOfOrder, match="is not registered"):
        publish_coin(registry, material["coin_A"])
    assert _log_size(registry) == before and _count(registry, Coin) == 0


def test_one_coin_per_run_and_one_registration(registry, material):
    m = material
    publish_dataset(registry, m["ds"])
    publish_run(registry, m["A"])
    with pytest.raises(AlreadyExists, match="already registered"):
        publish_run(registry, m["A"])
    publish_coin(registry, m["coin_A"])
    before = _log_size(registry)
    with pytest.raises(AlreadyExists, match="one coin per run"):
        publish_coin(registry, m["coin_A"])  # BLS is unique: the same bytes, still refused
    assert _log_size(registry) == before and _count(registry, Coin) == 1


def test_tape_changed_after_the_coin_is_refused(registry, material):
    """The trainer registers A, gets its coin, then changes c_R (a tape picked
    after seeing the coin): the changed record is another run, and A's coin
    is not a coin over it."""
    m = material
    publish_dataset(registry, m["ds"])
    publish_run(registry, m["A"])
    publish_coin(registry, m["coin_A"])
    changed = copy.deepcopy(m["A"].record)
    changed["tape"]["commitment"] = "00" * 32
    out = publish_run(registry, m["A"], record=changed)  # a new run: allowed, and composed into epsilon
    assert out["run_id"] != m["A"].run_id.hex() and out["runs_on_dataset"] == 2
    forged = {**m["coin_A"], "run_id": out["run_id"]}
    before = _log_size(registry)
    with pytest.raises(RecordRefused, match="not the auditor's signature over this run"):
        publish_coin(registry, forged)
    assert _log_size(registry) == before and _count(registry, Coin) == 1


def test_coin_over_another_run_or_by_another_key_or_forged(registry, material):
    m = material
    publish_dataset(registry, m["ds"])
    publish_dataset(registry, m["ds2"])
    publish_run(registry, m["A"])
    publish_run(registry, m["C"])
    publish_run(registry, m["D"])
    before = _log_size(registry)
    # C's coin relabelled as A's: a valid signature, over another run
    with pytest.raises(RecordRefused, match="not the auditor's signature over this run"):
        publish_coin(registry, {**m["coin_C"], "run_id": m["A"].run_id.hex()})
    # A's auditor signs D's run, which names auditor-b
    with pytest.raises(RecordRefused, match="run names the auditor"):
        publish_coin(registry, {**m["coin_A"], "run_id": m["D"].run_id.hex()})
    # a signature that is not a curve point, and one bit flipped
    sig = bytearray(bytes.fromhex(m["coin_A"]["signature"]))
    sig[-1] ^= 1
    with pytest.raises(RecordRefused, match="coin refused"):
        publish_coin(registry, {**m["coin_A"], "signature": bytes(sig).hex()})
    with pytest.raises(RecordRefused, match="not the hash of its signature"):
        publish_coin(registry, {**m["coin_A"], "coin": "11" * 32})
    with pytest.raises(RecordRefused, match="not a coin/v1"):
        publish_coin(registry, {"run_id": m["A"].run_id.hex()})
    assert _log_size(registry) == before and _count(registry, Coin) == 0
    publish_coin(registry, m["coin_A"])  # the honest coin still goes in
    assert _count(registry, Coin) == 1


def test_coin_signer_must_be_an_auditor(registry, material):
    """The auditor key is registered already with a role that may not sign coins."""
    m = material
    publish_dataset(registry, m["ds"])
    registry.register_signer(name="auditor-a", role="vendor", public_key=AUDITOR.public_key,
                             pop=AUDITOR.proof_of_possession())
    publish_run(registry, m["A"])
    with pytest.raises(Forbidden, match="coin is signed by a auditor or regulator"):
        publish_coin(registry, m["coin_A"])
    assert _count(registry, Coin) == 0


def test_bad_runs_are_refused(registry, material):
    m = material
    publish_dataset(registry, m["ds"])
    before = _log_size(registry)
    run = m["A"]
    wrong_rows = {**run.record, "num_rows": 31}
    with pytest.raises(RecordRefused, match="record says 31 rows"):
        publish_run(registry, run, record=wrong_rows)
    other_policy = copy.deepcopy(run.policy.doc)
    other_policy["learning_rate"] = "0.25"
    with pytest.raises(RecordRefused, match="names another policy"):
        publish_run(registry, run, policy=other_policy)
    with pytest.raises(RecordRefused, match="table digests"):
        publish_run(registry, run, record={**run.record, "tables": {**run.record["tables"], "gaps": "00" * 32}})
    with pytest.raises(RecordRefused, match="auditor key is the trainer's own"):
        publish_run(registry, run, k=AUDITOR)
    with pytest.raises(RecordRefused, match="wrong keys"):
        publish_run(registry, run, record={**run.record, "extra": 1})
    irb = key("irb-a")
    registry.register_signer(name="irb-a", role="irb", public_key=irb.public_key, pop=irb.proof_of_possession())
    before = _log_size(registry)
    with pytest.raises(Forbidden, match="training run is signed by a vendor or custodian"):
        publish_run(registry, run, k=irb)
    with pytest.raises(BadSignature):  # the signature is over another run id
        registry.publish_training_run(run.record, run.policy.doc, signer=TRAINER.public_key,
                                      signature=TRAINER.sign(tr.training_run_message(tr.training_run(
                                          run_id="00" * 32))),
                                      signer_name=TRAINER.name, pop=TRAINER.proof_of_possession())
    assert _log_size(registry) == before and _count(registry, TrainingRun) == 0


def test_second_run_on_a_dataset_costs_more_epsilon(registry, material):
    m = material
    publish_dataset(registry, m["ds"])
    first = publish_run(registry, m["A"])
    second = publish_run(registry, m["B"])
    assert second["runs_on_dataset"] == 2
    assert second["epsilon_if_trained_now"] > first["epsilon_if_trained_now"]


def test_run_records_the_current_consent_proof(registry, material):
    m = material
    publish_dataset(registry, m["ds"])
    cp = publish_consent(registry, *m["consent"])
    out = publish_run(registry, m["A"])
    assert out["consent_proof"] == cp["proof_digest"]
    doc = registry.show_training(out["run_id"])
    assert doc["consent"] == "attested against a current consent-table version"
    assert [c["proof_digest"] for c in doc["consent_proofs"]] == [cp["proof_digest"]]
    assert doc["training_run"]["consent_proof_at_registration"] == cp["proof_digest"]
    assert doc["consent_tables"][0]["version"] == 1 and doc["consent_tables"][0]["irb"] == "irb-a"
    assert registry.verify_log().ok


def test_migration_0005_both_ways(registry_url, tmp_path, material):
    """Down to 0004 drops the training tables and keeps the rest; up again
    brings them back empty, and a run publishes over the kept dataset."""
    from alembic import command
    from sqlalchemy import inspect

    from zkaudit.registry import db
    from zkaudit.registry.store import Registry

    reg, _, _ = Registry.init(registry_url, tmp_path / "k")
    publish_dataset(reg, material["ds"])
    publish_run(reg, material["A"])
    cfg = db.alembic_config()
    with reg.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    assert db.current_revision(reg.engine) == "0004"
    names = set(inspect(reg.engine).get_table_names())
    assert not names & {"training_runs", "coins", "training_proofs", "link_proofs"} and "dataset_commitments" in names
    assert db.upgrade(reg.engine) == ("0004", db.head_revision())
    reg2 = Registry(registry_url)
    assert reg2.training_runs() == []
    out = publish_run(reg2, material["B"])
    assert out["runs_on_dataset"] == 1
    reg2.close()
    reg.close()
