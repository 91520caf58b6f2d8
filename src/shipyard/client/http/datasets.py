"""``HttpDatasetCatalog``: the dataset catalog over a team server's REST API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.client.http._transport import API, HttpTransport, parse, segment
from shipyard.data.datasets.entities import Dataset, DatasetVersion
from shipyard.server import schemas as sc


class HttpDatasetCatalog:
    """:class:`~shipyard.data.datasets.service.DatasetCatalog` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

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
        """Record an uploaded snapshot. Idempotent, so safe to repeat."""
        body = {
            "version": version,
            "num_rows": num_rows,
            "num_bytes": num_bytes,
            "schema": dict(schema),
            "profile": dict(profile),
            "source": dict(source),
            "watermark": watermark,
            "parent": parent,
            "description": description,
            "tags": None if tags is None else dict(tags),
        }
        data = self._http.call(
            "POST", f"{_dataset_path(name)}/versions", body=body, idempotent=True
        )
        out = parse(sc.DatasetVersionCreated, data)
        return out.version.to_entity(), out.created

    def get_version(self, name: str, version: str | None = None) -> DatasetVersion:
        """A version by id, prefix, ``#N`` or the newest. Raises NotFound."""
        path = f"{_dataset_path(name)}/versions/{segment(version or 'latest')}"
        return parse(
            sc.DatasetVersionOut, self._http.call("GET", path, idempotent=True)
        ).to_entity()

    def list_versions(self, name: str) -> list[DatasetVersion]:
        """The dataset's versions, newest first. Raises NotFound."""
        data = self._http.call("GET", f"{_dataset_path(name)}/versions", idempotent=True)
        return [v.to_entity() for v in parse(sc.DatasetVersionList, data).versions]

    def list_datasets(self) -> list[Dataset]:
        """Every dataset, by name, with its newest version."""
        data = self._http.call("GET", f"{API}/datasets", idempotent=True)
        return [d.to_entity() for d in parse(sc.DatasetList, data).datasets]

    def delete_version(self, name: str, version: str) -> None:
        """Forget a version and its files. Raises NotFound."""
        path = f"{_dataset_path(name)}/versions/{segment(version)}"
        self._http.call("DELETE", path, idempotent=True)


def _dataset_path(name: str) -> str:
    return f"{API}/datasets/{segment(name)}"
