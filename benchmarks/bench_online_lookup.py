"""Figure: online feature lookups (issue 4), milliseconds per lookup of 1 and of 100 entities.

Each sample writes 100,000 entities (int64 ``entity_id``, an event time in one day from
2026-01-01, 10 float64 features ``f0``..``f9``; seeded by the sample number) and then times
2,000 lookups of 1 random entity and 2,000 of 100 random entities (50 untimed warm-up lookups
first; the requests are built before timing). Every lookup's result is checked against the
written values (rows, order, ``f3``). The figure is the median over samples of each worker's
median and p99. Five ways of looking up, each in its own fresh worker per sample, in an order
that rotates between samples:

- ``sqlite``, ``redis``: Shipyard's ``OnlineStore.read`` in-process, on a fresh
  ``sqlite:///<tmp>/online.db`` and on the Redis server at 127.0.0.1:6379 db 0 under a unique
  key prefix deleted afterwards (start it with ``redis-server --daemonize yes``); the entities
  are written with ``OnlineStore.write`` (timed as ``write_s``).
- ``sdk``: Shipyard's SDK ``shipyard.get_online_features(rows, refs, now=NOW)`` in-process, on a
  temp store (``SHIPYARD_HOME``) where the table was ingested as dataset ``bench_features``, with
  entity ``entity`` and view ``bench`` (TTL 7 d) applied and materialized to the default SQLite
  online store (``materialize_features``, timed as ``write_s``). ``rows`` is a list of
  ``{"entity_id": id}`` dicts, as Feast gets; it returns an Arrow table with the values, each
  view's event time and status (``NOW`` is inside the TTL, so every value is present).
- ``rest``: the same store behind a real team server, ``.venv/bin/shipyard server`` (uvicorn,
  one worker) in a subprocess with that ``SHIPYARD_HOME``; the client (another process) sends
  ``POST /api/v1/features/online`` ``{"entities": rows, "features": refs, "now": NOW}`` on one
  keep-alive ``httpx.Client`` and parses the JSON reply: the time is the whole round trip.
- ``feast``: Feast's ``FeatureStore.get_online_features(features=refs,
  entity_rows=rows).to_dict()`` in-process (``peer_feast.py``, Feast's venv): local provider,
  SQLite online store, the same table as a Parquet ``FileSource`` materialized with
  ``FeatureStore.materialize`` (timed as ``write_s``). Feast does not check TTLs online.

Targets (issue 4), on the median over samples of each worker's p99 for 100 entities: < 2 ms
from SQLite and < 5 ms from Redis in-process (``OnlineStore.read``; the SDK call, which is what
Feast's figure measures, is held to the SQLite target too), < 10 ms through REST. ``--sides``
takes ``shipyard,feast`` (``mlflow``, which ``run_all.py`` passes, stands for Feast).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h
import bench_historical_features as bh

SCRIPT = Path(__file__).resolve()
ENTITIES = 100_000
QUICK_ENTITIES = 10_000
LOOKUPS = 2_000
QUICK_LOOKUPS = 200
FEATURES = 10
FEATURE_NAMES = tuple(f"f{i}" for i in range(FEATURES))
WARMUP = 50
STORE_BACKENDS = ("sqlite", "redis")
BACKENDS = (*STORE_BACKENDS, "sdk", "rest", "feast")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TARGET_P99_MS = {"sqlite": 2.0, "redis": 5.0, "sdk": 2.0, "rest": 10.0}
SIZES = (1, 100)
VIEW = "bench"
TTL_DAYS = 7
DATA_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = DATA_START + dt.timedelta(days=1)  # when TTLs are judged: every value is present


def _table(entities: int, seed: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {"entity_id": pa.array(np.arange(entities, dtype="int64"))}
    start = np.datetime64("2026-01-01T00:00:00", "us").astype("int64")
    ticks = start + rng.integers(0, 86_400 * 10**6, entities)
    cols["ts"] = pa.array(ticks).cast(pa.timestamp("us", tz="UTC"))
    for i in range(FEATURES):
        cols[f"f{i}"] = pa.array(rng.normal(i, 1, entities))
    return pa.table(cols)


def window() -> tuple[dt.datetime, dt.datetime]:
    """Feast's materialization window: a day either side of the data's day."""
    return DATA_START - dt.timedelta(days=1), NOW + dt.timedelta(days=1)


def _store_url(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'online.db'}"
    return f"{REDIS_URL}?prefix=bench-{uuid.uuid4().hex[:12]}:"


def _percentiles(times_s: list[float]) -> h.Json:
    ordered = sorted(times_s)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "median_ms": ordered[len(ordered) // 2] * 1e3,
        "p99_ms": p99 * 1e3,
        "max_ms": ordered[-1] * 1e3,
        "lookups": len(ordered),
    }


def timed_lookups(
    prepare: Callable[[Any], Any],
    call: Callable[[Any], Any],
    values: Callable[[Any], list[Any]],
    table: Any,
    size: int,
    count: int,
    seed: int,
) -> h.Json:
    """``count`` timed lookups (after ``WARMUP`` untimed) of ``size`` random entity ids each.

    ``prepare(ids)`` builds a request (untimed), ``call(request)`` is timed, ``values(result)``
    gives the ``f3`` values found, checked against ``table`` (untimed). Returns the median,
    p99 and max in ms.
    """
    import numpy as np

    rng = np.random.default_rng(seed + size)
    batches = [rng.integers(0, table.num_rows, size) for _ in range(count + WARMUP)]
    requests = [prepare(b) for b in batches]
    expected = table.column("f3")
    times: list[float] = []
    for i, request in enumerate(requests):
        t0 = time.perf_counter()
        result = call(request)
        elapsed = time.perf_counter() - t0
        if i >= WARMUP:
            times.append(elapsed)
        _check(values(result), expected, batches[i])
    return _percentiles(times)


def _check(found: list[Any], expected: Any, ids: Any) -> None:
    if len(found) != len(ids):
        h.fail(f"the lookup returned {len(found)} rows for {len(ids)} entities")
    if found != expected.take(ids).to_pylist():
        h.fail("the lookup returned values that differ from those written")


def _all_lookups(
    prepare: Callable[[Any], Any],
    call: Callable[[Any], Any],
    values: Callable[[Any], list[Any]],
    table: Any,
    args: h.Json,
) -> h.Json:
    found = {
        f"lookup_{size}": timed_lookups(
            prepare, call, values, table, size, args["lookups"], args["seed"]
        )
        for size in SIZES
    }
    return {**found, "value": found["lookup_100"]["p99_ms"]}


# -- workers --------------------------------------------------------------------------------------


def shipyard_worker(args: h.Json) -> h.Json:
    """``OnlineStore.read`` on SQLite or Redis, after ``OnlineStore.write`` of the table."""
    import pyarrow as pa

    from shipyard.features.online import online_store_from_url

    backend, seed = args["backend"], args["seed"]
    table = _table(args["entities"], seed)
    store = online_store_from_url(_store_url(backend, Path.cwd()))
    try:
        t0 = time.perf_counter()
        written = store.write(
            "bench", table, keys=["entity_id"], timestamp="ts", features=list(FEATURE_NAMES)
        )
        write_s = time.perf_counter() - t0
        if written != table.num_rows:
            h.fail(f"wrote {written} entities of {table.num_rows}")
        found = _all_lookups(
            lambda ids: pa.table({"entity_id": pa.array(ids)}),
            lambda request: store.read(
                "bench", request, keys=["entity_id"], features=list(FEATURE_NAMES)
            ),
            lambda result: result.column("f3").to_pylist(),
            table,
            args,
        )
        return {"backend": backend, "write_s": write_s, "entities": written, **found}
    finally:
        store.delete_view("bench")
        store.close()


def _materialized_store(home: Path, table: Any) -> tuple[Any, float]:
    """The table ingested into a Shipyard store at ``home``, its view applied and materialized
    to the default SQLite online store: (the ``shipyard`` module, seconds to materialize)."""
    bh.shipyard_store(home, table, key="entity_id", timestamp="ts", features=FEATURE_NAMES,
                      ttl_days=TTL_DAYS, dataset="bench_features", entity="entity",
                      view=VIEW)  # fmt: skip
    shipyard = bh.open_shipyard()
    t0 = time.perf_counter()
    (done,) = shipyard.materialize_features([VIEW])
    write_s = time.perf_counter() - t0
    if done.rows != table.num_rows:
        h.fail(f"materialized {done.rows} entities of {table.num_rows}")
    return shipyard, write_s


def _rows(ids: Any) -> list[dict[str, int]]:
    return [{"entity_id": int(i)} for i in ids]


def sdk_worker(args: h.Json) -> h.Json:
    """``shipyard.get_online_features`` in-process, on a materialized temp store."""
    table = _table(args["entities"], args["seed"])
    shipyard, write_s = _materialized_store(Path.cwd() / "home", table)
    refs = [f"{VIEW}:{f}" for f in FEATURE_NAMES]
    get = shipyard.get_online_features
    found = _all_lookups(
        _rows,
        lambda rows: get(rows, refs, now=NOW),
        lambda result: result.column("f3").to_pylist(),
        table,
        args,
    )
    call = "shipyard.get_online_features([dict], refs, now=NOW) -> pyarrow.Table"
    return {"backend": "sdk", "write_s": write_s, "entities": table.num_rows, **found,
            "call": call, "versions": bh._versions("shipyard", "pyarrow")}  # fmt: skip


def rest_setup_worker(args: h.Json) -> h.Json:
    """The team server's store: ingest, apply, materialize (then this process exits)."""
    table = _table(args["entities"], args["seed"])
    _, write_s = _materialized_store(Path(args["home"]), table)
    return {"write_s": write_s, "entities": table.num_rows}


