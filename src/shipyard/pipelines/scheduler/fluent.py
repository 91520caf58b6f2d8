"""The scheduler SDK: build the scheduler of ``shipyard.yaml``, list jobs and triggers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from shipyard.pipelines.scheduler.entities import Job, Trigger, slot_text
from shipyard.pipelines.scheduler.jobs import check_job, load_jobs
from shipyard.pipelines.scheduler.runner import Scheduler, SchedulerOptions


def list_jobs(*, only: str | None = None) -> dict[str, Job]:
    """The jobs declared in ``shipyard.yaml`` (of group ``only``: pipelines or monitors).
    Raises ConfigError (bad entry or cron expression)."""
    from shipyard.tracking.fluent import services

    return load_jobs(services().settings, only=only)


def next_slot(job: Job, now: datetime | None = None) -> str | None:
    """The next cron slot of ``job`` after ``now`` (None for a new-data-only job)."""
    from cronsim import CronSim

    if job.cron is None:
        return None
    return slot_text(next(CronSim(job.cron, now or datetime.now(UTC))))


def make_scheduler(
    *,
    only: str | None = None,
    interval_s: float = 1.0,
    stale_after_s: float = 60.0,
    workers: int = 4,
    on_trigger: Callable[[Trigger], None] | None = None,
) -> Scheduler:
    """The scheduler of ``shipyard.yaml``'s jobs on the SDK's services, every job checked
    first. Raises NotFound (a job names an unknown pipeline or monitor), ConfigError."""
    from shipyard.tracking.fluent import services

    svc = services()
    jobs = load_jobs(svc.settings, only=only)
    for job in jobs.values():
        check_job(job, svc.settings)
    options = SchedulerOptions(
        interval_s=interval_s,
        heartbeat_s=max(0.2, min(5.0, stale_after_s / 4)),
        stale_after_s=stale_after_s,
        workers=workers,
    )
    return Scheduler(
        jobs, triggers=svc.triggers, datasets=svc.datasets, options=options, on_trigger=on_trigger
    )


def run_scheduler(*, only: str | None = None, once: bool = False) -> Scheduler:
    """Run the scheduler (until stopped, or one pass with ``once``); returns it."""
    scheduler = make_scheduler(only=only)
    scheduler.run(once=once)
    return scheduler


def list_triggers(
    *, job: str | None = None, state: str | None = None, limit: int = 100
) -> list[Trigger]:
    """Recorded triggers, newest first."""
    from shipyard.tracking.fluent import services

    return services().triggers.list(job=job, state=state, limit=limit)
