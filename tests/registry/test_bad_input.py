"""Bad input to registry commands: one line on stderr, exit 2, nothing
written -- each case one the reliability review found answered with a
traceback, a wrong exit code, a started server or a modified file."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat

import pytest
from fastapi.testclient import TestClient
from registry_helpers import key, known_heads_at, make_model_dir
from py_ecc.optimized_bls12_381 import curve_order

from zkaudit.cli.main import main
from zkaudit.registry.api import create_app
from zkaudit.registry.store import Registry


@pytest.fixture(scope="module")
def initialised(tmp_path_factory):
    """`registry init` once (a BLS key and its signed first head: a second
    or more), with the head it signed remembered in its own known-heads file."""
    d = tmp_path_factory.mktemp("init")
    with known_heads_at(str(d / "known-heads.json")):
        assert main(["registry", "init", "--registry", str(d / "r.db")]) == 0
    return d


@pytest.fixture
def reg_url(tmp_path, initialised, known_heads_file):
    """A copy of the initialised registry (database, key beside it, the
    remembered head), as if `registry init` had run in this test's folder."""
    for f in initialised.glob("r.db*"):  # the database, its write-ahead log if still open, the key
        shutil.copy2(f, tmp_path / f.name)
    shutil.copy2(initialised / "known-heads.json", known_heads_file)
    return str(tmp_path / "r.db")


def _snapshot(tmp_path):
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.iterdir() if p.is_file()}


def _fails(capsys, argv, *, says: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, (code, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert says in err, err
    return err


@pytest.mark.parametrize("secret", [0, curve_order, curve_order + 5, 2**256 - 1])
def test_keystore_secret_outside_the_group_order_is_refused(tmp_path, capsys, reg_url, secret):
    ks = tmp_path / "bad.key"
    ks.write_text(json.dumps({"version": 1, "scheme": "bls12-381-g2-pop", "name": "bad",
                              "public_key": key("acme").public_key.hex(), "secret_key": f"{secret:064x}"}))
    os.chmod(ks, stat.S_IRUSR | stat.S_IWUSR)
    make_model_dir(tmp_path / "m")
    before = Registry(reg_url).log_size()
    _fails(capsys, ["registry", "publish", str(tmp_path / "m"), "--name", "x", "--version", "1", "--key", str(ks),
                    "--registry", reg_url], says="secret key is not in [1, group order)")
    _fails(capsys, ["registry", "register-signer", "--key", str(ks), "--registry", reg_url],
           says="secret key is not in [1, group order)")
    assert Registry(reg_url).log_size() == before


@pytest.mark.parametrize("doc", [[1, 2, 3], "text", None, {"format": "zkaudit-log-export/1", "entries": {},
                                                           "tree_heads": []},
                                 {"format": "zkaudit-log-export/1", "entries": [[1]], "tree_heads": []}])
def test_verify_log_export_of_the_wrong_shape_is_refused(tmp_path, capsys, doc):
    (tmp_path / "x.json").write_text(json.dumps(doc))
    _fails(capsys, ["registry", "verify-log", "--export", str(tmp_path / "x.json")], says="is not a zkaudit log export")


@pytest.mark.parametrize("content", ["garbage", "[]", '{"signed_head": 5}', '{"tree_size": "x"}',
                                     '{"tree_size": -1, "root_hash": "00", "timestamp": 0, "signature": ""}'])
def test_verify_log_since_garbage_is_refused(tmp_path, capsys, reg_url, content):
    (tmp_path / "since.json").write_text(content)
    _fails(capsys, ["registry", "verify-log", "--registry", reg_url, "--since", str(tmp_path / "since.json")],
           says="--since")


def test_verify_log_since_missing_file_is_refused(tmp_path, capsys, reg_url):
    _fails(capsys, ["registry", "verify-log", "--registry", reg_url, "--since", str(tmp_path / "nope.json")],
           says="no such file")


@pytest.mark.parametrize("pk", ["zz", "00", "ab" * 47])
def test_verify_log_registry_pubkey_that_is_not_a_key_is_refused(capsys, reg_url, pk):
    _fails(capsys, ["registry", "verify-log", "--registry", reg_url, "--registry-pubkey", pk],
           says="--registry-pubkey must be 96 hex digits")


@pytest.mark.parametrize("argv, says", [(["--port", "-1"], "--port must be 0-65535, not -1"),
                                        (["--port", "65536"], "--port must be 0-65535"),
                                        (["--max-body", "-1"], "--max-body must be at least 1 byte, not -1"),
                                        (["--max-body", "0"], "--max-body must be at least 1 byte"),
                                        (["--check-workers", "0"], "--check-workers must be at least 1"),
                                        (["--check-timeout", "-2"], "--check-timeout must be positive")])
def test_serve_with_out_of_range_options_does_not_start(capsys, reg_url, argv, says):
    _fails(capsys, ["registry", "serve", "--registry", reg_url, *argv], says=says)


def test_serve_on_a_busy_port_is_one_line(capsys, reg_url):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        _fails(capsys, ["registry", "serve", "--registry", reg_url, "--port", str(port)],
               says=f"cannot listen on 127.0.0.1:{port}: Address already in use")


def test_registry_list_on_an_empty_file_leaves_it_untouched(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    empty.touch()
    before = _snapshot(tmp_path)
    _fails(capsys, ["registry", "list", "--registry", str(empty)], says="registry is not initialised")
    _fails(capsys, ["registry", "show", "x@1", "--registry", str(empty)], says="registry is not initialised")
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("index", ["9223372036854775808", "18446744073709551616", "99999999999999999999999", "-1",
                                   "1000"])
def test_log_entry_index_out_of_range_is_404_not_500(reg_url, index):
    client = TestClient(create_app(Registry(reg_url)))
    r = client.get(f"/v1/log/entries/{index}")
    assert r.status_code == 404, r.text
    assert {k: r.json()[k] for k in ("error", "detail")} == {"error": "NotFound", "detail": f"log entry {index} not found"}
    for path in (f"/v1/log/inclusion?index={index}&tree_size=1", f"/v1/log/consistency?first=0&second={index}"):
        assert client.get(path).status_code == 404, path
