"""SqlSource on a real SQLite file and the real PostgreSQL (via the ``db_url`` fixture)."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    make_url,
)

from shipyard.data.sources import source_from_config
from shipyard.data.sources.sql import SqlSource
from shipyard.errors import InvalidArgument, NotFound, StoreUnavailable

T0 = dt.datetime(2026, 1, 1, 12, 0, 0)


@pytest.fixture
def events(db_url: str) -> Iterator[tuple[Engine, Table]]:
    """A real ``events`` table (integer id, timestamp, float, text) with three rows."""
    engine = create_engine(db_url)
    metadata = MetaData()
    table = Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("at", DateTime, nullable=False),
        Column("amount", Float),
        Column("label", String(20)),
    )
    metadata.create_all(engine)
    _insert(engine, table, range(1, 4))
    yield engine, table
    metadata.drop_all(engine)
    engine.dispose()


def _insert(engine: Engine, table: Table, ids: range) -> None:
    rows = [
        {"id": i, "at": T0 + dt.timedelta(minutes=i), "amount": i * 1.5, "label": f"e{i}"}
        for i in ids
    ]
    with engine.begin() as conn:
        conn.execute(insert(table), rows)


def test_reads_a_table_with_sensible_types(db_url: str, events: tuple[Engine, Table]) -> None:
    result = SqlSource("ev", db_url, table="events").read()
    table = result.table.sort_by("id")
    assert result.watermark is None
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("at").type == pa.timestamp("us")
    assert table.schema.field("amount").type == pa.float64()
    assert table.schema.field("label").type == pa.string()
    assert table.column("id").to_pylist() == [1, 2, 3]
    assert table.column("at").to_pylist()[0] == T0 + dt.timedelta(minutes=1)
    assert table.column("label").to_pylist() == ["e1", "e2", "e3"]


def test_empty_table_keeps_its_column_types(db_url: str, events: tuple[Engine, Table]) -> None:
    engine, table = events
    with engine.begin() as conn:
        conn.execute(table.delete())
    result = SqlSource("ev", db_url, table="events").read().table
    assert result.num_rows == 0
    assert result.schema.field("id").type == pa.int64()
    assert result.schema.field("at").type == pa.timestamp("us")


def test_reads_a_query(db_url: str, events: tuple[Engine, Table]) -> None:
    query = "SELECT id, label FROM events WHERE id >= 2 ORDER BY id;"
    table = SqlSource("ev", db_url, query=query).read().table
    assert table.to_pydict() == {"id": [2, 3], "label": ["e2", "e3"]}
    assert table.schema.field("id").type == pa.int64()


@pytest.mark.parametrize("mode", ["table", "query"])
@pytest.mark.parametrize("watermark", ["id", "at"])
def test_incremental_loads(
    db_url: str, events: tuple[Engine, Table], mode: str, watermark: str
) -> None:
    engine, table = events
    where = {"table": "events"} if mode == "table" else {"query": "SELECT * FROM events"}
    source = SqlSource("ev", db_url, watermark=watermark, **where)

    first = source.read()
    assert first.table.column("id").to_pylist() == [1, 2, 3]
    expected_first = 3 if watermark == "id" else T0 + dt.timedelta(minutes=3)
    if mode == "query" and watermark == "at" and engine.dialect.name == "sqlite":
        # SQLite has no timestamp type: a raw query returns the text SQLAlchemy stored
        assert first.watermark == "2026-01-01 12:03:00.000000"
    else:
        assert first.watermark == expected_first

    _insert(engine, table, range(4, 6))
    second = source.read(since=first.watermark)
    assert second.table.column("id").to_pylist() == [4, 5]
    assert second.table.num_rows == 2

    third = source.read(since=second.watermark)
    assert third.table.num_rows == 0
    assert third.watermark == second.watermark


def test_incremental_since_from_text(db_url: str, events: tuple[Engine, Table]) -> None:
    """A watermark stored as text (YAML, JSON) is turned back into the column's type."""
    source = SqlSource("ev", db_url, table="events", watermark="at")
    since = (T0 + dt.timedelta(minutes=2)).isoformat()
    result = source.read(since=since)
    assert result.table.column("id").to_pylist() == [3]
    assert result.watermark == T0 + dt.timedelta(minutes=3)
    with pytest.raises(InvalidArgument, match="not a valid datetime"):
        source.read(since="yesterday")


