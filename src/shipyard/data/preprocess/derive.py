"""Steps that compute new columns: calendar parts of dates (DateParts) and expressions (Derive).

Both are row-wise (each output row depends only on its input row), so a single row gives
exactly what the same row gives inside a batch.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pandas.api import types as ptypes

from shipyard.data.preprocess._base import Step, names_replaced, replace_columns
from shipyard.data.preprocess._expr import parse_expression
from shipyard.data.preprocess._frame import column_list, is_numeric, require_columns
from shipyard.errors import InvalidArgument

PARTS = (
    "year",
    "quarter",
    "month",
    "day",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "second",
)
DEFAULT_PARTS = ("year", "month", "day", "day_of_week", "hour")


class DateParts(Step):
    """Replace each date column by float64 columns ``{column}_{part}`` (NaN for missing dates).

    Text is parsed as ISO 8601 (or with ``format``, a ``strftime`` pattern); a value that does
    not parse counts as missing. Timestamps with a time zone or an offset are converted to UTC
    first, so one row and a batch always agree. ``day_of_week`` is 0 for Monday.

    >>> import pandas as pd
    >>> step = DateParts(["at"], parts=["year", "day_of_week"])
    >>> step.fit_transform(pd.DataFrame({"at": ["2024-03-01", None]})).to_dict("list")
    {'at_year': [2024.0, nan], 'at_day_of_week': [4.0, nan]}
    """

    kind = "date_parts"

    def __init__(
        self, columns: Any = None, *, parts: Any = DEFAULT_PARTS, format: str | None = None
    ) -> None:
        self.columns = columns
        self.parts = parts
        self.format = format
        self._check_params()

    def _check_params(self) -> None:
        if column_list(self.columns, self._who()) is None:
            raise InvalidArgument("DateParts: name the date columns, e.g. columns=['signup_at']")
        parts = self.parts
        if isinstance(parts, str) or not parts or any(p not in PARTS for p in parts):
            raise InvalidArgument(
                f"DateParts: parts must be a non-empty list from {list(PARTS)}, got {parts!r}"
            )
        if self.format is not None and not isinstance(self.format, str):
            raise InvalidArgument(f"DateParts: format must be text or null, got {self.format!r}")

    def _fit(self, frame: pd.DataFrame) -> None:
        columns = column_list(self.columns, self._who()) or []
        require_columns(frame, columns, self._who())
        for column in columns:
            s = frame[column]
            if is_numeric(s) and not ptypes.is_bool_dtype(s.dtype) and s.notna().any():
                raise InvalidArgument(
                    f"DateParts: column {column!r} holds numbers, not dates; pass dates or "
                    "ISO 8601 text"
                )
        self.columns_ = columns

    def _inputs(self) -> list[str]:
        return list(self.columns_)

    def _names_out(self, names: list[str]) -> list[str]:
        new = {c: [f"{c}_{p}" for p in self.parts] for c in self.columns_}
        return names_replaced(names, new)

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        new = {}
        for column in self.columns_:
            stamps = self._dates(frame[column])
            new[column] = {
                f"{column}_{p}": getattr(stamps.dt, p).astype("float64") for p in self.parts
            }
        return replace_columns(frame, new)

    def _dates(self, s: pd.Series) -> pd.Series:
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            return pd.Series(s.dt.tz_convert("UTC"))
        if ptypes.is_datetime64_dtype(s.dtype):
            return s
        try:
            return pd.to_datetime(
                s.astype(object), format=self.format or "ISO8601", errors="coerce", utc=True
            )
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"DateParts: cannot read {s.name!r} as dates: {exc}") from exc


class Derive(Step):
    """Add (or replace) the column ``name`` computed from ``expression``.

    The expression language is described in :mod:`shipyard.data.preprocess._expr`: arithmetic,
    comparisons, and/or/not and a few functions over column names; never ``eval``. Numeric and
    true/false results are float64 (true is 1.0); division by zero and other infinities give
    NaN.

    >>> import pandas as pd
    >>> step = Derive("per_month", "total / tenure")
    >>> frame = pd.DataFrame({"total": [90.0, 5.0], "tenure": [3, 0]})
    >>> step.fit_transform(frame)["per_month"].tolist()
    [30.0, nan]
    """

    kind = "derive"

    def __init__(self, name: str, expression: str) -> None:
        self.name = name
        self.expression = expression
        self._check_params()

    def _check_params(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidArgument(
                f"Derive: name must be a non-empty column name, got {self.name!r}"
            )
        parse_expression(self.expression)

    def _fit(self, frame: pd.DataFrame) -> None:
        expr = parse_expression(self.expression)
        missing = [c for c in expr.columns if c not in frame.columns]
        if missing:
            raise InvalidArgument(
                f"Derive {self.name!r}: expression {self.expression!r} uses column(s) {missing} "
                f"that are not in the data; available: {list(frame.columns)}"
            )
        self.columns_ = list(expr.columns)

    def _inputs(self) -> list[str]:
        return list(self.columns_)

    def _names_out(self, names: list[str]) -> list[str]:
        return names if self.name in names else [*names, self.name]

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        values = parse_expression(self.expression).evaluate(frame)
        out = frame.copy()
        out[self.name] = values
        return out
