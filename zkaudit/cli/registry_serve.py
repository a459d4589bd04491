"""`zkaudit registry init | upgrade | serve`: the operator's commands on the
registry's database, and the HTTP server in front of it.

Split out of `cli/registry.py`, which defines the `registry` group, its
shared options and `open_registry`; it imports this module, whose decorators
add the commands to the group in the order `registry --help` lists them."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import typer

from zkaudit.cli.registry import DB_REGISTRY, JSON, REGISTRY_KEY, emit, open_registry, registry_app
from zkaudit.errors import ZkauditError


@registry_app.command("init")
def init(registry: str = DB_REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Create the registry database (or bring it up to date) and its signing key."""
    from zkaudit.registry.store import Registry

    reg, created, key_path = Registry.init(registry, registry_key)
    doc = {"registry": reg.url, "created": created, "registry_key": str(key_path),
           "registry_public_key": reg.public_key.hex()}
    emit(as_json, doc, f"{'created' if created else 'already initialised'}: {reg.url}\n"
         f"registry key: {key_path}\npublic key:   {reg.public_key.hex()}")


@registry_app.command("upgrade")
def upgrade(registry: str = DB_REGISTRY, as_json: bool = JSON) -> None:
    """Apply pending schema migrations."""
    from zkaudit.registry import db
    from zkaudit.registry.store import Registry

    reg = Registry(registry, check=False)
    before, after = db.upgrade(reg.engine)
    emit(as_json, {"registry": reg.url, "from": before, "to": after}, f"schema {before} -> {after}")


@registry_app.command("serve")
def serve(registry: str = DB_REGISTRY, registry_key: Path = REGISTRY_KEY,
          host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="TCP port, 0-65535 (0 picks a free one)."),
          max_body: int = typer.Option(16 * 1024 * 1024, help="Largest accepted request body, bytes (at least 1)."),
          check_workers: int = typer.Option(min(2, os.cpu_count() or 1), help="Verifier worker processes: proofs "
                                            "are checked there, one at a time each."),
          check_timeout: float = typer.Option(60.0, help="Seconds one proof check may take before its worker is "
                                              "killed and the request answered 422."),
          check_memory: int = typer.Option(2048, help="MiB of memory one proof check may use on top of a "
                                           "worker's own footprint (422 beyond it)."),
          workers: int = typer.Option(1, help="Server processes sharing the port (each with its own database "
                                      "connections, verifier workers and write limits); use PostgreSQL beyond 1."),
          write_rate: float = typer.Option(5.0, help="Signed writes per second allowed per client address and "
                                           "per signer key, after --write-burst at once (0: no limit)."),
          write_burst: int = typer.Option(60, help="Signed writes accepted at once per client address and per "
                                          "signer key before --write-rate applies (answered 429 beyond).")) -> None:
    """Run the HTTP API (OpenAPI schema at /openapi.json, docs at /docs)."""
    problems = []
    if not 0 <= port <= 65535:
        problems.append(f"--port must be 0-65535, not {port}")
    if max_body < 1:
        problems.append(f"--max-body must be at least 1 byte, not {max_body}")
    if check_workers < 1:
        problems.append(f"--check-workers must be at least 1, not {check_workers}")
    if not check_timeout > 0:
        problems.append(f"--check-timeout must be positive, not {check_timeout}")
    if check_memory < 1:
        problems.append(f"--check-memory must be at least 1 MiB, not {check_memory}")
    if write_rate < 0:
        problems.append(f"--write-rate must be 0 (no limit) or positive, not {write_rate}")
    if write_burst < 1:
        problems.append(f"--write-burst must be at least 1, not {write_burst}")
    if workers < 1:
        problems.append(f"--workers must be at least 1, not {workers}")
    if problems:
        raise ZkauditError("; ".join(problems))
    import uvicorn

    from zkaudit.registry.api import create_app
    from zkaudit.registry.sandbox import Budget, VerifierPool

    open_registry(registry, registry_key, need_key=True).close()  # fail here, once, on a bad URL or key
    sock = _listen(host, port)

    def run() -> None:
        reg = open_registry(registry, registry_key, need_key=True)
        pool = VerifierPool(check_workers, Budget(seconds=check_timeout, memory_bytes=check_memory << 20))
        reg.verifier, reg.signatures, reg.table_checker = pool.verify, pool.verify_signatures, pool.check_table
        try:
            app = create_app(reg, max_body=max_body, write_rate=write_rate, write_burst=write_burst)
            uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])
        finally:
            pool.close()
            reg.close()

    try:
        if workers == 1:
            run()
        else:
            _fork_workers(workers, run)
    finally:
        sock.close()


def _fork_workers(n: int, run) -> None:
    """`n` processes serving the one listening socket (the kernel spreads the
    connections); each opens its own database engine after the fork. SIGTERM
    or SIGINT here stops them all."""
    import signal

    children = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                run()
            except BaseException:  # a worker's failure is its exit status; the parent reports it
                code = 1
            os._exit(code)
        children.append(pid)

    def stop(_sig, _frame) -> None:
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = 0
    for c in children:
        while True:
            try:
                _, status = os.waitpid(c, 0)
                break
            except InterruptedError:
                continue
        failed += os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM)
    if failed:
        raise ZkauditError(f"{failed} of {n} server workers failed", hint="see their log lines above")


def _listen(host: str, port: int):
    """Bind the server's socket here, so a busy port or an unknown host is one
    clear line (exit 2) instead of uvicorn's log and exit 3."""
    import socket

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ZkauditError(f"cannot listen on {host}: {exc.strerror}", hint="give --host an address of this "
                           "machine, e.g. 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        hint = "another process is listening there; stop it or pick another --port (0 picks a free one)" \
            if exc.errno == errno.EADDRINUSE else None
        raise ZkauditError(f"cannot listen on {host}:{port}: {exc.strerror}", hint=hint) from None
    sock.set_inheritable(True)
    return sock
