"""Registry figures, SQLite and PostgreSQL side by side (printed, never asserted).

* HTTP round trips on loopback against a real uvicorn server: publish (client
  signs statement + request; server checks PoP/signatures, writes, signs the
  head), submit-proof, check-prediction (the hospital's verify).
* A transparency log of N entries (default 100k): bulk append rate, append
  rate with one locked transaction per entry, inclusion and consistency proof
  times at full size (target <= 10 ms), proof verification, full audit.

    .venv/bin/python benchmarks/registry_bench.py [--entries 100000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "registry"))
from registry_helpers import CARD, bad_proofs, make_model_dir  # noqa: E402

from zkaudit.registry import log, merkle  # noqa: E402
from zkaudit.registry.api import create_app  # noqa: E402
from zkaudit.registry.artifacts import read_model_dir  # noqa: E402
from zkaudit.registry.client import b64, build_request, publish_payload  # noqa: E402
from zkaudit.registry.keys import KeyPair  # noqa: E402
from zkaudit.registry.store import Registry  # noqa: E402

PG_URL = os.environ.get("ZKAUDIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1e3:8.2f} ms (median of {len(xs)})"


def serve(reg: Registry) -> tuple[uvicorn.Server, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(reg), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def http_figures(reg: Registry, work: Path, out: dict[str, str]) -> None:
    server, base = serve(reg)
    vendor = KeyPair.generate("bench-vendor")
    client = httpx.Client(base_url=base, timeout=120)
    pub, sub, chk = [], [], []
    for i in range(3):
        art = read_model_dir(make_model_dir(work / f"m{i}", 100 + i))
        t = time.perf_counter()
        body = build_request(vendor, "publish", reg.public_key,
                             publish_payload(vendor, art, "bench", f"{i}", CARD, first_use=i == 0))
        r = client.post("/v1/publish", json=body)
        pub.append(time.perf_counter() - t)
        assert r.status_code == 201, r.text
    proof = bad_proofs()["unknown statement"]
    for _ in range(3):
        t = time.perf_counter()
        body = build_request(vendor, "submit-proof", reg.public_key, {"model": "bench", "version": "0", "proof": b64(proof)})
        assert client.post("/v1/proofs", json=body).status_code == 201
        sub.append(time.perf_counter() - t)
    for _ in range(30):
        t = time.perf_counter()
        assert client.post("/v1/models/bench/versions/0/check", content=proof).status_code == 200
        chk.append(time.perf_counter() - t)
    out["publish round trip (first = +PoP)"] = f"first {pub[0]*1e3:.0f} ms, then {ms(pub[1:])}"
    out["submit-proof round trip"] = ms(sub)
    out["check-prediction round trip"] = ms(chk)
    server.should_exit = True


def log_figures(reg: Registry, entries: int, out: dict[str, str]) -> None:
    from sqlalchemy.orm import Session

    from zkaudit.registry import db

    start = reg.log_size()
    batch = 5000
    t = time.perf_counter()
    done = 0
    while done < entries:
        k = min(batch, entries - done)
        with Session(db.writer(reg.engine)) as s, s.begin():
            db.lock_for_write(s.connection())
            log.Appender(s).append_many("bench", [{"n": start + done + j, "payload": "x" * 64} for j in range(k)],
                                        t=int(time.time()))
        done += k
    bulk = time.perf_counter() - t
    out["bulk append (5000/txn)"] = f"{entries / bulk:10.0f} entries/s ({bulk:.1f} s for {entries})"
    single = 300
    t = time.perf_counter()
    for j in range(single):
        with Session(db.writer(reg.engine)) as s, s.begin():
            db.lock_for_write(s.connection())
            log.Appender(s).append("bench", {"single": j})
    out["append, 1 locked txn/entry"] = f"{single / (time.perf_counter() - t):10.0f} entries/s"
    n = reg.log_size()
    with Session(reg.engine) as s:
        root = log.root(s, n)
    rng = random.Random(1)
    inc, cons, vinc = [], [], []
    for _ in range(200):
        i = rng.randrange(n)
        t = time.perf_counter()
        p = reg.inclusion(i, n)
        inc.append(time.perf_counter() - t)
        t = time.perf_counter()
        ok = merkle.verify_inclusion(bytes.fromhex(p["leaf_hash"]), i, n, [bytes.fromhex(h) for h in p["path"]], root)
        vinc.append(time.perf_counter() - t)
        assert ok
    for _ in range(200):
        a = rng.randrange(1, n)
        t = time.perf_counter()
        reg.consistency(a, n)
        cons.append(time.perf_counter() - t)
    out[f"inclusion proof at {n}"] = ms(inc)
    out["inclusion proof check (client)"] = ms(vinc)
    out[f"consistency proof to {n}"] = ms(cons)
    t = time.perf_counter()
    rep = reg.verify_log()
    out[f"verify-log, {n} entries"] = f"{time.perf_counter() - t:8.2f} s ({'ok' if rep.ok else rep.first})"


def run_backend(name: str, url: str, entries: int, work: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    reg, _, _ = Registry.init(url, work / f"{name}.key")
    http_figures(reg, work / name, out)
    reg.key = None
    log_figures(reg, entries, out)
    reg.close()
    return out


def pg_schema_url() -> tuple[str, str] | None:
    import psycopg

    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            schema = f"zkaudit_bench_{uuid.uuid4().hex[:8]}"
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:
        print(f"PostgreSQL skipped: {str(exc).splitlines()[0] if str(exc) else exc!r}")
        return None
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}", schema


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zkaudit-bench-"))
    results = {"sqlite": run_backend("sqlite", str(work / "r.db"), args.entries, work)}
    pg = None if args.no_postgres else pg_schema_url()
    if pg:
        try:
            results["postgresql"] = run_backend("postgresql", pg[0], args.entries, work)
        finally:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{pg[1]}" CASCADE')
    rows = list(next(iter(results.values())))
    names = list(results)
    print(f"\n{'':36}" + "".join(f"{n:>40}" for n in names))
    for r in rows:
        print(f"{r:36}" + "".join(f"{results[n].get(r, '-'):>40}" for n in names))


if __name__ == "__main__":
    main()
