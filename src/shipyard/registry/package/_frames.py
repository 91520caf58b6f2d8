"""Signature inference and input validation on pandas and numpy (loaded only when used).

Every conversion is column-wise and vectorized; Python touches single values only to describe
an error.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from shipyard.errors import InvalidArgument
from shipyard.registry.package.signature import MAX_LEVELS, ColumnSpec, Schema, TensorSpec

Array = np.ndarray[Any, Any]

# --------------------------------------------------------------------------- input shapes


def to_frame(data: object) -> pd.DataFrame:
    """A DataFrame from a DataFrame, Series, list of records, dict of columns or one record.

    Raises InvalidArgument for anything else.
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    try:
        if isinstance(data, Mapping):
            if data and all(np.ndim(v) == 0 for v in data.values()):
                return pd.DataFrame([dict(data)])
            return pd.DataFrame(dict(data))
        if isinstance(data, list | tuple) and (not data or isinstance(data[0], Mapping)):
            return pd.DataFrame.from_records(list(data))
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"input cannot be read as a table: {exc}") from exc
    if isinstance(data, list | tuple | np.ndarray):
        raise InvalidArgument(
            "rows without column names cannot be matched to the model's columns; pass records "
            "(dicts), a dict of columns or a DataFrame"
        )
    raise InvalidArgument(
        f"input of type {type(data).__name__} is not tabular; pass a pandas DataFrame, a list "
        "of records (dicts), or a dict of columns"
    )


def as_example(data: object) -> pd.DataFrame | Array:
    """An input example as a DataFrame (tabular input) or an array (anything else)."""
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, list | tuple) and data and not isinstance(data[0], Mapping):
        return np.asarray(data)
    return to_frame(data)


def head(example: pd.DataFrame | Array, rows: int = 5) -> pd.DataFrame | Array:
    """The first ``rows`` rows of an example (by position)."""
    return example.iloc[:rows] if isinstance(example, pd.DataFrame) else example[:rows]


def example_to_json(example: pd.DataFrame | Array) -> str:
    """Records-oriented JSON of an example; NaN and infinities become null."""
    if isinstance(example, pd.DataFrame):
        return str(example.to_json(orient="records", date_format="iso", double_precision=15))
    values = example
    if example.dtype.kind in "fc":
        values = example.astype(object)
        values[~np.isfinite(example)] = None
    elif example.dtype.kind == "M":
        values = np.datetime_as_string(example)
    return json.dumps(values.tolist(), default=str)


# --------------------------------------------------------------------------- inference


def infer_schema(data: object) -> Schema:
    """Columns for tabular data, a tensor spec for arrays (and lists of lists)."""
    if isinstance(data, np.ndarray):
        return _tensor_spec(data)
    if isinstance(data, pd.Series):
        name = "prediction" if data.name is None else str(data.name)
        return (_column_spec(name, data),)
    if isinstance(data, list | tuple) and data and not isinstance(data[0], Mapping):
        return _tensor_spec(np.asarray(data))
    frame = to_frame(data)
    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad:
        raise InvalidArgument(
            f"column names must be strings, got {bad[:5]!r}; name the columns, or pass a numpy "
            "array for positional inputs"
        )
    if not frame.columns.is_unique:
        raise InvalidArgument(f"duplicate column names: {_duplicates(frame)}")
    return tuple(_column_spec(name, frame[name]) for name in frame.columns)


def _tensor_spec(arr: Array) -> TensorSpec:
    if arr.ndim == 0:
        raise InvalidArgument("a scalar is not an example; pass at least one row")
    return TensorSpec(_array_dtype(arr), (-1, *arr.shape[1:]))


def _array_dtype(arr: Array) -> str:
    if arr.dtype.kind in "OUS":
        kind = ptypes.infer_dtype(arr.ravel(), skipna=True)
        return "string" if kind in ("string", "empty") else "object"
    return str(arr.dtype.name)


def _column_spec(name: str, s: pd.Series) -> ColumnSpec:
    dtype = _column_dtype(s)
    return ColumnSpec(name, dtype, bool(s.isna().any()), _levels(s, dtype))


def _column_dtype(s: pd.Series) -> str:
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return "category"
    if ptypes.is_bool_dtype(dt):
        return "bool"
    if ptypes.is_integer_dtype(dt) or ptypes.is_float_dtype(dt):
        numpy_dtype: Any = getattr(dt, "numpy_dtype", dt)
        return str(np.dtype(numpy_dtype).name)
    if ptypes.is_datetime64_any_dtype(dt):
        return str(dt)
    if ptypes.is_object_dtype(dt) or isinstance(dt, pd.StringDtype):
        return _object_dtype(s)
    return str(dt)


_OBJECT_KINDS = {
    "string": "string",
    "empty": "string",
    "boolean": "bool",
    "integer": "int64",
    "floating": "float64",
    "mixed-integer-float": "float64",
}


