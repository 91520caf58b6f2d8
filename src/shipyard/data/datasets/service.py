"""The dataset catalog interface: the metadata of dataset versions.

The snapshot itself is an artifact (owner ``dataset:<name>@<version>``, path ``data.parquet``)
stored through the artifact service first; ``add_version`` then records it, after checking that
the stored file's SHA-256 is the version id. ``SqlDatasetCatalog`` (``shipyard.data.datasets.sql``)
implements it on the metadata database, ``HttpDatasetCatalog`` (``shipyard.client.http``) over a
team server. Reading, writing and comparing snapshots lives in ``shipyard.data.datasets.store``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from shipyard.data.datasets.entities import Dataset, DatasetVersion

SNAPSHOT_FILE = "data.parquet"


class DatasetCatalog(Protocol):
    def add_version(
        self,
        name: str,
        version: str,
        *,
        num_rows: int,
        num_bytes: int,
        schema: Mapping[str, str],
        profile: Mapping[str, Any],
        source: Mapping[str, Any],
        watermark: Any = None,
        parent: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Record an uploaded snapshot as a version of ``name`` (created on first use).

        Returns the version and whether it is new: recording content the dataset already has
        returns the existing version and False. Raises InvalidArgument for a bad name or
        version id, NotFound when the snapshot file was not uploaded, IntegrityError when its
        SHA-256 is not ``version``.
        """
        ...

    def get_version(self, name: str, version: str | None = None) -> DatasetVersion:
        """A version by full id or unique prefix (6+ hex digits), ``latest`` or None for
        the newest, or ``#N`` for the N-th. Raises NotFound, InvalidArgument (ambiguous)."""
        ...

    def list_versions(self, name: str) -> list[DatasetVersion]:
        """The dataset's versions, newest first. Raises NotFound for an unknown dataset."""
        ...

    def list_datasets(self) -> list[Dataset]:
        """Every dataset, by name, with its newest version."""
        ...

    def delete_version(self, name: str, version: str) -> None:
        """Forget a version and its files (blobs go at the next ``shipyard gc``).
        Raises NotFound."""
        ...
