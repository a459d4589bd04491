"""The HTTP API through FastAPI's test client: signed writes, public reads,
precise 4xx answers that change nothing, and log proofs a client can check."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient
from registry_helpers import CARD, bad_proofs, key, make_model_dir

from zkaudit.registry import merkle
from zkaudit.registry.api import create_app
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.auth import RequestAuth
from zkaudit.registry.client import build_request, publish_payload
from zkaudit.registry.keys import read_keystore
from zkaudit.registry.log import SignedTreeHead
from zkaudit.registry.store import Registry


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One registry with acme@cxr 1 published over HTTP (module-wide: BLS is slow)."""
    d = tmp_path_factory.mktemp("api")
    reg, _, key_path = Registry.init(str(d / "r.db"), d / "r.key")
    reg.key = read_keystore(key_path)
    client = TestClient(create_app(reg, max_body=64 * 1024))
    art = read_model_dir(make_model_dir(d / "m", 3))
    body = build_request(key("acme"), "publish", reg.public_key,
                         publish_payload(key("acme"), art, "cxr", "1", CARD, first_use=True))
    r = client.post("/v1/publish", json=body)
    assert r.status_code == 201, r.text
    return reg, client, body, art


def _unchanged(reg, fn):
    before = reg.log_size()
    r = fn()
    assert reg.log_size() == before
    return r


def test_reads_are_public(served):
    reg, client, _, art = served
    assert client.get("/v1/models").json() == [{"name": "cxr", "vendor": "acme", "versions": ["1"],
                                                 "weight_commitments": {"1": "unknown"}}]  # a test stand-in
    v = client.get("/v1/models/cxr/versions/1").json()
    assert v["circuit_digest"] == art.circuit_digest and v["revoked"] is None
    assert client.get("/v1/models/cxr/versions/1/circuit").content == art.circuit_bin
    assert client.get("/v1/models/cxr/versions/1/weight-commitment").content == art.weight_commitment
    [att] = client.get("/v1/models/cxr/versions/1/attestations").json()
    assert att["signers"] == ["acme"] and att["statement"]["circuit_digest"] == art.circuit_digest
    assert client.get("/v1/models/nope").status_code == 404
    assert "/v1/publish" in client.get("/openapi.json").json()["paths"]


def test_replayed_request_is_refused(served):
    reg, client, body, _ = served
    r = _unchanged(reg, lambda: client.post("/v1/publish", json=body))
    assert r.status_code == 409 and "replayed" in r.json()["detail"]


def test_republishing_a_version_is_refused(served):
    reg, client, _, art = served
    body = build_request(key("acme"), "publish", reg.public_key,
                         publish_payload(key("acme"), art, "cxr", "1", CARD, first_use=False))
    r = _unchanged(reg, lambda: client.post("/v1/publish", json=body))
    assert (r.status_code, r.json()["detail"]) == (409, "cxr@1 is already published")


def test_payload_changed_after_signing_is_refused(served):
    reg, client, _, _ = served
    body = build_request(key("acme"), "submit-proof", reg.public_key,
                         {"model": "cxr", "version": "1", "proof": base64.b64encode(b"A").decode()})
    body["payload"]["proof"] = base64.b64encode(b"B").decode()
    r = _unchanged(reg, lambda: client.post("/v1/proofs", json=body))
    assert (r.status_code, r.json()["detail"]) == (401, "invalid signature on submit-proof request")


def test_bad_input_gets_precise_errors(served):
    reg, client, _, _ = served
    ok = {"model": "cxr", "version": "1", "proof": "QQ=="}
    auth = {"signer": key("acme").public_key.hex(), "nonce": "ab" * 16, "timestamp": 0, "signature": "00" * 96}
    cases = [
        (lambda: client.post("/v1/proofs", content=b'{"payload": ', headers={"content-type": "application/json"}),
         400, "request body is not valid JSON"),
        (lambda: client.post("/v1/proofs", json={"payload": {**ok, "extra": 1}, "auth": auth}), 422, None),
        (lambda: client.post("/v1/proofs", json={"payload": ok, "auth": auth}), 409,
         "request timestamp is"),  # stale: refused before any signature work
        (lambda: client.post("/v1/proofs", content=b"x" * (64 * 1024 + 1)), 413,
         "request body of 65537 bytes exceeds the 65536-byte limit"),
        (lambda: client.post("/v1/models/cxr/versions/1/check", content=iter([b"x" * 40000, b"y" * 40000])), 413,
         "request body exceeds the 65536-byte limit"),
    ]
    for call, status, detail in cases:
        r = _unchanged(reg, call)
        assert r.status_code == status, r.text
        if detail:
            assert r.json()["detail"].startswith(detail), r.text


