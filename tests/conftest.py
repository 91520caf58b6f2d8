"""Shared fixtures: real SQLite files, a real PostgreSQL database made for this test session.

PostgreSQL must be reachable on 127.0.0.1:5432 (trust auth). When it is not, tests that need it
fail (never skip) and print the command that starts it. Each session creates its own uniquely
named database and drops it at the end, so CI can reuse the machine's server.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get(
    "SHIPYARD_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's real config or ./.shipyard."""
    for key in list(os.environ):
        if key.startswith("SHIPYARD_") and not key.startswith("SHIPYARD_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SHIPYARD_FLUSH_INTERVAL_MS", "50")


@pytest.fixture(autouse=True)
def _fresh_sdk() -> Iterator[None]:
    """The SDK's process-wide connection is reset around every test."""
    import sys

    fluent = sys.modules.get("shipyard.tracking.fluent")
    if fluent is not None:
        fluent._state.reset()
    yield
    fluent = sys.modules.get("shipyard.tracking.fluent")
    if fluent is not None:
        fluent._state.reset()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'meta.db'}"


def _admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def create_pg_database(prefix: str) -> str:
    """Create a uniquely named PostgreSQL database and return its URL."""
    if not _reachable("127.0.0.1", 5432):
        pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432. Start it with: {PG_START}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    """Drop the database named by ``url`` (connections to it are closed first)."""
    _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this session, dropped afterwards."""
    url = create_pg_database("shipyard_test")
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied after each test."""
    yield pg_database
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_database)
    with engine.begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        names = [t for t in tables if t != "alembic_version"]
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in names) + " CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meta.db'}"
    return str(request.getfixturevalue("pg_url"))
