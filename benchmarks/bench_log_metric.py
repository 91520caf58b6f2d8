"""Figure 1: ``log_metric`` one call at a time, 2,000 points, points/s — local store and server.

Timed from the first ``log_metric`` call until the run has ended (every point flushed, stored and
readable); store creation and ``start_run`` are not timed. Afterwards the worker reads the metric
history back and fails if any point is missing.
"""

from __future__ import annotations

import time
from pathlib import Path

import _harness as h

SCRIPT = Path(__file__).resolve()
POINTS = 2_000


def _values(n: int) -> list[float]:
    return [1.0 / (i + 1) for i in range(n)]


def _check(side: str, steps: list[int], n: int) -> None:
    if steps != list(range(n)):
        h.fail(f"{side}: {len(steps)} of {n} points read back (steps {steps[:5]}…)")


def shipyard_worker(args: h.Json) -> h.Json:
    import shipyard

    values = _values(args["points"])
    with shipyard.start_run(experiment="bench", name="log-metric") as run:
        t0 = time.perf_counter()
        for step, value in enumerate(values):
            shipyard.log_metric("loss", value, step=step)
    elapsed = time.perf_counter() - t0
    history = shipyard.get_metric_history(run.run_id, "loss")
    _check("shipyard", sorted(m.step for m in history), len(values))
    return {"value": len(values) / elapsed, "elapsed_s": elapsed, "stored": len(history)}


def mlflow_worker(args: h.Json) -> h.Json:
    import mlflow  # type: ignore[import-not-found, unused-ignore]

    mlflow.set_tracking_uri(args["uri"])
    mlflow.set_experiment("bench")
    values = _values(args["points"])
    with mlflow.start_run(run_name="log-metric") as run:
        t0 = time.perf_counter()
        for step, value in enumerate(values):
            mlflow.log_metric("loss", value, step=step)
    elapsed = time.perf_counter() - t0
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
    _check("mlflow", sorted(int(m.step) for m in history), len(values))
    return {"value": len(values) / elapsed, "elapsed_s": elapsed, "stored": len(history)}


def _measure_local(side: str, points: int) -> h.Json:
    env: dict[str, str] = {}
    args: h.Json = {}
    with h.fresh_dir(f"{side}-log-metric") as tmp:
        if side == "shipyard":
            env, args = {"SHIPYARD_HOME": str(tmp / "home")}, {"points": points}
        else:
            env, args = {}, {"points": points, "uri": f"sqlite:///{tmp / 'mlflow.db'}"}
        return h.run_worker(SCRIPT, side, side, args, cwd=tmp, env=env)


def _measure_server(side: str, points: int) -> h.Json:
    with h.fresh_dir(f"{side}-log-metric-server") as tmp, h.serve(side, tmp) as server:
        env = {"SHIPYARD_HOME": str(tmp / "client-home"), "SHIPYARD_TRACKING_URI": server.url}
        args = {"points": points, "uri": server.url}
        return h.run_worker(SCRIPT, side, side, args, cwd=tmp, env=env)


def measure(opts: h.Options) -> h.Json:
    points = 200 if opts.quick else POINTS
    local = h.alternate(opts, lambda side, _: _measure_local(side, points), label="local")
    server = h.alternate(opts, lambda side, _: _measure_server(side, points), label="server")
    return {
        "local": h.summarize(
            local,
            unit="points/s",
            better="higher",
            target=h.Target("ratio_at_least", 100, "Shipyard >= 100x MLflow"),
            require_all=opts.samples,
        ),
        "server": h.summarize(
            server,
            unit="points/s",
            better="higher",
            target=h.Target("ratio_at_least", 30, "Shipyard >= 30x MLflow"),
            require_all=opts.samples,
        ),
    }


if __name__ == "__main__":
    h.main(
        figure="log_metric",
        description=f"log_metric one call at a time, {POINTS} points, until stored (points/s)",
        measure=measure,
        workers={"shipyard": shipyard_worker, "mlflow": mlflow_worker},
    )
