"""Request bodies of the model server: read (size-capped), parse, validate against the signature.

Accepted bodies (both ``/v1/models/{name}/predict`` and ``/invocations`` take all of them):

* ``Content-Type: application/json`` (also the default when no type is given):

  - ``{"records": [{"col": value, ...}, ...]}`` or a bare list of records;
  - ``{"columns": ["a", "b"], "data": [[1, 2], ...]}`` (pandas' ``split`` orientation);
  - MLflow's scoring protocol: ``{"dataframe_split": {"columns", "data"}}``,
    ``{"dataframe_records": [...]}``, ``{"instances": [...]}`` or ``{"inputs": ...}`` where
    ``instances``/``inputs`` hold records, a dict of columns, or rows of values for a model
    whose input is a tensor; a ``params`` key is accepted and ignored.

* ``Content-Type: text/csv``: a header line of column names, then one line per row; an empty
  cell is a missing value.

:func:`parse_body` turns any of these into one :class:`RawInput` (columns of Python values), and
:class:`InputValidator` checks it against the model's signature, reporting *every* bad field at
once (:class:`SchemaMismatch`, a 422): a missing column, a value of the wrong type, a missing
value where the signature allows none (in any column, not only integers), or a category level
the model never saw (for ``category`` columns, whose levels are declared; a ``string`` column's
recorded levels are only what the example held, so they are not enforced). Numeric columns are
converted to numpy arrays of their final dtype with one call each; only a bad column is looked at
value by value, to name the row. Extra columns are dropped, as :meth:`Signature.validate` does.

>>> from shipyard.registry.package.signature import ColumnSpec, Signature
>>> check = InputValidator(Signature(inputs=(ColumnSpec("age", "int64"),)))
>>> check.validate(parse_body(b'[{"age": 31}, {"age": "40"}]', None)).columns["age"].tolist()
[31, 40]
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from shipyard.errors import InvalidArgument, PayloadTooLarge
from shipyard.registry.package.signature import ColumnSpec, Signature, TensorSpec

if TYPE_CHECKING:
    from pydantic import BaseModel
    from starlette.requests import Request

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
"""Bodies larger than this (10 MB) are refused with 413 before they are parsed."""

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_FORMS = (
    'send {"records": [{...}, ...]}, a list of records, {"columns": [...], "data": [[...]]}, '
    'or MLflow\'s {"dataframe_split" | "dataframe_records" | "instances" | "inputs": ...}'
)
_SHOWN = 5  # bad values/levels quoted in one message


class SchemaMismatch(InvalidArgument):
    """The body parsed, but does not fit the model's signature; ``fields`` lists each problem."""

    status = 422
    code = "SCHEMA_MISMATCH"

    def __init__(self, fields: Sequence[FieldError]) -> None:
        self.fields = tuple(fields)
        super().__init__("; ".join(f.message for f in self.fields) or "input does not fit")


class UnsupportedMediaType(InvalidArgument):
    """The body's Content-Type is neither JSON nor CSV."""

    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


@dataclass(frozen=True)
class FieldError:
    """One problem with one field (a column name, or ``body`` for the input as a whole)."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """JSON form, as listed in a 422 body's ``error.fields``."""
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True)
class RawInput:
    """A parsed body: ``columns`` (name → one value per row) or positional ``rows``."""

    columns: Mapping[str, Sequence[Any]] | None
    rows: list[Any] | None
    n_rows: int

    def first_value(self, column: str) -> Any:
        """The value of ``column`` in the first row (None when absent): a sticky routing key."""
        values = None if self.columns is None else self.columns.get(column)
        return values[0] if values else None


@dataclass(frozen=True)
class ModelInput:
    """Validated input of one request, ready to be batched with others.

    ``columns`` maps each signature column, in order, to a numpy array of its final dtype or to
    a list of checked Python values that the registry converts (strings, categories, dates,
    nullable integers); ``native`` says every column is already an array of its final dtype.
    ``tensor`` is set instead for a model whose input is an array.
    """

    columns: dict[str, Any]
    n_rows: int
    native: bool
    tensor: np.ndarray[Any, Any] | None = None


