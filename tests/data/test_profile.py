"""profile_table and compare on real Arrow tables built from small known data."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pytest

from shipyard.data.profile import (
    ColumnProfile,
    TableProfile,
    compare,
    profile_table,
)
from shipyard.errors import InvalidArgument


def _col(table: pa.Table, name: str, **kwargs: object) -> ColumnProfile:
    return profile_table(table, **kwargs).column(name)  # type: ignore[arg-type]


def test_numeric_statistics_of_1_to_100() -> None:
    col = _col(pa.table({"x": pa.array(range(1, 101), pa.int64())}), "x", bins=4)
    assert col.kind == "numeric" and col.type == "int64"
    assert (col.min, col.max, col.mean, col.count) == (1, 100, 50.5, 100)
    assert col.std == pytest.approx(np.std(np.arange(1, 101), ddof=1))
    assert col.quantiles == pytest.approx(
        {
            "0.01": 1.99,
            "0.05": 5.95,
            "0.25": 25.75,
            "0.5": 50.5,
            "0.75": 75.25,
            "0.95": 95.05,
            "0.99": 99.01,
        }
    )
    assert col.distinct_count == 100 and col.zeros == 0
    assert col.histogram is not None
    assert col.histogram.edges == (1.0, 25.75, 50.5, 75.25, 100.0)
    assert col.histogram.counts == (25, 25, 25, 25)


def test_quantiles_match_numpy_on_random_floats() -> None:
    values = np.random.default_rng(1).normal(size=1001)
    col = _col(pa.table({"x": values}), "x", quantiles=(0.1, 0.33, 0.9))
    expected = np.quantile(values, [0.1, 0.33, 0.9])
    assert list(col.quantiles.values()) == pytest.approx(expected.tolist())  # type: ignore[union-attr]
    assert col.histogram is not None and sum(col.histogram.counts) == 1001
    counts, edges = np.histogram(values, bins=20)
    assert col.histogram.edges == pytest.approx(edges.tolist())
    assert col.histogram.counts == tuple(counts.tolist())


def test_nulls_zeros_nan_and_inf_are_counted_apart() -> None:
    data = pa.array([0.0, 0.0, 1.0, None, math.nan, math.inf, -math.inf, 3.0, None, math.nan])
    col = _col(pa.table({"x": data}), "x", bins=3)
    assert (col.null_count, col.null_fraction, col.count) == (2, 0.2, 8)
    assert (col.nan_count, col.pos_inf_count, col.neg_inf_count, col.zeros) == (2, 1, 1, 2)
    assert (col.min, col.max, col.mean) == (0.0, 3.0, 1.0)
    assert col.distinct_count == 6  # 0, 1, 3, NaN, +inf, -inf
    assert col.histogram is not None
    assert col.histogram.counts == (2, 1, 1)  # [0, 1), [1, 2), [2, 3]


def test_constant_column_has_one_bin_and_no_std_for_one_value() -> None:
    col = _col(pa.table({"x": [7, 7, 7]}), "x")
    assert col.histogram is not None
    assert col.histogram.edges == (7.0, 7.0) and col.histogram.counts == (3,)
    assert col.std == 0.0
    assert _col(pa.table({"x": [7.5]}), "x").std is None


def test_top_values_ordered_by_count_then_value() -> None:
    values = ["b", "a", "c", "b", "a", "d", None, "c", "e", "b"]
    col = _col(pa.table({"s": values}), "s", top_k=3)
    assert col.kind == "string" and col.distinct_count == 5
    assert list(col.top.items()) == [("b", 3), ("a", 2), ("c", 2)]  # type: ignore[union-attr]
    assert (col.null_count, col.null_fraction) == (1, 0.1)


def test_string_lengths_count_characters_not_bytes() -> None:
    col = _col(pa.table({"s": ["", "ab", "héllo", None]}), "s")
    assert (col.min_length, col.max_length) == (0, 5)
    assert col.mean_length == pytest.approx(7 / 3)


def test_categorical_and_boolean_columns() -> None:
    table = pa.table(
        {
            "c": pa.array(["x", "y", "x", None, "x"]).dictionary_encode(),
            "b": pa.array([True, False, True, None, True]),
        }
    )
    cat, flag = profile_table(table).columns
    assert cat.kind == "categorical" and cat.top == {"x": 3, "y": 1} and cat.distinct_count == 2
    assert flag.kind == "boolean" and flag.top == {"true": 3, "false": 1}
    assert flag.distinct_count == 2 and flag.null_count == 1
    assert cat.min_length is None and cat.histogram is None


def test_timestamps_give_iso_bounds_and_time_bins() -> None:
    stamps = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3, 5)] + [None]
    col = _col(pa.table({"t": pa.array(stamps, pa.timestamp("us", tz="UTC"))}), "t", bins=2)
    assert col.kind == "temporal" and col.distinct_count == 4 and col.null_count == 1
    assert col.min == "2026-01-01T00:00:00.000000+00:00"
    assert col.max == "2026-01-05T00:00:00.000000+00:00"
    assert col.histogram is not None
    assert col.histogram.edges[1] == "2026-01-03T00:00:00.000000+00:00"
    assert col.histogram.counts == (2, 2)
    days = _col(pa.table({"d": pa.array([date(2025, 12, 31), date(2026, 3, 1)])}), "d")
    assert (days.min, days.max) == ("2025-12-31", "2026-03-01")


def test_all_null_columns() -> None:
    table = pa.table(
        {
            "x": pa.nulls(3, pa.float64()),
            "s": pa.nulls(3, pa.string()),
            "t": pa.nulls(3, pa.timestamp("s")),
            "n": pa.nulls(3),
        }
    )
    x, s, t, n = profile_table(table).columns
    assert all(c.null_fraction == 1.0 and c.count == 0 for c in (x, s, t, n))
    assert x.min is None and x.mean is None and x.histogram is None and x.distinct_count == 0
    assert s.top == {} and s.min_length is None and t.min is None and n.kind == "other"


def test_empty_table() -> None:
    schema = pa.schema([("x", pa.float64()), ("s", pa.string())])
    profile = profile_table(schema.empty_table())
    assert (profile.num_rows, profile.num_columns) == (0, 2)
    assert [c.null_fraction for c in profile.columns] == [0.0, 0.0]
    assert profile_table(pa.table({})).columns == ()


def test_chunked_table_gives_the_same_profile() -> None:
    rng = np.random.default_rng(3)
    whole = pa.table(
        {
            "x": pa.array(rng.normal(size=300), mask=rng.random(300) < 0.1),
            "s": pa.array(rng.choice(["a", "b", "c"], 300)),
            "c": pa.array(rng.choice(["p", "q"], 300)).dictionary_encode(),
        }
    )
    parts = [whole.slice(0, 100), whole.slice(100, 150), whole.slice(250)]
    # each batch built on its own, as a connector reading pages would: own dictionaries too
    chunked = pa.concat_tables(
        [pa.Table.from_pylist(p.to_pylist(), schema=whole.schema) for p in parts]
    )
    assert chunked.column("x").num_chunks == 3
    one, many = profile_table(whole), profile_table(chunked)
    assert one.columns == many.columns


def test_categorical_chunks_with_different_dictionaries() -> None:
    first = pa.array(["q", "p", "q"]).dictionary_encode()
    second = pa.array(["p", "r", "p", "p"]).dictionary_encode()
    assert first.dictionary.to_pylist() != second.dictionary.to_pylist()
    col = _col(pa.table({"c": pa.chunked_array([first, second])}), "c")
    assert col.top == {"p": 4, "q": 2, "r": 1} and col.distinct_count == 3


def test_round_trip_through_json() -> None:
    table = pa.table(
        {
            "x": [1.0, math.nan, math.inf, None],
            "s": ["a", "b", "a", None],
            "t": pa.array([datetime(2026, 1, 1), None, None, None], pa.timestamp("ms")),
            "b": [True, None, False, True],
            "l": pa.array([[1], [2], None, []]),
        }
    )
    profile = profile_table(table)
    text = json.dumps(profile.to_dict(), allow_nan=False)
    assert TableProfile.from_dict(json.loads(text)) == profile


def test_bad_arguments_are_refused() -> None:
    table = pa.table({"x": [1.0]})
    with pytest.raises(InvalidArgument, match=r"pyarrow\.Table"):
        profile_table({"x": [1.0]})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="bins"):
        profile_table(table, bins=0)
    with pytest.raises(InvalidArgument, match="top_k"):
        profile_table(table, top_k=-1)
    with pytest.raises(InvalidArgument, match="quantiles"):
        profile_table(table, quantiles=(0.5, 1.5))
    with pytest.raises(InvalidArgument, match="not a table profile"):
        TableProfile.from_dict({"num_rows": 1})
    with pytest.raises(InvalidArgument, match="no column 'y'"):
        profile_table(table).column("y")


# -- compare --------------------------------------------------------------------------------------


def _data(seed: int, shift: float = 0.0, n: int = 5000) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "x": rng.normal(shift, 1.0, n),
            "k": pa.array(rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])),
        }
    )


def test_compare_identical_data_shows_no_change() -> None:
    old = profile_table(_data(0))
    diff = compare(old, profile_table(_data(0)))
    assert not diff.schema_changed and diff.row_count_delta == 0
    for col in diff.columns:
        assert col.psi == pytest.approx(0.0, abs=1e-12) and not col.drifted
    assert diff.columns[0].mean_delta_std == 0.0 and diff.drifted_columns == ()


def test_compare_same_distribution_new_sample_is_stable() -> None:
    diff = compare(profile_table(_data(0)), profile_table(_data(1)))
    assert all(c.psi is not None and c.psi < 0.05 for c in diff.columns)


def test_compare_detects_shifted_distributions() -> None:
    old = profile_table(_data(0))
    rng = np.random.default_rng(2)
    new_table = pa.table(
        {
            "x": rng.normal(1.0, 1.0, 4000),
            "k": pa.array(rng.choice(["a", "b", "c", "d"], 4000, p=[0.1, 0.2, 0.3, 0.4])),
        }
    )
    diff = compare(old, profile_table(new_table))
    x, k = diff.columns
    assert x.psi is not None and x.psi > 0.2 and x.drifted
    assert x.mean_delta_std == pytest.approx(1.0, abs=0.1)
    assert k.psi is not None and k.psi > 0.2 and k.drifted
    assert diff.drifted_columns == ("x", "k") and diff.row_count_delta == -1000


def test_compare_constant_column_that_moves() -> None:
    old = profile_table(pa.table({"x": [5.0] * 10}))
    assert compare(old, old).columns[0].psi == 0.0
    moved = compare(old, profile_table(pa.table({"x": [9.0] * 10})))
    assert moved.columns[0].drifted


def test_compare_schema_changes_and_null_fraction() -> None:
    old = profile_table(pa.table({"a": [1, 2, 3, 4], "b": ["x", "y", "x", "y"], "c": [1, 2, 3, 4]}))
    new = profile_table(
        pa.table({"a": [1.0, 2.0, None, None], "b": ["x", "y", "x", "y"], "d": [True] * 4})
    )
    diff = compare(old, new)
    assert diff.added_columns == ("d",) and diff.removed_columns == ("c",)
    assert [(t.name, t.old_type, t.new_type) for t in diff.type_changes] == [
        ("a", "int64", "double")
    ]
    assert diff.columns[0].null_fraction_delta == 0.5 and diff.schema_changed
    json.dumps(diff.to_dict(), allow_nan=False)
    with pytest.raises(InvalidArgument, match="psi_threshold"):
        compare(old, new, psi_threshold=-1)
