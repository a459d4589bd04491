"""The registry service: every write and read, over one database.

`Registry` holds the engine, the read and locked-write sessions, and the
signing of tree heads; its writes live in `store_writes.py`, its checking
reads in `store_checks.py`, the names they share in `store_base.py`. Other
code imports everything from here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from zkaudit.errors import ZkauditError
from zkaudit.registry import db, keys, log
from zkaudit.registry.audit import VersionScan
from zkaudit.registry.chain import Chain
from zkaudit.registry.errors import AlreadyExists, NotInitialised, RegistryError
from zkaudit.registry.known_heads import KnownHeads
from zkaudit.registry.models import Meta
from zkaudit.registry.sandbox import check_table_in_process, verify_in_process
from zkaudit.registry.store_base import META_PUBLIC_KEY, Gone, check_name, default_key_path
from zkaudit.registry.store_checks import Checks
from zkaudit.registry.store_writes import Writes
from zkaudit.registry.training_chain import TrainingChain
from zkaudit.registry.views import Reads

# Gone and check_name are imported from here by callers (and chain.py).
__all__ = ["META_PUBLIC_KEY", "Gone", "Registry", "check_name", "default_key_path"]


class Registry(Writes, Checks, Chain, TrainingChain, Reads):
    """One registry database (the consent chain's writes and reads: `chain.py`; the
    training chain's: `training_chain.py`). `key` (the registry's own keypair) is needed
    only to sign tree heads; writers without it leave heads to a holder."""

    def __init__(self, url_or_path: str | None = None, *, key: keys.KeyPair | None = None, check: bool = True):
        self.url = db.resolve_url(url_or_path)
        path = db.sqlite_path(self.url)
        if check and path is not None and not path.exists():  # opening it would create an empty file
            raise NotInitialised(f"registry is not initialised: no database file at {path}",
                                 hint="create one with `zkaudit registry init`, or name an existing one with "
                                      f"--registry or ${db.ENV_URL}")
        self.engine = db.make_engine(self.url)
        self._writer = db.writer(self.engine)
        if check:
            db.check_schema(self.engine)
        self.key = key
        self._pk: bytes | None = None
        # Heads signed or verified here are remembered outside the database
        # (`known_heads`), so a truncated tail is caught; None keeps no state.
        self.known_heads: KnownHeads | None = KnownHeads.default()
        self._verified_heads: set[log.SignedTreeHead] = set()
        self._warned_known_heads = False
        self._scans: dict[tuple[str, str], VersionScan] = {}  # checked_version's resumable passes
        # How proofs are checked: in this process under a lock by default;
        # `registry serve` swaps in a `sandbox.VerifierPool` (budgets, crash isolation).
        self.verifier = verify_in_process
        self.table_checker = check_table_in_process  # consent tables' distinctness proofs, likewise
        # How several signatures by one key are checked (`keys.verify_batch`);
        # `registry serve` runs them in the same worker processes.
        self.signatures = keys.verify_batch
        self._sign_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------

    @classmethod
    def init(cls, url_or_path: str | None, key_path: Path | None = None) -> tuple["Registry", bool, Path]:
        """Create or upgrade the schema; on first init create the registry key
        (mode 0600) and log its public key as entry 0. Returns (registry, created, key path)."""
        reg = cls(url_or_path, check=False)
        key_path = Path(key_path) if key_path else default_key_path(reg.url)
        try:
            db.upgrade(reg.engine)
        except ZkauditError:
            raise
        except Exception as exc:  # unreachable server, unwritable file: one line, not a traceback
            raise ZkauditError(f"cannot initialise registry at {db.shown(reg.url)}: {db.first_line(exc)}",
                               hint="check the URL, or that the folder exists, and that the server is running"
                               ) from None
        with Session(reg.engine) as s:
            existing = s.get(Meta, META_PUBLIC_KEY)
        if existing is not None:
            if key_path.exists():
                reg.key = keys.read_keystore(key_path)
                if reg.key.public_key.hex() != existing.value:
                    raise ZkauditError(f"{key_path} is not this registry's key")
            return reg, False, key_path
        key = keys.read_keystore(key_path) if key_path.exists() else keys.KeyPair.generate("registry")
        if not key_path.exists():
            keys.write_keystore(key_path, key)
        reg.key = key
        with reg._write() as (s, app):
            if s.get(Meta, META_PUBLIC_KEY) is not None:
                raise AlreadyExists("registry was initialised concurrently")
            s.add(Meta(key=META_PUBLIC_KEY, value=key.public_key.hex()))
            app.append("registry", {"public_key": key.public_key, "proof_of_possession": key.proof_of_possession()})
        return reg, True, key_path

    def close(self) -> None:
        self.engine.dispose()

    @property
    def public_key(self) -> bytes:
        if self._pk is None:
            with self._read() as s:
                row = s.get(Meta, META_PUBLIC_KEY)
                if row is None:
                    raise RegistryError("registry has no public key; run `zkaudit registry init`")
                self._pk = bytes.fromhex(row.value)
        return self._pk

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine) as s:
            yield s

    @contextmanager
    def _write(self) -> Iterator[tuple[Session, log.Appender]]:
        with Session(self._writer) as s, s.begin():
            db.lock_for_write(s.connection())
            yield s, log.Appender(s)
        if self.key is not None:
            self.sign_head()

    def sign_head(self) -> log.SignedTreeHead:
        if self.key is None:
            raise RegistryError("the registry key is needed to sign tree heads")
        # The root at a size never changes (the log only grows), so it is read
        # and signed (~0.3 s) without the write lock; only the insert takes it.
        # Concurrent writers queue here, and a head signed while one waited
        # covers its entries too: twenty writes at once cost a few signatures.
        with self._sign_lock:
            with self._read() as s:
                n = log.size(s)
                existing = log.latest_head(s)
                if existing is not None and existing.tree_size < n:
                    existing = None
                if existing is None:
                    sth = log.make_head(n, log.root(s, n), self.key)
            if existing is None:
                with Session(self._writer) as s, s.begin():
                    db.lock_for_write(s.connection())
                    existing = log.store_head(s, sth)
        sth = existing or sth
        self._remember(sth)
        return sth

    def known_head(self, registry_pk: bytes | None = None) -> log.SignedTreeHead | None:
        """The highest head this machine signed or verified for this registry."""
        return None if self.known_heads is None else self.known_heads.get(registry_pk or self.public_key)

    def _remember(self, sth: log.SignedTreeHead, registry_pk: bytes | None = None) -> None:
        if self.known_heads is None:
            return
        try:
            self.known_heads.record(registry_pk or self.public_key, sth)
        except ZkauditError as exc:
            # The write or check itself succeeded; failing it now would misreport
            # it. Say once that this machine's truncation guard is not kept.
            if not self._warned_known_heads:
                self._warned_known_heads = True
                logging.getLogger("zkaudit.registry").warning("%s", exc)
