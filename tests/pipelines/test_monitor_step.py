"""The ``monitor`` built-in: a pipeline step that runs a monitor from shipyard.yaml on the
executor, is never cached, and with ``fail_on_alert`` stops the steps after it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shipyard.pipelines import Pipeline, StepDef, run_pipeline
from tests.monitoring.conftest import churn_frame, churn_model_on, serve_predictions

LIB = "tests.pipelines.steplib"


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monitor = {
        "model": "churn@champion",
        "window": {"rows": 400},
        "target": "churn",
        "alerts": {"rules": ["drift_share > 0.3"]},
    }
    path = tmp_path / "shipyard.yaml"
    path.write_text(yaml.safe_dump({"monitors": {"churn-live": monitor}}))
    monkeypatch.setenv("SHIPYARD_CONFIG", str(path))
    import shipyard.tracking.fluent as fluent

    fluent._state.reset()  # the SDK reads the new config


def _pipeline(*, fail_on_alert: bool) -> Pipeline:
    return Pipeline(
        "watch",
        [
            StepDef(
                "watch",
                uses="monitor",
                params={"monitor": "churn-live", "fail_on_alert": fail_on_alert},
            ),
            StepDef(
                "after", call=f"{LIB}:make_table", outputs={"table": "dataset"}, after=("watch",)
            ),
        ],
    )


def test_a_monitor_step_runs_every_time_and_can_stop_the_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a worker started before the config existed still reads it: the driver passes its path
    warm = Pipeline("warm", [StepDef("t", call=f"{LIB}:make_table", outputs={"table": "dataset"})])
    assert run_pipeline(warm, executor="local:1").ok
    _config(tmp_path, monkeypatch)
    churn_model_on()
    serve_predictions(churn_frame(400, seed=4))
    first = run_pipeline(_pipeline(fail_on_alert=True), executor="local:1")
    assert first.ok, first.run.failure
    metrics = first.output("watch.metrics")
    assert metrics["rows"] == 400 and metrics["alerts"] == 0 and metrics["drift_share"] == 0.0

    serve_predictions(churn_frame(400, seed=3, shift=True))
    second = run_pipeline(_pipeline(fail_on_alert=True), executor="local:1")
    assert not second.ok
    states = {s.step: s.status for s in second.run.steps}
    assert states["watch"] == "FAILED" and states["after"] == "SKIPPED"
    watch = second.run.step("watch")
    assert watch.reason != "cached" and "cached" not in watch.reason  # it ran again
    assert second.run.failure is not None and "drift_share > 0.3" in str(second.run.failure)

    third = run_pipeline(_pipeline(fail_on_alert=False), executor="local:1")
    assert third.ok and third.output("watch.metrics")["alerts"] == 1


def test_a_monitor_step_names_an_unknown_monitor(tmp_path: Path) -> None:
    pipeline = Pipeline("watch", [StepDef("watch", uses="monitor", params={"monitor": "nope"})])
    result = run_pipeline(pipeline, executor="local:1")
    assert not result.ok and "nope" in str(result.run.failure)
