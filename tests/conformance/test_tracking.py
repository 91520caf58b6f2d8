"""The tracking service contract: every implementation (SQLite, PostgreSQL, HTTP) passes it."""

from __future__ import annotations

import math
import uuid

import pytest

from shipyard.client import Services
from shipyard.errors import (
    AlreadyExists,
    Conflict,
    FilterSyntaxError,
    InvalidArgument,
    NotFound,
)
from shipyard.tracking.entities import DatasetInput, Metric, RunStatus


def _name(prefix: str = "exp") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_experiment_lifecycle(services: Services) -> None:
    t = services.tracking
    name = _name()
    exp = t.create_experiment(name, tags={"team": "ml"})
    assert exp.name == name and exp.tags == {"team": "ml"} and not exp.deleted
    assert t.get_experiment(name).experiment_id == exp.experiment_id
    assert t.get_experiment(exp.experiment_id).name == name
    with pytest.raises(AlreadyExists):
        t.create_experiment(name)

    renamed = t.rename_experiment(exp.experiment_id, name + "-v2")
    assert renamed.name == name + "-v2"
    with pytest.raises(NotFound):
        t.get_experiment(name)

    t.delete_experiment(exp.experiment_id)
    assert exp.experiment_id not in {e.experiment_id for e in t.list_experiments()}
    assert exp.experiment_id in {e.experiment_id for e in t.list_experiments(deleted=True)}
    with pytest.raises(Conflict):
        t.create_run(exp.experiment_id)
    t.restore_experiment(exp.experiment_id)
    assert exp.experiment_id in {e.experiment_id for e in t.list_experiments()}


def test_unknown_things_are_not_found(services: Services) -> None:
    t = services.tracking
    with pytest.raises(NotFound):
        t.get_experiment(_name())
    with pytest.raises(NotFound):
        t.get_run("0" * 32)
    with pytest.raises(NotFound):
        t.log_batch("0" * 32, params={"a": "1"})
    with pytest.raises(NotFound):
        t.create_run(987654)


def test_run_logging_round_trip(services: Services) -> None:
    t = services.tracking
    exp = t.create_experiment(_name())
    run = t.create_run(exp.experiment_id, name="r1", tags={"k": "v"})
    assert run.status is RunStatus.RUNNING and run.name == "r1"
    t.log_batch(
        run.run_id,
        metrics=[Metric("loss", 1.0 / (i + 1), i, 1000 + i) for i in range(50)],
        params={"lr": "0.1", "model": "rf"},
        tags={"k": "v2", "stage": "dev"},
    )
    t.log_batch(run.run_id, params={"lr": "0.1"})  # same value again: fine
    t.end_run(run.run_id, RunStatus.FINISHED)
    got = t.get_run(run.run_id)
    assert got.status is RunStatus.FINISHED and got.end_time is not None
    assert got.params == {"lr": "0.1", "model": "rf"}
    assert got.tags["k"] == "v2" and got.tags["stage"] == "dev"
    assert got.metrics["loss"] == pytest.approx(1 / 50)
    history = t.get_metric_history(run.run_id, "loss")
    assert [m.step for m in history] == list(range(50))
    assert history[3].value == pytest.approx(0.25) and history[3].timestamp == 1003


def test_latest_metric_is_the_largest_step(services: Services) -> None:
    t = services.tracking
    run = t.create_run(t.create_experiment(_name()).experiment_id)
    t.log_batch(run.run_id, metrics=[Metric("acc", 0.9, 10, 5)])
    t.log_batch(run.run_id, metrics=[Metric("acc", 0.1, 2, 9)])  # older step logged later
    assert t.get_run(run.run_id).metrics["acc"] == pytest.approx(0.9)


def test_param_cannot_change_and_nothing_is_half_stored(services: Services) -> None:
    t = services.tracking
    run = t.create_run(t.create_experiment(_name()).experiment_id)
    t.log_batch(run.run_id, params={"lr": "0.1"})
    with pytest.raises(Conflict, match="lr"):
        t.log_batch(
            run.run_id, params={"lr": "0.2"}, metrics=[Metric("m", 1.0, 0, 1)], tags={"x": "y"}
        )
    got = t.get_run(run.run_id)
    assert got.params == {"lr": "0.1"} and "m" not in got.metrics and "x" not in got.tags


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"params": {"bad key!": "1"}}, "param key"),
        ({"params": {"p": "x" * 6001}}, "6000"),
        ({"tags": {"t": "x" * 8001}}, "8000"),
        ({"metrics": [Metric("", 1.0, 0, 0)]}, "metric key"),
        ({"metrics": [Metric("m" * 251, 1.0, 0, 0)]}, "max 250"),
    ],
)
def test_bad_values_are_rejected(services: Services, kwargs: dict, match: str) -> None:
    t = services.tracking
    run = t.create_run(t.create_experiment(_name()).experiment_id)
    with pytest.raises(InvalidArgument, match=match):
        t.log_batch(run.run_id, **kwargs)
    got = t.get_run(run.run_id)
    assert not got.params and not got.metrics


def test_nan_and_infinity(services: Services) -> None:
    t = services.tracking
    exp = t.create_experiment(_name())
    run = t.create_run(exp.experiment_id)
    t.log_batch(
        run.run_id,
        metrics=[
            Metric("nan", math.nan, 0, 1),
            Metric("inf", math.inf, 0, 1),
            Metric("ninf", -math.inf, 0, 1),
        ],
    )
    got = t.get_run(run.run_id)
    assert math.isnan(got.metrics["nan"])
    assert got.metrics["inf"] == math.inf and got.metrics["ninf"] == -math.inf
    assert math.isnan(t.get_metric_history(run.run_id, "nan")[0].value)
    # NaN never matches a comparison; infinity compares as a number
    assert t.search_runs([exp.experiment_id], filter="metrics.nan > 0").runs == []
    assert len(t.search_runs([exp.experiment_id], filter="metrics.inf > 1e300").runs) == 1


