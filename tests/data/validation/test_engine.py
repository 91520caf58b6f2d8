"""The validation engine on small real tables: every rule type, errors, failing rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from shipyard.data.profile import profile_table
from shipyard.data.validation import (
    AllowedValues,
    ColumnsPresent,
    Distribution,
    Freshness,
    NotNull,
    Range,
    Referential,
    Regex,
    RowCount,
    Sql,
    Suite,
    Unique,
    failing_row_mask,
    failing_rows,
    validate,
)
from shipyard.errors import InvalidArgument

TS = pa.timestamp("us", tz="UTC")


def _table() -> pa.Table:
    return pa.table(
        {
            "id": [1, 2, 2, 4, None],
            "age": [10, -1, 50, 200, None],
            "plan": ["a", "b", "z", "a", None],
            "email": ["x@y.io", "bad", "q@r.com", "no", None],
            "monthly": [10.0, 20.0, 30.0, 40.0, 50.0],
            "total": [10.0, 10.0, 30.0, 80.0, None],
            "ts": pa.array([datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4, 5)], TS),
        }
    )


def _run(*rules, **kw):  # type: ignore[no-untyped-def]
    return validate(_table(), Suite("s", rules), **kw)


def test_row_rules_count_failures_and_give_examples() -> None:
    report = _run(
        NotNull(name="nn", column="age"),
        Unique(name="uq", column_list=("id",)),
        Range(name="rg", column="age", min=0, max=120),
        AllowedValues(name="av", column="plan", values=("a", "b")),
        Regex(name="rx", column="email", pattern=r"^[^@]+@[^@]+$"),
        Sql(name="sq", expression="total >= monthly"),
    )
    counts = {r.name: r.failed_count for r in report.results}
    assert counts == {"nn": 1, "uq": 1, "rg": 2, "av": 1, "rx": 2, "sq": 1}
    assert not report.passed
    assert [e["age"] for e in report.result("rg").examples] == [-1, 200]
    assert report.result("uq").examples[0]["id"] == 2
    assert report.result("sq").examples[0]["total"] == 10.0
    assert report.result("av").examples[0]["plan"] == "z"
    # ONE aggregate query for every count but unique's; a unique rule groups its keys once
    # (into a temp table, then sums it); one small query per failed rule for examples
    assert report.queries == 1 + 2 + 6


def test_examples_limit() -> None:
    rule = Range(name="rg", column="monthly", max=15)
    report = _run(rule, failing_rows_limit=2)
    res = report.result("rg")
    assert report.queries == 2 and res.failed_count == 4
    assert [e["monthly"] for e in res.examples] == [20.0, 30.0]
    no_examples = _run(rule, failing_rows_limit=0)
    assert no_examples.result("rg").examples == () and no_examples.queries == 1


def test_passing_suite_sends_one_aggregate_query_and_one_group_by_per_unique() -> None:
    report = _run(
        Range(name="rg", column="monthly", min=0, max=100, max_inclusive=False),
        NotNull(name="nn", column="age", max_null_fraction=0.2),
        Unique(name="uq", column_list=("id", "plan")),
        AllowedValues(name="av", column="plan", values=("a", "b", "z")),
        Freshness(name="fr", column="ts", max_age="24h"),
        now=datetime(2026, 1, 5, 12, tzinfo=UTC),
    )
    assert report.passed, report.to_dict()
    assert report.queries == 1 + 2
    assert all(r.examples == () for r in report.results)


def test_nulls_only_fail_not_null() -> None:
    t = pa.table(
        {"x": pa.array([None, None], pa.int64()), "s": pa.array([None, None], pa.string())}
    )
    suite = Suite(
        "n",
        (
            Range(name="r", column="x", min=0),
            Regex(name="re", column="s", pattern="^a$"),
            AllowedValues(name="a", column="s", values=("a",)),
            NotNull(name="nn", column="x"),
        ),
    )
    report = validate(t, suite)
    assert [r.failed_count for r in report.results] == [0, 0, 0, 2]


def test_table_level_rules() -> None:
    now = datetime(2026, 1, 20, tzinfo=UTC)
    report = _run(
        ColumnsPresent(name="cp", columns_required={"id": "int64", "age": "string", "nope": None}),
        RowCount(name="rc", min=10),
        Freshness(name="fr", column="ts", max_age="7d"),
        now=now,
    )
    cp = report.result("cp")
    assert not cp.passed and cp.failed_count == 2 and "nope" in cp.message
    assert not report.result("rc").passed
    assert not report.result("fr").passed and "2026-01-05" in report.result("fr").message


def test_warn_does_not_fail_the_report() -> None:
    report = _run(Range(name="rg", column="age", min=0, severity="warn"))
    assert report.passed and not report.results[0].passed


def test_missing_column_fails_the_rule_not_the_run() -> None:
    report = _run(Range(name="rg", column="ghost", min=0), Sql(name="sq", expression="ghost > 1"))
    assert "ghost" in report.result("rg").message and not report.result("rg").passed
    assert "ghost" in report.result("sq").message and not report.result("sq").passed


def test_referential() -> None:
    refs = {"plans": pa.table({"code": ["a", "b"]})}
    rule = Referential(name="ref", column="plan", reference="plans", ref_column="code")
    report = _run(rule, references=refs)
    assert report.results[0].failed_count == 1
    with pytest.raises(InvalidArgument, match="plans"):
        _run(rule)


def test_distribution() -> None:
    ref = profile_table(pa.table({"monthly": [10.0, 20.0, 30.0, 40.0, 50.0]}))
    same = _run(
        Distribution(name="d", column="monthly", max_psi=0.1, max_mean_shift_std=0.5),
        reference_profile=ref,
    )
    assert same.passed
    moved = profile_table(pa.table({"monthly": [1000.0, 1001.0, 1002.0]}))
    report = _run(Distribution(name="d", column="monthly", max_psi=0.1), reference_profile=moved)
    assert not report.passed and "PSI" in report.results[0].message


def test_failing_rows_lists_rules() -> None:
    table = _table()
    report = validate(
        table,
        Suite("s", (Range(name="rg", column="age", min=0), Unique(name="uq", column_list=("id",)))),
    )
    bad = failing_rows(table, report)
    assert bad.column("age").to_pylist() == [-1, 50]
    assert bad.column("_failed_rules").to_pylist() == [["rg"], ["uq"]]
    assert failing_row_mask(table, report).to_pylist() == [False, True, True, False, False]


def test_report_to_dict_is_json() -> None:
    import json

    json.dumps(_run(Freshness(name="f", column="ts", max_age="1h")).to_dict())
