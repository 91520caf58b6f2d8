"""The online store conformance suite: every test using ``store`` runs on SQLite and on Redis."""

from __future__ import annotations

import math
import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from shipyard.errors import ConfigError, InvalidArgument, StoreUnavailable
from shipyard.features.online import (
    EVENT_TIMESTAMP,
    OnlineStore,
    online_store_from_url,
    statuses,
)
from shipyard.features.online.redis import RedisOnlineStore
from shipyard.features.online.sqlite import SqliteOnlineStore

from .conftest import REDIS_START, redis_keys

UTC_US = pa.timestamp("us", "UTC")


def ts(*micros: int | None) -> pa.Array:
    return pa.array(micros, UTC_US)


def rows(ids: list[Any], times: list[int | None], **features: list[Any]) -> pa.Table:
    return pa.table({"id": ids, "t": ts(*times), **features})


def write(store: OnlineStore, table: pa.Table, features: list[str], **kw: Any) -> int:
    return store.write("v", table, keys=["id"], timestamp="t", features=features, **kw)


def read(store: OnlineStore, ids: list[Any], features: list[str]) -> dict[str, list[Any]]:
    out = store.read("v", pa.table({"id": ids}), keys=["id"], features=features)
    result: dict[str, list[Any]] = out.to_pydict()
    return result


def make(url: str, *, batch_rows: int) -> OnlineStore:
    if url.startswith("sqlite"):
        return SqliteOnlineStore(url, batch_rows=batch_rows)
    return RedisOnlineStore(url, batch_rows=batch_rows)


# -- types -----------------------------------------------------------------------------------------

PARIS_MS = pa.timestamp("ms", "Europe/Paris")
TYPED = {
    "b": (pa.array([True, False, None]), pa.bool_(), [True, False, None]),
    "i8": (pa.array([-128, 0, None], pa.int8()), pa.int64(), [-128, 0, None]),
    "i32": (pa.array([2**31 - 1, 0, None], pa.int32()), pa.int64(), [2**31 - 1, 0, None]),
    "i64": (pa.array([2**63 - 1, -(2**63), None]), pa.int64(), [2**63 - 1, -(2**63), None]),
    "u16": (pa.array([65535, 0, None], pa.uint16()), pa.int64(), [65535, 0, None]),
    "f32": (pa.array([0.5, -1.25, None], pa.float32()), pa.float64(), [0.5, -1.25, None]),
    "f64": (pa.array([0.1, 1e308, None]), pa.float64(), [0.1, 1e308, None]),
    "s": (pa.array(['a"b\\c', "žluť 🚢, ok", None]), pa.string(), ['a"b\\c', "žluť 🚢, ok", None]),
    "ls": (pa.array(["x", "", None], pa.large_string()), pa.string(), ["x", "", None]),
    "dict": (pa.array(["p", "q", None]).dictionary_encode(), pa.string(), ["p", "q", None]),
    "n": (pa.nulls(3), pa.null(), [None, None, None]),
    "day": (pa.array([-1, 20000, None], pa.date32()), pa.date32(), [-1, 20000, None]),
}


def test_every_type_round_trips(store: OnlineStore) -> None:
    table = rows([1, 2, 3], [1, 2, 3], **{k: v[0] for k, v in TYPED.items()})
    assert write(store, table, list(TYPED)) == 3
    out = store.read("v", pa.table({"id": [1, 2, 3]}), keys=["id"], features=list(TYPED))
    for name, (_, kind, values) in TYPED.items():
        assert out.schema.field(name).type == kind, name
        got = out.column(name).cast(pa.int32()) if kind == pa.date32() else out.column(name)
        assert got.to_pylist() == values, name
    assert out.column_names == [*TYPED, EVENT_TIMESTAMP]


def test_special_floats_round_trip(store: OnlineStore) -> None:
    table = rows([1, 2, 3], [1, 1, 1], x=[math.nan, math.inf, -math.inf])
    write(store, table, ["x"])
    got = read(store, [1, 2, 3], ["x"])["x"]
    assert math.isnan(got[0]) and got[1:] == [math.inf, -math.inf]


