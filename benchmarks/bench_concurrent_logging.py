"""Figure 5: 16 processes log 1,000 points each at once — to one SQLite store, and to a server.

Per sample: a fresh store (and, for "server", a fresh server on it); a set-up worker creates the
experiment (so the store's creation is not part of the race); 16 workers import, connect and
report ready, then are released together, each doing ``start_run`` + 1,000 ``log_metric`` calls
+ end of run, counting every exception. Wall time runs from the first worker's start to the last
worker's end. A last worker counts the stored points (must be 16,000) and the harness counts
"database is locked" in the workers' errors and stderr (must be 0).
"""

from __future__ import annotations

import functools
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import _harness as h

SCRIPT = Path(__file__).resolve()
PROCS = 16
POINTS = 1_000


def _log_loop(log: Any, start: Any, index: int, n: int) -> h.Json:
    errors: list[str] = []
    t0 = time.monotonic()
    try:
        with start(index):
            for step in range(n):
                try:
                    log("loss", 1.0 / (step + 1), step=step)
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    t1 = time.monotonic()
    return {
        "t0": t0,
        "t1": t1,
        "errors": len(errors),
        "locked_errors": sum(h.LOCKED in e for e in errors),
        "first_error": errors[0][:500] if errors else None,
    }


# -- Shipyard -----------------------------------------------------------------------------------


def shipyard_setup(args: h.Json) -> h.Json:
    from shipyard.client import connect

    services = connect()
    services.tracking.create_experiment("bench")
    services.close()
    return {}


def shipyard_log(args: h.Json) -> h.Json:
    import shipyard

    h.wait_for_go()
    return _log_loop(
        shipyard.log_metric,
        lambda i: shipyard.start_run(experiment="bench", name=f"proc-{i}"),
        args["index"],
        args["points"],
    )


def shipyard_count(args: h.Json) -> h.Json:
    import shipyard

    run_ids = list(shipyard.search_runs(experiment="bench", max_results=1000)["run_id"])
    points = [len(shipyard.get_metric_history(run_id, "loss")) for run_id in run_ids]
    return {"runs": len(run_ids), "points": sum(points)}


# -- MLflow -------------------------------------------------------------------------------------


def mlflow_setup(args: h.Json) -> h.Json:
    from mlflow import MlflowClient  # type: ignore[import-not-found, unused-ignore]

    MlflowClient(tracking_uri=args["uri"]).create_experiment("bench")
    return {}


def mlflow_log(args: h.Json) -> h.Json:
    import mlflow  # type: ignore[import-not-found, unused-ignore]

    mlflow.set_tracking_uri(args["uri"])
    mlflow.set_experiment("bench")
    h.wait_for_go()
    return _log_loop(
        mlflow.log_metric,
        lambda i: mlflow.start_run(run_name=f"proc-{i}"),
        args["index"],
        args["points"],
    )


def mlflow_count(args: h.Json) -> h.Json:
    from mlflow import MlflowClient  # type: ignore[import-not-found, unused-ignore]

    client = MlflowClient(tracking_uri=args["uri"])
    exp = client.get_experiment_by_name("bench")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    points = sum(len(client.get_metric_history(r.info.run_id, "loss")) for r in runs)
    return {"runs": len(runs), "points": points}


# -- orchestration ------------------------------------------------------------------------------


def _measure(side: str, _sample: int, *, mode: str, procs: int, points: int) -> h.Json:
    with h.fresh_dir(f"{side}-concurrent-{mode}") as tmp:
        serving = h.serve(side, tmp) if mode == "server" else nullcontext(None)
        with serving as server:
            uri = server.url if server else f"sqlite:///{tmp / 'mlflow.db'}"
            env = {"SHIPYARD_HOME": str(tmp / "home")}
            if server:
                env["SHIPYARD_TRACKING_URI"] = server.url
            base = {"uri": uri, "points": points}
            h.run_worker(SCRIPT, side, f"{side}_setup", base, cwd=tmp, env=env)
            loggers = [{**base, "index": i} for i in range(procs)]
            results = h.run_workers_together(SCRIPT, side, f"{side}_log", loggers, cwd=tmp, env=env)
            counted = h.run_worker(SCRIPT, side, f"{side}_count", base, cwd=tmp, env=env)
    wall = max(r["t1"] for r in results) - min(r["t0"] for r in results)
    first_errors = [r["first_error"] for r in results if r["first_error"]]
    return {
        "value": wall,
        "points_per_s": counted["points"] / wall,
        "points_stored": counted["points"],
        "runs_stored": counted["runs"],
        "errors": sum(r["errors"] for r in results),
        "locked": sum(r["locked_errors"] + r["locked_in_output"] for r in results),
        "first_error": first_errors[0] if first_errors else None,
    }


def _case(opts: h.Options, series: h.Series, expected: int) -> h.Json:
    case = h.summarize(series, unit="s wall", better="lower", require_all=opts.samples)
    for side in series.details:
        runs = series.details[side]
        case[side]["points_stored"] = [r["points_stored"] for r in runs]
        case[side]["locked"] = [r["locked"] for r in runs]
        case[side]["errors"] = [r["errors"] for r in runs]
    shipyard = series.details.get("shipyard", [])
    met = None
    if shipyard and "shipyard" not in series.errors:
        met = all(r["points_stored"] == expected and r["locked"] == 0 and r["errors"] == 0
                  for r in shipyard)  # fmt: skip
    text = f"all {expected} points stored, 0 locked errors (every sample)"
    case["target"] = {"text": text, "met": met}
    case["expected_points"] = expected
    return case


def measure(opts: h.Options) -> h.Json:
    procs, points = (4, 100) if opts.quick else (PROCS, POINTS)
    cases = {}
    for mode in ("local", "server"):
        measure_one = functools.partial(_measure, mode=mode, procs=procs, points=points)
        series = h.alternate(opts, measure_one, label=mode)
        cases[mode] = _case(opts, series, procs * points)
        cases[mode]["processes"], cases[mode]["points_each"] = procs, points
    return cases


if __name__ == "__main__":
    h.main(
        figure="concurrent_logging",
        description=f"{PROCS} processes x {POINTS} log_metric calls at once to one SQLite "
        "store and to a server (wall s; stored points; 'database is locked' errors)",
        measure=measure,
        workers={
            "shipyard_setup": shipyard_setup,
            "shipyard_log": shipyard_log,
            "shipyard_count": shipyard_count,
            "mlflow_setup": mlflow_setup,
            "mlflow_log": mlflow_log,
            "mlflow_count": mlflow_count,
        },
    )
