"""Registry figures, SQLite and PostgreSQL side by side (printed, never asserted).

* HTTP round trips on loopback against a real uvicorn server: publish (client
  signs statement + request; server checks PoP/signatures, writes, signs the
  head), submit-proof, check-prediction (the hospital's verify).
* Concurrent signed publishes: N vendors' requests (signed beforehand, on
  the client side) posted at once to `zkaudit registry serve` in its own
  process; per-request latency (median, max) and wall time for all.
* Concurrent prediction checks: 200 valid checks from 20 threads against the
  same server (verifier worker processes), and against an in-process server
  that verifies under a lock, for comparison.
* A transparency log of N entries (default 100k): bulk append rate, append
  rate with one locked transaction per entry, inclusion and consistency proof
  times at full size (target <= 10 ms), proof verification, the log-checked
  lookup `verify --model` does (worst case: the version's entry is the
  first, so the whole log is rehashed), full audit.

* The registry as a service (`--only http`): `verify --model` of a zoo proof
  (circuits/clinical_mlp) against `--registry http://...` (the client checks
  the log and verifies locally; `remote.py`) vs against the database file
  (target <= 1.5x), on SQLite and PostgreSQL; reads per second and signed
  publishes per second against `registry serve --workers 4` on PostgreSQL.

    .venv/bin/python benchmarks/registry_bench.py [--entries 100000] [--no-postgres]
        [--publishes 20] [--only concurrency|http] [--workers 4]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
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


def _serve_subprocess(url: str, *extra: str, tree: str | None = None) -> tuple[subprocess.Popen, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen([sys.executable, "-m", "zkaudit.cli.main", "registry", "serve", "--registry", url,
                               "--port", str(port), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, **({"PYTHONPATH": tree} if tree else {})},
                              cwd=tree)  # `-m` puts the working directory first on sys.path
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{base}/v1/registry", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live children (the verifier workers):
    a figure the other load on a shared machine does not inflate the way it does wall time."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            kids = [int(x) for x in fh.read().split()]
    except FileNotFoundError:
        return total
    return total + sum(_cpu_seconds(k) for k in kids)


def _concurrently(n: int, fn) -> tuple[list[float], float, list]:
    lat: list[float] = [0.0] * n
    res: list = [None] * n
    go = threading.Event()

    def run(i: int) -> None:
        go.wait()
        t = time.perf_counter()
        res[i] = fn(i)
        lat[i] = time.perf_counter() - t

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    return lat, time.perf_counter() - t0, res


def concurrency_figures(url: str, work: Path, publishes: int, out: dict[str, str], *, tree: str | None = None,
                        label: str = "") -> None:
    """Signed publishes posted at once, then 200 checks from 20 threads, against
    `zkaudit registry serve` in its own process (from `tree`, an extracted
    older source tree, when given: the baseline)."""
    from registry_helpers import real_model

    reg, _, _ = Registry.init(url, work / "conc.key")
    pk = reg.public_key
    vendors = [KeyPair.generate(f"vendor-{i}") for i in range(publishes)]
    bodies = []
    for i, v in enumerate(vendors):  # client-side signing, before the clock starts
        art = read_model_dir(make_model_dir(work / f"c{i}", 500 + i))
        bodies.append(build_request(v, "publish", pk, publish_payload(v, art, f"model-{i}", "1", CARD, first_use=True)))
    if tree is None:
        d, proof = real_model(work / "real")
    else:  # the baseline's own prover: proof formats change between versions
        helpers = Path(__file__).resolve().parent.parent / "tests" / "registry"
        script = (f"import sys; sys.path.insert(0, {str(helpers)!r}); from pathlib import Path; "
                  f"from registry_helpers import real_model; d, p = real_model(Path({str(work / 'real')!r})); "
                  f"(d / 'proof.zkp').write_bytes(p)")
        subprocess.run([sys.executable, "-c", script], cwd=tree, env={**os.environ, "PYTHONPATH": tree}, check=True)
        d, proof = work / "real", (work / "real" / "proof.zkp").read_bytes()
    art = read_model_dir(d)
    vendor = vendors[0]
    real_body = build_request(vendor, "publish", pk, publish_payload(vendor, art, "real", "1", CARD, first_use=False))
    server, base = _serve_subprocess(url, "--registry-key", str(work / "conc.key"), tree=tree)

    def checks(b: str) -> str:
        reasons: set[str] = set()

        def one(i: int) -> tuple[int, int]:
            ok = failed = 0
            with httpx.Client(base_url=b, timeout=300) as c:
                for _ in range(10):
                    try:
                        doc = c.post("/v1/models/real/versions/1/check", content=proof).json()
                        ok += doc["valid"] is True
                        if doc["valid"] is not True:
                            reasons.add(str(doc.get("reason") or doc.get("detail"))[:80])
                    except Exception as exc:  # counted: the old server died under this load
                        failed += 1
                        reasons.add(type(exc).__name__)
            return ok, failed

        _, wall, res = _concurrently(20, one)
        ok, failed = sum(r[0] for r in res), sum(r[1] for r in res)
        if reasons:
            print(f"check failures{label}: {sorted(reasons)}")
        return f"{ok}/200 valid, {failed} errors, {wall:.1f} s"

    try:
        cpu = _cpu_seconds(server.pid)
        with httpx.Client(base_url=base, timeout=600, limits=httpx.Limits(max_connections=publishes)) as c:
            lat, wall, res = _concurrently(publishes, lambda i: c.post("/v1/publish", json=bodies[i]).status_code)
        cpu = _cpu_seconds(server.pid) - cpu
        assert res == [201] * publishes, res
        out[f"{publishes} concurrent first publishes{label}"] = (
            f"median {statistics.median(lat):.1f} s, max {max(lat):.1f} s, server CPU {cpu / publishes:.2f} s each")
        assert httpx.post(f"{base}/v1/publish", json=real_body, timeout=120).status_code == 201
        out[f"200 checks, 20 threads{label}"] = checks(base)
    finally:
        server.terminate()
        server.wait()
    if tree is None:
        reg2 = Registry(url)
        srv, b2 = serve(reg2)  # in-process: the default verifier, under a lock
        out["200 checks, 20 threads (in-process, lock)"] = checks(b2)
        srv.should_exit = True


def _zoo_proof(work: Path, name: str = "clinical_mlp") -> tuple[Path, Path]:
    """Compile and prove one zoo model (circuits/NAME) into `work`."""
    from zkaudit import api

    src = Path(__file__).resolve().parent.parent / "circuits" / name
    out, proof = work / name, work / f"{name}.zkp"
    api.compile(src / "model.onnx", out, calibration=src / "calibration.npy")
    api.prove(out, src / "input.json", out=proof, force=True)
    return out, proof


def _verify_times(proof: Path, registry: str, repeat: int) -> list[float]:
    from zkaudit import api

    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        v = api.verify(proof, model="zoo@1", registry=registry)
        times.append(time.perf_counter() - t)
        assert v.valid, v.reason
    return times


def _cli_verify(proof: Path, registry: str, repeat: int) -> float:
    from _bytecode import byte_compile

    byte_compile()  # as installed: not the source compiled again in every process (`_bytecode`)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "zkaudit.cli.main", "verify", str(proof), "--model", "zoo@1",
                        "--registry", registry], check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t)
    return best


def _long_log_figures(url: str, key_path: Path, proof: Path, base: str, work: Path, out: dict[str, str],
                      entries: int = 20_000) -> None:
    """`entries` log entries after the version's: the pass from its entry to the
    head, over the database (every time) and over HTTP (first, then resumed
    from the frontier cached in the known-heads file)."""
    from sqlalchemy.orm import Session

    from zkaudit.registry import db
    from zkaudit.registry.keys import read_keystore

    reg = Registry(url, key=read_keystore(key_path))
    with Session(db.writer(reg.engine)) as s, s.begin():
        db.lock_for_write(s.connection())
        log.Appender(s).append_many("bench", [{"n": j, "payload": "x" * 64} for j in range(entries)],
                                    t=int(time.time()))
    reg.sign_head()
    reg.close()
    local = _verify_times(proof, url, 3)
    first = _verify_times(proof, base, 1)
    again = _verify_times(proof, base, 3)
    out[f"  +{entries} entries: database"] = ms(local)
    out[f"  +{entries} entries: HTTP first / resumed"] = f"{first[0] * 1e3:.0f} ms / {ms(again)}"


def http_service_figures(work: Path, pg: str | None, workers: int, publishes: int, out: dict[str, str],
                         repeat: int = 5) -> None:
    """verify --model over HTTP vs the database; reads/s and publishes/s with `workers` server processes."""
    from registry_helpers import key

    from zkaudit.registry.client import card_from, publish_local

    os.environ.setdefault("ZKAUDIT_KNOWN_HEADS", str(work / "known-heads.json"))
    t0 = time.perf_counter()
    compiled, proof = _zoo_proof(work)
    print(f"  zoo model compiled and proved in {time.perf_counter() - t0:.1f} s", flush=True)
    art = read_model_dir(compiled)
    backends = [("sqlite", str(work / "svc.db"))] + ([("postgresql", pg)] if pg else [])
    for name, url in backends:
        reg, _, key_path = Registry.init(url, work / f"svc-{name}.key")
        publish_local(reg, key("acme"), art, "zoo", "1", card_from("bench", "synthetic", {}))
        reg.close()
        server, base = _serve_subprocess(url, "--registry-key", str(key_path), "--check-workers", "1")
        try:
            _verify_times(proof, base, 1)  # pins the key and the head; loads the verifier
            local = _verify_times(proof, url, repeat)
            remote = _verify_times(proof, base, repeat)
            ratio = statistics.median(remote) / statistics.median(local)
            out[f"verify --model zoo, database ({name})"] = ms(local)
            out[f"verify --model zoo, HTTP ({name})"] = f"{ms(remote)}, {ratio:.2f}x (target <= 1.5x)"
            if name == "sqlite":
                cl, cr = _cli_verify(proof, url, 3), _cli_verify(proof, base, 3)
                out["zkaudit verify CLI, database / HTTP"] = f"{cl:.2f} s / {cr:.2f} s ({cr / cl:.2f}x, best of 3)"
                _long_log_figures(url, key_path, proof, base, work, out)
        finally:
            server.terminate()
            server.wait()
    if not pg:
        return
    url = pg
    server, base = _serve_subprocess(url, "--registry-key", str(work / "svc-postgresql.key"), "--workers",
                                     str(workers), "--check-workers", "1", "--write-burst", "1000")
    try:
        paths = ["/v1/models/zoo/versions/1", "/v1/log/head", "/v1/models", "/v1/models/zoo/versions/1/weight-commitment"]
        threads, each = 16, 100

        def reader(i: int) -> int:
            ok = 0
            with httpx.Client(base_url=base, timeout=120) as c:
                for j in range(each):
                    ok += c.get(paths[(i + j) % len(paths)]).status_code == 200
            return ok

        cpu = _cpu_seconds(server.pid)
        _, wall, res = _concurrently(threads, reader)
        cpu = _cpu_seconds(server.pid) - cpu
        out[f"reads/s, {workers} workers (postgresql)"] = (
            f"{sum(res) / wall:7.0f} /s ({sum(res)}/{threads * each} ok, {threads} client threads, "
            f"server CPU {cpu / sum(res) * 1e3:.1f} ms/read)")
        pk = bytes.fromhex(httpx.get(f"{base}/v1/registry").json()["registry_public_key"])
        vendor = key("acme")
        bodies = []
        for i in range(publishes):  # signed before the clock starts
            a = read_model_dir(make_model_dir(work / f"svc-pub-{i}", 900 + i))
            bodies.append(build_request(vendor, "publish", pk,
                                        publish_payload(vendor, a, "svc-load", f"v{i}", CARD, first_use=False)))
        cpu = _cpu_seconds(server.pid)
        with httpx.Client(base_url=base, timeout=600, limits=httpx.Limits(max_connections=publishes)) as c:
            lat, wall, res = _concurrently(publishes, lambda i: c.post("/v1/publish", json=bodies[i]).status_code)
        cpu = _cpu_seconds(server.pid) - cpu
        assert res == [201] * publishes, res
        out[f"publishes/s, {workers} workers (postgresql)"] = (
            f"{publishes / wall:.2f} /s ({publishes} at once; median {statistics.median(lat):.1f} s, "
            f"server CPU {cpu / publishes:.2f} s each)")
    finally:
        server.terminate()
        server.wait()


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
    reg.known_heads = None  # a fresh verifier: the head's signature is checked (once per process)
    for label in ("first", "again"):
        t = time.perf_counter()
        reg.checked_version("bench", "0")  # published first: the whole log lies after its entry
        out[f"log-checked lookup ({label}), {n} entries"] = f"{time.perf_counter() - t:8.3f} s"
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
    ap.add_argument("--publishes", type=int, default=20, help="concurrent signed publishes")
    ap.add_argument("--only", choices=["concurrency", "http"], help="run only these figures (concurrency: "
                    "SQLite; http: the service figures, SQLite and PostgreSQL)")
    ap.add_argument("--workers", type=int, default=4, help="server processes for the http figures")
    ap.add_argument("--baseline-tree", help="with --only concurrency: also serve from this source tree (e.g. "
                    "`git archive COMMIT zkaudit registry | tar -x -C DIR`) first, for before/after figures")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zkaudit-bench-"))
    if args.only == "http":
        out = {}
        pg = None if args.no_postgres else pg_schema_url()
        try:
            http_service_figures(work, pg[0] if pg else None, args.workers, args.publishes, out)
        finally:
            if pg:
                import psycopg

                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{pg[1]}" CASCADE')
        for k, v in out.items():
            print(f"{k:44}{v:>60}")
        return
    if args.only == "concurrency":
        out: dict[str, str] = {}
        for tree in ([args.baseline_tree] if args.baseline_tree else []) + [None]:
            w = work / ("base" if tree else "new")
            w.mkdir()
            concurrency_figures(str(w / "conc.db"), w, args.publishes, out, tree=tree,
                                label=" (baseline)" if tree else "")
        for k, v in out.items():
            print(f"{k:48}{v:>44}")
        return
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
