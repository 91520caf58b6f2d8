"""The embedded online store: one SQLite file (``sqlite:///path/online.db``), WAL mode.

Three tables: ``online_features`` (view, feature, logical type), ``online_layouts`` (view,
layout id, spec: how records are packed, see ``codec.py``) and ``online_values`` (view, entity
key, event µs, packed record), each keyed by its first columns. A write is one
``INSERT … ON CONFLICT DO UPDATE … WHERE excluded.ts >= ts`` per batch (``executemany`` in one
``BEGIN IMMEDIATE`` transaction), so an older row never replaces a newer one, a failure rolls
back only the current batch, and concurrent writers queue on the lock instead of deadlocking.
A read is one ``SELECT … WHERE key IN (…)`` inside one read transaction (a consistent snapshot
of types and values). Each thread gets its own connection; all are closed by ``close()``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from shipyard._util import check_name
from shipyard.errors import ConfigError, ShipyardError, StoreUnavailable
from shipyard.features.online.base import (
    BATCH_ROWS,
    Progress,
    assemble,
    check_request,
    encode_keys,
    merge_types,
    prepare_write,
)
from shipyard.features.online.codec import Layout, layout_id

BUSY_TIMEOUT_S = 60.0
MAX_PARAMS = 10_000  # keys per SELECT (SQLite allows 32,766 parameters)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS online_features (view TEXT NOT NULL, feature TEXT NOT NULL, "
    "type TEXT NOT NULL, PRIMARY KEY (view, feature)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS online_values (view TEXT NOT NULL, key TEXT NOT NULL, "
    "ts INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (view, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS online_layouts (view TEXT NOT NULL, id BLOB NOT NULL, "
    "spec TEXT NOT NULL, PRIMARY KEY (view, id)) WITHOUT ROWID",
)
_UPSERT = (
    "INSERT INTO online_values (view, key, ts, value) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (view, key) DO UPDATE SET ts = excluded.ts, value = excluded.value "
    "WHERE excluded.ts >= online_values.ts"
)
_SELECT = "SELECT key, ts, value FROM online_values WHERE view = ? AND key IN ({marks})"
_TYPES = "SELECT feature, type FROM online_features WHERE view = ?"
_SET_TYPE = "INSERT OR REPLACE INTO online_features (view, feature, type) VALUES (?, ?, ?)"
_LAYOUTS = "SELECT id, spec FROM online_layouts WHERE view = ?"
_ADD_LAYOUT = "INSERT OR IGNORE INTO online_layouts (view, id, spec) VALUES (?, ?, ?)"


def sqlite_path(url: str) -> Path:
    """The file named by ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.

    >>> sqlite_path("sqlite:////tmp/online.db")
    PosixPath('/tmp/online.db')
    """
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not path or path.startswith(":memory:") or "?" in path:
        raise ConfigError(
            f"online store URL {url!r} must name a file: sqlite:///path/online.db "
            "(in-memory databases are not shared between threads)"
        )
    return Path(path)


class SqliteOnlineStore:
    """Online store in one SQLite file; safe to share between threads and processes.

    >>> store = SqliteOnlineStore("sqlite:////tmp/never-opened.db")  # nothing opened yet
    >>> store.url
    'sqlite:////tmp/never-opened.db'
    """

    def __init__(self, url: str, *, batch_rows: int = BATCH_ROWS) -> None:
        self.url = url
        self._path = sqlite_path(url)
        self._batch_rows = max(1, batch_rows)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._generation = 0
        self._schema_ready = False
        self._layouts: dict[bytes, Layout] = {}  # by id: content-addressed, never stale

    # -- connections ---------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        cached = getattr(self._local, "conn", None)
        if cached is not None and cached[0] == self._generation:
            conn: sqlite3.Connection = cached[1]
            return conn
        conn = self._connect()
        with self._lock:
            self._connections.append(conn)
            self._local.conn = (self._generation, conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        with self._errors():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self._path,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
            try:
                self._setup(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if not self._schema_ready:
            with self._lock:
                for ddl in _SCHEMA:
                    conn.execute(ddl)
                self._schema_ready = True

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except ShipyardError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(
                f"online store {self.url} failed: {exc}; check that the file is a writable "
                "SQLite database and not held locked by another process"
            ) from exc

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        with self._errors():
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- the protocol ----------------------------------------------------------------------------

    def write(
        self,
        view: str,
        table: pa.Table,
        *,
        keys: Sequence[str],
        timestamp: str,
        features: Sequence[str],
        progress: Progress | None = None,
    ) -> int:
        """Upsert entities (see :class:`~shipyard.features.online.base.OnlineStore`)."""
        prepared = prepare_write(view, table, keys, timestamp, features)
        with self._transaction(write=True) as conn:
            stored = dict(conn.execute(_TYPES, (view,)).fetchall())
            updates = merge_types(view, stored, prepared.types)
            conn.executemany(_SET_TYPE, [(view, f, t) for f, t in updates.items()])
            conn.execute(_ADD_LAYOUT, (view, prepared.layout.id, prepared.layout.spec))
        applied = 0
        for start, stop, done in prepared.batches(self._batch_rows):
            rows = zip(
                [view] * (stop - start),
                prepared.keys[start:stop],
                prepared.micros[start:stop],
                prepared.records[start:stop],
                strict=True,
            )
            with self._transaction(write=True) as conn:
                before = conn.total_changes
                conn.executemany(_UPSERT, rows)
                applied += conn.total_changes - before
            if progress is not None:
                progress(done)
        if progress is not None and not prepared.keys:
            progress(prepared.input_rows)
        return applied

    def read(
        self, view: str, entities: pa.Table, *, keys: Sequence[str], features: Sequence[str]
    ) -> pa.Table:
        """Look entities up (see :class:`~shipyard.features.online.base.OnlineStore`)."""
        view, key_names, names = check_request(view, entities, keys, features)
        row_keys = encode_keys(entities, key_names)
        wanted = list(dict.fromkeys(k for k in row_keys if k is not None))
        found: dict[str, tuple[int, bytes]] = {}
        with self._transaction(write=False) as conn:
            stored = dict(conn.execute(_TYPES, (view,)).fetchall())
            for start in range(0, len(wanted), MAX_PARAMS):
                chunk = wanted[start : start + MAX_PARAMS]
                sql = _SELECT.format(marks=",".join("?" * len(chunk)))
                for key, ts, value in conn.execute(sql, (view, *chunk)):
                    found[key] = (ts, value)
            if any(layout_id(v) not in self._layouts for _, v in found.values()):
                for lid, spec in conn.execute(_LAYOUTS, (view,)):
                    self._layouts[bytes(lid)] = Layout.from_spec(spec)
        return assemble(row_keys, found, names, stored, self._layouts)

    def delete_view(self, view: str) -> int:
        """Delete ``view``'s values and registered features; returns the entities removed."""
        check_name(view, "feature view")
        with self._transaction(write=True) as conn:
            removed = conn.execute("DELETE FROM online_values WHERE view = ?", (view,)).rowcount
            conn.execute("DELETE FROM online_features WHERE view = ?", (view,))
            conn.execute("DELETE FROM online_layouts WHERE view = ?", (view,))
        return int(removed)

    def close(self) -> None:
        """Close every thread's connection; a later call opens new ones."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            self._generation += 1


__all__ = ["SqliteOnlineStore", "sqlite_path"]
