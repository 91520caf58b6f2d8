"""A monitor's window of the prediction log, split into inputs and outputs, with labels.

>>> import pyarrow as pa
>>> t = pa.table({"prediction_id": ["a"], "ts": [0], "latency_ms": [1.0], "status": ["ok"],
...               "model": ["m"], "version": [1], "age": [3], "prediction": [1], "proba_1": [.9]})
>>> input_columns(t)
['age']
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from shipyard.monitoring.monitors import Window
from shipyard.monitoring.performance import PREDICTION, PROBA
from shipyard.serving.predictions import BASE_COLUMNS, PARTITION_COLUMNS, read_predictions

_NOT_INPUTS = frozenset((*BASE_COLUMNS, *PARTITION_COLUMNS, PREDICTION))
_LOOKBACK_DAYS = (1, 7, 31, 366)


def input_columns(table: pa.Table) -> list[str]:
    """The logged model inputs of a prediction-log table (not ids, times or outputs)."""
    return [
        c
        for c in table.column_names
        if c not in _NOT_INPUTS and not c.startswith((PROBA, "output_"))
    ]


def read_window(
    root: Path,
    model: str,
    window: Window,
    *,
    version: int | None = None,
    now: dt.datetime,
) -> pa.Table:
    """The served (not shadow) predictions of ``model`` in ``window`` ending at ``now``.

    A window of N rows reads the most recent days first and widens only while it has fewer
    than N rows, so a long log is not read whole for a short window.
    """
    until = now + dt.timedelta(microseconds=1)
    if window.seconds is not None:
        since = now - dt.timedelta(seconds=window.seconds)
        return _served(read_predictions(root, model, version=version, since=since, until=until))
    assert window.rows is not None  # Window guarantees one of the two
    table = None
    for days in (*_LOOKBACK_DAYS, None):
        start = None if days is None else now - dt.timedelta(days=days)
        table = _served(read_predictions(root, model, version=version, since=start, until=until))
        if table.num_rows >= window.rows:
            break
    assert table is not None
    return table.slice(max(0, table.num_rows - window.rows))


def _served(table: pa.Table) -> pa.Table:
    if table.num_rows == 0:
        return table
    return table.filter(pc.not_equal(table.column("status"), "shadow"))


def join_labels(window: pa.Table, labels: pa.Table, label: str) -> pa.Table:
    """The window's labelled rows, with the label (cast to the prediction's type) as ``label``.

    ``labels`` has ``prediction_id, label_text, label_number``; a label that cannot be read
    as the prediction's type is left out. A label sent as text (``"1"``) for a numeric
    prediction is read from its text.
    """
    if window.num_rows == 0 or labels.num_rows == 0 or PREDICTION not in window.column_names:
        return window.schema.empty_table().append_column(label, pa.array([], pa.string()))
    # join the ids only, then take the window's rows: every column keeps its type (Arrow's
    # join refuses some, e.g. an input that was null in every logged row)
    ids = pa.table(
        {"prediction_id": window.column("prediction_id"), _ROW: pa.array(range(window.num_rows))}
    )
    joined = ids.join(
        labels.select(["prediction_id", "label_text", "label_number"]),
        "prediction_id",
        join_type="inner",
    ).sort_by(_ROW)
    values = _label_values(joined, window.schema.field(PREDICTION).type)
    out = window.take(joined.column(_ROW)).append_column(label, values)
    return out.filter(pc.is_valid(out.column(label)))


_ROW = "__row__"


def _label_values(joined: pa.Table, typ: pa.DataType) -> pa.ChunkedArray | pa.Array:
    """The labels of ``joined`` as ``typ`` (null where a label cannot be read so)."""
    text = joined.column("label_text")
    if pa.types.is_floating(typ) or pa.types.is_integer(typ):
        number = joined.column("label_number")
        if number.null_count:  # labels sent as text: read the numbers from it
            number = pc.coalesce(number, _text_as_float(text))
        return pc.cast(number, typ, safe=False) if pa.types.is_integer(typ) else number
    try:
        return pc.cast(text, typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return text


def _text_as_float(text: pa.ChunkedArray) -> pa.Array:
    """``text`` as float64, null where it is not a number."""
    try:
        return pc.cast(text, pa.float64()).combine_chunks()
    except pa.ArrowInvalid:  # some are not numbers: one by one
        out: list[float | None] = []
        for value in text.to_pylist():
            try:
                out.append(float(value))
            except (TypeError, ValueError):
                out.append(None)
        return pa.array(out, pa.float64())