# --------------------------------------------------------------------------- reading


def media_type(content_type: str | None) -> str:
    """``json`` or ``csv`` for a Content-Type header (JSON when absent). Raises 415 otherwise."""
    if not content_type:
        return "json"
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return "json"
    if kind in ("text/csv", "application/csv"):
        return "csv"
    raise UnsupportedMediaType(
        f"Content-Type {kind!r} is not supported; send application/json or text/csv"
    )


async def read_body(request: Request, *, limit: int = DEFAULT_MAX_BODY_BYTES) -> bytes:
    """The request body, refused with 413 once it is known to pass ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before a byte is read; a body
    without one (chunked) is counted as it arrives.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body is larger than the server's limit of {limit:,} bytes; send fewer rows "
        "per request (or use batch prediction for large files)"
    )


# --------------------------------------------------------------------------- parsing


def parse_body(body: bytes, content_type: str | None) -> RawInput:
    """Parse a JSON or CSV body (see the module docstring). Raises InvalidArgument (400)."""
    if media_type(content_type) == "csv":
        return parse_csv(body)
    try:
        data = json.loads(body, parse_constant=_constant)
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"body is not UTF-8 text: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidArgument(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    return parse_json(data)


def _constant(name: str) -> float:
    """JSON's non-standard constants: ``NaN`` is a missing value (checked against the
    signature); an infinity is never a usable input."""
    if name == "NaN":
        return float("nan")
    raise InvalidArgument(
        f"body holds {name}: infinite values cannot be predicted on; send a finite number, "
        "or null for a missing value"
    )


def parse_json(data: Any) -> RawInput:
    """A :class:`RawInput` from parsed JSON in any accepted form. Raises InvalidArgument."""
    if isinstance(data, list):
        return _from_list(data, "body")
    if not isinstance(data, dict):
        raise InvalidArgument(f"a JSON body must be an object or a list; {_FORMS}")
    keys = [k for k in ("records", "data", *MLFLOW_KEYS) if k in data]
    if len(keys) != 1:
        found = f"keys {sorted(data)[:8]}" if data else "an empty object"
        raise InvalidArgument(f"cannot tell the input format from {found}; {_FORMS}")
    key = keys[0]
    value = data[key]
    if key == "data":
        return _from_split(data, "body")
    if key == "dataframe_split":
        if not isinstance(value, dict):
            raise InvalidArgument('"dataframe_split" must be {"columns": [...], "data": [[...]]}')
        return _from_split(value, "dataframe_split")
    if isinstance(value, dict) and key in ("instances", "inputs"):
        return _from_columns(value, key)
    if not isinstance(value, list):
        raise InvalidArgument(f'"{key}" must be a list; {_FORMS}')
    return _from_list(value, key)


def _from_list(items: list[Any], where: str) -> RawInput:
    if not items:
        raise InvalidArgument(f"{where} holds no rows; send at least one")
    if all(type(item) is dict for item in items):
        return _from_records(items)
    if any(isinstance(item, dict) for item in items):
        bad = next(i for i, item in enumerate(items) if not isinstance(item, dict))
        raise InvalidArgument(f"{where}[{bad}] is not an object like the other records")
    return RawInput(columns=None, rows=items, n_rows=len(items))


def _from_records(records: list[dict[str, Any]]) -> RawInput:
    if len(records) == 1:  # the common single-row request: no key comparisons
        return RawInput(columns={k: [v] for k, v in records[0].items()}, rows=None, n_rows=1)
    keys = records[0].keys()
    if not all(r.keys() == keys for r in records):
        keys = dict.fromkeys(k for r in records for k in r).keys()
        columns = {k: [r.get(k) for r in records] for k in keys}
    else:
        columns = {k: [r[k] for r in records] for k in keys}
    return RawInput(columns=columns, rows=None, n_rows=len(records))


def _from_split(data: Mapping[str, Any], where: str) -> RawInput:
    names, rows = data.get("columns"), data.get("data")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidArgument(f'{where}: "columns" must be a list of column names')
    if not isinstance(rows, list) or not rows:
        raise InvalidArgument(f'{where}: "data" must be a non-empty list of rows')
    width = len(names)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            got = f"{len(row)} values" if isinstance(row, list) else type(row).__name__
            raise InvalidArgument(f"{where}: data[{i}] has {got}, expected {width} (one a column)")
    values = list(zip(*rows, strict=True))
    return RawInput(columns=dict(zip(names, values, strict=True)), rows=None, n_rows=len(rows))


def _from_columns(data: dict[str, Any], where: str) -> RawInput:
    if not data:
        raise InvalidArgument(f'"{where}" holds no columns')
    columns = {k: v if isinstance(v, list) else [v] for k, v in data.items()}
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise InvalidArgument(
            f'"{where}": columns have different lengths {sorted(lengths)}; give each the same rows'
        )
    n = lengths.pop()
    if n == 0:
        raise InvalidArgument(f'"{where}" holds no rows; send at least one')
    return RawInput(columns=columns, rows=None, n_rows=n)


def parse_csv(body: bytes) -> RawInput:
    """Columns from CSV text with a header line; empty cells are missing values."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"CSV body is not UTF-8 text: {exc}") from exc
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise InvalidArgument(f"body is not valid CSV: {exc}") from exc
    lines = [line for line in lines if line]
    if len(lines) < 2:
        raise InvalidArgument("CSV body needs a header line and at least one row")
    header, rows = lines[0], lines[1:]
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise InvalidArgument(f"CSV line {i} has {len(row)} cells, the header {len(header)}")
    columns = {
        name: [cell if cell != "" else None for cell in values]
        for name, values in zip(header, zip(*rows, strict=True), strict=True)
    }
    return RawInput(columns=columns, rows=None, n_rows=len(rows))


