"""`zkaudit train init / coin sign / train RUN --coin / train check` end to end
on the sealed breast-cancer data, the exported models through `zkaudit
compile`, and the user mistakes (one line, exit 2) and rejections (exit 1)."""

from __future__ import annotations

import json

import pytest
from train_helpers import policy_doc

from zkaudit.cli.main import main


def _json(capsys):
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    from zkaudit.registry.keys import KeyPair, write_keystore

    d = tmp_path_factory.mktemp("keys")
    aud, other = KeyPair.generate("auditor"), KeyPair.generate("someone")
    write_keystore(d / "auditor.key", aud)
    write_keystore(d / "other.key", other)
    return d, aud.public_key.hex()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, dataset_dir, keys):
    """init -> coin sign -> train (the whole journey through the CLI)."""
    import contextlib
    import io

    d = tmp_path_factory.mktemp("run")
    kd, pk = keys
    (d / "policy.json").write_text(json.dumps(policy_doc(steps=60), indent=2))
    out = {}
    for name, argv in (
            ("init", ["train", "init", "--policy", str(d / "policy.json"), "--dataset", str(dataset_dir), "--out",
                      str(d / "RUN"), "--auditor", pk, "--json"]),
            ("coin", ["coin", "sign", str(d / "RUN"), "--key", str(kd / "auditor.key"), "--json"]),
            ("train", ["train", str(d / "RUN"), "--coin", str(d / "RUN" / "coin.json"), "--json"])):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = main(argv)
        assert rc == 0, (name, buf.getvalue())
        out[name] = json.loads(buf.getvalue())
    return d, out


def test_journey(trained):
    d, out = trained
    run = d / "RUN"
    assert out["coin"]["run_id"] == out["init"]["run_id"]
    res = out["train"]
    assert res["run_id"] == out["init"]["run_id"] and res["steps"] == 60
    assert float(res["train_accuracy"]) > 0.9
    assert float(res["privacy"]["epsilon"]) == pytest.approx(float(out["init"]["privacy"]["epsilon"]))
    for f in ("model.onnx", "model_int8.onnx", "result.json", "private/trace.npz", "private/tape.npz"):
        assert (run / f).is_file(), f
    assert (run / "private" / "tape.npz").stat().st_mode & 0o077 == 0


def test_check_passes_then_catches_a_changed_tape(trained, capsys):
    import numpy as np

    d, _ = trained
    run = d / "RUN"
    assert main(["train", "check", str(run), "--coin", str(run / "coin.json"), "--json"]) == 0
    assert _json(capsys)["verdict"] == "ok"
    tape = run / "private" / "tape.npz"
    saved = tape.read_bytes()
    try:
        with np.load(tape) as z:
            words, salt = z["words"].copy(), z["salt"]
        words[0] ^= np.uint64(1)
        np.savez(tape, words=words, salt=salt)
        assert main(["train", "check", str(run), "--coin", str(run / "coin.json")]) == 1
        assert "tape was changed" in capsys.readouterr().err
    finally:
        tape.write_bytes(saved)


def test_exported_models_compile(trained, tmp_path, capsys):
    d, _ = trained
    run = d / "RUN"
    assert main(["compile", str(run / "model_int8.onnx"), "--out", str(tmp_path / "q"), "--json"]) == 0
    summary = _json(capsys)
    assert summary["inputs"][0]["shape"] == [1, 30]
    import numpy as np

    np.save(tmp_path / "calib.npy", np.load(run / "private" / "calibration.npy"))
    assert main(["compile", str(run / "model.onnx"), "--out", str(tmp_path / "f"), "--calibration",
                 str(tmp_path / "calib.npy"), "--json"]) == 0
    assert _json(capsys)["fidelity"]["float_top1_agreement"] > 0.95


def test_user_mistakes_are_one_line(trained, keys, tmp_path, dataset_dir, capsys):
    d, _ = trained
    kd, pk = keys
    run = d / "RUN"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(policy_doc(learning_rate="0.3")))
    assert main(["train", "init", "--policy", str(bad), "--dataset", str(dataset_dir), "--out", str(tmp_path / "R"),
                 "--auditor", pk]) == 2
    err = capsys.readouterr().err
    assert "learning_rate: 0.3 is not dyadic" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "R").exists()
    assert main(["train", "init", "--policy", str(d / "policy.json"), "--dataset", str(dataset_dir), "--out",
                 str(tmp_path / "R"), "--auditor", "zz"]) == 2
    assert "not hex" in capsys.readouterr().err
    # the coin can only come from the auditor the run names
    assert main(["coin", "sign", str(run), "--key", str(kd / "other.key"), "--out", str(tmp_path / "c.json")]) == 2
    assert "not the auditor key the run record names" in capsys.readouterr().err
    # one run, one coin, one training
    assert main(["train", str(run), "--coin", str(run / "coin.json")]) == 2
    assert "already trained" in capsys.readouterr().err


def test_coin_of_another_run_is_rejected(trained, keys, tmp_path, dataset_dir, capsys):
    d, _ = trained
    kd, pk = keys
    other = tmp_path / "R2"
    assert main(["train", "init", "--policy", str(d / "policy.json"), "--dataset", str(dataset_dir), "--out",
                 str(other), "--auditor", pk, "--json"]) == 0
    capsys.readouterr()
    assert main(["train", str(other), "--coin", str(d / "RUN" / "coin.json")]) == 1
    assert "issued for another run record" in capsys.readouterr().err
    assert not (other / "result.json").exists()


def test_check_recomputes_epsilon(trained, capsys):
    d, _ = trained
    run = d / "RUN"
    result = run / "result.json"
    saved = result.read_text()
    try:
        doc = json.loads(saved)
        doc["privacy"]["epsilon"] = repr(float(doc["privacy"]["epsilon"]) * 0.9)
        result.write_text(json.dumps(doc))
        assert main(["train", "check", str(run), "--coin", str(run / "coin.json")]) == 1
        assert "claimed epsilon is below the accountant's" in capsys.readouterr().err
    finally:
        result.write_text(saved)


def test_run_record_is_parsed_strictly(trained, tmp_path, capsys):
    import shutil

    d, _ = trained
    copy = tmp_path / "RUN"
    shutil.copytree(d / "RUN", copy)
    record = json.loads((copy / "run.json").read_text())
    record["tape"]["words"] += 1
    (copy / "run.json").write_text(json.dumps(record))
    assert main(["train", "check", str(copy), "--coin", str(copy / "coin.json")]) == 1
    assert "tape.words is not the policy's" in capsys.readouterr().err
