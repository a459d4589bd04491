"""Proof checks with a time and memory budget, safe under concurrency.

Why worker processes. The verifier's numba kernels run on the `workqueue`
threading layer (chosen in `zkaudit/__init__.py` because it does not stall on
a busy core), and that layer aborts the whole process (SIGABRT) when two
Python threads enter a parallel region at once -- which is what two
concurrent `POST .../check` requests did to `registry serve`. A lock around
verification would serialise checks safely but gives no budget: one proof
that parses for minutes, or allocates without end, stalls every check
behind it or takes the server down. So the server verifies in a small pool
of worker processes:

* signature checks (`keys.verify_batch`, pure-Python pairings) run there
  too, so they use every core instead of sharing the server's GIL;
* each worker handles one check at a time (no concurrent numba entry), with
  `NUMBA_NUM_THREADS=1`: throughput comes from the workers, not threads;
* each worker's address space is capped (`RLIMIT_AS` = its size after
  imports + the memory budget): an allocation over budget is a MemoryError
  in the worker, never in the server;
* the parent waits at most the time budget for an answer, then kills the
  worker (SIGKILL) and starts a fresh one;
* any failure (over time, over memory, a crashed worker) is a
  `CheckOverBudget` / `VerifierCrashed` problem for that one request; no
  verdict is made up and the server keeps serving.

Library callers in one process (the CLI's `verify --model`) use
`verify_in_process`: the same verifier under a process-wide lock, so threads
sharing a `Registry` cannot enter numba concurrently either.

Wire protocol parent <-> worker: length-prefixed pickles over the worker's
stdin and a private copy of its stdout (fd 1 itself is pointed at stderr so
a stray print cannot corrupt a frame). Both ends are this module, run by the
same interpreter; nothing untrusted is ever unpickled by the parent beyond
what its own child produced.
"""

from __future__ import annotations

import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from zkaudit.errors import ZkauditError
from zkaudit.registry.errors import BadSignature, RegistryError
from zkaudit.registry.keys import verify_batch
from zkaudit.statements.verify import Verdict, verify_proof

_FRAME = struct.Struct(">Q")


def check_consent_table(record: Any, proof: bytes) -> str | None:
    """Why a consent-table record or its distinctness proof is refused, or
    None when the proof shows the committed rows sorted and distinct (design
    §3.7: without it, duplicate rows would let `unique_ids` admit two records
    with one ID)."""
    from zkaudit.data.consent_table_verifier import verify_consent_table
    from zkaudit.data.records import ConsentTableRecord
    from zkaudit.errors import ProofRejected

    try:
        verify_consent_table(ConsentTableRecord.from_json(record), bytes(proof))
    except ProofRejected as exc:
        return str(exc)
    return None


# What a worker may be asked to run, by name: nothing else is ever called.
_TASKS = {"verify_proof": verify_proof, "verify_batch": verify_batch, "check_consent_table": check_consent_table}
_WHAT = {"verify_proof": "proof check", "verify_batch": "signature check",
         "check_consent_table": "distinctness-proof check"}
_verify_lock = threading.Lock()


class CheckOverBudget(RegistryError):
    """A proof check ran past its time or memory budget; nothing was stored."""

    status = 422


class VerifierBusy(RegistryError):
    """Every worker stayed busy for longer than a request may wait."""

    status = 503


class VerifierCrashed(RegistryError):
    """A worker died while checking a proof (a verifier bug); nothing was stored."""

    status = 500


@dataclass(frozen=True)
class Budget:
    """Per-check limits: wall-clock seconds and bytes of memory on top of a
    warmed-up worker's own footprint; `queue_wait_s` bounds how long a request
    waits for a free worker."""

    seconds: float = 60.0
    memory_bytes: int = 2 << 30
    queue_wait_s: float = 120.0

    def __post_init__(self) -> None:
        if not (self.seconds > 0 and self.memory_bytes > 0 and self.queue_wait_s > 0):
            raise RegistryError("check budget: time, memory and queue wait must be positive")


def verify_in_process(proof: bytes, **kw: Any) -> Verdict:
    """`verify_proof` for in-process callers: one check at a time per process."""
    with _verify_lock:
        return verify_proof(proof, **kw)


def check_table_in_process(record: Any, proof: bytes) -> str | None:
    """`check_consent_table` under the same lock (its PCS check runs numba)."""
    with _verify_lock:
        return check_consent_table(record, proof)


# -- the worker side ---------------------------------------------------------