# --------------------------------------------------------------------------- validation


class _Bad(Exception):
    """A column failed a check; ``message`` says which row, which value and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputValidator:
    """Checks parsed bodies against one model version's signature (None: no checks)."""

    def __init__(self, signature: Signature | None) -> None:
        self.signature = signature
        inputs = None if signature is None else signature.inputs
        self.tensor = inputs if isinstance(inputs, TensorSpec) else None
        self.specs: tuple[ColumnSpec, ...] = () if not isinstance(inputs, tuple) else inputs
        self._checks = [(spec, _checker(spec)) for spec in self.specs]
        groups: dict[str, list[str]] = {}
        for spec, check in self._checks:
            if check is _check_float:
                groups.setdefault(spec.dtype, []).append(spec.name)
        self._float_groups = [
            (np.dtype(dtype), names) for dtype, names in groups.items() if len(names) > 1
        ]

    def validate(self, raw: RawInput) -> ModelInput:
        """The request's :class:`ModelInput`. Raises SchemaMismatch listing every bad field."""
        if self.signature is None:
            return _unchecked(raw)
        if self.tensor is not None:
            return self._validate_tensor(raw)
        if raw.columns is None:
            raise SchemaMismatch(
                [
                    FieldError(
                        "body",
                        "rows of bare values cannot be matched to the model's columns "
                        f"{[s.name for s in self.specs]}; send records or name the columns",
                    )
                ]
            )
        return self._validate_columns(raw.columns, raw.n_rows)

    def _validate_columns(self, columns: Mapping[str, Sequence[Any]], n: int) -> ModelInput:
        errors: list[FieldError] = []
        out: dict[str, Any] = {}
        done = self._floats_at_once(columns, n)
        if len(done) == len(self._checks):  # every column is a float: nothing else to check
            out = {spec.name: done[spec.name] for spec, _ in self._checks}
            return ModelInput(columns=out, n_rows=n, native=True)
        for spec, check in self._checks:
            if spec.name in done:
                out[spec.name] = done[spec.name]
                continue
            values = columns.get(spec.name)
            if values is None:
                errors.append(FieldError(spec.name, f"column {spec.name!r} is missing"))
                continue
            try:
                out[spec.name] = check(spec, values)
            except _Bad as bad:
                errors.append(FieldError(spec.name, bad.message))
        if errors:
            raise SchemaMismatch(errors)
        native = all(isinstance(v, np.ndarray) for v in out.values())
        return ModelInput(columns=out, n_rows=n, native=native)

    def _floats_at_once(
        self, columns: Mapping[str, Sequence[Any]], n: int
    ) -> dict[str, np.ndarray[Any, Any]]:
        """The float columns of one dtype converted in one NumPy call (instead of one call
        and one NaN check per column, which dominate a single-row request), for each group
        whose columns are all present, hold only numbers and no NaN: the common case. Any
        other group is left to the column-by-column checks, which find and word the problems
        (and keep NaN where a column is nullable)."""
        done: dict[str, np.ndarray[Any, Any]] = {}
        for dtype, names in self._float_groups:
            lists = [columns.get(name) for name in names]
            if any(values is None or len(values) != n for values in lists):
                continue
            if not set(map(type, itertools.chain.from_iterable(lists))) <= _NUMBER_TYPES:  # type: ignore[arg-type]
                continue
            values = itertools.chain.from_iterable(lists)  # type: ignore[arg-type]
            try:
                block = np.fromiter(values, dtype, len(names) * n).reshape(len(names), n)
            except (OverflowError, ValueError):  # a number beyond the dtype: column by column
                continue
            if np.isnan(block).any():
                continue
            done.update(zip(names, block, strict=True))  # row j of the block: column j
        return done

    def _validate_tensor(self, raw: RawInput) -> ModelInput:
        assert self.signature is not None  # checked by the caller
        data: Any = raw.rows
        if data is None:
            raise SchemaMismatch(
                [FieldError("body", "the model takes an array: send rows of values")]
            )
        try:
            array = self.signature.validate(data)
        except InvalidArgument as exc:
            raise SchemaMismatch([FieldError("body", str(exc))]) from exc
        arr = np.asarray(array)
        return ModelInput(columns={}, n_rows=len(arr), native=False, tensor=arr)


