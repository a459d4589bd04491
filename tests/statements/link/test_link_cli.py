"""`zkaudit link RUN --model DIR --out LINK.zkp` on a run trained through
the CLI, then `zkaudit verify LINK.zkp --circuit DIR`; user mistakes are
one line (exit 2), a link against another model is rejected (exit 1)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from link_helpers import policy_doc

from zkaudit.cli.main import main
from zkaudit.hash import commitment as hc


def _run(argv):
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, buf.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from zkaudit.data.dataset import commit_dataset, write_dataset
    from zkaudit.registry.keys import KeyPair, write_keystore
    from zkaudit.train import example

    d = tmp_path_factory.mktemp("linkcli")
    files = example.write_example(d / "bc")
    record, opening = commit_dataset(files["train"], json.loads(files["schema"].read_text()))
    write_dataset(d / "DS", record, opening, None)
    aud = KeyPair.generate("auditor")
    write_keystore(d / "auditor.key", aud)
    (d / "policy.json").write_text(json.dumps(policy_doc(steps=30)))
    for argv in (["train", "init", "--policy", str(d / "policy.json"), "--dataset", str(d / "DS"), "--out",
                  str(d / "RUN"), "--auditor", aud.public_key.hex(), "--json"],
                 ["coin", "sign", str(d / "RUN"), "--key", str(d / "auditor.key"), "--json"],
                 ["train", str(d / "RUN"), "--coin", str(d / "RUN" / "coin.json"), "--json"],
                 ["compile", str(d / "RUN" / "model_int8.onnx"), "--out", str(d / "M"), "--json"]):
        rc, out, err = _run(argv)
        assert rc == 0, (argv[0], out, err)
    return d


def test_link_then_verify(trained):
    d = trained
    rc, _, err = _run(["link", str(d / "RUN"), "--model", str(d / "M"), "--out", str(d / "L.zkp")])
    assert rc == 2 and "theta.salt" in err and len(err.strip().splitlines()) == 1
    assert not (d / "L.zkp").exists()
    (d / "RUN" / "private" / "theta.salt").write_bytes(hc.salt_to_bytes(hc.fresh_salt()))  # the training proof's
    rc, out, err = _run(["link", str(d / "RUN"), "--model", str(d / "M"), "--out", str(d / "L.zkp"), "--json"])
    assert rc == 0, err
    doc = json.loads(out)
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cli"))
    from test_json import check

    check(doc, "zkaudit.link/1")  # as docs/json.md documents it
    assert doc["statement"]["saturated"] == 0 and doc["soundness_bits"] >= 100
    rc, out, err = _run(["verify", str(d / "L.zkp"), "--circuit", str(d / "M"), "--json"])
    assert rc == 0, (out, err)
    v = json.loads(out)
    assert v["valid"] and v["statement"] == "link-quant" and v["output"]["theta_commitment"] == \
        doc["statement"]["theta_commitment"]
    rc, _, err = _run(["link", str(d / "RUN"), "--model", str(d / "M"), "--out", str(d / "L.zkp")])
    assert rc == 2 and "exists" in err
    # a c_theta written by the training proof that this salt does not make: refused, nothing written
    (d / "RUN" / "theta.commitment").write_bytes(bytes.fromhex(doc["statement"]["weight_commitment"]))
    rc, _, err = _run(["link", str(d / "RUN"), "--model", str(d / "M"), "--out", str(d / "L2.zkp")])
    assert rc == 2 and "theta.commitment" in err and not (d / "L2.zkp").exists()
    (d / "RUN" / "theta.commitment").write_bytes(bytes.fromhex(doc["statement"]["theta_commitment"]))
    rc, _, err = _run(["link", str(d / "RUN"), "--model", str(d / "M"), "--out", str(d / "L2.zkp")])
    assert rc == 0, err


def test_link_against_another_model_is_rejected(trained, tmp_path):
    d = trained
    rc, _, err = _run(["compile", str(d / "RUN" / "model_int8.onnx"), "--out", str(tmp_path / "M2")])
    assert rc == 0, err  # same weights, a fresh salt: another registered c_W
    if not (d / "L.zkp").exists():
        pytest.skip("needs test_link_then_verify's proof")
    rc, out, err = _run(["verify", str(d / "L.zkp"), "--circuit", str(tmp_path / "M2")])
    assert rc == 1 and "c_W" in err