def _object_dtype(s: pd.Series) -> str:
    kind = ptypes.infer_dtype(s, skipna=True)
    if kind in ("datetime", "datetime64"):
        return str(pd.to_datetime(s).dtype)
    return _OBJECT_KINDS.get(kind, "object")


def _levels(s: pd.Series, dtype: str) -> tuple[str, ...] | None:
    if dtype == "category":
        cats = s.cat.categories
        ok = len(cats) <= MAX_LEVELS and ptypes.infer_dtype(cats) in ("string", "empty")
        return tuple(cats) if ok else None
    if dtype not in ("string", "object") or s.nunique() > MAX_LEVELS:
        return None
    values = pd.unique(s.dropna())
    return tuple(sorted(values)) if ptypes.infer_dtype(values) in ("string", "empty") else None


# --------------------------------------------------------------------------- validation


def validate(schema: Schema, data: object) -> pd.DataFrame | Array:
    """Convert ``data`` to what the model takes (see :mod:`.signature` for the rules)."""
    if isinstance(schema, TensorSpec):
        return coerce_tensor(schema, data)
    if isinstance(data, np.ndarray):
        raise InvalidArgument(
            f"the model takes named columns {[c.name for c in schema]}; pass a DataFrame, a "
            "list of records or a dict of columns, not an array"
        )
    frame = to_frame(data)
    _check_columns(schema, frame)
    columns = {spec.name: coerce_column(spec, frame[spec.name]) for spec in schema}
    return pd.DataFrame(columns, index=frame.index)


def _check_columns(schema: tuple[ColumnSpec, ...], frame: pd.DataFrame) -> None:
    expected = [c.name for c in schema]
    missing = [name for name in expected if name not in frame.columns]
    if missing:
        raise InvalidArgument(
            f"input is missing column(s) {missing}; the model expects columns {expected}"
        )
    if not frame.columns.is_unique:
        dupes = [d for d in _duplicates(frame) if d in expected]
        if dupes:
            raise InvalidArgument(f"input has duplicate column(s) {dupes}")


def _duplicates(frame: pd.DataFrame) -> list[Any]:
    return list(frame.columns[frame.columns.duplicated()].unique())


