"""Plain, frozen values the registry hands out. Times are ms since the epoch (UTC)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str
    created_at: int
    updated_at: int
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)
    latest_version: int | None = None


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    run_id: str | None
    source: str  # where the package came from, e.g. "runs:/<run_id>/model"
    flavor: str
    description: str
    user: str
    created_at: int
    deleted_at: int | None = None
    signature: Mapping[str, Any] | None = None
    metrics: Mapping[str, float] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def owner(self) -> str:
        """The artifact owner key under which this version's package files are stored."""
        from shipyard.artifacts.owners import model_owner

        return model_owner(self.name, self.version)


@dataclass(frozen=True)
class AliasEvent:
    """One move of an alias: ``from_version`` None means created, ``to_version`` None deleted."""

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    user: str
    at: int