def test_timestamps_come_back_as_utc_microseconds(store: OnlineStore) -> None:
    paris = pa.array([0, 1_500, None], PARIS_MS)
    naive = pa.array([1_000_000_001, 7, None], pa.timestamp("ns"))
    table = rows([1, 2, 3], [1, 1, 1], paris=paris, naive=naive)
    write(store, table, ["paris", "naive"])
    out = store.read("v", pa.table({"id": [1, 2, 3]}), keys=["id"], features=["paris", "naive"])
    assert out.schema.field("paris").type == UTC_US
    assert out.column("paris").cast(pa.int64()).to_pylist() == [0, 1_500_000, None]
    # naive is taken as UTC; nanoseconds are dropped (everything is microseconds)
    assert out.column("naive").cast(pa.int64()).to_pylist() == [1_000_000, 0, None]


def test_event_time_may_be_a_date_or_any_timestamp(store: OnlineStore) -> None:
    table = pa.table({"id": [1, 2], "t": pa.array([1, -1], pa.date32()), "x": [1, 2]})
    write(store, table, ["x"])
    when = read(store, [1, 2], ["x"])[EVENT_TIMESTAMP]
    assert when == [datetime(1970, 1, 2, tzinfo=UTC), datetime(1969, 12, 31, tzinfo=UTC)]


def test_null_feature_takes_the_first_real_type_and_types_never_change(
    store: OnlineStore,
) -> None:
    write(store, rows([1], [1], x=pa.nulls(1), y=[1]), ["x", "y"])
    assert read(store, [1], ["x"])["x"] == [None]
    write(store, rows([2], [1], x=["late"], y=pa.nulls(1)), ["x", "y"])
    assert read(store, [1, 2], ["x", "y"]) == {
        "x": [None, "late"],
        "y": [1, None],
        EVENT_TIMESTAMP: [datetime(1970, 1, 1, 0, 0, 0, 1, UTC)] * 2,
    }
    with pytest.raises(
        InvalidArgument, match=r"'y' of view 'v' is stored online as int64.*float64"
    ):
        write(store, rows([3], [1], x=["z"], y=[1.5]), ["x", "y"])
    assert read(store, [3], ["y"])["y"] == [None]  # nothing written by the refused call


# -- keys ------------------------------------------------------------------------------------------


def test_composite_keys(store: OnlineStore) -> None:
    table = pa.table(
        {
            "user": pa.array([1, 1, 2], pa.int32()),
            "region": ["eu", "us", "eu"],
            "t": ts(1, 1, 1),
            "x": [10, 20, 30],
        }
    )
    opts: dict[str, Any] = {"keys": ["user", "region"], "features": ["x"]}
    assert store.write("v", table, timestamp="t", **opts) == 3
    probe = pa.table({"region": ["us", "eu", "eu", "us"], "user": pa.array([1, 2, 1, 2])})
    assert store.read("v", probe, **opts).column("x").to_pylist() == [20, 30, 10, None]


def test_keys_are_typed_and_integers_normalised(store: OnlineStore) -> None:
    write(store, rows(pa.array([1, 2], pa.int16()), [1, 1], x=["int one", "int two"]), ["x"])
    write(store, rows(["1", '2"'], [1, 1], x=["str one", "str two"]), ["x"])
    assert read(store, pa.array([1, 2], pa.uint64()), ["x"])["x"] == ["int one", "int two"]
    assert read(store, ["1", '2"', "2"], ["x"])["x"] == ["str one", "str two", None]
    big = pa.array([2**63 - 1], pa.int64())
    write(store, rows(big, [1], x=["max"]), ["x"])
    assert read(store, pa.array([2**63 - 1], pa.uint64()), ["x"])["x"] == ["max"]


def test_string_keys_with_separators_do_not_collide(store: OnlineStore) -> None:
    table = pa.table({"a": ['x","y', "x", 'x"'], "b": ["z", '",y","z', ',"z'], "t": ts(1, 1, 1)})
    table = table.append_column("n", pa.array([1, 2, 3]))
    store.write("v", table, keys=["a", "b"], timestamp="t", features=["n"])
    out = store.read("v", table.select(["a", "b"]), keys=["a", "b"], features=["n"])
    assert out.column("n").to_pylist() == [1, 2, 3]


