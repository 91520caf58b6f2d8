"""Prepared statements run the same SQL as SQLAlchemy would, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, literal, select

from shipyard.store import Database
from shipyard.store.prepared import Prepared
from shipyard.store.schema import experiments


def test_insert_select_and_literals_on_both_dialects(db_url: str) -> None:
    db = Database(db_url)
    add = Prepared(insert(experiments), columns=["name", "created_at", "updated_at"])
    by_name = Prepared(
        select(experiments.c.experiment_id, literal("fixed")).where(
            experiments.c.name == bindparam("n")
        )
    )
    with db.begin() as conn:
        assert add.run_many(
            conn, [{"name": f"e{i}", "created_at": i, "updated_at": i} for i in range(3)]
        ) in (3, -1)
        row = by_name.first(conn, {"n": "e1"})
        assert row is not None and row[1] == "fixed"
        assert by_name.first(conn, {"n": "nope"}) is None
    with db.read() as conn:
        names = sorted(conn.execute(select(experiments.c.name)).scalars())
    assert names == ["e0", "e1", "e2"]
    db.dispose()


def test_a_failed_transaction_rolls_prepared_writes_back(db_url: str) -> None:
    db = Database(db_url)
    add = Prepared(insert(experiments), columns=["name", "created_at", "updated_at"])
    try:
        with db.begin() as conn:
            add.run_many(conn, [{"name": "x", "created_at": 1, "updated_at": 1}])
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with db.read() as conn:
        assert conn.execute(select(experiments.c.name)).all() == []
    db.dispose()
