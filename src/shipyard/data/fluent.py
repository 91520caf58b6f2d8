"""The dataset SDK: ingest, load (with lineage), list, compare and check dataset versions.

Functions talk to the services the SDK is configured for (``shipyard.configure`` or the
environment): a local store or a team server.

>>> import shipyard
>>> shipyard.ingest_dataset  # doctest: +ELLIPSIS
<function ingest_dataset at ...>
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.data.datasets.entities import Dataset, DatasetVersion
from shipyard.data.datasets.store import CheckResult, DatasetStore, IngestResult
from shipyard.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.data.profile import ProfileDiff
    from shipyard.data.sources.base import Source
    from shipyard.data.validation import Suite


def dataset_store() -> DatasetStore:
    """The :class:`DatasetStore` over the SDK's configured services."""
    from shipyard.tracking.fluent import services

    svc = services()
    return DatasetStore(svc.datasets, svc.artifacts)


def resolve_source(source: Source | str, *, name: str | None = None) -> Source:
    """A source object from one, from the name of a ``sources:`` entry of ``shipyard.yaml``,
    or from a file path, glob or fsspec URL (read as files, named by ``name`` or its stem)."""
    if not isinstance(source, str):
        return source
    from shipyard.data.sources import sources_from_settings
    from shipyard.data.sources.files import FileSource
    from shipyard.tracking.fluent import services

    configured = sources_from_settings(services().settings)
    if source in configured:
        return configured[source]
    if not source.strip():
        raise InvalidArgument("the source is empty: give a sources: name, a path or a URL")
    stem = Path(source.rstrip("/").split("/")[-1]).name.split(".")[0].replace("*", "") or "data"
    return FileSource(name or stem, source)


def ingest_dataset(
    source: Source | str | pa.Table | Any,
    *,
    name: str | None = None,
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> IngestResult:
    """Snapshot ``source`` as a new version of dataset ``name`` (default: the source's name).

    ``source`` is a connector (``shipyard.data.sources``), the name of a ``sources:`` entry in
    ``shipyard.yaml``, a file path/glob/URL, an Arrow table or a pandas DataFrame. Returns the
    :class:`IngestResult` (``.version``, ``.created`` False when the content was already there,
    ``.rows_read``). An incremental SQL source reads only rows past the last version's watermark.
    """
    if isinstance(source, str) or (hasattr(source, "read") and hasattr(source, "describe")):
        src = resolve_source(source, name=name)
        return dataset_store().ingest(
            src, name=name or src.name, description=description, tags=tags
        )
    if name is None:
        raise InvalidArgument("ingest_dataset of a table or DataFrame needs name=")
    return dataset_store().ingest(source, name=name, description=description, tags=tags)


def load_dataset(ref: str, *, context: str = "training", run_id: str | None = None) -> pa.Table:
    """The rows of ``NAME``, ``NAME@VERSION`` or ``dataset:NAME@VERSION`` as an Arrow table.

    Inside a run (or with ``run_id``) the run records that it read this exact version
    (``shipyard runs show`` lists it under inputs), so loading it again is reproducible.
    """
    from shipyard.tracking import fluent

    table, version = dataset_store().load(ref)
    active = fluent.active_run()
    target = run_id or (active.run_id if active is not None else None)
    if target is not None:
        fluent.log_input(as_input(version, context), run_id=target)
    return table


def as_input(version: DatasetVersion, context: str) -> Any:
    """The lineage record of a run reading ``version``."""
    from shipyard._util import now_ms
    from shipyard.tracking.entities import DatasetInput

    return DatasetInput(
        name=version.name,
        digest=version.version,
        source=version.uri,
        context=context,
        num_rows=version.num_rows,
        schema=dict(version.schema),
        logged_at=now_ms(),
    )


def get_dataset(ref: str) -> DatasetVersion:
    """The version ``ref`` names (newest when it has no ``@VERSION``). Raises NotFound."""
    return dataset_store().get(ref)


def list_datasets() -> list[Dataset]:
    """Every dataset, by name, with its newest version."""
    return dataset_store().catalog.list_datasets()


def list_dataset_versions(name: str) -> list[DatasetVersion]:
    """A dataset's versions, newest first. Raises NotFound."""
    return dataset_store().catalog.list_versions(name)


def diff_datasets(old: str, new: str) -> ProfileDiff:
    """Schema, row-count and distribution changes between two versions."""
    return dataset_store().diff(old, new)


def check_dataset(
    ref: str,
    suite: Suite | str | Path,
    *,
    against: str | None = None,
    quarantine: bool = True,
    now: dt.datetime | None = None,
) -> CheckResult:
    """Validate a dataset version with ``suite`` (a Suite or a YAML file); failing rows go to
    ``NAME-quarantine`` unless ``quarantine=False``. See :meth:`DatasetStore.check`."""
    from shipyard.data.validation import Suite

    if not isinstance(suite, Suite):
        suite = Suite.from_yaml(suite)
    return dataset_store().check(ref, suite, against=against, quarantine=quarantine, now=now)
