"""Run a validation suite on an Arrow table with DuckDB: one aggregate query for every rule.

The table is registered in an in-memory DuckDB connection (zero-copy) and every row-level
rule is compiled into a single ``SELECT count(*) FILTER (WHERE <violation>) …`` query, run
once. Only rules that failed cost a second, small query each, for up to ``failing_rows_limit``
example rows. Schema (``columns_present``), ``row_count`` and ``distribution`` rules are
evaluated without SQL; ``freshness`` reads ``max(column)`` in the same aggregate query.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shipyard.data.validation._compile import ROW_COLUMN, Compiled, compile_rule
from shipyard.data.validation._sql import ident
from shipyard.data.validation.rules import (
    ColumnsPresent,
    Distribution,
    Freshness,
    NotNull,
    Referential,
    RowCount,
    Rule,
    Unique,
    parse_age,
)
from shipyard.data.validation.suite import Suite
from shipyard.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.data.profile import TableProfile

__all__ = ["RuleResult", "ValidationReport", "failing_row_mask", "failing_rows", "validate"]

FAILED_RULES_COLUMN = "_failed_rules"


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule: ``failed_count`` of ``total`` (rows, or 1 for a table-level
    rule) failed; ``examples`` holds up to N failing rows as dicts."""

    name: str
    type: str
    severity: str
    passed: bool
    failed_count: int
    total: int
    message: str
    examples: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "name": self.name,
            "type": self.type,
            "severity": self.severity,
            "passed": self.passed,
            "failed_count": self.failed_count,
            "total": self.total,
            "message": self.message,
            "examples": [{k: _jsonable(v) for k, v in row.items()} for row in self.examples],
        }


@dataclass(frozen=True)
class _Plan:
    """What ``failing_rows`` needs to find a failed rule's rows again."""

    compiled: Mapping[str, Compiled]
    references: Mapping[str, pa.Table]


@dataclass(frozen=True)
class ValidationReport:
    """Every rule's result; ``passed`` is False when an error-level rule failed.

    ``queries`` counts the SQL queries sent to DuckDB (one aggregate plus one per failed rule
    that has example rows).
    """

    suite: str
    passed: bool
    num_rows: int
    results: tuple[RuleResult, ...]
    duration_s: float
    queries: int
    _plan: _Plan = field(repr=False, compare=False)

    def result(self, name: str) -> RuleResult:
        """The result of rule ``name``.

        Raises:
            InvalidArgument: no rule has that name.
        """
        for res in self.results:
            if res.name == name:
                return res
        raise InvalidArgument(
            f"no rule {name!r} in the report; rules are {[r.name for r in self.results]}"
        )

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """The results that did not pass (any severity)."""
        return tuple(r for r in self.results if not r.passed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "suite": self.suite,
            "passed": self.passed,
            "num_rows": self.num_rows,
            "duration_s": self.duration_s,
            "queries": self.queries,
            "results": [r.to_dict() for r in self.results],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, datetime | timedelta) or hasattr(value, "isoformat"):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# -- the connection -------------------------------------------------------------------------------


class _Session:
    """An in-memory DuckDB connection with the table registered (zero-copy) as ``t``, plus a
    ``ROW_COLUMN`` row number; counts the queries sent."""

    def __init__(self, table: pa.Table, references: Mapping[str, pa.Table]) -> None:
        import duckdb
        import numpy as np
        import pyarrow as pa

        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {os.cpu_count() or 1}")
        self.con.execute("SET TimeZone = 'UTC'")
        rows = pa.array(np.arange(table.num_rows, dtype=np.int64))
        self.con.register("t", table.append_column(ROW_COLUMN, rows))
        for name, ref in references.items():
            self.con.register(name, ref)
        self.table = table
        self.references = dict(references)
        self.queries = 0

    def one(self, sql: str) -> tuple[Any, ...]:
        self.queries += 1
        rows = self.con.execute(sql).fetchall()
        return tuple(rows[0]) if rows else ()

    def arrow(self, sql: str) -> pa.Table:
        self.queries += 1
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


# -- validate --------------------------------------------------------------------------------------


