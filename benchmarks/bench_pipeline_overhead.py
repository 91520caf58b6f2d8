"""Figures: pipeline overhead — a 200-step pipeline of trivial steps, the driver's overhead per
step, and a cached re-run of the churn pipeline (examples/churn/shipyard.yaml).

- ``trivial_200_steps``: a chain of 200 steps (each returns its input + 1, so each waits for the
  one before: the slowest shape, nothing overlaps), on a fresh local executor (2 processes),
  timed from ``run_pipeline`` to its return, pool start-up included. Target < 15 s.
- ``per_step_overhead``: the same chain on an executor that is already started and warm, divided
  by 200: what each step costs beyond its own (nil) work — hashing, the cache lookup, the
  tracked run, the step records, the round trip to a worker. Target < 50 ms.
- ``churn_cached_rerun``: the churn pipeline run once (untimed, the full data), then run again
  unchanged and timed in-process (every step must come back CACHED); the worker also times the
  same re-run through the CLI (``shipyard run churn``, a new Python process: interpreter start
  and imports included) and reports it beside it. Target < 2 s.

There is no peer here: no orchestrator is installed in a peer venv for this figure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import _harness as h

SCRIPT = Path(__file__).resolve()
STEPS = 200
CHURN = h.ROOT / "examples" / "churn"


def _chain(n: int) -> object:
    from shipyard.pipelines import Pipeline, StepDef

    steps = [StepDef("s0", call="bench_pipeline_steps:plus_one", params={"x": -1})]
    steps += [
        StepDef(f"s{i}", call="bench_pipeline_steps:plus_one", inputs={"x": f"s{i - 1}.result"})
        for i in range(1, n)
    ]
    return Pipeline("chain", steps, base_dir=Path(__file__).parent)


def chain_worker(args: h.Json) -> h.Json:
    import shipyard
    from shipyard.pipelines import open_executor, run_pipeline

    n = int(args["steps"])
    shipyard.list_experiments()  # the store exists before timing
    pipe = _chain(n)
    t0 = time.perf_counter()
    cold = run_pipeline(pipe, executor="local:2", no_cache=True)
    cold_s = time.perf_counter() - t0
    if not cold.ok or cold.output(f"s{n - 1}.result") != n - 1:
        h.fail(f"the chain failed or gave {cold.outputs.get(f's{n - 1}.result')}")
    pool = open_executor("local:2")
    pool.start()
    try:
        run_pipeline(_chain(20), executor=pool, no_cache=True)  # warm both workers
        t1 = time.perf_counter()
        warm = run_pipeline(pipe, executor=pool, no_cache=True)
        warm_s = time.perf_counter() - t1
    finally:
        pool.close()
    if not warm.ok or len(warm.run.executed) != n:
        h.fail("the warm chain did not execute every step")
    return {
        "cold_s": cold_s,
        "warm_s": warm_s,
        "per_step_ms": warm_s / n * 1000,
        "steps": n,
    }


def churn_worker(args: h.Json) -> h.Json:
    import shipyard
    from shipyard.pipelines import StepStatus, run_pipeline

    work = Path.cwd() / "churn"
    shutil.copytree(CHURN, work, ignore=shutil.ignore_patterns(".shipyard", "__pycache__"))
    import os

    os.chdir(work)
    shipyard.configure()
    first = run_pipeline("churn")
    if not first.ok:
        h.fail(f"the churn pipeline failed: {first.run.failure}")
    t0 = time.perf_counter()
    again = run_pipeline("churn")
    cached_s = time.perf_counter() - t0
    if {s.status for s in again.run.steps} != {StepStatus.CACHED}:
        h.fail(f"not fully cached: {[(s.step, s.status) for s in again.run.steps]}")
    cli = Path(sys.executable).with_name("shipyard")
    t1 = time.perf_counter()
    proc = subprocess.run([str(cli), "run", "churn"], capture_output=True, text=True, cwd=work)
    cli_s = time.perf_counter() - t1
    if proc.returncode != 0 or "7 cached" not in " ".join(proc.stdout.split()):
        h.fail(f"the CLI re-run was not fully cached:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    first_s = (first.run.ended_at or 0) - first.run.started_at
    return {"value": cached_s, "cli_s": cli_s, "first_run_s": first_s / 1000}


def _run(task: str, args: h.Json) -> h.Json:
    with h.fresh_dir(f"pipeline-{task}") as tmp:
        env = {"SHIPYARD_HOME": str(tmp / "home"), "PYTHONPATH": str(h.BENCH_DIR)}
        return h.run_worker(SCRIPT, "shipyard", task, args, cwd=tmp, env=env)


def measure(opts: h.Options) -> h.Json:
    steps = 40 if opts.quick else STEPS
    chains = h.alternate(
        opts, lambda s, _: _run("chain", {"steps": steps}), label="chain", key="cold_s"
    )
    per_step = h.Series(
        {"shipyard": [d["per_step_ms"] for d in chains.details["shipyard"]]},
        {"shipyard": chains.details["shipyard"]},
        chains.errors,
    )
    churn = h.alternate(opts, lambda s, _: _run("churn", {}), label="churn-cached")
    return {
        "trivial_200_steps": h.summarize(
            chains,
            unit="s",
            better="lower",
            target=h.Target("below", 15, f"{steps} trivial steps in < 15 s"),
            require_all=opts.samples,
        ),
        "per_step_overhead": h.summarize(
            per_step,
            unit="ms",
            better="lower",
            target=h.Target("below", 50, "< 50 ms per step"),
            require_all=opts.samples,
        ),
        "churn_cached_rerun": h.summarize(
            churn,
            unit="s",
            better="lower",
            target=h.Target("below", 2, "cached churn re-run < 2 s"),
            require_all=opts.samples,
        ),
    }


if __name__ == "__main__":
    h.main(
        figure="pipeline_overhead",
        description="200 trivial steps, per-step overhead, cached churn re-run",
        measure=measure,
        workers={"chain": chain_worker, "churn": churn_worker},
        sides=("shipyard",),
    )
