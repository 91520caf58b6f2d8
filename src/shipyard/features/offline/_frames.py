"""The edge of the join engine: turn what callers pass into Arrow tables, check column names."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from shipyard.errors import InvalidArgument

from ._time import check_not_mixed


def as_table(data: Any, *, what: str, timestamp_columns: Iterable[str] = ()) -> Any:
    """``data`` (a pyarrow Table or RecordBatch, or a pandas DataFrame) as a pyarrow Table.

    A DataFrame's index is dropped. Its object-typed ``timestamp_columns`` are checked first:
    Arrow would silently read a mix of naive and aware datetimes as one kind. Raises
    InvalidArgument for other types and for frames Arrow cannot convert.
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    pd = sys.modules.get("pandas")  # a DataFrame exists only if pandas was imported
    if pd is None or not isinstance(data, pd.DataFrame):
        raise InvalidArgument(
            f"{what} must be a pyarrow Table or a pandas DataFrame, got {type(data).__name__}"
        )
    for name in timestamp_columns:
        if name in data.columns and data[name].dtype == object:
            check_not_mixed(data[name], what=f"column {name!r} of {what}")
    try:
        return pa.Table.from_pandas(data, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InvalidArgument(f"{what} cannot be converted to Arrow: {exc}") from exc


def require_columns(table: Any, names: Iterable[str], *, role: str, where: str) -> None:
    """Raise InvalidArgument naming every column of ``names`` missing from ``table``.

    ``role`` says what the columns are for ("join key", "feature"), ``where`` which table.
    """
    present = set(table.column_names)
    missing = [n for n in names if n not in present]
    if missing:
        listed = ", ".join(repr(m) for m in missing)
        raise InvalidArgument(
            f"{role} column{'s' if len(missing) > 1 else ''} {listed} not found in {where}; "
            f"its columns are: {', '.join(table.column_names) or '(none)'}"
        )
