"""The web pages in a real headless Chromium (Debian's chromium and
chromium-driver, driven by selenium; nothing is downloaded at test time).

`zkaudit registry serve` runs in a subprocess on a free 127.0.0.1 port over a
real SQLite registry (`web_helpers.populated_registry`: a compiled model,
real proofs, a revoked version, a consent chain), so the check form runs in
the server's budgeted verifier workers. The browser clicks through a model's
provenance chain, uploads a valid and a tampered proof and reads the
verdicts, then uses the pages by keyboard and at a phone's width.

Screenshots are written to $ZKAUDIT_ARTIFACTS/browser if that is set, else
to the test session's temporary folder; the path is printed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from web_helpers import MODEL, OLD, REVOKE_REASON, VERSION, populated_registry

# $ZKAUDIT_CHROMIUM / $ZKAUDIT_CHROMEDRIVER name other builds of the pair.
CHROMIUM = os.environ.get("ZKAUDIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("ZKAUDIT_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _missing() -> str | None:
    for what, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)):
        if not os.access(path, os.X_OK):
            return f"{what} not found at {path}: install Debian's chromium and chromium-driver (.ci/run does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    root = os.environ.get("ZKAUDIT_ARTIFACTS")
    out = Path(root) / "browser" if root else tmp_path_factory.mktemp("browser-screenshots")
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {out}")
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(registry contents, base URL) of `zkaudit registry serve` on a free port."""
    built = populated_registry(tmp_path_factory.mktemp("browser-registry"))
    built["reg"].close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "zkaudit.cli.main", "registry", "serve", "--registry",
                               built["url"], "--port", str(port), "--check-workers", "1", "--check-timeout", "60"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/v1/registry", timeout=1)
            break
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"registry serve did not start:\n{server.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    yield built, base
    server.terminate()
    try:
        server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # selenium never fetches a browser or driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _by():
    from selenium.webdriver.common.by import By

    return By


def _shot(driver, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 1000, f"empty screenshot {path}"


def _click(driver, text: str) -> None:
    """Follow the link with exactly this visible text, and wait for the next page."""
    By = _by()
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.LINK_TEXT, text).click()
    _wait_stale(driver, old)