def validate(
    table: pa.Table,
    suite: Suite,
    *,
    now: datetime | None = None,
    references: Mapping[str, pa.Table] | None = None,
    reference_profile: TableProfile | None = None,
    failing_rows_limit: int = 20,
) -> ValidationReport:
    """Check ``table`` against every rule of ``suite``.

    ``now`` (default: the current UTC time; naive means UTC) anchors ``freshness``;
    ``references`` maps the names ``referential`` rules give to tables; ``reference_profile``
    is what ``distribution`` rules compare with. A rule naming a column the table lacks, or
    whose SQL DuckDB cannot bind, fails with a message instead of raising.

    Returns:
        A ``ValidationReport``; ``passed`` is False when an error-level rule failed.

    Raises:
        InvalidArgument: ``table`` is not a ``pyarrow.Table``, ``suite`` not a ``Suite``, a
            referential rule names a table missing from ``references``, a distribution rule
            has no ``reference_profile``, or ``failing_rows_limit`` < 0.

    >>> import pyarrow as pa
    >>> from shipyard.data.validation.rules import Range
    >>> s = Suite("s", (Range(name="age_ok", column="age", min=0, max=120),))
    >>> r = validate(pa.table({"age": [3, 150, None]}), s)
    >>> r.passed, r.results[0].failed_count, r.results[0].examples
    (False, 1, ({'age': 150},))
    """
    import pyarrow as pa

    started = time.perf_counter()
    if not isinstance(table, pa.Table):
        raise InvalidArgument(f"validate takes a pyarrow.Table, not {type(table).__name__}")
    if not isinstance(suite, Suite):
        raise InvalidArgument(f"validate takes a Suite, not {type(suite).__name__}")
    if isinstance(failing_rows_limit, bool) or failing_rows_limit < 0:
        raise InvalidArgument(f"failing_rows_limit must be >= 0, not {failing_rows_limit!r}")
    ref_names = _reference_names(suite, references or {}, reference_profile)
    session = _Session(table, {v: (references or {})[k] for k, v in ref_names.items()})
    try:
        results, compiled = _run(
            session, suite, ref_names, now, reference_profile, failing_rows_limit
        )
    finally:
        session.close()
    ordered = tuple(results[r.name] for r in suite.rules)
    return ValidationReport(
        suite=suite.name,
        passed=all(r.passed or r.severity != "error" for r in ordered),
        num_rows=table.num_rows,
        results=ordered,
        duration_s=time.perf_counter() - started,
        queries=session.queries,
        _plan=_Plan(
            compiled,
            {v: (references or {})[k] for k, v in ref_names.items()},
        ),
    )


def _reference_names(
    suite: Suite, references: Mapping[str, pa.Table], profile: TableProfile | None
) -> dict[str, str]:
    """Each referenced table's name mapped to its registered SQL name; checks the arguments."""
    import pyarrow as pa

    names: dict[str, str] = {}
    for rule in suite.rules:
        if isinstance(rule, Distribution) and profile is None:
            raise InvalidArgument(
                f"rule {rule.name!r} (distribution) needs validate(..., reference_profile=...)"
            )
        if not isinstance(rule, Referential):
            continue
        ref = references.get(rule.reference)
        if not isinstance(ref, pa.Table):
            raise InvalidArgument(
                f"rule {rule.name!r} (referential) needs references[{rule.reference!r}] to be a "
                f"pyarrow.Table; references given: {sorted(references)}"
            )
        names.setdefault(rule.reference, f"ref_{len(names)}")
    return names


def _missing(rule: Rule, table: pa.Table, references: Mapping[str, pa.Table]) -> str | None:
    absent = [c for c in rule.columns() if c not in table.column_names]
    if absent:
        return f"column(s) {absent} not in the table; columns are {table.column_names}"
    if isinstance(rule, Referential):
        ref = references[rule.reference]
        col = rule.ref_column or rule.column
        if col not in ref.column_names:
            return (
                f"column {col!r} not in reference table {rule.reference!r}; "
                f"columns are {ref.column_names}"
            )
    return None


