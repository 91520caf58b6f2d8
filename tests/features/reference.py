"""The brute-force point-in-time join the engine is checked against (test-only).

It applies the rule of the feature store's time semantics word for word, one entity row and one
feature row at a time, on plain Python values (``to_pylist``): obviously right, hopelessly slow.

For an entity row with event time T and a view with TTL d, the feature row used is, among rows
with equal join keys and T - d <= ts <= T (no lower bound when d is None), the one with the
greatest ts; ties go to the row that comes last in the view's table. No such row: nulls. A null
in any entity join key (or a null T) matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


def micros(value: Any) -> int | None:
    """A Python timestamp as microseconds since the epoch, UTC (naive = UTC; dates at midnight)."""
    if value is None:
        return None
    if isinstance(value, datetime):  # pandas.Timestamp (nanosecond columns) is a datetime too
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int((aware - EPOCH) // MICRO)
    if isinstance(value, date):
        return (value - EPOCH.date()).days * 86_400_000_000
    raise TypeError(f"not a timestamp: {value!r}")


def as_datetime(us: int | None) -> datetime | None:
    """Microseconds since the epoch as an aware UTC datetime."""
    return None if us is None else EPOCH + timedelta(microseconds=us)


def _null(value: Any) -> bool:
    return value is None or value != value  # NaN is not equal to itself


def pick(view: Any, rows: list[dict[str, Any]], keys: Sequence[Any], t: int | None) -> int | None:
    """The index in ``rows`` of the feature row the rule gives keys ``keys`` at time ``t``."""
    if t is None or any(_null(k) for k in keys):
        return None
    ttl = None if view.ttl is None else view.ttl // MICRO
    best, best_ts = None, None
    for i, row in enumerate(rows):
        if any(_null(row[k]) or row[k] != want for k, want in zip(view.keys, keys, strict=True)):
            continue
        ts = micros(row[view.timestamp])
        if ts is None or ts > t or (ttl is not None and ts < t - ttl):
            continue
        if best_ts is None or ts >= best_ts:  # ">=": a later row wins a tie
            best, best_ts = i, ts
    return best


def reference_join(
    entities: Any, event_timestamp: str, views: Sequence[Any], *, include_timestamps: bool = False
) -> dict[str, list[Any]]:
    """The expected result of ``point_in_time_join`` as {column name: list of Python values}."""
    entity_rows = entities.to_pylist()
    out = {name: entities.column(name).to_pylist() for name in entities.column_names}
    for view in views:
        rows = view.table.to_pylist()
        chosen = [
            pick(view, rows, [e[k] for k in view.keys], micros(e[event_timestamp]))
            for e in entity_rows
        ]
        names = view.output_names or view.features
        for feature, name in zip(view.features, names, strict=True):
            out[name] = [None if c is None else rows[c][feature] for c in chosen]
        if include_timestamps:
            out[f"{view.name}__event_timestamp"] = [
                None if c is None else as_datetime(micros(rows[c][view.timestamp])) for c in chosen
            ]
    return out


def reference_latest(view: Any, as_of: datetime | None) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The expected ``latest_as_of``: {key tuple: {column: value}} for keys that have a row.

    ``as_of`` None: the latest row of each key, whatever its age.
    """
    rows = view.table.to_pylist()
    keys = {tuple(r[k] for k in view.keys) for r in rows}
    keys = {k for k in keys if not any(_null(v) for v in k)}
    if as_of is None:
        t, ttl_free = 2**62, replace(view, ttl=None)
    else:
        t, ttl_free = micros(as_of), view
    names = view.output_names or view.features
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for key in keys:
        c = pick(ttl_free, rows, key, t)
        if c is not None:
            values = {view.timestamp: as_datetime(micros(rows[c][view.timestamp]))}
            values.update({n: rows[c][f] for f, n in zip(view.features, names, strict=True)})
            out[key] = values
    return out
