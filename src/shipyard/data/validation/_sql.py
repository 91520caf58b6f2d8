"""SQL text helpers for the validation engine: quoting and parse-only checks with DuckDB."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["check_expression", "check_regex", "ident", "literal"]


def ident(name: str) -> str:
    """``name`` as a quoted DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A Python scalar as a DuckDB literal (strings quoted, booleans as TRUE/FALSE)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "'NaN'::DOUBLE"
        if math.isinf(value):
            return "'Infinity'::DOUBLE" if value > 0 else "'-Infinity'::DOUBLE"
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _scratch() -> Any:
    import duckdb

    return duckdb.connect()


def check_regex(pattern: str) -> str | None:
    """None when DuckDB (RE2) accepts ``pattern``, else its error message."""
    import duckdb

    with _scratch() as con:
        try:
            con.execute(f"SELECT regexp_matches('', {literal(pattern)})").fetchall()
        except duckdb.Error as exc:
            return str(exc)
    return None


_PLAIN_SELECT = {"from_table": "EMPTY"}


def check_expression(expression: str) -> str | None:
    """None when ``expression`` parses as exactly one SQL expression, else why it does not."""
    if not isinstance(expression, str) or not expression.strip():
        return "expression must be a non-empty SQL boolean expression"
    if ";" in expression:
        return (
            f"expression {expression!r} contains ';': give one boolean expression over a row "
            "(e.g. total_charges >= monthly_charges), not statements"
        )
    with _scratch() as con:
        row = con.execute("SELECT json_serialize_sql($1)", [f"SELECT ({expression}) AS v"])
        tree = json.loads(row.fetchall()[0][0])
    if tree.get("error"):
        return (
            f"expression {expression!r} does not parse as SQL: "
            f"{tree.get('error_message', 'syntax error')}"
        )
    if not _is_single_expression(tree):
        return (
            f"expression {expression!r} is not a single expression over a row; "
            "subqueries, set operations and clauses such as FROM are not allowed"
        )
    return None


def _is_single_expression(tree: dict[str, Any]) -> bool:
    statements = tree.get("statements") or []
    if len(statements) != 1:
        return False
    node = statements[0].get("node", {})
    return bool(
        node.get("type") == "SELECT_NODE"
        and len(node.get("select_list") or []) == 1
        and node.get("from_table", {}).get("type") == "EMPTY"
        and node.get("where_clause") is None
        and not node.get("group_expressions")
        and not node.get("modifiers")
        and node.get("having") is None
        and node.get("qualify") is None
        and '"SUBQUERY"' not in json.dumps(node)
    )
