"""Figure 2: create 1,000 runs, each with 10 params and 5 metrics, runs/s (local SQLite store).

The usual user code: ``with start_run(): log_params(dict); log_metrics(dict)``. One untimed
warm-up run (in another experiment) creates the store first; the 1,000 runs are timed from the
first ``start_run`` to the end of the last run. The worker then checks every run is stored.
"""

from __future__ import annotations

import time
from pathlib import Path

import _harness as h

SCRIPT = Path(__file__).resolve()
RUNS = 1_000


def _params(i: int) -> dict[str, str | int | float]:
    return {f"p{j}": (i * 10 + j) if j % 2 else f"value-{i}-{j}" for j in range(10)}


def _metrics(i: int) -> dict[str, float]:
    return {f"m{j}": ((i * 7919 + j * 104729) % 10_007) / 10_007 for j in range(5)}


def shipyard_worker(args: h.Json) -> h.Json:
    import shipyard

    with shipyard.start_run(experiment="warmup"):
        shipyard.log_params(_params(-1))
        shipyard.log_metrics(_metrics(-1))
    n = args["runs"]
    t0 = time.perf_counter()
    for i in range(n):
        with shipyard.start_run(experiment="bench"):
            shipyard.log_params(_params(i))
            shipyard.log_metrics(_metrics(i))
    elapsed = time.perf_counter() - t0
    df = shipyard.search_runs(experiment="bench", max_results=n + 10)
    _check("shipyard", len(df), n, df.columns)
    return {"value": n / elapsed, "elapsed_s": elapsed, "stored_runs": len(df)}


def mlflow_worker(args: h.Json) -> h.Json:
    import mlflow  # type: ignore[import-not-found, unused-ignore]

    mlflow.set_tracking_uri(args["uri"])
    mlflow.set_experiment("warmup")
    with mlflow.start_run():
        mlflow.log_params(_params(-1))
        mlflow.log_metrics(_metrics(-1))
    mlflow.set_experiment("bench")
    n = args["runs"]
    t0 = time.perf_counter()
    for i in range(n):
        with mlflow.start_run():
            mlflow.log_params(_params(i))
            mlflow.log_metrics(_metrics(i))
    elapsed = time.perf_counter() - t0
    df = mlflow.search_runs(experiment_names=["bench"], max_results=n + 10)
    _check("mlflow", len(df), n, df.columns)
    return {"value": n / elapsed, "elapsed_s": elapsed, "stored_runs": len(df)}


def _check(side: str, stored: int, n: int, columns: object) -> None:
    if stored != n:
        h.fail(f"{side}: {stored} of {n} runs found after creating them")
    missing = {"params.p9", "metrics.m4"} - set(columns)  # type: ignore[call-overload]
    if missing:
        h.fail(f"{side}: search_runs has no column {sorted(missing)}")


def _measure(side: str, runs: int) -> h.Json:
    env: dict[str, str] = {}
    args: h.Json = {}
    with h.fresh_dir(f"{side}-create-runs") as tmp:
        if side == "shipyard":
            env, args = {"SHIPYARD_HOME": str(tmp / "home")}, {"runs": runs}
        else:
            env, args = {}, {"runs": runs, "uri": f"sqlite:///{tmp / 'mlflow.db'}"}
        return h.run_worker(SCRIPT, side, side, args, cwd=tmp, env=env)


def measure(opts: h.Options) -> h.Json:
    runs = 100 if opts.quick else RUNS
    series = h.alternate(opts, lambda side, _: _measure(side, runs), label="create-runs")
    target = h.Target("ratio_at_least", 20, "Shipyard >= 20x MLflow")
    return {
        "local": h.summarize(
            series, unit="runs/s", better="higher", target=target, require_all=opts.samples
        )
    }


if __name__ == "__main__":
    h.main(
        figure="create_runs",
        description=f"create {RUNS} runs with 10 params and 5 metrics each (runs/s)",
        measure=measure,
        workers={"shipyard": shipyard_worker, "mlflow": mlflow_worker},
    )
