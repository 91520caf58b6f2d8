"""The prediction log on real files: writing, never blocking, reading, compaction, retention."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shipyard.errors import InvalidArgument
from shipyard.serving import predictions
from shipyard.serving.ids import new_ids
from shipyard.serving.predictions import (
    COVERS_SUFFIX,
    CompactionReport,
    PredictionLog,
    _merge,
    apply_retention,
    compact,
    default_root,
    partition_dir,
    read_predictions,
)

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def log_rows(
    plog: PredictionLog,
    n: int,
    *,
    model: str = "churn",
    version: int = 1,
    ts: dt.datetime | None = None,
    start: float = 0.0,
) -> list[str]:
    """Log ``n`` rows as one call; returns their ids."""
    ids = new_ids(n)
    inputs = [{"age": 30 + i, "plan": "pro" if i % 2 else "basic"} for i in range(n)]
    outputs: dict[str, list[Any]] = {
        "prediction": [i % 2 for i in range(n)],
        "proba_1": [start + i / 100 for i in range(n)],
    }
    assert plog.log(model, version, inputs, outputs, ids, latency_ms=1.5, ts=ts)
    return ids


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- writing


def test_logged_records_read_back_with_every_column(tmp_path: Path) -> None:
    with PredictionLog(tmp_path) as plog:
        ids = log_rows(plog, 3)
        table_ids = new_ids(2)
        inputs = pa.table({"age": [50, 51], "plan": ["team", "team"]})
        outputs: dict[str, list[Any]] = {"prediction": [1, 0], "proba_1": [0.9, 0.2]}
        plog.log("churn", 2, inputs, outputs, table_ids, latency_ms=7.0, status="shadow")
    assert (plog.written, plog.dropped, plog.failed) == (5, 0, 0)
    got = read_predictions(tmp_path, "churn")
    assert got.column_names[:6] == [
        "prediction_id",
        "model",
        "version",
        "ts",
        "latency_ms",
        "status",
    ]
    assert {"age", "plan", "prediction", "proba_1"} <= set(got.column_names)
    assert got.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    rows = {r["prediction_id"]: r for r in got.to_pylist()}
    assert set(rows) == set(ids + table_ids)
    assert rows[ids[1]] | {"ts": None} == {
        "prediction_id": ids[1],
        "model": "churn",
        "version": 1,
        "ts": None,
        "latency_ms": 1.5,
        "status": "ok",
        "age": 31,
        "plan": "pro",
        "prediction": 1,
        "proba_1": 0.01,
    }
    assert rows[table_ids[0]]["status"] == "shadow" and rows[table_ids[0]]["version"] == 2
    assert abs(rows[ids[0]]["ts"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_files_are_partitioned_by_model_version_and_day(tmp_path: Path) -> None:
    with PredictionLog(tmp_path) as plog:
        log_rows(plog, 2, ts=at(YESTERDAY))
        log_rows(plog, 2, ts=at(TODAY))
        log_rows(plog, 2, version=2, ts=at(TODAY))
        log_rows(plog, 2, model="fraud", ts=at(TODAY))
    for model, version, day in [
        ("churn", 1, YESTERDAY),
        ("churn", 1, TODAY),
        ("churn", 2, TODAY),
        ("fraud", 1, TODAY),
    ]:
        names = files(partition_dir(tmp_path, model, version, day.isoformat()))
        assert len(names) == 1 and names[0].startswith("part-") and names[0].endswith(".parquet")
    assert read_predictions(tmp_path, "fraud").num_rows == 2


def test_inputs_named_like_record_columns_are_renamed(tmp_path: Path) -> None:
    with PredictionLog(tmp_path) as plog:
        inputs = [{"status": "gold", "prediction": 3, "ts": "x", "age": 1}]
        plog.log("churn", 1, inputs, {"prediction": [0], "ts": [5]}, new_ids(1), latency_ms=1)
    row = read_predictions(tmp_path, "churn").to_pylist()[0]
    assert row["status"] == "ok" and row["input_status"] == "gold"
    assert row["prediction"] == 0 and row["input_prediction"] == 3
    assert row["input_ts"] == "x" and row["output_ts"] == 5 and row["age"] == 1


def test_a_renamed_column_never_overwrites_one_already_named_so(tmp_path: Path) -> None:
    with PredictionLog(tmp_path) as plog:
        inputs = [{"input_status": "A", "status": "B"}]
        outputs = {"prediction": [1], "status": ["S"], "output_status": ["T"]}
        plog.log("churn", 1, inputs, outputs, new_ids(1), latency_ms=1)
    row = read_predictions(tmp_path, "churn").to_pylist()[0]
    assert row["input_status"] == "A" and row["input_input_status"] == "B"
    assert row["output_status"] == "T" and row["output_output_status"] == "S"


def test_records_keep_fields_the_first_record_lacks(tmp_path: Path) -> None:
    with PredictionLog(tmp_path) as plog:
        plog.log("churn", 1, [{"a": 1}, {"a": 2, "b": "x"}], {"prediction": [0, 1]},
                 new_ids(2), latency_ms=1)  # fmt: skip
    rows = read_predictions(tmp_path, "churn").sort_by("a").to_pylist()
    assert [(r["a"], r["b"]) for r in rows] == [(1, None), (2, "x")]


def test_a_full_batch_is_written_without_waiting_for_the_interval(tmp_path: Path) -> None:
    plog = PredictionLog(tmp_path, flush_rows=10, flush_interval_s=60)
    try:
        log_rows(plog, 10)
        assert _eventually(lambda: plog.written == 10)
    finally:
        plog.close()


def test_a_small_batch_is_written_after_the_interval(tmp_path: Path) -> None:
    plog = PredictionLog(tmp_path, flush_rows=1_000, flush_interval_s=0.05)
    try:
        log_rows(plog, 3)
        assert _eventually(lambda: plog.written == 3)
        assert read_predictions(tmp_path, "churn").num_rows == 3
    finally:
        plog.close()


def test_flush_writes_everything_queued(tmp_path: Path) -> None:
    plog = PredictionLog(tmp_path, flush_interval_s=60)
    for _ in range(5):
        log_rows(plog, 4)
    assert plog.flush(timeout=10)
    assert plog.written == 20 and read_predictions(tmp_path, "churn").num_rows == 20
    plog.close()
    plog.close()  # twice is fine
    assert plog.flush() is True


def test_a_flush_that_loses_the_race_to_close_returns(tmp_path: Path) -> None:
    """close() may stop the writer between flush()'s check and its marker: flush returns."""
    plog = PredictionLog(tmp_path, flush_interval_s=60)
    log_rows(plog, 4)
    plog.close()
    plog._closed = False  # as if flush() had checked just before close() took the lock
    started = time.monotonic()
    assert plog.flush() is True
    assert time.monotonic() - started < 5 and plog.written == 4


