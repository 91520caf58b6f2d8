"""Point-in-time joins of feature views onto entity rows, as pure functions over Arrow tables.

The rule (docs: the feature store's time semantics): for an entity row with event time T and a
view with TTL d, the feature row used is, among the view's rows with equal join keys and
``T - d <= ts <= T`` (both ends inclusive; no lower bound without a TTL), the one with the
greatest ``ts``; ties go to the row that comes last in the view's table order. No such row, a
null key or a null T: nulls. Every entity row comes back, in its order, its columns unchanged.

How: each view is laid out by (keys, timestamp) with a stable sort (``sort_for_join``, done once
when the data is written; ``ViewFrame.sorted`` says so), cut into runs of equal keys; entity
rows are matched to runs (a lookup table for dense integer ids, hashing otherwise) and bisected
inside their run all at once with NumPy; the features are gathered with Arrow ``take``. See
``_layout.py`` and ``_keys.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidArgument

from ._frames import as_table, require_columns
from ._keys import clean_key, match_groups, unify
from ._layout import NEVER, Layout, build_layout, last_at_or_before, latest_rows, sort_order
from ._time import NAT, instant_us, normalise_timestamps, ttl_us

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
"""The type of every timestamp the join engine writes."""


@dataclass(frozen=True)
class ViewFrame:
    """One feature view's offline rows and how to join them.

    ``keys``: join key columns, named alike in the entity table and in ``table``; ``timestamp``:
    the event-time column of ``table``; ``features``: the columns to return, named
    ``output_names`` (default: ``features``); ``ttl``: how old a row may be (None: any age);
    ``sorted``: ``table`` is already laid out by :func:`sort_for_join` (checked, not trusted
    blindly). ``table`` may also be a pandas DataFrame. Raises InvalidArgument for a malformed
    definition (wrong types, negative TTL, ``output_names`` of the wrong length).
    """

    name: str
    keys: tuple[str, ...]
    timestamp: str
    features: tuple[str, ...]
    ttl: timedelta | None
    table: pa.Table
    output_names: tuple[str, ...] | None = None
    sorted: bool = False

    def __post_init__(self) -> None:
        for field in ("keys", "features", "output_names"):
            value = getattr(self, field)
            if isinstance(value, list):
                object.__setattr__(self, field, tuple(value))
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgument(f"a view's name must be a non-empty string, got {self.name!r}")
        _check_names(self.keys, f"keys of view {self.name!r}")
        _check_names(self.features, f"features of view {self.name!r}")
        _check_names((self.timestamp,), f"timestamp column of view {self.name!r}")
        if self.output_names is not None:
            _check_names(self.output_names, f"output_names of view {self.name!r}")
            if len(self.output_names) != len(self.features):
                raise InvalidArgument(
                    f"view {self.name!r} has {len(self.features)} features but "
                    f"{len(self.output_names)} output_names; give one name per feature"
                )
        ttl_us(self.ttl, what=f"ttl of view {self.name!r}")

    @property
    def columns_out(self) -> tuple[str, ...]:
        """The names of the feature columns this view adds to a result."""
        return self.output_names if self.output_names is not None else self.features


def _check_names(names: object, what: str) -> None:
    if not isinstance(names, tuple) or not all(isinstance(n, str) and n for n in names):
        raise InvalidArgument(f"{what} must be a tuple of non-empty strings, got {names!r}")
    if len(set(names)) != len(names):
        raise InvalidArgument(f"{what} name a column twice: {names!r}")


def sort_for_join(table: Any, keys: Sequence[str], timestamp: str) -> pa.Table:
    """``table`` in the join layout: a stable sort by (``keys``…, ``timestamp``), nulls last.

    The timestamp column comes back as ``timestamp[us, UTC]`` (see the time semantics); other
    columns are unchanged. Write offline data this way once and join it with
    ``ViewFrame(sorted=True)``: the join then skips its sort. Accepts a pandas DataFrame too.
    Raises InvalidArgument for missing columns or a timestamp column of another type.

    >>> import pyarrow as pa
    >>> t = pa.table({"id": [2, 1, 2], "ts": pa.array([5, 9, 1], pa.timestamp("s"))})
    >>> sort_for_join(t, ["id"], "ts").to_pydict()["id"]
    [1, 2, 2]
    """
    table = as_table(table, what="the table to sort", timestamp_columns=[timestamp])
    require_columns(table, [*keys, timestamp], role="join", where="the table to sort")
    ts = normalise_timestamps(table.column(timestamp), what=f"timestamp column {timestamp!r}")
    valid = ts != NAT
    stamped = pa.array(ts, type=TIMESTAMP_TYPE, mask=None if valid.all() else ~valid)
    cleaned = [clean_key(table.column(k), name=k, where="the table to sort") for k in keys]
    order = sort_order(cleaned, np.where(valid, ts, NEVER))
    at = table.column_names.index(timestamp)
    laid_out = table.set_column(at, pa.field(timestamp, TIMESTAMP_TYPE), stamped)
    return laid_out.take(pa.array(order))


def point_in_time_join(
    entities: Any,
    event_timestamp: str,
    views: Sequence[ViewFrame],
    *,
    include_timestamps: bool = False,
) -> pa.Table:
    """``entities`` with each view's feature values as of each row's event time.

    Returns the entity table's columns unchanged, in order, plus per view its feature columns
    (named ``output_names``) and, with ``include_timestamps``, ``"{view}__event_timestamp"``: the
    chosen row's event time (``timestamp[us, UTC]``). A row with a null event time or a null join
    key gets nulls. ``entities`` may be a pandas DataFrame.

    Raises InvalidArgument for a missing event timestamp, join key or feature column (naming
    the view and the columns there are), timestamps that are not timestamps or mix naive and
    aware values, join keys of incompatible types and output columns that would clash.

    >>> from datetime import timedelta
    >>> import pyarrow as pa
    >>> ts = pa.timestamp("s", tz="UTC")
    >>> rows = pa.table({"id": [1, 1], "ts": pa.array([10, 20], ts), "x": [0.5, 0.7]})
    >>> view = ViewFrame("v", ("id",), "ts", ("x",), timedelta(seconds=5), rows)
    >>> asked = pa.table({"id": [1, 1, 2], "at": pa.array([22, 26, 22], ts)})
    >>> point_in_time_join(asked, "at", [view]).column("x").to_pylist()
    [0.7, None, None]
    """
    entities = as_table(entities, what="the entity table", timestamp_columns=[event_timestamp])
    if event_timestamp not in entities.column_names:
        raise InvalidArgument(
            f"the entity table has no event timestamp column {event_timestamp!r}; its columns "
            f"are: {', '.join(entities.column_names) or '(none)'}"
        )
    for view in views:
        if not isinstance(view, ViewFrame):
            raise InvalidArgument(f"views must be ViewFrame objects, got {type(view).__name__}")
    _check_output_names(entities.column_names, views, include_timestamps)
    times = normalise_timestamps(
        entities.column(event_timestamp),
        what=f"event timestamp column {event_timestamp!r} of the entity table",
    )
    null_times = times == NAT if entities.column(event_timestamp).null_count else None
    result = entities
    for view in views:
        table = _view_table(view)
        require_columns(
            entities,
            view.keys,
            role="join key",
            where=f"the entity table (view {view.name!r} joins on it)",
        )
        positions, layout = _join_one(entities, times, null_times, view, table)
        picked = _gather(table.select(list(view.features)), layout.rows(positions))
        for name, column in zip(view.columns_out, picked.columns, strict=True):
            result = result.append_column(name, column)
        if include_timestamps:
            result = result.append_column(
                f"{view.name}__event_timestamp", _stamps(layout, positions)
            )
    return result


def _view_table(view: ViewFrame) -> Any:
    """The view's table as Arrow, with its key, timestamp and feature columns checked."""
    where = f"the table of view {view.name!r}"
    table = as_table(view.table, what=where, timestamp_columns=[view.timestamp])
    require_columns(table, view.keys, role="join key", where=where)
    require_columns(table, [view.timestamp], role="timestamp", where=where)
    require_columns(table, view.features, role="feature", where=where)
    return table


