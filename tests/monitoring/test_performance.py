"""Classification metrics against scikit-learn: probability columns in any order, rows
without probabilities, classes absent from a window, the default positive class, and labels
sent as text for numeric predictions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm

from shipyard.monitoring.feedback import label_columns
from shipyard.monitoring.performance import classification_metrics, health_metrics
from shipyard.monitoring.window import join_labels


def _binary(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    p1 = np.clip(y * 0.5 + rng.uniform(0, 0.5, n), 0.01, 0.99)
    return y, p1


def test_probability_columns_in_any_order_give_scikit_learns_figures() -> None:
    y, p1 = _binary()
    pred = (p1 > 0.5).astype(int)
    expected = skm.log_loss(y, np.column_stack([1 - p1, p1]))
    reversed_cols = pa.table({"prediction": pred, "proba_1": p1, "proba_0": 1 - p1, "y": y})
    got = classification_metrics(reversed_cols, "y")
    assert got["log_loss"] == pytest.approx(expected)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p1))
    words = np.where(y == 1, "yes", "no")
    text = pa.table({"prediction": np.where(pred == 1, "yes", "no"), "proba_yes": p1,
                     "proba_no": 1 - p1, "y": words})  # fmt: skip
    assert classification_metrics(text, "y")["log_loss"] == pytest.approx(expected)

    rng = np.random.default_rng(1)
    y3 = rng.integers(0, 3, 300)
    proba = rng.dirichlet([1, 1, 1], 300)
    proba[np.arange(300), y3] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    shuffled = pa.table({"prediction": proba.argmax(axis=1), "proba_2": proba[:, 2],
                         "proba_0": proba[:, 0], "proba_1": proba[:, 1], "y": y3})  # fmt: skip
    got = classification_metrics(shuffled, "y")
    assert got["log_loss"] == pytest.approx(skm.log_loss(y3, proba))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y3, proba, multi_class="ovr"))


def test_rows_without_probabilities_are_left_out_of_roc_auc_and_log_loss() -> None:
    # a window mixing two versions: v1 knew classes b, c; v2 knows a, b, c
    v1 = pa.table({"prediction": ["b", "c", "b", "c"], "proba_b": [.9, .2, .8, .1],
                   "proba_c": [.1, .8, .2, .9], "y": ["b", "c", "c", "c"]})  # fmt: skip
    v2 = pa.table({"prediction": ["a", "b", "c", "a"], "proba_a": [.7, .1, .1, .6],
                   "proba_b": [.2, .8, .1, .2], "proba_c": [.1, .1, .8, .2],
                   "y": ["a", "b", "c", "b"]})  # fmt: skip
    window = pa.concat_tables([v1, v2], promote_options="permissive")
    notes: dict[str, object] = {}
    got = classification_metrics(window, "y", notes=notes)
    assert notes == {"proba_rows_dropped": 4}
    assert got["accuracy"] == pytest.approx(6 / 8)  # every row counts here
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2]])
    y = ["a", "b", "c", "b"]
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))


def test_roc_auc_over_the_classes_the_labels_hold() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)  # a three-class model, class 2 absent from the window
    proba = rng.dirichlet([1, 1, 1], 200)
    proba[np.arange(200), y] += 1.0
    proba /= proba.sum(axis=1, keepdims=True)
    table = pa.table({"prediction": proba.argmax(axis=1), "proba_0": proba[:, 0],
                      "proba_1": proba[:, 1], "proba_2": proba[:, 2], "y": y})  # fmt: skip
    got = classification_metrics(table, "y")
    shares = proba[:, :2] / proba[:, :2].sum(axis=1, keepdims=True)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, shares[:, 1]))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=[0, 1, 2]))


def test_one_class_in_the_labels_leaves_roc_auc_and_log_loss_undefined() -> None:
    table = pa.table({"prediction": [0, 0, 1], "proba_0": [.9, .8, .4], "proba_1": [.1, .2, .6],
                      "y": [0, 0, 0]})  # fmt: skip
    got = classification_metrics(table, "y")
    assert got["roc_auc"] is None and got["log_loss"] is None


def test_default_positive_class_is_the_models_last_class() -> None:
    # every label and prediction negative: precision and recall of class 1 are 0, not 1
    table = pa.table({"prediction": [0, 0, 0, 0], "proba_0": [.9, .8, .7, .9],
                      "proba_1": [.1, .2, .3, .1], "y": [0, 0, 0, 0]})  # fmt: skip
    got = classification_metrics(table, "y")
    assert (got["precision"], got["recall"], got["f1"]) == (0.0, 0.0, 0.0)
    assert got["accuracy"] == 1.0
    text = pa.table({"prediction": ["no", "no"], "proba_yes": [.1, .2], "proba_no": [.9, .8],
                     "y": ["no", "no"]})  # fmt: skip
    assert classification_metrics(text, "y")["recall"] == 0.0
    # an explicit positive class still wins
    assert classification_metrics(table, "y", positive=0)["precision"] == 1.0


def _labels(values: pa.Array) -> pa.Table:
    text, number = label_columns(values)
    ids = [f"p{i}" for i in range(len(values))]
    return pa.table({"prediction_id": ids, "label_text": text, "label_number": number})


def test_labels_sent_as_text_join_numeric_predictions() -> None:
    window = pa.table({"prediction_id": ["p0", "p1", "p2", "p3"], "prediction": [1, 0, 0, 1]})
    joined = join_labels(window, _labels(pa.array(["1", "0", "1", "oops"])), "L")
    assert joined.column("prediction_id").to_pylist() == ["p0", "p1", "p2"]
    assert joined.column("L").to_pylist() == [1, 0, 1]
    floats = pa.table({"prediction_id": ["p0", "p1"], "prediction": [0.5, 2.0]})
    joined = join_labels(floats, _labels(pa.array(["0.25", "3"])), "L")
    assert joined.column("L").to_pylist() == [0.25, 3.0]


def test_join_keeps_inputs_of_null_type() -> None:
    window = pa.table({"prediction_id": ["p0", "p1"], "z": pa.nulls(2), "prediction": [1, 0]})
    joined = join_labels(window, _labels(pa.array([1, 1])), "L")
    assert joined.num_rows == 2 and joined.schema.field("z").type == pa.null()


def test_health_of_rows_without_latencies() -> None:
    """Rows logged without a latency (an SDK caller's) count for throughput and errors, and
    leave the latency percentiles None when no row has one, without a warning."""
    ts = pa.array([0, 1_000_000, 2_000_000], pa.timestamp("us", tz="UTC"))
    none = pa.table({"latency_ms": pa.array([None] * 3, pa.float64()), "ts": ts,
                     "status": ["ok", "error", "ok"]})  # fmt: skip
    health = health_metrics(none)
    assert health["p50_latency_ms"] is None and health["p99_latency_ms"] is None
    assert health["error_rate"] == pytest.approx(1 / 3) and health["throughput_per_s"] == 1.5
    some = none.set_column(0, "latency_ms", pa.array([2.0, None, 4.0]))
    assert health_metrics(some)["p50_latency_ms"] == 3.0