def test_missing_table_is_not_found_and_lists_tables(
    db_url: str, events: tuple[Engine, Table]
) -> None:
    with pytest.raises(NotFound, match=r"'evnets' does not exist.*existing tables: .*events"):
        SqlSource("ev", db_url, table="evnets").read()


def test_unknown_watermark_column_lists_columns(db_url: str, events: tuple[Engine, Table]) -> None:
    with pytest.raises(InvalidArgument, match=r"'updated'.*id, at, amount, label"):
        SqlSource("ev", db_url, table="events", watermark="updated").read()


def test_bad_query_is_invalid_with_the_database_message(
    db_url: str, events: tuple[Engine, Table]
) -> None:
    with pytest.raises(InvalidArgument, match=r"rejected the query.*nope"):
        SqlSource("ev", db_url, query="SELECT * FROM nope").read()
    with pytest.raises(InvalidArgument, match="rejected the query"):
        SqlSource("ev", db_url, query="SELEC id FROM events").read()


def test_watermark_name_is_quoted_not_injected(db_url: str, events: tuple[Engine, Table]) -> None:
    source = SqlSource("ev", db_url, query="SELECT * FROM events", watermark="id; DROP TABLE x")
    with pytest.raises(InvalidArgument, match="rejected the query"):
        source.read(since=0)
    assert SqlSource("ev", db_url, table="events").read().table.num_rows == 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgres_is_unavailable_without_password() -> None:
    url = f"postgresql+psycopg://ml:hunter2secret@127.0.0.1:{_free_port()}/shop"
    source = SqlSource("ev", url, table="events")
    with pytest.raises(StoreUnavailable) as info:
        source.read()
    message = str(info.value)
    assert f"127.0.0.1:{make_url(url).port}/shop" in message
    assert "hunter2secret" not in message
    assert "***" in message


def test_missing_sqlite_file_is_unavailable_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nothing.db"
    with pytest.raises(StoreUnavailable, match=r"nothing\.db does not exist"):
        SqlSource("ev", f"sqlite:///{path}", table="t").read()
    assert not path.exists()


def test_password_is_hidden_in_describe_and_errors(pg_url: str) -> None:
    url = make_url(pg_url).set(password="s3cr3t-pw").render_as_string(hide_password=False)
    source = SqlSource("ev", url, table="nope")
    described = source.describe()
    assert json.loads(json.dumps(described)) == described
    assert described["url"].endswith(make_url(pg_url).database or "?")
    assert "s3cr3t-pw" not in json.dumps(described)
    with pytest.raises(NotFound) as info:  # trust auth: the wrong password still connects
        source.read()
    assert "s3cr3t-pw" not in str(info.value)
    assert "***" in str(info.value)


def test_exactly_one_of_table_and_query() -> None:
    with pytest.raises(InvalidArgument, match="exactly one of table"):
        SqlSource("ev", "sqlite://")
    with pytest.raises(InvalidArgument, match="exactly one of table"):
        SqlSource("ev", "sqlite://", table="a", query="SELECT 1")


def test_malformed_url_is_invalid_without_password() -> None:
    with pytest.raises(InvalidArgument, match="not a SQLAlchemy URL") as info:
        SqlSource("ev", "x y://ml:pw9secret@dbhost/shop", table="t")
    assert "dbhost/shop" in str(info.value)
    assert "pw9secret" not in str(info.value)


def test_describe() -> None:
    source = SqlSource("ev", "sqlite:///x.db", query="SELECT 1 AS a", watermark="a")
    assert source.kind == "sql"
    assert source.describe() == {
        "name": "ev",
        "type": "sql",
        "url": "sqlite:///x.db",
        "table": None,
        "query": "SELECT 1 AS a",
        "watermark": "a",
    }


def test_source_from_config_builds_a_sql_source(db_url: str, events: tuple[Engine, Table]) -> None:
    config = {"type": "sql", "url": db_url, "table": "events", "watermark": "id"}
    source = source_from_config("ev", config)
    assert isinstance(source, SqlSource)
    assert source.read(since=2).table.column("id").to_pylist() == [3]
    with pytest.raises(
        InvalidArgument, match=r"unknown field\(s\) tabel; valid fields: query, table"
    ):
        source_from_config("ev", {"type": "sql", "url": db_url, "tabel": "events"})
    with pytest.raises(InvalidArgument, match="missing url"):
        source_from_config("ev", {"type": "sql", "table": "events"})
