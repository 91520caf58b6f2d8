"""Validation suites: rules checked on an Arrow table by one DuckDB aggregate query."""

from shipyard.data.validation.engine import (
    RuleResult,
    ValidationReport,
    failing_row_mask,
    failing_rows,
    validate,
)
from shipyard.data.validation.report import render_html, report_dict, write_reports
from shipyard.data.validation.rules import (
    AllowedValues,
    ColumnsPresent,
    Distribution,
    Freshness,
    NotNull,
    Range,
    Referential,
    Regex,
    RowCount,
    Rule,
    Sql,
    Unique,
    rule_from_dict,
)
from shipyard.data.validation.suggest import suggest_suite, suite_to_yaml
from shipyard.data.validation.suite import Suite

__all__ = [
    "AllowedValues",
    "ColumnsPresent",
    "Distribution",
    "Freshness",
    "NotNull",
    "Range",
    "Referential",
    "Regex",
    "RowCount",
    "Rule",
    "RuleResult",
    "Sql",
    "Suite",
    "Unique",
    "ValidationReport",
    "failing_row_mask",
    "failing_rows",
    "render_html",
    "report_dict",
    "rule_from_dict",
    "suggest_suite",
    "suite_to_yaml",
    "validate",
    "write_reports",
]
