"""The highest signed tree head signed or seen, per registry key, kept outside
the registry database (like ssh's known_hosts).

Why. A tree head stored in the database can be deleted together with the
rows and log entries it covers: someone with write access to the database
(but not the registry key) removes the latest revocation, its log entry and
the latest head, and what is left is an older, internally consistent,
properly signed log. No check that reads only the database can tell (a hash
chain over the heads would not help either: its older tip is still a valid
chain). What catches it is a head remembered elsewhere: every head this
machine signs (`registry serve`, CLI writes with the registry key) or
verifies (`verify-log`, `verify --model`) is recorded here, and the log must
later extend the highest one -- be at least as long and have the same root
at its size -- or verification fails.

Remote registries (`remote.py`) are pinned here as well, trust on first use
like ssh's host keys: the first contact with `https://host` records the
public key it presents, and a later answer under another key is refused
(`pins`), as is a head that does not extend the highest one seen.

File: `$ZKAUDIT_KNOWN_HEADS`, else `$XDG_STATE_HOME/zkaudit/known-heads.json`
(`~/.local/state/...`). JSON `{"format": ..., "registries": {PUBLIC_KEY_HEX:
SIGNED_HEAD}, "pins": {ORIGIN: PUBLIC_KEY_HEX}}`; updates take an exclusive `flock` and replace the file
atomically, so concurrent writers (server threads, CLI runs) never lose the
larger head. Entries only ever grow. Set `ZKAUDIT_KNOWN_HEADS=off` to keep
no state (then only `verify-log --since` guards against truncation).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from zkaudit.errors import ZkauditError
from zkaudit.registry.log import SignedTreeHead

ENV = "ZKAUDIT_KNOWN_HEADS"
FORMAT = "zkaudit-known-heads/1"


def default_path() -> Path | None:
    raw = os.environ.get(ENV)
    if raw:
        return None if raw.lower() == "off" else Path(raw).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "zkaudit" / "known-heads.json"


class KnownHeads:
    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def default(cls) -> "KnownHeads | None":
        p = default_path()
        return None if p is None else cls(p)

    def _load(self) -> dict[str, dict]:
        return self._doc()["registries"]

    def _doc(self) -> dict:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"format": FORMAT, "registries": {}, "pins": {}, "scans": {}}
        except (OSError, ValueError) as exc:
            raise ZkauditError(f"known-heads file {self.path} is unreadable: {exc}",
                               hint=f"fix or remove it (or set ${ENV})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("registries"), dict):
            raise ZkauditError(f"{self.path} is not a zkaudit known-heads file", hint=f"fix or remove it (or set ${ENV})")
        if not isinstance(doc.setdefault("scans", {}), dict):
            doc["scans"] = {}  # a cache: dropped rather than trusted when malformed
        if not isinstance(doc.setdefault("pins", {}), dict):
            raise ZkauditError(f"{self.path}: 'pins' is not an object", hint=f"fix or remove it (or set ${ENV})")
        return doc

    def get(self, registry_pk: bytes) -> SignedTreeHead | None:
        doc = self._load().get(registry_pk.hex())
        if doc is None:
            return None
        try:
            return SignedTreeHead.from_json(doc)
        except (KeyError, TypeError, ValueError):
            raise ZkauditError(f"{self.path}: the head recorded for registry {registry_pk.hex()[:16]}... is "
                               "malformed", hint="fix or remove it") from None

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def record(self, registry_pk: bytes, head: SignedTreeHead) -> None:
        """Remember `head` unless a head at least as large is already known.
        (Whether the two agree is `verify-log`'s business, not this file's.)"""
        try:
            with self._locked():
                doc = self._doc()
                old = doc["registries"].get(registry_pk.hex())
                if old is not None and int(old.get("tree_size", -1)) >= head.tree_size:
                    return
                doc["registries"][registry_pk.hex()] = head.to_json()
                self._save(doc)
        except OSError as exc:
            raise ZkauditError(f"cannot record the tree head in {self.path}: {exc.strerror}",
                               hint=f"set ${ENV} to a writable file, or to 'off'") from None

    def _save(self, doc: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".known-heads.")
        with os.fdopen(fd, "w") as fh:
            json.dump({"format": FORMAT, "registries": doc["registries"], "pins": doc.get("pins", {}),
                       "scans": doc.get("scans", {})}, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    # -- remote registries: the key an origin presented first -------------

    def pinned_key(self, origin: str) -> bytes | None:
        raw = self._doc()["pins"].get(origin)
        try:
            return None if raw is None else bytes.fromhex(raw)
        except (TypeError, ValueError):
            raise ZkauditError(f"{self.path}: the key pinned for {origin} is not hex", hint="fix or remove it") from None

    def pin(self, origin: str, registry_pk: bytes) -> bytes:
        """Pin `registry_pk` for `origin` unless a key is pinned already; returns the pinned key."""
        try:
            with self._locked():
                doc = self._doc()
                old = doc["pins"].get(origin)
                if old is not None:
                    return bytes.fromhex(old)
                doc["pins"][origin] = registry_pk.hex()
                self._save(doc)
                return registry_pk
        except OSError as exc:
            raise ZkauditError(f"cannot pin the registry key in {self.path}: {exc.strerror}",
                               hint=f"set ${ENV} to a writable file, or to 'off'") from None

    # -- remote registries: where the last check of a version stopped ------

    MAX_SCANS = 256

    def scan(self, name: str) -> dict | None:
        """A cached `remote.RemoteRegistry.checked_version` pass (JSON), or None.
        Only a speed-up: a resumed pass must still reproduce a signed root."""
        doc = self._doc()["scans"].get(name)
        return doc if isinstance(doc, dict) else None

    def record_scan(self, name: str, scan: dict) -> None:
        try:
            with self._locked():
                doc = self._doc()
                scans = doc["scans"]
                scans[name] = {**scan, "used": time.time()}
                while len(scans) > self.MAX_SCANS:  # the least recently written goes
                    scans.pop(min(scans, key=lambda k: scans[k].get("used", 0) if isinstance(scans[k], dict) else 0))
                self._save(doc)
        except OSError:
            pass  # a cache that cannot be written costs time on the next check, nothing else
