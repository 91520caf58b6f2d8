"""Column helpers shared by the preprocessing steps: input checks, numeric coercion, ordering.

Everything here is vectorized over whole columns; Python touches single values only to name
them in an error message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from shipyard.errors import InvalidArgument


def as_frame(X: Any, who: str) -> pd.DataFrame:
    """``X`` as a DataFrame: a DataFrame, a dict of columns or a list of records.

    Raises InvalidArgument for anything else (a bare array has no column names to match).
    """
    if isinstance(X, pd.DataFrame):
        frame = X
    elif isinstance(X, Mapping) or (
        isinstance(X, list | tuple) and X and all(isinstance(r, Mapping) for r in X)
    ):
        frame = pd.DataFrame(X) if isinstance(X, Mapping) else pd.DataFrame.from_records(list(X))
    else:
        raise InvalidArgument(
            f"{who} works on named columns; pass a pandas DataFrame (or a dict of columns, or a "
            f"list of records), not {type(X).__name__}"
        )
    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad:
        raise InvalidArgument(f"{who}: column names must be strings, got {bad[:5]!r}")
    if not frame.columns.is_unique:
        dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InvalidArgument(f"{who}: duplicate column names {dupes}; rename them first")
    return frame


def column_list(columns: Any, who: str) -> list[str] | None:
    """``columns`` as a list of names (a single string is one column), or None for "auto".

    Raises InvalidArgument for an empty list, a non-string name or a repeated name.
    """
    if columns is None:
        return None
    names = [columns] if isinstance(columns, str) else columns
    if not isinstance(names, Sequence) or not names:
        raise InvalidArgument(
            f"{who}: columns must be a non-empty list of column names (or null for automatic "
            f"selection), got {columns!r}"
        )
    if not all(isinstance(n, str) and n for n in names):
        raise InvalidArgument(f"{who}: every column name must be a non-empty string: {names!r}")
    if len(set(names)) != len(names):
        raise InvalidArgument(f"{who}: a column is listed twice in {list(names)!r}")
    return list(names)


def require_columns(frame: pd.DataFrame, needed: Iterable[str], who: str) -> None:
    """Raise InvalidArgument naming every column of ``needed`` that ``frame`` lacks."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InvalidArgument(
            f"{who}: column(s) {missing} not found in the data; its columns are "
            f"{_shorten(list(frame.columns))}"
        )


def is_numeric(s: pd.Series) -> bool:
    """True for numeric and boolean columns (both become float64 in numeric steps)."""
    return bool(ptypes.is_numeric_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype))


def is_text(s: pd.Series) -> bool:
    """True for text, object and categorical columns: the ones encoders pick by default."""
    return not is_numeric(s) and not ptypes.is_datetime64_any_dtype(s.dtype)


def to_float(s: pd.Series, column: str, who: str) -> pd.Series:
    """The column as float64; missing values and blank strings become NaN.

    Raises InvalidArgument naming the column and a few values when it holds other text.
    """
    if is_numeric(s):
        return s.astype("float64")
    blank = s.astype("string").str.strip().eq("").fillna(False).astype(bool)
    values = pd.to_numeric(s.where(~blank), errors="coerce").astype("float64")
    bad = values.isna() & s.notna() & ~blank
    if bad.any():
        examples = [str(v) for v in pd.unique(s[bad])[:5]]
        raise InvalidArgument(
            f"{who}: column {column!r} must hold numbers but has text such as {examples}; "
            "convert or encode it first (OneHot, Ordinal)"
        )
    return values


def py_value(value: Any) -> Any:
    """A numpy scalar as the matching Python value (so learned state is plain data)."""
    return value.item() if isinstance(value, np.generic) else value


def sort_key(value: Any) -> tuple[int, Any]:
    """Order numbers before text, each by value; used to order categories reproducibly."""
    if isinstance(value, bool | int | float):
        return (0, float(value))
    return (1, str(value))


def _shorten(names: list[Any], limit: int = 20) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return f"[{shown}{more}]"
