"""SqlPipelineRuns on SQLite and PostgreSQL: runs, step updates, cache lookups, prefixes."""

from __future__ import annotations

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