def rest_worker(args: h.Json) -> h.Json:
    """``POST /api/v1/features/online`` on a running team server, one keep-alive client."""
    import httpx

    table = _table(args["entities"], args["seed"])
    refs = [f"{VIEW}:{f}" for f in FEATURE_NAMES]
    now = NOW.isoformat()

    with httpx.Client(base_url=args["url"], trust_env=False, timeout=30) as client:

        def post(rows: list[dict[str, int]]) -> list[dict[str, Any]]:
            reply = client.post(
                "/api/v1/features/online", json={"entities": rows, "features": refs, "now": now}
            )
            if reply.status_code != 200:
                h.fail(f"POST /api/v1/features/online: {reply.status_code} {reply.text[:500]}")
            found: list[dict[str, Any]] = reply.json()["rows"]
            return found

        found = _all_lookups(_rows, post, lambda rows: [r["f3"] for r in rows], table, args)
    call = "httpx.Client.post('/api/v1/features/online', json=...).json()"
    return {"backend": "rest", **found, "call": call,
            "versions": bh._versions("shipyard", "httpx", "uvicorn")}  # fmt: skip


def feast_worker(args: h.Json) -> h.Json:
    """Feast (in its venv): see ``peer_feast.online``."""
    import peer_feast

    return peer_feast.online(args)


