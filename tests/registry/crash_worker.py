"""Run by test_crash.py in a child process: registry writes that die.

    python crash_worker.py URL KEY_PATH crash-at N   one signed write (submit-proof, then its
                                                    tree head), SIGKILLed just before the
                                                    N-th SQL statement it sends
    python crash_worker.py URL KEY_PATH sweep N      crash-at 1..N, each in a child forked
                                                    after the imports (cheap), printing one
                                                    JSON line per crash: how the child ended
                                                    and what the log looks like after it
    python crash_worker.py URL KEY_PATH loop TAG     writes until killed from outside

Prints "count STATEMENTS" after a write that completed (crash-at past the end).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from registry_helpers import bad_proofs, key  # noqa: E402
from sqlalchemy import event  # noqa: E402

from zkaudit.registry.keys import read_keystore  # noqa: E402
from zkaudit.registry.store import Registry  # noqa: E402


def main() -> None:
    url, key_path, mode, arg = sys.argv[1:5]
    reg = Registry(url, key=read_keystore(Path(key_path)))
    submitter = key("acme").public_key
    if mode == "loop":
        i = 0
        while True:
            reg.submit_proof(model="m", version="1", proof=bad_proofs()["bad magic"] + f"{arg}-{i}".encode(),
                             submitter=submitter)
            i += 1
    if mode == "sweep":
        reg.engine.dispose()
        for n in range(1, int(arg) + 1):
            pid = os.fork()
            if pid == 0:  # the child: a fresh engine, never the parent's connections
                try:
                    crash_write(Registry(url, key=reg.key), n, submitter)
                finally:
                    os._exit(0)
            _, status = os.waitpid(pid, 0)
            check = Registry(url)
            rep = check.verify_log()
            print(json.dumps({"n": n, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                              "ok": rep.ok, "problems": [p for _, p in rep.problems[:3]], "size": rep.size,
                              "proofs": len(check.proofs("m", "1"))}), flush=True)
            check.close()
        return
    crash_write(reg, int(arg), submitter)


def crash_write(reg: Registry, crash_at: int, submitter: bytes) -> None:
    seen = 0

    def before(conn, cursor, statement, parameters, context, executemany):
        nonlocal seen
        seen += 1
        if seen == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no rollback: as if the power went

    reg.public_key  # noqa: B018 -- read before counting: only the write's own statements are crash points
    event.listen(reg.engine, "before_cursor_execute", before)
    reg.submit_proof(model="m", version="1", proof=bad_proofs()["bad magic"] + f"crash-{crash_at}".encode(),
                     submitter=submitter)
    print(f"count {seen}")


if __name__ == "__main__":
    main()
