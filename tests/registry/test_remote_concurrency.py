"""200 concurrent reads and 8 concurrent publishes, at once, against
`zkaudit registry serve --workers 2` on PostgreSQL: every request answered,
no entry lost, and every signed head any reader saw is a prefix of the final
log (no fork)."""

from __future__ import annotations

import threading

import httpx
import pytest
from remote_helpers import registry_with_real_model, serve_subprocess, stop_subprocess
from registry_helpers import CARD, key, make_model_dir

from zkaudit.registry import merkle
from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.log import SignedTreeHead
from zkaudit.registry.remote import RemoteRegistry
from zkaudit.registry.store import Registry

# 8 publishers already race the 2 workers for the log's head; each publish is
# two signed writes (pure-Python BLS checks and a signed head apiece), so 20
# cost more than twice the time for the same race
PUBLISHES, READERS, READS_EACH = 8, 20, 10

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_concurrent_reads_and_publishes_on_postgres(pg_url, tmp_path):
    reg, key_path, _, _ = registry_with_real_model(pg_url, tmp_path)
    before = reg.log_size()
    reg.close()
    arts = [read_model_dir(make_model_dir(tmp_path / f"m{i}", 100 + i)) for i in range(PUBLISHES)]
    proc, base = serve_subprocess(pg_url, key_path, "--workers", "2", "--write-burst", "100")
    errors: list[BaseException] = []
    heads: list[SignedTreeHead] = []
    read_codes: list[int] = []
    lock = threading.Lock()
    try:
        remote = RemoteRegistry(base)
        pinned, _ = remote.verified_head()  # the head a hospital saw before the burst
        circuit = httpx.get(f"{base}/v1/models/tiny/versions/1/circuit", timeout=60).content

        def reader() -> None:
            try:
                with httpx.Client(base_url=base, timeout=300) as c:
                    for j in range(READS_EACH):
                        path = ("/v1/log/head", "/v1/models", "/v1/models/tiny/versions/1/circuit",
                                "/v1/models/tiny/versions/1")[j % 4]
                        r = c.get(path)
                        with lock:
                            read_codes.append(r.status_code)
                            if path == "/v1/log/head" and r.status_code == 200:
                                heads.append(SignedTreeHead.from_json(r.json()["signed_head"]))
                        if path.endswith("/circuit"):
                            assert r.content == circuit
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        def publisher(i: int) -> None:
            try:
                r = RemoteRegistry(base)  # its own client, the key pinned above
                try:
                    r.publish_as(key("acme"), arts[i], "load", f"v{i}", CARD)
                finally:
                    r.close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(READERS)]
        threads += [threading.Thread(target=publisher, args=(i,)) for i in range(PUBLISHES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        assert read_codes == [200] * (READERS * READS_EACH)
        final, size = remote.verified_head()  # consistent with the pinned head, or this raises
        remote.close()
    finally:
        stop_subprocess(proc)
    reg = Registry(pg_url)
    try:
        assert sorted(v["version"] for v in reg.show_model("load")["versions"]) == sorted(
            f"v{i}" for i in range(PUBLISHES))
        assert reg.log_size() == size == before + 1 + 2 * PUBLISHES  # the model once; each version + attestation
        assert final.tree_size == size  # the last writer's head covers every entry
        rep = reg.verify_log()
        assert rep.ok, rep.problems[:3]
        for h in {*heads, pinned}:  # every head anyone saw is a prefix of the final log
            proof = [bytes.fromhex(x) for x in reg.consistency(h.tree_size, final.tree_size)["proof"]]
            assert merkle.verify_consistency(h.tree_size, final.tree_size, h.root_hash, final.root_hash, proof)
    finally:
        reg.close()
