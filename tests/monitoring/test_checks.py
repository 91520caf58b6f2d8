"""A monitor over a real model server's prediction log: drift, performance as labels arrive,
health, history and reports, through the SDK and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.errors import InvalidArgument, NotFound
from shipyard.monitoring.monitors import Monitor
from shipyard.registry.entities import ModelVersion
from tests.monitoring.conftest import churn_frame, labels_for, serve_predictions

runner = CliRunner()


def _monitor(**kw: object) -> Monitor:
    data = {
        "model": "churn@champion",
        "window": {"rows": 400},
        "target": "churn",
        "alerts": {"rules": ["drift_share > 0.3", "roc_auc < 0.75"]},
        **kw,
    }
    return Monitor.from_dict("churn-live", data)


def test_stable_traffic_then_shift_is_detected(churn_model: ModelVersion) -> None:
    stable = churn_frame(400, seed=4)
    ids = serve_predictions(stable)
    first = shipyard.run_monitor(_monitor())
    assert first.check.status == "ok", first.check.metrics
    assert first.metrics["rows"] == 400
    assert first.metrics["drift_share"] == 0.0
    assert first.metrics["labelled"] == 0 and "roc_auc" not in first.metrics
    assert first.metrics["p50_latency_ms"] is not None and first.metrics["error_rate"] == 0.0

    receipt = shipyard.log_feedback("churn", labels_for(ids, stable))
    assert (receipt.stored, receipt.replaced) == (400, 0)
    scored = shipyard.run_monitor(_monitor())
    assert scored.metrics["labelled"] == 400 and scored.metrics["label_share"] == 1.0
    assert scored.metrics["roc_auc"] is not None and scored.metrics["roc_auc"] > 0.8
    assert 0.0 < (scored.metrics["log_loss"] or 0) < 0.6
    assert scored.check.status == "ok"

    shifted = churn_frame(400, seed=3, shift=True)
    new_ids = serve_predictions(shifted)
    shipyard.log_feedback("churn", labels_for(new_ids, shifted))
    bad = shipyard.run_monitor(_monitor())
    assert bad.check.status == "alert"
    drifted = set(bad.check.details["drift"]["drifted_columns"])
    assert {"monthly", "contract"} <= drifted and "tenure" not in drifted
    assert bad.metrics["roc_auc"] is not None and bad.metrics["roc_auc"] < 0.75
    assert {a.rule for a in bad.alerts} == {"drift_share > 0.3", "roc_auc < 0.75"}
    # served predictions against the reference's labels (the target column)
    assert (
        bad.metrics["prediction_drift"] is not None
        and first.metrics["prediction_drift"] is not None
    )
    assert bad.check.details["prediction_drift"]["column"] == "prediction"
    assert all(a.state == "sent" for a in bad.alerts)  # to the log, the default channel

    history = shipyard.monitor_history("churn-live")
    assert [c.id for c in history] == [bad.check.id, scored.check.id, first.check.id]
    report = Path(bad.check.report)
    html = report.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "Metrics over time" in html and "monthly" in html
    assert "reference and current distribution of monthly" in html  # the drift charts
    doc = json.loads(report.with_suffix(".json").read_text())
    assert doc["metrics"]["roc_auc"] == pytest.approx(bad.metrics["roc_auc"])
    assert len(doc["history"]["roc_auc"]) == 2  # the labelled checks


def test_time_window_and_empty_window(churn_model: ModelVersion) -> None:
    import datetime as dt

    serve_predictions(churn_frame(50, seed=8))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    empty = shipyard.run_monitor(_monitor(window="1h"), now=later)
    assert empty.check.status == "empty" and empty.check.rows == 0 and not empty.alerts
    now = shipyard.run_monitor(_monitor(window="1h"))
    assert now.check.rows == 50


def test_feedback_errors_store_nothing(churn_model: ModelVersion) -> None:
    frame = churn_frame(30, seed=5)
    ids = serve_predictions(frame)
    bad_ids = [*ids[:10], "nope-1", "nope-2"]
    with pytest.raises(InvalidArgument, match=r"2 of 12 label\(s\).*'nope-1'.*nothing was stored"):
        shipyard.log_feedback("churn", {"prediction_id": bad_ids, "label": [1] * 12})
    from shipyard.tracking.fluent import services

    assert services().monitoring.feedback("churn").num_rows == 0
    kept = shipyard.log_feedback(
        "churn", {"prediction_id": bad_ids, "label": [1] * 12}, allow_unknown=True
    )
    assert (kept.stored, kept.unmatched) == (12, 2)
    again = shipyard.log_feedback("churn", {"prediction_id": ids[:5], "label": [0] * 5})
    assert (again.stored, again.replaced) == (5, 5)
    with pytest.raises(InvalidArgument, match="missing column"):
        shipyard.log_feedback("churn", {"id": ids[:1], "label": [1]})
    with pytest.raises(InvalidArgument, match="empty"):
        shipyard.log_feedback("churn", {"prediction_id": ids[:1], "label": [None]})


def test_reference_errors(churn_model: ModelVersion) -> None:
    serve_predictions(churn_frame(20, seed=6))
    with pytest.raises(NotFound):
        shipyard.run_monitor(_monitor(reference="no-such-data"))
    with pytest.raises(InvalidArgument, match="not both in the reference"):
        shipyard.run_monitor(_monitor(columns=["nope"]))
    assert shipyard.monitor_history() == []


def test_cli_run_history_show_and_feedback(
    churn_model: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = churn_frame(200, seed=7)
    ids = serve_predictions(frame)
    (tmp_path / "shipyard.yaml").write_text(
        "monitors:\n"
        "  churn-live:\n"
        "    model: churn@champion\n"
        "    window: {rows: 200}\n"
        "    alerts: {rules: ['roc_auc < 0.99']}\n"
    )
    monkeypatch.chdir(tmp_path)
    shipyard.configure()  # read the shipyard.yaml just written
    labels = tmp_path / "labels.csv"
    labels.write_text("prediction_id,churned\n" + "".join(
        f"{i},{y}\n" for i, y in zip(ids, frame["churn"], strict=True)
    ))  # fmt: skip
    out = runner.invoke(app, ["feedback", "churn", str(labels), "--label", "churned"])
    assert out.exit_code == 0, out.output
    assert "stored 200 label(s)" in out.output
    listed = runner.invoke(app, ["monitor", "list"], env={"COLUMNS": "200"})
    assert "churn-live" in listed.output and "roc_auc < 0.99" in listed.output
    ran = runner.invoke(app, ["monitor", "run", "churn-live"], env={"COLUMNS": "200"})
    assert ran.exit_code == 0, ran.output
    assert "alert" in ran.output and "roc_auc" in ran.output
    strict = runner.invoke(app, ["monitor", "run", "--fail-on-alert", "--json"])
    assert strict.exit_code == 1 and json.loads(strict.output)[0]["status"] == "alert"
    hist = runner.invoke(app, ["monitor", "history", "--json"])
    checks = json.loads(hist.output)
    assert checks[0]["status"] == "alert" and checks[0]["labelled"] == 200
    shown = runner.invoke(app, ["monitor", "show", str(checks[0]["id"])])
    assert shown.exit_code == 0 and "roc_auc" in shown.output
    alerts = runner.invoke(app, ["alerts", "list"], env={"COLUMNS": "200"})
    assert "roc_auc < 0.99" in alerts.output and "sent" in alerts.output
    # the second run's alert (2 in all) was suppressed by the cool-down
    for args, count in ((["--state", "sent"], 1), (["--state", "failed"], 0),
                        (["--within", "1h"], 2)):  # fmt: skip
        found = runner.invoke(app, ["alerts", "list", "--json", *args])
        assert found.exit_code == 0 and len(json.loads(found.output)) == count, found.output
    odd = runner.invoke(app, ["alerts", "list", "--state", "paged"])
    assert odd.exit_code == 1 and "not one of" in odd.output
    assert [a.state for a in shipyard.list_alerts(state="suppressed")] == ["suppressed"]
    assert shipyard.list_alerts(since=dt.datetime.now() + dt.timedelta(hours=1)) == []
    missing = runner.invoke(app, ["monitor", "run", "nope"])
    assert missing.exit_code == 1 and "no monitor 'nope'" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text("prediction_id,label\nxyz,1\n")
    refused = runner.invoke(app, ["feedback", "churn", str(bad)])
    assert refused.exit_code == 1 and "1 of 1 label(s)" in refused.output
