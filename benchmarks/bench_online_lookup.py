"""Figure: online feature lookups (issue 4), milliseconds per ``OnlineStore.read``, in-process.

No peer yet: Shipyard only, SQLite (a fresh ``sqlite:///<tmp>/online.db``) and Redis (the server
on 127.0.0.1:6379, database 0, under a unique key prefix deleted afterwards; start it with
``redis-server --daemonize yes``). Each sample is a fresh worker per backend that writes 100,000
entities (int64 ids) x 10 float64 features (timed and reported, not a target), then runs 2,000
lookups of 1 random entity and 2,000 of 100 random entities (the entity tables are built before
timing; 50 warm-up reads first) and reports the median and p99 of each. Every lookup's result is
checked against the written values (rows, order, a value per feature). The figure is the median
over samples of each worker's p99.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
ENTITIES = 100_000
QUICK_ENTITIES = 10_000
LOOKUPS = 2_000
QUICK_LOOKUPS = 200
FEATURES = 10
WARMUP = 50
BACKENDS = ("sqlite", "redis")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TARGET_P99_MS = {"sqlite": 2.0, "redis": 5.0}
SIZES = (1, 100)


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


def _lookups(store: Any, table: Any, size: int, count: int, seed: int) -> h.Json:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed + size)
    features = [f"f{i}" for i in range(FEATURES)]
    batches = [rng.integers(0, table.num_rows, size) for _ in range(count + WARMUP)]
    requests = [pa.table({"entity_id": pa.array(b)}) for b in batches]
    times: list[float] = []
    for i, request in enumerate(requests):
        t0 = time.perf_counter()
        result = store.read("bench", request, keys=["entity_id"], features=features)
        elapsed = time.perf_counter() - t0
        if i >= WARMUP:
            times.append(elapsed)
        _check(result, table, batches[i])
    return _percentiles(times)


def _check(result: Any, table: Any, ids: Any) -> None:
    if result.num_rows != len(ids):
        h.fail(f"read returned {result.num_rows} rows for {len(ids)} entities")
    expected = table.column("f3").take(ids).to_pylist()
    if result.column("f3").to_pylist() != expected:
        h.fail("read returned values that differ from those written")


def shipyard_worker(args: h.Json) -> h.Json:
    from shipyard.features.online import online_store_from_url

    backend, seed = args["backend"], args["seed"]
    table = _table(args["entities"], seed)
    store = online_store_from_url(_store_url(backend, Path.cwd()))
    try:
        t0 = time.perf_counter()
        written = store.write(
            "bench",
            table,
            keys=["entity_id"],
            timestamp="ts",
            features=[f"f{i}" for i in range(FEATURES)],
        )
        write_s = time.perf_counter() - t0
        if written != table.num_rows:
            h.fail(f"wrote {written} entities of {table.num_rows}")
        result: h.Json = {"backend": backend, "write_s": write_s, "entities": written}
        for size in SIZES:
            result[f"lookup_{size}"] = _lookups(store, table, size, args["lookups"], seed)
        result["value"] = result["lookup_100"]["p99_ms"]
        return result
    finally:
        store.delete_view("bench")
        store.close()


def _series(runs: list[h.Json], error: str | None, field: str) -> h.Series:
    series = h.Series({"shipyard": []}, {"shipyard": []})
    for run in runs:
        series.samples["shipyard"].append(float(_dig(run, field)))
        series.details["shipyard"].append(run)
    if error:
        series.errors["shipyard"] = error
    return series


def _dig(run: h.Json, field: str) -> Any:
    value: Any = run
    for part in field.split("."):
        value = value[part]
    return value


def measure(opts: h.Options) -> h.Json:
    entities = QUICK_ENTITIES if opts.quick else ENTITIES
    lookups = QUICK_LOOKUPS if opts.quick else LOOKUPS
    runs: dict[str, list[h.Json]] = {b: [] for b in BACKENDS}
    errors: dict[str, str] = {}
    for i in range(opts.samples):
        for backend in BACKENDS:
            if backend in errors:
                continue
            args = {"backend": backend, "seed": i, "entities": entities, "lookups": lookups}
            try:
                with h.fresh_dir("online") as tmp:
                    run = h.run_worker(SCRIPT, "shipyard", "shipyard", args, cwd=tmp)
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


def _cases(runs: dict[str, list[h.Json]], errors: dict[str, str], opts: h.Options) -> h.Json:
    cases: h.Json = {}
    for backend in BACKENDS:
        err = errors.get(backend)
        for size in SIZES:
            for stat in ("median_ms", "p99_ms"):
                series = _series(runs[backend], err, f"lookup_{size}.{stat}")
                target = None
                if size == 100 and stat == "p99_ms":
                    limit = TARGET_P99_MS[backend]
                    target = h.Target("below", limit, f"p99 < {limit:g} ms ({backend})")
                cases[f"{backend}_{size}_{stat[:-3]}"] = h.summarize(
                    series, unit="ms", better="lower", target=target, require_all=opts.samples
                )
        write = _series(runs[backend], err, "write_s")
        cases[f"{backend}_write_s"] = h.summarize(
            write, unit="s", better="lower", require_all=opts.samples
        )
    return cases


if __name__ == "__main__":
    if "--worker" not in sys.argv:  # no peer for this figure: Shipyard's side only
        if "--sides" in sys.argv:
            at = sys.argv.index("--sides")
            del sys.argv[at : at + 2]
        sys.argv += ["--sides", "shipyard"]
    h.main(
        figure="online_lookup",
        description=(
            f"OnlineStore.read of 1 and 100 random entities among {ENTITIES:,} x {FEATURES} "
            "float64 features, SQLite and Redis, in-process (ms)"
        ),
        measure=measure,
        workers={"shipyard": shipyard_worker},
    )
