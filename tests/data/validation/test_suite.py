"""Suites from YAML and Python, and every way a rule can be refused."""

from __future__ import annotations

import pytest

from shipyard.data.validation import Sql, Suite
from shipyard.data.validation.rules import Regex
from shipyard.errors import InvalidArgument

YAML = """
name: churn
rules:
  - {type: columns_present, name: cols, columns: [id, age]}
  - {type: not_null, name: id_nn, column: id}
  - {type: unique, name: id_uq, columns: [id]}
  - {type: range, name: age_rg, column: age, min: 0, max: 120, severity: warn}
  - {type: sql, name: charges, expression: "total >= monthly"}
"""


def test_from_yaml_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    suite = Suite.from_yaml(YAML)
    assert [r.type for r in suite.rules][-1] == "sql"
    assert Suite.from_dict(suite.to_dict()) == suite
    path = tmp_path / "s.yaml"
    path.write_text(YAML)
    assert Suite.from_yaml(path) == suite


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        ("{type: nope, name: x}", "valid types are"),
        ("{type: range, name: x, column: a, min: 0, bogus: 1}", "valid fields are"),
        ("{type: regex, name: x, column: a, pattern: '(ab'}", "not a valid RE2"),
        ("{type: sql, name: x, expression: 'a >= '}", "does not parse"),
        ("{type: sql, name: x, expression: 'a > 1; DROP TABLE t'}", "contains ';'"),
        ("{type: sql, name: x, expression: '1) FROM t UNION SELECT (2'}", "single expression"),
        ("{type: freshness, name: x, column: ts, max_age: soon}", "not a duration"),
    ],
)
def test_bad_rules_are_refused(rule: str, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match) as info:
        Suite.from_yaml(f"name: s\nrules:\n  - {rule}\n")
    assert "'x'" in str(info.value) or "nope" in str(info.value)


def test_duplicate_names_refused() -> None:
    rule = Sql(name="a", expression="x > 1")
    with pytest.raises(InvalidArgument, match="used twice"):
        Suite("s", (rule, rule))
    with pytest.raises(InvalidArgument, match="severity"):
        Regex(name="r", column="c", pattern="a", severity="fatal")


def test_rules_without_a_name_are_named_after_column_and_type() -> None:
    suite = Suite.from_yaml(
        "name: s\nrules:\n  - {type: not_null, column: age}\n  - {type: row_count, min: 1}\n"
    )
    assert [r.name for r in suite.rules] == ["age_not_null", "row_count"]
    with pytest.raises(InvalidArgument, match="age_not_null"):
        twice = "  - {type: not_null, column: age}\n" * 2
        Suite.from_yaml("name: s\nrules:\n" + twice)
