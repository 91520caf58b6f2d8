"""The metadata database: one SQLAlchemy engine, chosen by URL, migrated on first use.

SQLite is tuned for many writers: WAL journal, ``synchronous=NORMAL``, a busy timeout, and
``BEGIN IMMEDIATE`` for write transactions so two writers queue instead of deadlocking on a
lock upgrade ("database is locked"). PostgreSQL needs nothing special.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import StaticPool

from shipyard.errors import ConfigError, StoreUnavailable

BUSY_TIMEOUT_MS = 60_000
WAL_AUTOCHECKPOINT_PAGES = 4000


class Database:
    """A handle on the metadata database. Cheap to build: nothing connects until first use.

    >>> db = Database("sqlite:///:memory:")
    >>> db.dialect
    'sqlite'
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        try:
            self._url = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(
                f"tracking URI {url!r} is not a database URL; use sqlite:///path/to/file.db "
                "or postgresql+psycopg://user@host/db"
            ) from exc
        if self._url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"unsupported database {self._url.get_backend_name()!r} in {url!r}: "
                "use sqlite:/// or postgresql+psycopg://"
            )
        self.url = url
        self._migrate = migrate
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return str(self._url.get_backend_name())

    @property
    def engine(self) -> Engine:
        """The engine, created (and the schema upgraded) on first access."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    engine = self._create_engine()
                    if self._migrate:
                        from shipyard.store.migrate import upgrade

                        upgrade(engine)
                    self._engine = engine
        return self._engine

    def _create_engine(self) -> Engine:
        if self.dialect == "sqlite":
            return _sqlite_engine(self._url.render_as_string(hide_password=False))
        return create_engine(
            self._url.render_as_string(hide_password=False),
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
        )

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailable(
                f"metadata database {self._safe_url()} failed: {exc.orig}"
            ) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (no write lock taken on SQLite)."""
        try:
            with self.engine.connect() as conn:
                yield conn.execution_options(shipyard_read=True)
        except OperationalError as exc:
            raise StoreUnavailable(
                f"metadata database {self._safe_url()} failed: {exc.orig}"
            ) from exc

    def _safe_url(self) -> str:
        return self._url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


WAL_SWITCH_ATTEMPTS = 100


def _switch_to_wal(cur: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the lock.

    Two connections opening a fresh file at once both try to switch it to WAL; the loser gets
    "database is locked" at once (SQLite does not call the busy handler for this switch). WAL
    is a property of the file, so once anyone has switched it, the retry finds it done.
    """
    import sqlite3

    for attempt in range(1, WAL_SWITCH_ATTEMPTS + 1):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_SWITCH_ATTEMPTS:
                raise
            time.sleep(0.01 * min(attempt, 10))


def _sqlite_engine(url: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **({"poolclass": StaticPool} if path in (None, "", ":memory:") else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's implicit handling.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        _switch_to_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        # Checkpoint the WAL every ~16 MB instead of every 4 MB: checkpoints (and their fsync)
        # are what many small commits pay for; the file is truncated back to 64 MB at most.
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cur.execute("PRAGMA journal_size_limit=67108864")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read = conn.get_execution_options().get("shipyard_read", False)
        # Straight to the driver: this runs for every transaction.
        driver = conn.connection.driver_connection
        if driver is None:  # never for a live connection; keeps the type checker content
            conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")
            return
        driver.execute("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine


__all__ = ["Database"]