def _unchecked(raw: RawInput) -> ModelInput:
    if raw.columns is not None:
        return ModelInput({k: list(v) for k, v in raw.columns.items()}, raw.n_rows, native=False)
    return ModelInput({}, raw.n_rows, native=False, tensor=np.asarray(raw.rows))


Check = Callable[[ColumnSpec, Sequence[Any]], Any]


def _checker(spec: ColumnSpec) -> Check:
    family = spec.dtype.split("[")[0].rstrip("0123456789")
    return _CHECKS.get(family, _check_other)


def _is_missing(value: Any) -> bool:
    return value is None or (type(value) is float and math.isnan(value))


def _describe(spec: ColumnSpec, values: Sequence[Any], rows: list[int], why: str) -> _Bad:
    first = rows[0]
    more = f" ({len(rows) - 1} more such value(s))" if len(rows) > 1 else ""
    return _Bad(
        f"column {spec.name!r} expects {spec.dtype}, but value {values[first]!r} at row "
        f"{first} {why}{more}"
    )


def _missing(spec: ColumnSpec, rows: list[int]) -> _Bad:
    more = f" and {len(rows) - 1} more row(s)" if len(rows) > 1 else ""
    return _Bad(
        f"column {spec.name!r} has a missing value (null/NaN) at row {rows[0]}{more}, and the "
        "model's signature allows no missing values there; send a value"
    )


def _check_missing(spec: ColumnSpec, values: Sequence[Any]) -> list[int]:
    """Rows holding None/NaN; raises when the column may not have any."""
    rows = [i for i, v in enumerate(values) if _is_missing(v)]
    if rows and not spec.nullable:
        raise _missing(spec, rows)
    return rows


_NUMBER_TYPES = frozenset({float, int})


def _check_float(spec: ColumnSpec, values: Sequence[Any]) -> Any:
    kinds = set(map(type, values))
    if kinds <= _NUMBER_TYPES:
        arr = np.array(values, dtype=spec.dtype)
        if not spec.nullable and np.isnan(arr).any():
            raise _missing(spec, np.flatnonzero(np.isnan(arr)).tolist())
        return arr
    converted = [_to_number(v) for v in values]
    bad = [i for i, v in enumerate(converted) if v is _NOT_NUMBER]
    if bad:
        raise _describe(spec, values, bad, "is not a number")
    _check_missing(spec, converted)
    return np.array([math.nan if v is None else v for v in converted], dtype=spec.dtype)


