"""Validation rules: one frozen dataclass per check, built from Python or from a suite's YAML.

Every rule has a ``name`` (unique in its suite) and a ``severity`` ("error" fails the report,
"warn" only reports). Null handling: a null never fails ``range``, ``regex``,
``allowed_values``, ``referential`` or ``sql`` (a null result of the expression counts as
holding); only ``not_null`` counts nulls. ``unique`` ignores rows with a null key column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any, ClassVar

from shipyard._util import parse_duration
from shipyard.errors import InvalidArgument

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
    "Sql",
    "Unique",
    "parse_age",
    "rule_from_dict",
    "rule_types",
]

SEVERITIES = ("error", "warn")
Literal = int | float | str | bool


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A named check with a severity; subclasses say what is checked."""

    type: ClassVar[str] = ""
    name: str
    severity: str = "error"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidArgument(f"a {self.type} rule needs a non-empty name, not {self.name!r}")
        if self.severity not in SEVERITIES:
            raise InvalidArgument(
                f"rule {self.name!r}: severity must be one of {list(SEVERITIES)}, "
                f"not {self.severity!r}"
            )

    def columns(self) -> tuple[str, ...]:
        """The table columns this rule reads (the engine fails the rule when one is missing)."""
        column = getattr(self, "column", None)
        return (column,) if isinstance(column, str) else ()

    def to_dict(self) -> dict[str, Any]:
        """The rule as plain data (what ``rule_from_dict`` reads back)."""
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def _fail(self, message: str) -> InvalidArgument:
        return InvalidArgument(f"rule {self.name!r} ({self.type}): {message}")


def _check_number(rule: Rule, label: str, value: Any, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise rule._fail(f"{label} must be a number, not {value!r}")


@dataclass(frozen=True, kw_only=True)
class ColumnsPresent(Rule):
    """The table has every column in ``columns``; a type (Arrow's name, e.g. "int64") when given.

    ``columns`` maps a column name to its required type, or to None for any type.
    """

    type: ClassVar[str] = "columns_present"
    columns_required: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.columns_required, Mapping) or not self.columns_required:
            raise self._fail("columns_required must be a non-empty mapping of name -> type|null")
        object.__setattr__(self, "columns_required", dict(self.columns_required))

    def to_dict(self) -> dict[str, Any]:
        """The rule as plain data."""
        out = super().to_dict()
        out["columns_required"] = dict(self.columns_required)
        return out


@dataclass(frozen=True, kw_only=True)
class NotNull(Rule):
    """At most ``max_null_fraction`` of ``column`` is null (default 0: no nulls)."""

    type: ClassVar[str] = "not_null"
    column: str
    max_null_fraction: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_number(self, "max_null_fraction", self.max_null_fraction, allow_none=False)
        if not 0.0 <= self.max_null_fraction <= 1.0:
            raise self._fail(f"max_null_fraction must lie in [0, 1], not {self.max_null_fraction}")


@dataclass(frozen=True, kw_only=True)
class Unique(Rule):
    """No two rows share the same value of ``column_list`` (rows with a null key are skipped).

    The failed count is the number of duplicate rows: every row after the first of its key.
    """

    type: ClassVar[str] = "unique"
    column_list: tuple[str, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        cols = (self.column_list,) if isinstance(self.column_list, str) else self.column_list
        if not cols or not all(isinstance(c, str) for c in cols):
            raise self._fail("column_list must be one column name or a list of them")
        object.__setattr__(self, "column_list", tuple(cols))

    def columns(self) -> tuple[str, ...]:
        """The key columns."""
        return self.column_list


@dataclass(frozen=True, kw_only=True)
class Range(Rule):
    """Non-null values of ``column`` lie between ``min`` and ``max`` (each optional).

    Bounds may be numbers or strings DuckDB casts to the column's type (dates, timestamps).
    NaN compares above every number, so it fails a ``max`` bound.
    """

    type: ClassVar[str] = "range"
    column: str
    min: Literal | None = None
    max: Literal | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min is None and self.max is None:
            raise self._fail("give min, max or both")
        for label in ("min", "max"):
            value = getattr(self, label)
            if value is not None and not isinstance(value, str):
                _check_number(self, label, value)


@dataclass(frozen=True, kw_only=True)
class AllowedValues(Rule):
    """Non-null values of ``column`` are among ``values``."""

    type: ClassVar[str] = "allowed_values"
    column: str
    values: tuple[Literal, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.values, str | bytes) or not self.values:
            raise self._fail("values must be a non-empty list")
        object.__setattr__(self, "values", tuple(self.values))
        for v in self.values:
            if not isinstance(v, int | float | str | bool):
                raise self._fail(f"values holds {v!r}; use numbers, strings or booleans")


@dataclass(frozen=True, kw_only=True)
class Regex(Rule):
    """Non-null values of ``column`` match ``pattern`` (RE2 syntax, searched anywhere in the
    value like ``re.search``; anchor with ``^…$`` for a full match)."""

    type: ClassVar[str] = "regex"
    column: str
    pattern: str

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.pattern, str) or not self.pattern:
            raise self._fail("pattern must be a non-empty string")
        from shipyard.data.validation._sql import check_regex

        error = check_regex(self.pattern)
        if error:
            raise self._fail(f"pattern {self.pattern!r} is not a valid RE2 regex: {error}")


