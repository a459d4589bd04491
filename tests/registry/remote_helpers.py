"""Registries served over real loopback sockets for the remote-client tests:
in this process (uvicorn in a thread, the app swappable to play a forked or
lying registry) or as `zkaudit registry serve` in a subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import subprocess
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path

import httpx
import uvicorn

from registry_helpers import copy_registry, known_heads_at, real_model

from zkaudit.registry.artifacts import read_model_dir
from zkaudit.registry.client import card_from, publish_local
from zkaudit.registry.keys import read_keystore
from zkaudit.registry.known_heads import KnownHeads
from zkaudit.registry.store import Registry


class Switch:
    """An ASGI app that forwards to `target`, which a test may replace."""

    def __init__(self, target):
        self.target = target

    async def __call__(self, scope, receive, send):
        await self.target(scope, receive, send)


class Served:
    """uvicorn on 127.0.0.1:<free port> in a thread of this process."""

    def __init__(self, app):
        self.app = Switch(app)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return
            time.sleep(0.01)
        raise RuntimeError("in-process server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_subprocess(url: str, key_path: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "zkaudit.cli.main", "registry", "serve", "--registry", url,
                             "--registry-key", str(key_path), "--port", str(port), "--check-workers", "1", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{base}/v1/registry", timeout=1)
            return proc, base
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode())
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def stop_subprocess(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def registry_with_real_model(url: str, tmp: Path, name: str = "tiny", version: str = "1"):
    """An initialised registry holding its key (so every write signs a head),
    with a real one-MatMul model published; returns (registry, key path,
    model dir, valid proof bytes). Registry.init remembered the first head in
    the client's file; harmless (the client would pin it on first contact).
    The registry is made once per session (its signed heads and the
    publish's checks are seconds of BLS) and copied here, SQLite or
    PostgreSQL, with that first head remembered as init would have."""
    tmp.mkdir(parents=True, exist_ok=True)
    src = _published(name, version)
    key_path = tmp / "registry.key"
    shutil.copy2(src / "registry.key", key_path)
    if url.startswith("postgresql"):
        copy_registry(str(src / "registry.db"), url)
    else:
        shutil.copy2(src / "registry.db", url)
    reg = Registry(url, key=read_keystore(key_path))
    reg.known_heads = None  # the server's machine: this process's known-heads file is the client's
    client = KnownHeads.default()
    if client is not None:
        client.record(reg.public_key, KnownHeads(src / "known-heads.json").get(reg.public_key))
    model_dir, proof = _real_model(tmp / "tiny-model")
    return reg, key_path, model_dir, proof


@lru_cache(maxsize=None)
def _published(name: str, version: str) -> Path:
    from registry_helpers import key

    root = Path(tempfile.mkdtemp(prefix="zkaudit-remote-registry-"))
    with known_heads_at(str(root / "known-heads.json")):  # the first head, for each copy's client
        reg, _, _ = Registry.init(str(root / "registry.db"), root / "registry.key")
    reg.known_heads = None
    model_dir, _ = _real_model(root / "tiny-model")
    publish_local(reg, key("acme"), read_model_dir(model_dir), name, version,
                  card_from("demo", "synthetic", {"acc": 1}))
    reg.close()
    return root


@lru_cache(maxsize=None)
def _proven() -> tuple[Path, bytes]:
    root = Path(tempfile.mkdtemp(prefix="zkaudit-remote-model-"))
    return real_model(root)


def _real_model(dest: Path) -> tuple[Path, bytes]:
    """`registry_helpers.real_model`, proven once per test session and copied."""
    src, proof = _proven()
    shutil.copytree(src, dest)
    return dest, proof


def tamper(proof: bytes) -> bytes:
    """The same proof with one byte of its body flipped (past the envelope header)."""
    b = bytearray(proof)
    b[len(b) // 2] ^= 0x01
    return bytes(b)
