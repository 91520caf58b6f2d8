"""The offline side of a feature view: its rows laid out for the point-in-time join.

A view's rows are its source dataset's version (the newest unless the view pins one) plus the
rows pushed to it. The dataset part is cached, sorted by join keys and event time, under
``SHIPYARD_HOME/features/offline/<view>/<dataset version>-<spec>.parquet``: it is derived from
an immutable snapshot, so the cache never goes stale and the join skips sorting. Pushed rows
are appended as Parquet parts under ``SHIPYARD_HOME/features/pushed/<view>/`` by the process
that receives the push (the SDK, or the team server for ``POST /api/v1/features/push``).
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from shipyard.data.datasets import DatasetStore, DatasetVersion
from shipyard.errors import InvalidArgument
from shipyard.features.definitions import FeatureView, spec_hash
from shipyard.features.offline.join import sort_for_join

ARROW_TYPES = {
    "float64": pa.float64(),
    "int64": pa.int64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class ViewRows:
    """A view's offline rows (sorted when ``sorted``) and the dataset version they came from."""

    table: pa.Table
    sorted: bool
    source: DatasetVersion | None


class OfflineStore:
    """Offline rows of feature views: cached sorted snapshots plus pushed rows."""

    def __init__(self, datasets: DatasetStore, root: Path) -> None:
        self.datasets = datasets
        self.root = root

    def rows(self, view: FeatureView, keys: tuple[str, ...], *, lay_out: bool = True) -> ViewRows:
        """Every offline row of ``view`` (columns: keys, timestamp, features).

        The dataset part comes from the laid-out cache; when that is missing it is built and
        written, unless ``lay_out`` is False (a caller that reads the rows once, such as
        materialization, which only needs the latest row per key, gets them unsorted).
        """
        parts: list[pa.Table] = []
        source = None
        laid_out = True
        if view.source is not None:
            source = self.datasets.get(view.source)
            table, laid_out = self._source(view, keys, source, lay_out=lay_out)
            parts.append(table)
        pushed = self.pushed(view, keys)
        if pushed is not None:
            parts.append(pushed)
        if not parts:
            return ViewRows(_empty(view, keys), True, None)
        if len(parts) == 1:
            return ViewRows(parts[0], laid_out and pushed is None, source)
        return ViewRows(pa.concat_tables(parts, promote_options="permissive"), False, source)

    def _source(
        self, view: FeatureView, keys: tuple[str, ...], version: DatasetVersion, *, lay_out: bool
    ) -> tuple[pa.Table, bool]:
        """The dataset version's rows and whether they are laid out (sorted for the join)."""
        import pyarrow.parquet as pq

        cache = (
            self.root
            / "offline"
            / view.name
            / f"{version.version[:16]}-{spec_hash(view)[:12]}.parquet"
        )
        if cache.is_file():
            return pq.ParquetFile(cache).read(), True  # read_table would import pandas
        table = conform(self.datasets.load_version(version), view, keys, what=version.ref)
        if not lay_out:
            return table, False
        laid_out = sort_for_join(table, keys, view.timestamp)
        _write_atomic(laid_out, cache)
        return laid_out, True

    def append_pushed(self, view: FeatureView, table: pa.Table) -> Path:
        """Append pushed rows (already conformed) as a new Parquet part."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        path = self.root / "pushed" / view.name / name
        _write_atomic(table, path)
        return path

    def pushed(self, view: FeatureView, keys: tuple[str, ...]) -> pa.Table | None:
        """The rows pushed to ``view``, in push order, or None."""
        import pyarrow.parquet as pq

        folder = self.root / "pushed" / view.name
        if not folder.is_dir():
            return None
        files = sorted(p for p in folder.glob("*.parquet"))
        if not files:
            return None
        tables = [
            conform(pq.ParquetFile(f).read(), view, keys, what=f"pushed rows {f.name}")
            for f in files
        ]
        try:
            return pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InvalidArgument(
                f"the rows pushed to view {view.name!r} do not share one schema ({exc}); push "
                f"keys of one type, or move the odd files out of {folder}"
            ) from exc


def conform(table: pa.Table, view: FeatureView, keys: tuple[str, ...], *, what: str) -> pa.Table:
    """The view's columns of ``table`` (keys, timestamp, features) cast to declared types.

    Raises InvalidArgument naming the missing column, or the column whose values do not fit
    its declared type (a source that changed since ``apply``).
    """
    import pyarrow.compute as pc

    from shipyard.features.offline import normalise_timestamps

    columns = [*keys, view.timestamp, *view.feature_names]
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidArgument(
            f"{what} has no column(s) {missing} that view {view.name!r} needs; its columns are "
            f"{table.column_names}. Fix the source or the view and run `shipyard features apply`"
        )
    arrays = [_key_column(table.column(k)) for k in keys]
    stamps = _parse_text_times(table.column(view.timestamp), f"{what}: {view.timestamp}")
    ts = normalise_timestamps(stamps, what=f"{what}: {view.timestamp}")
    arrays.append(pa.array(ts, pa.int64()).cast(pa.timestamp("us", tz="UTC")))
    if pc.sum(pc.is_null(table.column(view.timestamp))).as_py():
        raise InvalidArgument(f"{what}: column {view.timestamp!r} has null event times")
    for feature in view.features:
        col = table.column(feature.name)
        try:
            if feature.dtype == "timestamp":
                arrays.append(_utc_times(col, f"{what}: {feature.name}"))
            else:
                arrays.append(col.cast(ARROW_TYPES[feature.dtype]))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidArgument(
                f"{what}: column {feature.name!r} ({col.type}) does not fit its declared type "
                f"{feature.dtype} in view {view.name!r}: {exc}"
            ) from exc
    return pa.table(arrays, names=columns)


def _key_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A join key in one type whatever it was written as: integers as int64, text as string
    (so pushes of int32 and int64 keys, or of string and large_string, concatenate)."""
    kind = column.type
    if pa.types.is_integer(kind) and kind != pa.int64():
        return column.cast(pa.int64())
    if pa.types.is_large_string(kind):
        return column.cast(pa.string())
    return column


def _utc_times(column: pa.ChunkedArray, what: str) -> pa.ChunkedArray:
    """A timestamp feature as ``timestamp[us, UTC]``: ISO text parsed, dates at midnight,
    naive times taken as UTC (as event times are), aware ones converted."""
    import pyarrow.compute as pc

    column = _parse_text_times(column, what)
    if pa.types.is_date(column.type):
        column = column.cast(pa.timestamp("us"))
    if pa.types.is_timestamp(column.type) and column.type.tz is None:
        column = pc.assume_timezone(column.cast(pa.timestamp("us")), "UTC")
    return column.cast(pa.timestamp("us", tz="UTC"))


def _parse_text_times(column: pa.ChunkedArray, what: str) -> pa.ChunkedArray:
    """ISO 8601 text (as JSON carries times) parsed; with no offset, taken as UTC."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return column
    try:
        return column.cast(pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        try:
            return column.cast(pa.timestamp("us"))
        except pa.ArrowInvalid as exc:
            raise InvalidArgument(
                f"{what}: {exc}; write event times as ISO 8601, e.g. 2026-01-01T12:00:00+00:00"
            ) from exc


def _empty(view: FeatureView, keys: tuple[str, ...]) -> pa.Table:
    fields = [pa.field(k, pa.string()) for k in keys]
    fields.append(pa.field(view.timestamp, ARROW_TYPES["timestamp"]))
    fields += [pa.field(f.name, ARROW_TYPES[f.dtype]) for f in view.features]
    return pa.schema(fields).empty_table()


def _write_atomic(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
