"""Weight commitments in the registry (issue 16): hashed (Poseidon2,
hiding) and tensor-code (opened in every proof) commitments are published,
labelled wherever a version is shown, and a plain version is upgraded to a
hiding successor that names it -- with the upgrade's refusals, and nothing
partial left behind when it fails. Real circuits, real BLS signatures, real
databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from fastapi.testclient import TestClient
from registry_helpers import CARD, key

import zkaudit.api
from zkaudit.circuit import CIRCUIT_FILE, SUMMARY_FILE, WEIGHTS_FILE, Circuit, Node, TensorSpec, encode_circuit
from zkaudit.circuit.weights import Weights
from zkaudit.cli.main import main
from zkaudit.errors import ZkauditError
from zkaudit.hash.commitment import MAGICS, WeightCommitment, layouts_of, salt_from_bytes, verify_weight_opening
from zkaudit.hash.errors import WeightOpeningMismatch
from zkaudit.pcs.proof import COMMITMENT_MAGIC
from zkaudit.registry import db
from zkaudit.registry.api import create_app
from zkaudit.registry.artifacts import MAX_COMMITMENT_BYTES, read_model_dir
from zkaudit.registry.client import publish_local
from zkaudit.registry.errors import AlreadyExists, Forbidden, RegistryError
from zkaudit.registry.records import revocation, revocation_message
from zkaudit.registry.store import Gone, Registry
from zkaudit.registry.weight_commitments import (HASHED_MAGICS, LABELS, NO_WEIGHTS, TENSOR_CODE_MAGIC,
                                                 describe_weight_commitment)
from zkaudit.statements.inference.commitment import COMMITMENT_FILE, EMPTY_WEIGHT_COMMITMENT, SALT_FILE

HIDING = "Poseidon2 p2gl8-tree-v2 (hiding: never opened)"
NOT_HIDING = "tensor-code (not hiding: opened in every proof)"


def tiny_model(root: Path, *, name: str = "tiny", scheme: str = "plain", seed: int = 1) -> Path:
    """A compiled-model folder of a one-MatMul circuit (a real circuit, real
    weights and the commitment `compile` would write), without the ONNX step."""
    x = TensorSpec("x", (1, 6), -128, 127, 0.5, 0)
    w = TensorSpec("w", (6, 3), -127, 127)
    y = TensorSpec("y", (1, 3), -97536, 97536, 0.25, 0)
    circuit = Circuit(name, (x,), (y,), (w,), (Node.make("mm", "MatMul", ["x", "w"], "y", a_zero_point=0,
                                                                     b_zero_point=0),), (y,))
    weights = Weights({"w": np.random.default_rng(seed).integers(-127, 128, (6, 3))})
    circuit_bin = encode_circuit(circuit)
    files = {CIRCUIT_FILE: circuit_bin, WEIGHTS_FILE: weights.encode(),
             SUMMARY_FILE: json.dumps({"digest": hashlib.sha256(circuit_bin).hexdigest()}).encode(),
             **zkaudit.api.weight_commitment_file(circuit, weights, scheme)}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


# -- what a commitment is --------------------------------------------------------

def test_the_magics_are_the_schemes_own():
    assert HASHED_MAGICS == tuple(MAGICS.values()) and TENSOR_CODE_MAGIC == COMMITMENT_MAGIC and NO_WEIGHTS == EMPTY_WEIGHT_COMMITMENT


def test_each_kind_is_labelled_and_only_a_hashed_one_is_hiding(tmp_path):
    hashed = (tiny_model(tmp_path / "h", scheme="hashed") / COMMITMENT_FILE).read_bytes()
    plain = (tiny_model(tmp_path / "p") / COMMITMENT_FILE).read_bytes()
    doc = describe_weight_commitment(hashed)
    wc = WeightCommitment.from_bytes(hashed)
    assert doc == {"kind": "hashed", "label": HIDING, "hiding": True, "bytes": len(hashed), **wc.to_record()}
    assert doc["n_weights"] == 18 and doc["scheme"] == "p2gl8-tree-v2" and len(doc["root"]) == 64
    assert describe_weight_commitment(plain) == {"kind": "tensor-code", "label": NOT_HIDING, "hiding": False,
                                                 "bytes": len(plain)}
    assert describe_weight_commitment(NO_WEIGHTS)["label"] == LABELS["none"] == "none (the model has no weights)"
    assert describe_weight_commitment(b"ZKCOMMIT" + bytes(32))["kind"] == "unknown"
    truncated = describe_weight_commitment(hashed[:-1])  # the hashed magic over a body that does not parse
    assert truncated["kind"] == "unknown" and not truncated["hiding"] and "bytes" in truncated["problem"]
    assert len(hashed) == 91 < MAX_COMMITMENT_BYTES


# -- publishing and showing ---------------------------------------------------------

def test_a_hashed_commitment_is_published_logged_and_shown_with_its_record(registry, tmp_path):
    art = read_model_dir(tiny_model(tmp_path / "h", scheme="hashed"))
    out = publish_local(registry, key("acme"), art, "tiny", "1.0", CARD)
    record = WeightCommitment.from_bytes(art.weight_commitment).to_record()
    assert out["weight_commitment"]["root"] == record["root"] and out["supersedes"] is None
    view = registry.show_version("tiny", "1.0")
    assert view["weight_commitment"] == {"kind": "hashed", "label": HIDING, "hiding": True, "bytes": 91, **record}
    assert view["supersedes"] is None and view["superseded_by"] is None
    assert registry.artifacts("tiny", "1.0")[1] == art.weight_commitment  # the bytes, unchanged
    assert registry.list_models()[0]["weight_commitments"] == {"1.0": "hashed"}
    assert "supersedes" not in registry.entry(out["log_index"])["decoded"]["record"]
    assert registry.verify_log().ok


def test_a_hashed_commitment_for_another_layout_or_a_broken_one_is_refused(registry, tmp_path):
    good = tiny_model(tmp_path / "h", scheme="hashed")
    wc = WeightCommitment.from_bytes((good / COMMITMENT_FILE).read_bytes())
    for bad, why in ((WeightCommitment(wc.scheme, wc.root, 17, wc.layout_digest), "counts 17 weights"),
                     (WeightCommitment(wc.scheme, wc.root, 18, bytes(32)), "shape hash")):
        (good / COMMITMENT_FILE).write_bytes(bad.to_bytes())
        with pytest.raises(ZkauditError, match=why):
            read_model_dir(good)
    (good / COMMITMENT_FILE).write_bytes(wc.to_bytes()[:-3])
    with pytest.raises(ZkauditError, match="weight commitment is 91 bytes"):
        read_model_dir(good)
    assert registry.list_models() == []


def test_http_api_and_cli_show_the_labels(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = str(tmp_path / "r.db")
    reg, _, _ = Registry.init(url, tmp_path / "r.key")
    publish_local(reg, key("acme"), read_model_dir(tiny_model(tmp_path / "p")), "tiny", "1.0", CARD)
    publish_local(reg, key("acme"), read_model_dir(tiny_model(tmp_path / "h", scheme="hashed")), "tiny", "2.0", CARD)
    client = TestClient(create_app(reg))
    doc = client.get("/v1/models/tiny/versions/2.0").json()
    assert doc["weight_commitment"]["label"] == HIDING and doc["weight_commitment"]["n_weights"] == 18
    assert client.get("/v1/models/tiny/versions/1.0").json()["weight_commitment"]["label"] == NOT_HIDING
    assert client.get("/v1/models").json()[0]["weight_commitments"] == {"1.0": "tensor-code",
                                                                                 "2.0": "hashed"}
    code, text = run(capsys, "registry", "show", "tiny", "--registry", url)
    assert code == 0 and f"weights: {NOT_HIDING}" in text and f"weights: {HIDING}, root {doc['weight_commitment']['root']}" in text
    code, text = run(capsys, "registry", "list", "--registry", url)
    assert code == 0 and text.strip() == f"tiny  (acme): 1.0 [weights: {NOT_HIDING}], 2.0 [weights: {LABELS['hashed']}]"
    code, text = run(capsys, "registry", "show", "tiny@2.0", "--registry", url, "--json")
    assert code == 0 and json.loads(text)["weight_commitment"]["shape_hash"] == doc["weight_commitment"]["shape_hash"]
    reg.close()


# -- upgrading a plain version -------------------------------------------------------

@pytest.fixture
def published(tmp_path, monkeypatch):
    """A registry (SQLite, its key beside it) holding tiny@1.0 with a plain
    commitment, published from the folder `model`."""
    monkeypatch.chdir(tmp_path)
    url = str(tmp_path / "r.db")
    reg, _, _ = Registry.init(url)
    model = tiny_model(tmp_path / "model")
    publish_local(reg, key("acme"), read_model_dir(model), "tiny", "1.0", CARD)
    reg.close()
    from zkaudit.registry.keys import write_keystore

    write_keystore(tmp_path / "acme.key", key("acme"))
    write_keystore(tmp_path / "other.key", key("other-vendor"))
    return url, model


def test_upgrade_publishes_a_hiding_successor_that_names_the_old_version(published, capsys, tmp_path):
    url, model = published
    code, text = run(capsys, "registry", "upgrade-commitment", model, "--key", tmp_path / "acme.key",
                     "--registry", url)
    assert code == 0, text
    assert "published tiny@1.0-hashed by acme, superseding tiny@1.0" in text and f"weights: {HIDING}" in text
    salt_file = model / SALT_FILE
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600 and len(salt_file.read_bytes()) == 16
    reg = Registry(url)
    published_bytes = reg.artifacts("tiny", "1.0-hashed")[1]
    assert (model / COMMITMENT_FILE).read_bytes() == published_bytes
    circuit = zkaudit.circuit.load_circuit(model)
    weights = zkaudit.circuit.load_weights(model)
    layouts = layouts_of(circuit.weights)
    wc = WeightCommitment.from_bytes(published_bytes)
    verify_weight_opening(wc, layouts, [weights[t.name] for t in layouts], salt_from_bytes(salt_file.read_bytes()))
    old, new = reg.show_version("tiny", "1.0"), reg.show_version("tiny", "1.0-hashed")
    assert old["superseded_by"] == "tiny@1.0-hashed" and new["supersedes"] == "tiny@1.0"
    assert new["circuit_digest"] == old["circuit_digest"] and new["model_card"] == old["model_card"]
    assert reg.entry(new["log_index"])["decoded"]["record"]["supersedes"] == "1.0"  # the log holds the link
    assert reg.verify_log().ok
    assert zkaudit.api.resolve_model_ref(reg, "tiny@latest") == ("tiny", "1.0-hashed")
    reg.close()
    code, text = run(capsys, "registry", "show", "tiny@1.0", "--registry", url)
    assert "superseded by tiny@1.0-hashed (hiding weight commitment)" in text and f"weights: {NOT_HIDING}" in text
    code, text = run(capsys, "registry", "verify-log", "--registry", url)
    assert code == 0 and text.startswith("log OK")


def test_upgrade_refusals_leave_the_folder_and_the_registry_as_they_were(published, capsys, tmp_path):
    url, model = published
    before, size = snapshot(model), Registry(url).log_size()

    def refused(*extra, match: str, folder: Path = model) -> None:
        code, text = run(capsys, "registry", "upgrade-commitment", folder, "--registry", url, *extra)
        assert code == 2 and match in text, text
        assert snapshot(model) == before and Registry(url).log_size() == size
        assert sorted(p.name for p in model.parent.iterdir() if p.name.startswith(".")) == []

    refused("--key", tmp_path / "other.key", match="tiny belongs to vendor 'acme'")
    # weights that are not the ones behind the published commitment
    weights = zkaudit.circuit.load_weights(model)
    other = Weights({"w": np.asarray(weights["w"]) * 0 + 5})
    (model / WEIGHTS_FILE).write_bytes(other.encode())
    before = snapshot(model)
    refused("--key", tmp_path / "acme.key", match="do not match the weight commitment published as tiny@1.0")
    (model / WEIGHTS_FILE).write_bytes(weights.encode())
    before = snapshot(model)
    # a folder that was never published
    stray = tiny_model(tmp_path / "stray", seed=2)
    refused("--key", tmp_path / "acme.key", match="no version in this registry holds", folder=stray)
    # publishing itself refused (the successor's label is taken): the folder is put back
    refused("--key", tmp_path / "acme.key", "--version", "1.0", match="tiny@1.0 is already published")
    # a folder with a hashed commitment already, and a version that is superseded already
    assert run(capsys, "registry", "upgrade-commitment", model, "--key", tmp_path / "acme.key", "--registry",
               url)[0] == 0
    before, size = snapshot(model), Registry(url).log_size()
    refused("--key", tmp_path / "acme.key", match="already has a hashed (hiding) weight commitment")
    again = tiny_model(tmp_path / "again")
    code, text = run(capsys, "registry", "upgrade-commitment", again, "--key", tmp_path / "acme.key",
                     "--registry", url, "--model", "tiny@1.0")
    assert code == 2 and "tiny@1.0 is already superseded by tiny@1.0-hashed" in text
    assert not (again / SALT_FILE).exists() and Registry(url).log_size() == size


def test_a_lost_reply_after_the_successor_was_stored_keeps_the_salt(published, tmp_path):
    url, model = published

    class LostReply(Registry):
        """The registry stores the write, then the reply never arrives."""

        def publish(self, *a, **kw):
            super().publish(*a, **kw)
            raise ConnectionResetError("connection reset by peer")

    reg = LostReply(url)
    out = zkaudit.api.upgrade_commitment(model, key("acme"), reg)
    assert "reply was lost" in out["note"] and out["version"] == "1.0-hashed"
    assert (model / COMMITMENT_FILE).read_bytes() == reg.artifacts("tiny", "1.0-hashed")[1]
    assert (model / SALT_FILE).is_file()  # the registered root stays provable
    reg.close()


def test_publish_supersedes_from_the_cli(published, capsys, tmp_path):
    url, _ = published
    hashed = tiny_model(tmp_path / "h", scheme="hashed")
    code, text = run(capsys, "registry", "publish", hashed, "--name", "tiny", "--version", "2.0", "--supersedes",
                     "1.0", "--key", tmp_path / "acme.key", "--registry", url)
    assert code == 0 and "supersedes:     tiny@1.0" in text and f"weights:        {HIDING}" in text, text
    code, text = run(capsys, "registry", "show", "tiny@1.0", "--registry", url)
    assert "superseded by tiny@2.0 (hiding weight commitment)" in text


def test_the_registry_refuses_successors_that_are_not_upgrades(registry, tmp_path):
    plain = read_model_dir(tiny_model(tmp_path / "p"))
    publish_local(registry, key("acme"), plain, "tiny", "1.0", CARD)
    hashed = read_model_dir(tiny_model(tmp_path / "h", scheme="hashed"))
    other_circuit = read_model_dir(tiny_model(tmp_path / "o", name="tiny2", scheme="hashed"))
    with pytest.raises(RegistryError, match="must carry a hashed"):
        publish_local(registry, key("acme"), plain, "tiny", "2.0", CARD, supersedes="1.0")
    with pytest.raises(RegistryError, match="keeps its circuit"):
        publish_local(registry, key("acme"), other_circuit, "tiny", "2.0", CARD, supersedes="1.0")
    with pytest.raises(Forbidden, match="belongs to vendor 'acme'"):
        publish_local(registry, key("other-vendor"), hashed, "tiny", "2.0", CARD, supersedes="1.0")
    publish_local(registry, key("acme"), hashed, "tiny", "2.0", CARD, supersedes="1.0")
    with pytest.raises(AlreadyExists, match="already superseded by tiny@2.0"):
        publish_local(registry, key("acme"), hashed, "tiny", "3.0", CARD, supersedes="1.0")
    with pytest.raises(AlreadyExists, match="already has a hashed"):
        publish_local(registry, key("acme"), hashed, "tiny", "3.0", CARD, supersedes="2.0")
    publish_local(registry, key("acme"), plain, "tiny", "4.0", CARD)
    stmt = revocation(model="tiny", version="4.0", reason="wrong cohort")
    registry.revoke(**stmt, signer=key("acme").public_key, signature=key("acme").sign(revocation_message(stmt)))
    with pytest.raises(Gone, match="was revoked"):
        publish_local(registry, key("acme"), hashed, "tiny", "5.0", CARD, supersedes="4.0")
    # a signature over the statement without the link does not publish it with the link
    from zkaudit.registry.client import sign_publication
    from zkaudit.registry.errors import BadSignature

    publish_local(registry, key("acme"), plain, "tiny", "5.0", CARD)
    with pytest.raises(BadSignature):
        registry.publish(hashed, model="tiny", version="6.0", card=CARD, vendor=key("acme").public_key,
                         signature=sign_publication(key("acme"), hashed, "tiny", "6.0", CARD), supersedes="5.0")
    assert registry.show_version("tiny", "5.0")["superseded_by"] is None
    assert registry.verify_log().ok


def test_migration_0004_keeps_existing_versions_both_ways(registry_url, tmp_path):
    reg, _, _ = Registry.init(registry_url, tmp_path / "k")
    publish_local(reg, key("acme"), read_model_dir(tiny_model(tmp_path / "p")), "tiny", "1.0", CARD)
    cfg = db.alembic_config()
    with reg.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert db.current_revision(reg.engine) == "0003"
    assert db.upgrade(reg.engine) == ("0003", db.head_revision())
    reg2 = Registry(registry_url)
    assert reg2.show_version("tiny", "1.0")["weight_commitment"]["label"] == NOT_HIDING
    assert reg2.verify_log().ok
    publish_local(reg2, key("acme"), read_model_dir(tiny_model(tmp_path / "h", scheme="hashed")), "tiny", "2.0",
                  CARD, supersedes="1.0")
    assert reg2.show_version("tiny", "1.0")["superseded_by"] == "tiny@2.0"
    reg2.close()
    reg.close()


def test_upgrade_over_http(tmp_path):
    from remote_helpers import Served

    from zkaudit.registry.remote import RemoteRegistry

    reg, _, _ = Registry.init(str(tmp_path / "r.db"), tmp_path / "r.key")
    model = tiny_model(tmp_path / "model")
    publish_local(reg, key("acme"), read_model_dir(model), "tiny", "1.0", CARD)
    srv = Served(create_app(reg))
    remote = RemoteRegistry(srv.url)
    try:
        out = zkaudit.api.upgrade_commitment(model, key("acme"), remote)
        assert out["supersedes"] == "tiny@1.0" and out["weight_commitment"]["kind"] == "hashed"
        assert remote.show_version("tiny", "1.0")["superseded_by"] == "tiny@1.0-hashed"
        assert remote.checked_version("tiny", "1.0-hashed").weight_commitment == (model / COMMITMENT_FILE).read_bytes()
    finally:
        remote.close()
        srv.stop()
        reg.close()


def test_a_salt_that_differs_does_not_open_the_commitment(tmp_path):
    model = tiny_model(tmp_path / "h", scheme="hashed")
    wc = WeightCommitment.from_bytes((model / COMMITMENT_FILE).read_bytes())
    weights = zkaudit.circuit.load_weights(model)
    a, b = salt_from_bytes((model / SALT_FILE).read_bytes())
    with pytest.raises(WeightOpeningMismatch):
        verify_weight_opening(wc, layouts_of(zkaudit.circuit.load_circuit(model).weights), [weights["w"]],
                              (a, b ^ 1))