def coerce_column(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    """Convert one column losslessly to ``spec.dtype``. Raises InvalidArgument."""
    family = spec.dtype.split("[")[0].rstrip("0123456789")
    convert = _COERCERS.get(family, _to_other)
    return convert(spec, s)


def _bad(
    spec: ColumnSpec, s: pd.Series, mask: Any, why: str, *, show_value: bool = True
) -> InvalidArgument:
    flags = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
    pos = int(np.argmax(flags))
    more = int(flags.sum()) - 1
    tail = f" ({more} more such value(s))" if more else ""
    where = f"row {_show(s.index[pos])}"
    what = f"value {_show(s.iloc[pos])} at {where}" if show_value else where
    return InvalidArgument(f"column {spec.name!r} expects {spec.dtype}, but {what} {why}{tail}")


def _show(value: object) -> str:
    """repr of a value without numpy's type wrapper (``2.5``, not ``np.float64(2.5)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _numbers(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    if ptypes.is_numeric_dtype(s.dtype):
        return s
    if ptypes.is_datetime64_any_dtype(s.dtype) or ptypes.is_timedelta64_dtype(s.dtype):
        raise _bad(spec, s, s.notna(), "is a date/time, not a number")
    raw = s.astype(object) if isinstance(s.dtype, pd.CategoricalDtype) else s
    try:
        num = pd.to_numeric(raw, errors="coerce")
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"column {spec.name!r} expects {spec.dtype}: {exc}") from exc
    bad = num.isna() & s.notna()
    if bad.any():
        raise _bad(spec, s, bad, "is not a number")
    return num


def _to_float(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    return _astype(_numbers(spec, s), spec.dtype)


def _to_int(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    num = _numbers(spec, s)
    missing = num.isna()
    if not ptypes.is_integer_dtype(num.dtype):
        f = num.astype("float64")
        frac = ~missing & ((f % 1 != 0) | ~np.isfinite(f))
        if frac.any():
            raise _bad(spec, s, frac, "is not a whole number")
    info = np.iinfo(spec.dtype)
    out = ~missing & ((num < info.min) | (num > info.max))
    if out.any():
        raise _bad(spec, s, out, f"is out of range for {spec.dtype}")
    return _finish(spec, s, num, missing, nullable_dtype=_nullable_int(spec.dtype))


def _to_bool(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(s.dtype):
        values: pd.Series = s
    elif ptypes.is_numeric_dtype(s.dtype):
        bad = s.notna() & ~s.isin([0, 1])
        if bad.any():
            raise _bad(spec, s, bad, "is not 0 or 1")
        values = s
    else:
        words = s.astype(object).astype("string").str.strip().str.lower()
        values = words.map(_BOOL_WORDS)
        bad = values.isna() & s.notna()
        if bad.any():
            raise _bad(spec, s, bad, "is not a boolean (true/false/1/0)")
    return _finish(spec, s, values, values.isna(), nullable_dtype="boolean")


_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False}


def _finish(
    spec: ColumnSpec, s: pd.Series, values: pd.Series, missing: pd.Series, *, nullable_dtype: str
) -> pd.Series:
    if not missing.any():
        return _astype(values, spec.dtype)
    if not spec.nullable:
        why = "is missing a value, and the signature allows no missing values here"
        raise _bad(spec, s, missing, why, show_value=False)
    return _astype(values, nullable_dtype)


def _nullable_int(dtype: str) -> str:
    return dtype.replace("uint", "UInt") if dtype.startswith("uint") else dtype.capitalize()


def _to_string(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    kind = ptypes.infer_dtype(s, skipna=True)
    if kind in ("string", "empty"):
        return s
    if kind in ("integer", "boolean"):
        return s.astype(str).astype(object).where(s.notna(), np.nan)
    not_text = s.notna() & ~s.map(type).isin([str])
    raise _bad(spec, s, not_text, "is not a string (pass text values)")


def _to_category(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    if spec.levels is None:
        return s.astype("category")
    values = s.astype(object) if isinstance(s.dtype, pd.CategoricalDtype) else s
    unseen = pd.Index(pd.unique(values.dropna())).difference(list(spec.levels), sort=False)
    categories = [*spec.levels, *unseen]
    return pd.Series(pd.Categorical(values, categories=categories), index=s.index, name=s.name)


def _to_datetime(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    converted = s
    if not ptypes.is_datetime64_any_dtype(s.dtype):
        if ptypes.is_numeric_dtype(s.dtype):
            raise _bad(spec, s, s.notna(), "is a number; pass dates as ISO 8601 text")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            converted = pd.to_datetime(s, errors="coerce", format="ISO8601")
        bad = converted.isna() & s.notna()
        if bad.any():
            raise _bad(spec, s, bad, "is not an ISO 8601 date/time")
    return _to_other(spec, converted)


def _to_object(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    return s


def _to_other(spec: ColumnSpec, s: pd.Series) -> pd.Series:
    try:
        return _astype(s, spec.dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"column {spec.name!r} expects {spec.dtype} and cannot be converted: {exc}"
        ) from exc


def _astype(s: pd.Series, dtype: str) -> pd.Series:
    target = _pandas_dtype(dtype)
    return s if s.dtype == target else s.astype(target)


@functools.lru_cache(maxsize=64)
def _pandas_dtype(dtype: str) -> Any:
    """The pandas dtype named ``dtype``, resolved once (resolving costs more than the cast)."""
    return ptypes.pandas_dtype(dtype)


_COERCERS: dict[str, Callable[[ColumnSpec, pd.Series], pd.Series]] = {
    "int": _to_int,
    "uint": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "string": _to_string,
    "category": _to_category,
    "datetime": _to_datetime,
    "object": _to_object,
}


# --------------------------------------------------------------------------- tensors


def coerce_tensor(spec: TensorSpec, data: object) -> Array:
    """Convert ``data`` to an array of ``spec``'s dtype and shape. Raises InvalidArgument."""
    try:
        arr = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"input cannot be read as an array: {exc}") from exc
    expected = tuple(spec.shape)
    fits = arr.ndim == len(expected) and all(
        want in (-1, got) for want, got in zip(expected, arr.shape, strict=True)
    )
    if not fits:
        shape = "(" + ", ".join("n" if d == -1 else str(d) for d in expected) + ")"
        raise InvalidArgument(f"the model takes an array of shape {shape}, got shape {arr.shape}")
    if spec.dtype in ("string", "object") or arr.dtype.name == spec.dtype:
        return arr
    return _tensor_values(spec, arr)


def _tensor_values(spec: TensorSpec, arr: Array) -> Array:
    target = np.dtype(spec.dtype)
    if target.kind not in "biuf":
        return arr.astype(target)
    flat = pd.Series(arr.ravel())
    num = flat if arr.dtype.kind in "biuf" else pd.to_numeric(flat, errors="coerce")
    bad = num.isna() & flat.notna() if num is not flat else pd.Series(False, index=flat.index)
    if target.kind in "iub":
        bad |= num.isna() | ~np.isfinite(num.astype("float64")) | (num.astype("float64") % 1 != 0)
    if target.kind == "b":
        bad |= ~num.isin([0, 1])
    if bad.any():
        pos = int(np.argmax(bad.to_numpy()))
        where = tuple(int(i) for i in np.unravel_index(pos, arr.shape))
        raise InvalidArgument(
            f"the model takes {spec.dtype} values, but element {where} is {_show(flat.iloc[pos])}, "
            "which cannot be converted losslessly"
        )
    return num.to_numpy().astype(target).reshape(arr.shape)
