"""SqlPipelineRuns on SQLite and PostgreSQL: runs, step updates, cache lookups, prefixes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest

from shipyard.errors import AlreadyExists, InvalidArgument, NotFound
from shipyard.pipelines.entities import (
    PipelineRun,
    RunState,
    StepFailure,
    StepState,
    StepStatus,
)
from shipyard.pipelines.sql import SqlPipelineRuns
from shipyard.store import Database
from shipyard.tracking.sql import SqlTracking


def _run(run_id: str, started: int, *steps: StepState) -> PipelineRun:
    return PipelineRun(
        id=run_id,
        pipeline="p",
        status=RunState.RUNNING,
        trigger="manual",
        executor="local",
        definition_hash="d" * 64,
        user="me",
        started_at=started,
        steps=steps,
    )


@pytest.fixture
def store(db_url: str) -> Iterator[SqlPipelineRuns]:
    db = Database(db_url)
    yield SqlPipelineRuns(db)
    db.dispose()


def test_store_roundtrip(store: SqlPipelineRuns) -> None:
    a = StepState("a", 0, StepStatus.PENDING)
    b = StepState("b", 1, StepStatus.PENDING)
    store.create_run(_run("a" * 32, 1000, a, b))
    with pytest.raises(AlreadyExists):
        store.create_run(_run("a" * 32, 1000, a, b))
    done = StepState(
        "a", 0, StepStatus.SUCCEEDED, reason="first run", attempts=1, cache_key="k1",
        code_hash="c", params_hash="p", inputs_hash="i", outputs={"x": [1, 2]},
        run_id="r" * 32, started_at=1001, ended_at=1002,
    )  # fmt: skip
    store.update_step("a" * 32, done)
    failure = StepFailure("b", "ValueError", "boom", "Traceback …", 2)
    store.update_step("a" * 32, StepState("b", 1, StepStatus.FAILED, failure=failure))
    with pytest.raises(NotFound):
        store.update_step("a" * 32, StepState("zz", 2, StepStatus.FAILED))
    finished = store.finish_run("a" * 32, RunState.FAILED, failure=failure)
    assert finished.status == RunState.FAILED and finished.failure == failure
    assert finished.step("a") == done and finished.step("b").failure == failure
    assert store.find_cached("p", "a", "k1") == done
    assert store.find_cached("p", "a", "other") is None and store.last_done("p", "b") is None
    store.create_run(_run("ab" + "0" * 30, 2000, StepState("a", 0, StepStatus.PENDING)))
    assert [r.id for r in store.list_runs(pipeline="p")] == ["ab" + "0" * 30, "a" * 32]
    assert store.list_runs(pipeline="q") == []
    assert store.get_run("aaaaaaaa").id == "a" * 32
    with pytest.raises(NotFound, match="matches several runs"):
        store.get_run("a")
    with pytest.raises(NotFound, match="matches no run"):
        store.get_run("bbbbbbbb")
    with pytest.raises(InvalidArgument):
        store.list_runs(limit=0)


def test_a_run_whose_driver_went_silent_is_settled_failed(db_url: str) -> None:
    db = Database(db_url)
    tracking = SqlTracking(db, stale_after_s=3600)  # never reaps on its own here
    store = SqlPipelineRuns(db, stale_after_s=0.2)
    exp = tracking.create_experiment("pipe").experiment_id
    steps = (
        StepState("a", 0, StepStatus.SUCCEEDED),
        StepState("b", 1, StepStatus.RUNNING),
        StepState("c", 2, StepStatus.PENDING),
    )
    silent, alive, ended = (tracking.create_run(exp).run_id for _ in range(3))
    for i, tracked in enumerate((silent, alive, ended)):
        run = dataclasses.replace(_run(f"{i}" * 32, 1000 + i, *steps), run_id=tracked)
        store.create_run(run)
    tracking.end_run(ended, "FINISHED")  # ended its tracked run, then died before finishing
    time.sleep(0.4)
    tracking.heartbeat(alive)
    runs = {r.id[0]: r for r in store.list_runs()}
    assert runs["1"].status == RunState.RUNNING and runs["1"].failure is None
    for lost in (runs["0"], runs["2"]):
        assert lost.status == RunState.FAILED and lost.ended_at is not None
        assert lost.failure is not None and lost.failure.error_type == "DriverLost"
        assert [s.status for s in lost.steps] == ["SUCCEEDED", "FAILED", "SKIPPED"]
        assert "stopped" in lost.step("b").reason
    assert store.get_run("1" * 32).status == RunState.RUNNING
    db.dispose()
