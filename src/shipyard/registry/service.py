"""The registry service interface; SQL and HTTP implementations, as for tracking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from shipyard.registry.entities import AliasEvent, ModelVersion, RegisteredModel


class RegistryService(Protocol):
    def create_model(
        self, name: str, *, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Raises AlreadyExists, InvalidArgument (bad name)."""
        ...

    def get_model(self, name: str) -> RegisteredModel: ...

    def list_models(self) -> list[RegisteredModel]: ...

    def update_model(
        self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel: ...

    def create_version(
        self,
        name: str,
        *,
        run_id: str,
        artifact_path: str,
        flavor: str,
        signature: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Register the package at ``artifact_path`` of run ``run_id`` as the next version.

        Creates the registered model if needed. The package's files are shared with the run by
        content (no bytes copied). Raises NotFound (run, or no files at that path).
        """
        ...

    def get_version(self, name: str, version: int) -> ModelVersion: ...

    def list_versions(self, name: str, *, deleted: bool = False) -> list[ModelVersion]: ...

    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion: ...

    def delete_version(self, name: str, version: int) -> None:
        """Soft-delete. Raises Conflict while an alias points at it."""
        ...

    def restore_version(self, name: str, version: int) -> None: ...

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version`` and record the move in the alias history."""
        ...

    def delete_alias(self, name: str, alias: str) -> None: ...

    def resolve(
        self,
        name: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        at: int | None = None,
    ) -> ModelVersion:
        """The version named by number or alias; with ``at`` (ms), the alias as it was then.

        Raises NotFound naming what is missing (model, version, alias).
        """
        ...

    def alias_history(self, name: str, *, alias: str | None = None) -> list[AliasEvent]: ...
