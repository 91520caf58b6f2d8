"""Figure: materializing a feature view into the SQLite online store (issue 4), Shipyard vs Feast.

Data: the same seeded rows as ``bench_historical_features.py`` (100,000 users x 10 rows at
random times over 30 days: 1,000,000 feature rows, 10 float64 features, TTL 7 days), built once
per run, untimed, as ``raw.parquet`` (ingestion order) and ingested as dataset ``user_features``
into a temp Shipyard store with entity ``user`` and view ``user_stats`` applied (the same
``prepare`` worker). Both sides write each user's latest row: 100,000 entities x 10 features.

- ``shipyard``: ``shipyard.materialize_features(["user_stats"])`` (``FeatureStore.materialize``,
  a full load) into a fresh ``SHIPYARD_ONLINE_STORE_URI=sqlite:///<tmp>/online.db``. Two fresh
  workers per sample, in alternating order: **cold** (the view's laid-out cache deleted first, so
  the call reads and verifies the dataset version and picks each entity's latest row from the
  unsorted rows; it does not write the cache) and **warm** (the cache is there, as after
  ``apply``; a warm worker that finds it missing builds it untimed first). The figure is the
  cold one. The SDK's store is
  opened untimed first (``bench_historical_features.open_shipyard``), as Feast's is.
- ``feast``: ``FeatureStore.materialize(start, end)`` (``peer_feast.py``, Feast's venv): local
  provider, file offline store on ``raw.parquet``, SQLite online store, in a fresh temp repo;
  the window covers every row (``window()``).

Each worker times only that call and reports the peak RSS of its own process during it
(``VmHWM`` after a reset, so the interpreter, imports and inputs count: ``rss_peak_mib``;
``above_mib`` is the part above the RSS just before). Afterwards, untimed, it checks that
100,000 entities are stored and that ``CHECK`` sampled users have their latest values (all 10
features, from the laid-out rows).

Target (issue 4): Shipyard >= 20x faster than Feast (cold). ``--sides`` takes
``shipyard,feast`` (``mlflow``, which ``run_all.py`` passes, means ``feast``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import _harness as h
import bench_historical_features as bh

SCRIPT = Path(__file__).resolve()
SIDES = ("shipyard", "feast")
TARGET_RATIO = 20.0
CHECK = 1_000
VIEW = "user_stats"


def window() -> tuple[dt.datetime, dt.datetime]:
    """Feast's materialization window: a day either side of the data's 30 days."""
    return bh.START - dt.timedelta(days=1), bh.START + dt.timedelta(days=bh.DAYS + 1)


def measure_once(run: Callable[[], Any]) -> tuple[float, h.Json]:
    """Seconds of one call of ``run`` and the process's peak RSS during it (MiB)."""
    seconds, _, memory = bh.measured(run)
    return seconds, memory


def expected_latest(folder: Path, count: int) -> Any:
    """The latest row (user_id, event_timestamp, features) of ``count`` seeded random users,
    from the laid-out rows (sorted by user, then time: the last row of each user's run)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    laid_out = pq.read_table(folder / "laid_out.parquet")
    users = laid_out.column("user_id").to_numpy()
    last = np.flatnonzero(np.append(users[1:] != users[:-1], True))
    picks = np.random.default_rng(bh.SEED).choice(len(last), size=count, replace=False)
    return laid_out.take(pa.array(last[np.sort(picks)]))


def check_values(
    values: Mapping[str, list[Any]], expected: Any, stored: int, users: int, *, what: str
) -> None:
    """Fail the worker unless ``users`` entities are stored and every sampled feature value
    equals the expected latest one."""
    if stored != users:
        h.fail(f"{what} holds {stored} entities, not {users}")
    for name in bh.FEATURES:
        want = expected.column(name).to_pylist()
        got = list(values[name])
        if got != want:
            wrong = sum(a != b for a, b in zip(got, want, strict=True))
            h.fail(f"{what}: {wrong} of {len(want)} sampled values of {name} are not the latest")


def shipyard_worker(args: h.Json) -> h.Json:
    """``shipyard.materialize_features`` into a fresh SQLite online store, cold or warm."""
    folder = Path(args["folder"])
    home = folder / bh.STORE_DIR
    cache = home / "features" / "offline"
    if args["cold"]:
        shutil.rmtree(cache, ignore_errors=True)
    online = Path.cwd() / "online.db"
    os.environ["SHIPYARD_HOME"] = str(home)
    os.environ["SHIPYARD_ONLINE_STORE_URI"] = f"sqlite:///{online}"
    from shipyard.features.fluent import feature_store

    materialize_features = bh.open_shipyard().materialize_features
    if not args["cold"]:
        _lay_out(feature_store())
        if not any(cache.rglob("*.parquet")):
            h.fail(f"warm run without the laid-out cache {cache}")
    seconds, memory = measure_once(lambda: materialize_features([VIEW]))
    store = feature_store()
    stored = _stored(store, args["users"])
    expected = expected_latest(folder, args["check"])
    found = store.online.read(
        VIEW, expected.select(["user_id"]), keys=["user_id"], features=list(bh.FEATURES)
    )
    check_values(found.to_pydict(), expected, stored, args["users"], what="Shipyard's online store")
    return {
        "value": seconds,
        **memory,
        "cold": args["cold"],
        "entities_stored": stored,
        "checked": expected.num_rows,
        "online_store": store.online.url,
        "versions": bh._versions("shipyard", "numpy", "pyarrow"),
    }


def _lay_out(store: Any) -> None:
    """Build the view's laid-out cache if it is missing (untimed), as ``apply`` does."""
    from shipyard.features.resolve import load_view, view_keys

    view, _ = load_view(store.catalog, VIEW)
    store.offline.rows(view, view_keys(store.catalog, view))


