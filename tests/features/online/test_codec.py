"""The packed record format of the online stores (``shipyard.features.online.codec``)."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from shipyard.errors import InvalidArgument
from shipyard.features.online.codec import HEADER, Layout, pack, unpack

TYPES = {
    "f": pa.float64(),
    "i": pa.int64(),
    "b": pa.bool_(),
    "s": pa.string(),
    "t": pa.timestamp("us", tz="UTC"),
    "d": pa.date32(),
}


def _columns() -> tuple[Layout, list[pa.Array]]:
    layout = Layout(
        (
            ("f", "float64"),
            ("i", "int64"),
            ("b", "bool"),
            ("s", "string"),
            ("t", "timestamp"),
            ("d", "date32"),
            ("n", "null"),
        )
    )
    columns = [
        pa.array([1.5, math.nan, math.inf, None, -0.0]),
        pa.array([2**62, -1, None, 0, 7], pa.int64()),
        pa.array([True, False, None, True, False]),
        pa.array(["é\u2603", "", None, "a\x00b", "quote\"'"]),
        pa.array([0, 1_700_000_000_000_000, None, -5, 9], pa.int64()),
        pa.array([0, 19_000, None, -1, 3], pa.int32()),
        pa.nulls(5),
    ]
    return layout, columns


def test_every_type_round_trips_with_nulls_and_non_finite_floats() -> None:
    layout, columns = _columns()
    records = pack(layout, columns, 5)
    assert len(records) == 5 and all(r[0] == 1 and r[1:HEADER] == layout.id for r in records)
    out = unpack(records, {layout.id: layout}, {**TYPES, "n": pa.null()})
    floats = out["f"].to_pylist()
    assert floats[0] == 1.5 and math.isnan(floats[1]) and floats[2] == math.inf
    assert floats[3] is None and math.copysign(1, floats[4]) == -1
    assert out["i"].to_pylist() == [2**62, -1, None, 0, 7]
    assert out["b"].to_pylist() == [True, False, None, True, False]
    assert out["s"].to_pylist() == ["é\u2603", "", None, "a\x00b", "quote\"'"]
    assert out["t"].type == pa.timestamp("us", tz="UTC")
    assert out["t"].cast(pa.int64()).to_pylist() == [0, 1_700_000_000_000_000, None, -5, 9]
    assert out["d"].cast(pa.int32()).to_pylist() == [0, 19_000, None, -1, 3]
    assert out["n"].null_count == 5


def test_records_of_two_layouts_read_together_in_order() -> None:
    old = Layout((("a", "float64"),))
    new = Layout((("a", "float64"), ("b", "string")))
    first = pack(old, [pa.array([1.0, 2.0])], 2)
    second = pack(new, [pa.array([3.0]), pa.array(["x"])], 1)
    records = [first[0], second[0], first[1]]
    out = unpack(records, {old.id: old, new.id: new}, {"a": pa.float64(), "b": pa.string()})
    assert out["a"].to_pylist() == [1.0, 3.0, 2.0]
    assert out["b"].to_pylist() == [None, "x", None]  # a feature the old layout lacks is null


def test_unknown_layouts_and_foreign_bytes_are_named() -> None:
    layout, columns = _columns()
    records = pack(layout, columns, 5)
    with pytest.raises(InvalidArgument, match="unknown layout"):
        unpack(records, {}, TYPES)
    with pytest.raises(InvalidArgument, match="not in Shipyard's record format"):
        unpack([b'{"f": 1}'], {layout.id: layout}, TYPES)


def test_layout_ids_depend_on_names_order_and_types() -> None:
    a = Layout((("x", "int64"), ("y", "int64")))
    assert a.id != Layout((("y", "int64"), ("x", "int64"))).id
    assert a.id != Layout((("x", "int64"), ("y", "float64"))).id
    assert a.id == Layout.from_spec(a.spec).id


def test_empty_reads_and_layouts_without_features() -> None:
    empty = Layout(())
    assert pack(empty, [], 0) == []
    records = pack(empty, [], 2)  # a view with no features still stores its event times
    assert len(records) == 2
    assert unpack(records, {empty.id: empty}, {}) == {}
    assert unpack([], {}, {"a": pa.float64()})["a"].to_pylist() == []
