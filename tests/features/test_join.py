"""The offline point-in-time join engine: the rule on hand-made cases, the layout, the errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shipyard.errors import InvalidArgument
from shipyard.features.offline import (
    NAT,
    ViewFrame,
    latest_as_of,
    normalise_timestamps,
    point_in_time_join,
    sort_for_join,
)

from .reference import reference_join

TS = pa.timestamp("us", tz="UTC")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def at(hours: float, micros: int = 0) -> datetime:
    return T0 + timedelta(hours=hours, microseconds=micros)


def view(table: Any, *, ttl: timedelta | None = None, **kw: Any) -> ViewFrame:
    defaults: dict[str, Any] = {
        "name": "stats",
        "keys": ("user",),
        "timestamp": "ts",
        "features": ("x",),
    }
    return ViewFrame(ttl=ttl, table=table, **{**defaults, **kw})


def features(rows: list[tuple[Any, datetime | None, Any]]) -> pa.Table:
    users, stamps, xs = zip(*rows, strict=True) if rows else ((), (), ())
    return pa.table(
        {"user": pa.array(users, pa.int64()), "ts": pa.array(stamps, TS), "x": pa.array(xs)}
    )


def entities(rows: list[tuple[Any, datetime | None]]) -> pa.Table:
    users, stamps = zip(*rows, strict=True)
    return pa.table({"user": pa.array(users, pa.int64()), "event_timestamp": pa.array(stamps, TS)})


def joined(ents: pa.Table, *views: ViewFrame, **kw: Any) -> pa.Table:
    return point_in_time_join(ents, "event_timestamp", list(views), **kw)


# -- the rule --------------------------------------------------------------------------------------


def test_latest_row_at_or_before_each_event_time_never_a_later_one() -> None:
    rows = features([(1, at(1), 1.0), (1, at(3), 3.0), (1, at(2), 2.0), (2, at(1), 9.0)])
    asked = entities([(1, at(0)), (1, at(1)), (1, at(2, 500)), (1, at(5)), (2, at(0.5))])
    out = joined(asked, view(rows), include_timestamps=True)
    assert out.column("x").to_pylist() == [None, 1.0, 2.0, 3.0, None]
    assert out.column("stats__event_timestamp").to_pylist() == [None, at(1), at(2), at(3), None]
    assert out.column("stats__event_timestamp").type == TS


@pytest.mark.parametrize("presorted", [False, True])
def test_equal_timestamps_go_to_the_row_written_last(presorted: bool) -> None:
    rows = features([(1, at(1), "first"), (2, at(1), "other"), (1, at(1), "second"),
                     (1, at(0), "older"), (1, at(1), "third")])  # fmt: skip
    if presorted:
        rows = sort_for_join(rows, ["user"], "ts")
    out = joined(entities([(1, at(1)), (1, at(2))]), view(rows, sorted=presorted))
    assert out.column("x").to_pylist() == ["third", "third"]


@pytest.mark.parametrize("key_type", [pa.int64(), pa.string()])
def test_many_ties_keep_table_order_in_the_layout_and_the_join(key_type: Any) -> None:
    rng = np.random.default_rng(7)
    n = 5_000  # large enough that an unstable sort would reorder ties
    table = pa.table(
        {
            "user": pa.array(rng.integers(0, 3, n)).cast(key_type),
            "ts": pa.array(rng.integers(0, 10, n) * 1_000_000, TS),
            "x": np.arange(n),
        }
    )
    laid = sort_for_join(table, ["user"], "ts")
    keys = list(zip(laid.column("user").to_pylist(), laid.column("ts").to_pylist(), strict=True))
    rows = laid.column("x").to_pylist()
    assert all(rows[i] < rows[i + 1] for i in range(n - 1) if keys[i] == keys[i + 1])
    asked = pa.table(
        {
            "user": pa.array(rng.integers(0, 3, 200)).cast(key_type),
            "event_timestamp": pa.array(rng.integers(0, 12, 200) * 1_000_000, TS),
        }
    )
    want = reference_join(asked, "event_timestamp", [view(table)])["x"]
    assert joined(asked, view(table)).column("x").to_pylist() == want
    assert joined(asked, view(laid, sorted=True)).column("x").to_pylist() == want


def test_ttl_bounds_are_both_inclusive() -> None:
    ttl = timedelta(hours=2)
    rows = features([(1, at(1), "edge"), (2, at(1, -1), "too old"), (3, at(3), "now")])
    asked = entities([(1, at(3)), (2, at(3)), (3, at(3)), (3, at(3, -1))])
    out = joined(asked, view(rows, ttl=ttl))
    assert out.column("x").to_pylist() == ["edge", None, "now", None]


def test_zero_ttl_takes_only_rows_at_the_event_time() -> None:
    rows = features([(1, at(1), "a"), (1, at(2), "b")])
    out = joined(entities([(1, at(2)), (1, at(2, 1))]), view(rows, ttl=timedelta(0)))
    assert out.column("x").to_pylist() == ["b", None]


def test_no_ttl_means_any_age() -> None:
    rows = features([(1, at(-24 * 3650), "ancient")])
    assert joined(entities([(1, at(0))]), view(rows)).column("x").to_pylist() == ["ancient"]


def test_every_entity_row_comes_back_in_order_with_its_columns_unchanged() -> None:
    rows = features([(1, at(1), 1.0)])
    asked = pa.table(
        {
            "extra": ["c", "a", "b", "d"],
            "user": pa.array([1, None, 7, 1], pa.int32()),
            "event_timestamp": pa.array([at(2), at(2), at(2), None], TS),
        }
    )
    out = joined(asked, view(rows))
    assert out.select(asked.column_names).equals(asked)
    assert out.column("x").to_pylist() == [1.0, None, None, None]  # null key, no history, null T


def test_null_keys_in_the_view_match_nothing() -> None:
    rows = features([(None, at(1), "null key"), (1, None, "null time"), (1, at(0), "ok")])
    out = joined(entities([(1, at(5)), (None, at(5))]), view(rows))
    assert out.column("x").to_pylist() == ["ok", None]


def test_several_views_with_different_ttls_and_output_names() -> None:
    rows = features([(1, at(0), 1.0), (1, at(4), 4.0)])
    short = view(rows, name="short", ttl=timedelta(hours=1), output_names=("x_short",))
    longer = view(rows, name="long", ttl=None, output_names=("x_long",))
    out = joined(entities([(1, at(2)), (1, at(4, 30))]), short, longer)
    assert out.column_names == ["user", "event_timestamp", "x_short", "x_long"]
    assert out.column("x_short").to_pylist() == [None, 4.0]
    assert out.column("x_long").to_pylist() == [1.0, 4.0]


def test_composite_keys_of_mixed_types() -> None:
    table = pa.table(
        {
            "region": pa.array(["eu", "eu", "us", None]),
            "user": pa.array([1, 2, 1, 1], pa.int16()),
            "ts": pa.array([at(0)] * 4, TS),
            "x": [10, 20, 30, 40],
        }
    )
    asked = pa.table(
        {
            "region": pa.array(["us", "eu", "eu", None, "xx"], pa.large_string()),
            "user": pa.array([1, 2, 1, 1, 1], pa.int64()),
            "event_timestamp": pa.array([at(1)] * 5, TS),
        }
    )
    out = joined(asked, view(table, keys=("region", "user")))
    assert out.column("x").to_pylist() == [30, 20, 10, None, None]


@pytest.mark.parametrize("ids", [[-5, 10**12, 3], [2**62, -(2**62), 0]])
def test_sparse_and_extreme_integer_ids(ids: list[int]) -> None:
    table = pa.table({"user": ids, "ts": pa.array([at(0)] * 3, TS), "x": ["a", "b", "c"]})
    asked = pa.table(
        {
            "user": pa.array([ids[2], ids[0], 7, None, ids[1]], pa.int64()),
            "event_timestamp": pa.array([at(1)] * 5, TS),
        }
    )
    out = joined(asked, view(table), include_timestamps=True)
    assert out.column("x").to_pylist() == ["c", "a", None, None, "b"]


def test_dense_ids_outside_the_views_range_match_nothing() -> None:
    table = pa.table({"user": [10, 11, 13], "ts": pa.array([at(0)] * 3, TS), "x": [0, 1, 3]})
    asked = pa.table(
        {
            "user": pa.array([9, 10, 12, 13, 14, -(2**63), 2**63 - 1], pa.int64()),
            "event_timestamp": pa.array([at(1)] * 7, TS),
        }
    )
    assert joined(asked, view(table)).column("x").to_pylist() == [None, 0, None, 3] + [None] * 3


def test_a_view_without_keys_gives_every_row_the_same_global_values() -> None:
    table = pa.table({"ts": pa.array([at(0), at(2)], TS), "x": [1, 2]})
    out = joined(entities([(5, at(1)), (6, at(3))]), view(table, keys=()))
    assert out.column("x").to_pylist() == [1, 2]


def test_float_keys_treat_nan_as_null() -> None:
    table = pa.table({"k": [1.5, float("nan")], "ts": pa.array([at(0)] * 2, TS), "x": [1, 2]})
    asked = pa.table({"k": [1.5, float("nan")], "event_timestamp": pa.array([at(1)] * 2, TS)})
    out = point_in_time_join(asked, "event_timestamp", [view(table, keys=("k",))])
    assert out.column("x").to_pylist() == [1, None]


def test_timezones_compare_as_instants_and_naive_means_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    table = pa.table(
        {"user": [1, 1], "ts": pa.array([datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 12)],
                                        pa.timestamp("ms")), "x": ["10Z", "12Z"]}
    )  # fmt: skip
    asked = pa.table(
        {"user": [1, 1], "event_timestamp": pa.array(
            [datetime(2026, 1, 1, 13, tzinfo=plus2), datetime(2026, 1, 1, 14, tzinfo=plus2)],
            pa.timestamp("ns", tz="Europe/Berlin"))}
    )  # fmt: skip
    assert joined(asked, view(table)).column("x").to_pylist() == ["10Z", "12Z"]


def test_date_event_times_are_midnight_utc() -> None:
    rows = features([(1, datetime(2026, 1, 2, tzinfo=UTC), "midnight"), (1, at(25), "later")])
    asked = pa.table({"user": [1], "event_timestamp": pa.array([date(2026, 1, 2)])})
    assert joined(asked, view(rows)).column("x").to_pylist() == ["midnight"]


def test_long_histories_need_many_bisection_steps() -> None:
    rng = np.random.default_rng(1)
    n = 3_000
    table = pa.table(
        {
            "user": rng.integers(0, 3, n),
            "ts": pa.array(rng.integers(0, 50_000, n) * 1_000_000, pa.timestamp("us")),
            "x": np.arange(n),
        }
    )
    asked = pa.table(
        {
            "user": rng.integers(0, 4, 300),
            "event_timestamp": pa.array(rng.integers(0, 50_000, 300) * 1_000_000, TS),
        }
    )
    frame = view(table, ttl=timedelta(hours=3))
    out = joined(asked, frame)
    assert out.column("x").to_pylist() == reference_join(asked, "event_timestamp", [frame])["x"]
    assert out.column("x").null_count < 300


def test_empty_entity_table_and_empty_view() -> None:
    empty_view = features([])
    out = joined(entities([(1, at(1))]), view(empty_view))
    assert out.column("x").to_pylist() == [None]
    nobody = entities([(1, at(1))]).slice(0, 0)
    out = joined(nobody, view(features([(1, at(0), 1.0)])), include_timestamps=True)
    assert out.num_rows == 0 and out.column_names[-2:] == ["x", "stats__event_timestamp"]


def test_an_empty_view_matches_nothing_whatever_its_key_type() -> None:
    empty = pa.table({"user": pa.array([], pa.string()), "ts": pa.array([], TS), "x": []})
    assert joined(entities([(1, at(1))]), view(empty)).column("x").to_pylist() == [None]


def test_feature_types_survive_and_missing_values_are_null() -> None:
    table = pa.table(
        {
            "user": [1, 2],
            "ts": pa.array([at(0)] * 2, TS),
            "n": pa.array([1, None], pa.int32()),
            "tags": pa.array([["a"], ["b", "c"]]),
            "d": pa.array([1, 2]).dictionary_encode(),
        }
    )
    frame = view(table, features=("n", "tags", "d"))
    out = joined(entities([(2, at(1)), (3, at(1)), (1, at(1))]), frame)
    assert out.schema.field("n").type == pa.int32()
    assert out.column("n").to_pylist() == [None, None, 1]
    assert out.column("tags").to_pylist() == [["b", "c"], None, ["a"]]
    assert out.column("d").to_pylist() == [2, None, 1]


# -- pandas at the edge ----------------------------------------------------------------------------


def test_pandas_entity_frames_are_accepted() -> None:
    rows = features([(1, at(0), 1.0), (2, at(0), 2.0)])
    frame = pd.DataFrame(
        {
            "user": [1.0, np.nan, 2.0],  # an integer column with a gap, as pandas holds it
            "event_timestamp": pd.to_datetime(["2026-01-01T03:00", "2026-01-01T03:00",
                                               "2026-01-01T04:00+01:00"], utc=True,
                                              format="ISO8601"),
        },
        index=[7, 8, 9],
    )  # fmt: skip
    out = point_in_time_join(frame, "event_timestamp", [view(rows)])
    assert out.column("x").to_pylist() == [1.0, None, 2.0]
    assert out.to_pandas()["x"].tolist()[0] == 1.0


def test_pandas_object_column_mixing_naive_and_aware_is_refused() -> None:
    frame = pd.DataFrame(
        {"user": [1, 1], "when": pd.Series([datetime(2026, 1, 1), at(1)], dtype=object)}
    )
    with pytest.raises(InvalidArgument, match=r"'when'.*mixes timezone-naive and timezone-aware"):
        point_in_time_join(frame, "when", [view(features([]))])


def test_pandas_object_column_of_aware_datetimes_in_several_zones_is_fine() -> None:
    plus2 = timezone(timedelta(hours=2))
    frame = pd.DataFrame(
        {"user": [1, 1], "when": pd.Series([at(1), datetime(2026, 1, 1, 2, tzinfo=plus2)],
                                           dtype=object)}
    )  # fmt: skip
    out = point_in_time_join(frame, "when", [view(features([(1, at(0), "x")]))])
    assert out.column("x").to_pylist() == ["x", "x"]


def test_a_pandas_view_table_is_accepted() -> None:
    frame = pd.DataFrame({"user": [1], "ts": pd.to_datetime(["2026-01-01"]), "x": [3.5]})
    out = joined(entities([(1, at(1))]), view(frame))
    assert out.column("x").to_pylist() == [3.5]


# -- the layout ------------------------------------------------------------------------------------


def test_sort_for_join_orders_by_keys_then_time_stably_and_normalises_time() -> None:
    table = pa.table(
        {
            "user": [2, 1, None, 2, 1, 2],
            "ts": pa.array([5, 9, 1, 5, None, 1], pa.timestamp("s", tz="Asia/Tokyo")),
            "row": [0, 1, 2, 3, 4, 5],
        }
    )
    out = sort_for_join(table, ["user"], "ts")
    assert out.column("row").to_pylist() == [1, 4, 5, 0, 3, 2]
    assert out.schema.field("ts").type == TS
    assert out.column("ts").to_pylist()[0] == datetime(1970, 1, 1, 0, 0, 9, tzinfo=UTC)
    assert out.column("ts").null_count == 1


def test_sort_for_join_takes_pandas() -> None:
    frame = pd.DataFrame({"user": [2, 1], "ts": pd.to_datetime(["2026-01-01", "2026-01-02"])})
    assert sort_for_join(frame, ["user"], "ts").column("user").to_pylist() == [1, 2]


def test_a_table_marked_sorted_that_is_not_is_refused() -> None:
    shuffled = features([(1, at(2), 1.0), (1, at(1), 2.0)])
    with pytest.raises(InvalidArgument, match=r"sorted=True.*timestamps decrease.*row 1"):
        joined(entities([(1, at(3))]), view(shuffled, sorted=True))
    split = features([(1, at(1), 1.0), (2, at(1), 2.0), (1, at(2), 3.0)])
    with pytest.raises(InvalidArgument, match="rows of one key are not all together"):
        joined(entities([(1, at(3))]), view(split, sorted=True))
    strings = pa.table({"user": ["a", "b", "a"], "ts": pa.array([at(1)] * 3, TS), "x": [1, 2, 3]})
    with pytest.raises(InvalidArgument, match="not all together"):
        latest_as_of(view(strings, sorted=True))


# -- all entities as of a time ---------------------------------------------------------------------


def test_latest_as_of_gives_each_key_its_latest_row_within_the_ttl() -> None:
    rows = features([(2, at(1), "2@1"), (1, at(0), "1@0"), (1, at(2), "1@2"), (3, at(-5), "3@-5"),
                     (None, at(1), "null"), (1, at(9), "1@9")])  # fmt: skip
    out = latest_as_of(view(rows, ttl=timedelta(hours=2)), at(2))
    assert out.column_names == ["user", "ts", "x"]
    assert out.to_pydict() == {"user": [1, 2], "ts": [at(2), at(1)], "x": ["1@2", "2@1"]}
    everything = latest_as_of(view(rows, ttl=timedelta(hours=2)))
    assert everything.column("x").to_pylist() == ["1@9", "2@1", "3@-5"]


def test_latest_as_of_on_a_laid_out_table_with_composite_keys() -> None:
    table = pa.table(
        {
            "a": ["x", "x", "y", "x"],
            "b": [1, 2, 1, 1],
            "ts": pa.array([at(1), at(0), at(0), at(3)], TS),
            "v": [1, 2, 3, 4],
        }
    )
    laid = sort_for_join(table, ["a", "b"], "ts")
    out = latest_as_of(view(laid, keys=("a", "b"), features=("v",), sorted=True), at(2))
    assert out.to_pydict() == {
        "a": ["x", "x", "y"],
        "b": [1, 2, 1],
        "ts": [at(1), at(0), at(0)],
        "v": [1, 2, 3],
    }


def test_latest_as_of_reads_a_naive_moment_as_utc_and_uses_output_names() -> None:
    rows = features([(1, at(1), "a")])
    out = latest_as_of(view(rows, output_names=("alpha",)), datetime(2026, 1, 1, 1))
    assert out.to_pydict() == {"user": [1], "ts": [at(1)], "alpha": ["a"]}
    assert latest_as_of(view(rows), datetime(2026, 1, 1, 0, 59)).num_rows == 0


# -- timestamps ------------------------------------------------------------------------------------


def test_normalise_timestamps_handles_units_zones_dates_and_nulls() -> None:
    def us(arr: Any) -> list[int]:
        return normalise_timestamps(arr, what="t").tolist()

    assert us(pa.array([1, None], pa.timestamp("s", tz="America/Lima"))) == [1_000_000, NAT]
    assert us(pa.array([1_999, -1], pa.timestamp("ns"))) == [1, -1]  # floored
    assert us(pa.chunked_array([pa.array([2], pa.timestamp("ms"))])) == [2_000]
    assert us(pa.array([date(1970, 1, 2)])) == [86_400_000_000]
    assert us(pa.array([86_400_000], pa.date64())) == [86_400_000_000]
    assert us(pd.Series(pd.to_datetime(["1970-01-01T00:00:01+01:00"]))) == [-3_599_000_000]
    assert us([datetime(1970, 1, 1, 0, 0, 1)]) == [1_000_000]
    assert normalise_timestamps(pa.array([], TS), what="t").dtype == np.int64


def test_normalise_timestamps_refuses_what_is_not_a_time() -> None:
    with pytest.raises(InvalidArgument, match=r"column 'c' has type string; it must hold"):
        normalise_timestamps(pa.array(["2026-01-01"]), what="column 'c'")
    with pytest.raises(InvalidArgument, match="mixes timezone-naive and timezone-aware"):
        normalise_timestamps([datetime(2026, 1, 1), at(1)], what="t")
    with pytest.raises(InvalidArgument, match="beyond the range"):
        normalise_timestamps(pa.array([2**62], pa.timestamp("s")), what="t")
    with pytest.raises(InvalidArgument, match="cannot be read as timestamps"):
        normalise_timestamps([object()], what="t")


# -- errors ----------------------------------------------------------------------------------------


def test_missing_event_timestamp_column() -> None:
    asked = pa.table({"user": [1], "when": pa.array([at(1)], TS)})
    with pytest.raises(
        InvalidArgument, match=r"no event timestamp column 'event_timestamp'.*user, when"
    ):
        joined(asked, view(features([])))


def test_entity_timestamps_that_are_not_timestamps() -> None:
    asked = pa.table({"user": [1], "event_timestamp": ["2026-01-01"]})
    with pytest.raises(InvalidArgument, match=r"event timestamp column 'event_timestamp'.*string"):
        joined(asked, view(features([])))


def test_missing_join_key_in_the_entity_table_names_the_view() -> None:
    asked = pa.table({"customer": [1], "event_timestamp": pa.array([at(1)], TS)})
    with pytest.raises(
        InvalidArgument,
        match=r"join key column 'user' not found in the entity table \(view 'stats' joins on "
        r"it\); its columns are: customer, event_timestamp",
    ):
        joined(asked, view(features([])))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"keys": ("account",)},
            r"join key column 'account' not found in the table of view 'stats'",
        ),
        ({"timestamp": "when"}, r"timestamp column 'when' not found in the table of view 'stats'"),
        ({"features": ("x", "y", "z")}, r"feature columns 'y', 'z' not found.*user, ts, x"),
    ],
)
def test_missing_columns_in_a_view_table(change: dict[str, Any], message: str) -> None:
    asked = pa.table({"user": [1], "account": [1], "event_timestamp": pa.array([at(1)], TS)})
    with pytest.raises(InvalidArgument, match=message):
        joined(asked, view(features([]), **change))
    if "keys" not in change:
        with pytest.raises(InvalidArgument, match=message):
            latest_as_of(view(features([]), **change))


def test_output_columns_must_not_clash() -> None:
    rows = features([])
    with pytest.raises(InvalidArgument, match=r"'x' of view 'b' clashes with one of view 'a'"):
        joined(entities([(1, at(1))]), view(rows, name="a"), view(rows, name="b"))
    asked = pa.table({"user": [1], "x": [0], "event_timestamp": pa.array([at(1)], TS)})
    with pytest.raises(InvalidArgument, match="clashes with one of the entity table"):
        joined(asked, view(rows))
    with pytest.raises(InvalidArgument, match=r"\['user'\] of view 'stats' clash"):
        latest_as_of(view(rows, output_names=("user",)))


def test_join_keys_of_incompatible_types() -> None:
    asked = pa.table({"user": ["one"], "event_timestamp": pa.array([at(1)], TS)})
    with pytest.raises(
        InvalidArgument, match="join key 'user' is string in the entity table but int64"
    ):
        joined(asked, view(features([(1, at(0), 1.0)])))
    fractional = pa.table({"user": [1.5], "event_timestamp": pa.array([at(1)], TS)})
    with pytest.raises(InvalidArgument, match="do not convert"):
        joined(fractional, view(features([(1, at(0), 1.0)])))
    nested = pa.table({"user": [[1]], "event_timestamp": pa.array([at(1)], TS)})
    with pytest.raises(InvalidArgument, match="keys must be scalars"):
        joined(nested, view(features([(1, at(0), 1.0)])))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ttl": timedelta(hours=-1)}, "ttl of view 'stats' is negative"),
        ({"ttl": 3600}, "ttl of view 'stats' must be a timedelta"),
        ({"output_names": ("a", "b")}, "1 features but 2 output_names"),
        ({"keys": "user"}, "keys of view 'stats' must be a tuple"),
        ({"features": ("x", "x")}, "name a column twice"),
        ({"name": ""}, "non-empty string"),
    ],
)
def test_malformed_view_definitions(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        view(features([]), **change)


def test_lists_are_accepted_for_keys_and_features() -> None:
    frame = view(features([]), keys=["user"], features=["x"])
    assert frame.keys == ("user",) and frame.features == ("x",)


def test_wrong_argument_types() -> None:
    with pytest.raises(
        InvalidArgument, match="must be a pyarrow Table or a pandas DataFrame, got dict"
    ):
        point_in_time_join({"user": [1]}, "event_timestamp", [])
    with pytest.raises(InvalidArgument, match="views must be ViewFrame objects, got str"):
        joined(entities([(1, at(1))]), "stats")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="as_of must be a datetime"):
        latest_as_of(view(features([])), "2026-01-01")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(6))
def test_latest_without_a_layout_equals_the_laid_out_answer(seed: int) -> None:
    """Every key's latest row picked without sorting (one integer key, dense values) equals
    the answer from the laid-out table: duplicate times (the last row wins), null times
    (never chosen), negative keys, keys whose only rows have null times; sparse keys fall
    back to the layout and agree too."""
    import numpy as np

    from shipyard.features.offline import sort_for_join

    rng = np.random.default_rng(seed)
    n = 2_000
    spread = 50 if seed % 2 else 5_000_000  # dense (no layout) or sparse (the layout)
    users = rng.integers(-spread, spread, n)
    stamps = rng.integers(0, 40, n) * 1_000_000  # few distinct times: many ties
    ts = pa.array(stamps, pa.timestamp("us", "UTC"))
    ts = pc.if_else(pa.array(rng.random(n) < 0.05), pa.scalar(None, ts.type), ts)
    table = pa.table({"user": users, "ts": ts, "x": np.arange(n, dtype=np.float64)})
    fast = latest_as_of(view(table))
    laid = latest_as_of(view(sort_for_join(table, ["user"], "ts"), sorted=True))
    assert fast.equals(laid)
    assert fast.num_rows == len(set(users[pc.is_valid(ts).to_numpy(zero_copy_only=False)]))
