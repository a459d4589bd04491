"""Concurrent writers -- threads in one process and separate processes --
never fork or corrupt the log, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from registry_helpers import bad_proofs, key, publish

from zkaudit.registry.store import Registry

WRITES = 6
HERE = Path(__file__).parent

WORKER = """
import sys
sys.path.insert(0, {here!r})
from registry_helpers import bad_proofs, key
from zkaudit.registry.store import Registry
reg = Registry({url!r})
proof = bad_proofs()["unknown statement"] + b"-proc-{n}-"
for i in range({writes}):
    reg.submit_proof(model="m", version="1", proof=proof + bytes([i]), submitter=key("acme").public_key)
"""


def _check(reg: Registry, expected_proofs: int) -> None:
    rep = reg.verify_log()
    assert rep.ok, rep.problems[:3]
    assert len(reg.proofs("m", "1")) == expected_proofs
    assert rep.size == reg.log_size() == 5 + expected_proofs  # registry, signer, model, version, attestation
    # Every entry is in the final tree, at its own index.
    n = reg.log_size()
    for i in (0, n // 2, n - 1):
        assert reg.inclusion(i, n)["index"] == i


def test_threads_and_processes_share_one_log(registry_url, tmp_path):
    reg, _, _ = Registry.init(registry_url, tmp_path / "k")
    reg.key = None
    publish(reg, tmp_path, "m", "1")
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(WRITES):
                reg.submit_proof(model="m", version="1", proof=bad_proofs()["bad magic"] + bytes([t, i]),
                                 submitter=key("acme").public_key)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER.format(here=str(HERE), url=registry_url, n=n,
                                                                   writes=WRITES)]) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert not errors, errors
    _check(reg, 4 * WRITES + 2 * WRITES)
    reg.close()
