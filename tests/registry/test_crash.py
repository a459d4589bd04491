"""Writers killed with SIGKILL -- at every SQL statement of one signed write,
and at random moments of a stream of writes -- on SQLite and PostgreSQL:
the write is all or nothing, the log verifies, nothing stays locked."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from registry_helpers import bad_proofs, copy_registry, key, known_heads_at, publish

from zkaudit.registry.keys import read_keystore
from zkaudit.registry.store import Registry

WORKER = str(Path(__file__).parent / "crash_worker.py")


@pytest.fixture(scope="module")
def writable_template(tmp_path_factory):
    """m@1 published and a head signed over it, built once (seconds of BLS)
    with the heads its key signed remembered beside it; `writable` copies it."""
    d = tmp_path_factory.mktemp("writable")
    with known_heads_at(str(d / "known-heads.json")):
        reg, _, key_path = Registry.init(str(d / "r.db"), d / "r.key")
        reg.key = None
        publish(reg, d, "m", "1")
        reg.key = read_keystore(key_path)
        reg.sign_head()
        reg.close()
    return d


@pytest.fixture
def writable(registry_url, tmp_path, writable_template, known_heads_file):
    d = writable_template
    key_path = tmp_path / "r.key"
    shutil.copy(d / "r.key", key_path)
    if registry_url.startswith("postgresql"):
        copy_registry(str(d / "r.db"), registry_url)
    else:
        shutil.copy(d / "r.db", registry_url)
    shutil.copy(d / "known-heads.json", known_heads_file)
    reg = Registry(registry_url, key=read_keystore(key_path))
    yield reg, registry_url, key_path
    reg.close()


def _worker(url: str, key_path: Path, mode: str, arg: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, WORKER, url, str(key_path), mode, arg], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _consistent(reg: Registry, sizes: set[int]) -> int:
    rep = reg.verify_log()
    assert rep.ok, rep.problems[:3]
    assert rep.size in sizes, (rep.size, sizes)
    assert len(reg.proofs("m", "1")) == rep.size - 5  # registry, signer, model, version, attestation
    return rep.size


def _still_writable(reg: Registry, tag: str) -> None:
    out = reg.submit_proof(model="m", version="1", proof=bad_proofs()["truncated"] + tag.encode(),
                           submitter=key("acme").public_key)
    assert reg.head()["signed_head"]["tree_size"] == out["log_index"] + 1
    assert reg.verify_log().ok


def test_sigkill_at_every_statement_of_a_signed_write(writable):
    reg, url, key_path = writable
    done = _worker(url, key_path, "crash-at", "0")  # 0: never crash; counts the statements
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    statements = int(out.split()[-1])
    assert statements >= 8  # reads, the locked insert of row + entry + nodes, commit, the head's own transaction
    size = _consistent(reg, {6})
    sweep = _worker(url, key_path, "sweep", str(statements))
    out, err = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, err[-2000:]
    steps = [json.loads(line) for line in out.splitlines()]
    assert [s["n"] for s in steps] == list(range(1, statements + 1))
    for s in steps:
        assert s["signal"] == signal.SIGKILL, s
        assert s["ok"], s
        assert s["size"] in (size, size + 1), (s, size)  # all or nothing
        assert s["proofs"] == s["size"] - 5, s
        size = s["size"]
    assert size > 6  # some crash points fell after the commit: those writes are in the log
    assert _consistent(reg, {size}) == size
    _still_writable(reg, "after-crashes")


def test_sigkill_during_a_stream_of_writes(writable):
    reg, url, key_path = writable
    rng = random.Random(14)
    size = _consistent(reg, {5})
    for round_ in range(2):  # a kill, then a kill of a writer that started after one
        p = _worker(url, key_path, "loop", f"r{round_}")
        time.sleep(1.5 + rng.random() * 2)  # imports take ~1 s; then it writes continuously
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        assert p.returncode == -signal.SIGKILL, p.stderr.read()[-2000:]
        new = reg.verify_log()
        assert new.ok, new.problems[:3]
        assert new.size >= size
        size = _consistent(reg, {new.size})
        _still_writable(reg, f"after-kill-{round_}")
        size += 1
