"""``DatasetStore``: ingest, load, compare and check dataset snapshots.

It joins the two services a snapshot needs: the artifact service holds the Parquet file (owner
``dataset:<name>@<version>``), the dataset catalog its metadata. Both may be local or a team
server, so everything here runs the same on a laptop and against a server.

Ingest reads the source into one Arrow table, profiles it, writes it canonically (the version
id is the file's SHA-256), uploads the file, then records the version. Nothing is recorded until
the file is stored and verified, so a failed ingest leaves no version behind; ingesting content
a dataset already has returns its existing version. An incremental source (an SQL source with a
``watermark``) reads only rows newer than the previous version's watermark and appends them to
that version's rows: each version is still a whole snapshot.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shipyard.artifacts.owners import dataset_owner
from shipyard.data.datasets.entities import DatasetVersion
from shipyard.data.datasets.refs import parse_dataset_ref
from shipyard.data.datasets.service import SNAPSHOT_FILE, DatasetCatalog
from shipyard.data.datasets.snapshot import as_table, schema_of, write_snapshot
from shipyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from shipyard.artifacts.service import ArtifactService
    from shipyard.data.profile import ProfileDiff
    from shipyard.data.sources.base import Source
    from shipyard.data.validation import Suite, ValidationReport

QUARANTINE_SUFFIX = "-quarantine"
PROFILE_TOP_K = 50  # enough top values for `shipyard data suggest` to draft allowed_values


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: the version, whether it is new, and how many rows were read."""

    version: DatasetVersion
    created: bool
    rows_read: int


@dataclass(frozen=True)
class CheckResult:
    """A validation of a dataset version, and the quarantine version of its failing rows."""

    version: DatasetVersion
    report: ValidationReport
    quarantine: DatasetVersion | None