WORKERS: dict[str, h.Worker] = {
    "shipyard": shipyard_worker,
    "sdk": sdk_worker,
    "rest_setup": rest_setup_worker,
    "rest": rest_worker,
    "feast": feast_worker,
}


# -- the figure ------------------------------------------------------------------------------------


def _run_rest(args: h.Json) -> h.Json:
    """Set the store up, start the team server on it, run the client, stop the server."""
    with h.fresh_dir("online-rest") as tmp:
        home = tmp / "server-home"  # where _harness.serve points SHIPYARD_HOME
        setup = h.run_worker(SCRIPT, "shipyard", "rest_setup", {**args, "home": str(home)}, cwd=tmp)
        with h.serve("shipyard", tmp) as server:
            run = h.run_worker(SCRIPT, "shipyard", "rest", {**args, "url": server.url}, cwd=tmp)
            run["server_rss_mib"] = round(h.rss_kib(server.listener()) / 1024, 1)
        return {**run, "write_s": setup["write_s"], "entities": setup["entities"]}


def _run(backend: str, args: h.Json) -> h.Json:
    if backend == "rest":
        return _run_rest(args)
    with h.fresh_dir("online") as tmp:
        if backend == "feast":
            return h.run_worker(SCRIPT, "feast", "feast", args, cwd=tmp)
        task = "shipyard" if backend in STORE_BACKENDS else backend
        return h.run_worker(SCRIPT, "shipyard", task, args, cwd=tmp)