_NOT_NUMBER = object()


def _to_number(value: Any) -> Any:
    """A float or int for a number or numeric text, None for missing, else a marker."""
    kind = type(value)
    if kind is float or kind is int or value is None:
        return value
    if kind is str:
        text = value.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return _NOT_NUMBER
    return _NOT_NUMBER


def _check_int(spec: ColumnSpec, values: Sequence[Any]) -> Any:
    if set(map(type, values)) <= {int}:
        try:
            return np.array(values, dtype=spec.dtype)
        except OverflowError:
            pass  # described below
    converted = [_to_number(v) for v in values]
    bad = [i for i, v in enumerate(converted) if v is _NOT_NUMBER]
    if bad:
        raise _describe(spec, values, bad, "is not a number")
    missing = _check_missing(spec, converted)
    present = [(i, v) for i, v in enumerate(converted) if not _is_missing(v)]
    whole = [i for i, v in present if not float(v).is_integer()]
    if whole:
        raise _describe(spec, values, whole, "is not a whole number")
    info = np.iinfo(spec.dtype)
    out = [i for i, v in present if not info.min <= v <= info.max]
    if out:
        raise _describe(spec, values, out, f"is out of range for {spec.dtype}")
    if missing:
        return [None if _is_missing(v) else int(v) for v in converted]
    return np.array([int(v) for v in converted], dtype=spec.dtype)


_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False}


def _to_bool(value: Any) -> Any:
    kind = type(value)
    if kind is bool or value is None:
        return value
    if kind is int and value in (0, 1):
        return bool(value)
    if kind is str:
        return _BOOL_WORDS.get(value.strip().lower(), _NOT_NUMBER)
    return _NOT_NUMBER


def _check_bool(spec: ColumnSpec, values: Sequence[Any]) -> Any:
    if set(map(type, values)) <= {bool}:
        return np.array(values, dtype=bool)
    converted = [_to_bool(v) for v in values]
    bad = [i for i, v in enumerate(converted) if v is _NOT_NUMBER]
    if bad:
        raise _describe(spec, values, bad, "is not a boolean (true/false/1/0)")
    if _check_missing(spec, converted):
        return converted
    return np.array(converted, dtype=bool)


def _texts(spec: ColumnSpec, values: Sequence[Any]) -> list[Any]:
    """Strings (integers and booleans written as text) or None; raises for anything else."""
    if set(map(type, values)) <= {str}:
        return list(values)
    bad = [
        i for i, v in enumerate(values) if not _is_missing(v) and type(v) not in (str, int, bool)
    ]
    if bad:
        raise _describe(spec, values, bad, "is not a string (send text)")
    return [None if _is_missing(v) else v if type(v) is str else str(v) for v in values]


def _check_string(spec: ColumnSpec, values: Sequence[Any]) -> Any:
    texts = _texts(spec, values)
    _check_missing(spec, texts)
    return texts


def _check_category(spec: ColumnSpec, values: Sequence[Any]) -> Any:
    texts = _check_string(spec, values)
    if spec.levels is None:
        return texts
    known = set(spec.levels)
    unknown = [i for i, v in enumerate(texts) if v is not None and v not in known]
    if unknown:
        seen = list(dict.fromkeys(texts[i] for i in unknown))
        levels = ", ".join(map(repr, spec.levels[:20])) + (" …" if len(spec.levels) > 20 else "")
        raise _Bad(
            f"column {spec.name!r} has unknown categor{'y' if len(seen) == 1 else 'ies'} "
            f"{', '.join(map(repr, seen[:_SHOWN]))} (first at row {unknown[0]}); the model "
            f"knows {levels}"
        )
    return texts


def _check_datetime(spec: ColumnSpec, values: Sequence[Any]) -> Any:
    bad = [i for i, v in enumerate(values) if not _is_missing(v) and not _is_iso(v)]
    if bad:
        raise _describe(spec, values, bad, "is not an ISO 8601 date/time text")
    _check_missing(spec, values)
    return [None if _is_missing(v) else v for v in values]


