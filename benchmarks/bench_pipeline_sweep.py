"""Figure: a 1,000-trial tuning sweep of trivial trials on a local Dask cluster — the memory of
every process together (peak RSS of the driver plus the Dask scheduler, nannies and workers it
starts, sampled every 20 ms) and the time it takes.

A ``tune`` step (grid search over ``x`` in 0..999, the trial returns ``x``, median stopping on)
runs on ``dask://local?workers=2``; each trial is a tracked run nested under the step's run,
in the local SQLite store. The worker checks that 1,000 trial runs were stored and that the
best is ``x = 999``. Target: all processes together < 2 GB. No peer is measured.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import _harness as h

SCRIPT = Path(__file__).resolve()
TRIALS = 1_000


def sweep_worker(args: h.Json) -> h.Json:
    import shipyard
    from shipyard.pipelines import Pipeline, StepDef, run_pipeline

    n = int(args["trials"])
    shipyard.list_experiments()
    tune = StepDef(
        "tune",
        uses="tune",
        inputs={"train": "seed.result"},
        params={
            "call": "bench_pipeline_steps:trivial_trial",
            "search": "grid",
            "space": {"x": list(range(n))},
            "metric": "x",
        },
    )
    seed = StepDef("seed", call="bench_pipeline_steps:plus_one", params={"x": 0})
    pipe = Pipeline("sweep", [seed, tune], base_dir=Path(__file__).parent)
    with h.RssSampler(os.getpid(), os.getpid()) as rss:
        t0 = time.perf_counter()
        result = run_pipeline(pipe, executor="dask://local?workers=2")
        elapsed = time.perf_counter() - t0
    if not result.ok:
        h.fail(f"the sweep failed: {result.run.failure}")
    if result.output("tune.best_params") != {"x": n - 1}:
        h.fail(f"best {result.output('tune.best_params')}, not x={n - 1}")
    trials = shipyard.search_runs("sweep", "tags.shipyard.tune.trial != ''", max_results=n + 10)
    if len(trials) != n:
        h.fail(f"{len(trials)} trial runs stored, not {n}")
    return {
        "value": max(rss.tree_samples) / 1024,
        "driver_peak_mb": max(rss.samples) / 1024,
        "seconds": elapsed,
        "trials_per_s": n / elapsed,
        "trials": n,
    }


def _run(trials: int) -> h.Json:
    with h.fresh_dir("pipeline-sweep") as tmp:
        env = {"SHIPYARD_HOME": str(tmp / "home"), "PYTHONPATH": str(h.BENCH_DIR)}
        return h.run_worker(SCRIPT, "shipyard", "sweep", {"trials": trials}, cwd=tmp, env=env)


def measure(opts: h.Options) -> h.Json:
    trials = 100 if opts.quick else TRIALS
    series = h.alternate(opts, lambda s, _: _run(trials), label="sweep")
    return {
        "sweep_1000_trials_rss": h.summarize(
            series,
            unit="MB (peak, every process)",
            better="lower",
            target=h.Target("below", 2048, f"{trials} trials on local Dask, all processes < 2 GB"),
            require_all=opts.samples,
        )
    }


if __name__ == "__main__":
    h.main(
        figure="pipeline_sweep",
        description="1,000 trivial tuning trials on local Dask: peak RSS of all processes",
        measure=measure,
        workers={"sweep": sweep_worker},
        sides=("shipyard",),
    )