def test_float_and_other_key_types_are_refused(store: OnlineStore) -> None:
    with pytest.raises(InvalidArgument, match=r"key column 'id' is double: floating-point.*int64"):
        write(store, rows([1.0], [1], x=[1]), ["x"])
    with pytest.raises(InvalidArgument, match="key column 'id' is bool"):
        read(store, [True], [])


# -- write semantics -------------------------------------------------------------------------------


def test_newer_wins_older_ignored_equal_time_overwrites(store: OnlineStore) -> None:
    assert write(store, rows([1], [10], x=["a"]), ["x"]) == 1
    assert write(store, rows([1], [5], x=["older"]), ["x"]) == 0
    assert read(store, [1], ["x"])["x"] == ["a"]
    assert write(store, rows([1], [10], x=["same time"]), ["x"]) == 1
    assert read(store, [1], ["x"])["x"] == ["same time"]
    assert write(store, rows([1], [11], x=["newer"]), ["x"]) == 1
    got = read(store, [1], ["x"])
    assert got == {"x": ["newer"], EVENT_TIMESTAMP: [datetime(1970, 1, 1, 0, 0, 0, 11, UTC)]}


@pytest.mark.parametrize(
    ("stored", "incoming", "applied"),
    [
        (-5, -10, 0),  # before 1970
        (-10, -5, 1),
        (10**10, 10**10 - 1, 0),  # differ only in the low digits
        (10**10 - 1, 10**10, 1),
        (2**57, 2**57 + 10**11, 1),  # differ in the high digits
        (2**57 + 10**11, 2**57, 0),
        (-(2**57), 2**57, 1),
    ],
)
def test_time_comparison_is_exact(
    store: OnlineStore, stored: int, incoming: int, applied: int
) -> None:
    write(store, rows([1], [stored], x=["first"]), ["x"])
    assert write(store, rows([1], [incoming], x=["second"]), ["x"]) == applied
    assert read(store, [1], ["x"])["x"] == ["second" if applied else "first"]


def test_duplicate_keys_in_one_write_latest_then_last_row_wins(store: OnlineStore) -> None:
    table = rows([1, 2, 1, 1, 2, 1], [5, 1, 9, 9, 1, 7], x=["a", "p", "b", "c", "q", "d"])
    assert write(store, table, ["x"]) == 2
    assert read(store, [1, 2], ["x"])["x"] == ["c", "q"]


def test_rows_with_null_key_or_time_are_not_written(store: OnlineStore) -> None:
    table = rows([1, None, 3], [1, 1, None], x=["kept", "no key", "no time"])
    assert write(store, table, ["x"]) == 1
    assert read(store, [1, None, 3], ["x"])["x"] == ["kept", None, None]


def test_write_in_batches_reports_progress(online_url: str) -> None:
    store = make(online_url, batch_rows=3)
    try:
        done: list[int] = []
        table = rows(list(range(10)), [1] * 10, x=list(range(10)))
        assert write(store, table, ["x"], progress=done.append) == 10
        assert done == [3, 6, 9, 10]
        assert read(store, list(range(10)), ["x"])["x"] == list(range(10))
        done.clear()
        assert write(store, rows([None], [1], x=[0]), ["x"], progress=done.append) == 0
        assert done == [1]
    finally:
        store.close()


def test_a_write_stopped_part_way_leaves_whole_records_and_resumes(online_url: str) -> None:
    store = make(online_url, batch_rows=4)
    try:
        write(store, rows(list(range(10)), [1] * 10, x=["old"] * 10, y=[0] * 10), ["x", "y"])
        new = rows(list(range(10)), [2] * 10, x=["new"] * 10, y=list(range(10)))

        def stop_after_first_batch(done: int) -> None:
            raise KeyboardInterrupt(f"stopped at {done}")

        with pytest.raises(KeyboardInterrupt, match="stopped at 4"):
            write(store, new, ["x", "y"], progress=stop_after_first_batch)
        got = read(store, list(range(10)), ["x", "y"])
        assert got["x"] == ["new"] * 4 + ["old"] * 6
        assert got["y"] == [0, 1, 2, 3] + [0] * 6
        assert write(store, new, ["x", "y"]) == 10  # re-running the write completes it
        first = store.read("v", pa.table({"id": list(range(10))}), keys=["id"], features=["x"])
        assert write(store, new, ["x", "y"]) == 10  # idempotent: the same rows change nothing
        again = store.read("v", pa.table({"id": list(range(10))}), keys=["id"], features=["x"])
        assert again.equals(first) and first.column("x").to_pylist() == ["new"] * 10
    finally:
        store.close()


