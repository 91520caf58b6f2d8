"""Upgrading keeps every row: a database made at the first migration, upgraded to the newest."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from shipyard.store import Database
from shipyard.store.migrate import current_revision, head_revision, upgrade
from shipyard.store.schema import metadata
from tests.store.make_fixture_db import ROWS

FIXTURE = Path(__file__).with_name("data") / "shipyard-0001.db"


def _counts(url: str, tables: list[str]) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables}
    engine.dispose()
    return counts


def test_kept_first_migration_database_upgrades_without_losing_rows(tmp_path: Path) -> None:
    db_file = tmp_path / "old.db"
    shutil.copy(FIXTURE, db_file)
    url = f"sqlite:///{db_file}"
    before = _counts(url, list(ROWS))
    assert before == {t: len(rows) for t, rows in ROWS.items()}

    database = Database(url)  # migrates on first use
    assert current_revision(database.engine) == head_revision()
    assert _counts(url, list(ROWS)) == before
    names = set(inspect(database.engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= names

    from shipyard.tracking.sql import SqlTracking

    run = SqlTracking(database).get_run("a" + "0" * 30 + "1")
    assert run.params == {"n_estimators": "200"} and run.tags["shipyard.git.commit"] == "abc123"
    assert [m.step for m in SqlTracking(database).get_metric_history(run.run_id, "auc")] == [0, 1]
    database.dispose()


def test_upgrade_keeps_rows_on_postgresql(pg_url: str) -> None:
    engine = create_engine(pg_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO experiments VALUES (7, 'x', 1, 1, NULL)"))
        conn.execute(
            text("INSERT INTO runs VALUES ('r1', 7, 'n', 'FINISHED', NULL, 'u', 1, 2, 2, NULL)")
        )
        conn.execute(
            text(
                "INSERT INTO metrics (run_id, key, value, step, timestamp) "
                "VALUES ('r1', 'auc', 0.5, 0, 1)"
            )
        )
    assert upgrade(engine) == head_revision()
    assert upgrade(engine) == head_revision()  # idempotent
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM metrics")).scalar_one() == 1
        assert conn.execute(text("SELECT name FROM runs")).scalar_one() == "n"
    engine.dispose()


def test_fresh_database_matches_the_schema(sqlite_url: str) -> None:
    """The migrations create exactly what schema.py declares (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    database = Database(sqlite_url)
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    database.dispose()