def test_a_flush_of_many_calls_is_written_in_slices_as_one_part(tmp_path: Path) -> None:
    """More calls than a slice, with an input whose type differs between slices (all nulls in
    the first, numbers later): one part file, every row, types unified, in order."""
    plog = PredictionLog(tmp_path, flush_interval_s=60)
    calls = 3 * predictions.SLICE_CALLS + 7
    ids = []
    for i in range(calls):
        one = new_ids(1)
        value = None if i < predictions.SLICE_CALLS else float(i)
        plog.log("churn", 1, [{"age": i, "score": value}], {"prediction": [i % 2]}, one, 1.0)
        ids += one
    assert plog.flush(timeout=10)
    [part] = files(partition_dir(tmp_path, "churn", 1, TODAY.isoformat()))
    table = read_predictions(tmp_path, "churn")
    assert table.num_rows == calls and table.column("prediction_id").to_pylist() == ids
    score = table.column("score").to_pylist()
    assert score[: predictions.SLICE_CALLS] == [None] * predictions.SLICE_CALLS
    assert score[-1] == float(calls - 1) and table.schema.field("score").type == pa.float64()
    assert part.startswith(predictions.PART_PREFIX)
    plog.close()


def test_after_close_log_drops_and_counts(tmp_path: Path) -> None:
    plog = PredictionLog(tmp_path)
    plog.close()
    assert plog.log("churn", 1, [{"a": 1}], {"prediction": [1]}, ["x"], latency_ms=1) is False
    assert plog.dropped == 1