def _read_exact(fd: int, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _send(fd: int, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _recv(fd: int) -> Any:
    head = _read_exact(fd, _FRAME.size)
    if head is None:
        return None
    body = _read_exact(fd, _FRAME.unpack(head)[0])
    return None if body is None else pickle.loads(body)


def _vm_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _worker_main(memory_bytes: int) -> None:
    out = os.dup(1)
    os.dup2(2, 1)
    import resource

    from zkaudit.statements import verify as _v

    _v._discover()  # import every statement verifier before the cap: imports map memory too
    limit = _vm_bytes() + memory_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    _send(out, ("ready", os.getpid()))
    while True:
        job = _recv(0)
        if job is None:
            return
        task, args, kw = job
        try:
            _send(out, ("ok", _TASKS[task](*args, **kw)))
        except ZkauditError as exc:  # a refusal (bad signature): re-raised as such in the parent
            _send(out, ("refused", (type(exc).__name__, exc.message, exc.hint)))
        except MemoryError:
            _send(out, ("memory", None))
            return  # the heap may be in any state: let the parent start a fresh worker
        except Exception as exc:  # a verifier bug: report it, do not make up a verdict
            _send(out, ("error", f"{type(exc).__name__}: {exc}"))


# -- the parent side ---------------------------------------------------------


class _Worker:
    def __init__(self, memory_bytes: int):
        env = {**os.environ, "NUMBA_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", f"from zkaudit.registry.sandbox import _worker_main; _worker_main({memory_bytes})"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def wait_ready(self, timeout: float) -> bool:
        return self.poll(timeout) and (_recv(self.proc.stdout.fileno()) or (None,))[0] == "ready"

    def poll(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, timeout))
        return bool(ready)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            f.close()


class VerifierPool:
    """`workers` verifier processes; `verify` has `verify_proof`'s signature
    and raises `CheckOverBudget`, `VerifierBusy` or `VerifierCrashed`
    instead of ever running unbounded in the caller's process."""

    START_TIMEOUT_S = 120.0

    def __init__(self, workers: int = 2, budget: Budget | None = None):
        if workers < 1:
            raise RegistryError("a verifier pool needs at least one worker")
        self.budget = budget or Budget()
        self.workers = workers
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._closed = False
        started = [_Worker(self.budget.memory_bytes) for _ in range(workers)]
        for w in started:
            if not w.wait_ready(self.START_TIMEOUT_S):
                for x in started:
                    x.kill()
                raise RegistryError("verifier worker failed to start", hint="run `zkaudit verify` once to see why")
            self._idle.put(w)

    def _replace(self, dead: _Worker) -> None:
        """Kill `dead` and start its successor in the background (imports take ~1 s)."""
        dead.kill()

        def start() -> None:
            while not self._closed:
                w = _Worker(self.budget.memory_bytes)
                if w.wait_ready(self.START_TIMEOUT_S):
                    self._idle.put(w)
                    return
                w.kill()
                time.sleep(1.0)

        threading.Thread(target=start, daemon=True, name="zkaudit-verifier-restart").start()

    def verify(self, proof: bytes, **kw: Any) -> Verdict:
        return self._run("verify_proof", (bytes(proof),), kw)

    def check_table(self, record: Any, proof: bytes) -> str | None:
        return self._run("check_consent_table", (record, bytes(proof)), {})

    def verify_signatures(self, pk: bytes, items: list[tuple[bytes, bytes, bytes, str]]) -> None:
        """`keys.verify_batch` in a worker: py_ecc is pure Python, so checks run
        in the server's threads would share one core (the GIL) and finish all
        together, late; in the workers they use every core, in arrival order."""
        self._run("verify_batch", (bytes(pk), list(items)), {})

    def _run(self, task: str, args: tuple, kw: dict[str, Any]) -> Any:
        if self._closed:
            raise VerifierBusy("the verifier pool is shut down")
        try:
            w = self._idle.get(timeout=self.budget.queue_wait_s)
        except queue.Empty:
            raise VerifierBusy(f"all {self.workers} verifier workers stayed busy for {self.budget.queue_wait_s:g} s",
                               hint="retry later") from None
        try:
            _send(w.proc.stdin.fileno(), (task, args, kw))
        except OSError:
            self._replace(w)
            raise VerifierCrashed("verifier worker died before the check started; try again") from None
        if not w.poll(self.budget.seconds):
            self._replace(w)
            raise CheckOverBudget(f"{_WHAT[task]} exceeded its time budget of {self.budget.seconds:g} s")
        msg = _recv(w.proc.stdout.fileno())
        if msg is None:
            code = w.proc.wait()
            self._replace(w)
            how = f"signal {-code}" if code < 0 else f"exit status {code}"
            # Native code (numba, LLVM) may abort instead of raising MemoryError at the cap.
            raise VerifierCrashed(f"verifier worker died during the check ({how}): over its memory budget of "
                                  f"{self.budget.memory_bytes >> 20} MiB, or a verifier bug")
        kind, value = msg
        if kind == "ok":
            self._idle.put(w)
            return value
        if kind == "refused":
            self._idle.put(w)
            name, message, hint = value
            raise (BadSignature if name == "BadSignature" else RegistryError)(message, hint=hint)
        if kind == "memory":
            self._replace(w)
            raise CheckOverBudget(f"{_WHAT[task]} exceeded its memory budget of {self.budget.memory_bytes >> 20} MiB")
        self._idle.put(w)
        raise VerifierCrashed(f"verifier failed: {value}")

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return