def _check_output_names(
    entity_columns: Sequence[str], views: Sequence[ViewFrame], include_timestamps: bool
) -> None:
    seen = {name: "the entity table" for name in entity_columns}
    for view in views:
        added = list(view.columns_out)
        if include_timestamps:
            added.append(f"{view.name}__event_timestamp")
        for name in added:
            if name in seen:
                raise InvalidArgument(
                    f"output column {name!r} of view {view.name!r} clashes with one of "
                    f"{seen[name]}; rename it with output_names (e.g. 'view__feature')"
                )
            seen[name] = f"view {view.name!r}"


def _join_one(
    entities: Any, times: np.ndarray, null_times: np.ndarray | None, view: ViewFrame, table: Any
) -> tuple[np.ndarray, Layout]:
    """The view's layout and, per entity row, the sorted position of its feature row (-1: none).

    Works on whole arrays, a few passes over the entity rows; allocations are kept few
    because fresh memory is what these passes mostly pay for.
    """
    layout = build_layout(table, view.keys, view.timestamp, presorted=view.sorted, view=view.name)
    if not len(layout.starts):  # no usable rows: nothing matches, whatever the key types
        return np.full(len(times), -1, dtype=layout.starts.dtype), layout
    groups = _entity_groups(entities, view, layout)
    unusable = groups < 0
    if null_times is not None:
        unusable |= null_times
    lo = layout.starts.take(groups, mode="clip")  # unusable rows get an empty range below
    hi = layout.ends.take(groups, mode="clip")
    np.copyto(hi, lo, where=unusable)
    found = last_at_or_before(layout.ts, lo, hi, times)
    missing = found < lo
    ttl = ttl_us(view.ttl, what=f"ttl of view {view.name!r}")
    if ttl is not None:
        missing |= layout.ts.take(found, mode="clip") < times - ttl
    found[missing] = -1
    return found, layout