def test_log_never_blocks_when_the_writer_stalls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plog = PredictionLog(tmp_path, max_queue=2, flush_rows=1)
    release = threading.Event()
    stalled = threading.Event()
    real_write = plog._write_group

    def stuck(folder: Path, entries: Sequence[object]) -> None:
        stalled.set()
        release.wait(30)
        real_write(folder, entries)  # type: ignore[arg-type]

    monkeypatch.setattr(plog, "_write_group", stuck)
    log_rows(plog, 1)
    assert stalled.wait(10)  # the writer holds one call and is stuck writing it
    accepted = 0
    slowest = 0.0
    for _ in range(50):
        t0 = time.perf_counter()
        ok = plog.log("churn", 1, [{"a": 1}, {"a": 2}], {"prediction": [0, 1]}, new_ids(2), 1.0)
        slowest = max(slowest, time.perf_counter() - t0)
        accepted += ok
    assert accepted == 2  # the queue holds two calls; the other 48 were dropped
    assert plog.dropped == 48 * 2
    assert slowest < 0.05
    release.set()
    plog.close(timeout=10)
    assert plog.written == 1 + 2 * 2
    assert read_predictions(tmp_path, "churn").num_rows == 5


def test_a_bad_call_is_counted_and_does_not_lose_the_others(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=60) as plog:
        good = log_rows(plog, 3)
        # one column mixing a number and a text cannot become an Arrow column
        plog.log("churn", 1, [{"age": 1}, {"age": "x"}], {"prediction": [0, 1]}, new_ids(2), 1)
        more = log_rows(plog, 2)
    assert (plog.written, plog.failed) == (5, 2)
    got = read_predictions(tmp_path, "churn").column("prediction_id").to_pylist()
    assert sorted(got) == sorted(good + more)


def test_log_refuses_inconsistent_calls(tmp_path: Path) -> None:
    with PredictionLog(tmp_path) as plog:
        with pytest.raises(InvalidArgument, match="2 prediction id"):
            plog.log("churn", 1, [{"a": 1}], {"prediction": [1]}, ["x", "y"], latency_ms=1)
        with pytest.raises(InvalidArgument, match="outputs\\['prediction'\\]"):
            plog.log("churn", 1, [{"a": 1}], {"prediction": [1, 2]}, ["x"], latency_ms=1)
        with pytest.raises(InvalidArgument, match="model name"):
            plog.log("../etc", 1, [{"a": 1}], {"prediction": [1]}, ["x"], latency_ms=1)
        with pytest.raises(InvalidArgument, match="version"):
            plog.log("churn", -1, [{"a": 1}], {"prediction": [1]}, ["x"], latency_ms=1)
        with pytest.raises(InvalidArgument, match="latency_ms must be a number"):
            plog.log("churn", 1, [{"a": 1}], {"prediction": [1]}, ["x"], latency_ms=None)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="status must be text"):
            plog.log("churn", 1, [{"a": 1}], {"prediction": [1]}, ["x"], latency_ms=1, status=3)  # type: ignore[arg-type]
    assert plog.written == 0 and not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "options",
    [{"max_queue": 0}, {"flush_rows": 0}, {"flush_interval_s": 0}, {"max_queue": True}],
)
def test_bad_options_are_refused(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        PredictionLog(tmp_path, **options)  # type: ignore[arg-type]


def test_default_root_is_under_the_home(tmp_path: Path) -> None:
    assert default_root() == tmp_path / "home" / "predictions"


# --------------------------------------------------------------------------- reading


def test_read_filters_by_version_and_time(tmp_path: Path) -> None:
    old_day = TODAY - dt.timedelta(days=3)
    with PredictionLog(tmp_path) as plog:
        old = log_rows(plog, 2, ts=at(old_day))
        mid = log_rows(plog, 3, ts=at(YESTERDAY, 6))
        new = log_rows(plog, 4, version=2, ts=at(TODAY, 0))

    def ids(**kwargs: object) -> set[str]:
        table = read_predictions(tmp_path, "churn", **kwargs)  # type: ignore[arg-type]
        return set(table.column("prediction_id").to_pylist())

    assert ids() == set(old + mid + new)
    assert ids(version=1) == set(old + mid)
    assert ids(since=YESTERDAY) == set(mid + new)
    assert ids(since=at(YESTERDAY, 7)) == set(new)
    assert ids(since=YESTERDAY.isoformat(), until=TODAY.isoformat()) == set(mid)
    assert ids(until=at(YESTERDAY, 6).replace(tzinfo=None)) == set(old)  # naive means UTC
    table = read_predictions(tmp_path, "churn")
    assert table.column("ts").to_pylist() == sorted(table.column("ts").to_pylist())


def test_reading_unifies_schemas_across_files(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, flush_interval_s=60) as plog:
        plog.log("churn", 1, [{"x": 1}], {"prediction": [0]}, new_ids(1), 1)
        plog.flush()
        plog.log("churn", 1, [{"x": 2.5, "y": "new"}], {"prediction": [1]}, new_ids(1), 1)
    got = read_predictions(tmp_path, "churn")
    assert got.schema.field("x").type == pa.float64()
    assert sorted(got.column("x").to_pylist()) == [1.0, 2.5]
    assert sorted(got.column("y").to_pylist(), key=str) == [None, "new"]


def test_reading_a_model_with_no_log_is_empty(tmp_path: Path) -> None:
    got = read_predictions(tmp_path / "nowhere", "churn")
    assert got.num_rows == 0 and "prediction_id" in got.column_names


def test_bad_bounds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="ISO 8601"):
        read_predictions(tmp_path, "churn", since="last tuesday")
    with pytest.raises(InvalidArgument, match="since must be"):
        read_predictions(tmp_path, "churn", since=3)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- compaction


