"""Figure 3: ``search_runs`` over 10,000 runs, as a DataFrame, ms per query (warm).

The data (10 params, 5 metrics per run; ``auc`` uniform in [0, 1], seed 0) is generated once and
loaded into one store per tool, as fast as each allows (Shipyard: ``connect().tracking``
``create_run``/``log_batch``/``end_run``; MLflow: ``MlflowClient`` ``create_run``/``log_batch``/
``set_terminated``); building is not timed. Each sample copies that store into a fresh temp
folder and runs a fresh worker: the query once (warm-up), then 20 timed queries, whose median is
the sample. The worker checks the 100 rows are the expected top-100 by ``auc``.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
RUNS = 10_000
QUERIES = 20
FILTER = "metrics.auc > 0.9"
ORDER = ["metrics.auc DESC"]
LIMIT = 100


def make_data(n: int, path: Path) -> tuple[list[float], int]:
    """Write ``n`` runs' params and metrics to ``path`` (JSON).

    Returns the ``auc`` values the query must return (in order) and how many runs match.
    """
    rng = random.Random(0)
    runs: list[dict[str, dict[str, Any]]] = [
        {
            "params": {f"p{j}": str(rng.randrange(1000)) for j in range(10)},
            "metrics": {"auc": rng.random(), **{f"m{j}": rng.random() for j in range(1, 5)}},
        }
        for _ in range(n)
    ]
    path.write_text(json.dumps(runs))
    aucs = sorted((r["metrics"]["auc"] for r in runs if r["metrics"]["auc"] > 0.9), reverse=True)
    return aucs[:LIMIT], len(aucs)


def _check(side: str, got: list[float], expected: list[float]) -> None:
    same = len(got) == len(expected) and all(
        abs(a - b) <= 1e-9 for a, b in zip(got, expected, strict=True)
    )
    if not same:
        h.fail(f"{side}: query returned {len(got)} rows, not the expected top {len(expected)}")


def _timed(query: Callable[[], Any], expected: list[float], side: str) -> h.Json:
    _check(side, list(query()["metrics.auc"]), expected)
    times = []
    for _ in range(QUERIES):
        t0 = time.perf_counter()
        query()
        times.append((time.perf_counter() - t0) * 1000)
    return {"value": statistics.median(times), "query_ms": times}


# -- Shipyard -----------------------------------------------------------------------------------


def shipyard_build(args: h.Json) -> h.Json:
    from shipyard.client import connect
    from shipyard.tracking.entities import Metric, RunStatus

    runs = json.loads(Path(args["data"]).read_text())
    services = connect()
    tracking = services.tracking
    exp = tracking.create_experiment("bench")
    t0 = time.perf_counter()
    for i, r in enumerate(runs):
        run = tracking.create_run(exp.experiment_id, name=f"run-{i}")
        metrics = [Metric(k, v, 0, run.start_time) for k, v in r["metrics"].items()]
        tracking.log_batch(run.run_id, metrics=metrics, params=r["params"])
        tracking.end_run(run.run_id, RunStatus.FINISHED)
    services.close()
    return {"build_s": time.perf_counter() - t0}


def shipyard_query(args: h.Json) -> h.Json:
    import shipyard

    def query() -> Any:
        return shipyard.search_runs(
            experiment="bench", filter=FILTER, order_by=ORDER, max_results=LIMIT
        )

    return _timed(query, args["expected"], "shipyard")


# -- MLflow -------------------------------------------------------------------------------------


def mlflow_build(args: h.Json) -> h.Json:
    from mlflow import MlflowClient  # type: ignore[import-not-found, unused-ignore]
    from mlflow.entities import Metric, Param  # type: ignore[import-not-found, unused-ignore]

    runs = json.loads(Path(args["data"]).read_text())
    client = MlflowClient(tracking_uri=args["uri"])
    exp_id = client.create_experiment("bench")
    t0 = time.perf_counter()
    for i, r in enumerate(runs):
        run = client.create_run(exp_id, run_name=f"run-{i}")
        ts = run.info.start_time
        metrics = [Metric(k, v, ts, 0) for k, v in r["metrics"].items()]
        params = [Param(k, v) for k, v in r["params"].items()]
        client.log_batch(run.info.run_id, metrics=metrics, params=params)
        client.set_terminated(run.info.run_id)
    return {"build_s": time.perf_counter() - t0}


def mlflow_query(args: h.Json) -> h.Json:
    import mlflow  # type: ignore[import-not-found, unused-ignore]

    mlflow.set_tracking_uri(args["uri"])

    def query() -> Any:
        return mlflow.search_runs(
            experiment_names=["bench"], filter_string=FILTER, order_by=ORDER, max_results=LIMIT
        )

    return _timed(query, args["expected"], "mlflow")


# -- orchestration ------------------------------------------------------------------------------


def _store_args(side: str, folder: Path) -> tuple[dict[str, str], h.Json]:
    if side == "shipyard":
        return {"SHIPYARD_HOME": str(folder / "home")}, {}
    return {}, {"uri": f"sqlite:///{folder / 'mlflow.db'}"}


def _measure(side: str, templates: dict[str, Path], expected: list[float]) -> h.Json:
    with h.fresh_dir(f"{side}-search") as tmp:
        store = tmp / "store"
        shutil.copytree(templates[side], store)
        env, args = _store_args(side, store)
        return h.run_worker(
            SCRIPT, side, f"{side}_query", {**args, "expected": expected}, cwd=tmp, env=env
        )


def measure(opts: h.Options) -> h.Json:
    n = 1_000 if opts.quick else RUNS
    with h.fresh_dir("search-templates") as work:
        data = work / "runs.json"
        expected, matching = make_data(n, data)
        templates: dict[str, Path] = {}
        build: dict[str, h.Json] = {}
        for side in opts.sides:
            templates[side] = work / side
            templates[side].mkdir()
            env, args = _store_args(side, templates[side])
            h.log(f"building the {side} store with {n} runs (not timed)")
            try:
                build[side] = h.run_worker(
                    SCRIPT, side, f"{side}_build", {**args, "data": str(data)},
                    cwd=templates[side], env=env, timeout=3600,
                )  # fmt: skip
            except h.WorkerFailed as exc:
                build[side] = {"error": str(exc)}
                h.log(f"building the {side} store FAILED: {exc}")
        ready = h.Options(opts.samples, tuple(s for s in opts.sides if "error" not in build[s]),
                          opts.quick)  # fmt: skip
        series = h.alternate(ready, lambda side, _: _measure(side, templates, expected),
                             label="search")  # fmt: skip
    for side, info in build.items():
        if "error" in info:
            series.samples[side], series.details[side] = [], []
            series.errors[side] = "building the store failed: " + info["error"]
    case = h.summarize(
        series,
        unit="ms",
        better="lower",
        target=h.Target("below", 50, "Shipyard < 50 ms"),
        require_all=opts.samples,
    )
    case["runs_in_store"] = n
    case["matching_runs"] = matching
    case["build_s"] = {side: info.get("build_s") for side, info in build.items()}
    return {"search": case}


if __name__ == "__main__":
    h.main(
        figure="search_runs",
        description=f"search_runs '{FILTER}' ordered by auc DESC, top {LIMIT}, "
        f"over {RUNS} runs, as a DataFrame (ms per warm query)",
        measure=measure,
        workers={
            "shipyard_build": shipyard_build,
            "shipyard_query": shipyard_query,
            "mlflow_build": mlflow_build,
            "mlflow_query": mlflow_query,
        },
    )