def _wait_stale(driver, old) -> None:
    """Wait until the page holding `old` is replaced. Asked about an element
    of a page being replaced, Chromium answers with a stale-element error
    or, caught mid-navigation, with "Node with given id does not belong to
    the document" (an unknown error to selenium's `staleness_of`, which
    then failed a CI run with chromium 156): both mean the page is gone."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_driver) -> bool:
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    WebDriverWait(driver, 60).until(gone)


def test_click_through_a_models_provenance_chain(site, browser, artifacts):
    built, base = site
    By = _by()
    browser.get(f"{base}/")  # redirected to /ui/
    assert browser.current_url == f"{base}/ui/"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Published models"
    _shot(browser, artifacts, "01-models")
    _click(browser, MODEL)
    assert browser.find_element(By.TAG_NAME, "h1").text == MODEL
    _click(browser, f"Version {VERSION}")
    facts = browser.find_element(By.TAG_NAME, "main").text
    assert "Parameters\n11" in facts or "Parameters 11" in facts
    assert "MatMul × 1" in facts and "acme published it" in facts
    assert "tensor-code (not hiding: opened in every proof)" in facts and "Superseded by" in facts
    _shot(browser, artifacts, "02-version")
    _click(browser, "Provenance chain")
    stages = browser.find_elements(By.CSS_SELECTOR, "ol.chain > li.stage")
    assert [s.find_element(By.TAG_NAME, "h2").text for s in stages] == [
        "Dataset commitment", "Consent", "Training proof", "Link proof", "Model version", "Inference proofs",
        "Audit proofs"]
    by_id = {s.get_attribute("id"): s for s in stages}
    inference = by_id["stage-inference"]
    assert sorted(b.text for b in inference.find_elements(By.CSS_SELECTOR, ".badge")) == ["not valid", "valid"]
    for absent in ("stage-training", "stage-link", "stage-audit"):
        assert by_id[absent].find_element(By.CSS_SELECTOR, ".none").text == "None recorded."
    assert by_id["stage-version"].find_element(By.CSS_SELECTOR, ".badge").text == "published"
    _shot(browser, artifacts, "03-chain")

    # from the chain to the valid proof's log entry and its inclusion proof
    _click(browser, f"entry {built['valid']['log_index']}")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(f"Log entry {built['valid']['log_index']}")
    assert "included in the signed tree" in browser.find_element(By.ID, "inclusion-verdict").text
    _shot(browser, artifacts, "04-entry-inclusion")

    # the consent records the chain points to
    browser.back()
    _click(browser, "see datasets and consent")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert built["chain"]["dataset"]["record_digest"][:16] in main and "irb-a v1 (train:sepsis)" in main
    assert "attested against a current consent-table version" in main
    _shot(browser, artifacts, "05-datasets")
    _click(browser, "Revocations")
    assert f"{MODEL}@{OLD}" in browser.find_element(By.TAG_NAME, "table").text
    assert REVOKE_REASON in browser.find_element(By.TAG_NAME, "table").text


def _upload(browser, base: str, ref: str, data: bytes, path: Path) -> tuple[str, str, str]:
    """Check `data` against `ref` through the form; (verdict heading, plain words, exact reason or '')."""
    from selenium.webdriver.support.ui import Select

    By = _by()
    path.write_bytes(data)
    browser.get(f"{base}/ui/check")
    Select(browser.find_element(By.ID, "model")).select_by_value(ref)
    browser.find_element(By.ID, "proof").send_keys(str(path))
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "form.check button[type=submit]").click()
    _wait_stale(browser, old)
    reason = browser.find_elements(By.ID, "reason")
    return (browser.find_element(By.ID, "verdict").text, browser.find_element(By.ID, "meaning").text,
            reason[0].text if reason else "")


def test_upload_a_valid_and_a_tampered_proof_and_read_the_verdicts(site, browser, artifacts, tmp_path):
    built, base = site
    ref = f"{MODEL}@{VERSION}"
    verdict, meaning, reason = _upload(browser, base, ref, built["proof"], tmp_path / "valid.zkp")
    assert verdict == "Valid proof" and reason == "proof verified"
    assert f"computed by {ref} with the weights registered for it" in meaning
    _shot(browser, artifacts, "06-check-valid")
    verdict, meaning, reason = _upload(browser, base, ref, built["tampered"], tmp_path / "tampered.zkp")
    assert verdict == "Not valid" and "Do not rely on the prediction it carries" in meaning
    assert reason and reason != "proof verified"
    _shot(browser, artifacts, "07-check-tampered")
    verdict, meaning, _ = _upload(browser, base, f"{MODEL}@{OLD}", built["proof"], tmp_path / "valid.zkp")
    assert verdict == "Not valid" and "was revoked" in meaning and REVOKE_REASON in meaning
    _shot(browser, artifacts, "08-check-revoked")


# Every element with its own text: its colour against the first opaque background
# behind it (WCAG 2 relative luminance). Returns those below 4.5:1.
CONTRAST_JS = """
const lin = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
const rgb = s => s.match(/[0-9.]+/g).map(Number);
const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
  if (c.length < 4 || c[3] === 1) return c; } return [255, 255, 255]; };
const bad = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.getClientRects().length) continue;
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) bad.push(el.tagName + ' ' + el.textContent.trim().slice(0, 40) + ' ' + ratio.toFixed(2));
}
return bad;
"""


def test_text_contrast_is_at_least_4_5_to_1(site, browser):
    built, base = site
    for url in ("/ui/", f"/ui/models/{MODEL}/versions/{OLD}", f"/ui/models/{MODEL}/versions/{VERSION}/chain",
                f"/ui/log/entries/{built['valid']['log_index']}", "/ui/revocations", "/ui/datasets", "/ui/nope"):
        browser.get(base + url)
        assert browser.execute_script(CONTRAST_JS) == [], url


def test_keyboard_and_phone_width(site, browser, artifacts):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _, base = site
    By = _by()
    browser.set_window_size(1280, 900)
    browser.get(f"{base}/ui/check")

    def tab() -> None:  # a key press to the page, wherever focus is (a file input takes send_keys as a path)
        ActionChains(browser).send_keys(Keys.TAB).perform()

    tab()
    active = browser.switch_to.active_element
    assert active.text == "Skip to content"
    outline = browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", active)
    assert outline != "none", "keyboard focus must be visible"
    # Tab through the page: the form's controls are reached in order, each with a label
    seen = []
    for _ in range(15):
        tab()
        el = browser.switch_to.active_element
        seen.append(el.get_attribute("id") or el.tag_name)
        if el.get_attribute("id"):
            assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{el.get_attribute('id')}']")
        if el.tag_name == "button":
            break
    assert seen[-3:] == ["model", "proof", "button"], seen
    _shot(browser, artifacts, "09-keyboard-focus")

    browser.set_window_size(390, 844)  # a phone
    for name, url in (("10-phone-version", f"/ui/models/{MODEL}/versions/{VERSION}"),
                      ("11-phone-chain", f"/ui/models/{MODEL}/versions/{VERSION}/chain"),
                      ("12-phone-check", "/ui/check")):
        browser.get(base + url)
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at phone width"
        _shot(browser, artifacts, name)
    browser.set_window_size(1280, 900)
