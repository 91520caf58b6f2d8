"""Property test: point_in_time_join and latest_as_of equal the brute-force reference, cell by cell.

Random data built to hit the hard cases: join keys of one or two columns (integers and strings,
of differing Arrow types between the entity table and the view, with nulls), entities without
history, duplicate timestamps, rows exactly at T - ttl and at T (and a microsecond either side),
late rows appended out of time order, several views with different TTLs (including none and
zero), timestamps of every unit with and without timezones, views pre-laid out or not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipyard.features.offline import ViewFrame, latest_as_of, point_in_time_join, sort_for_join

from .reference import as_datetime, micros, reference_join, reference_latest

BASE_US = micros(datetime(2026, 3, 1, tzinfo=UTC)) or 0
HOUR_US = 3_600_000_000
KEYS = ("k0", "k1")
UNITS = ("s", "ms", "us", "ns")
ZONES = (None, "UTC", "America/New_York", "Asia/Kolkata")
TTLS = (
    None,
    timedelta(0),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=2, microseconds=1),
)

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # no .hypothesis folder in the tree; a failure prints its example
    suppress_health_check=[HealthCheck.too_slow],
)


def _sometimes_null(draw: Any, value: Any) -> Any:
    return None if draw(st.integers(0, 9)) == 0 else value


@st.composite
def instants(draw: Any) -> int:
    """A time on a coarse hourly grid, sometimes a microsecond off it: edges get hit exactly."""
    hours = draw(st.integers(0, 5))
    nudge = draw(st.sampled_from((0, 0, 0, 0, -1, 1)))
    return BASE_US + hours * HOUR_US + nudge


@st.composite
def time_columns(draw: Any, size: int) -> Any:
    """``size`` instants (some null) as an Arrow column of a random unit and timezone."""
    values = [_sometimes_null(draw, draw(instants())) for _ in range(size)]
    kind = draw(st.sampled_from((*UNITS, "date32")))
    if kind == "date32":
        days = [None if v is None else v // 86_400_000_000 for v in values]
        return pa.array(days, pa.date32())
    zone = draw(st.sampled_from(ZONES))
    scale = {"s": 1_000_000, "ms": 1_000, "us": 1}.get(kind)
    if scale is None:  # nanoseconds: add sub-microsecond noise the engine must floor away
        raw = [
            None if v is None else v * 1_000 + draw(st.sampled_from((0, 1, 999))) for v in values
        ]
    else:
        raw = [None if v is None else v // scale for v in values]
    return pa.array(raw, pa.timestamp(kind, tz=zone))


@st.composite
def key_kinds(draw: Any) -> dict[str, str]:
    """Which key columns exist and whether each holds integers or strings."""
    count = draw(st.integers(1, 2))
    return {name: draw(st.sampled_from(("int", "str"))) for name in KEYS[:count]}


def _key_type(draw: Any, kind: str) -> Any:
    if kind == "int":
        return draw(st.sampled_from((pa.int64(), pa.int32(), pa.int16())))
    return draw(st.sampled_from((pa.string(), pa.large_string(), "dict")))


def key_column(draw: Any, kind: str, size: int, domain: int) -> Any:
    """``size`` key values from ``domain`` distinct ones (or null), in a random Arrow type."""
    values = [_sometimes_null(draw, draw(st.integers(0, domain - 1))) for _ in range(size)]
    typ = _key_type(draw, kind)
    if kind == "str":
        texts = pa.array([None if v is None else f"id-{v}" for v in values], pa.string())
        return texts.dictionary_encode() if typ == "dict" else texts.cast(typ)
    return pa.array(values, typ)


@st.composite
def views(draw: Any, kinds: dict[str, str], index: int) -> ViewFrame:
    """A view keyed on a non-empty subset of the key columns, with late rows appended."""
    names = [k for k in kinds if draw(st.booleans())] or [next(iter(kinds))]
    size, late = draw(st.integers(0, 20)), draw(st.integers(0, 4))
    columns: dict[str, Any] = {k: key_column(draw, kinds[k], size + late, 4) for k in names}
    stamps = draw(time_columns(size + late))
    if late:  # appended after the rest and earlier than all of it: late-arriving data
        stamps = pa.concat_arrays([stamps.slice(0, size), _earlier(stamps.slice(size))])
    columns["ts"] = stamps
    columns[f"x{index}"] = pa.array(
        [
            _sometimes_null(draw, draw(st.floats(-1e6, 1e6, allow_nan=False)))
            for _ in range(size + late)
        ],
        pa.float64(),
    )
    columns[f"s{index}"] = pa.array([f"r{i}" for i in range(size + late)], pa.string())
    table = pa.table(columns)
    ttl = draw(st.sampled_from(TTLS))
    presorted = draw(st.booleans())
    if presorted:
        table = sort_for_join(table, names, "ts")
    return ViewFrame(
        name=f"v{index}",
        keys=tuple(names),
        timestamp="ts",
        features=(f"x{index}", f"s{index}"),
        ttl=ttl,
        table=table,
        output_names=(f"v{index}_x", f"v{index}_s") if draw(st.booleans()) else None,
        sorted=presorted,
    )


def _earlier(stamps: Any) -> Any:
    """The same column type, values moved 5 hours back (so behind every on-time row)."""
    if pa.types.is_date32(stamps.type):
        return pa.array(
            [None if v is None else v - 1 for v in stamps.cast(pa.int32()).to_pylist()], pa.date32()
        )
    per_hour = {"s": 3_600, "ms": 3_600_000, "us": HOUR_US, "ns": HOUR_US * 1_000}
    shift = 5 * per_hour[stamps.type.unit]
    ints = stamps.cast(pa.int64()).to_pylist()
    return pa.array([None if v is None else v - shift for v in ints], stamps.type)


@st.composite
def cases(draw: Any) -> tuple[Any, list[ViewFrame]]:
    kinds = draw(key_kinds())
    size = draw(st.integers(0, 14))
    columns = {k: key_column(draw, kind, size, 6) for k, kind in kinds.items()}  # 4, 5: no history
    columns["event_timestamp"] = draw(time_columns(size))
    count = draw(st.integers(1, 3))
    return pa.table(columns), [draw(views(kinds, i)) for i in range(count)]


@SETTINGS
@given(cases())
def test_join_equals_the_reference(case: tuple[Any, list[ViewFrame]]) -> None:
    entities, frames = case
    got = point_in_time_join(entities, "event_timestamp", frames, include_timestamps=True)
    want = reference_join(entities, "event_timestamp", frames, include_timestamps=True)
    assert got.column_names == list(want)
    assert got.select(entities.column_names).equals(entities)
    for name, values in want.items():
        assert got.column(name).to_pylist() == values, name


@SETTINGS
@given(cases(), st.data())
def test_latest_as_of_equals_the_reference(case: tuple[Any, list[ViewFrame]], data: Any) -> None:
    view = case[1][0]
    stamps = [micros(v) for v in view.table.column("ts").to_pylist() if v is not None]
    ttl_us = 0 if view.ttl is None else view.ttl // timedelta(microseconds=1)
    edges = [us + ttl_us + nudge for us in stamps for nudge in (-1, 0, 1) if us is not None]
    at = data.draw(st.none() | instants() | st.sampled_from(edges or [BASE_US]))
    as_of = as_datetime(at)
    got = latest_as_of(view, as_of)
    want = reference_latest(view, as_of)
    rows = got.to_pylist()
    found = {
        tuple(r[k] for k in view.keys): {c: r[c] for c in r if c not in view.keys} for r in rows
    }
    assert len(found) == len(rows)  # one row per key
    assert found == want
