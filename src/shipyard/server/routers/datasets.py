"""``/api/v1/datasets``: dataset versions (the snapshot files go through the artifact routes)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from shipyard.server.deps import ServicesDep
from shipyard.server.schemas import (
    DatasetList,
    DatasetOut,
    DatasetVersionCreate,
    DatasetVersionCreated,
    DatasetVersionList,
    DatasetVersionOut,
)

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])


@router.get("")
def list_datasets(services: ServicesDep) -> DatasetList:
    """Every dataset, by name, with its newest version."""
    found = services.datasets.list_datasets()
    return DatasetList(datasets=[DatasetOut.from_entity(d) for d in found])


@router.post("/{name}/versions", status_code=status.HTTP_201_CREATED)
def add_version(
    name: str, body: DatasetVersionCreate, services: ServicesDep, response: Response
) -> DatasetVersionCreated:
    """Record an uploaded snapshot (``data.parquet`` under the version's artifacts) as a
    version; 200 with ``created: false`` when the dataset already has that content."""
    version, created = services.datasets.add_version(
        name,
        body.version,
        num_rows=body.num_rows,
        num_bytes=body.num_bytes,
        schema=body.schema_,
        profile=body.profile,
        source=body.source,
        watermark=body.watermark,
        parent=body.parent,
        description=body.description,
        tags=body.tags,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return DatasetVersionCreated(version=DatasetVersionOut.from_entity(version), created=created)


@router.get("/{name}/versions")
def list_versions(name: str, services: ServicesDep) -> DatasetVersionList:
    """The dataset's versions, newest first."""
    found = services.datasets.list_versions(name)
    return DatasetVersionList(versions=[DatasetVersionOut.from_entity(v) for v in found])


@router.get("/{name}/versions/{version}")
def get_version(name: str, version: str, services: ServicesDep) -> DatasetVersionOut:
    """One version by id, unique prefix, ``#N`` (URL-encoded ``%23N``) or ``latest``."""
    return DatasetVersionOut.from_entity(services.datasets.get_version(name, version))


@router.delete("/{name}/versions/{version}", status_code=status.HTTP_204_NO_CONTENT)
def delete_version(name: str, version: str, services: ServicesDep) -> None:
    """Forget a version and its files."""
    services.datasets.delete_version(name, version)