def _many_parts(root: Path, calls: int, *, ts: dt.datetime, rows: int = 5) -> list[str]:
    ids: list[str] = []
    with PredictionLog(root, flush_rows=1) as plog:
        for i in range(calls):
            ids += log_rows(plog, rows, ts=ts, start=i)
            plog.flush()
    return ids


def test_compaction_merges_closed_days_into_one_file(tmp_path: Path) -> None:
    old = _many_parts(tmp_path, 6, ts=at(YESTERDAY))
    today = _many_parts(tmp_path, 3, ts=at(TODAY))
    folder = partition_dir(tmp_path, "churn", 1, YESTERDAY.isoformat())
    before = read_predictions(tmp_path, "churn").sort_by("prediction_id")
    assert len(files(folder)) == 6
    report = compact(tmp_path)
    assert report == CompactionReport(partitions=1, files_merged=6, files_removed=6, rows=30)
    names = files(folder)
    assert len(names) == 1 and names[0].startswith("compacted-")
    assert pq.ParquetFile(folder / names[0]).metadata.num_rows == len(old)
    today_folder = partition_dir(tmp_path, "churn", 1, TODAY.isoformat())
    assert len(files(today_folder)) == 3  # today's partition is still being written
    assert read_predictions(tmp_path, "churn").sort_by("prediction_id").equals(before)
    assert compact(tmp_path).partitions == 0  # nothing left to do
    assert compact(tmp_path, include_today=True).files_merged == 3
    assert len(files(today_folder)) == 1
    got = read_predictions(tmp_path, "churn").column("prediction_id").to_pylist()
    assert sorted(got) == sorted(old + today)


def test_compaction_folds_new_parts_into_the_compacted_file(tmp_path: Path) -> None:
    first = _many_parts(tmp_path, 3, ts=at(YESTERDAY))
    compact(tmp_path)
    late = _many_parts(tmp_path, 2, ts=at(YESTERDAY))  # late arrivals for a closed day
    report = compact(tmp_path)
    assert (report.files_merged, report.files_removed) == (3, 3)
    folder = partition_dir(tmp_path, "churn", 1, YESTERDAY.isoformat())
    assert len(files(folder)) == 1
    got = read_predictions(tmp_path, "churn").column("prediction_id").to_pylist()
    assert sorted(got) == sorted(first + late)


def test_a_compaction_interrupted_before_cleanup_never_duplicates(tmp_path: Path) -> None:
    ids = _many_parts(tmp_path, 3, ts=at(YESTERDAY))
    folder = partition_dir(tmp_path, "churn", 1, YESTERDAY.isoformat())
    parts = files(folder)
    # the state a compactor leaves when it dies after renaming the merged file into place
    merged = "compacted-" + new_ids(1)[0]
    (folder / (merged + COVERS_SUFFIX)).write_text(str(parts).replace("'", '"'))
    _merge([folder / p for p in parts], folder / (merged + ".parquet"))
    assert len(files(folder)) == 5
    got = read_predictions(tmp_path, "churn").column("prediction_id").to_pylist()
    assert sorted(got) == sorted(ids)
    report = compact(tmp_path)
    assert (report.files_merged, report.files_removed) == (0, 3)
    assert files(folder) == [merged + ".parquet"]
    got = read_predictions(tmp_path, "churn").column("prediction_id").to_pylist()
    assert sorted(got) == sorted(ids)


