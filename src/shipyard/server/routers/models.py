"""``/api/v1/models``: registered models, their versions, aliases and alias history."""

from __future__ import annotations

from fastapi import APIRouter, status

from shipyard.server.deps import ServicesDep
from shipyard.server.schemas import (
    AliasEventOut,
    AliasHistory,
    AliasSet,
    ModelCreate,
    ModelList,
    ModelOut,
    ModelUpdate,
    VersionCreate,
    VersionList,
    VersionOut,
    VersionUpdate,
    decode_loose,
)

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_model(body: ModelCreate, services: ServicesDep) -> ModelOut:
    """Register a model with no versions yet (409 if the name is taken)."""
    model = services.registry.create_model(body.name, description=body.description, tags=body.tags)
    return ModelOut.from_entity(model)


@router.get("")
def list_models(services: ServicesDep) -> ModelList:
    """Every registered model, by name."""
    return ModelList(models=[ModelOut.from_entity(m) for m in services.registry.list_models()])


@router.get("/{name}")
def get_model(name: str, services: ServicesDep) -> ModelOut:
    """A model with its tags, aliases and newest version."""
    return ModelOut.from_entity(services.registry.get_model(name))


@router.patch("/{name}")
def update_model(name: str, body: ModelUpdate, services: ServicesDep) -> ModelOut:
    """Change the description and/or merge tags."""
    model = services.registry.update_model(name, description=body.description, tags=body.tags)
    return ModelOut.from_entity(model)


@router.post("/{name}/versions", status_code=status.HTTP_201_CREATED)
def create_version(name: str, body: VersionCreate, services: ServicesDep) -> VersionOut:
    """Register a run's files at ``artifact_path`` as the model's next version."""
    metrics = (
        None if body.metrics is None else {k: decode_loose(v) for k, v in body.metrics.items()}
    )
    version = services.registry.create_version(
        name,
        run_id=body.run_id,
        artifact_path=body.artifact_path,
        flavor=body.flavor,
        signature=body.signature,
        metrics=metrics,
        description=body.description,
        tags=body.tags,
    )
    return VersionOut.from_entity(version)


@router.get("/{name}/versions")
def list_versions(name: str, services: ServicesDep, deleted: bool = False) -> VersionList:
    """The model's versions, newest first."""
    found = services.registry.list_versions(name, deleted=deleted)
    return VersionList(versions=[VersionOut.from_entity(v) for v in found])


@router.get("/{name}/versions/{version}")
def get_version(name: str, version: int, services: ServicesDep) -> VersionOut:
    """One version (deleted ones too)."""
    return VersionOut.from_entity(services.registry.get_version(name, version))


@router.patch("/{name}/versions/{version}")
def update_version(
    name: str, version: int, body: VersionUpdate, services: ServicesDep
) -> VersionOut:
    """Change a version's description and/or merge tags."""
    updated = services.registry.update_version(
        name, version, description=body.description, tags=body.tags
    )
    return VersionOut.from_entity(updated)


@router.delete("/{name}/versions/{version}", status_code=status.HTTP_204_NO_CONTENT)
def delete_version(name: str, version: int, services: ServicesDep) -> None:
    """Soft-delete a version (409 while an alias points at it)."""
    services.registry.delete_version(name, version)


@router.post("/{name}/versions/{version}/restore", status_code=status.HTTP_204_NO_CONTENT)
def restore_version(name: str, version: int, services: ServicesDep) -> None:
    """Undo a delete."""
    services.registry.restore_version(name, version)


@router.put("/{name}/aliases/{alias}", status_code=status.HTTP_204_NO_CONTENT)
def set_alias(name: str, alias: str, body: AliasSet, services: ServicesDep) -> None:
    """Point an alias at a version (recorded in the alias history). Refused (409) when the
    server's ``registry.require_gate_for`` lists the alias and the version has no passing gate."""
    from shipyard.pipelines.gates.fluent import check_gate

    check_gate(services, name, alias, body.version)
    services.registry.set_alias(name, alias, body.version)


@router.delete("/{name}/aliases/{alias}", status_code=status.HTTP_204_NO_CONTENT)
def delete_alias(name: str, alias: str, services: ServicesDep) -> None:
    """Remove an alias (recorded in the alias history)."""
    services.registry.delete_alias(name, alias)


@router.get("/{name}/resolve")
def resolve(
    name: str,
    services: ServicesDep,
    version: int | None = None,
    alias: str | None = None,
    at: int | None = None,
) -> VersionOut:
    """The version named by number or alias (the newest with neither); ``at`` for the past."""
    found = services.registry.resolve(name, version=version, alias=alias, at=at)
    return VersionOut.from_entity(found)


@router.get("/{name}/alias-history")
def alias_history(name: str, services: ServicesDep, alias: str | None = None) -> AliasHistory:
    """Every move of the model's aliases (or one alias), oldest first."""
    events = services.registry.alias_history(name, alias=alias)
    return AliasHistory(events=[AliasEventOut.from_entity(e) for e in events])
