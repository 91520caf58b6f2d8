"""Ground truth that arrives after the prediction: labels by prediction id or by entity key.

A label names its prediction either by ``prediction_id`` or by the entity key columns the
prediction log kept (``customer_id`` …) plus a time ``ts``: the label then belongs to the
newest prediction of that entity at or before ``ts`` (a DuckDB ``ASOF`` join over the log).
Labels are checked against the log before anything is stored: unknown ids are refused with
their count and examples, so nothing is half-recorded.

>>> import pyarrow as pa
>>> normalize_labels(pa.table({"id": ["a"], "churned": ["Yes"]}), label="churned",
...                  id_column="id").column_names
['prediction_id', 'label']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidArgument, NotFound
from shipyard.serving.predictions import TS_TYPE

ID = "prediction_id"
LABEL = "label"
TS = "ts"
EXAMPLES = 5
ID_MAX = 64  # characters of a stored prediction id


def as_table(data: Any) -> pa.Table:
    """An Arrow table from a table, a pandas DataFrame, records or a mapping of columns."""
    if isinstance(data, pa.Table):
        return data
    try:
        if isinstance(data, Mapping):
            return pa.table({str(k): list(v) for k, v in data.items()})
        if isinstance(data, Sequence) and not isinstance(data, str | bytes):
            rows = list(data)
            if not all(isinstance(r, Mapping) for r in rows):
                raise InvalidArgument("feedback records must be mappings like {'prediction_id': …}")
            return pa.Table.from_pylist(rows)
        if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
            return pa.Table.from_pandas(data, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidArgument(
            f"feedback columns must each hold one type of value (and the same count): {exc}"
        ) from exc
    raise InvalidArgument(
        "feedback must be an Arrow table, a DataFrame, records or columns, not "
        f"{type(data).__name__}"
    )


def normalize_labels(
    data: Any,
    *,
    label: str = LABEL,
    id_column: str = ID,
    keys: Sequence[str] = (),
    ts: str = TS,
) -> pa.Table:
    """The labels as ``prediction_id, label`` or, with ``keys``, as ``<keys>, ts, label``.

    Raises InvalidArgument naming a missing column, a null label or a time that is no time.
    """
    table = as_table(data)
    names = table.column_names
    keys = list(keys)
    wanted = [*keys, ts] if keys else [id_column]
    missing = [c for c in [*wanted, label] if c not in names]
    if missing:
        how = f"entity key column(s) {keys} and a time column {ts!r}" if keys else f"{id_column!r}"
        raise InvalidArgument(
            f"feedback is missing column(s) {missing} (it has {names}); give {how} and the "
            f"label column {label!r}"
        )
    labels = table.column(label)
    nulls = labels.null_count
    if nulls:
        raise InvalidArgument(
            f"{nulls} label(s) in column {label!r} are empty; every row needs one"
        )
    if keys:
        columns = {k: table.column(k) for k in keys}
        columns[TS] = _timestamps(table.column(ts), ts)
        return pa.table({**columns, LABEL: labels})
    ids = table.column(id_column)
    if ids.null_count:
        raise InvalidArgument(f"{ids.null_count} row(s) have no {id_column!r}")
    ids = pc.cast(ids, pa.string())
    check_id_lengths(ids, id_column)
    return pa.table({ID: ids, LABEL: labels})


def check_id_lengths(ids: pa.ChunkedArray | pa.Array, column: str = ID) -> None:
    """Raise InvalidArgument naming the ids (text) longer than a stored id may be."""
    too_long = ids.filter(pc.greater(pc.utf8_length(ids), ID_MAX))
    if len(too_long):
        examples = ", ".join(repr(i) for i in too_long.slice(0, EXAMPLES).to_pylist())
        raise InvalidArgument(
            f"{len(too_long)} {column!r} value(s) are longer than {ID_MAX} characters "
            f"(e.g. {examples}); a prediction id has at most {ID_MAX}: check the id column"
        )


def _timestamps(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """``column`` as UTC microsecond timestamps (naive and ISO strings taken as UTC)."""
    try:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            try:  # with offsets (2026-11-27T10:00+02:00, …Z)
                column = pc.cast(column, TS_TYPE)
            except pa.ArrowInvalid:  # without: UTC
                column = pc.cast(column, pa.timestamp("us"))
        if not pa.types.is_timestamp(column.type):
            raise pa.ArrowInvalid(f"type {column.type}")
        if column.type.tz is None:
            column = pc.assume_timezone(pc.cast(column, pa.timestamp("us")), "UTC")
        return pc.cast(column, TS_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidArgument(
            f"feedback column {name!r} must hold times (ISO 8601 like 2026-11-27T10:00, UTC "
            f"unless it says otherwise): {exc}"
        ) from exc


def label_columns(labels: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, pa.Array]:
    """(``label_text``, ``label_number``) of the labels: the text of each, and the number
    where the label is numeric (null otherwise)."""
    text = pc.cast(labels, pa.string())
    if pa.types.is_integer(labels.type) or pa.types.is_floating(labels.type):
        number = pc.cast(labels, pa.float64())
    elif pa.types.is_boolean(labels.type):
        number = pc.cast(pc.cast(labels, pa.int8()), pa.float64())
    else:
        number = pa.nulls(len(labels), pa.float64())
    return _array(text), _array(number)


def to_wire(table: pa.Table) -> dict[str, list[Any]]:
    """``table`` as JSON-ready columns (times as ISO 8601 text)."""
    out: dict[str, list[Any]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        values = column.to_pylist()
        if pa.types.is_timestamp(column.type):
            values = [None if v is None else v.isoformat() for v in values]
        out[name] = values
    return out


def _array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


# --------------------------------------------------------------------------- the log side


def _log_glob(root: Path, model: str) -> str | None:
    folder = Path(root) / f"model={model}"
    if not any(folder.glob("version=*/date=*/*.parquet")):
        return None
    return str(folder / "version=*" / "date=*" / "*.parquet")


def _source(glob: str) -> str:
    escaped = glob.replace("'", "''")
    return f"read_parquet('{escaped}', union_by_name = true, hive_partitioning = false)"


def known_ids(root: Path, model: str, ids: pa.Array) -> pa.Array:
    """The subset of ``ids`` the prediction log of ``model`` holds (one column scanned)."""
    import duckdb

    glob = _log_glob(root, model)
    if glob is None or len(ids) == 0:
        return pa.array([], pa.string())
    with duckdb.connect() as con:
        con.register("wanted", pa.table({ID: ids}))
        found = con.sql(
            f"SELECT DISTINCT w.{ID} FROM wanted w SEMI JOIN "
            f"(SELECT {ID} FROM {_source(glob)}) p ON w.{ID} = p.{ID}"
        ).to_arrow_table()
    return _array(found.column(0))


def resolve_entities(root: Path, model: str, labels: pa.Table, keys: Sequence[str]) -> pa.Table:
    """``labels`` (``<keys>, ts, label``) with the ``prediction_id`` of the newest prediction
    of the same entity at or before ``ts`` (null where there is none).

    Raises InvalidArgument when the log of ``model`` does not hold the key columns.
    """
    import duckdb

    glob = _log_glob(root, model)
    if glob is None:
        raise NotFound(
            f"the prediction log of {model!r} is empty; labels by entity key need logged "
            "predictions (is the model served with logging on?)"
        )
    with duckdb.connect() as con:
        logged = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_source(glob)}").fetchall()]
        absent = [k for k in keys if k not in logged]
        if absent:
            raise InvalidArgument(
                f"the prediction log of {model!r} has no column(s) {absent}; it logs "
                f"{logged}. Label by prediction_id, or serve behind a feature service so the "
                "entity keys are logged"
            )
        con.register("labels", labels)
        on = " AND ".join(f'CAST(l."{k}" AS VARCHAR) = CAST(p."{k}" AS VARCHAR)' for k in keys)
        cols = ", ".join(f'"{k}"' for k in keys)
        result = con.sql(
            f"SELECT l.*, p.{ID} FROM (SELECT row_number() OVER () AS _row, * FROM labels) l "
            f"ASOF LEFT JOIN (SELECT {cols}, ts, {ID} FROM {_source(glob)} "
            "WHERE status <> 'shadow') p "
            f"ON {on} AND l.ts >= p.ts ORDER BY l._row"
        ).to_arrow_table()
    return result.drop_columns(["_row"])


def describe_unknown(model: str, unknown: pa.Table, keys: Sequence[str], total: int) -> str:
    """The message for labels that match no logged prediction: how many, and examples."""
    rows = unknown.slice(0, EXAMPLES).to_pylist()
    if keys:
        shown = ", ".join(
            " ".join(f"{k}={r[k]!r}" for k in keys) + f" at {r[TS].isoformat()}" for r in rows
        )
        what = "match no prediction of that entity at or before their time"
    else:
        shown = ", ".join(repr(r[ID]) for r in rows)
        what = "name prediction ids the log does not hold"
    return (
        f"{unknown.num_rows} of {total} label(s) for {model!r} {what} (e.g. {shown}); nothing "
        "was stored. Check the model name and the ids, wait until the log is flushed, or pass "
        "allow_unknown (--allow-unknown) to store the rest"
        + ("" if keys else " and keep these until their predictions arrive")
    )
