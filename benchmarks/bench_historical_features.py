"""Figure: the point-in-time join behind ``get_historical_features`` (issue 4) vs the floor.

Data (seeded NumPy, built once per run and written to Parquet in a temp folder, untimed): 100,000
users x 10 rows at random times over 30 days (1,000,000 feature rows, in event-time order as
they were ingested), 10 float64 features, TTL 7 days; an entity frame of 100,000 rows, random
users and random event times in the same 30 days. The feature rows are also written in the join
layout (``sort_for_join``: by user, then time), as Shipyard writes them at ingest/materialize.

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
- ``feast``: the hook for Feast's ``get_historical_features`` (to be written: ``feast_worker``;
  its venv comes from ``peers.py``). Not in the default sides.

Every worker reports a SHA-256 of its 10 feature columns in entity order (nulls as NaN) and
how many rows matched; the figure fails if any side (in either layout) disagrees with the floor.

Target (issue 4): Shipyard within 1.5x of the floor (here: in both layouts), and far faster than
DuckDB and Feast. ``--sides`` takes ``shipyard,floor,duckdb,feast`` (default: the first three;
``mlflow``, which ``run_all.py`` passes, means the default three).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h
import peers

SCRIPT = Path(__file__).resolve()
SIDES = ("shipyard", "floor", "duckdb", "feast")
DEFAULT_SIDES = ("shipyard", "floor", "duckdb")
CONTIGUOUS_SIDES = ("shipyard", "floor")  # also measured on contiguous arrays (see docstring)
USERS, PER_USER, ENTITY_ROWS = 100_000, 10, 100_000
QUICK_USERS, QUICK_ENTITY_ROWS = 10_000, 10_000
FEATURES = tuple(f"f{i}" for i in range(10))
DAYS, TTL_DAYS = 30, 7
SEED = 0
REPS = 9
TARGET_FLOOR_RATIO = 1.5
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
    """Write raw.parquet (ingestion order), laid_out.parquet (sort_for_join), entities.parquet."""
    import pyarrow.parquet as pq

    from shipyard.features.offline import sort_for_join

    raw, entities = _tables(args["users"], args["entity_rows"])
    folder = Path(args["folder"])
    pq.write_table(raw, folder / "raw.parquet")
    pq.write_table(sort_for_join(raw, ["user_id"], "event_timestamp"), folder / "laid_out.parquet")
    pq.write_table(entities, folder / "entities.parquet")
    return {"feature_rows": raw.num_rows, "entity_rows": entities.num_rows, "mib": _mib(raw)}


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


def feast_worker(args: h.Json) -> h.Json:
    """Feast's ``get_historical_features`` on the same Parquet files: not written yet.

    To add it: put Feast in ``peers.py`` (its own venv), build a FeatureStore over
    ``args["folder"]/raw.parquet`` (entity ``user_id``, TTL ``TTL_DAYS``, features ``FEATURES``)
    in a temp repo, warm up once, then return ``_result(...)`` from ``_warm_and_time`` like the
    other sides, with ``digest`` of the retrieved table in entity order.
    """
    h.fail("the Feast side of this figure is not written yet (see feast_worker)")
    return {}


WORKERS: dict[str, h.Worker] = {
    "prepare": prepare_worker,
    "shipyard": shipyard_worker,
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
    for extra in ("sort_s", "unsorted_join_s", "first_s"):
        if runs and extra in runs[0]:
            entry[f"{extra}_median"] = _median([float(r[extra]) for r in runs])
    if runs and "contiguous_run" in runs[0]:
        entry["contiguous_s_median"] = _median([float(r["contiguous_run"]["value"]) for r in runs])
    if side in series.errors:
        entry["error"] = series.errors[side]
    return entry


def _agreement(series: h.Series) -> h.Json:
    """Each side's result digests against the floor's (or Shipyard's when no floor ran)."""
    reference = next((s for s in ("floor", "shipyard") if series.details.get(s)), None)
    if reference is None:
        return {"reference": None, "agree": None}
    want = series.details[reference][0]["sha256"]
    found = {
        side: {r["sha256"] for r in runs}
        | {r["contiguous_run"]["sha256"] for r in runs if "contiguous_run" in r}
        for side, runs in series.details.items()
    }
    differs = {side: sorted(got - {want}) for side, got in found.items() if got - {want}}
    return {"reference": reference, "sha256": want, "agree": not differs, "differs": differs}


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
        "results_agree": agreement,
        "complete": all(s["complete"] for s in sides.values()) and agreement["agree"] is not False,
        "data": data,
    }
    return {"historical_features": case}


def measure(opts: h.Options) -> h.Json:
    users = QUICK_USERS if opts.quick else USERS
    entity_rows = QUICK_ENTITY_ROWS if opts.quick else ENTITY_ROWS
    with h.fresh_dir("historical-data") as folder:
        args: h.Json = {"users": users, "entity_rows": entity_rows, "folder": str(folder)}
        h.log(f"writing {users * PER_USER:,} feature rows and {entity_rows:,} entity rows")
        shape = h.run_worker(SCRIPT, "shipyard", "prepare", args, cwd=folder)

        def worker(side: str, contiguous: bool) -> h.Json:
            python = "feast" if side == "feast" else "shipyard"
            if side == "feast" and "feast" not in peers.known_peers():
                raise h.WorkerFailed(
                    "Feast is not in peers.py yet: add its Peer there and write feast_worker"
                )
            work = {**args, "reps": REPS, "contiguous": contiguous}
            with h.fresh_dir("historical") as tmp:
                return h.run_worker(SCRIPT, python, side, work, cwd=tmp)

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
    """No ``--sides``: the default three; ``mlflow`` (from ``run_all.py``) means those too."""
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
    figure is incomplete, the sides disagree or the target is missed)."""
    import json

    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        result = WORKERS[sys.argv[2]](json.loads(sys.argv[3]))
        print(h.RESULT_MARK + json.dumps(result), flush=True)
        return
    _default_sides(sys.argv)
    description = (
        f"point-in-time join: {USERS * PER_USER:,} feature rows x {len(FEATURES)} features, "
        f"{ENTITY_ROWS:,} entity rows, TTL {TTL_DAYS} d (s)"
    )
    opts = h.parse_options(description, sides=SIDES)
    started = dt.datetime.now(dt.UTC)
    cases = measure(opts)
    ok = all(h.case_ok(c) for c in cases.values())
    report = {
        "figure": "historical_features",
        "description": description,
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "samples_per_side": opts.samples,
        "sides": list(opts.sides),
        "quick": opts.quick,
        "cases": cases,
        "ok": ok,
        "environment": h.environment(["shipyard"]),
    }
    print(json.dumps(report, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
