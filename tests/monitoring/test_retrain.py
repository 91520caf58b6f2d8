"""Retraining policies: an alert runs the training pipeline, the challenger is gated against
the champion on the window's fresh labels, and promoted only when the gate passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.errors import InvalidArgument
from shipyard.monitoring.fluent import retrain_model
from shipyard.monitoring.monitors import Monitor
from shipyard.registry.entities import ModelVersion
from tests.monitoring.conftest import churn_frame, labels_for, serve_predictions

runner = CliRunner()
PIPELINE = """
pipelines:
  churn-train:
    steps:
      - name: train
        call: tests.monitoring.retrain_steps:train_churn
        with: {{worse: {worse}}}
"""


def _setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, worse: bool) -> Monitor:
    (tmp_path / "shipyard.yaml").write_text(PIPELINE.format(worse=str(worse).lower()))
    monkeypatch.chdir(tmp_path)
    shipyard.configure()
    shifted = churn_frame(400, seed=3, shift=True)
    ids = serve_predictions(shifted)
    shipyard.log_feedback("churn", labels_for(ids, shifted))
    return Monitor.from_dict(
        "churn-live",
        {
            "model": "churn@champion",
            "window": {"rows": 400},
            "target": "churn",
            "alerts": {"rules": ["roc_auc < 0.75"]},
            "retrain": {
                "pipeline": "churn-train",
                "gate": {"metrics": ["roc_auc >= champion + 0.01"], "signature": True},
                "canary": 0.1,
            },
        },
    )


def test_a_worse_challenger_is_refused(
    churn_model: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = _setup(tmp_path, monkeypatch, worse=True)
    outcome = shipyard.run_monitor(monitor)
    assert [a.rule for a in outcome.alerts] == ["roc_auc < 0.75"]
    rec = outcome.retraining
    assert rec is not None and rec.outcome == "refused"
    assert (rec.champion, rec.challenger) == (1, 2)
    steps = [s["step"] for s in rec.steps]
    assert steps == ["triggered", "fresh data", "trained", "gated", "refused"]
    gated = rec.steps[3]
    assert gated["passed"] is False
    failed = [c for c in gated["checks"] if not c["passed"]]
    assert [c["name"] for c in failed] == ["roc_auc >= champion + 0.01"]
    assert "roc_auc < 0.75" in rec.steps[0]["reason"]
    assert shipyard.get_model_version("churn@champion").version == 1  # unchanged
    challenger = shipyard.get_model_version("churn/2")
    assert challenger.tags["shipyard.retrain.outcome"] == "refused"
    assert "gated" in challenger.tags["shipyard.retrain.reasons"]
    assert shipyard.list_retrainings("churn") == [rec]
    assert shipyard.list_deployments() == []  # no canary for a refused challenger
    shown = runner.invoke(app, ["monitor", "retrainings"], env={"COLUMNS": "200"})
    assert "refused" in shown.output and "gated: gate #" in shown.output
    # the same alert again within its cool-down is suppressed and retrains nothing
    again = shipyard.run_monitor(monitor)
    assert [a.state for a in again.alerts] == ["suppressed"] and again.retraining is None


def test_a_better_challenger_is_promoted_after_a_canary(
    churn_model: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = _setup(tmp_path, monkeypatch, worse=False)
    outcome = shipyard.run_monitor(monitor)
    rec = outcome.retraining
    assert rec is not None and rec.outcome == "promoted", rec.steps
    assert [s["step"] for s in rec.steps] == [
        "triggered", "fresh data", "trained", "gated", "canary", "promoted",
    ]  # fmt: skip
    assert shipyard.get_model_version("churn@champion").version == 2
    (canary,) = shipyard.list_deployments()
    assert canary.policy.kind == "canary" and canary.policy.challenger == "churn/2"
    assert rec.steps[1]["rows"] == 400
    assert shipyard.get_model_version("churn/2").tags["shipyard.retrain.outcome"] == "promoted"


def test_a_challenger_whose_code_raises_is_recorded_as_failed(
    churn_model: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = _setup(tmp_path, monkeypatch, worse=False)
    broken = PIPELINE.replace("train_churn", "register_broken").replace(
        "        with: {{worse: {worse}}}\n", ""
    )
    (tmp_path / "shipyard.yaml").write_text(broken)
    shipyard.configure()
    outcome = shipyard.run_monitor(monitor)
    rec = outcome.retraining
    assert rec is not None and rec.outcome == "failed", rec.steps
    reasons = " ".join(str(s) for s in rec.steps)
    assert "divides by zero" in reasons
    assert shipyard.get_model_version("churn@champion").version == 1  # unchanged
    assert shipyard.list_retrainings("churn") == [rec]


def test_the_gate_data_is_the_window_as_of_the_check_that_triggered_it(
    churn_model: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from shipyard.monitoring.retrain import retrain
    from shipyard.tracking.fluent import services

    monitor = _setup(tmp_path, monkeypatch, worse=False)
    before = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # before any prediction was logged
    early = retrain(monitor, services(), trigger="test", now=before)
    assert early.outcome == "failed" and "no labelled predictions" in str(early.steps)
    current = retrain(monitor, services(), trigger="test")
    assert current.outcome == "promoted" and current.steps[1]["rows"] == 400


def test_retrain_policy_errors(churn_model: ModelVersion) -> None:
    with pytest.raises(InvalidArgument, match="retrain: needs pipeline"):
        Monitor.from_dict("m", {"model": "churn", "retrain": {"gate": {}}})
    with pytest.raises(InvalidArgument, match="canary must be a share"):
        Monitor.from_dict("m", {"model": "churn", "retrain": {"pipeline": "p", "canary": 2}})
    with pytest.raises(InvalidArgument, match="unknown metric"):
        Monitor.from_dict("m", {"model": "churn", "retrain": {"pipeline": "p", "on": ["x > 1"]}})
    plain = Monitor.from_dict("m", {"model": "churn"})
    with pytest.raises(InvalidArgument, match="has no retrain"):
        retrain_model(plain)
    broken = Monitor.from_dict("m", {"model": "churn@champion", "retrain": {"pipeline": "nope"}})
    rec = retrain_model(broken, reason="manual")
    missing = runner.invoke(app, ["monitor", "retrain", "nope"])
    assert missing.exit_code == 1 and "no monitor 'nope'" in missing.output
    assert rec.outcome == "failed" and rec.steps[-1]["step"] == "failed"
    assert shipyard.get_model_version("churn@champion").version == 1


def test_new_labels_trigger_a_retraining_once(
    churn_model: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _setup(tmp_path, monkeypatch, worse=True)
    monitor = Monitor.from_dict(
        "churn-labels",
        {
            "model": "churn@champion",
            "window": {"rows": 400},
            "target": "churn",
            "retrain": {"pipeline": "churn-train", "on": "new_labels", "min_new_labels": 300,
                        "gate": {"metrics": ["roc_auc >= champion + 0.01"]}},
        },
    )  # fmt: skip
    assert base.alerts.rules and not monitor.alerts.rules  # no rule: only labels trigger it
    first = shipyard.run_monitor(monitor)
    rec = first.retraining
    assert rec is not None and rec.trigger.startswith("new data: 400 labels")
    assert rec.outcome == "refused"
    second = shipyard.run_monitor(monitor)  # no label arrived since: nothing to retrain on
    assert second.retraining is None
