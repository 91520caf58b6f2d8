"""``/api/v1/experiments``: create, list, get (by id or name), rename, delete, restore."""

from __future__ import annotations

from fastapi import APIRouter, status

from shipyard.server.deps import ServicesDep
from shipyard.server.schemas import (
    ExperimentCreate,
    ExperimentList,
    ExperimentOut,
    ExperimentRename,
)

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(body: ExperimentCreate, services: ServicesDep) -> ExperimentOut:
    """Create an experiment (409 if the name is taken)."""
    exp = services.tracking.create_experiment(body.name, tags=body.tags)
    return ExperimentOut.from_entity(exp)


@router.get("")
def list_experiments(services: ServicesDep, deleted: bool = False) -> ExperimentList:
    """Active experiments, or only deleted ones with ``?deleted=true``, oldest first."""
    found = services.tracking.list_experiments(deleted=deleted)
    return ExperimentList(experiments=[ExperimentOut.from_entity(e) for e in found])


@router.get("/by-name")
def get_experiment_by_name(services: ServicesDep, name: str) -> ExperimentOut:
    """An experiment by name (deleted ones too)."""
    return ExperimentOut.from_entity(services.tracking.get_experiment(name))


@router.get("/{experiment_id}")
def get_experiment(experiment_id: int, services: ServicesDep) -> ExperimentOut:
    """An experiment by id (deleted ones too)."""
    return ExperimentOut.from_entity(services.tracking.get_experiment(experiment_id))


@router.patch("/{experiment_id}")
def rename_experiment(
    experiment_id: int, body: ExperimentRename, services: ServicesDep
) -> ExperimentOut:
    """Rename an experiment."""
    return ExperimentOut.from_entity(services.tracking.rename_experiment(experiment_id, body.name))


@router.delete("/{experiment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_experiment(experiment_id: int, services: ServicesDep) -> None:
    """Soft-delete an experiment; its runs leave searches until it is restored."""
    services.tracking.delete_experiment(experiment_id)


@router.post("/{experiment_id}/restore", status_code=status.HTTP_204_NO_CONTENT)
def restore_experiment(experiment_id: int, services: ServicesDep) -> None:
    """Undo a delete."""
    services.tracking.restore_experiment(experiment_id)