def test_an_orphan_sidecar_is_ignored_and_removed(tmp_path: Path) -> None:
    ids = _many_parts(tmp_path, 2, ts=at(YESTERDAY))
    folder = partition_dir(tmp_path, "churn", 1, YESTERDAY.isoformat())
    parts = files(folder)
    # a compactor that died before its merged file appeared
    (folder / ("compacted-x" + COVERS_SUFFIX)).write_text(str(parts).replace("'", '"'))
    assert read_predictions(tmp_path, "churn").num_rows == len(ids)
    compact(tmp_path)
    assert len(files(folder)) == 1 and files(folder)[0].startswith("compacted-")
    assert read_predictions(tmp_path, "churn").num_rows == len(ids)


def test_readers_never_see_duplicates_while_compaction_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_merge = predictions._merge

    def slow_merge(sources: Sequence[Path], target: Path) -> int:
        rows = real_merge(sources, target)
        time.sleep(0.005)  # a slow disk: merged file and replaced parts both visible a while
        return rows

    monkeypatch.setattr(predictions, "_merge", slow_merge)
    expected = set(_many_parts(tmp_path, 12, ts=at(TODAY), rows=3))
    floor = len(expected)
    reads: list[tuple[int, int, set[str]]] = []  # (rows logged before, rows read, ids read)
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            low = floor  # every row logged before this read started must be seen
            got = read_predictions(tmp_path, "churn").column("prediction_id").to_pylist()
            reads.append((low, len(got), set(got)))

    read_predictions(tmp_path, "churn")  # imports, before the race starts
    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for rounds in range(1, 60):
            expected |= set(_many_parts(tmp_path, 4, ts=at(TODAY), rows=3))
            floor = len(expected)
            compact(tmp_path, include_today=True)
            if rounds >= 8 and len(reads) >= 20:
                break
    finally:
        done.set()
        thread.join(30)
    assert len(reads) >= 20
    for low, rows, ids in reads:
        assert rows == len(ids), f"{rows - len(ids)} duplicate row(s)"
        assert ids <= expected and len(ids) >= low
    assert read_predictions(tmp_path, "churn").num_rows == len(expected)


def test_a_partition_that_cannot_be_merged_is_left_alone(tmp_path: Path) -> None:
    two_days_ago = TODAY - dt.timedelta(days=2)
    _many_parts(tmp_path, 2, ts=at(two_days_ago))
    _many_parts(tmp_path, 2, ts=at(YESTERDAY))
    broken = partition_dir(tmp_path, "churn", 1, YESTERDAY.isoformat())
    (broken / "part-zzzz.parquet").write_bytes(b"not parquet at all")
    before = files(broken)
    report = compact(tmp_path)
    assert (report.partitions, report.files_merged, report.failed) == (1, 2, 1)
    assert files(broken) == before  # untouched, no sidecar left behind
    good = partition_dir(tmp_path, "churn", 1, two_days_ago.isoformat())
    assert len(files(good)) == 1


def test_stale_temporary_files_are_cleaned_up(tmp_path: Path) -> None:
    _many_parts(tmp_path, 2, ts=at(YESTERDAY))
    folder = partition_dir(tmp_path, "churn", 1, YESTERDAY.isoformat())
    stale, fresh = folder / ".part-a.parquet.tmp-1", folder / ".part-b.parquet.tmp-2"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    compact(tmp_path)
    assert not stale.exists() and fresh.exists()


# --------------------------------------------------------------------------- retention


