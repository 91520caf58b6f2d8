"""``/api/v1/runs``: create, get, end, heartbeat, delete, restore, log, history and search."""

from __future__ import annotations

from fastapi import APIRouter, status

from shipyard.errors import PayloadTooLarge
from shipyard.server.deps import ServicesDep
from shipyard.server.schemas import (
    MAX_BATCH_METRICS,
    InputsIn,
    LogBatch,
    MetricHistory,
    MetricIO,
    RunCreate,
    RunEnd,
    RunOut,
    RunPageOut,
    SearchRuns,
)

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_run(body: RunCreate, services: ServicesDep) -> RunOut:
    """Start a RUNNING run in an experiment."""
    run = services.tracking.create_run(
        body.experiment_id,
        name=body.name,
        tags=body.tags,
        parent_run_id=body.parent_run_id,
        start_time=body.start_time,
    )
    return RunOut.from_entity(run)


@router.post("/search")
def search_runs(body: SearchRuns, services: ServicesDep) -> RunPageOut:
    """Runs matching a filter, ordered and paged (400 pointing at a bad filter's position)."""
    page = services.tracking.search_runs(
        body.experiment_ids,
        filter=body.filter,
        order_by=body.order_by,
        max_results=body.max_results,
        page_token=body.page_token,
        deleted=body.deleted,
    )
    return RunPageOut.from_entity(page)


@router.get("/{run_id}")
def get_run(run_id: str, services: ServicesDep) -> RunOut:
    """A run with its params, latest metrics, tags and inputs."""
    return RunOut.from_entity(services.tracking.get_run(run_id))


@router.post("/{run_id}/end", status_code=status.HTTP_204_NO_CONTENT)
def end_run(run_id: str, body: RunEnd, services: ServicesDep) -> None:
    """Store a last batch and set a run's final status (and end time), in one transaction."""
    _check_batch_size(body)
    services.tracking.end_run(
        run_id,
        body.status,
        end_time=body.end_time,
        metrics=[m.to_entity() for m in body.metrics],
        params=body.params,
        tags=body.tags,
    )


@router.post("/{run_id}/heartbeat", status_code=status.HTTP_204_NO_CONTENT)
def heartbeat(run_id: str, services: ServicesDep) -> None:
    """Record that the run's process is alive."""
    services.tracking.heartbeat(run_id)


@router.delete("/{run_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_run(run_id: str, services: ServicesDep) -> None:
    """Soft-delete a run."""
    services.tracking.delete_run(run_id)


@router.post("/{run_id}/restore", status_code=status.HTTP_204_NO_CONTENT)
def restore_run(run_id: str, services: ServicesDep) -> None:
    """Undo a delete."""
    services.tracking.restore_run(run_id)


@router.post("/{run_id}/log-batch", status_code=status.HTTP_204_NO_CONTENT)
def log_batch(run_id: str, body: LogBatch, services: ServicesDep) -> None:
    """Store metrics, params and tags in one transaction (at most 10,000 metric points)."""
    _check_batch_size(body)
    services.tracking.log_batch(
        run_id,
        metrics=[m.to_entity() for m in body.metrics],
        params=body.params,
        tags=body.tags,
    )


@router.post("/{run_id}/inputs", status_code=status.HTTP_204_NO_CONTENT)
def log_inputs(run_id: str, body: InputsIn, services: ServicesDep) -> None:
    """Record the datasets a run read."""
    services.tracking.log_inputs(run_id, [i.to_entity() for i in body.inputs])


@router.get("/{run_id}/metric-history")
def metric_history(run_id: str, services: ServicesDep, key: str) -> MetricHistory:
    """Every point of one metric, by step then timestamp."""
    points = services.tracking.get_metric_history(run_id, key)
    return MetricHistory(metrics=[MetricIO.from_entity(m) for m in points])


def _check_batch_size(body: LogBatch) -> None:
    if len(body.metrics) > MAX_BATCH_METRICS:
        raise PayloadTooLarge(
            f"body.metrics has {len(body.metrics)} points; at most {MAX_BATCH_METRICS} go in "
            "one request: split the batch"
        )
