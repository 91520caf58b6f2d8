"""Opening a fresh SQLite store from several places at once (parallel workers, two services of
one process): the switch to WAL is retried while another connection holds the lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from shipyard.store import Database


@pytest.mark.slow
def test_many_first_connections_to_a_fresh_file_all_succeed(tmp_path: Path) -> None:
    failures: list[str] = []
    for trial in range(60):  # the race lost about one trial in eight before the retry
        url = f"sqlite:///{tmp_path / f'fresh-{trial}.db'}"
        dbs = [Database(url) for _ in range(6)]
        start = threading.Barrier(len(dbs))

        def first_query(db: Database, start: threading.Barrier) -> None:
            start.wait()
            try:
                with db.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except Exception as exc:  # collected: a thread's exception would be lost
                failures.append(repr(exc))

        threads = [threading.Thread(target=first_query, args=(db, start)) for db in dbs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for db in dbs:
            with db.engine.connect() as conn:
                assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            db.dispose()
    assert failures == []
