"""The HTTP API as a client meets it: problem+json errors, paging, ETags,
write limits, malformed / oversized / unsigned / replayed writes refused
with the right status (and nothing written), the committed-input proof
form, records of the consent chain, and the verifier-revocation cascade
(accepted proofs read "re-verify", then the current verifier's verdict)."""

from __future__ import annotations

import secrets

import httpx
import numpy as np
import pyarrow as pa
import pytest
from remote_helpers import Served, registry_with_real_model, tamper
from registry_helpers import CARD, key, make_model_dir, publish

from zkaudit.registry.api import create_app
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.client import build_request, publish_payload
from zkaudit.registry.errors import Forbidden
from zkaudit.registry.remote import RemoteRegistry
from zkaudit.registry.sandbox import verify_in_process
from zkaudit.statements.verify import VERIFIER_VERSION, Verdict

PROBLEM = "application/problem+json"


def _post(*a, **kw) -> httpx.Response:
    return httpx.post(*a, timeout=120, **kw)


def _get(*a, **kw) -> httpx.Response:
    return httpx.get(*a, timeout=120, **kw)


def _delete(*a, **kw) -> httpx.Response:
    return httpx.delete(*a, timeout=120, **kw)


@pytest.fixture
def served(tmp_path):
    reg, _, model_dir, proof = registry_with_real_model(str(tmp_path / "r.db"), tmp_path)
    srv = Served(create_app(reg, max_body=1024 * 1024, write_rate=0.01, write_burst=8))
    remote = RemoteRegistry(srv.url)
    yield reg, srv, remote, model_dir, proof
    remote.close()
    srv.stop()
    reg.close()