def _run(
    session: _Session,
    suite: Suite,
    ref_names: Mapping[str, str],
    now: datetime | None,
    profile: TableProfile | None,
    limit: int,
) -> tuple[dict[str, RuleResult], dict[str, Compiled]]:
    table = session.table
    refs = {name: session.references[sql] for name, sql in ref_names.items()}
    results: dict[str, RuleResult] = {}
    compiled: dict[str, Compiled] = {}
    for rule in suite.rules:
        problem = _missing(rule, table, refs)
        if problem:
            results[rule.name] = _result(rule, False, 1, 1, problem)
        elif isinstance(rule, ColumnsPresent | RowCount | Distribution):
            results[rule.name] = _table_rule(rule, table, profile)
        else:
            sql = compile_rule(rule, ref_names.get(getattr(rule, "reference", "")))
            if sql is not None:
                compiled[rule.name] = sql
    grouped = {r.name for r in suite.rules if isinstance(r, Unique) and r.name in compiled}
    values, errors = _aggregate(session, {n: c for n, c in compiled.items() if n not in grouped})
    unique_examples: dict[str, list[int]] = {}
    for rule in suite.rules:
        if rule.name in grouped and isinstance(rule, Unique):
            values[rule.name], unique_examples[rule.name] = _unique(session, rule, limit)
    for rule in suite.rules:
        if rule.name in errors:
            results[rule.name] = _result(rule, False, 1, 1, errors[rule.name])
            del compiled[rule.name]
        elif rule.name in values:
            res = _row_rule(rule, values[rule.name], table.num_rows, now)
            comp = compiled[rule.name]
            if not res.passed and res.failed_count and limit and comp.predicate is not None:
                if isinstance(rule, Unique):
                    rows = unique_examples[rule.name]
                else:
                    rows = _examples(session, comp.predicate, limit)
                res = _with_examples(res, table, rows)
            results[rule.name] = res
    return results, compiled


def _result(rule: Rule, passed: bool, failed: int, total: int, message: str) -> RuleResult:
    return RuleResult(rule.name, rule.type, rule.severity, passed, failed, total, message)


