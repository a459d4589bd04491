"""Where the registry lives and how it is opened: URL resolution, engines,
write locking and Alembic migrations.

* A plain path (or nothing: `$ZKAUDIT_REGISTRY_URL`, else
  `./zkaudit-registry.db`) is a SQLite file; `sqlite:///...` too.
* `postgresql://...` (or `postgres://`) is PostgreSQL through psycopg 3; the
  URL is rewritten to `postgresql+psycopg://`. A search path can be given as
  `?options=-csearch_path%3Dmyschema` (tests use one schema per run).

Writers are serialised so the log never forks: on SQLite a write
transaction starts with `BEGIN IMMEDIATE` (it takes the database's write lock
before reading the log size); on PostgreSQL it takes a transaction-scoped
advisory lock keyed by the schema. Readers are not blocked (SQLite runs in
WAL mode).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import zkaudit
from zkaudit.errors import ZkauditError
from zkaudit.registry.errors import NotInitialised

DEFAULT_SQLITE = "zkaudit-registry.db"
ENV_URL = "ZKAUDIT_REGISTRY_URL"
MIGRATIONS_DIR = Path(zkaudit.__file__).resolve().parent.parent / "registry" / "migrations"
SQLITE_BUSY_TIMEOUT_S = 60
PG_CONNECT_TIMEOUT_S = 10


def resolve_url(url_or_path: str | None) -> str:
    """The SQLAlchemy URL for a `--registry` value, `$ZKAUDIT_REGISTRY_URL` or the default file."""
    raw = url_or_path or os.environ.get(ENV_URL) or DEFAULT_SQLITE
    label = redact(raw) + ("" if url_or_path or not os.environ.get(ENV_URL) else f" (from ${ENV_URL})")
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser().resolve()}"
    scheme, rest = raw.split("://", 1)
    if scheme in ("http", "https"):
        raise ZkauditError(
            f"registry {label} is an HTTP server: HTTP registries are not supported by this command",
            hint="give --registry the registry's database, a SQLite path or postgresql://USER@HOST/DB; "
                 "programs can use the server's API at /v1/, described at /docs",
        )
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        url = f"postgresql+psycopg://{rest}"
    elif scheme == "sqlite":
        url = raw
    else:
        raise ZkauditError(
            f"unsupported registry URL scheme {scheme!r} in {label}",
            hint="use a file path, sqlite:///PATH or postgresql://USER@HOST/DB",
        )
    try:
        make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: SQLAlchemy's int(port)
        what = "its port is not a number" if isinstance(exc, ValueError) else "it does not parse"
        raise ZkauditError(f"malformed registry URL {label}: {what}",
                           hint="expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DB or sqlite:///PATH") from None
    return url


def shown(url: str) -> str:
    """A resolved URL as a user would write it, password hidden."""
    return redact(url.replace("postgresql+psycopg://", "postgresql://"))


def redact(url: str) -> str:
    """`url` with any password replaced by ***, for messages."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path | None:
    if not is_sqlite(url):
        return None
    db = make_url(url).database
    return None if not db or db == ":memory:" else Path(db)


def make_engine(url: str) -> Engine:
    try:
        if is_sqlite(url):
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})
            _sqlite_events(engine)
        else:
            # A host that drops packets would otherwise hang the command for minutes.
            timeout = {} if "connect_timeout" in url else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
            engine = create_engine(url, pool_pre_ping=True, connect_args=timeout)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise ZkauditError(f"cannot open registry {shown(url)}: {first_line(exc)}") from None
    return engine


def _sqlite_events(engine: Engine) -> None:
    """Take over transaction control from pysqlite so writes can BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # WAL is a property of the database file, set once by `upgrade`: setting
        # it here would write to any file a read-only command merely opens.
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("zkaudit_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """An engine view whose transactions take the registry's write lock (see `lock_for_write`)."""
    return engine.execution_options(zkaudit_write=True)


def lock_for_write(conn) -> None:
    """Called first in every write transaction. SQLite already holds the lock
    (BEGIN IMMEDIATE); PostgreSQL takes an advisory lock until commit/rollback."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('zkaudit-log:' || current_schema()))"))


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply pending migrations; returns (revision before, revision after)."""
    before = current_revision(engine)
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside any transaction: SQLite refuses the switch inside one
        try:
            raw.cursor().execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        finally:
            raw.close()
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, current_revision(engine) or ""


def check_schema(engine: Engine) -> None:
    try:
        rev = current_revision(engine)
    except Exception as exc:  # connection refused, bad credentials, unreadable file
        raise ZkauditError(f"cannot connect to registry {shown(str(engine.url))}: {first_line(exc)}",
                           hint="check the URL and that the database server is running") from None
    if rev is None:
        raise NotInitialised("registry is not initialised", hint="run `zkaudit registry init`")
    head = head_revision()
    if rev != head:
        raise NotInitialised(f"registry schema is at {rev}, this zkaudit needs {head}", hint="run `zkaudit registry upgrade`")


def first_line(exc: BaseException) -> str:
    """The driver's own words: first line, without SQLAlchemy's '(module.Class) ' prefix."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return re.sub(r"^\([\w.]+\) ", "", line)