def _problem(r: httpx.Response, status: int, title: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    doc = r.json()
    assert doc["status"] == status and doc["title"] == doc["error"] == title and doc["type"].endswith(title)
    return doc


def test_reads_paging_etags_and_docs(served, tmp_path):
    reg, srv, remote, _, _ = served
    publish(reg, tmp_path, "ecg", "1", seed=3)
    r = _get(f"{srv.url}/v1/models", params={"limit": 1})
    assert [m["name"] for m in r.json()] == ["ecg"] and 'rel="next"' in r.headers["link"]
    nxt = r.headers["link"].split(">")[0].lstrip("<")
    assert [m["name"] for m in _get(srv.url + nxt).json()] == ["tiny"]
    assert [m["name"] for m in remote.list_models()] == ["ecg", "tiny"]  # the client follows the pages
    c = _get(f"{srv.url}/v1/models/tiny/versions/1/circuit")
    assert "immutable" in c.headers["cache-control"] and c.headers["etag"]
    again = _get(f"{srv.url}/v1/models/tiny/versions/1/circuit", headers={"If-None-Match": c.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    v = _get(f"{srv.url}/v1/models/tiny/versions/1")
    assert v.headers["cache-control"] == "no-cache" and v.headers["etag"]
    e = _get(f"{srv.url}/v1/log/entries/0")
    assert _get(f"{srv.url}/v1/log/entries/0", headers={"If-None-Match": e.headers["etag"]}).status_code == 304
    assert _get(f"{srv.url}/docs").status_code == 200
    paths = _get(f"{srv.url}/openapi.json").json()["paths"]
    assert {"/v1/log/range", "/v1/proofs", "/v1/revocations/keys", "/v1/datasets"} <= set(paths)
    _problem(_get(f"{srv.url}/v1/models/ghost"), 404, "NotFound")
    _problem(_get(f"{srv.url}/v1/nowhere"), 404, "NotFound")
    _problem(_delete(f"{srv.url}/v1/models"), 405, "MethodNotAllowed")
    _problem(_get(f"{srv.url}/v1/log/range", params={"start": 0, "end": 10**6}), 400, "RegistryError")


def test_bad_writes_are_refused_with_their_status_and_write_nothing(served, tmp_path):
    reg, srv, remote, _, _ = served
    size = reg.log_size()
    url = f"{srv.url}/v1/publish"
    _problem(_post(url, content=b"{not json", headers={"content-type": "application/json"}), 400,
             "MalformedJSON")
    _problem(_post(url, content=b"x" * (1024 * 1024 + 1)), 413, "TooLarge")
    art = read_model_dir(make_model_dir(tmp_path / "m", 11))
    payload = publish_payload(key("acme"), art, "sepsis", "1", CARD, first_use=False)
    _problem(_post(url, json={"payload": payload}), 422, "InvalidRequest")  # unsigned: no auth at all
    forged = build_request(key("mallory"), "publish", reg.public_key, payload)
    forged["auth"]["signer"] = key("acme").public_key.hex()  # claims to be acme, signed by another key
    assert "invalid signature" in _problem(_post(url, json=forged), 401, "BadSignature")["detail"]
    retarget = build_request(key("acme"), "publish", key("other-registry").public_key, payload)
    _problem(_post(url, json=retarget), 401, "BadSignature")  # signed for another registry
    assert reg.log_size() == size
    body = build_request(key("acme"), "publish", reg.public_key, payload)
    assert _post(url, json=body).status_code == 201
    assert "replayed" in _problem(_post(url, json=body), 409, "ReplayedRequest")["detail"]
    assert reg.log_size() == size + 3  # the model, its version and the attestation; nothing from the refusals


def test_writes_are_rate_limited_per_address(tmp_path):
    reg, _, _, _ = registry_with_real_model(str(tmp_path / "r.db"), tmp_path)
    srv = Served(create_app(reg, write_rate=0.01, write_burst=2))
    try:
        bad = {"payload": {"model": "tiny", "version": "1", "proof": ""},
               "auth": {"signer": "00", "nonce": "0" * 32, "timestamp": 0, "signature": "00"}}
        codes = [_post(f"{srv.url}/v1/proofs", json=bad).status_code for _ in range(3)]
        assert codes[:2] != [429, 429] and codes[2] == 429
        r = _post(f"{srv.url}/v1/proofs", json=bad)
        assert int(_problem(r, 429, "RateLimited")["status"]) == 429 and int(r.headers["retry-after"]) >= 1
        assert _get(f"{srv.url}/v1/models").status_code == 200  # reads are not limited
    finally:
        srv.stop()


def test_committed_input_proofs_are_verified_before_they_are_stored(served):
    from zkaudit.circuit import decode_circuit
    from zkaudit.circuit.weights import Weights
    from zkaudit.statements.inference.prover import prove

    reg, srv, remote, model_dir, _ = served
    circuit = decode_circuit((model_dir / "public" / "circuit.bin").read_bytes())
    weights = Weights.decode((model_dir / "private" / "weights.bin").read_bytes())
    commitment = (model_dir / "public" / "weights.commitment").read_bytes()
    proof = prove(circuit, weights, {"x": np.array([[1, 2, 3, 4, 5, 6]])}, weight_commitment=commitment,
                  commit_input=True)
    out = remote.submit_proof_as(key("acme"), "tiny", "1", proof)
    assert out["valid"] is True and out["input_commitment"] and out["output"]
    bound = remote.submit_proof_as(key("acme"), "tiny", "1", proof + b"",
                                   input_commitment=bytes.fromhex(out["input_commitment"]))
    assert bound["valid"] is True
    wrong = remote.submit_proof_as(key("acme"), "tiny", "1", proof, input_commitment=b"\x00" * 32)
    assert wrong["valid"] is False
    assert [p["status"] for p in remote.proofs("tiny", "1")] == ["valid", "valid", "invalid"]


def test_a_revoked_verifier_marks_its_proofs_re_verify_until_checked_again(served, capsys):
    from zkaudit.cli.main import main

    reg, srv, remote, _, proof = served
    buggy = "zkaudit-verify 0.0.1-buggy"
    reg.verifier = lambda p, **kw: Verdict(True, "inference", {}, "accepted", buggy)  # the old, unsound verifier
    forged = remote.submit_proof_as(key("acme"), "tiny", "1", tamper(proof))
    reg.verifier = verify_in_process
    assert forged["valid"] is True and forged["verifier_version"] == buggy
    reg.register_signer(name="fda", role="regulator", public_key=key("fda").public_key,
                        pop=key("fda").proof_of_possession())
    with pytest.raises(Forbidden):
        remote.revoke_verifier_as(key("acme"), buggy, "a vendor may not")
    out = remote.revoke_verifier_as(key("fda"), buggy, "accepted proofs with a flipped byte")
    assert out["proofs_to_reverify"] == [forged["proof_digest"]]
    (p,) = remote.proofs("tiny", "1")
    assert p["status"] == "re-verify" and p["verifier_revoked"] == "accepted proofs with a flipped byte"
    assert main(["registry", "show", "tiny@1", "--registry", srv.url]) == 0
    assert "re-verify  by acme" in capsys.readouterr().out
    again = remote.reverify_as(key("acme"), forged["proof_digest"])
    assert again["valid"] is False and again["verifier_version"] == VERIFIER_VERSION
    (p,) = remote.proofs("tiny", "1")
    assert p["status"] == "invalid" and p["reverified"]["log_index"] == again["log_index"]
    assert remote.revocations()["verifiers"][0]["verifier_version"] == buggy
    # This machine's own verifier revoked: `verify` refuses to vouch with it (exit 1, the reason).
    remote.revoke_verifier_as(key("fda"), VERIFIER_VERSION, "soundness bug in the lookup argument")
    path = srv_proof = reg.url.replace("sqlite:///", "") + ".zkp"
    open(srv_proof, "wb").write(proof)
    assert main(["verify", path, "--model", "tiny@1", "--registry", srv.url]) == 1
    assert "soundness bug in the lookup argument" in capsys.readouterr().err
    assert main(["registry", "verify-log", "--registry", srv.url]) == 0  # every new record is a log leaf
    assert reg.verify_log().ok


def test_consent_chain_records_over_http(served):
    from zkaudit.data.consent_table import commit_consent_table
    from zkaudit.data.dataset import commit_dataset

    reg, srv, remote, _, _ = served
    ids = [secrets.token_hex(16) for _ in range(8)]
    schema = {"columns": [{"name": "patient", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
              "id_column": "patient", "population": "synthetic"}
    ds, _ = commit_dataset({"patient": pa.array(ids), "age": pa.array(["40"] * 8)}, schema)
    out = remote.publish_dataset_as(key("hospital"), ds.doc, None)
    assert out["kind"] == "dataset" and out["custodian"] == "hospital"
    table, _, distinct = commit_consent_table(ids, issuer="irb-a", purpose="train:sepsis", version=1)
    out = remote.publish_consent_as(key("irb-a"), table.doc, None, distinct)
    assert out["kind"] == "consent-table" and out["version"] == 1
    doc = remote.show_record(ds.digest.hex()[:16])
    assert doc["kind"] == "dataset" and doc["consent"] == "no consent proof published"
    assert remote.is_chain_ref(table.digest.hex()) and not remote.is_chain_ref("tiny")
