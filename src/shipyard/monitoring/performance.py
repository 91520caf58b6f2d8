"""Model performance on labelled predictions and service health from the prediction log.

Classification: accuracy, precision, recall, F1 (binary: of the positive class; more classes:
macro average), ROC AUC and log loss (from the logged ``proba_<class>`` columns). Regression:
MAE, RMSE, R². Health: latency p50/p99 (ms), throughput (predictions per second over the
window) and error rate (share of rows whose status is not ``ok``). All computed with NumPy and
scikit-learn over whole columns.

>>> import pyarrow as pa
>>> t = pa.table({"prediction": [1, 0, 1], "proba_0": [0.2, 0.7, 0.4],
...               "proba_1": [0.8, 0.3, 0.6], "y": [1, 0, 0]})
>>> m = classification_metrics(t, "y")
>>> round(m["accuracy"], 3), m["roc_auc"]
(0.667, 1.0)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidArgument

PREDICTION = "prediction"
PROBA = "proba_"
CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION = ("mae", "rmse", "r2")
HEALTH = ("p50_latency_ms", "p99_latency_ms", "throughput_per_s", "error_rate")
COUNTS = ("rows", "labelled", "label_share")
METRICS = (*CLASSIFICATION, *REGRESSION, *HEALTH, *COUNTS)
TASKS = ("auto", "classification", "regression")


def task_of(table: pa.Table, task: str) -> str:
    """``classification`` or ``regression``: as given, or guessed from the logged outputs
    (probabilities or a text prediction mean classification)."""
    if task not in TASKS:
        raise InvalidArgument(f"task {task!r} is not one of {list(TASKS)}")
    if task != "auto":
        return task
    if any(c.startswith(PROBA) for c in table.column_names):
        return "classification"
    typ = table.schema.field(PREDICTION).type if PREDICTION in table.column_names else None
    if typ is not None and pa.types.is_floating(typ):
        return "regression"
    return "classification"


def classification_metrics(
    table: pa.Table,
    label: str,
    *,
    positive: Any = None,
    notes: dict[str, Any] | None = None,
) -> dict[str, float | None]:
    """Accuracy, precision, recall, F1, ROC AUC and log loss of ``prediction`` against
    ``label``.

    The positive class of a binary task is ``positive``, else the last of the model's classes
    (its ``proba_<class>`` columns) in sorted order, else the last class seen in the window.
    ROC AUC and log loss come from the probabilities of the rows that have all of them (a
    window mixing versions with other classes has nulls there): they are None without
    probabilities, or when those rows' labels hold fewer than two classes (ROC AUC is
    undefined then). ROC AUC is computed over the classes the labels hold. ``notes``, when
    given, receives ``proba_rows_dropped``: rows left out of ROC AUC and log loss.
    """
    from sklearn import metrics as skm

    y_pred = _values(table.column(PREDICTION))
    y_true = _values(table.column(label))
    classes = [c[len(PROBA) :] for c in table.column_names if c.startswith(PROBA)]
    matched = _match_classes(classes, y_true) if classes else None
    order = sorted(range(len(classes)), key=lambda i: matched[i]) if matched else []
    model_classes = [matched[i] for i in order] if matched else []
    binary = len(np.union1d(np.unique(y_true), np.unique(y_pred))) <= 2 and len(classes) <= 2
    pos = _positive(positive, model_classes, y_true, y_pred) if binary else None
    average = "binary" if binary else "macro"
    out: dict[str, float | None] = {"accuracy": float(skm.accuracy_score(y_true, y_pred))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division warnings: the score is 0 then
        kw: dict[str, Any] = {"average": average, "zero_division": 0}
        if binary:
            kw["pos_label"] = pos
        out["precision"] = float(skm.precision_score(y_true, y_pred, **kw))
        out["recall"] = float(skm.recall_score(y_true, y_pred, **kw))
        out["f1"] = float(skm.f1_score(y_true, y_pred, **kw))
    out["roc_auc"] = out["log_loss"] = None
    if not model_classes:
        return out
    proba = np.column_stack([_values(table.column(PROBA + classes[i]), float) for i in order])
    complete = np.isfinite(proba).all(axis=1)
    if notes is not None:
        notes["proba_rows_dropped"] = int((~complete).sum())
    usable = complete & np.isin(y_true, model_classes)
    yt, pr = y_true[usable], proba[usable]
    present = np.unique(yt)
    if len(present) < 2:
        return out
    out["log_loss"] = float(skm.log_loss(yt, pr, labels=model_classes))
    if binary:
        col = model_classes.index(pos) if pos in model_classes else len(model_classes) - 1
        out["roc_auc"] = float(skm.roc_auc_score(yt == model_classes[col], pr[:, col]))
        return out
    cols = [i for i, c in enumerate(model_classes) if c in set(present.tolist())]
    shares = pr[:, cols]
    totals = shares.sum(axis=1, keepdims=True)
    if not np.allclose(totals, 1.0):  # scikit-learn wants rows that sum to 1
        shares = shares / np.clip(totals, 1e-12, None)
    if len(cols) == 2:  # two classes present: one-vs-rest is the binary AUC
        out["roc_auc"] = float(skm.roc_auc_score(yt == present[1], shares[:, 1]))
    else:
        out["roc_auc"] = float(
            skm.roc_auc_score(yt, shares, multi_class="ovr", labels=present.tolist())
        )
    return out


def regression_metrics(table: pa.Table, label: str) -> dict[str, float | None]:
    """MAE, RMSE and R² of ``prediction`` against ``label`` (R² None for fewer than 2 rows)."""
    from sklearn import metrics as skm

    y_pred = _values(table.column(PREDICTION), float)
    y_true = _values(table.column(label), float)
    return {
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "rmse": float(math.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "r2": float(skm.r2_score(y_true, y_pred)) if len(y_true) > 1 else None,
    }


def health_metrics(table: pa.Table, window_s: float | None = None) -> dict[str, float | None]:
    """Latency p50/p99, throughput and error rate of the window's rows (None when empty;
    the latencies None too when no row has one).

    Throughput divides the rows by ``window_s`` (a time window's length) or, for a window of
    the last N rows, by the time between its first and last prediction.
    """
    n = table.num_rows
    if n == 0:
        return dict.fromkeys(HEALTH)
    latency = _values(table.column("latency_ms"), float)
    timed = latency[~np.isnan(latency)]  # rows logged without a latency have none to count
    p50, p99 = np.percentile(timed, [50, 99]) if len(timed) else (None, None)
    if window_s is None:
        ts = table.column("ts")
        span = pc.subtract(pc.max(ts), pc.min(ts)).as_py()
        window_s = span.total_seconds() if span is not None else 0.0
    throughput = n / window_s if window_s and window_s > 0 else None
    errors = pc.sum(pc.not_equal(table.column("status"), "ok")).as_py() or 0
    return {
        "p50_latency_ms": None if p50 is None else float(p50),
        "p99_latency_ms": None if p99 is None else float(p99),
        "throughput_per_s": throughput,
        "error_rate": errors / n,
    }


def _values(column: pa.ChunkedArray, dtype: Any = None) -> np.ndarray[Any, Any]:
    array: np.ndarray[Any, Any] = column.to_numpy(zero_copy_only=False)
    return array.astype(dtype) if dtype is not None else array


def _positive(positive: Any, classes: list[Any], y_true: Any, y_pred: Any) -> Any:
    """The positive class of a binary task: as given, else the last of the model's
    ``classes`` (sorted, scikit-learn's ``classes_[1]``), else the last class seen."""
    seen = np.union1d(np.unique(y_true), np.unique(y_pred))
    if positive is not None:
        return seen.dtype.type(positive) if seen.dtype.kind in "iufb" else str(positive)
    if classes and (classes[-1] in set(seen.tolist()) or len(seen) < 2):
        return classes[-1]
    return seen[-1] if len(seen) else None


def _match_classes(classes: list[str], y_true: Any) -> list[Any] | None:
    """The class names of the ``proba_`` columns in the labels' type (None when they differ)."""
    if y_true.dtype.kind in "iuf":
        try:
            return [y_true.dtype.type(float(c)) for c in classes]
        except ValueError:
            return None
    if y_true.dtype.kind == "b":
        return [c.lower() == "true" for c in classes]
    return list(classes)
