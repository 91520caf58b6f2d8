"""Figures: the scheduler's own cost per slot — claim the (job, slot) row, run a no-op job,
record how it ended — and the cost of a look for due slots when nothing is due.

- ``per_slot_overhead``: 200 jobs whose slot is due at once (a ``python:`` job that does
  nothing), one ``tick`` claiming all 200 and 4 workers running them, on the embedded SQLite
  store; the time until every trigger is recorded ``succeeded``, divided by 200.
- ``idle_tick``: the same 200 jobs looked at again for the same instant (every slot already
  claimed): what a scheduler pays each ``--interval`` while nothing is due.

There is no peer and no target in the issue for these figures.
"""

from __future__ import annotations

import time
from pathlib import Path

import _harness as h

SCRIPT = Path(__file__).resolve()
JOBS = 200


def noop() -> None:
    """The job the figure schedules: nothing, so what is timed is the scheduler itself."""


def slots_worker(args: h.Json) -> h.Json:
    from datetime import UTC, datetime, timedelta

    from shipyard.pipelines.scheduler import Job, Scheduler, SchedulerOptions
    from shipyard.tracking.fluent import services

    n = int(args["jobs"])
    svc = services()
    jobs = {
        f"j{i}": Job(f"j{i}", "python", "bench_scheduler:noop", cron="* * * * * *")
        for i in range(n)
    }
    scheduler = Scheduler(
        jobs, triggers=svc.triggers, datasets=svc.datasets, options=SchedulerOptions(workers=4)
    )
    scheduler.start()
    now = datetime.now(UTC) + timedelta(seconds=2)
    t0 = time.perf_counter()
    claimed = scheduler.tick(now)
    scheduler.wait()
    busy_s = time.perf_counter() - t0
    states = {t.state for t in svc.triggers.list(limit=n + 1)}
    if len(claimed) != n or states != {"succeeded"}:
        h.fail(f"claimed {len(claimed)} of {n}; states {states}")
    t1 = time.perf_counter()
    again = scheduler.tick(now)
    idle_s = time.perf_counter() - t1
    if again:
        h.fail("a slot was claimed twice")
    return {"value": busy_s / n * 1000, "idle_tick_ms": idle_s * 1000, "jobs": n}


def _run(args: h.Json) -> h.Json:
    with h.fresh_dir("scheduler") as tmp:
        env = {"SHIPYARD_HOME": str(tmp / "home"), "PYTHONPATH": str(h.BENCH_DIR)}
        return h.run_worker(SCRIPT, "shipyard", "slots", args, cwd=tmp, env=env)


def measure(opts: h.Options) -> h.Json:
    jobs = 40 if opts.quick else JOBS
    series = h.alternate(opts, lambda s, _: _run({"jobs": jobs}), label="slots")
    idle = h.Series(
        {"shipyard": [d["idle_tick_ms"] for d in series.details["shipyard"]]},
        {"shipyard": series.details["shipyard"]},
        series.errors,
    )
    return {
        "per_slot_overhead": h.summarize(
            series, unit="ms", better="lower", require_all=opts.samples
        ),
        "idle_tick": h.summarize(idle, unit="ms", better="lower", require_all=opts.samples),
    }


if __name__ == "__main__":
    h.main(
        figure="scheduler",
        description="the scheduler's cost per slot (claim, run a no-op, record) and per idle look",
        measure=measure,
        workers={"slots": slots_worker},
        sides=("shipyard",),
    )