def _is_iso(value: Any) -> bool:
    if type(value) is not str:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_other(spec: ColumnSpec, values: Sequence[Any]) -> Any:
    _check_missing(spec, values)
    return list(values)


_CHECKS: dict[str, Check] = {
    "float": _check_float,
    "int": _check_int,
    "uint": _check_int,
    "bool": _check_bool,
    "string": _check_string,
    "category": _check_category,
    "datetime": _check_datetime,
}


def concat_inputs(inputs: Sequence[ModelInput]) -> ModelInput:
    """One input holding the rows of several requests, in order (for one batched call)."""
    if len(inputs) == 1:
        return inputs[0]
    first = inputs[0]
    n = sum(i.n_rows for i in inputs)
    if first.tensor is not None:
        tensors = [i.tensor for i in inputs if i.tensor is not None]
        return ModelInput({}, n, native=False, tensor=np.concatenate(tensors))
    native = all(i.native for i in inputs)
    if native:
        arrays = {name: np.concatenate([i.columns[name] for i in inputs]) for name in first.columns}
        return ModelInput(arrays, n, native=True)
    names = dict.fromkeys(name for i in inputs for name in i.columns)
    columns: dict[str, Any] = {
        name: [v for i in inputs for v in _values(i.columns.get(name), i.n_rows)] for name in names
    }
    return ModelInput(columns, n, native=False)


class InputRecords(Sequence[dict[str, Any]]):
    """A :class:`ModelInput` seen as records, built only when iterated (by the log's writer
    thread), so handing inputs to the prediction log costs the request path nothing."""

    def __init__(self, data: ModelInput) -> None:
        self._data = data

    def __len__(self) -> int:
        return self._data.n_rows

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        rows = list(self)
        return rows[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        data = self._data
        if data.tensor is not None:
            return ({"input": row} for row in data.tensor.tolist())
        names = list(data.columns)
        columns = [_values(data.columns[name], data.n_rows) for name in names]
        return (dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True))


def _values(part: Any, n: int) -> list[Any]:
    if part is None:
        return [None] * n
    return part.tolist() if isinstance(part, np.ndarray) else list(part)


# --------------------------------------------------------------------------- OpenAPI


def record_model(model_name: str, signature: Signature | None) -> type[BaseModel] | None:
    """A pydantic model of one input row of ``model_name``: one field per signature column.

    Used for the OpenAPI document (``/docs`` shows each column with its type, whether it may be
    null, and its levels), not to validate: :class:`InputValidator` does that faster and
    names every bad field. None for a model without columns (no signature, or a tensor).
    """
    from pydantic import ConfigDict, Field, create_model

    if signature is None or isinstance(signature.inputs, TensorSpec):
        return None
    fields: dict[str, Any] = {}
    for i, spec in enumerate(signature.inputs):
        kind = _python_type(spec)
        described = Field(
            None if spec.nullable else ...,
            alias=spec.name,
            description=f"{spec.dtype}{', may be null' if spec.nullable else ''}",
        )
        fields[f"c{i}"] = (kind | None if spec.nullable else kind, described)
    title = "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", model_name))
    config = ConfigDict(extra="ignore", title=f"{title}Record")
    model: type[BaseModel] = create_model(f"{title}Record", __config__=config, **fields)
    return model


def _python_type(spec: ColumnSpec) -> Any:
    family = spec.dtype.split("[")[0].rstrip("0123456789")
    if family == "category" and spec.levels:
        return Literal.__getitem__(tuple(spec.levels))  # type: ignore[attr-defined]
    return _PY_TYPES.get(family, Any)


_PY_TYPES: dict[str, Any] = {
    "float": float,
    "int": int,
    "uint": int,
    "bool": bool,
    "string": str,
    "category": str,
    "datetime": datetime,
}


__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "FieldError",
    "InputRecords",
    "InputValidator",
    "ModelInput",
    "RawInput",
    "SchemaMismatch",
    "UnsupportedMediaType",
    "concat_inputs",
    "media_type",
    "parse_body",
    "parse_csv",
    "parse_json",
    "read_body",
    "record_model",
]
