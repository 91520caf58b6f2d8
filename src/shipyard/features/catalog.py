"""The feature catalog interface: versioned definitions and materialization watermarks.

``SqlFeatureCatalog`` (``shipyard.features.sql``) keeps them in the metadata database;
``HttpFeatureCatalog`` (``shipyard.client.http``) talks to a team server. What a definition
means (checking it against its source, joining, serving) lives in ``shipyard.features.store``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredDefinition:
    """One applied version of a definition: ``spec`` is its ``to_dict()``."""

    kind: str
    name: str
    version: int
    spec: Mapping[str, Any]
    spec_hash: str
    user: str
    created_at: int


@dataclass(frozen=True)
class Applied:
    """What ``apply`` did with one definition: ``created``, ``updated`` or ``unchanged``."""

    kind: str
    name: str
    version: int
    status: str


@dataclass(frozen=True)
class Materialization:
    """How far a view was materialized: the newest event time written (µs) and row count."""

    view: str
    watermark_us: int | None
    rows: int
    online_store: str
    updated_at: int


class FeatureCatalog(Protocol):
    def apply(self, specs: Sequence[tuple[str, str, Mapping[str, Any], str]]) -> list[Applied]:
        """Record ``(kind, name, spec, spec_hash)`` definitions in one transaction: a new name
        is version 1, a changed spec the next version, an equal hash nothing."""
        ...

    def list_definitions(self, kind: str | None = None) -> list[StoredDefinition]:
        """The newest version of every definition (of one kind), by kind and name."""
        ...

    def get_definition(self, kind: str, name: str, version: int | None = None) -> StoredDefinition:
        """One definition (newest version by default). Raises NotFound listing the names."""
        ...

    def history(self, kind: str, name: str) -> list[StoredDefinition]:
        """Every version of one definition, newest first. Raises NotFound."""
        ...

    def get_materialization(self, view: str) -> Materialization | None:
        """The view's materialization state, or None before the first one."""
        ...

    def set_materialization(
        self, view: str, *, watermark_us: int | None, rows: int, online_store: str
    ) -> Materialization:
        """Record a finished materialization (only after every row was written)."""
        ...