def _entity_groups(entities: Any, view: ViewFrame, layout: Layout) -> np.ndarray:
    """Per entity row, the layout run with its keys (-1: none)."""
    ent_keys, run_keys = [], []
    for name, runs in zip(view.keys, layout.keys, strict=True):
        column = clean_key(entities.column(name), name=name, where="the entity table")
        ent, run = unify(column, runs, name=name, view_name=view.name)
        ent_keys.append(ent)
        run_keys.append(run)
    return match_groups(ent_keys, run_keys, entities.num_rows)


def _gather(table: Any, rows: np.ndarray) -> Any:
    """``table``'s rows ``rows``, all nulls where a row is -1.

    Arrow's ``take`` with null indices is several times slower than without, so missing rows
    are taken as row 0 and blanked afterwards.
    """
    missing = rows < 0
    if not missing.any():
        return table.take(pa.array(rows))
    taken = table.take(pa.array(np.where(missing, 0, rows))) if table.num_rows else None
    blank = pa.array(missing)
    columns = [
        pc.if_else(blank, pa.scalar(None, field.type), taken.column(i))
        if taken is not None
        else pa.nulls(len(rows), field.type)
        for i, field in enumerate(table.schema)
    ]
    return pa.table(columns, schema=table.schema)


def _stamps(layout: Layout, positions: np.ndarray) -> Any:
    """The event times at sorted ``positions`` (null at -1), as ``timestamp[us, UTC]``."""
    missing = positions < 0
    values = layout.ts.take(positions, mode="clip") if len(layout.ts) else positions
    return pa.array(
        values.astype(np.int64), type=TIMESTAMP_TYPE, mask=missing if missing.any() else None
    )


def latest_as_of(view: ViewFrame, as_of: datetime | date | None = None) -> pa.Table:
    """All entities as of ``as_of``: one row per distinct key with its latest feature row.

    The row chosen per key is the one the point-in-time rule picks for an entity row at
    ``as_of`` (naive: UTC): the latest at or before it, within the TTL, ties to the last in
    table order; keys with none are left out. ``as_of=None`` means no upper bound: the latest
    row of every key, whatever its age (there is no reference time for the TTL). Keys holding a
    null are left out (a null key matches nothing). Columns: the keys, ``view.timestamp``
    (``timestamp[us, UTC]``) and the features under their output names, sorted by key.

    >>> from datetime import datetime
    >>> import pyarrow as pa
    >>> rows = pa.table({"id": [1, 1, 2], "ts": pa.array([1, 3, 2], pa.timestamp("s")),
    ...                  "x": [0.1, 0.3, 0.2]})
    >>> view = ViewFrame("v", ("id",), "ts", ("x",), None, rows)
    >>> latest_as_of(view, datetime(1970, 1, 1, 0, 0, 2)).to_pydict()["x"]
    [0.1, 0.2]
    """
    table = _view_table(view)
    clash = set(view.columns_out) & {*view.keys, view.timestamp}
    if clash:
        raise InvalidArgument(
            f"output column(s) {sorted(clash)} of view {view.name!r} clash with its key or "
            "timestamp columns; rename them with output_names"
        )
    fast = None
    if as_of is None and not view.sorted:  # every key's latest row: no layout needed
        fast = latest_rows(table, view.keys, view.timestamp, view=view.name)
    if fast is not None:
        rows = pa.array(fast)
        ts = normalise_timestamps(table.column(view.timestamp).take(rows), what="timestamp")
    else:
        layout = build_layout(
            table, view.keys, view.timestamp, presorted=view.sorted, view=view.name
        )
        limit = NEVER - 1 if as_of is None else instant_us(as_of, what="as_of")
        found = last_at_or_before(layout.ts, layout.starts, layout.ends, limit)
        ok = found >= layout.starts
        ttl = ttl_us(view.ttl, what=f"ttl of view {view.name!r}")
        if as_of is not None and ttl is not None:
            ok &= layout.ts[np.maximum(found, 0)] >= limit - ttl
        positions = found[ok]
        rows = pa.array(layout.rows(positions))
        ts = layout.ts[positions]
    columns = {k: table.column(k).take(rows) for k in view.keys}
    columns[view.timestamp] = pa.array(ts, type=TIMESTAMP_TYPE)
    features = table.select(list(view.features)).take(rows)
    columns.update(zip(view.columns_out, features.columns, strict=True))
    return pa.table(columns)
