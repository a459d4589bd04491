"""Registry test fixtures: a fresh SQLite file per test, and a fresh
PostgreSQL schema per test on the server named by ZKAUDIT_TEST_POSTGRES_URL
(skipped, with the reason, only when no server answers)."""

from __future__ import annotations

import os
import shutil
import uuid
from urllib.parse import quote

import pytest

from zkaudit.registry.known_heads import ENV as KNOWN_HEADS_ENV
from zkaudit.registry.store import Registry

PG_URL = os.environ.get("ZKAUDIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_reason: list[str] = []


def _pg_available() -> str | None:
    """None if the server answers, else why not."""
    if _pg_reason:
        return _pg_reason[0] or None
    import psycopg

    try:
        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3) as conn:
            conn.execute("select 1")
        _pg_reason.append("")
    except Exception as exc:  # any failure to reach the server is a skip reason
        _pg_reason.append(f"no PostgreSQL at {PG_URL}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    return _pg_reason[0] or None


@pytest.fixture(autouse=True, scope="session")
def _session_known_heads(tmp_path_factory):
    """Registries remember heads outside the database (`known_heads`): keep
    that state out of the home directory, under the session's temp folder."""
    old = os.environ.get(KNOWN_HEADS_ENV)
    os.environ[KNOWN_HEADS_ENV] = str(tmp_path_factory.mktemp("known-heads") / "known-heads.json")
    yield
    if old is None:
        os.environ.pop(KNOWN_HEADS_ENV, None)
    else:
        os.environ[KNOWN_HEADS_ENV] = old


@pytest.fixture(autouse=True)
def known_heads_file(tmp_path, monkeypatch):
    """Each test starts as a machine that has seen no head (module-wide
    fixtures keep the session file)."""
    path = tmp_path / "known-heads.json"
    monkeypatch.setenv(KNOWN_HEADS_ENV, str(path))
    return path


@pytest.fixture
def pg_url():
    """A URL whose search_path is a brand-new schema, dropped afterwards."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"zkaudit_test_{uuid.uuid4().hex[:12]}"
    base = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path):
    return str(tmp_path / "registry.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "registry.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def initialised_registry(tmp_path_factory):
    """`Registry.init` once per session -- a BLS key, its proof of possession
    and the signed first head, seconds of pure-Python pairing work -- with
    that head remembered in the template's own known-heads file."""
    from registry_helpers import known_heads_at

    d = tmp_path_factory.mktemp("initialised-registry")
    with known_heads_at(str(d / "known-heads.json")):
        reg, created, _ = Registry.init(str(d / "registry.db"), d / "registry.key")
        assert created
        reg.close()
    return d


@pytest.fixture
def registry(registry_url, tmp_path, initialised_registry, known_heads_file):
    """An initialised registry: a copy of the session's (database, key,
    remembered head) on SQLite or PostgreSQL, as `Registry.init` would have
    left it here. It does not hold its key, so writes do not each sign a
    tree head (0.3 s apiece); tests that need heads call `signing(reg)`."""
    from registry_helpers import copy_registry

    d = initialised_registry
    key_path = tmp_path / "registry.key"
    shutil.copy2(d / "registry.key", key_path)
    if registry_url.startswith("postgresql"):
        copy_registry(str(d / "registry.db"), registry_url)
    else:
        shutil.copy2(d / "registry.db", registry_url)
    shutil.copy2(d / "known-heads.json", known_heads_file)
    reg = Registry(registry_url)
    reg.key = None
    reg.key_path = key_path
    yield reg
    reg.close()
