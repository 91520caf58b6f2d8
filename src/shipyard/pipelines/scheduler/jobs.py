"""Where jobs come from (``shipyard.yaml``) and what runs them (a kind name → a callable,
imported only when a job of that kind runs).

Jobs are read from three places of ``shipyard.yaml``::

    pipelines:
      churn:
        schedule: "0 2 * * *"                 # job "churn": the pipeline on cron slots
        triggers: [{on_new_data: churn-raw}]  # job "churn:new-data:churn-raw"
        steps: [...]
    monitors:
      churn-drift:
        schedule: "*/15 * * * *"              # job "monitor:churn-drift"
    schedules:                                # anything else, named as you like
      weekly-report: {pipeline: report, cron: "0 6 * * 1"}
      cleanup: {python: "tasks:cleanup", cron: "0 * * * *"}
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from shipyard.config import Settings
from shipyard.errors import ConfigError, InvalidArgument, NotFound, ShipyardError
from shipyard.pipelines.scheduler.entities import GROUPS, Job

Runner = Callable[[Job, str, str], "str | None"]
"""Runs a job for a slot with a reason; returns the id of the run it made (if any)."""


class JobFailed(ShipyardError, RuntimeError):
    """A job ran and failed; ``run_id`` is the run it made (recorded with the trigger)."""

    code = "JOB_FAILED"

    def __init__(self, message: str, *, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


def load_jobs(settings: Settings, *, only: str | None = None) -> dict[str, Job]:
    """Every job declared in ``settings`` (of the group ``only``: pipelines or monitors).

    Raises ConfigError for a malformed entry or a bad cron expression.
    """
    if only is not None and only not in set(GROUPS.values()):
        raise InvalidArgument(f"--only takes pipelines or monitors, not {only!r}")
    extra = settings.extra
    jobs: list[Job] = []
    for name, body in _section(extra, "pipelines").items():
        jobs += _pipeline_jobs(str(name), body)
    for name, body in _section(extra, "monitors").items():
        schedule = body.get("schedule") if isinstance(body, Mapping) else None
        if schedule:
            jobs.append(Job(f"monitor:{name}", "monitor", str(name), cron=str(schedule)))
    for name, body in _section(extra, "schedules").items():
        jobs.append(Job.from_dict(str(name), body))
    found: dict[str, Job] = {}
    for job in jobs:
        if job.name in found:
            raise ConfigError(f"two scheduled jobs are named {job.name!r}; rename one")
        found[job.name] = job
    return {n: j for n, j in found.items() if only is None or j.group == only}


def _section(extra: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    section = extra.get(key) or {}
    if not isinstance(section, Mapping):
        raise ConfigError(f"{key}: in shipyard.yaml must be a mapping of names to settings")
    return section


def _pipeline_jobs(name: str, body: Any) -> list[Job]:
    if not isinstance(body, Mapping):
        return []
    jobs = []
    if body.get("schedule"):
        jobs.append(Job(name, "pipeline", name, cron=str(body["schedule"])))
    triggers = body.get("triggers") or []
    if isinstance(triggers, Mapping):
        triggers = [triggers]
    if not isinstance(triggers, list):
        raise ConfigError(
            f"pipelines.{name}.triggers must be a list like [{{on_new_data: DATASET}}]"
        )
    for trig in triggers:
        if not isinstance(trig, Mapping) or set(trig) != {"on_new_data"}:
            raise ConfigError(
                f"pipelines.{name}.triggers: {trig!r} is not {{on_new_data: DATASET}}"
            )
        dataset = str(trig["on_new_data"])
        jobs.append(Job(f"{name}:new-data:{dataset}", "pipeline", name, on_new_data=dataset))
    return jobs


# --- kinds -----------------------------------------------------------------------------------


def job_kinds() -> dict[str, str]:
    """Each job kind → ``module:function`` of its runner, imported when first used."""
    return {
        "pipeline": "shipyard.pipelines.scheduler.jobs:run_pipeline_job",
        "monitor": "shipyard.pipelines.scheduler.jobs:run_monitor_job",
        "python": "shipyard.pipelines.scheduler.jobs:run_python_job",
    }


def runner_for(kind: str) -> Runner:
    """The runner of ``kind``. Raises ConfigError for an unknown kind."""
    target = job_kinds().get(kind)
    if target is None:
        raise ConfigError(f"unknown job kind {kind!r}; known: {sorted(job_kinds())}")
    module, _, attr = target.partition(":")
    runner: Runner = getattr(importlib.import_module(module), attr)
    return runner


def check_job(job: Job, settings: Settings) -> None:
    """Fail before anything runs when the job's target does not exist. Raises NotFound
    (unknown pipeline or monitor) or ConfigError (python callable that cannot be imported)."""
    if job.kind == "python":
        _python_target(job, settings)
        return
    declared = _section(settings.extra, f"{job.kind}s")
    if job.target not in declared:
        raise NotFound(
            f"scheduled job {job.name!r} names {job.kind} {job.target!r}, which is not in "
            f"shipyard.yaml; {job.kind}s are {sorted(declared) or 'none'}"
        )


def _python_target(job: Job, settings: Settings | None = None) -> Callable[..., Any]:
    from shipyard.pipelines.definitions import import_callable

    path: tuple[str, ...] = ()
    if settings is not None and settings.config_file is not None:
        path = (str(settings.config_file.parent.resolve()),)
    try:
        fn: Callable[..., Any] = import_callable(job.target, path)
    except InvalidArgument as exc:
        raise ConfigError(f"scheduled job {job.name!r}: {exc}") from exc
    return fn


def run_pipeline_job(job: Job, slot: str, reason: str) -> str | None:
    """Run the pipeline ``job.target`` (``shipyard.pipelines.run_pipeline``); returns the
    pipeline run's id. Raises JobFailed (with that id) when the pipeline run failed."""
    pipelines = importlib.import_module("shipyard.pipelines")
    result = pipelines.run_pipeline(job.target, trigger=f"schedule:{job.name}@{slot}")
    run_id = str(result.run.id)
    if not result.ok:
        failure = result.run.failure
        why = failure.describe() if failure is not None else str(result.run.status)
        raise JobFailed(f"pipeline run {run_id} of {job.target} failed: {why}", run_id=run_id)
    return run_id


def run_monitor_job(job: Job, slot: str, reason: str) -> str | None:
    """Run the monitor ``job.target`` once (``shipyard.monitoring.run_monitor``)."""
    monitoring = importlib.import_module("shipyard.monitoring")
    result = monitoring.run_monitor(job.target)
    found = getattr(result, "id", None)
    return None if found is None else str(found)


def run_python_job(job: Job, slot: str, reason: str) -> str | None:
    """Call ``module:function``, passing whichever of ``job``, ``slot``, ``reason`` it takes."""
    fn = _python_target(job)
    offered = {"job": job.name, "slot": slot, "reason": reason}
    params = inspect.signature(fn).parameters
    result = fn(**{k: v for k, v in offered.items() if k in params})
    return result if isinstance(result, str) else None
