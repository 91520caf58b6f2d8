"""Timestamps as the feature store handles them: int64 microseconds since the epoch, UTC.

A tz-aware column is converted to UTC (Arrow stores it as UTC already); a tz-naive column is read
as UTC; dates are midnight UTC; finer units than microseconds are floored. Nulls become ``NAT``
(int64 min, the bit pattern of NumPy's ``NaT``), so ``values.view("datetime64[us]")`` shows them
as ``NaT``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidArgument

NAT = int(np.iinfo(np.int64).min)
"""A null timestamp in a normalised array (NumPy's ``NaT``)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_PER_US = {"s": 1_000_000, "ms": 1_000, "us": 1}  # multiply by this to get microseconds
_DAY_US = 86_400_000_000
_LIMIT_US = 2**62  # a TTL beyond this (~146,000 years) is as good as none


def normalise_timestamps(column: Any, *, what: str) -> np.ndarray:
    """``column`` as int64 microseconds since the epoch, UTC, with ``NAT`` for nulls.

    ``column`` is an Arrow timestamp (any unit, with or without a timezone), date32 or date64
    array or chunked array; a pandas Series, NumPy array or list is converted first. ``what``
    names the column in errors. Raises InvalidArgument for any other type, for Python objects
    that mix timezone-naive and timezone-aware values, and for values beyond int64 microseconds.

    >>> import pyarrow as pa
    >>> normalise_timestamps(pa.array([1, None], pa.timestamp("s")), what="ts").tolist()
    [1000000, -9223372036854775808]
    """
    arr = _as_arrow(column, what)
    typ = arr.type
    if pa.types.is_dictionary(typ):
        arr, typ = arr.cast(typ.value_type), typ.value_type
    if pa.types.is_timestamp(typ):
        raw, unit = arr.cast(pa.int64()), typ.unit
    elif pa.types.is_date32(typ):
        raw, unit = arr.cast(pa.int32()).cast(pa.int64()), "day"
    elif pa.types.is_date64(typ):
        raw, unit = arr.cast(pa.int64()), "ms"
    else:
        raise InvalidArgument(
            f"{what} has type {typ}; it must hold timestamps or dates "
            "(convert it, e.g. with pandas.to_datetime(column, utc=True))"
        )
    return _to_microseconds(raw, unit, what)


def _to_microseconds(raw: Any, unit: str, what: str) -> np.ndarray:
    """int64 ``raw`` values in ``unit`` as microseconds; nulls as NAT."""
    nulls = raw.null_count
    filled = pc.fill_null(raw, 0) if nulls else raw
    if isinstance(filled, pa.ChunkedArray):  # its to_numpy() would import pandas (0.4 s)
        filled = filled.combine_chunks()
    values = filled.to_numpy()
    if unit == "ns":
        values = np.floor_divide(values, 1_000)
    elif unit != "us":
        factor = _DAY_US if unit == "day" else _PER_US[unit]
        if values.size and int(np.abs(values).max()) > (2**63 - 1) // factor:
            raise InvalidArgument(f"{what} holds a value beyond the range of microsecond times")
        values = values * factor
    if nulls:
        values = np.array(values, dtype=np.int64)  # a writable copy
        values[raw.is_null().to_numpy(zero_copy_only=False)] = NAT
    return np.asarray(values, dtype=np.int64)


def _as_arrow(column: Any, what: str) -> Any:
    if isinstance(column, pa.Array | pa.ChunkedArray):
        return column
    if isinstance(column, list | tuple) or str(getattr(column, "dtype", "")) == "object":
        check_not_mixed(column, what=what)
    try:
        return pa.array(column)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidArgument(f"{what} cannot be read as timestamps: {exc}") from exc


def check_not_mixed(values: Iterable[object], *, what: str) -> None:
    """Raise InvalidArgument when Python ``values`` mix timezone-naive and aware datetimes.

    Arrow would silently read such a column as one or the other; the feature store refuses it.
    Looks at Python objects one by one: use it on object columns only.
    """
    kinds = {v.tzinfo is not None for v in values if isinstance(v, datetime)}
    if len(kinds) > 1:
        raise InvalidArgument(
            f"{what} mixes timezone-naive and timezone-aware timestamps; make them all aware "
            "(e.g. pandas.to_datetime(column, utc=True)) or all naive (read as UTC)"
        )


def instant_us(moment: datetime | date, *, what: str) -> int:
    """A datetime (naive = UTC) or a date (midnight UTC) as microseconds since the epoch."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return (aware - _EPOCH) // _US
    if isinstance(moment, date):
        return (moment - _EPOCH.date()).days * _DAY_US
    raise InvalidArgument(f"{what} must be a datetime, got {type(moment).__name__}")


def ttl_us(ttl: timedelta | None, *, what: str) -> int | None:
    """A TTL in whole microseconds; None (no TTL) also for TTLs too long to matter.

    Raises InvalidArgument for a negative TTL or one that is not a timedelta.
    """
    if ttl is None:
        return None
    if not isinstance(ttl, timedelta):
        raise InvalidArgument(f"{what} must be a timedelta or None, got {type(ttl).__name__}")
    if ttl < timedelta(0):
        raise InvalidArgument(f"{what} is negative ({ttl}); use a positive TTL or None")
    micros = ttl // _US
    return None if micros > _LIMIT_US else micros
