"""suggest_suite drafts a suite from a clean table's profile: it passes on the clean table and
the right rule fails on each injected fault; suite_to_yaml round-trips through Suite.from_yaml."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shipyard.data.profile import profile_table
from shipyard.data.sources.files import FileSource
from shipyard.data.validation import (
    AllowedValues,
    ColumnsPresent,
    Freshness,
    NotNull,
    Range,
    RowCount,
    Suite,
    Unique,
    suggest_suite,
    suite_to_yaml,
    validate,
)
from shipyard.errors import InvalidArgument

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROWS = 2000
CHURN = Path(__file__).resolve().parents[3] / "examples" / "churn" / "data" / "wa_churn.csv"
TS = pa.timestamp("us", tz="UTC")


def _clean() -> pa.Table:
    """2,000 seeded orders: an id, ints, floats (one with negatives), two categories, a column
    with ~10% nulls and a timestamp whose newest value is 2 hours before NOW."""
    rng = np.random.default_rng(7)
    age_s = np.sort(rng.integers(0, 30 * 86400, ROWS))
    age_s[0] = 0
    coupon = [None if x < 0.1 else f"c{int(x * 100)}" for x in rng.random(ROWS)]
    return pa.table(
        {
            "id": pa.array(rng.permutation(ROWS) + 1, pa.int64()),
            "quantity": pa.array(rng.poisson(3, ROWS), pa.int64()),
            "price": pa.array(np.round(rng.lognormal(3, 0.5, ROWS), 2)),
            "score": pa.array(rng.normal(0, 1, ROWS)),
            "plan": pa.array(rng.choice(["basic", "plus", "pro", "team"], ROWS)),
            "region": pa.array(rng.choice(["apac", "eu", "us"], ROWS)).dictionary_encode(),
            "coupon": pa.array(coupon, pa.string()),
            "ts": pa.array([NOW - timedelta(hours=2, seconds=int(s)) for s in age_s[::-1]], TS),
        }
    )


@pytest.fixture(scope="module")
def clean() -> pa.Table:
    return _clean()


@pytest.fixture(scope="module")
def drafted(clean: pa.Table) -> Suite:
    return suggest_suite(profile_table(clean), name="orders", now=NOW)


def _set(table: pa.Table, column: str, rows: list[int], value: Any) -> pa.Table:
    """``table`` with ``column`` set to ``value`` on ``rows``."""
    values = table.column(column).to_pylist()
    for row in rows:
        values[row] = value
    idx = table.column_names.index(column)
    return table.set_column(idx, column, pa.array(values, table.schema.field(column).type))


def _failed(table: pa.Table, suite: Suite) -> set[str]:
    return {r.name for r in validate(table, suite, now=NOW).failed}


# -- what is drafted -------------------------------------------------------------------------------


def test_drafted_rules_follow_the_profile(drafted: Suite, clean: pa.Table) -> None:
    rules = {r.name: r for r in drafted.rules}
    cols = rules["columns"]
    assert isinstance(cols, ColumnsPresent) and cols.severity == "error"
    assert cols.columns_required == {f.name: str(f.type) for f in clean.schema}
    assert rules["row_count"] == RowCount(name="row_count", min=ROWS // 2, severity="warn")
    assert rules["id_unique"] == Unique(name="id_unique", column_list=("id",))
    assert "id_range" not in rules  # identifiers grow: no range on them
    for name in ("id", "quantity", "price", "score", "plan", "region", "ts"):
        assert rules[f"{name}_not_null"] == NotNull(name=f"{name}_not_null", column=name)
    nulls = clean.column("coupon").null_count / ROWS
    coupon = rules["coupon_not_null"]
    assert isinstance(coupon, NotNull) and coupon.severity == "warn"
    assert nulls * 1.5 + 0.01 <= coupon.max_null_fraction < nulls * 1.5 + 0.0101
    quantity = rules["quantity_range"]
    assert isinstance(quantity, Range) and quantity.severity == "warn"
    high = max(clean.column("quantity").to_pylist())
    assert (quantity.min, quantity.max) == (0, high + int(high * 0.1))
    score = rules["score_range"]
    assert isinstance(score, Range) and isinstance(score.min, float) and score.min < 0
    lo, hi = pc.min(clean.column("score")).as_py(), pc.max(clean.column("score")).as_py()
    assert score.min <= lo - 0.1 * (hi - lo) and score.max >= hi + 0.1 * (hi - lo)
    assert rules["plan_values"] == AllowedValues(
        name="plan_values", column="plan", values=("basic", "plus", "pro", "team"), severity="warn"
    )
    region = rules["region_values"]
    assert isinstance(region, AllowedValues) and region.values == ("apac", "eu", "us")
    assert "coupon_values" not in rules  # ~90 distinct codes: more than top_k=10 holds
    assert rules["ts_fresh"] == Freshness(
        name="ts_fresh", column="ts", max_age="26h", severity="warn"
    )


def test_drafted_suite_passes_on_the_clean_table(drafted: Suite, clean: pa.Table) -> None:
    report = validate(clean, drafted, now=NOW)
    assert report.passed and report.failed == ()


def _nulls(t: pa.Table) -> pa.Table:
    return _set(t, "price", [3, 500, 1999], None)


def _too_expensive(t: pa.Table) -> pa.Table:
    return _set(t, "price", [10], 10_000.0)


def _negative_quantity(t: pa.Table) -> pa.Table:
    return _set(t, "quantity", [10, 11], -1)


def _new_plan(t: pa.Table) -> pa.Table:
    return _set(t, "plan", [42], "enterprise")


def _duplicate_ids(t: pa.Table) -> pa.Table:
    return _set(t, "id", [1, 2, 3], t.column("id")[0].as_py())


def _stale(t: pa.Table) -> pa.Table:
    shifted = pc.subtract(t.column("ts"), pa.scalar(timedelta(days=30), pa.duration("us")))
    return t.set_column(t.column_names.index("ts"), "ts", shifted)


def _retyped(t: pa.Table) -> pa.Table:
    idx = t.column_names.index("quantity")
    return t.set_column(idx, "quantity", pc.cast(t.column("quantity"), pa.float64()))


def _truncated(t: pa.Table) -> pa.Table:
    return t.slice(ROWS // 2 + 1)  # the newest rows: only the count is wrong


FAULTS: list[tuple[Callable[[pa.Table], pa.Table], str]] = [
    (_nulls, "price_not_null"),
    (_too_expensive, "price_range"),
    (_negative_quantity, "quantity_range"),
    (_new_plan, "plan_values"),
    (_duplicate_ids, "id_unique"),
    (_stale, "ts_fresh"),
    (_retyped, "columns"),
    (_truncated, "row_count"),
]


@pytest.mark.parametrize(("fault", "rule"), FAULTS, ids=[f.__name__ for f, _ in FAULTS])
def test_each_injected_fault_fails_exactly_its_rule(
    fault: Callable[[pa.Table], pa.Table], rule: str, drafted: Suite, clean: pa.Table
) -> None:
    broken = fault(clean)
    report = validate(broken, drafted, now=NOW)
    assert {r.name for r in report.failed} == {rule}
    blocking = next(r for r in drafted.rules if r.name == rule).severity == "error"
    assert report.passed is not blocking


@pytest.mark.parametrize(("fault", "rule"), FAULTS, ids=[f.__name__ for f, _ in FAULTS])
def test_bounds_severity_error_makes_every_fault_blocking(
    fault: Callable[[pa.Table], pa.Table], rule: str, clean: pa.Table
) -> None:
    strict = suggest_suite(profile_table(clean), name="orders", now=NOW, bounds_severity="error")
    assert {r.severity for r in strict.rules} == {"error"}
    assert validate(clean, strict, now=NOW).passed
    report = validate(fault(clean), strict, now=NOW)
    assert not report.passed and {r.name for r in report.failed} == {rule}


def test_nulls_within_the_tolerance_pass_and_beyond_it_fail(
    drafted: Suite, clean: pa.Table
) -> None:
    coupon = clean.column("coupon").to_pylist()
    present = [i for i, v in enumerate(coupon) if v is not None]
    limit = next(r for r in drafted.rules if r.name == "coupon_not_null")
    assert isinstance(limit, NotNull)
    allowed = int(limit.max_null_fraction * ROWS)
    extra = allowed - (ROWS - len(present))
    assert _failed(_set(clean, "coupon", present[:extra], None), drafted) == set()
    over = _set(clean, "coupon", present[: extra + 1], None)
    assert _failed(over, drafted) == {"coupon_not_null"}


# -- margins and edge cases ------------------------------------------------------------------------


def _rules(table: pa.Table, **kwargs: Any) -> dict[str, Any]:
    suite = suggest_suite(profile_table(table), name="s", now=NOW, **kwargs)
    return {r.name: r for r in suite.rules}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([10.0, 20.0], (9.0, 21.0)),  # 10% of the span on each side
        ([2.0, 100.0], (0.0, 109.8)),  # a non-negative column keeps min >= 0
        ([-5.0, 5.0], (-6.0, 6.0)),
        ([5.0, 5.0], (4.5, 5.5)),  # constant: 10% of the value
        ([0.0, 0.0], (0.0, 0.0)),
        ([0.1234, 0.5678], (0.078, 0.613)),  # rounded outward to 2 digits of the margin
    ],
)
def test_float_ranges_are_widened_and_rounded_outward(
    values: list[float], expected: tuple[float, float]
) -> None:
    rule = _rules(pa.table({"x": values}))["x_range"]
    assert (rule.min, rule.max) == expected


def test_integer_ranges_keep_integer_bounds() -> None:
    rules = _rules(pa.table({"t": pa.array([0, 72, 5, 5], pa.int64())}))
    assert (rules["t_range"].min, rules["t_range"].max) == (0, 79)
    rules = _rules(pa.table({"t": pa.array([-3, 3, 3], pa.int32())}))
    assert (rules["t_range"].min, rules["t_range"].max) == (-3, 3)  # margin 0.6: no whole step


def test_range_margin_zero_keeps_the_observed_bounds() -> None:
    rule = _rules(pa.table({"x": [1.5, 2.5]}), range_margin=0.0)["x_range"]
    assert (rule.min, rule.max) == (1.5, 2.5)


def test_nan_drops_the_max_and_negative_infinity_the_min() -> None:
    nan = _rules(pa.table({"x": [1.0, 2.0, float("nan")]}))["x_range"]
    assert nan.max is None and nan.min == 0.9
    rules = _rules(pa.table({"x": [1.0, float("inf"), float("-inf")]}))
    assert "x_range" not in rules
    table = pa.table({"x": [1.0, 2.0, float("nan")]})
    assert validate(table, Suite("s", (nan,))).passed


def test_ids_need_enough_rows_and_an_integer_or_string_type() -> None:
    strings = [f"c{i:04d}" for i in range(50)]
    rules = _rules(pa.table({"code": strings, "f": [float(i) for i in range(50)]}))
    assert isinstance(rules["code_unique"], Unique)
    assert "code_values" not in rules  # every value seen once: no evidence of a closed set
    assert "f_unique" not in rules and "f_range" in rules
    few = _rules(pa.table({"id": list(range(5))}))
    assert "id_unique" not in few and "id_range" in few
    assert "id_unique" in _rules(pa.table({"id": list(range(5))}), min_unique_rows=5)


def test_allowed_values_need_few_categories_all_in_top() -> None:
    table = pa.table({"c": [f"v{i % 12}" for i in range(120)]})
    assert "c_values" not in _rules(table)  # 12 distinct, top_k=10 lists only 10
    wide = suggest_suite(profile_table(table, top_k=50), name="s").rules
    values = next(r for r in wide if r.name == "c_values")
    assert isinstance(values, AllowedValues) and len(values.values) == 12
    few = suggest_suite(profile_table(table, top_k=50), name="s", max_categories=11).rules
    assert "c_values" not in {r.name for r in few}


def test_all_null_and_boolean_columns() -> None:
    table = pa.table({"gone": pa.array([None] * 20, pa.float64()), "flag": [True, False] * 10})
    rules = _rules(table)
    assert not [n for n in rules if n.startswith("gone_")]
    assert set(rules) == {"columns", "row_count", "flag_not_null"}


@pytest.mark.parametrize(
    ("newest_age", "slack", "max_age"),
    [
        (timedelta(hours=2), timedelta(days=1), "26h"),
        (timedelta(0), timedelta(days=1), "1d"),
        (timedelta(hours=-5), timedelta(days=1), "1d"),  # newest is in the future
        (timedelta(minutes=90), timedelta(0), "2h"),  # rounded up to whole hours
        (timedelta(days=6), timedelta(days=1), "7d"),
    ],
)
def test_freshness_max_age_is_the_observed_age_plus_slack(
    newest_age: timedelta, slack: timedelta, max_age: str
) -> None:
    stamps = [NOW - newest_age - timedelta(days=3), NOW - newest_age]
    rules = _rules(pa.table({"ts": pa.array(stamps, TS)}), freshness_slack=slack)
    assert rules["ts_fresh"].max_age == max_age


def test_freshness_on_naive_timestamps_and_dates_with_a_naive_now() -> None:
    naive_now = NOW.replace(tzinfo=None)
    table = pa.table(
        {
            "ts": pa.array([naive_now - timedelta(hours=3)], pa.timestamp("ns")),
            "day": pa.array([date(2026, 2, 27)], pa.date32()),
        }
    )
    suite = suggest_suite(profile_table(table), name="s", now=naive_now)
    rules: dict[str, Any] = {r.name: r for r in suite.rules}
    assert rules["ts_fresh"].max_age == "27h"
    assert rules["day_fresh"].max_age == "84h"  # 2026-02-27 00:00 is 60 h before now, + 24 h
    assert _failed(table, suite) == set()
    late = validate(table, suite, now=NOW + timedelta(days=2))
    assert {r.name for r in late.failed} == {"ts_fresh", "day_fresh"}


def test_clashing_rule_names_get_a_suffix() -> None:
    table = pa.Table.from_arrays([pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["x", "x"])
    names = [r.name for r in suggest_suite(profile_table(table), name="s").rules]
    assert names == [
        "columns",
        "row_count",
        "x_not_null",
        "x_range",
        "x_not_null_2",
        "x_range_2",
    ]


def test_an_empty_table_gets_only_the_columns_rule() -> None:
    table = pa.table({"x": pa.array([], pa.int64())})
    suite = suggest_suite(profile_table(table), name="s")
    assert [r.name for r in suite.rules] == ["columns"]
    assert validate(table, suite).passed


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"range_margin": -0.1}, "range_margin"),
        ({"range_margin": "10%"}, "range_margin"),
        ({"null_slack": 0.5}, "null_slack"),
        ({"null_epsilon": 2.0}, "null_epsilon"),
        ({"max_categories": 0}, "max_categories"),
        ({"max_categories": 2.5}, "max_categories"),
        ({"min_unique_rows": True}, "min_unique_rows"),
        ({"freshness_slack": 3600}, "freshness_slack"),
        ({"freshness_slack": timedelta(hours=-1)}, "freshness_slack"),
        ({"row_count_fraction": 1.5}, "row_count_fraction"),
        ({"bounds_severity": "fatal"}, "bounds_severity"),
        ({"now": "2026-01-01"}, "now"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_options_are_named(kwargs: dict[str, Any], needle: str) -> None:
    profile = profile_table(pa.table({"x": [1, 2]}))
    with pytest.raises(InvalidArgument, match=needle):
        suggest_suite(profile, **{"name": "s", **kwargs})


def test_a_table_instead_of_a_profile_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="profile_table"):
        suggest_suite(pa.table({"x": [1]}), name="s")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Suite"):
        suite_to_yaml({"name": "s", "rules": []})  # type: ignore[arg-type]


# -- YAML and the real churn data ------------------------------------------------------------------


def test_suite_to_yaml_round_trips(drafted: Suite, clean: pa.Table) -> None:
    text = suite_to_yaml(drafted)
    assert text.startswith("name: orders\nrules:\n- type: columns_present\n")
    assert "min_inclusive" not in text  # defaults left out
    again = Suite.from_yaml(text)
    assert again == drafted
    assert validate(clean, again, now=NOW).passed


def test_drafted_churn_suite_passes_and_round_trips() -> None:
    table = FileSource("churn", str(CHURN)).read().table
    suite = suggest_suite(profile_table(table, top_k=50), name="churn")
    rules: dict[str, Any] = {r.name: r for r in suite.rules}
    assert (rules["tenure_range"].min, rules["tenure_range"].max) == (0, 79)
    assert rules["total_charges_not_null"].max_null_fraction == pytest.approx(
        11 / 7043 * 1.5 + 0.01, abs=1e-4
    )
    assert rules["contract_values"].values == ("Month-to-month", "One year", "Two year")
    assert rules["churn_values"].values == ("No", "Yes")
    report = validate(table, suite)
    assert report.passed and report.failed == ()
    text = suite_to_yaml(suite)
    assert Suite.from_yaml(text) == suite
    assert validate(table, Suite.from_yaml(text)).failed == ()
