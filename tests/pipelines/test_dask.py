"""The same pipelines, tuning and batch prediction on a real local Dask cluster."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import shipyard
from shipyard.pipelines import (
    ExecutorUnavailable,
    Pipeline,
    StepDef,
    list_pipeline_runs,
    open_executor,
    run_pipeline,
)
from shipyard.pipelines.executors import Executor
from shipyard.serving.batch import predict_batch
from tests.pipelines import steplib

LIB = "tests.pipelines.steplib"


@pytest.fixture(scope="module")
def dask_pool() -> Iterator[Executor]:
    pool = open_executor("dask://local?workers=2")
    pool.start()
    yield pool
    pool.close()


def test_pipeline_runs_the_same_on_dask(dask_pool: Executor) -> None:
    pipe = Pipeline("nums", [steplib.make_numbers, steplib.total.using(scale=2), steplib.report])
    on_dask = run_pipeline(pipe, executor=dask_pool)
    assert on_dask.ok and on_dask.run.executor == "dask://local?workers=2"
    local = run_pipeline(pipe, executor="local:1", no_cache=True)
    assert on_dask.outputs == local.outputs
    step_run = shipyard.get_run(on_dask.run.step("total").run_id or "")
    assert step_run.parent_run_id == on_dask.run.run_id and step_run.metrics["total"] == 20.0


def test_a_worker_killed_mid_step_is_retried_elsewhere(dask_pool: Executor, tmp_path: Path) -> None:
    pipe = Pipeline(
        "kill", [StepDef("k", call=f"{LIB}:die_once", params={"marker": str(tmp_path / "m")})]
    )
    result = run_pipeline(pipe, executor=dask_pool)
    assert result.ok and result.output("k.result") == "survived"
    for _ in range(100):  # the nanny restarts the killed worker
        if len(dask_pool._client.scheduler_info()["workers"]) == 2:  # type: ignore[attr-defined]
            break
        time.sleep(0.1)


def test_an_unreachable_scheduler_fails_fast_and_records_nothing() -> None:
    pipe = Pipeline("nums", [steplib.make_numbers])
    started = time.monotonic()
    with pytest.raises(
        ExecutorUnavailable, match=r"cannot reach the Dask scheduler at dask://127\.0\.0\.1:9"
    ):
        run_pipeline(pipe, executor="dask://127.0.0.1:9")
    assert time.monotonic() - started < 15
    assert list_pipeline_runs() == []


def test_tune_stops_bad_trials_early_and_finds_the_best(dask_pool: Executor) -> None:
    qualities = [0.9, 0.8, 0.85, 0.95, 0.7, 0.1, 0.2, 0.05]
    tune = StepDef(
        "tune",
        uses="tune",
        inputs={"train": "make_numbers.numbers"},
        params={
            "call": f"{LIB}:curve_trial",
            "search": "grid",
            "space": {"quality": qualities},
            "metric": "score",
            "parallel": 2,
            "early_stopping": {"rule": "median", "min_trials": 3, "warmup_steps": 1},
        },
    )
    result = run_pipeline(Pipeline("sweep", [steplib.make_numbers, tune]), executor=dask_pool)
    assert result.ok, result.run.failure
    assert result.output("tune.best_params") == {"quality": 0.95}
    metrics = result.output("tune.metrics")
    assert metrics["best_score"] == 0.95 and metrics["trials_pruned"] == 3.0
    trials = shipyard.search_runs("sweep", "tags.shipyard.tune.trial != ''")
    assert len(trials) == len(qualities)
    tune_run = result.run.step("tune").run_id
    assert set(trials["parent_run_id"]) == {tune_run}
    pruned = trials[trials["tags.shipyard.tune.pruned"] == "true"]
    assert sorted(pruned["params.quality"].astype(float)) == [0.05, 0.1, 0.2]
    # a pruned trial stopped at step 1: two points of its curve, not five
    one = pruned.iloc[0]["run_id"]
    assert len(shipyard.get_metric_history(one, "score")) == 2


def test_batch_prediction_is_identical_on_local_and_dask(
    dask_pool: Executor, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = (X["a"] + X["b"] > 0).astype(int)
    shipyard.register_model("clf", model=LogisticRegression().fit(X, y), input_example=X)
    source = tmp_path / "in.parquet"
    X.assign(id=np.arange(3000)).to_parquet(source)
    outs = {}
    for name, executor in (("threads", None), ("local", "local:2"), ("dask", dask_pool)):
        out = tmp_path / f"{name}.parquet"
        result = predict_batch("clf/1", source, out, key="id", chunk_rows=700, executor=executor)
        assert result.rows == 3000 and result.chunks == 5
        outs[name] = pq.read_table(out).drop_columns(["prediction_id"])
    assert outs["local"].equals(outs["threads"]) and outs["dask"].equals(outs["threads"])


def test_a_timeout_on_dask_fails_the_step_without_waiting(dask_pool: Executor) -> None:
    pipe = Pipeline(
        "slow", [StepDef("nap", call=f"{LIB}:sleepy", params={"seconds": 20}, timeout_s=1)]
    )
    started = time.monotonic()
    result = run_pipeline(pipe, executor=dask_pool)
    assert time.monotonic() - started < 10
    failure = result.run.failure
    assert failure is not None and failure.error_type == "StepTimeout"