@dataclass(frozen=True, kw_only=True)
class RowCount(Rule):
    """The table has between ``min`` and ``max`` rows (each optional, inclusive)."""

    type: ClassVar[str] = "row_count"
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min is None and self.max is None:
            raise self._fail("give min, max or both")
        for label in ("min", "max"):
            value = getattr(self, label)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise self._fail(f"{label} must be an integer, not {value!r}")


def parse_age(text: str) -> timedelta:
    """A freshness rule's ``max_age`` ("24h", "7d") as a ``timedelta``; raises InvalidArgument.

    >>> parse_age("36h")
    datetime.timedelta(days=1, seconds=43200)
    """
    return parse_duration(text, "max_age")


@dataclass(frozen=True, kw_only=True)
class Freshness(Rule):
    """The newest value of timestamp ``column`` is at most ``max_age`` before ``now``.

    A table-level check (it fails no single row). Naive timestamps are read as UTC.
    """

    type: ClassVar[str] = "freshness"
    column: str
    max_age: str

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            parse_age(self.max_age)
        except InvalidArgument as exc:
            raise self._fail(str(exc)) from exc


@dataclass(frozen=True, kw_only=True)
class Referential(Rule):
    """Non-null values of ``column`` appear in column ``ref_column`` (default: the same name)
    of the table passed as ``references[reference]`` to ``validate``."""

    type: ClassVar[str] = "referential"
    column: str
    reference: str
    ref_column: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.reference, str) or not self.reference:
            raise self._fail("reference must name a table passed in validate(references=...)")


@dataclass(frozen=True, kw_only=True)
class Distribution(Rule):
    """``column`` is distributed like in the ``reference_profile`` passed to ``validate``:
    PSI at most ``max_psi`` and/or the mean within ``max_mean_shift_std`` reference stds.

    A table-level check, computed with ``shipyard.data.profile`` (``profile_table`` and
    ``compare``).
    """

    type: ClassVar[str] = "distribution"
    column: str
    max_psi: float | None = None
    max_mean_shift_std: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_psi is None and self.max_mean_shift_std is None:
            raise self._fail("give max_psi, max_mean_shift_std or both")
        _check_number(self, "max_psi", self.max_psi)
        _check_number(self, "max_mean_shift_std", self.max_mean_shift_std)


@dataclass(frozen=True, kw_only=True)
class Sql(Rule):
    """A boolean SQL expression over one row that must hold, e.g.
    ``total_charges >= monthly_charges`` (DuckDB dialect; one expression, no statements).

    A row where the expression is null counts as holding.
    """

    type: ClassVar[str] = "sql"
    expression: str

    def __post_init__(self) -> None:
        super().__post_init__()
        from shipyard.data.validation._sql import check_expression

        error = check_expression(self.expression)
        if error:
            raise self._fail(error)

    def columns(self) -> tuple[str, ...]:
        """Unknown: DuckDB reports a missing column when it binds the expression."""
        return ()


def rule_types() -> dict[str, type[Rule]]:
    """Each rule ``type`` name mapped to its class."""
    classes: tuple[type[Rule], ...] = (
        ColumnsPresent,
        NotNull,
        Unique,
        Range,
        AllowedValues,
        Regex,
        RowCount,
        Freshness,
        Referential,
        Distribution,
        Sql,
    )
    return {cls.type: cls for cls in classes}


_ALIASES = {"columns": {"columns_present": "columns_required", "unique": "column_list"}}


def rule_from_dict(data: Mapping[str, Any]) -> Rule:
    """Build a rule from plain data: ``{"type": "range", "name": ..., "column": ..., ...}``.

    ``columns`` is accepted for ``columns_required`` (columns_present; a list means any type)
    and ``column_list`` (unique); ``column`` for a one-column ``unique``. Without a ``name``,
    the rule is named ``<column>_<type>`` (or its type when it has no column).

    Raises:
        InvalidArgument: unknown type or field, a missing field, or an invalid value; the
            message names the rule and the valid choices.
    """
    if not isinstance(data, Mapping):
        raise InvalidArgument(f"a rule must be a mapping, not {type(data).__name__}: {data!r}")
    values = dict(data)
    name = values.get("name", "<unnamed>")
    kinds = rule_types()
    kind = values.pop("type", None)
    if kind not in kinds:
        raise InvalidArgument(
            f"rule {name!r}: unknown rule type {kind!r}; valid types are {sorted(kinds)}"
        )
    cls = kinds[kind]
    if "name" not in values:
        column = values.get("column")
        values["name"] = f"{column}_{kind}" if isinstance(column, str) and column else kind
    values = _normalise(kind, values)
    allowed = [f.name for f in fields(cls)]
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InvalidArgument(
            f"rule {name!r} ({kind}): unknown field(s) {unknown}; valid fields are {allowed}"
        )
    try:
        return cls(**values)
    except TypeError as exc:
        raise InvalidArgument(f"rule {name!r} ({kind}): {exc}; valid fields are {allowed}") from exc


def _normalise(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    if "columns" in values and kind in _ALIASES["columns"]:
        cols = values.pop("columns")
        if kind == "columns_present" and isinstance(cols, list | tuple):
            cols = {c: None for c in cols}
        values[_ALIASES["columns"][kind]] = cols
    if kind == "unique" and "column" in values and "column_list" not in values:
        values["column_list"] = (values.pop("column"),)
    for key in ("values", "column_list"):
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    return values
