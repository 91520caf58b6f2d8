"""Compile row-level rules to DuckDB SQL: a violation predicate per rule and aggregate terms."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.data.validation._sql import ident, literal
from shipyard.data.validation.rules import (
    AllowedValues,
    Freshness,
    NotNull,
    Range,
    Referential,
    Regex,
    Rule,
    Sql,
    Unique,
)

__all__ = ["ROW_COLUMN", "Compiled", "compile_rule"]

ROW_COLUMN = "__shipyard_row"


@dataclass(frozen=True)
class Compiled:
    """One rule in SQL: ``aggregate`` is its term in the single aggregate query (the failed
    count, or the newest epoch microsecond for freshness); ``predicate`` is true on a failing
    row (None for table-level rules); ``window`` is a column that the predicate reads, computed
    over the row-numbered table (``unique``)."""

    aggregate: str
    predicate: str | None
    window: str | None = None


def compile_rule(rule: Rule, ref_table: str | None = None) -> Compiled | None:
    """The SQL of ``rule``, or None when it is not evaluated in SQL."""
    if isinstance(rule, Unique):
        return _unique(rule)
    if isinstance(rule, Freshness):
        return Compiled(f"epoch_us(max({ident(rule.column)})::TIMESTAMP)", None)
    predicate = _predicate(rule, ref_table)
    if predicate is None:
        return None
    return Compiled(f"count(*) FILTER (WHERE {predicate})", predicate)


def _predicate(rule: Rule, ref_table: str | None) -> str | None:
    if isinstance(rule, NotNull):
        return f"{ident(rule.column)} IS NULL"
    if isinstance(rule, Range):
        return _range(rule)
    if isinstance(rule, AllowedValues):
        values = ", ".join(literal(v) for v in rule.values)
        return f"{ident(rule.column)} NOT IN ({values})"
    if isinstance(rule, Regex):
        return f"NOT regexp_matches({ident(rule.column)}, {literal(rule.pattern)})"
    if isinstance(rule, Referential) and ref_table is not None:
        ref_col = ident(rule.ref_column or rule.column)
        return (
            f"{ident(rule.column)} NOT IN "
            f"(SELECT {ref_col} FROM {ident(ref_table)} WHERE {ref_col} IS NOT NULL)"
        )
    if isinstance(rule, Sql):
        return f"NOT ({rule.expression})"
    return None


def _range(rule: Range) -> str:
    col = ident(rule.column)
    parts = []
    if rule.min is not None:
        parts.append(f"{col} {'<' if rule.min_inclusive else '<='} {literal(rule.min)}")
    if rule.max is not None:
        parts.append(f"{col} {'>' if rule.max_inclusive else '>='} {literal(rule.max)}")
    return "(" + " OR ".join(parts) + ")"


def _unique(rule: Unique) -> Compiled:
    cols = [ident(c) for c in rule.column_list]
    present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    key = cols[0] if len(cols) == 1 else f"ROW({', '.join(cols)})"
    if len(cols) == 1:
        aggregate = f"count({key}) - count(DISTINCT {key})"
    else:
        aggregate = (
            f"count(*) FILTER (WHERE {present}) - count(DISTINCT {key}) FILTER (WHERE {present})"
        )
    window = (
        f"({present} AND row_number() OVER (PARTITION BY {', '.join(cols)} "
        f"ORDER BY {ident(ROW_COLUMN)}) > 1)"
    )
    return Compiled(aggregate, "{window}", window)
