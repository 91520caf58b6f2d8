"""Dataset versions on every backend: SQLite, PostgreSQL and a real HTTP server."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from shipyard.artifacts.owners import dataset_owner
from shipyard.client import Services
from shipyard.data.datasets import DatasetStore
from shipyard.data.datasets.snapshot import write_snapshot
from shipyard.data.sources.files import FileSource
from shipyard.data.sources.sql import SqlSource
from shipyard.data.validation import Suite
from shipyard.errors import IntegrityError, InvalidArgument, NotFound


def _store(services: Services) -> DatasetStore:
    return DatasetStore(services.datasets, services.artifacts)


def _users(n: int = 50, *, offset: int = 0) -> pa.Table:
    ids = list(range(offset, offset + n))
    return pa.table(
        {
            "id": ids,
            "age": [20 + i % 50 for i in ids],
            "country": [("fr", "de", "us")[i % 3] for i in ids],
        }
    )


def test_ingest_stores_a_content_hashed_snapshot(services: Services, tmp_path: Path) -> None:
    store = _store(services)
    result = store.ingest(_users(), name="users", description="first")
    v = result.version
    assert result.created and result.rows_read == 50
    assert (v.name, v.seq, v.num_rows, v.description) == ("users", 1, 50, "first")
    assert v.schema == {"id": "int64", "age": "int64", "country": "string"}
    expected = write_snapshot(_users(), tmp_path / "x.parquet")
    assert (
        v.version == expected == hashlib.sha256((tmp_path / "x.parquet").read_bytes()).hexdigest()
    )
    profile = v.table_profile()
    assert profile.num_rows == 50 and profile.column("age").min == 20
    assert profile.column("country").top == {"fr": 17, "de": 17, "us": 16}

    table, again = store.load(f"users@{v.short}")
    assert table.equals(_users()) and again == v


def test_same_content_is_the_same_version(services: Services) -> None:
    store = _store(services)
    first = store.ingest(_users(), name="users").version
    repeat = store.ingest(_users().to_pandas(), name="users")
    assert not repeat.created and repeat.version.version == first.version
    second = store.ingest(_users(60), name="users").version
    assert second.seq == 2 and second.version != first.version
    assert [v.seq for v in store.catalog.list_versions("users")] == [2, 1]


def test_versions_are_found_by_prefix_number_and_latest(services: Services) -> None:
    store = _store(services)
    a = store.ingest(_users(10), name="users").version
    b = store.ingest(_users(20), name="users").version
    assert store.get("users").version == b.version
    assert store.get("users@latest").version == b.version
    assert store.get("users@#1").version == a.version
    assert store.get(f"dataset:users@{a.version}").version == a.version
    assert store.get(f"users@{a.version[:6]}").version == a.version
    with pytest.raises(NotFound, match="no version"):
        store.get("users@#9")
    with pytest.raises(NotFound, match=r"no dataset 'nope'.*datasets are \['users'\]"):
        store.get("nope")
    with pytest.raises(InvalidArgument, match="not a version id"):
        store.get("users@zz")
    with pytest.raises(InvalidArgument, match="dataset name"):
        store.get("bad name@1")


def test_list_datasets_and_delete(services: Services) -> None:
    store = _store(services)
    store.ingest(_users(10), name="users")
    b = store.ingest(_users(20), name="users").version
    store.ingest(pa.table({"code": ["fr", "de"]}), name="countries")
    found = {d.name: d for d in store.catalog.list_datasets()}
    assert list(found) == ["countries", "users"]
    assert found["users"].num_versions == 2 and found["users"].latest == b
    store.catalog.delete_version("users", b.version)
    assert store.get("users").seq == 1
    with pytest.raises(NotFound):
        store.catalog.delete_version("users", b.version)
    assert services.artifacts.list(dataset_owner("users", b.version)) == []


def test_a_version_needs_its_verified_snapshot(services: Services, tmp_path: Path) -> None:
    catalog = services.datasets
    meta = {"num_rows": 1, "num_bytes": 3, "schema": {}, "profile": {}, "source": {}}
    missing = "a" * 64
    with pytest.raises(NotFound, match=r"upload data\.parquet"):
        catalog.add_version("users", missing, **meta)  # type: ignore[arg-type]
    services.artifacts.upload_stream(dataset_owner("users", missing), "data.parquet", [b"abc"])
    with pytest.raises(IntegrityError, match="hashes to"):
        catalog.add_version("users", missing, **meta)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="SHA-256"):
        catalog.add_version("users", "abc", **meta)  # type: ignore[arg-type]
    assert catalog.list_datasets() == []


def test_a_failed_ingest_leaves_no_version(services: Services, tmp_path: Path) -> None:
    store = _store(services)
    with pytest.raises(NotFound):
        store.ingest(FileSource("users", str(tmp_path / "missing.csv")), name="users")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(InvalidArgument, match=r"ragged\.csv"):
        store.ingest(FileSource("users", str(tmp_path / "ragged.csv")), name="users")
    with pytest.raises(InvalidArgument, match="unique"):
        store.ingest(pa.table([[1], [2]], names=["a", "a"]), name="users")
    assert store.catalog.list_datasets() == []


def test_incremental_sql_source_appends_new_rows(services: Services, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL)")
        con.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i * 1.5) for i in range(1, 6)])
    source = SqlSource("orders", f"sqlite:///{db}", table="orders", watermark="id")
    store = _store(services)
    first = store.ingest(source, name="orders").version
    assert (first.num_rows, first.watermark, first.parent) == (5, 5, None)
    with sqlite3.connect(db) as con:
        con.executemany("INSERT INTO orders VALUES (?, ?)", [(6, 9.0), (7, 10.5)])
    result = store.ingest(source, name="orders")
    second = result.version
    assert result.created and result.rows_read == 2
    assert (second.num_rows, second.watermark, second.parent) == (7, 7, first.version)
    table, _ = store.load("orders")
    assert table.column("id").to_pylist() == [1, 2, 3, 4, 5, 6, 7]
    unchanged = store.ingest(source, name="orders")
    assert not unchanged.created and unchanged.rows_read == 0
    assert unchanged.version.version == second.version


def test_check_quarantines_failing_rows_with_their_rules(services: Services) -> None:
    store = _store(services)
    store.ingest(pa.table({"code": ["fr", "de", "us"]}), name="countries")
    table = pa.table(
        {"id": [1, 2, 2, 4], "age": [30, -1, 40, 50], "country": ["fr", "xx", "de", None]}
    )
    v = store.ingest(table, name="users").version
    suite = Suite.from_dict(
        {
            "name": "users",
            "rules": [
                {"name": "ids", "type": "unique", "column": "id"},
                {"name": "age_ok", "type": "range", "column": "age", "min": 0},
                {
                    "name": "known",
                    "type": "referential",
                    "column": "country",
                    "reference": "countries",
                    "ref_column": "code",
                },
                {
                    "name": "has_country",
                    "type": "not_null",
                    "column": "country",
                    "severity": "warn",
                },
            ],
        }
    )
    result = store.check(v.ref, suite)
    report = result.report
    assert not report.passed
    assert {r.name: r.failed_count for r in report.results} == {
        "ids": 1,  # one id too many
        "age_ok": 1,
        "known": 1,
        "has_country": 1,
    }
    q = result.quarantine
    assert q is not None and q.name == "users-quarantine"
    assert q.tags["quarantine_of"] == v.uri
    assert q.tags["failed_rules"] == "ids,age_ok,known,has_country"
    rows, _ = store.load(q.ref)
    by_id = {}
    for row in rows.to_pylist():
        by_id.setdefault(row["id"], []).append(sorted(row["_failed_rules"]))
    # a duplicated id marks the rows after its first occurrence
    assert by_id == {2: [["age_ok", "known"], ["ids"]], 4: [["has_country"]]}
    clean = store.check(v.ref, suite, quarantine=False)
    assert clean.quarantine is None


def test_distribution_rules_compare_with_the_previous_version(services: Services) -> None:
    store = _store(services)
    suite = Suite.from_dict(
        {"name": "s", "rules": [{"type": "distribution", "column": "age", "max_psi": 0.2}]}
    )
    store.ingest(pa.table({"age": list(range(100))}), name="ages")
    with pytest.raises(InvalidArgument, match=r"first version.*--against"):
        store.check("ages", suite)
    shifted = store.ingest(pa.table({"age": [x + 60 for x in range(100)]}), name="ages").version
    assert not store.check(shifted.ref, suite, quarantine=False).report.passed
    same = store.check(shifted.ref, suite, against=shifted.ref, quarantine=False)
    assert same.report.passed


def test_diff_reports_schema_rows_and_drift(services: Services) -> None:
    store = _store(services)
    store.ingest(_users(100), name="users")
    changed = _users(120).append_column("score", pa.array([1.0] * 120))
    changed = changed.set_column(1, "age", pa.array([90 + i % 5 for i in range(120)]))
    store.ingest(changed, name="users")
    diff = store.diff("users@#1", "users")
    assert diff.added_columns == ("score",) and diff.row_count_delta == 20
    assert "age" in diff.drifted_columns and "country" not in diff.drifted_columns


def test_concurrent_ingests_get_distinct_numbers(services: Services) -> None:
    store = _store(services)
    errors: list[Exception] = []

    def ingest(i: int) -> None:
        try:
            store.ingest(_users(5, offset=i * 10), name="users")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(v.seq for v in store.catalog.list_versions("users")) == [1, 2, 3, 4]


def test_timestamps_survive_a_snapshot(services: Services) -> None:
    store = _store(services)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    v = store.ingest(pa.table({"ts": pa.array([when], pa.timestamp("us", "UTC"))}), name="t")
    table, _ = store.load(v.version.ref)
    assert table.column("ts").to_pylist() == [when]
    assert v.version.schema == {"ts": "timestamp[us, tz=UTC]"}