def test_unknown_model_is_404(served):
    reg, client, _, _ = served
    body = build_request(key("acme"), "submit-proof", reg.public_key, {"model": "ghost", "version": "1", "proof": "QQ=="})
    r = _unchanged(reg, lambda: client.post("/v1/proofs", json=body))
    assert r.status_code == 404 and r.json()["detail"].startswith("unknown model 'ghost'")


def test_unregistered_signer_is_refused(served):
    reg, client, _, _ = served
    body = build_request(key("stranger"), "submit-proof", reg.public_key, {"model": "cxr", "version": "1", "proof": "QQ=="})
    r = _unchanged(reg, lambda: client.post("/v1/proofs", json=body))
    assert r.status_code == 401 and "is not registered" in r.json()["detail"]


def test_request_for_another_registry_is_refused(served):
    reg, client, _, _ = served
    body = build_request(key("acme"), "submit-proof", key("other-registry").public_key,
                         {"model": "cxr", "version": "1", "proof": "QQ=="})
    r = _unchanged(reg, lambda: client.post("/v1/proofs", json=body))
    assert r.status_code == 401


def test_submit_and_check_and_log_proofs(served):
    reg, client, _, _ = served
    proof = bad_proofs()["unknown statement"]
    body = build_request(key("acme"), "submit-proof", reg.public_key,
                         {"model": "cxr", "version": "1", "proof": base64.b64encode(proof).decode()})
    r = client.post("/v1/proofs", json=body)
    assert r.status_code == 201 and r.json()["valid"] is False
    stored = r.json()
    check = client.post("/v1/models/cxr/versions/1/check", content=proof).json()
    assert check["reason"] == stored["reason"] and check["valid"] is False
    assert "not supported by verifier version" in check["reason"]
    assert client.post("/v1/models/cxr/versions/9/check", content=proof).status_code == 404

    head = client.get("/v1/log/head").json()
    sth = SignedTreeHead.from_json(head["signed_head"])
    sth.verify(bytes.fromhex(head["registry_public_key"]))
    n = sth.tree_size
    assert n == head["log_size"] == stored["log_index"] + 1
    inc = client.get("/v1/log/inclusion", params={"index": stored["log_index"], "tree_size": n}).json()
    entry = client.get(f"/v1/log/entries/{stored['log_index']}").json()
    leaf = merkle.leaf_hash(bytes.fromhex(entry["body"]))
    assert merkle.verify_inclusion(leaf, stored["log_index"], n, [bytes.fromhex(h) for h in inc["path"]], sth.root_hash)
    old = client.get("/v1/log/inclusion", params={"index": 0, "tree_size": 1}).json()
    first_root = merkle.leaf_hash(bytes.fromhex(client.get("/v1/log/entries/0").json()["body"]))
    assert old["path"] == []
    cons = client.get("/v1/log/consistency", params={"first": 1, "second": n}).json()
    assert merkle.verify_consistency(1, n, first_root, sth.root_hash, [bytes.fromhex(h) for h in cons["proof"]])
    assert client.get("/v1/log/inclusion", params={"index": 0, "tree_size": n + 5}).status_code == 404


def test_request_auth_binds_the_payload():
    payload = {"a": 1}
    auth = RequestAuth.from_json("x", {"signer": "00", "nonce": "ab" * 16, "timestamp": 1, "signature": ""}, payload)
    assert auth.payload_digest != RequestAuth.from_json("x", json.loads(json.dumps(auth.to_json())), {"a": 2}).payload_digest
