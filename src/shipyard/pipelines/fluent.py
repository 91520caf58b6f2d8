"""The pipelines SDK: run a pipeline, list pipelines and read their runs.

>>> import shipyard.pipelines.fluent as pf
>>> pf.run_pipeline  # doctest: +ELLIPSIS
<function run_pipeline at ...>
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shipyard.errors import InvalidArgument
from shipyard.pipelines.definitions import Pipeline, get_pipeline, load_pipelines
from shipyard.pipelines.entities import PipelineFailed, PipelineRun, PipelineRunResult, RunState
from shipyard.pipelines.executors import Executor, open_executor
from shipyard.pipelines.runner import Driver, StepEvent, plan_run

if TYPE_CHECKING:
    from shipyard.client import Services
    from shipyard.pipelines.service import PipelineRunStore


def run_pipeline(
    pipeline: str | Pipeline,
    *,
    steps: Sequence[str] | None = None,
    from_step: str | None = None,
    resume: bool = False,
    no_cache: bool = False,
    executor: str | Executor | None = None,
    trigger: str = "manual",
    on_event: StepEvent | None = None,
    raise_on_failure: bool = False,
) -> PipelineRunResult:
    """Run a pipeline (a name from ``shipyard.yaml``, or a :class:`Pipeline`).

    ``steps`` runs only those steps (upstream outputs come from their newest earlier run);
    ``from_step`` runs that step and everything below it; ``resume`` continues the newest
    failed run, reusing what succeeded in it; ``no_cache`` runs every selected step;
    ``executor`` is a URL (``local``, ``local:4``, ``dask://host:8786``, ``dask://local``) or
    a started :class:`Executor` (default: the pipeline's, else ``SHIPYARD_EXECUTOR``).
    ``on_event`` is called with every step state change. Returns a
    :class:`PipelineRunResult`; a failed run is returned (``result.ok`` False, the report in
    ``result.run.failure``) unless ``raise_on_failure``, which raises PipelineFailed.

    Raises NotFound (no such pipeline), InvalidArgument (a bad definition or selection,
    nothing to resume, a bad executor URL) and ExecutorUnavailable (a Dask scheduler that does
    not answer) before anything is recorded.
    """
    from shipyard.tracking.fluent import services as sdk_services

    services = sdk_services()
    pipe = pipeline if isinstance(pipeline, Pipeline) else get_pipeline(pipeline, services.settings)
    store = runs_store(services)
    plan = plan_run(pipe, store, steps=steps, from_step=from_step, resume=resume)
    if executor is None or isinstance(executor, str):
        pool, owned = open_executor(executor or pipe.executor or services.settings.executor), True
    else:
        pool, owned = executor, False
    pool.start()
    try:
        driver = Driver(
            pipe, services.tracking, services.settings, store, pool, plan, no_cache, on_event
        )
        run = driver.run(trigger)
    finally:
        if owned:
            pool.close()
    if raise_on_failure and run.status != RunState.SUCCEEDED:
        raise PipelineFailed(run.failure.describe() if run.failure else "pipeline failed", run)
    return PipelineRunResult(run=run, outputs=driver.outputs)


def runs_store(services: Services | None = None) -> PipelineRunStore:
    """The pipeline-run records of ``services`` (default: the SDK's)."""
    from shipyard.tracking.fluent import services as sdk_services

    services = services or sdk_services()
    if services.pipelines is None:
        raise InvalidArgument("these services keep no pipeline runs (connect to a store)")
    return services.pipelines


def list_pipelines() -> list[Pipeline]:
    """The pipelines ``shipyard.yaml`` declares, by name."""
    from shipyard.tracking.fluent import services as sdk_services

    return [p for _, p in sorted(load_pipelines(sdk_services().settings).items())]


def list_pipeline_runs(pipeline: str | None = None, *, limit: int = 50) -> list[PipelineRun]:
    """Pipeline runs, newest first, each with its step states."""
    return runs_store().list_runs(pipeline=pipeline, limit=limit)


def get_pipeline_run(run_id: str) -> PipelineRun:
    """One pipeline run (by id or a unique prefix) with its step states. Raises NotFound."""
    return runs_store().get_run(run_id)


__all__ = [
    "get_pipeline_run",
    "list_pipeline_runs",
    "list_pipelines",
    "run_pipeline",
    "runs_store",
]