def test_a_feature_left_out_of_a_write_reads_as_null(store: OnlineStore) -> None:
    write(store, rows([1], [1], x=[1], y=[2]), ["x", "y"])
    write(store, rows([1], [2], x=[3], y=[4]), ["x"])
    assert read(store, [1], ["x", "y"])["y"] == [None]


# -- reads -----------------------------------------------------------------------------------------


def test_missing_entities_read_as_nulls(store: OnlineStore) -> None:
    write(store, rows([1], [7], x=[1.5]), ["x"])
    got = read(store, [2, 1, 3], ["x"])
    assert got == {"x": [None, 1.5, None], EVENT_TIMESTAMP: [None, ts(7)[0].as_py(), None]}


def test_features_never_written_read_as_nulls(store: OnlineStore) -> None:
    write(store, rows([1], [1], x=[1]), ["x"])
    got = read(store, [1], ["x", "nope"])
    assert got["x"] == [1] and got["nope"] == [None]
    never = store.read("never", pa.table({"id": [1]}), keys=["id"], features=["x"])
    assert never.column("x").to_pylist() == [None]
    assert never.column(EVENT_TIMESTAMP).to_pylist() == [None]
    empty = store.read("never", pa.table({"id": [1, 2]}), keys=["id"], features=[])
    assert empty.to_pydict() == {EVENT_TIMESTAMP: [None, None]}


def test_many_entities_keep_order_and_duplicates(store: OnlineStore) -> None:
    n = 3_000
    write(store, rows(list(range(n)), list(range(n)), x=[i * 0.5 for i in range(n)]), ["x"])
    rng = random.Random(7)
    ids = [rng.randrange(n + 500) for _ in range(12_000)]  # duplicates and misses
    got = read(store, ids, ["x"])
    assert got["x"] == [i * 0.5 if i < n else None for i in ids]
    micros = store.read("v", pa.table({"id": ids}), keys=["id"], features=[])
    assert micros.column(0).cast(pa.int64()).to_pylist() == [i if i < n else None for i in ids]


def test_read_of_an_empty_entity_table(store: OnlineStore) -> None:
    write(store, rows([1], [1], x=[1]), ["x"])
    out = store.read("v", pa.table({"id": pa.array([], pa.int64())}), keys=["id"], features=["x"])
    assert out.num_rows == 0 and out.schema.field("x").type == pa.int64()


# -- bad requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keys": "id"}, "keys must be a list of column names"),
        ({"keys": []}, "keys must name at least one column"),
        ({"keys": ["nope"]}, r"key column\(s\) \['nope'\] not in the table"),
        ({"features": ["x", "x"]}, r"name \['x'\] more than once"),
        ({"features": ["gone"]}, r"feature column\(s\) \['gone'\] not in the table"),
        ({"features": [EVENT_TIMESTAMP]}, "may not be named 'event_timestamp'"),
        ({"timestamp": "x"}, "timestamp column 'x' is int64; it must be a timestamp or a date"),
        ({"timestamp": "nope"}, r"timestamp column \['nope'\] not in the table"),
        ({"view": "bad view!"}, "feature view name 'bad view!' is invalid"),
        ({"features": ["l"]}, r"feature 'l' of view 'v' is list<item: int64>"),
    ],
)
def test_bad_writes_are_refused(store: OnlineStore, kwargs: dict[str, Any], message: str) -> None:
    table = rows([1], [1], x=[1], l=[[1, 2]], event_timestamp=[1])
    call: dict[str, Any] = {"view": "v", "keys": ["id"], "timestamp": "t", "features": ["x"]}
    call.update(kwargs)
    with pytest.raises(InvalidArgument, match=message):
        store.write(call.pop("view"), table, **call)