def test_retention_deletes_old_day_partitions(tmp_path: Path) -> None:
    days = {n: TODAY - dt.timedelta(days=n) for n in (0, 5, 30, 31, 90)}
    with PredictionLog(tmp_path) as plog:
        for day in days.values():
            log_rows(plog, 2, ts=at(day))
            log_rows(plog, 1, model="fraud", ts=at(day))
    removed = apply_retention(tmp_path, 30, model="churn", today=TODAY)
    assert removed == [f"churn/1/{days[n].isoformat()}" for n in (90, 31)]
    remaining = read_predictions(tmp_path, "churn").column("ts").to_pylist()
    assert {t.date() for t in remaining} == {days[0], days[5], days[30]}
    assert read_predictions(tmp_path, "fraud").num_rows == 5  # another model: untouched
    assert len(apply_retention(tmp_path, 0, today=TODAY)) == 2 + 4
    assert {t.date() for t in read_predictions(tmp_path, "fraud").column("ts").to_pylist()} == {
        TODAY
    }
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".trash")]


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_retention_refuses_bad_days(tmp_path: Path, bad: object) -> None:
    with pytest.raises(InvalidArgument, match="days"):
        apply_retention(tmp_path, bad)  # type: ignore[arg-type]


def _eventually(check: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_latency_column_is_float_even_for_int_latency(tmp_path: Path) -> None:
    with PredictionLog(tmp_path) as plog:
        plog.log("churn", 1, [{"a": 1}], {"prediction": [1]}, new_ids(1), latency_ms=3)
    got = read_predictions(tmp_path, "churn")
    assert got.schema.field("latency_ms").type == pa.float64()
    assert pc.sum(got.column("latency_ms")).as_py() == 3.0


def test_calls_of_one_shape_are_written_as_one_table_like_call_by_call(tmp_path: Path) -> None:
    """The model server queues one call per request; calls whose inputs share a schema are
    laid out column by column at once, and give exactly what one table per call gives."""
    import numpy as np

    batch = pa.table({"x": [1.0, 2.0, 3.0], "prediction": ["a", "b", "c"]})
    calls = []
    for i in range(3):
        proba = np.array([[0.25 * i, 1 - 0.25 * i]])
        outputs = {"prediction": [i], "proba_0": proba[:, 0], "proba_1": proba[:, 1]}
        ts = dt.datetime(2026, 11, 27, 12, i, tzinfo=dt.UTC)
        status = "shadow" if i == 1 else "ok"
        entry = predictions._make_entry(
            "m", 1, batch.slice(i, 1), outputs, new_ids(1), 1.5 * i, status, ts
        )
        calls.append(entry)
    together = predictions.records_table(calls)
    one_by_one = pa.concat_tables([predictions._entry_table(e) for e in calls])
    assert together.equals(one_by_one)
    base = ["prediction_id", "ts", "latency_ms", "status"]
    assert together.column_names == [
        *base,
        "x",
        "input_prediction",
        "prediction",
        "proba_0",
        "proba_1",
    ]
    assert together.column("status").to_pylist() == ["ok", "shadow", "ok"]
    assert together.column("proba_1").to_pylist() == [1.0, 0.75, 0.5]
    mixed = [
        *calls,
        predictions._make_entry(
            "m", 1, [{"y": 1}], {"prediction": [9]}, new_ids(1), 0.0, "ok", None
        ),
    ]
    assert predictions.records_table(mixed).num_rows == 4  # other shapes: unified call by call


def test_an_integer_beyond_float_precision_beside_floats_reads_and_compacts(
    tmp_path: Path,
) -> None:
    """int64 in one file and float64 in another make float64; 2**53 + 1 rounds instead of
    making the whole day unreadable and uncompactable."""
    day = at(dt.date(2026, 1, 1))
    big = 2**53 + 1
    with PredictionLog(tmp_path) as plog:
        plog.log("m", 1, [{"x": big}], {"prediction": [0]}, ["i1"], 1.0, ts=day)
        assert plog.flush(timeout=10)
        plog.log("m", 1, [{"x": 0.5}], {"prediction": [0]}, ["i2"], 1.0, ts=day)
    read = read_predictions(tmp_path, "m").sort_by("prediction_id")
    assert read.column("x").type == pa.float64()
    assert read.column("x").to_pylist() == [float(big), 0.5]
    report = compact(tmp_path, today=dt.date(2026, 1, 2))
    assert report.failed == 0 and report.files_merged == 2
    assert read_predictions(tmp_path, "m").sort_by("prediction_id").equals(read)
