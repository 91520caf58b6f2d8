"""Figure: ``get_historical_features`` (issue 4): Shipyard's join vs the floor, DuckDB and Feast.

Data (seeded NumPy, built once per run and written to Parquet in a temp folder, untimed): 100,000
users x 10 rows at random times over 30 days (1,000,000 feature rows, in event-time order as
they were ingested), 10 float64 features, TTL 7 days; an entity frame of 100,000 rows, random
users and random event times in the same 30 days. The feature rows are also written in the join
layout (``sort_for_join``: by user, then time), as Shipyard writes them at ingest/materialize.
The ingestion-ordered rows are also ingested (untimed) as dataset ``user_features`` into a temp
Shipyard store (``SHIPYARD_HOME=<data>/shipyard-home``) with entity ``user`` (``user_id``) and
view ``user_stats`` (TTL 7 d, the 10 features) applied, for the end-to-end side ``sdk``.

Every sample starts one fresh worker per side, in a rotating order; each reads the Parquet files
(untimed), makes one untimed warm-up call, then times ``REPS`` calls and reports their median,
its first call, and its peak RSS during the timed calls (``VmHWM`` after resetting it through
``/proc/self/clear_refs``; the data already loaded counts, so ``above_mib`` is the join's own).
The laid-out rows come as Parquet reads them (8 chunks per column); ``shipyard`` and ``floor``
also run a second fresh worker per sample (order alternating) on the same rows made contiguous
first (``combine_chunks``, untimed), reported as ``contiguous_s_median``/``contiguous_ratio``.

- ``shipyard``: ``point_in_time_join(entities, "event_timestamp", [ViewFrame(..., sorted=True)])``
  on the laid-out rows. On Parquet's chunks the worker then also times ``sort_for_join`` on the
  ingestion-ordered rows (the write-time cost, ``sort_s``) and the join on them with
  ``sorted=False`` (sorting inside, ``unsorted_join_s``).
- ``floor``: the fastest exact join written by hand for this data, on the same laid-out rows and
  with the same output (entity columns + 10 Arrow feature columns, nulls where nothing
  qualifies). Two variants, each timed ``REPS`` times: ``offsets`` (the benchmark's user ids are
  0..N-1, so each user's rows start at a cumsum of counts; a vectorised bisection per entity row)
  and ``composite`` (user and time packed into one int64, entity queries sorted, one
  ``np.searchsorted``). The floor is the faster median. ``sort_s``: a hand-written sort
  (``np.argsort`` of the packed key + ``take``) of the ingestion-ordered rows.
- ``duckdb``: a plain ASOF LEFT JOIN in DuckDB over the Arrow tables, the TTL as a CASE on each
  feature, ordered back into entity order, fetched as Arrow.
- ``sdk``: the end-to-end SDK call ``shipyard.get_historical_features(entity_df, refs)`` on the
  temp store, with the same pandas entity frame Feast gets (``user_id``, ``event_timestamp``,
  ``rid``); it returns an Arrow table (``to_pandas_s``: converting it, timed apart). The
  worker opens the SDK's store untimed (``open_shipyard``, as Feast's store is built and
  applied untimed) and first deletes the store's laid-out cache, so its first call is
  **cold** (reads the dataset version, sorts it, writes the cache, joins: ``first_s``, with its
  own peak RSS ``first_memory``), and the ``REPS`` timed calls are **warm** (read the cached
  layout, join).
- ``feast``: Feast's ``get_historical_features(entity_df, refs).to_df()`` with the file offline
  store (Dask) on ``raw.parquet``, SQLite online store, local provider; ``feast_duckdb``: the
  same with Feast's DuckDB offline store (ibis). Both in Feast's venv (``peers.py``,
  ``peer_feast.py``), timed like ``sdk`` (cold first call, then ``REPS`` warm ones). Their
  result is put back into entity order by ``rid`` (untimed); entity rows Feast did not return
  count as nulls in the digest and are reported as ``dropped_rows``.

Every worker reports a SHA-256 of its 10 feature columns in entity order (nulls as NaN) and
how many rows matched; the figure fails if a Shipyard side (in either layout) or DuckDB
disagrees with the floor; a Feast side that disagrees is reported (``results_agree``), not
failed on. Feast's file store drops entity rows with nothing in range, so its digest equals the
floor's exactly when it dropped only those rows and got every other value right.

Peak RSS everywhere is the measuring process's ``VmHWM`` over the measured calls (after a reset),
so it includes the interpreter, the imports and the inputs held (``rss_peak_mib``); ``above_mib``
is the part above the RSS just before.

Targets (issue 4): ``historical_features``: the engine within 1.5x of the floor (in both
layouts). ``historical_features_vs_feast``: the SDK call >= 5x faster than Feast's file store
and >= 3x faster than its DuckDB store, with peak RSS under half of Feast's file store (the
issue's "about 650 MB"; the share against its DuckDB store is recorded too), each judged warm
and cold. ``--sides`` takes ``shipyard,sdk,floor,duckdb,feast,feast_duckdb`` (default: all;
``mlflow``, which ``run_all.py`` passes, means all of them).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
SIDES = ("shipyard", "sdk", "floor", "duckdb", "feast", "feast_duckdb")
DEFAULT_SIDES = SIDES
FEAST_SIDES = {"feast": "file", "feast_duckdb": "duckdb"}  # side -> Feast offline store type
CONTIGUOUS_SIDES = ("shipyard", "floor")  # also measured on contiguous arrays (see docstring)
USERS, PER_USER, ENTITY_ROWS = 100_000, 10, 100_000
QUICK_USERS, QUICK_ENTITY_ROWS = 10_000, 10_000
FEATURES = tuple(f"f{i}" for i in range(10))
DAYS, TTL_DAYS = 30, 7
SEED = 0
REPS = 9
TARGET_FLOOR_RATIO = 1.5
TARGET_VS_FEAST = {"feast": 5.0, "feast_duckdb": 3.0}  # the SDK call at least this much faster
TARGET_RSS_SHARE = 0.5  # the SDK call's peak RSS under this share of Feast's
RSS_TARGET_PEER = "feast"  # "about 650 MB peak" in the issue: the file offline store
STORE_DIR = "shipyard-home"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY_US = 86_400_000_000


# -- data ------------------------------------------------------------------------------------------


def _tables(users: int, entity_rows: int) -> tuple[Any, Any]:
    """(feature rows in ingestion order, entity rows), from the seeded generator."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(SEED)
    start_us = int(START.timestamp()) * 1_000_000
    rows = users * PER_USER
    ts = start_us + rng.integers(0, DAYS * DAY_US, rows)
    columns: dict[str, Any] = {
        "user_id": np.repeat(np.arange(users, dtype=np.int64), PER_USER),
        "event_timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
    }
    for name in FEATURES:
        columns[name] = rng.random(rows)
    ingested = pa.table(columns).take(pa.array(np.argsort(ts, kind="stable")))
    entities = pa.table(
        {
            "user_id": rng.integers(0, users, entity_rows),
            "event_timestamp": pa.array(
                start_us + rng.integers(0, DAYS * DAY_US, entity_rows),
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    return ingested, entities


def prepare_worker(args: h.Json) -> h.Json:
    """Write raw.parquet (ingestion order), laid_out.parquet (sort_for_join), entities.parquet,
    and the temp Shipyard store with the raw rows ingested and the view applied."""
    import pyarrow.parquet as pq

    folder = Path(args["folder"])
    os.environ["SHIPYARD_HOME"] = str(folder / STORE_DIR)  # before shipyard reads settings
    from shipyard.features.offline import sort_for_join

    raw, entities = _tables(args["users"], args["entity_rows"])
    pq.write_table(raw, folder / "raw.parquet")
    pq.write_table(sort_for_join(raw, ["user_id"], "event_timestamp"), folder / "laid_out.parquet")
    pq.write_table(entities, folder / "entities.parquet")
    t0 = time.perf_counter()
    shipyard_store(folder / STORE_DIR, raw, key="user_id", timestamp="event_timestamp",
                   features=FEATURES, ttl_days=TTL_DAYS)  # fmt: skip
    return {
        "feature_rows": raw.num_rows,
        "entity_rows": entities.num_rows,
        "mib": _mib(raw),
        "shipyard_ingest_and_apply_s": round(time.perf_counter() - t0, 2),
    }


def shipyard_store(
    home: Path,
    table: Any,
    *,
    key: str,
    timestamp: str,
    features: tuple[str, ...],
    ttl_days: int,
    dataset: str = "user_features",
    entity: str = "user",
    view: str = "user_stats",
) -> None:
    """Make a Shipyard store under ``home``: ``table`` ingested as ``dataset`` and a YAML file
    with ``entity`` (join key ``key``) and ``view`` (float64 ``features``) applied.

    Sets ``SHIPYARD_HOME`` first, so call it before anything in this process used Shipyard.
    """
    home.mkdir(parents=True, exist_ok=True)
    os.environ["SHIPYARD_HOME"] = str(home)
    import shipyard

    shipyard.ingest_dataset(table, name=dataset)
    columns = ", ".join(f"{f}: float64" for f in features)
    definitions = home / "features.yaml"
    definitions.write_text(
        f"entities:\n  {entity}: {{join_keys: [{key}]}}\n"
        f"views:\n  {view}:\n    entities: [{entity}]\n    source: {dataset}\n"
        f"    timestamp: {timestamp}\n    ttl: {ttl_days}d\n    features: {{{columns}}}\n"
    )
    shipyard.apply_features(definitions)


def _read(folder: str, name: str) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(Path(folder) / f"{name}.parquet")


def _mib(table: Any) -> float:
    return round(float(table.nbytes) / 2**20, 1)


# -- measuring -------------------------------------------------------------------------------------


def _reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM); False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measured(run: Callable[[], Any]) -> tuple[float, Any, h.Json]:
    """One call of ``run``: (seconds, its result, the process's peak RSS during it in MiB).

    The peak is ``VmHWM`` after a reset (RSS before and after where that is not allowed), so
    whatever the process already holds (interpreter, imports, inputs) is included.
    """
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    before = _status_kib("VmRSS")
    exact = _reset_peak()
    t0 = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - t0
    peak = _status_kib("VmHWM") if exact else max(before, _status_kib("VmRSS"))
    memory = {
        "rss_before_mib": round(before / 1024, 1),
        "rss_peak_mib": round(peak / 1024, 1),
        "above_mib": round((peak - before) / 1024, 1),
        "peak_exact": exact,
    }
    return seconds, result, memory


def cold_and_warm(
    run: Callable[[], Any], reps: int
) -> tuple[float, h.Json, list[float], Any, h.Json]:
    """The first call of ``run`` on its own (cold: seconds and peak RSS), then ``reps`` warm
    calls: (first_s, first_memory, warm seconds, the last result, warm memory)."""
    first, _, first_memory = measured(run)
    times, out, memory = timed(run, reps)
    return first, first_memory, times, out, memory


def timed(run: Callable[[], Any], reps: int) -> tuple[list[float], Any, h.Json]:
    """Call ``run`` ``reps`` times: (seconds of each, the last result, memory fields in MiB)."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    before = _status_kib("VmRSS")
    exact = _reset_peak()
    times, result = [], None
    for _ in range(reps):
        result = None
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    peak = _status_kib("VmHWM") if exact else max(before, _status_kib("VmRSS"))
    memory = {
        "rss_before_mib": round(before / 1024, 1),
        "rss_peak_mib": round(peak / 1024, 1),
        "above_mib": round((peak - before) / 1024, 1),
        "peak_exact": exact,
    }
    return times, result, memory


def digest(table: Any) -> h.Json:
    """SHA-256 of the feature columns in row order (nulls as NaN) and the matched row count."""
    import numpy as np
    import pyarrow.compute as pc

    sha = hashlib.sha256()
    for name in FEATURES:
        column = pc.fill_null(table.column(name), float("nan"))
        sha.update(np.ascontiguousarray(column.to_numpy()).tobytes())
    return {"sha256": sha.hexdigest(), "matched": table.num_rows - table.column("f0").null_count}


def _versions(*dists: str) -> dict[str, str | None]:
    import importlib.metadata as md

    found: dict[str, str | None] = {}
    for dist in dists:
        try:
            found[dist] = md.version(dist)
        except md.PackageNotFoundError:
            found[dist] = None
    return found


def _result(times: list[float], first: float, memory: h.Json, out: Any, **extra: Any) -> h.Json:
    if out.num_rows != extra.pop("entity_rows"):
        h.fail(f"the join returned {out.num_rows} rows, not one per entity row")
    return {
        "value": statistics.median(times),
        "first_s": first,
        "reps": times,
        **memory,
        **digest(out),
        "ru_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **extra,
    }


def _warm_and_time(run: Callable[[], Any], reps: int) -> tuple[float, list[float], Any, h.Json]:
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    times, out, memory = timed(run, reps)
    return first, times, out, memory


# -- sides -----------------------------------------------------------------------------------------


def _laid_out(args: h.Json) -> Any:
    """The laid-out feature rows as read from Parquet (chunked), or contiguous when asked."""
    table = _read(args["folder"], "laid_out")
    return table.combine_chunks() if args.get("contiguous") else table


def shipyard_worker(args: h.Json) -> h.Json:
    """Shipyard: point_in_time_join on the laid-out rows; on Parquet's chunks, then also
    sort_for_join and the join on unsorted rows."""
    from shipyard.features.offline import ViewFrame, point_in_time_join, sort_for_join

    laid_out, entities = _laid_out(args), _read(args["folder"], "entities")
    ttl = dt.timedelta(days=TTL_DAYS)

    def view(table: Any, presorted: bool) -> Any:
        return ViewFrame("user_stats", ("user_id",), "event_timestamp", FEATURES, ttl, table,
                         sorted=presorted)  # fmt: skip

    ready = view(laid_out, True)
    first, times, out, memory = _warm_and_time(
        lambda: point_in_time_join(entities, "event_timestamp", [ready]), args["reps"]
    )
    extra: h.Json = {"versions": _versions("shipyard", "numpy", "pyarrow")}
    if not args.get("contiguous"):
        del laid_out, ready
        raw = _read(args["folder"], "raw")
        sort_times, _, sort_memory = timed(
            lambda: sort_for_join(raw, ["user_id"], "event_timestamp"), 3
        )
        unsorted = view(raw, False)
        unsorted_times, again, _ = timed(
            lambda: point_in_time_join(entities, "event_timestamp", [unsorted]), 3
        )
        if digest(again) != digest(out):
            h.fail("the join on unsorted rows differs from the join on laid-out rows")
        extra.update(
            sort_s=statistics.median(sort_times),
            sort_above_mib=sort_memory["above_mib"],
            unsorted_join_s=statistics.median(unsorted_times),
        )
    return _result(times, first, memory, out, entity_rows=entities.num_rows, **extra)


def floor_join_offsets(laid_out: Any, entities: Any, ttl_us: int) -> Any:
    """Hand-written floor, variant 1: user ids are 0..N-1, so run starts are a cumsum of
    counts; then a vectorised bisection per entity row within its user's rows."""
    import numpy as np
    import pyarrow as pa

    user = laid_out.column("user_id").to_numpy()
    ts = laid_out.column("event_timestamp").cast(pa.int64()).to_numpy()
    want_user = entities.column("user_id").to_numpy()
    want_ts = entities.column("event_timestamp").cast(pa.int64()).to_numpy()
    counts = np.bincount(user, minlength=int(want_user.max(initial=0)) + 1)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    lo, hi = offsets[want_user], offsets[want_user + 1]
    pos = lo - 1
    step = 1 << max(int(counts.max(initial=1)).bit_length() - 1, 0)
    while step:
        probe = pos + step
        ok = probe < hi
        ok &= ts[np.minimum(probe, len(ts) - 1)] <= want_ts
        np.copyto(pos, probe, where=ok)
        step >>= 1
    found = (pos >= lo) & (ts[np.maximum(pos, 0)] >= want_ts - ttl_us)
    return _floor_output(laid_out, entities, pos, ~found)


def floor_join_composite(laid_out: Any, entities: Any, ttl_us: int) -> Any:
    """Hand-written floor, variant 2: (user, time) packed into one int64 (users < 2^21, times
    within 2^42 µs of the first; checked), entity queries sorted, one searchsorted."""
    import numpy as np
    import pyarrow as pa

    user = laid_out.column("user_id").to_numpy()
    ts = laid_out.column("event_timestamp").cast(pa.int64()).to_numpy()
    want_user = entities.column("user_id").to_numpy()
    want_ts = entities.column("event_timestamp").cast(pa.int64()).to_numpy()
    base = min(int(ts.min()), int(want_ts.min()))
    span = max(int(ts.max()), int(want_ts.max())) - base
    if span >= 2**42 or int(user[-1]) >= 2**21 or int(want_user.max()) >= 2**21:
        h.fail("the packed floor needs users < 2^21 and times within 2^42 µs")
    packed = (user << 42) | (ts - base)
    query = (want_user << 42) | (want_ts - base)
    order = np.argsort(query)
    pos = np.empty(len(query), dtype=np.int64)
    pos[order] = np.searchsorted(packed, query[order], side="right") - 1
    at = np.maximum(pos, 0)
    found = (pos >= 0) & (user[at] == want_user) & (ts[at] >= want_ts - ttl_us)
    return _floor_output(laid_out, entities, pos, ~found)


def _floor_output(laid_out: Any, entities: Any, pos: Any, missing: Any) -> Any:
    """Entity columns + the feature columns at ``pos``, null where ``missing``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    taken = laid_out.select(list(FEATURES)).take(pa.array(np.where(missing, 0, pos)))
    blank = pa.array(missing)
    out = entities
    for name, column in zip(FEATURES, taken.columns, strict=True):
        out = out.append_column(name, pc.if_else(blank, pa.scalar(None, column.type), column))
    return out


def floor_worker(args: h.Json) -> h.Json:
    """The floor: both hand-written variants timed; the faster median is the floor. On
    Parquet's chunks, a hand-written sort of the ingestion-ordered rows is timed too."""
    import numpy as np
    import pyarrow as pa

    laid_out, entities = _laid_out(args), _read(args["folder"], "entities")
    ttl_us = TTL_DAYS * DAY_US
    variants: dict[str, Callable[[Any, Any, int], Any]] = {
        "offsets": floor_join_offsets,
        "composite": floor_join_composite,
    }
    runs: dict[str, h.Json] = {}
    for name, join in variants.items():
        first, times, out, memory = _warm_and_time(
            functools.partial(join, laid_out, entities, ttl_us), args["reps"]
        )
        runs[name] = _result(times, first, memory, out, entity_rows=entities.num_rows)
    if len({r["sha256"] for r in runs.values()}) != 1:
        h.fail("the floor variants disagree")
    best = min(runs, key=lambda n: runs[n]["value"])
    result: h.Json = {
        **runs[best],
        "variant": best,
        "variants": {n: {k: r[k] for k in ("value", "first_s", "reps")} for n, r in runs.items()},
        "versions": _versions("numpy", "pyarrow"),
    }
    if not args.get("contiguous"):
        del laid_out
        raw = _read(args["folder"], "raw")

        def hand_sort() -> Any:
            user = raw.column("user_id").to_numpy()
            ts = raw.column("event_timestamp").cast(pa.int64()).to_numpy()
            packed = (user << 42) | (ts - ts.min())
            return raw.take(pa.array(np.argsort(packed, kind="stable")))

        sort_times, _, _ = timed(hand_sort, 3)
        result["sort_s"] = statistics.median(sort_times)
    return result


DUCKDB_ASOF = """
SELECT e.user_id, e.event_timestamp,
  {features}
FROM e ASOF LEFT JOIN f
  ON e.user_id = f.user_id AND e.event_timestamp >= f.event_timestamp
ORDER BY e.rid
"""


def duckdb_worker(args: h.Json) -> h.Json:
    """DuckDB: a plain ASOF LEFT JOIN, TTL as a CASE per feature, back in entity order."""
    import duckdb
    import pyarrow as pa

    laid_out, entities = _read(args["folder"], "laid_out"), _read(args["folder"], "entities")
    numbered = entities.append_column("rid", pa.array(range(entities.num_rows), pa.int64()))
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.execute("SET TimeZone = 'UTC'")
    con.register("f", laid_out)
    con.register("e", numbered)
    fresh = f"f.event_timestamp >= e.event_timestamp - INTERVAL {TTL_DAYS} DAY"
    query = DUCKDB_ASOF.format(
        features=",\n  ".join(f"CASE WHEN {fresh} THEN f.{n} END AS {n}" for n in FEATURES)
    )
    first, times, out, memory = _warm_and_time(
        lambda: con.execute(query).to_arrow_table(), args["reps"]
    )
    return _result(
        times, first, memory, out,
        entity_rows=entities.num_rows,
        query=query.strip(),
        versions=_versions("duckdb", "pyarrow"),
    )  # fmt: skip


def entity_frame(folder: str) -> Any:
    """The entity rows as the pandas frame both SDK sides get: user_id, event_timestamp (UTC)
    and ``rid``, the row number (Feast's result comes back in another order, and short)."""
    frame = _read(folder, "entities").to_pandas()
    frame["rid"] = range(len(frame))
    return frame


def open_shipyard() -> Any:
    """``import shipyard`` with the SDK's store opened (services connected, the feature
    catalog read once), untimed: the counterpart of Feast's ``FeatureStore(repo)`` + ``apply``
    before its timed call, so neither side times imports or connecting. pandas is imported
    here too: pyarrow imports it on its first ``pa.array`` of Python or NumPy values (0.4 s),
    and Feast's side has it imported by ``import feast``."""
    import pandas  # noqa: F401

    import shipyard

    shipyard.list_feature_definitions()
    return shipyard


def sdk_worker(args: h.Json) -> h.Json:
    """Shipyard end to end: ``shipyard.get_historical_features`` on the temp store; the first
    call cold (the laid-out cache deleted first), then ``REPS`` warm calls."""
    home = Path(args["folder"]) / STORE_DIR
    shutil.rmtree(home / "features" / "offline", ignore_errors=True)
    os.environ["SHIPYARD_HOME"] = str(home)
    get_historical_features = open_shipyard().get_historical_features
    frame = entity_frame(args["folder"])
    refs = [f"user_stats:{f}" for f in FEATURES]
    first, first_memory, times, out, memory = cold_and_warm(
        lambda: get_historical_features(frame, refs), args["reps"]
    )
    to_pandas, _, _ = timed(out.to_pandas, 3)
    return _result(
        times, first, memory, out,
        entity_rows=len(frame),
        first_memory=first_memory,
        returned_rows=out.num_rows,
        dropped_rows=len(frame) - out.num_rows,
        to_pandas_s=statistics.median(to_pandas),
        entity_input="pandas DataFrame (user_id, event_timestamp, rid)",
        output="pyarrow Table",
        versions=_versions("shipyard", "numpy", "pyarrow", "pandas"),
    )  # fmt: skip


def feast_worker(args: h.Json) -> h.Json:
    """Feast (in its venv): see ``peer_feast.historical``."""
    import peer_feast

    return peer_feast.historical(args)


WORKERS: dict[str, h.Worker] = {
    "prepare": prepare_worker,
    "shipyard": shipyard_worker,
    "sdk": sdk_worker,
    "floor": floor_worker,
    "duckdb": duckdb_worker,
    "feast": feast_worker,
}


# -- the figure ------------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num and den else None


def _side(series: h.Series, side: str, opts: h.Options) -> h.Json:
    runs = series.details.get(side, [])
    entry: h.Json = {
        "median": _median(series.samples.get(side, [])),
        "samples": series.samples.get(side, []),
        "rss_above_mib_median": _median([float(r["above_mib"]) for r in runs]),
        "rss_peak_mib_median": _median([float(r["rss_peak_mib"]) for r in runs]),
        "complete": side not in series.errors and len(runs) >= opts.samples,
        "runs": runs,
    }
    for extra in ("sort_s", "unsorted_join_s", "first_s", "to_pandas_s", "dropped_rows"):
        if runs and extra in runs[0]:
            entry[f"{extra}_median"] = _median([float(r[extra]) for r in runs])
    if runs and "first_memory" in runs[0]:
        entry["first_rss_peak_mib_median"] = _median(
            [float(r["first_memory"]["rss_peak_mib"]) for r in runs]
        )
    if runs and "contiguous_run" in runs[0]:
        entry["contiguous_s_median"] = _median([float(r["contiguous_run"]["value"]) for r in runs])
    if side in series.errors:
        entry["error"] = series.errors[side]
    return entry


def _agreement(series: h.Series) -> h.Json:
    """Each side's result digests against the floor's (or Shipyard's when no floor ran).

    ``agree`` covers Shipyard's sides and DuckDB; a Feast side that differs is listed under
    ``peer_differs`` (a finding about Feast, not a failure of the figure).
    """
    reference = next((s for s in ("floor", "shipyard", "sdk") if series.details.get(s)), None)
    if reference is None:
        return {"reference": None, "agree": None}
    want = series.details[reference][0]["sha256"]
    found = {
        side: {r["sha256"] for r in runs}
        | {r["contiguous_run"]["sha256"] for r in runs if "contiguous_run" in r}
        for side, runs in series.details.items()
    }
    differs = {side: sorted(got - {want}) for side, got in found.items() if got - {want}}
    ours = {side: d for side, d in differs.items() if side not in FEAST_SIDES}
    return {
        "reference": reference,
        "sha256": want,
        "matched": series.details[reference][0]["matched"],
        "agree": not ours,
        "differs": ours,
        "peer_differs": {side: d for side, d in differs.items() if side in FEAST_SIDES},
    }


def _cases(series: h.Series, opts: h.Options, data: h.Json) -> h.Json:
    sides = {side: _side(series, side, opts) for side in opts.sides}
    ship = sides.get("shipyard", {}).get("median")
    floor = sides.get("floor", {}).get("median")
    ratio = _ratio(ship, floor)
    agreement = _agreement(series)
    contiguous = _ratio(
        sides.get("shipyard", {}).get("contiguous_s_median"),
        sides.get("floor", {}).get("contiguous_s_median"),
    )
    case: h.Json = {
        "unit": "s",
        "better": "lower",
        **sides,
        "ratio": ratio,
        "ratio_meaning": "shipyard / floor (times slower than the hand-written join)",
        "contiguous_ratio": contiguous,
        "contiguous_ratio_meaning": "the same with both sides given contiguous arrays "
        "(combine_chunks, untimed) instead of Parquet's chunks",
        "vs": {side: _ratio(sides[side]["median"], ship) for side in sides if side != "shipyard"},
        "vs_meaning": "side / shipyard (times faster than that side)",
        "target": {
            "text": f"shipyard within {TARGET_FLOOR_RATIO:g}x of the floor, on Parquet's chunks "
            "and on contiguous arrays",
            "met": None
            if ratio is None
            else all(r <= TARGET_FLOOR_RATIO for r in (ratio, contiguous) if r is not None),
        },
        "peer": "floor",
        "results_agree": agreement,
        "complete": all(s["complete"] for s in sides.values()) and agreement["agree"] is not False,
        "data": data,
    }
    cases = {"historical_features": case}
    versus = _vs_feast(sides, agreement)
    if versus is not None:
        cases["historical_features_vs_feast"] = versus
    return cases


def _all_pass(
    values: list[float | None], *, at_least: float = float("-inf"), below: float = float("inf")
) -> bool | None:
    """None when a value is missing, else whether every value is ``>= at_least`` and
    ``< below``."""
    known = [v for v in values if v is not None]
    return None if len(known) < len(values) else all(at_least <= v < below for v in known)


def _vs_feast(sides: dict[str, h.Json], agreement: h.Json) -> h.Json | None:
    """The SDK call against Feast: speed-ups and RSS shares, warm and cold, and the targets.

    Warm: the SDK's warm median against Feast's warm median. Cold: the SDK's first call (it
    reads and sorts the dataset version) against Feast's *warm* median, so Feast's own
    first-call costs never help Shipyard. RSS: the SDK's peak (warm calls; first call) over
    Feast's peak during its warm calls.
    """
    sdk = sides.get("sdk")
    peers_run = [p for p in FEAST_SIDES if p in sides]
    if sdk is None or not peers_run:
        return None
    warm, cold = sdk.get("median"), sdk.get("first_s_median")
    rss_warm, rss_cold = sdk.get("rss_peak_mib_median"), sdk.get("first_rss_peak_mib_median")
    against: h.Json = {}
    verdicts: list[bool] = []
    for peer in peers_run:
        theirs, their_rss = sides[peer].get("median"), sides[peer].get("rss_peak_mib_median")
        need = TARGET_VS_FEAST[peer]
        speeds = [_ratio(theirs, warm), _ratio(theirs, cold)]
        shares = [_ratio(rss_warm, their_rss), _ratio(rss_cold, their_rss)]
        speed_met = _all_pass(speeds, at_least=need)
        # the memory target ("about 650 MB") is the file store's; others are recorded
        rss_met = _all_pass(shares, below=TARGET_RSS_SHARE)
        rss_target = f"< {TARGET_RSS_SHARE:g} of Feast's"
        if peer != RSS_TARGET_PEER:
            rss_met, rss_target = None, f"(none; the RSS target is against {RSS_TARGET_PEER})"
        entry: h.Json = {
            "faster_warm": speeds[0],
            "faster_cold": speeds[1],
            "rss_share_warm": shares[0],
            "rss_share_cold": shares[1],
            "dropped_rows_median": sides[peer].get("dropped_rows_median"),
            "speed_target": f">= {need:g}x",
            "speed_met": speed_met,
            "rss_target": rss_target,
            "rss_met": rss_met,
        }
        verdicts += [v for v in (speed_met, rss_met) if v is not None]
        against[peer] = entry
    complete = sdk["complete"] and all(sides[p]["complete"] for p in peers_run)
    return {
        "unit": "s",
        "better": "lower",
        "shipyard": sdk,
        **{p: sides[p] for p in peers_run},
        "peer": peers_run[0],
        "ratio": against[peers_run[0]]["faster_warm"],
        "ratio_meaning": f"{peers_run[0]} / sdk warm (times faster than Feast)",
        "against": against,
        "target": {
            "text": "SDK >= 5x Feast file store, >= 3x Feast DuckDB store, peak RSS < half "
            "of Feast's file store (warm and cold)",
            "met": None if not verdicts else all(verdicts),
        },
        "complete": complete and agreement.get("agree") is not False,
    }


def measure(opts: h.Options) -> h.Json:
    users = QUICK_USERS if opts.quick else USERS
    entity_rows = QUICK_ENTITY_ROWS if opts.quick else ENTITY_ROWS
    with h.fresh_dir("historical-data") as folder:
        args: h.Json = {"users": users, "entity_rows": entity_rows, "folder": str(folder)}
        h.log(f"writing {users * PER_USER:,} feature rows and {entity_rows:,} entity rows")
        shape = h.run_worker(SCRIPT, "shipyard", "prepare", args, cwd=folder)

        def worker(side: str, contiguous: bool) -> h.Json:
            python, task = ("feast", "feast") if side in FEAST_SIDES else ("shipyard", side)
            work = {**args, "reps": REPS, "contiguous": contiguous}
            if side in FEAST_SIDES:
                work["offline"] = FEAST_SIDES[side]
            with h.fresh_dir("historical") as tmp:
                return h.run_worker(SCRIPT, python, task, work, cwd=tmp)

        def one(side: str, i: int) -> h.Json:
            if side not in CONTIGUOUS_SIDES:
                return worker(side, False)
            modes = (False, True) if i % 2 == 0 else (True, False)
            done = {mode: worker(side, mode) for mode in modes}
            h.log(f"historical_features {side} #{i + 1} contiguous: {done[True]['value']:.6g}")
            return {**done[False], "contiguous_run": done[True]}

        series = h.alternate(opts, one, label="historical_features", rotate=True)
    data = {
        **shape,
        "users": users,
        "rows_per_user": PER_USER,
        "features": len(FEATURES),
        "days": DAYS,
        "ttl_days": TTL_DAYS,
        "seed": SEED,
        "reps_per_worker": REPS,
        "order": [list(h.rotated(opts.sides, i)) for i in range(opts.samples)],
    }
    return _cases(series, opts, data)


def _default_sides(argv: list[str]) -> None:
    """No ``--sides``: the default sides; ``mlflow`` (from ``run_all.py``) means those too."""
    if "--sides" not in argv:
        argv += ["--sides", ",".join(DEFAULT_SIDES)]
        return
    at = argv.index("--sides") + 1
    if at < len(argv):
        named = [s for s in argv[at].split(",") if s]
        wanted = [p for s in named for p in (DEFAULT_SIDES if s == "mlflow" else (s,))]
        argv[at] = ",".join(dict.fromkeys(wanted))


def main() -> None:
    """A worker with ``--worker TASK ARGS``; else the figure, as JSON on stdout (exit 1 if the
    figure is incomplete or a target is missed)."""
    if sys.argv[1:2] != ["--worker"]:
        _default_sides(sys.argv)
    description = (
        f"point-in-time join: {USERS * PER_USER:,} feature rows x {len(FEATURES)} features, "
        f"{ENTITY_ROWS:,} entity rows, TTL {TTL_DAYS} d (s)"
    )
    h.main(
        figure="historical_features",
        description=description,
        measure=measure,
        workers=WORKERS,
        sides=SIDES,
    )


if __name__ == "__main__":
    main()