def _stored(store: Any, users: int) -> int:
    """How many of the user ids 0..users-1 have a value in the online store (read back in
    chunks of 1,000)."""
    import pyarrow as pa

    found = 0
    for start in range(0, users, 1_000):
        ids = pa.table({"user_id": pa.array(range(start, min(start + 1_000, users)), pa.int64())})
        read = store.online.read(VIEW, ids, keys=["user_id"], features=["f0"])
        found += read.num_rows - read.column("event_timestamp").null_count
    return found


def feast_worker(args: h.Json) -> h.Json:
    """Feast (in its venv): see ``peer_feast.materialize``."""
    import peer_feast

    return peer_feast.materialize(args)


WORKERS: dict[str, h.Worker] = {
    "prepare": bh.prepare_worker,
    "shipyard": shipyard_worker,
    "feast": feast_worker,
}


# -- the figure ------------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _side(runs: list[h.Json], error: str | None, samples: int) -> h.Json:
    entry: h.Json = {
        "median": _median([float(r["value"]) for r in runs]),
        "samples": [float(r["value"]) for r in runs],
        "rss_peak_mib_median": _median([float(r["rss_peak_mib"]) for r in runs]),
        "rss_above_mib_median": _median([float(r["above_mib"]) for r in runs]),
        "complete": error is None and len(runs) >= samples,
        "runs": runs,
    }
    if runs and "warm_run" in runs[0]:
        warm = [float(r["warm_run"]["value"]) for r in runs]
        entry["warm_s_median"] = _median(warm)
        entry["warm_samples"] = warm
        entry["warm_rss_peak_mib_median"] = _median(
            [float(r["warm_run"]["rss_peak_mib"]) for r in runs]
        )
    if error:
        entry["error"] = error
    return entry


def _cases(series: h.Series, opts: h.Options, data: h.Json) -> h.Json:
    sides = {
        s: _side(series.details.get(s, []), series.errors.get(s), opts.samples) for s in opts.sides
    }
    ship, feast = sides.get("shipyard", {}), sides.get("feast", {})
    ratio = bh._ratio(feast.get("median"), ship.get("median"))
    case: h.Json = {
        "unit": "s",
        "better": "lower",
        **sides,
        "peer": "feast",
        "ratio": ratio,
        "ratio_meaning": "feast / shipyard cold (times faster than Feast)",
        "warm_ratio": bh._ratio(feast.get("median"), ship.get("warm_s_median")),
        "rss_share": bh._ratio(ship.get("rss_peak_mib_median"), feast.get("rss_peak_mib_median")),
        "rss_share_meaning": "shipyard peak RSS / feast peak RSS (cold run)",
        "target": {
            "text": f"shipyard >= {TARGET_RATIO:g}x faster than Feast (cold)",
            "met": None if ratio is None else ratio >= TARGET_RATIO,
        },
        "complete": all(s["complete"] for s in sides.values()),
        "data": data,
    }
    return {"materialize": case}


def measure(opts: h.Options) -> h.Json:
    users = bh.QUICK_USERS if opts.quick else bh.USERS
    with h.fresh_dir("materialize-data") as folder:
        args: h.Json = {"users": users, "entity_rows": 1_000, "folder": str(folder)}
        h.log(f"writing {users * bh.PER_USER:,} feature rows; ingesting them into Shipyard")
        shape = h.run_worker(SCRIPT, "shipyard", "prepare", args, cwd=folder)
        work = {**args, "check": min(CHECK, users)}

        def worker(side: str, cold: bool) -> h.Json:
            with h.fresh_dir("materialize") as tmp:
                return h.run_worker(SCRIPT, side, side, {**work, "cold": cold}, cwd=tmp)

        def one(side: str, i: int) -> h.Json:
            if side != "shipyard":
                return worker(side, False)
            # warm needs the cache: the first sample runs cold first, then they alternate
            modes = (True, False) if i % 2 == 0 else (False, True)
            done = {cold: worker(side, cold) for cold in modes}
            h.log(f"materialize shipyard #{i + 1} warm: {done[False]['value']:.4g}")
            return {**done[True], "warm_run": done[False]}

        series = h.alternate(opts, one, label="materialize", rotate=True)
    data = {
        **shape,
        "users": users,
        "rows_per_user": bh.PER_USER,
        "features": len(bh.FEATURES),
        "ttl_days": bh.TTL_DAYS,
        "entities_written": users,
        "checked_per_run": work["check"],
        "feast_window": [t.isoformat() for t in window()],
        "order": [list(h.rotated(opts.sides, i)) for i in range(opts.samples)],
    }
    return _cases(series, opts, data)


def _sides_arg(argv: list[str]) -> None:
    """``mlflow`` (from ``run_all.py``) stands for Feast; no ``--sides`` means both."""
    if "--sides" in argv:
        at = argv.index("--sides") + 1
        if at < len(argv):
            named = ["feast" if s == "mlflow" else s for s in argv[at].split(",") if s]
            argv[at] = ",".join(dict.fromkeys(named))


def main() -> None:
    """A worker with ``--worker TASK ARGS``; else the figure, as JSON on stdout (exit 1 if the
    figure is incomplete or a target is missed)."""
    if sys.argv[1:2] != ["--worker"]:
        _sides_arg(sys.argv)
    description = (
        f"materialize {bh.USERS:,} entities (latest of {bh.USERS * bh.PER_USER:,} rows x "
        f"{len(bh.FEATURES)} float64 features) into SQLite (s)"
    )
    h.main(
        figure="materialize", description=description, measure=measure, workers=WORKERS, sides=SIDES
    )


if __name__ == "__main__":
    main()
