"""The web pages without a browser (FastAPI's test client over the real app):
every page answers and shows what the registry holds, the check form gives
the verifier's verdict in plain words, unknown things are HTML 404 pages, and
hostile text from a vendor, a URL or a tampered database is escaped."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from registry_helpers import CARD, RawSql, key
from web_helpers import HASHED, MODEL, OLD, REVOKE_REASON, VERSION, compiled_model, populated_registry

from zkaudit.registry.api import create_app
from zkaudit.registry.artifacts import PublicArtifacts, read_model_dir
from zkaudit.registry.client import card_from, publish_local
from zkaudit.registry.store import Registry

HOSTILE = '<script>alert("x")</script>'
HOSTILE_NAME = "<img src=x onerror=alert(1)>"  # no '/': a path segment, as a name in a row could be


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    built = populated_registry(tmp_path_factory.mktemp("web"))
    yield built, TestClient(create_app(built["reg"]))
    built["reg"].close()


def _text(html: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _page(client, url: str, status: int = 200) -> str:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none': no script at all
    return r.text


def test_root_redirects_to_the_pages_and_the_stylesheet_is_served(site):
    _, client = site
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    css = client.get("/ui/static/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and ":focus-visible" in css.text


def test_home_lists_models_with_the_revoked_version_marked(site):
    _, client = site
    text = _text(_page(client, "/ui/"))
    assert f"{MODEL} acme" in text and f"{OLD} revoked {VERSION}" in text


def test_model_and_version_pages_show_circuit_fidelity_signers_and_verdicts(site):
    built, client = site
    s = built["summary"]
    text = _text(_page(client, f"/ui/models/{MODEL}"))
    assert "Parameters 11" in text and f"Revoked by acme: {REVOKE_REASON}" in text
    assert "Inputs x 1 × 10 Outputs y 1 × 1" in text
    text = _text(_page(client, f"/ui/models/{MODEL}/versions/{VERSION}"))
    for op, n in s["ops"].items():
        assert f"{op} × {n}" in text
    assert "Inputs Name Shape Integer range x 1 × 10 -128 .. 127" in text
    assert f"decisions agreeing with the float model {s['fidelity']['float_top1_agreement']:.4g}" in text
    assert "acme published it" in text and CARD["intended_use"] in text
    assert f"{built['valid']['proof_digest'][:16]} inference valid acme" in text
    assert f"{built['invalid']['proof_digest'][:16]} inference not valid" in text


def test_weight_commitments_are_labelled_hiding_or_not_and_the_upgrade_is_linked(site):
    built, client = site
    hashed = built["upgraded"]["weight_commitment"]
    text = _text(_page(client, f"/ui/models/{MODEL}/versions/{VERSION}"))
    assert "Weight commitment tensor-code (not hiding: opened in every proof)" in text
    assert f"Superseded by {MODEL}@{HASHED} (hiding weight commitment)" in text
    text = _text(_page(client, f"/ui/models/{MODEL}/versions/{HASHED}"))
    assert "Weight commitment Poseidon2 p2gl8-tree-v2 (hiding: never opened)" in text
    assert f"Commitment root {hashed['root']}" in text and f"Committed weights 11, shape hash {hashed['shape_hash']}" in text
    assert f"Supersedes {MODEL}@{VERSION}" in text and "not hiding" not in text
    text = _text(_page(client, f"/ui/models/{MODEL}"))
    assert (f"Weight commitment: tensor-code (not hiding: opened in every proof); superseded by {MODEL}@{HASHED} "
            "(hiding weight commitment).") in text
    assert f"Weight commitment: Poseidon2 p2gl8-tree-v2 (hiding: never opened); supersedes {MODEL}@{VERSION}." in text
    text = _text(_page(client, "/ui/log"))
    assert f"{MODEL}@{HASHED} (supersedes {MODEL}@{VERSION}: hiding weight commitment)" in text


def test_chain_shows_every_stage_in_order_with_verdicts_and_none_recorded(site):
    built, client = site
    html = _page(client, f"/ui/models/{MODEL}/versions/{VERSION}/chain")
    titles = re.findall(r'<li class="stage" id="stage-([a-z]+)">', html)
    assert titles == ["dataset", "consent", "training", "link", "version", "inference", "audit"]
    stage = {k: _text(v) for k, v in re.findall(r'id="stage-([a-z]+)">(.*?)</li>\s*(?=<li class="stage"|</ol>)',
                                                  html, re.S)}
    assert "None recorded for this version" in stage["dataset"] and "1 dataset commitment" in stage["dataset"]
    for absent in ("training", "link", "audit"):
        assert "None recorded." in stage[absent]
    assert f"{MODEL}@{VERSION} published by acme" in stage["version"]
    assert (f"weight commitment: tensor-code (not hiding: opened in every proof), superseded by {MODEL}@{HASHED}"
            in stage["version"])
    assert f"{built['valid']['proof_digest'][:16]} valid" in stage["inference"]
    assert f"{built['invalid']['proof_digest'][:16]} not valid" in stage["inference"]
    revoked = _text(_page(client, f"/ui/models/{MODEL}/versions/{OLD}/chain"))
    assert f"{MODEL}@{OLD} revoked" in revoked and REVOKE_REASON in revoked


def test_datasets_revocations_and_log_pages(site):
    built, client = site
    text = _text(_page(client, "/ui/datasets"))
    ch = built["chain"]
    assert f"Dataset {ch['dataset']['record_digest'][:16]}" in text and "Custodian hospital Rows 2" in text
    assert "irb-a v1 (train:sepsis)" in text and f"{ch['proof']['proof_digest'][:16]} by acme" in text
    assert "valid" in text and "current" in text
    text = _text(_page(client, "/ui/revocations"))
    assert f"{MODEL}@{OLD} {REVOKE_REASON} acme (vendor)" in text
    text = _text(_page(client, "/ui/log"))
    size = built["reg"].log_size()
    assert f"Tree size {size} entries" in text and "verifies under the registry key" in text
    assert f"{size - 1} consent-proof" in text and f"{built['valid']['log_index']} proof {MODEL}@{VERSION} — valid" in text


def test_entry_page_shows_an_inclusion_proof_that_reaches_the_signed_root(site):
    built, client = site
    idx = built["valid"]["log_index"]
    text = _text(_page(client, f"/ui/log/entries/{idx}"))
    assert "included in the signed tree" in text and "recomputes the root" in text
    inc = built["reg"].inclusion(idx, built["reg"].log_size())
    assert all(h in text for h in inc["path"]) and inc["leaf_hash"] in text


def test_entry_page_says_not_included_when_a_stored_node_was_forged(tmp_path):
    """A registry whose stored Merkle nodes were rewritten serves a path that does not reach the signed root."""
    from zkaudit.registry.keys import read_keystore

    url = str(tmp_path / "r.db")
    reg, _, key_path = Registry.init(url, tmp_path / "r.key")
    reg.key = None
    d, _, _ = compiled_model(tmp_path)
    publish_local(reg, key("acme"), read_model_dir(d), "m", "1", CARD)
    reg.key = read_keystore(key_path)
    reg.sign_head()
    client = TestClient(create_app(reg))
    assert "included in the signed tree" in _text(_page(client, "/ui/log/entries/2"))
    sql = RawSql(url)
    sql.execute("UPDATE log_nodes SET hash = ? WHERE level = 0 AND idx = 3", (b"\x00" * 32,))
    sql.commit()
    sql.close()
    text = _text(_page(client, "/ui/log/entries/2"))
    assert "NOT included" in text and "does not recompute" in text
    reg.close()


def _check(client, ref: str, data: bytes | None, name: str = "proof.zkp", status: int = 200) -> str:
    files = {"proof": (name, data or b"", "application/octet-stream")} if data is not None else {"proof": ("", b"")}
    r = client.post("/ui/check", data={"model": ref}, files=files)
    assert r.status_code == status, (r.status_code, r.text[:800])
    html = r.text
    return _text(re.search(r'<section class="result.*?</section>', html, re.S).group(0))


def test_check_form_gives_the_verdict_and_the_reason_in_plain_words(site):
    built, client = site
    ref = f"{MODEL}@{VERSION}"
    form = _page(client, f"/ui/check?model={ref}")
    assert f'<option value="{ref}" selected>' in form and '<label for="proof">' in form
    ok = _check(client, ref, built["proof"])
    assert ok.startswith(" Valid proof") and f"computed by {ref} with the weights registered" in ok
    assert "proof verified" in ok and "Soundness" in ok
    bad = _check(client, ref, built["tampered"])
    assert bad.startswith(" Not valid") and "the file was altered after it was made" in bad
    exact = built["reg"].check(model=MODEL, version=VERSION, proof=built["tampered"]).reason
    assert re.sub(r"\s+", " ", exact) in bad  # the verifier's exact reason is kept below the plain words
    junk = _check(client, ref, b"NOTAPROOF" + bytes(8))
    assert "This file is not a zkaudit proof" in junk
    revoked = _check(client, f"{MODEL}@{OLD}", built["proof"])
    assert "Not valid" in revoked and f"was revoked, so no proof made with it is accepted" in revoked
    assert REVOKE_REASON in revoked


def test_check_form_refusals_have_their_status_and_store_nothing(site):
    built, client = site
    before = built["reg"].log_size()
    assert "Choose a proof file" in _check(client, f"{MODEL}@{VERSION}", None, status=400)
    assert "no such model version" in _check(client, f"{MODEL}@7", built["proof"], status=404)
    assert "must be NAME@VERSION" in _check(client, "no-version", built["proof"], status=400)
    r = client.post("/ui/check", content=b"not a form", headers={"content-type": "text/plain"})
    assert r.status_code == 400 and "Choose a proof file" in r.text
    assert built["reg"].log_size() == before


@pytest.mark.parametrize("url", ["/ui/models/nope", f"/ui/models/{MODEL}/versions/9.9",
                                 f"/ui/models/{MODEL}/versions/9.9/chain", "/ui/log/entries/99999",
                                 "/ui/log/entries/-1", "/ui/log/entries/abc", "/ui/no/such/page"])
def test_unknown_things_are_html_404_pages(site, url):
    _, client = site
    html = _page(client, url, 404)
    assert "<h1>Not found</h1>" in html and 'href="/ui/"' in html


def test_hostile_text_is_escaped_everywhere(tmp_path):
    """A vendor controls its model card and summary.json; anyone controls a URL; someone
    with database access can put any name in a row. None of it reaches the page as markup."""
    d, proof, _ = compiled_model(tmp_path)
    url = str(tmp_path / "r.db")
    reg, _, _ = Registry.init(url, tmp_path / "r.key")
    reg.key = None
    art = read_model_dir(d)
    summary = {**art.summary, "notes": [HOSTILE], "ops": {HOSTILE: 1, **art.summary["ops"]},
               "inputs": [{"name": HOSTILE, "shape": [1, 10], "range": [0, 1]}]}
    card = card_from(HOSTILE, f'"><img src=x onerror=alert(1)>', {HOSTILE: HOSTILE})
    out = publish_local(reg, key("acme"), PublicArtifacts(art.circuit_bin, summary, art.weight_commitment), "evil", "1",
                        card)
    sql = RawSql(url)
    sql.execute("UPDATE models SET name = ? WHERE name = 'evil'", (HOSTILE_NAME,))
    sql.commit()
    sql.close()
    client = TestClient(create_app(reg))
    quoted = "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"
    pages = ["/ui/", f"/ui/models/{quoted}", f"/ui/models/{quoted}/versions/1", f"/ui/models/{quoted}/versions/1/chain",
             f"/ui/check?model={quoted}@1"]
    for u in pages:
        html = _page(client, u)
        assert "<script" not in html and "<img" not in html, u
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, u
    html = _page(client, f"/ui/models/{quoted}/versions/1")
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 4  # card, ops, notes, input name
    html = _page(client, f"/ui/log/entries/{out['log_index']}")  # the logged card, decoded
    assert "<script" not in html and "&lt;script&gt;" in html and "<img" not in html
    # a URL naming a hostile thing that does not exist: echoed escaped in the 404 page
    html = _page(client, "/ui/models/%3Cimg%20src%3Dy%3E", 404)
    assert "<img" not in html and "&lt;img src=y&gt;" in html
    html = _page(client, "/ui/%3Cscript%3Ex%3C%2Fscript%3E", 404)
    assert "<script" not in html
    # checking against the renamed row: its log entry no longer matches, and the page says so
    r = client.post("/ui/check", data={"model": f"{HOSTILE_NAME}@1"}, files={"proof": ("p.zkp", proof)})
    assert r.status_code == 500 and "<script" not in r.text
    assert "log does not verify" in _text(r.text)
    reg.close()


@pytest.mark.parametrize("summary", [None, "text", [], {"ops": "MatMul", "inputs": "x", "parameters": "11",
                                                        "fidelity": [1], "notes": "n"},
                                     {"ops": {"MatMul": True, "Relu": 2}, "inputs": [{"shape": "1x4"}, 3],
                                      "parameters": 1.5e3, "fidelity": {"float_top1_agreement": None,
                                                                        "outputs": [{"saturated": 2}]}}])
def test_a_malformed_summary_is_shown_as_not_stated_never_an_error(summary):
    """summary.json is the vendor's text, checked only for its digest by the registry."""
    from zkaudit.registry.web.summary import circuit_summary

    c = circuit_summary(summary)
    assert set(c) == {"ops", "inputs", "outputs", "weights", "parameters", "nodes", "kind", "source_model",
                      "fidelity", "notes"}
    if isinstance(summary, dict) and isinstance(summary["ops"], dict):
        assert c["ops"] == [("Relu", 2)] and c["inputs"] == [{"name": "?", "shape": None, "range": None}]
        assert c["fidelity"] == [("outputs clipped at the range ends", "2")] and c["parameters"] == 1500.0
    else:
        assert c["ops"] == c["inputs"] == c["fidelity"] == c["notes"] == [] and c["parameters"] is None


def test_a_malformed_upload_is_a_400_form_page(site):
    _, client = site
    r = client.post("/ui/check", content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--\r\n",
                    headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "The upload could not be read" in _text(r.text)