def test_uint64_feature_beyond_int64_is_refused(store: OnlineStore) -> None:
    with pytest.raises(InvalidArgument, match="feature 'x' of view 'v'"):
        write(store, rows([1], [1], x=pa.array([2**64 - 1], pa.uint64())), ["x"])


# -- delete ----------------------------------------------------------------------------------------


def test_delete_view_removes_only_that_view(store: OnlineStore) -> None:
    write(store, rows([1, 2], [1, 1], x=[1, 2]), ["x"])
    store.write("other", rows([1], [1], x=[9]), keys=["id"], timestamp="t", features=["x"])
    assert store.delete_view("v") == 2
    gone = store.read("v", pa.table({"id": [1]}), keys=["id"], features=["x"])
    assert gone.column("x").to_pylist() == [None] and gone.column("event_timestamp").null_count == 1
    other = store.read("other", pa.table({"id": [1]}), keys=["id"], features=["x"])
    assert other.column("x").to_pylist() == [9]
    assert store.delete_view("v") == 0
    write(store, rows([1], [1], x=["a new type"]), ["x"])  # the registry went too
    assert read(store, [1], ["x"])["x"] == ["a new type"]


# -- threads ---------------------------------------------------------------------------------------


def test_threads_read_and_write_concurrently(online_url: str) -> None:
    store = make(online_url, batch_rows=50)
    second = make(online_url, batch_rows=50)  # another handle on the same store, like a process
    errors: list[BaseException] = []
    n_threads, rounds, ids = 6, 15, list(range(200))

    def work(worker: int) -> None:
        target = store if worker % 2 else second
        try:
            for r in range(rounds):
                t = r * n_threads + worker  # distinct times: the highest must win everywhere
                write(
                    target,
                    rows(ids, [t] * len(ids), x=[t] * len(ids), w=[worker] * 200),
                    ["x", "w"],
                )
                got = read(target, ids, ["x", "w"])
                assert all(x is not None and x >= t for x in got["x"])
                for x, w in zip(got["x"], got["w"], strict=True):
                    assert x % n_threads == w  # each record whole: value and writer match
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors[0]
        final = rounds * n_threads - 1
        assert read(store, ids, ["x"])["x"] == [final] * len(ids)
    finally:
        store.close()
        second.close()


# -- statuses --------------------------------------------------------------------------------------

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_status_at_the_ttl_edge() -> None:
    ttl = timedelta(hours=2)
    at_edge, past_edge = NOW - ttl, NOW - ttl - timedelta(microseconds=1)
    event = pa.array([at_edge, past_edge, None, NOW + timedelta(days=1), NOW], UTC_US)
    expected = ["present", "expired", "missing", "present", "present"]
    assert statuses(event, ttl, NOW).to_pylist() == expected


def test_status_without_ttl_never_expires_and_naive_is_utc() -> None:
    event = pa.chunked_array([pa.array([0, None], UTC_US)])
    assert statuses(event, None, NOW).to_pylist() == ["present", "missing"]
    naive_now = datetime(1970, 1, 1, 0, 0, 1)
    edge = pa.array([0, -1], pa.timestamp("s"))
    assert statuses(edge, timedelta(seconds=1), naive_now).to_pylist() == ["present", "expired"]


def test_status_refuses_a_negative_ttl() -> None:
    with pytest.raises(InvalidArgument, match="ttl must not be negative"):
        statuses(pa.array([0], UTC_US), timedelta(seconds=-1), NOW)


def test_statuses_of_a_real_read(store: OnlineStore) -> None:
    write(store, rows([1, 2], [0, 10], x=[1, 2]), ["x"])
    got = store.read("v", pa.table({"id": [1, 2, 3]}), keys=["id"], features=["x"])
    now = datetime(1970, 1, 1, 0, 0, 0, 10, UTC)
    labels = statuses(got.column(EVENT_TIMESTAMP), timedelta(microseconds=9), now)
    assert labels.to_pylist() == ["expired", "present", "missing"]


# -- URLs and failures -----------------------------------------------------------------------------