def _aggregate(
    session: _Session, compiled: Mapping[str, Compiled]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run every rule's aggregate term in ONE query. On a bind error, find the rules at
    fault (each bound alone with LIMIT 0), fail them with DuckDB's message and run the rest.

    Returns ``{rule: aggregate value}`` and ``{rule: error}``.
    """
    import duckdb

    if not compiled:
        return {}, {}
    names = list(compiled)
    terms = []
    for i, name in enumerate(names):
        comp = compiled[name]
        terms.append(f"{comp.aggregate} AS c{i}")
    try:
        cursor = session.con.execute(f"SELECT {', '.join(terms)} FROM t")
        session.queries += 1
        described = [d[0] for d in cursor.description or ()]
        row = dict(zip(described, cursor.fetchall()[0], strict=True))
    except duckdb.Error:
        errors = _bind_errors(session, compiled)
        if not errors:
            raise
        rest = {n: c for n, c in compiled.items() if n not in errors}
        values, more = _aggregate(session, rest)
        return values, {**errors, **more}
    return {n: row[f"c{i}"] for i, n in enumerate(names)}, {}


def _with_examples(res: RuleResult, table: pa.Table, rows: list[int]) -> RuleResult:
    # one-row slices: ``take`` on a many-chunk table costs tens of ms per call
    examples = tuple(r for i in rows for r in table.slice(i, 1).to_pylist())
    return RuleResult(
        res.name, res.type, res.severity, res.passed, res.failed_count, res.total,
        res.message, examples,
    )  # fmt: skip


def _examples(session: _Session, predicate: str, limit: int) -> list[int]:
    """Row numbers of the first ``limit`` rows failing ``predicate`` (a streaming LIMIT: the
    scan stops as soon as they are found)."""
    found = session.arrow(f"SELECT {ident(ROW_COLUMN)} FROM t WHERE {predicate} LIMIT {limit}")
    return [int(r) for r in found.column(0).to_pylist()]


def _unique(session: _Session, rule: Unique, limit: int) -> tuple[int, list[int]]:
    """The duplicate count of a ``unique`` rule and the row numbers of up to ``limit``
    duplicates (rows after the first of their key), from ONE group-by over the table plus a
    semi-join on the few example keys (no second pass over all keys)."""
    cols = ", ".join(ident(c) for c in rule.column_list)
    present = " AND ".join(f"{ident(c)} IS NOT NULL" for c in rule.column_list)
    row = ident(ROW_COLUMN)
    session.con.execute(
        f"CREATE OR REPLACE TEMP TABLE dup AS SELECT {cols}, count(*) AS n FROM t "
        f"WHERE {present} GROUP BY ALL HAVING count(*) > 1"
    )
    session.queries += 1
    failed = int(session.one("SELECT coalesce(sum(n - 1), 0) FROM dup")[0])
    if not failed or not limit:
        return failed, []
    found = session.one(
        f"WITH d AS (SELECT {cols} FROM dup LIMIT {int(limit)}) "
        f"SELECT list(r ORDER BY r)[1:{int(limit)}] FROM (SELECT {row} AS r, row_number() OVER "
        f"(PARTITION BY {cols} ORDER BY {row}) AS k FROM t SEMI JOIN d USING ({cols})) "
        "WHERE k > 1"
    )
    return failed, list(found[0] or []) if found else []


def _bind_errors(session: _Session, compiled: Mapping[str, Compiled]) -> dict[str, str]:
    import duckdb

    errors: dict[str, str] = {}
    for name, sql in compiled.items():
        try:
            session.con.execute(f"SELECT {sql.aggregate} FROM t LIMIT 0").fetchall()
        except duckdb.Error as exc:
            errors[name] = f"DuckDB cannot evaluate the rule on this table: {exc}"
    return errors


def _row_rule(rule: Rule, value: Any, rows: int, now: datetime | None) -> RuleResult:
    if isinstance(rule, Freshness):
        return _freshness(rule, value, now)
    failed = int(value)
    if isinstance(rule, NotNull):
        fraction = failed / rows if rows else 0.0
        passed = fraction <= rule.max_null_fraction
        message = (
            f"{failed} of {rows} values of {rule.column!r} are null ({fraction:.4%}); "
            f"at most {rule.max_null_fraction:.4%} allowed"
        )
        return _result(rule, passed, failed, rows, message)
    what = "duplicate rows" if rule.type == "unique" else "rows fail"
    message = f"{failed} of {rows} {what}" if failed else f"all {rows} rows pass"
    return _result(rule, failed == 0, failed, rows, message)


def _freshness(rule: Freshness, newest_us: int | None, now: datetime | None) -> RuleResult:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    limit = parse_age(rule.max_age)
    if newest_us is None:
        return _result(rule, False, 1, 1, f"column {rule.column!r} has no non-null timestamp")
    newest = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(newest_us))
    age = moment - newest
    passed = age <= limit
    message = (
        f"newest {rule.column!r} is {newest.isoformat()}, {age} before now "
        f"({moment.isoformat()}); at most {rule.max_age} allowed"
    )
    return _result(rule, passed, 0 if passed else 1, 1, message)


def _table_rule(rule: Rule, table: pa.Table, profile: TableProfile | None) -> RuleResult:
    if isinstance(rule, ColumnsPresent):
        return _columns_present(rule, table)
    if isinstance(rule, RowCount):
        n = table.num_rows
        ok = (rule.min is None or n >= rule.min) and (rule.max is None or n <= rule.max)
        bounds = f"[{rule.min if rule.min is not None else '-inf'}, "
        bounds += f"{rule.max if rule.max is not None else 'inf'}]"
        return _result(rule, ok, 0 if ok else 1, 1, f"{n} rows; allowed {bounds}")
    if not isinstance(rule, Distribution) or profile is None:  # validate checked the profile
        raise InvalidArgument(f"rule {rule.name!r} ({rule.type}) is not a table-level rule")
    return _distribution(rule, table, profile)


def _columns_present(rule: ColumnsPresent, table: pa.Table) -> RuleResult:
    types = {f.name: str(f.type) for f in table.schema}
    problems = []
    for name, wanted in rule.columns_required.items():
        if name not in types:
            problems.append(f"{name!r} is missing")
        elif wanted is not None and types[name] != wanted:
            problems.append(f"{name!r} is {types[name]}, expected {wanted}")
    total = len(rule.columns_required)
    message = "; ".join(problems) if problems else f"all {total} columns present"
    return _result(rule, not problems, len(problems), total, message)


def _distribution(rule: Distribution, table: pa.Table, ref: TableProfile) -> RuleResult:
    from shipyard.data.profile import compare, profile_table

    if rule.column not in [c.name for c in ref.columns]:
        return _result(rule, False, 1, 1, f"column {rule.column!r} not in the reference profile")
    new = profile_table(table.select([rule.column]))
    diff = next(c for c in compare(ref, new).columns if c.name == rule.column)
    problems, facts = [], []
    if rule.max_psi is not None:
        if diff.psi is None:
            problems.append("PSI cannot be computed for this column")
        else:
            facts.append(f"PSI {diff.psi:.4g} (max {rule.max_psi:g})")
            if diff.psi > rule.max_psi:
                problems.append("PSI above its maximum")
    if rule.max_mean_shift_std is not None:
        shift = diff.mean_delta_std
        if shift is None:
            problems.append("the mean shift cannot be computed (non-numeric or zero std)")
        else:
            facts.append(f"mean shift {shift:.4g} std (max {rule.max_mean_shift_std:g})")
            if abs(shift) > rule.max_mean_shift_std:
                problems.append("mean shifted too far")
    message = "; ".join(problems + facts)
    return _result(rule, not problems, 1 if problems else 0, 1, message)


# -- failing rows ----------------------------------------------------------------------------------


def _source(session: _Session, compiled: Mapping[str, Compiled]) -> tuple[str, dict[str, str]]:
    """A FROM clause over the row-numbered table (plus window columns) and each predicate."""
    windows = {n: c for n, c in compiled.items() if c.window is not None}
    preds: dict[str, str] = {}
    extra = []
    for i, (name, comp) in enumerate(compiled.items()):
        if name in windows:
            alias = f"__shipyard_w{i}"
            extra.append(f"{comp.window} AS {ident(alias)}")
            preds[name] = ident(alias)
        elif comp.predicate is not None:
            preds[name] = comp.predicate
    if not extra:
        return "t", preds
    return f"(SELECT *, {', '.join(extra)} FROM t)", preds


def _failed_rule_lists(table: pa.Table, report: ValidationReport) -> pa.Table:
    """(row index, list of failed rule names) for every row that broke a failed rule."""
    import pyarrow as pa

    plan = report._plan
    failed = {
        r.name: plan.compiled[r.name]
        for r in report.results
        if not r.passed and r.name in plan.compiled and plan.compiled[r.name].predicate
    }
    empty = pa.table(
        {"row": pa.array([], pa.int64()), "rules": pa.array([], pa.list_(pa.string()))}
    )
    if not failed or table.num_rows != report.num_rows:
        if table.num_rows != report.num_rows:
            raise InvalidArgument(
                f"the table has {table.num_rows} rows but the report was made on "
                f"{report.num_rows}; pass the table that was validated"
            )
        return empty
    session = _Session(table, plan.references)
    try:
        source, preds = _source(session, failed)
        names = ", ".join(
            f"CASE WHEN coalesce({p}, FALSE) THEN {_quote(n)} END" for n, p in preds.items()
        )
        where = " OR ".join(f"coalesce({p}, FALSE)" for p in preds.values())
        return session.arrow(
            f"SELECT {ident(ROW_COLUMN)} AS row, list_filter([{names}], lambda x: x IS NOT NULL) "
            f"AS rules FROM {source} WHERE {where} ORDER BY {ident(ROW_COLUMN)}"
        )
    finally:
        session.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def failing_row_mask(table: pa.Table, report: ValidationReport) -> pa.BooleanArray:
    """True for each row of ``table`` that broke a row-level rule the report saw fail.

    Table-level rules (columns_present, row_count, freshness, distribution) mark no row; a
    ``not_null`` rule within its ``max_null_fraction`` passed and marks none either.

    Raises:
        InvalidArgument: ``table`` is not the table the report was made on (row count differs).
    """
    import numpy as np
    import pyarrow as pa

    rows = _failed_rule_lists(table, report).column("row").to_numpy()
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    return pa.array(mask)


def failing_rows(table: pa.Table, report: ValidationReport) -> pa.Table:
    """The rows of ``table`` that broke a failed row-level rule, in table order, with a
    ``_failed_rules`` column listing the names of the rules each row broke.

    Raises:
        InvalidArgument: ``table`` is not the table the report was made on (row count differs).
    """
    found = _failed_rule_lists(table, report)
    picked = table.take(found.column("row"))
    return picked.append_column(FAILED_RULES_COLUMN, found.column("rules"))