def test_run_delete_restore_and_nested(services: Services) -> None:
    t = services.tracking
    exp = t.create_experiment(_name())
    parent = t.create_run(exp.experiment_id, name="parent")
    child = t.create_run(exp.experiment_id, name="child", parent_run_id=parent.run_id)
    assert t.get_run(child.run_id).parent_run_id == parent.run_id
    with pytest.raises(NotFound):
        t.create_run(exp.experiment_id, parent_run_id="f" * 32)
    t.delete_run(child.run_id)
    ids = {r.run_id for r in t.search_runs([exp.experiment_id]).runs}
    assert ids == {parent.run_id}
    deleted = {r.run_id for r in t.search_runs([exp.experiment_id], deleted=True).runs}
    assert deleted == {child.run_id}
    with pytest.raises(Conflict):
        t.log_batch(child.run_id, params={"a": "1"})
    t.restore_run(child.run_id)
    assert len(t.search_runs([exp.experiment_id]).runs) == 2


def test_inputs_lineage(services: Services) -> None:
    t = services.tracking
    run = t.create_run(t.create_experiment(_name()).experiment_id)
    ds = DatasetInput(
        name="wa_churn",
        digest="ab" * 32,
        source="/data/churn.csv",
        context="training",
        num_rows=7043,
        schema={"tenure": "int64"},
    )
    t.log_inputs(run.run_id, [ds])
    t.log_inputs(run.run_id, [ds])  # idempotent
    (got,) = t.get_run(run.run_id).inputs
    assert (
        got.name == "wa_churn"
        and got.num_rows == 7043
        and dict(got.schema or {}) == {"tenure": "int64"}
    )


def _populate(services: Services) -> tuple[int, dict[str, str]]:
    t = services.tracking
    exp = t.create_experiment(_name())
    ids = {}
    for i, (model, auc, lr) in enumerate(
        [("rf", 0.91, "0.1"), ("rf", 0.75, "0.01"), ("gbm", 0.88, "0.1"), ("lr", 0.60, "abc")]
    ):
        run = t.create_run(exp.experiment_id, name=f"run{i}", start_time=1000 + i)
        t.log_batch(
            run.run_id,
            metrics=[Metric("auc", auc, 0, 1)],
            params={"model": model, "lr": lr},
            tags={"team": "a" if i % 2 else "b"},
        )
        ids[f"run{i}"] = run.run_id
    return exp.experiment_id, ids


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("", {"run0", "run1", "run2", "run3"}),
        ("metrics.auc > 0.8", {"run0", "run2"}),
        ("metrics.auc > 0.8 and params.model = 'rf'", {"run0"}),
        ("params.model = 'lr' OR metrics.auc >= 0.91", {"run0", "run3"}),
        ("params.model IN ('gbm', 'lr')", {"run2", "run3"}),
        ("params.model LIKE 'r%'", {"run0", "run1"}),
        ("tags.team = 'a'", {"run1", "run3"}),
        ("params.lr > 0.05", {"run0", "run2"}),
        ("metrics.missing > 0", set()),
        ("attributes.name = 'run2'", {"run2"}),
    ],
)
def test_search_filters(services: Services, flt: str, expected: set[str]) -> None:
    exp_id, ids = _populate(services)
    runs = services.tracking.search_runs([exp_id], filter=flt).runs
    names = {name for name, rid in ids.items() if rid in {r.run_id for r in runs}}
    assert names == expected


def test_search_order_and_paging(services: Services) -> None:
    exp_id, _ = _populate(services)
    t = services.tracking
    runs = t.search_runs([exp_id], order_by=["metrics.auc DESC"]).runs
    assert [r.name for r in runs] == ["run0", "run2", "run1", "run3"]
    page1 = t.search_runs([exp_id], order_by=["metrics.auc ASC"], max_results=3)
    assert [r.name for r in page1.runs] == ["run3", "run1", "run2"]
    assert page1.next_page_token
    page2 = t.search_runs(
        [exp_id], order_by=["metrics.auc ASC"], max_results=3, page_token=page1.next_page_token
    )
    assert [r.name for r in page2.runs] == ["run0"] and page2.next_page_token is None
    newest_first = t.search_runs([exp_id]).runs
    assert [r.name for r in newest_first] == ["run3", "run2", "run1", "run0"]


def test_search_syntax_error_points_at_position(services: Services) -> None:
    exp_id, _ = _populate(services)
    with pytest.raises(FilterSyntaxError) as info:
        services.tracking.search_runs([exp_id], filter="metrics.auc >> 0.8")
    assert "position" in str(info.value)
    with pytest.raises(InvalidArgument):
        services.tracking.search_runs([exp_id], order_by=["metrics.auc SIDEWAYS"])
    with pytest.raises(InvalidArgument):
        services.tracking.search_runs([exp_id], max_results=0)


def test_stale_run_is_shown_killed(services: Services) -> None:
    t = services.tracking
    exp = t.create_experiment(_name())
    run = t.create_run(exp.experiment_id, start_time=1)  # heartbeat at epoch+1ms: long silent
    assert t.get_run(run.run_id).status is RunStatus.KILLED
    live = t.create_run(exp.experiment_id)
    t.heartbeat(live.run_id)
    assert t.get_run(live.run_id).status is RunStatus.RUNNING
