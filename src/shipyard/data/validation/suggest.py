"""Draft a validation suite from the profile of a table known to be clean.

``suggest_suite`` turns each column's statistics into the rules that clean table satisfies,
loosened by documented margins so that the next clean batch passes too:

- ``columns`` (columns_present, error): every column, with its Arrow type.
- ``row_count`` (bounds): min = ``row_count_fraction`` (0.5) * the observed rows.
- ``<col>_not_null``: a column with no nulls allows none (error); a column with some nulls
  allows ``max_null_fraction`` = observed * ``null_slack`` (1.5) + ``null_epsilon`` (0.01)
  (bounds). An all-null column gets no rule.
- ``<col>_unique`` (error): an integer or string column with no nulls whose distinct count
  equals the row count (at least ``min_unique_rows``, 10, rows): an identifier.
- ``<col>_range`` (bounds): a numeric column that is not an identifier: [min, max] widened on
  each side by ``range_margin`` (10%) of max - min (of |value| for a constant column), never
  below 0 when the observed min is >= 0; integer columns get the integer bounds, float bounds
  are rounded outward to a short decimal.
- ``<col>_values`` (allowed_values, bounds): a string (or string-dictionary) column with at
  most ``max_categories`` (50) distinct values, all of them in the profile's ``top`` and
  repeated (fewer distinct values than values).
- ``<col>_fresh`` (freshness, bounds): a timestamp or date column: ``max_age`` = (``now`` -
  the newest value) + ``freshness_slack`` (1 day), rounded up to whole hours.

"bounds" is ``bounds_severity``, "warn" by default: those rules are guesses from one sample,
so a draft reports them without failing a pipeline until someone has reviewed them; pass
``bounds_severity="error"`` to make every rule blocking. A range leaves out its max when the
column holds NaN or +inf (NaN compares above every number), and its min when it holds -inf.
The profile's ``top`` holds ``top_k`` values (10 by default): profile with
``profile_table(table, top_k=50)`` to draft ``allowed_values`` for up to 50 categories.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from shipyard.data.profile import ColumnProfile, TableProfile
from shipyard.data.validation.rules import (
    SEVERITIES,
    AllowedValues,
    ColumnsPresent,
    Freshness,
    NotNull,
    Range,
    RowCount,
    Rule,
    Unique,
)
from shipyard.data.validation.suite import Suite
from shipyard.errors import InvalidArgument

__all__ = ["suggest_suite", "suite_to_yaml"]


@dataclass(frozen=True)
class _Options:
    now: datetime
    range_margin: float
    null_slack: float
    null_epsilon: float
    max_categories: int
    min_unique_rows: int
    freshness_slack: timedelta
    row_count_fraction: float
    bounds_severity: str


def suggest_suite(
    profile: TableProfile,
    *,
    name: str,
    now: datetime | None = None,
    range_margin: float = 0.1,
    null_slack: float = 1.5,
    null_epsilon: float = 0.01,
    max_categories: int = 50,
    min_unique_rows: int = 10,
    freshness_slack: timedelta = timedelta(days=1),
    row_count_fraction: float = 0.5,
    bounds_severity: str = "warn",
) -> Suite:
    """A draft suite ``name`` that the profiled (clean) table passes; see the module docstring
    for each rule, its margin and its severity. Review it, then save it with ``suite_to_yaml``.

    ``now`` (default: the current UTC time; naive means UTC) is when the freshness rules'
    ``max_age`` is measured from, normally the time the clean table was loaded.

    Raises:
        InvalidArgument: ``profile`` is not a ``TableProfile``, ``name`` is empty, or an option
            is out of its range (the message names it).

    >>> import pyarrow as pa
    >>> from shipyard.data.profile import profile_table
    >>> t = pa.table({"id": list(range(20)), "plan": ["a", "b"] * 10})
    >>> [r.name for r in suggest_suite(profile_table(t), name="s").rules]
    ['columns', 'row_count', 'id_not_null', 'id_unique', 'plan_not_null', 'plan_values']
    """
    if not isinstance(profile, TableProfile):
        raise InvalidArgument(
            f"suggest_suite takes a TableProfile (from profile_table), not {type(profile).__name__}"
        )
    opts = _options(
        now=now,
        range_margin=range_margin,
        null_slack=null_slack,
        null_epsilon=null_epsilon,
        max_categories=max_categories,
        min_unique_rows=min_unique_rows,
        freshness_slack=freshness_slack,
        row_count_fraction=row_count_fraction,
        bounds_severity=bounds_severity,
    )
    rules: list[Rule] = []
    if profile.columns:
        types = {c.name: c.type for c in profile.columns}
        rules.append(ColumnsPresent(name="columns", columns_required=types))
    least = math.floor(profile.num_rows * opts.row_count_fraction)
    if least > 0:
        rules.append(RowCount(name="row_count", min=least, severity=opts.bounds_severity))
    for col in profile.columns:
        rules.extend(_column_rules(col, profile.num_rows, opts))
    return Suite(name, tuple(_unique_names(rules)))


# -- options ---------------------------------------------------------------------------------------


def _number(label: str, value: Any, lo: float, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        bounds = f"[{lo:g}, {hi:g}]" if math.isfinite(hi) else f">= {lo:g}"
        raise InvalidArgument(f"{label} must be a number {bounds}, not {value!r}")
    return float(value)


def _integer(label: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise InvalidArgument(f"{label} must be an integer >= {lo}, not {value!r}")
    return value


def _options(**given: Any) -> _Options:
    now = given["now"] or datetime.now(UTC)
    if not isinstance(now, datetime):
        raise InvalidArgument(f"now must be a datetime, not {type(now).__name__}")
    slack = given["freshness_slack"]
    if not isinstance(slack, timedelta) or slack < timedelta(0):
        raise InvalidArgument(f"freshness_slack must be a timedelta >= 0, not {slack!r}")
    if given["bounds_severity"] not in SEVERITIES:
        raise InvalidArgument(
            f"bounds_severity must be one of {list(SEVERITIES)}, not {given['bounds_severity']!r}"
        )
    return _Options(
        now=now if now.tzinfo else now.replace(tzinfo=UTC),
        range_margin=_number("range_margin", given["range_margin"], 0.0),
        null_slack=_number("null_slack", given["null_slack"], 1.0),
        null_epsilon=_number("null_epsilon", given["null_epsilon"], 0.0, 1.0),
        max_categories=_integer("max_categories", given["max_categories"], 1),
        min_unique_rows=_integer("min_unique_rows", given["min_unique_rows"], 2),
        freshness_slack=slack,
        row_count_fraction=_number("row_count_fraction", given["row_count_fraction"], 0.0, 1.0),
        bounds_severity=given["bounds_severity"],
    )


# -- one column ------------------------------------------------------------------------------------


def _column_rules(col: ColumnProfile, rows: int, opts: _Options) -> list[Rule]:
    rules: list[Rule] = []
    not_null = _not_null(col, rows, opts)
    if not_null is not None:
        rules.append(not_null)
    is_id = _is_id(col, rows, opts)
    if is_id:
        rules.append(Unique(name=f"{col.name}_unique", column_list=(col.name,)))
    elif col.kind == "numeric":
        rules.extend(_range(col, opts))
    rules.extend(_allowed_values(col, opts))
    if col.kind == "temporal":
        rules.extend(_freshness(col, opts))
    return rules


def _not_null(col: ColumnProfile, rows: int, opts: _Options) -> NotNull | None:
    if rows == 0 or col.null_fraction >= 1.0:
        return None
    name = f"{col.name}_not_null"
    if col.null_count == 0:
        return NotNull(name=name, column=col.name)
    allowed = col.null_fraction * opts.null_slack + opts.null_epsilon
    allowed = min(1.0, round(math.ceil(allowed * 10_000) / 10_000, 4))
    return NotNull(
        name=name, column=col.name, max_null_fraction=allowed, severity=opts.bounds_severity
    )


def _is_integer(col: ColumnProfile) -> bool:
    return col.kind == "numeric" and col.type.startswith(("int", "uint"))


def _is_id(col: ColumnProfile, rows: int, opts: _Options) -> bool:
    """Every value present and different, in an integer or string column: an identifier."""
    return (
        (_is_integer(col) or col.kind == "string")
        and rows >= opts.min_unique_rows
        and col.null_count == 0
        and col.distinct_count == rows
    )


def _range(col: ColumnProfile, opts: _Options) -> list[Rule]:
    if not isinstance(col.min, int | float) or not isinstance(col.max, int | float):
        return []
    lo, hi = _widen(col.min, col.max, opts.range_margin, integer=_is_integer(col))
    if col.nan_count or col.pos_inf_count:
        hi = None
    if col.neg_inf_count:
        lo = None
    if lo is None and hi is None:
        return []
    return [
        Range(
            name=f"{col.name}_range", column=col.name, min=lo, max=hi, severity=opts.bounds_severity
        )
    ]


def _widen(
    lo: float, hi: float, fraction: float, *, integer: bool
) -> tuple[float | int | None, float | int | None]:
    """[lo, hi] widened by ``fraction`` of its span (of |hi| when lo == hi) on each side, kept
    >= 0 when lo is; integers stay integers, floats are rounded outward to a short decimal."""
    span = hi - lo
    margin = fraction * (span if span > 0 else abs(hi))
    if integer:
        step = math.floor(margin)
        low, high = int(lo) - step, int(hi) + step
        return (max(0, low) if lo >= 0 else low), high
    return _widen_float(lo, hi, margin)


def _widen_float(lo: float, hi: float, margin: float) -> tuple[float, float]:
    low = lo - margin if lo < 0 else max(0.0, lo - margin)
    high = hi + margin
    if margin <= 0 or not math.isfinite(margin):
        return float(low), float(high)
    digits = 1 - math.floor(math.log10(margin))  # two significant digits of the margin
    scale = 10.0**digits
    return (
        round(math.floor(low * scale) / scale, digits),
        round(math.ceil(high * scale) / scale, digits),
    )


def _allowed_values(col: ColumnProfile, opts: _Options) -> list[Rule]:
    is_text = col.kind == "string" or (
        col.kind == "categorical" and ("values=string" in col.type or "large_string" in col.type)
    )
    distinct = col.distinct_count
    if not is_text or not col.top or distinct is None:
        return []
    if distinct > opts.max_categories or len(col.top) != distinct or distinct >= col.count:
        return []
    return [
        AllowedValues(
            name=f"{col.name}_values",
            column=col.name,
            values=tuple(sorted(col.top)),
            severity=opts.bounds_severity,
        )
    ]


def _freshness(col: ColumnProfile, opts: _Options) -> list[Rule]:
    if not isinstance(col.max, str):
        return []
    try:
        newest = datetime.fromisoformat(col.max)
    except ValueError:
        return []
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    age = max(opts.now - newest, timedelta(0)) + opts.freshness_slack
    hours = max(1, math.ceil(age.total_seconds() / 3600))
    max_age = f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"
    return [
        Freshness(
            name=f"{col.name}_fresh",
            column=col.name,
            max_age=max_age,
            severity=opts.bounds_severity,
        )
    ]


def _unique_names(rules: list[Rule]) -> list[Rule]:
    """The rules, a repeated name given a ``_2``, ``_3``… suffix (an Arrow table may hold two
    columns of the same name)."""
    import dataclasses

    seen: set[str] = set()
    out: list[Rule] = []
    for rule in rules:
        name, n = rule.name, 1
        while name in seen:
            n += 1
            name = f"{rule.name}_{n}"
        seen.add(name)
        out.append(rule if name == rule.name else dataclasses.replace(rule, name=name))
    return out


# -- YAML ------------------------------------------------------------------------------------------


def _rule_data(rule: Rule) -> dict[str, Any]:
    """The rule's ``to_dict`` with ``type`` and ``name`` first, ``severity`` last and fields left
    at their default value dropped (``Suite.from_yaml`` fills them in again)."""
    data = rule.to_dict()
    out: dict[str, Any] = {"type": data.pop("type"), "name": data.pop("name")}
    data["severity"] = data.pop("severity")  # after the rule's own fields
    defaults = {f.name: f.default for f in fields(rule) if f.default is not MISSING}
    for key, value in data.items():
        if key not in defaults or defaults[key] != value:
            out[key] = value
    return out


def suite_to_yaml(suite: Suite) -> str:
    """The suite as YAML text that ``Suite.from_yaml`` reads back into an equal suite.

    Raises:
        InvalidArgument: ``suite`` is not a ``Suite``.

    >>> from shipyard.data.validation.rules import Range
    >>> text = suite_to_yaml(Suite("s", (Range(name="age", column="age", min=0),)))
    >>> print(text, end="")
    name: s
    rules:
    - type: range
      name: age
      column: age
      min: 0
    >>> Suite.from_yaml(text) == Suite("s", (Range(name="age", column="age", min=0),))
    True
    """
    import yaml

    if not isinstance(suite, Suite):
        raise InvalidArgument(f"suite_to_yaml takes a Suite, not {type(suite).__name__}")
    data = {"name": suite.name, "rules": [_rule_data(r) for r in suite.rules]}
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text