class DatasetStore:
    """Dataset snapshots over a catalog and an artifact service."""

    def __init__(self, catalog: DatasetCatalog, artifacts: ArtifactService) -> None:
        self.catalog = catalog
        self.artifacts = artifacts

    # writing ------------------------------------------------------------------------------------
    def ingest(
        self,
        data: Source | pa.Table | Any,
        *,
        name: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> IngestResult:
        """Store ``data`` (a source, an Arrow table or a pandas DataFrame) as a version of
        ``name``. Raises what the source raises, and InvalidArgument for unusable data."""
        parse_dataset_ref(name)  # a bad name fails before any reading
        source_info: dict[str, Any] = {"type": "table"}
        watermark = parent = None
        if hasattr(data, "read") and hasattr(data, "describe"):
            source_info = data.describe()
            since, previous = self._incremental_start(data, name)
            result = data.read(since=since)
            table, watermark = (
                as_table(result.table, what=f"source {data.name!r}"),
                result.watermark,
            )
            rows_read = table.num_rows
            if previous is not None:
                if rows_read == 0:
                    return IngestResult(previous, False, 0)
                table = _append(self.load_version(previous), table, name)
                parent = previous.version
        else:
            table = as_table(data, what="ingest")
            rows_read = table.num_rows
        version, created = self.write(
            table,
            name=name,
            source=source_info,
            watermark=_jsonable_watermark(watermark),
            parent=parent,
            description=description,
            tags=tags,
        )
        return IngestResult(version, created, rows_read)

    def write(
        self,
        table: pa.Table,
        *,
        name: str,
        source: Mapping[str, Any],
        watermark: Any = None,
        parent: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Snapshot ``table`` as a version of ``name``; returns it and whether it is new."""
        from shipyard.data.profile import profile_table

        with tempfile.TemporaryDirectory(prefix="shipyard-snapshot-") as tmp:
            path = Path(tmp) / SNAPSHOT_FILE
            sha = write_snapshot(table, path)
            try:
                return self.catalog.get_version(name, sha), False
            except NotFound:
                pass
            self.artifacts.upload_stream(
                dataset_owner(name, sha), SNAPSHOT_FILE, _chunks(path), sha256=sha
            )
            size = path.stat().st_size
        return self.catalog.add_version(
            name,
            sha,
            num_rows=table.num_rows,
            num_bytes=size,
            schema=schema_of(table),
            profile=profile_table(table, top_k=PROFILE_TOP_K).to_dict(),
            source=source,
            watermark=watermark,
            parent=parent,
            description=description,
            tags=tags,
        )

    def _incremental_start(self, source: Source, name: str) -> tuple[Any, DatasetVersion | None]:
        if getattr(source, "watermark", None) is None:
            return None, None
        try:
            previous = self.catalog.get_version(name)
        except NotFound:
            return None, None
        if previous.watermark is None:
            return None, None
        return previous.watermark, previous

    # reading ------------------------------------------------------------------------------------
    def get(self, ref: str) -> DatasetVersion:
        """The version ``ref`` names (``NAME``, ``NAME@VERSION``, ``dataset:NAME@VERSION``)."""
        name, version = parse_dataset_ref(ref)
        return self.catalog.get_version(name, version)

    def load(self, ref: str) -> tuple[pa.Table, DatasetVersion]:
        """The rows of the version ``ref`` names, and that version. Raises NotFound."""
        version = self.get(ref)
        return self.load_version(version), version

    def load_version(self, version: DatasetVersion) -> pa.Table:
        """The rows of ``version``, verified against its SHA-256 (read into memory at once and
        hashed while Parquet decodes it: no temporary copy on disk)."""
        import pyarrow.parquet as pq

        owner = dataset_owner(version.name, version.version)
        # ParquetFile, not read_table: that goes through pyarrow.dataset, whose import pulls
        # in pandas (0.4 s in a fresh process, a third of a cold materialization)
        table: pa.Table = self.artifacts.read(
            owner, SNAPSHOT_FILE, lambda data: pq.ParquetFile(pa.BufferReader(data)).read()
        )
        return table

    def diff(self, old: str, new: str) -> ProfileDiff:
        """Schema, row-count and distribution changes from version ``old`` to ``new``."""
        from shipyard.data.profile import compare

        return compare(self.get(old).table_profile(), self.get(new).table_profile())

    # checking -----------------------------------------------------------------------------------
    def check(
        self,
        ref: str,
        suite: Suite,
        *,
        against: str | None = None,
        quarantine: bool = True,
        now: dt.datetime | None = None,
    ) -> CheckResult:
        """Validate the version ``ref`` names with ``suite``.

        ``referential`` rules name other datasets (``reference: countries`` or
        ``countries@VERSION``); ``distribution`` rules compare with ``against`` (default: the
        version before this one). With ``quarantine``, failing rows are stored as a version of
        ``NAME-quarantine`` with a ``_failed_rules`` column and tags naming the rules.
        """
        from shipyard.data.validation import Distribution, Referential, failing_rows, validate

        table, version = self.load(ref)
        references = {
            r.reference: self.load(r.reference)[0]
            for r in suite.rules
            if isinstance(r, Referential)
        }
        profile = None
        if any(isinstance(r, Distribution) for r in suite.rules):
            profile = self._reference_version(version, against).table_profile()
        report = validate(table, suite, now=now, references=references, reference_profile=profile)
        kept = None
        if quarantine and report.failed:
            bad = failing_rows(table, report)
            if bad.num_rows:
                kept, _ = self.write(
                    bad,
                    name=f"{version.name}{QUARANTINE_SUFFIX}",
                    source={"type": "quarantine", "of": version.uri, "suite": suite.name},
                    description=f"rows of {version.ref} that failed suite {suite.name!r}",
                    tags={
                        "quarantine_of": version.uri,
                        "suite": suite.name,
                        "failed_rules": ",".join(r.name for r in report.failed),
                    },
                )
        return CheckResult(version, report, kept)

    def _reference_version(self, version: DatasetVersion, against: str | None) -> DatasetVersion:
        if against is not None:
            return self.get(against)
        if version.seq > 1:
            return self.catalog.get_version(version.name, f"#{version.seq - 1}")
        raise InvalidArgument(
            f"{version.ref} is the first version of {version.name!r}, so its distribution rules "
            "have nothing to compare with: pass against=NAME@VERSION (CLI: --against)"
        )


def _append(old: pa.Table, new: pa.Table, name: str) -> pa.Table:
    try:
        return pa.concat_tables([old, new], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidArgument(
            f"the new rows of {name!r} do not fit its previous version's schema ({exc}); "
            "ingest them under a new dataset name, or fix the source's column types"
        ) from exc


def _jsonable_watermark(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        yield from iter(lambda: f.read(1 << 20), b"")