def measure(opts: h.Options) -> h.Json:
    entities = QUICK_ENTITIES if opts.quick else ENTITIES
    lookups = QUICK_LOOKUPS if opts.quick else LOOKUPS
    wanted = [b for b in BACKENDS if ("feast" if b == "feast" else "shipyard") in opts.sides]
    runs: dict[str, list[h.Json]] = {b: [] for b in wanted}
    errors: dict[str, str] = {}
    for i in range(opts.samples):
        for backend in h.rotated(wanted, i):
            if backend in errors:
                continue
            args = {"backend": backend, "seed": i, "entities": entities, "lookups": lookups}
            try:
                run = _run(backend, args)
            except (h.WorkerFailed, OSError) as exc:
                errors[backend] = f"{type(exc).__name__}: {exc}"
                h.log(f"online {backend} #{i + 1} FAILED: {exc}")
                continue
            runs[backend].append(run)
            h.log(
                f"online {backend} #{i + 1}/{opts.samples}: write {run['write_s']:.2f} s, "
                f"1 entity p99 {run['lookup_1']['p99_ms']:.3f} ms, "
                f"100 entities p99 {run['lookup_100']['p99_ms']:.3f} ms"
            )
    return _cases(runs, errors, opts)


def _dig(run: h.Json, field: str) -> Any:
    value: Any = run
    for part in field.split("."):
        value = value[part]
    return value


def _series(sides: dict[str, str], runs: dict[str, list[h.Json]], errors: dict[str, str],
            field: str) -> h.Series:  # fmt: skip
    """A series with one side per entry of ``sides`` (side name -> backend)."""
    series = h.Series({s: [] for s in sides}, {s: [] for s in sides})
    for side, backend in sides.items():
        for run in runs.get(backend, []):
            series.samples[side].append(float(_dig(run, field)))
            series.details[side].append(run)
        if backend in errors:
            series.errors[side] = errors[backend]
    return series


def _case(sides: dict[str, str], runs: dict[str, list[h.Json]], errors: dict[str, str],
          field: str, unit: str, target: h.Target | None, opts: h.Options) -> h.Json:  # fmt: skip
    series = _series(sides, runs, errors, field)
    case = h.summarize(series, unit=unit, better="lower", target=target, require_all=opts.samples)
    if "feast" in sides:
        ship, feast = case["shipyard"]["median"], case["feast"]["median"]
        case["peer"] = "feast"
        case["ratio"] = feast / ship if ship and feast else None
        case["ratio_meaning"] = "feast / shipyard (times faster than Feast)"
    case["backend"] = sides["shipyard"]
    return case


def _cases(runs: dict[str, list[h.Json]], errors: dict[str, str], opts: h.Options) -> h.Json:
    cases: h.Json = {}
    for backend in (b for b in BACKENDS if b in runs and b != "feast"):
        sides = {"shipyard": backend}
        if backend == "sdk" and "feast" in runs:
            sides["feast"] = "feast"
        name = "sdk_vs_feast" if "feast" in sides else backend
        for size in SIZES:
            for stat in ("median_ms", "p99_ms"):
                target = None
                if size == 100 and stat == "p99_ms":
                    limit = TARGET_P99_MS[backend]
                    target = h.Target("below", limit, f"p99 < {limit:g} ms ({backend})")
                cases[f"{name}_{size}_{stat[:-3]}"] = _case(
                    sides, runs, errors, f"lookup_{size}.{stat}", "ms", target, opts
                )
        if backend != "rest":
            cases[f"{name}_write_s"] = _case(sides, runs, errors, "write_s", "s", None, opts)
    if "feast" in runs and "sdk" not in runs:
        for size in SIZES:
            for stat in ("median_ms", "p99_ms"):
                series = _series({"feast": "feast"}, runs, errors, f"lookup_{size}.{stat}")
                cases[f"feast_{size}_{stat[:-3]}"] = h.summarize(
                    series, unit="ms", better="lower", require_all=opts.samples
                )
    return cases


def _sides_arg(argv: list[str]) -> None:
    """``mlflow`` (from ``run_all.py``) stands for Feast."""
    if "--sides" in argv:
        at = argv.index("--sides") + 1
        if at < len(argv):
            named = ["feast" if s == "mlflow" else s for s in argv[at].split(",") if s]
            argv[at] = ",".join(dict.fromkeys(named))


if __name__ == "__main__":
    if "--worker" not in sys.argv:
        _sides_arg(sys.argv)
    h.main(
        figure="online_lookup",
        description=(
            f"online lookup of 1 and 100 random entities among {ENTITIES:,} x {FEATURES} "
            "float64 features: Shipyard OnlineStore.read (SQLite, Redis), SDK and REST; "
            "Feast get_online_features (SQLite) (ms)"
        ),
        measure=measure,
        workers=WORKERS,
        sides=("shipyard", "feast"),
    )
