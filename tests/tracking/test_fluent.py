"""The tracking SDK as users call it: ``shipyard.start_run`` and friends, on a real SQLite store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import shipyard
from shipyard.errors import Conflict, InvalidArgument, NotFound
from shipyard.tracking.entities import RunStatus


def test_run_context_manager_records_everything(tmp_path: Path) -> None:
    with shipyard.start_run(experiment="churn", name="rf", tags={"team": "growth"}) as run:
        shipyard.log_param("n_estimators", 200)
        shipyard.log_params({"max_depth": None, "model": "rf"})
        for step in range(10):
            shipyard.log_metric("loss", 1 / (step + 1), step=step)
        shipyard.log_metrics({"auc": 0.84, "f1": 0.61})
        shipyard.set_tag("stage", "dev")
        shipyard.log_dict({"threshold": 0.5}, "config/threshold.json")
        shipyard.log_text("hello", "notes.txt")
        f = tmp_path / "report.csv"
        f.write_text("a,b\n1,2\n")
        shipyard.log_artifact(f, "reports")
    got = shipyard.get_run(run.run_id)
    assert got.status is RunStatus.FINISHED and got.end_time is not None
    assert got.params == {"n_estimators": "200", "max_depth": "None", "model": "rf"}
    assert got.metrics["auc"] == 0.84 and got.metrics["loss"] == pytest.approx(0.1)
    assert got.tags["team"] == "growth" and got.tags["stage"] == "dev"
    assert len(shipyard.get_metric_history(run.run_id, "loss")) == 10
    files = {a.path for a in shipyard.list_artifacts(run.run_id, recursive=True)}
    assert files == {"config/threshold.json", "notes.txt", "reports/report.csv"}
    out = shipyard.download_artifacts(run.run_id, "config", tmp_path / "dl")
    assert json.loads((out / "threshold.json").read_text()) == {"threshold": 0.5}


def test_system_tags_are_recorded_without_being_asked() -> None:
    with shipyard.start_run() as run:
        pass
    tags = shipyard.get_run(run.run_id).tags
    for key in (
        "shipyard.source.command",
        "shipyard.python.version",
        "shipyard.packages",
        "shipyard.host",
    ):
        assert tags[key]
    assert "scikit-learn" in json.loads(tags["shipyard.packages"])
    # this test runs inside the project's git checkout
    assert len(tags["shipyard.git.commit"]) == 40
    assert tags["shipyard.git.dirty"] in ("true", "false")
    got = shipyard.get_run(run.run_id)
    assert got.user and got.start_time <= (got.end_time or 0)
    assert shipyard.get_experiment(got.experiment_id).name == "Default"


def test_failed_and_killed_status() -> None:
    with pytest.raises(ZeroDivisionError), shipyard.start_run() as failed:
        _ = 1 / 0
    assert shipyard.get_run(failed.run_id).status is RunStatus.FAILED
    with pytest.raises(KeyboardInterrupt), shipyard.start_run() as killed:
        raise KeyboardInterrupt
    assert shipyard.get_run(killed.run_id).status is RunStatus.KILLED
    assert shipyard.active_run() is None


def test_nested_runs() -> None:
    with shipyard.start_run(experiment="e", name="parent") as parent:
        with pytest.raises(Conflict, match="nested=True"):
            shipyard.start_run()
        with shipyard.start_run(name="child", nested=True) as child:
            shipyard.log_metric("m", 1.0)
            assert shipyard.active_run() is child
        assert shipyard.active_run() is parent
    got = shipyard.get_run(child.run_id)
    assert got.parent_run_id == parent.run_id and got.experiment_id == parent.experiment_id


def test_no_active_run_and_bad_values() -> None:
    with pytest.raises(InvalidArgument, match="no active run"):
        shipyard.log_metric("m", 1.0)
    with shipyard.start_run():
        with pytest.raises(InvalidArgument, match="not a number"):
            shipyard.log_metric("m", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="metric key"):
            shipyard.log_metric("bad key!", 1.0)
        with pytest.raises(InvalidArgument, match="step"):
            shipyard.log_metric("m", 1.0, step=1.5)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            shipyard.log_artifact("/does/not/exist.txt")
        with pytest.raises(InvalidArgument):
            shipyard.log_figure("not a figure", "x.png")
        shipyard.log_param("lr", 0.1)
        with pytest.raises(Conflict):
            shipyard.log_param("lr", 0.2)
    with pytest.raises(NotFound):
        shipyard.get_run("0" * 32)


def test_nan_metric_round_trip() -> None:
    with shipyard.start_run() as run:
        shipyard.log_metric("loss", math.nan)
        shipyard.log_metric("ratio", math.inf)
    got = shipyard.get_run(run.run_id)
    assert math.isnan(got.metrics["loss"]) and got.metrics["ratio"] == math.inf


def test_metrics_are_flushed_in_the_background() -> None:
    from shipyard.tracking import fluent

    with shipyard.start_run() as run:
        shipyard.log_metric("m", 1.0)
        buffer = fluent._state.get_buffer()
        # no explicit flush: the background thread stores it within the flush interval
        import time

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if fluent.services().tracking.get_run(run.run_id).metrics:
                break
            time.sleep(0.02)
        assert fluent.services().tracking.get_run(run.run_id).metrics == {"m": 1.0}
        assert buffer.last_error is None


def test_log_figure_and_input() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    with shipyard.start_run() as run:
        shipyard.log_figure(fig, "plots/curve.png")
        info = shipyard.log_input(df, name="toy")
    plt.close(fig)
    (png,) = shipyard.list_artifacts(run.run_id, "plots")
    assert png.path == "plots/curve.png" and (png.size or 0) > 100
    (inp,) = shipyard.get_run(run.run_id).inputs
    assert inp.name == "toy" and inp.num_rows == 3 and inp.digest == info.digest
    assert dict(inp.schema or {}) == {"a": "int64", "b": str(df.dtypes["b"])}
    # the same content gives the same digest; other content another
    from shipyard.tracking.lineage import frame_digest

    assert frame_digest(df.copy()) == info.digest
    assert frame_digest(df.assign(a=[1, 2, 4])) != info.digest


def test_search_runs_returns_a_dataframe() -> None:
    for i, auc in enumerate([0.9, 0.7, 0.8]):
        with shipyard.start_run(experiment="s", name=f"r{i}"):
            shipyard.log_params({"model": "rf" if i != 1 else "lr"})
            shipyard.log_metric("auc", auc)
    df = shipyard.search_runs("s", "metrics.auc > 0.75", order_by=["metrics.auc DESC"])
    assert list(df["name"]) == ["r0", "r2"]
    assert {
        "run_id",
        "status",
        "start_time",
        "metrics.auc",
        "params.model",
        "tags.shipyard.host",
    } <= set(df.columns)
    assert df["metrics.auc"].dtype == "float64"
    assert str(df["start_time"].dtype).startswith("datetime64")
    assert df.attrs["next_page_token"] is None
    page = shipyard.search_runs("s", max_results=2)
    assert len(page) == 2 and page.attrs["next_page_token"]
    assert shipyard.search_runs("s", "metrics.auc > 5").empty
    with pytest.raises(NotFound):
        shipyard.search_runs("no-such-experiment")


def test_delete_and_restore_run() -> None:
    with shipyard.start_run(experiment="d") as run:
        pass
    shipyard.delete_run(run.run_id)
    assert shipyard.search_runs("d").empty
    shipyard.restore_run(run.run_id)
    assert len(shipyard.search_runs("d")) == 1


def test_experiment_management_through_the_sdk() -> None:
    exp = shipyard.create_experiment("sdk-exp", tags={"team": "a"})
    assert shipyard.get_experiment("sdk-exp").tags == {"team": "a"}
    shipyard.rename_experiment("sdk-exp", "sdk-exp-2")
    with shipyard.start_run(experiment="sdk-exp-2") as run:
        pass
    assert shipyard.get_run(run.run_id).experiment_id == exp.experiment_id
    shipyard.delete_experiment("sdk-exp-2")
    assert "sdk-exp-2" not in {e.name for e in shipyard.list_experiments()}
    with pytest.raises(Conflict, match="deleted"):
        shipyard.start_run(experiment="sdk-exp-2")
    shipyard.restore_experiment(exp.experiment_id)
    assert "sdk-exp-2" in {e.name for e in shipyard.list_experiments()}


def test_params_and_tags_are_batched_and_conflicts_surface() -> None:
    from shipyard.tracking import fluent

    with shipyard.start_run() as run:
        shipyard.log_params({"lr": 0.1})
        shipyard.set_tag("stage", "dev")
        shipyard.log_metric("m", 1.0)
        assert shipyard.get_run(run.run_id).params == {"lr": "0.1"}  # reading flushes first
    with pytest.raises(Conflict, match="'lr'"), shipyard.start_run() as other:
        shipyard.log_metric("loss", 0.5)
        shipyard.log_param("lr", 0.1)
        # another process logs the same param with another value before this one flushes
        fluent.services().tracking.log_batch(other.run_id, params={"lr": "0.9"})
    got = shipyard.get_run(other.run_id)
    assert got.params == {"lr": "0.9"}  # the first writer wins; nothing half-stored
    assert got.metrics == {"loss": 0.5}  # the points are kept all the same
    assert got.status is RunStatus.FINISHED
    assert shipyard.active_run() is None


def test_bad_params_fail_at_the_call() -> None:
    with shipyard.start_run():
        with pytest.raises(InvalidArgument, match="6000"):
            shipyard.log_param("p", "x" * 6001)
        with pytest.raises(InvalidArgument, match="tag key"):
            shipyard.set_tag("bad key!", "v")
