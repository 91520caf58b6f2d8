"""``/api/v1/pipelines`` (the server's declared pipelines) and ``/api/v1/pipeline-runs``
(every run with its step states; written by clients running pipelines against this server)."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from shipyard.errors import InvalidArgument
from shipyard.pipelines.entities import RunState
from shipyard.pipelines.service import PipelineRunStore
from shipyard.server.deps import ServicesDep
from shipyard.server.schemas_pipelines import (
    PipelineList,
    PipelineOut,
    PipelineRunIO,
    PipelineRunList,
    RunFinish,
    StepStateIO,
    StepStateOrNone,
)

router = APIRouter(prefix="/api/v1", tags=["pipelines"])


def _store(services: ServicesDep) -> PipelineRunStore:
    if services.pipelines is None:
        raise InvalidArgument("this server keeps no pipeline runs")
    return services.pipelines


@router.get("/pipelines")
def list_pipelines(services: ServicesDep) -> PipelineList:
    """The pipelines the server's shipyard.yaml declares."""
    from shipyard.pipelines.definitions import load_pipelines

    found = load_pipelines(services.settings)
    return PipelineList(pipelines=[PipelineOut.from_entity(found[n]) for n in sorted(found)])


@router.get("/pipelines/{name}")
def get_pipeline(name: str, services: ServicesDep) -> PipelineOut:
    """One declared pipeline: its steps, wiring and DAG edges."""
    from shipyard.pipelines.definitions import get_pipeline as get

    return PipelineOut.from_entity(get(name, services.settings))


@router.get("/pipeline-runs")
def list_runs(
    services: ServicesDep,
    pipeline: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
) -> PipelineRunList:
    """Pipeline runs, newest first, each with its step states."""
    runs = _store(services).list_runs(pipeline=pipeline, limit=limit)
    return PipelineRunList(runs=[PipelineRunIO.from_entity(r) for r in runs])


@router.get("/pipeline-runs/{run_id}")
def get_run(run_id: str, services: ServicesDep) -> PipelineRunIO:
    """One run (id or unique prefix) with each step's state, reason, outputs and failure."""
    return PipelineRunIO.from_entity(_store(services).get_run(run_id))


@router.post("/pipeline-runs", status_code=status.HTTP_201_CREATED)
def create_run(body: PipelineRunIO, services: ServicesDep) -> PipelineRunIO:
    """Record a new run with its steps (what a client running a pipeline sends first)."""
    run = body.to_entity()
    _store(services).create_run(run)
    return PipelineRunIO.from_entity(run)


@router.put("/pipeline-runs/{run_id}/steps/{step}", status_code=status.HTTP_204_NO_CONTENT)
def update_step(run_id: str, step: str, body: StepStateIO, services: ServicesDep) -> None:
    """Replace the recorded state of one step of a run."""
    if body.step != step:
        raise InvalidArgument(f"the body is about step {body.step!r}, the URL about {step!r}")
    _store(services).update_step(run_id, body.to_entity())


@router.post("/pipeline-runs/{run_id}/finish")
def finish_run(run_id: str, body: RunFinish, services: ServicesDep) -> PipelineRunIO:
    """Set a run's final status (SUCCEEDED or FAILED) and failure report."""
    try:
        final = RunState(body.status)
    except ValueError as exc:
        raise InvalidArgument(f"status {body.status!r} is not SUCCEEDED or FAILED") from exc
    run = _store(services).finish_run(run_id, final, failure=body.failure_entity())
    return PipelineRunIO.from_entity(run)


@router.get("/pipeline-steps/cached")
def find_cached(pipeline: str, step: str, cache_key: str, services: ServicesDep) -> StepStateOrNone:
    """The newest succeeded execution of a step with this cache key, if any."""
    found = _store(services).find_cached(pipeline, step, cache_key)
    return StepStateOrNone(step=StepStateIO.from_entity(found) if found else None)


@router.get("/pipeline-steps/last-done")
def last_done(pipeline: str, step: str, services: ServicesDep) -> StepStateOrNone:
    """The newest execution of a step that produced outputs, if any."""
    found = _store(services).last_done(pipeline, step)
    return StepStateOrNone(step=StepStateIO.from_entity(found) if found else None)
