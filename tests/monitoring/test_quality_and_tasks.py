"""Data quality of live inputs with a validation suite, regression metrics, monitors declared
in Python, and `shipyard monitor watch` (the one scheduler, monitors only)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import mean_absolute_error, r2_score
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.monitoring.monitors import Monitor, Performance, Window
from shipyard.monitoring.performance import classification_metrics
from shipyard.registry.entities import ModelVersion
from shipyard.serving.predictions import PredictionLog, default_root
from shipyard.tracking.fluent import services
from tests.monitoring.conftest import churn_frame, serve_predictions

runner = CliRunner()
SUITE = """
name: live-inputs
rules:
  - {type: not_null, name: tenure_present, column: tenure}
  - {type: range, name: monthly_range, column: monthly, min: 0, max: 120}
  - {type: allowed_values, name: contract_known, column: contract,
     values: [month, year, two_year]}
"""


def test_suite_runs_on_the_window(churn_model: ModelVersion, tmp_path: Path) -> None:
    frame = churn_frame(100, seed=9)
    frame.loc[:9, "monthly"] = 500.0  # out of range
    serve_predictions(frame)
    (tmp_path / "suite.yaml").write_text(SUITE)
    monitor = Monitor.from_dict(
        "quality",
        {"model": "churn@champion", "window": {"rows": 100}, "suite": "suite.yaml",
         "drift": False, "alerts": {"rules": ["quality_failed > 0"]}},
        base_dir=tmp_path,
    )  # fmt: skip
    outcome = shipyard.run_monitor(monitor)
    assert outcome.metrics["quality_failed"] == 1.0 and outcome.check.status == "alert"
    results = {r["name"]: r for r in outcome.check.details["quality"]["results"]}
    assert not results["monthly_range"]["passed"] and results["tenure_present"]["passed"]
    assert "drift" not in outcome.check.details and "drift_share" not in outcome.metrics
    assert "Data quality" in Path(outcome.check.report).read_text()


def test_regression_metrics_from_a_logged_window(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=200)})
    y = 3 * X["x"] + rng.normal(scale=0.5, size=200)
    shipyard.ingest_dataset(X.assign(y=y), name="reg-data")
    model = LinearRegression().fit(X, y)
    shipyard.register_model("reg", model=model, input_example=X, alias="champion")
    predicted = model.predict(X)
    ids = [f"r{i}" for i in range(200)]
    root = default_root(services().settings)
    with PredictionLog(root) as plog:  # what batch prediction and the model server write
        plog.log("reg", 1, X.to_dict("records"), {"prediction": predicted}, ids, latency_ms=1.5)
    shipyard.log_feedback("reg", {"prediction_id": ids, "label": y.tolist()})
    monitor = Monitor("reg-live", "reg@champion", Window(rows=200), reference="reg-data")
    shipyard.add_monitor(monitor)
    outcome = shipyard.run_monitor("reg-live")
    m = outcome.metrics
    assert m["mae"] == pytest.approx(mean_absolute_error(y, predicted), abs=1e-9)
    assert m["r2"] == pytest.approx(r2_score(y, predicted), abs=1e-9)
    assert m["p50_latency_ms"] == 1.5 and "accuracy" not in m
    assert outcome.check.details["performance"]["task"] == "regression"
    assert "reg-live" in shipyard.list_monitors()


def test_classification_metrics_equal_sklearn() -> None:
    import pyarrow as pa
    from sklearn import metrics as skm

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p1 = np.clip(y * 0.6 + rng.random(300) * 0.5, 0, 1)
    pred = (p1 > 0.5).astype(int)
    table = pa.table({"prediction": pred, "proba_0": 1 - p1, "proba_1": p1, "y": y})
    m = classification_metrics(table, "y")
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p1), abs=1e-12)
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, np.c_[1 - p1, p1]), abs=1e-12)
    three = pa.table({"prediction": ["a", "b", "c", "a"], "y": ["a", "b", "b", "c"]})
    macro = classification_metrics(three, "y")
    assert macro["f1"] == pytest.approx(
        skm.f1_score(["a", "b", "b", "c"], ["a", "b", "c", "a"], average="macro")
    )
    assert macro["roc_auc"] is None  # no probabilities logged


@pytest.mark.slow
def test_watch_runs_due_monitors(
    churn_model: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler runs a job from its first cron slot after it was first seen: one pass
    registers the monitor, the pass after the next minute boundary runs it."""
    import time

    serve_predictions(churn_frame(50, seed=10))
    (tmp_path / "shipyard.yaml").write_text(
        "monitors:\n"
        "  churn-live:\n"
        "    model: churn@champion\n"
        "    window: {rows: 50}\n"
        "    schedule: '* * * * *'\n"
    )
    monkeypatch.chdir(tmp_path)
    shipyard.configure()
    first = runner.invoke(app, ["monitor", "watch", "--once", "--interval", "0.1"])
    assert first.exit_code == 0, first.output
    assert shipyard.monitor_history("churn-live") == []  # first seen now: next slot not yet due
    time.sleep(61 - dt.datetime.now(dt.UTC).second)
    second = runner.invoke(app, ["monitor", "watch", "--once", "--interval", "0.1"])
    assert second.exit_code == 0, second.output
    (check,) = shipyard.monitor_history("churn-live")
    assert check.rows == 50
    (trigger,) = services().triggers.list(job="monitor:churn-live")
    assert trigger.state == "succeeded" and trigger.run_id == str(check.id)


def test_text_labels_and_probabilities_of_text_classes() -> None:
    from sklearn import metrics as skm

    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x": rng.normal(size=300)})
    y = np.where(X["x"] + rng.normal(scale=0.7, size=300) > 0, "Yes", "No")
    shipyard.ingest_dataset(X, name="txt-data")
    model = LogisticRegression()
    model.fit(X, y)
    shipyard.register_model("txt", model=model, input_example=X, alias="champion")
    proba = model.predict_proba(X)
    outputs = {"prediction": model.predict(X), "proba_No": proba[:, 0], "proba_Yes": proba[:, 1]}
    ids = [f"t{i}" for i in range(300)]
    with PredictionLog(default_root(services().settings)) as plog:
        plog.log("txt", 1, X.to_dict("records"), outputs, ids, latency_ms=2.0)
    shipyard.log_feedback("txt", {"prediction_id": ids, "label": y.tolist()})
    monitor = Monitor(
        "txt-live", "txt/1", Window(rows=300), reference="txt-data",
        performance=Performance(positive="Yes"),
    )  # fmt: skip
    m = shipyard.run_monitor(monitor).metrics
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "Yes", proba[:, 1]), abs=1e-12)
    assert m["recall"] == pytest.approx(
        skm.recall_score(y, model.predict(X), pos_label="Yes"), abs=1e-12
    )
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=["No", "Yes"]), abs=1e-12)


def test_cli_feedback_keeps_all_digit_ids_as_text(tmp_path: Path) -> None:
    with PredictionLog(default_root(services().settings)) as plog:
        plog.log("digits", 1, [{"x": 1.0}, {"x": 2.0}], {"prediction": [0, 1]},
                 ["0012345", "0099999"], latency_ms=1.0)  # fmt: skip
    labels = tmp_path / "labels.csv"
    labels.write_text("prediction_id,label\n0012345,0\n0099999,1\n")
    out = runner.invoke(app, ["feedback", "digits", str(labels)])
    assert out.exit_code == 0, out.output
    stored = services().monitoring.feedback("digits").column("prediction_id").to_pylist()
    assert sorted(stored) == ["0012345", "0099999"]
    missing = runner.invoke(app, ["feedback", "digits", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no file" in missing.output
