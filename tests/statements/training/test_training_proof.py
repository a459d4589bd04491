"""The training proof (train-dpsgd/v1): an honest run verifies with the
accountant's epsilon and >= 100 bits; tampered proofs, another statement and
a malicious prover that forges the noise or the clipping are rejected."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))
from train_helpers import policy_doc  # noqa: E402

from zkaudit.errors import ProofRejected  # noqa: E402
from zkaudit.statements.training import witness as wt  # noqa: E402
from zkaudit.statements.training.run_proof import prove_training  # noqa: E402
from zkaudit.statements.training.verifier import StatementMismatch, verify_training  # noqa: E402
from zkaudit.train.run import load_run, read_coin  # noqa: E402

STEPS = 6


def forget_proofs(run_dir) -> None:
    """Tests prove one run many times; a user's second proof of a run is
    refused (it would reopen the tape): drop the markers that record openings."""
    from zkaudit.statements.training.run_proof import PROVED_FILE, USES_FILE

    for path in (run_dir / "RUN" / "private" / PROVED_FILE, run_dir / "DS" / USES_FILE):
        path.unlink(missing_ok=True)


def make_run(d, training_uses: int = 1, **policy_changes):
    """Commit the breast-cancer split, then init, coin and train a run through the CLI."""
    from zkaudit.cli.main import main
    from zkaudit.data.dataset import commit_dataset, write_dataset
    from zkaudit.registry.keys import KeyPair, write_keystore
    from zkaudit.train import example

    files = example.write_example(d)
    record, opening = commit_dataset(files["train"], json.loads(files["schema"].read_text()),
                                     training_uses=training_uses)
    write_dataset(d / "DS", record, opening, None)
    aud = KeyPair.generate("auditor")
    write_keystore(d / "auditor.key", aud)
    (d / "policy.json").write_text(json.dumps(policy_doc(steps=STEPS, **policy_changes)))
    for argv in (["train", "init", "--policy", str(d / "policy.json"), "--dataset", str(d / "DS"), "--out",
                  str(d / "RUN"), "--auditor", aud.public_key.hex(), "--json"],
                 ["coin", "sign", str(d / "RUN"), "--key", str(d / "auditor.key"), "--json"],
                 ["train", str(d / "RUN"), "--coin", str(d / "RUN" / "coin.json"), "--json"]):
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(argv) == 0
    return d


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("train-proof"))


@pytest.fixture(scope="module")
def honest(run_dir):
    run = load_run(run_dir / "RUN")
    return prove_training(run, read_coin(run_dir / "RUN" / "coin.json"))


def test_honest_proof_verifies(run_dir, honest):
    from zkaudit.train.accountant import epsilon

    run = load_run(run_dir / "RUN")
    v = verify_training(honest, run_record=run.record, policy_doc=run.policy.doc,
                        coin_doc=read_coin(run_dir / "RUN" / "coin.json"))
    assert v.run_id == run.run_id
    assert v.soundness_bits >= 100
    assert v.theta_commitment == (run_dir / "RUN" / "theta.commitment").read_bytes()
    assert v.privacy.to_json() == epsilon(run.policy, run.record["num_rows"]).to_json()


def test_padding_slots_and_an_unrounded_update(tmp_path):
    """B_max = 100 (slots 100..127 are padding, gate-free: kept out of the
    gradient sum) and learning rate 1 (the update needs no rounding)."""
    d = make_run(tmp_path, sampling__max_batch=100, learning_rate="1")
    run = load_run(d / "RUN")
    assert run.policy.update_multiplier()[1] <= 0
    v = verify_training(prove_training(run, read_coin(d / "RUN" / "coin.json")))
    assert v.run_id == run.run_id


def test_each_training_use_opens_its_own_commitment(tmp_path):
    """A dataset committed for two training uses: each proof opens its own
    hiding commitment (never the consent proofs' one); a third use does not exist."""
    from zkaudit.errors import ZkauditError

    d = make_run(tmp_path, training_uses=2)
    run, coin = load_run(d / "RUN"), read_coin(d / "RUN" / "coin.json")
    from zkaudit.data.dataset import load_dataset

    record = load_dataset(d / "DS")[0]
    assert len(record.training_commitments) == 2
    with pytest.raises(ZkauditError, match="use 2 does not exist"):
        prove_training(run, coin, dataset_use=2)
    v = verify_training(prove_training(run, coin, dataset_use=1))
    assert v.dataset_use == 1
    # one proof per run, one run per training commitment
    with pytest.raises(ZkauditError, match="already has its training proof"):
        prove_training(run, coin, dataset_use=0)
    run2_dir = second_run(d)
    run2 = load_run(run2_dir)
    assert run2.record["dataset_record_digest"] == run.record["dataset_record_digest"]
    with pytest.raises(ZkauditError, match="already opened by run"):
        prove_training(run2, read_coin(run2_dir / "coin.json"), dataset_use=1)
    assert verify_training(prove_training(run2, read_coin(run2_dir / "coin.json"), dataset_use=0)).dataset_use == 0


def second_run(d):
    """Another run on the same dataset directory (its ledger of opened training commitments included)."""
    from zkaudit.cli.main import main

    for argv in (["train", "init", "--policy", str(d / "policy.json"), "--dataset", str(d / "DS"), "--out",
                  str(d / "RUN2"), "--auditor", load_run(d / "RUN").auditor_public_key.hex(), "--json"],
                 ["coin", "sign", str(d / "RUN2"), "--key", str(d / "auditor.key"), "--json"],
                 ["train", str(d / "RUN2"), "--coin", str(d / "RUN2" / "coin.json"), "--json"]):
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(argv) == 0
    return d / "RUN2"


def test_tampered_bytes_are_rejected(honest):
    for pos in (len(honest) // 3, len(honest) // 2, len(honest) - 100):
        bad = bytearray(honest)
        bad[pos] ^= 0x01
        with pytest.raises(ProofRejected):
            verify_training(bytes(bad))


def test_another_policy_is_a_statement_mismatch(run_dir, honest):
    other = policy_doc(steps=STEPS + 1)
    with pytest.raises(StatementMismatch):
        verify_training(honest, policy_doc=other)


def _forge(run_dir, monkeypatch, tamper):
    """A malicious prover: changes witness columns after the honest build, fills
    every range limb with the value mod 2^bits and skips its own gate check."""
    build = wt.build

    def evil_build(*args, **kwargs):
        cols = build(*args, **kwargs)
        tamper(args[0], cols)
        return cols

    def evil_ranges(plan, cols):
        for dom in plan.domains.values():
            sel = wt.sel_mask(dom)
            for r in (r for r in plan.ranges if r.domain == dom.name):
                v = np.where(sel == 1, r.expr.evaluate_int(cols, sel.shape[0]), 0).astype(object) % (1 << r.bits)
                shift = 0
                for limb, w in zip(r.limbs, r.widths):
                    cols[limb] = ((v >> shift) & ((1 << w) - 1)).astype(np.int64)
                    shift += w

    monkeypatch.setattr(wt, "build", evil_build)
    monkeypatch.setattr(wt, "fill_ranges", evil_ranges)
    monkeypatch.setattr(wt, "check_gates", lambda plan, cols: None)
    run = load_run(run_dir / "RUN")
    forget_proofs(run_dir)
    return prove_training(run, read_coin(run_dir / "RUN" / "coin.json"))


def _noise_off_by_one(plan, cols):
    """noise_off_by_one_bucket: coordinate 3 of step 0 draws the next bucket (a
    consistent table row), so the noise added is one grid unit larger."""
    values = plan.tables["noise"].values
    cols["kn"][3] += 1
    cols["hn"][3], cols["ln"][3] = values[cols["kn"][3]], values[cols["kn"][3] - 1]


def _zero_clip(plan, cols):
    """clip_factor_too_small: a live slot's clipped gradient is zeroed."""
    live = np.flatnonzero(cols["live"] == 1)
    j = live[0]
    cols["A"][j] = 0
    cols["et"][j] = 0


@pytest.mark.parametrize("tamper", [_noise_off_by_one, _zero_clip], ids=["noise_off_by_one", "zeroed_clip"])
def test_malicious_prover_is_rejected(run_dir, monkeypatch, tamper):
    forged = _forge(run_dir, monkeypatch, tamper)
    with pytest.raises(ProofRejected):
        verify_training(forged)


def test_cli_prove_then_verify(run_dir, tmp_path, capsys):
    """Through the CLI, each --json document as docs/json.md documents it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cli"))
    from test_json import check

    from zkaudit.cli.main import main

    out = tmp_path / "TRAIN.zkp"
    forget_proofs(run_dir)
    assert main(["prove-training", str(run_dir / "RUN"), "--out", str(out), "--json"]) == 0
    proved = json.loads(capsys.readouterr().out)
    check(proved, "zkaudit.prove-training/1")
    assert proved["bytes"] == out.stat().st_size and proved["soundness_bits"] >= 100
    assert main(["verify", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    check(doc, "zkaudit.verify-training/1", present_optional=("run_id", "policy", "policy_digest",
                                                               "auditor_public_key", "auditor_required",
                                                               "dataset_digest", "dataset_rows", "dataset_use",
                                                               "theta_commitment", "privacy_loss", "soundness_bits",
                                                               "zero_knowledge"))
    assert doc["valid"] and doc["statement"] == "train-dpsgd/v1"
    assert doc["privacy_loss"]["epsilon"] == proved["privacy"]["epsilon"]
    assert doc["dataset_rows"] == 455 and doc["policy"]["steps"] == STEPS
    auditor = load_run(run_dir / "RUN").auditor_public_key.hex()
    assert doc["auditor_public_key"] == auditor and doc["auditor_required"] is False
    assert main(["verify", str(out), "--json", "--auditor", auditor]) == 0
    assert json.loads(capsys.readouterr().out)["auditor_required"] is True
    other = "a" * 96
    assert main(["verify", str(out), "--json", "--auditor", other]) == 1
    assert "another auditor key" in json.loads(capsys.readouterr().out)["reason"]
    bad = bytearray(out.read_bytes())
    bad[len(bad) // 2] ^= 1
    (tmp_path / "BAD.zkp").write_bytes(bytes(bad))
    assert main(["verify", str(tmp_path / "BAD.zkp"), "--json"]) == 1
    bad_doc = json.loads(capsys.readouterr().out)
    check(bad_doc, "zkaudit.verify-training/1", present_optional=("reason", "error", "code", "exit_code"))
    assert bad_doc["valid"] is False
