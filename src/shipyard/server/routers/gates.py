"""``/api/v1/gates``: recorded gate results of model versions (``shipyard gate`` runs them)."""

from __future__ import annotations

from fastapi import APIRouter, status

from shipyard.pipelines.gates.entities import Check
from shipyard.server.deps import ServicesDep
from shipyard.server.schemas_gates import GateResultCreate, GateResultList, GateResultOut

router = APIRouter(prefix="/api/v1/gates", tags=["gates"])


@router.post("/results", status_code=status.HTTP_201_CREATED)
def record(body: GateResultCreate, services: ServicesDep) -> GateResultOut:
    """Record a gate result and tag its model version with it."""
    result = services.gates.record(
        body.model,
        body.version,
        champion_version=body.champion_version,
        passed=body.passed,
        dataset=body.dataset,
        checks=[Check.from_dict(c.model_dump()) for c in body.checks],
        config=body.config,
    )
    return GateResultOut.from_entity(result)


@router.get("/results")
def list_results(
    services: ServicesDep, model: str | None = None, version: int | None = None, limit: int = 100
) -> GateResultList:
    """Gate results, newest first (of one model and/or version)."""
    found = services.gates.list(model=model, version=version, limit=limit)
    return GateResultList(results=[GateResultOut.from_entity(r) for r in found])


@router.get("/results/{result_id}")
def get(result_id: int, services: ServicesDep) -> GateResultOut:
    """One gate result."""
    return GateResultOut.from_entity(services.gates.get(result_id))