def test_backends_are_chosen_by_url(sqlite_online_url: str) -> None:
    sqlite_store = online_store_from_url(sqlite_online_url)
    redis_store = online_store_from_url("redis://:s3cret@127.0.0.1:6379/2?prefix=x:")
    assert isinstance(sqlite_store, SqliteOnlineStore) and isinstance(sqlite_store, OnlineStore)
    assert isinstance(redis_store, RedisOnlineStore) and isinstance(redis_store, OnlineStore)
    assert redis_store.url == "redis://:***@127.0.0.1:6379/2?prefix=x:"
    assert online_store_from_url("redis://127.0.0.1").prefix == "shipyard:"  # type: ignore[attr-defined]
    assert not Path(sqlite_online_url[len("sqlite:///") :]).exists()  # nothing opened yet
    for bad in ("postgresql://x/y", "online.db", "sqlite:///:memory:", "sqlite://"):
        with pytest.raises(ConfigError):
            online_store_from_url(bad)


def test_redis_on_a_closed_port_is_unavailable_with_the_start_command() -> None:
    store = online_store_from_url("redis://:hunter2@127.0.0.1:1/0?prefix=never:")
    table = rows([1], [1], x=[1])
    for call in (
        lambda: write(store, table, ["x"]),
        lambda: read(store, [1], ["x"]),
        lambda: store.delete_view("v"),
    ):
        with pytest.raises(StoreUnavailable) as info:
            call()
        message = str(info.value)
        assert REDIS_START in message and "127.0.0.1:1" in message
        assert "hunter2" not in message
    store.close()


def test_sqlite_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    store = online_store_from_url(f"sqlite:///{tmp_path / 'a-file' / 'online.db'}")
    with pytest.raises(StoreUnavailable, match=r"online store sqlite:///.*a-file"):
        read(store, [1], ["x"])
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailable, match=r"garbage\.db failed"):
        write(online_store_from_url(f"sqlite:///{garbage}"), rows([1], [1], x=[1]), ["x"])


def test_sqlite_file_is_in_wal_mode(sqlite_online_url: str) -> None:
    store = online_store_from_url(sqlite_online_url)
    write(store, rows([1], [1], x=[1]), ["x"])
    store.close()
    conn = sqlite3.connect(sqlite_online_url[len("sqlite:///") :])
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_a_closed_store_reopens(store: OnlineStore) -> None:
    write(store, rows([1], [1], x=[1]), ["x"])
    store.close()
    assert read(store, [1], ["x"])["x"] == [1]


# -- Redis keys ------------------------------------------------------------------------------------


def test_redis_prefixes_isolate_and_delete_view_cleans_up(redis_prefix: str) -> None:
    from .conftest import REDIS_URL

    mine = online_store_from_url(f"{REDIS_URL}?prefix={redis_prefix}a:")
    theirs = online_store_from_url(f"{REDIS_URL}?prefix={redis_prefix}b:")
    try:
        write(mine, rows([1, 2], [1, 1], x=["mine", "mine"]), ["x"])
        write(theirs, rows([1], [1], x=["theirs"]), ["x"])
        assert read(mine, [1, 2], ["x"])["x"] == ["mine", "mine"]
        assert read(theirs, [1, 2], ["x"])["x"] == ["theirs", None]
        assert sorted(redis_keys(f"{redis_prefix}a:")) == [
            f"{redis_prefix}a:v:{k}".encode() for k in ("1", "2", "layouts", "types")
        ]
        assert mine.delete_view("v") == 2
        assert redis_keys(f"{redis_prefix}a:") == []
        assert len(redis_keys(f"{redis_prefix}b:")) == 3  # the entity, the types and the layouts
    finally:
        mine.close()
        theirs.close()


def test_redis_delete_view_scans_many_keys_and_escapes_the_pattern(redis_prefix: str) -> None:
    from .conftest import REDIS_URL

    store = online_store_from_url(f"{REDIS_URL}?prefix={redis_prefix}[*]?:")
    near = online_store_from_url(f"{REDIS_URL}?prefix={redis_prefix}x*]?:")
    try:
        n = 2_500
        write(store, rows(list(range(n)), [1] * n, x=list(range(n))), ["x"])
        write(near, rows([1], [1], x=[1]), ["x"])
        assert store.delete_view("v") == n
        assert redis_keys(f"{redis_prefix}[*]?:") == []
        assert read(near, [1], ["x"])["x"] == [1]
    finally:
        store.close()
        near.close()
