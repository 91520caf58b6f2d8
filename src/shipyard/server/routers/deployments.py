"""``/api/v1/deployments``: the record of model versions put into service."""

from __future__ import annotations

from fastapi import APIRouter, status

from shipyard.server.deps import ServicesDep
from shipyard.server.schemas import DeploymentCreate, DeploymentList, DeploymentOut
from shipyard.serving.deployments.entities import Policy

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])


@router.post("", status_code=status.HTTP_201_CREATED)
def record(body: DeploymentCreate, services: ServicesDep) -> DeploymentOut:
    """Record a deployment of an existing model version."""
    deployment = services.deployments.record(
        body.name,
        model=body.model,
        version=body.version,
        ref=body.ref,
        policy=Policy.from_dict(body.policy),
        target=body.target,
        endpoint=body.endpoint,
        feature_service=body.feature_service,
        note=body.note,
    )
    return DeploymentOut.from_entity(deployment)


@router.get("")
def list_deployments(
    services: ServicesDep, name: str | None = None, model: str | None = None
) -> DeploymentList:
    """Deployments, newest first (of one name and/or model)."""
    found = services.deployments.list(name=name, model=model)
    return DeploymentList(deployments=[DeploymentOut.from_entity(d) for d in found])


@router.get("/{deployment_id}")
def get(deployment_id: int, services: ServicesDep) -> DeploymentOut:
    """One deployment."""
    return DeploymentOut.from_entity(services.deployments.get(deployment_id))
