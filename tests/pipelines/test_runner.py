"""run_pipeline on the local process pool: caching, failures, retries, timeouts, resume."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import shipyard
from shipyard.errors import InvalidArgument
from shipyard.pipelines import (
    Pipeline,
    PipelineFailed,
    StepDef,
    StepStatus,
    get_pipeline_run,
    list_pipeline_runs,
    run_pipeline,
)
from tests.pipelines import steplib

LIB = "tests.pipelines.steplib"


def _numbers_pipeline(scale: float = 2.0) -> Pipeline:
    return Pipeline(
        "nums", [steplib.make_numbers, steplib.total.using(scale=scale), steplib.report]
    )


def test_runs_records_and_caches_with_reasons() -> None:
    first = run_pipeline(_numbers_pipeline())
    assert first.ok and first.output("report.report") == "total=20.0"
    assert [s.reason for s in first.run.steps] == ["first run"] * 3
    again = run_pipeline(_numbers_pipeline())
    assert again.run.cached == ["make_numbers", "total", "report"]
    assert again.output("report.report") == "total=20.0"
    changed = run_pipeline(_numbers_pipeline(scale=3.0))
    states = {s.step: s for s in changed.run.steps}
    assert states["make_numbers"].status == StepStatus.CACHED
    assert states["total"].reason == "params changed"
    assert states["report"].reason == "inputs changed"
    assert changed.output("report.report") == "total=30.0"
    forced = run_pipeline(_numbers_pipeline(scale=3.0), no_cache=True)
    assert forced.run.executed == ["make_numbers", "total", "report"]
    assert {s.reason for s in forced.run.steps} == {"--no-cache"}


def test_each_step_is_a_nested_tracked_run() -> None:
    result = run_pipeline(_numbers_pipeline())
    run_pipeline(_numbers_pipeline())
    parent = shipyard.get_run(result.run.run_id or "")
    assert parent.tags["shipyard.pipeline"] == "nums" and parent.status == "FINISHED"
    step = shipyard.get_run(result.run.step("total").run_id or "")
    assert step.parent_run_id == parent.run_id
    assert step.tags["shipyard.pipeline.step"] == "total"
    assert step.tags["shipyard.pipeline.cached"] == "false"
    assert step.tags["shipyard.pipeline.attempt"] == "1"
    assert step.params["scale"] == "2.0" and step.metrics["total"] == 20.0
    runs = shipyard.search_runs("nums")
    cached = runs[runs["tags.shipyard.pipeline.cached"] == "true"]
    assert len(cached) == 3 and set(cached["status"]) == {"FINISHED"}


def test_failure_skips_downstream_and_reports(tmp_path: Path) -> None:
    pipe = Pipeline(
        "fails",
        [
            steplib.make_numbers,
            StepDef("bad", call=f"{LIB}:boom", inputs={"numbers": "numbers"}),
            StepDef("after_bad", call=f"{LIB}:add", inputs={"a": "bad.result"}),
            StepDef("side", call=f"{LIB}:add", params={"a": 1}),
        ],
    )
    result = run_pipeline(pipe)
    assert not result.ok
    states = {s.step: s.status for s in result.run.steps}
    assert states == {
        "make_numbers": StepStatus.SUCCEEDED,
        "bad": StepStatus.FAILED,
        "after_bad": StepStatus.SKIPPED,
        "side": StepStatus.SUCCEEDED,  # an independent branch still finishes
    }
    failure = result.run.failure
    assert failure is not None and failure.step == "bad" and failure.error_type == "ValueError"
    assert "boom: bad numbers" in failure.message and "steplib.py" in failure.traceback
    stored = get_pipeline_run(result.run.id[:8])
    assert stored.failure == failure and stored.step("after_bad").reason.startswith("upstream")
    assert shipyard.get_run(stored.step("bad").run_id or "").status == "FAILED"
    with pytest.raises(PipelineFailed, match="step 'bad' failed after 1 attempt"):
        run_pipeline(pipe, raise_on_failure=True)


def test_retries_with_backoff_then_success(tmp_path: Path) -> None:
    marker = str(tmp_path / "count")
    pipe = Pipeline(
        "retry",
        [
            StepDef(
                "flaky",
                call=f"{LIB}:flaky",
                params={"marker": marker, "fail_times": 2},
                retries=2,
                retry_backoff_s=0.2,
            )
        ],
    )
    started = time.monotonic()
    result = run_pipeline(pipe)
    assert result.ok and time.monotonic() - started >= 0.2 + 0.4  # backoff 0.2 then 0.4
    state = result.run.step("flaky")
    assert state.attempts == 3 and state.status == StepStatus.SUCCEEDED
    runs = shipyard.search_runs("retry")
    attempts = runs[runs["tags.shipyard.pipeline.step"] == "flaky"]
    assert sorted(attempts["tags.shipyard.pipeline.attempt"]) == ["1", "2", "3"]
    assert sorted(attempts["status"]) == ["FAILED", "FAILED", "FINISHED"]


def test_timeout_fails_the_step_clearly() -> None:
    pipe = Pipeline(
        "slow", [StepDef("nap", call=f"{LIB}:sleepy", params={"seconds": 30}, timeout_s=1)]
    )
    started = time.monotonic()
    result = run_pipeline(pipe)
    assert time.monotonic() - started < 15
    failure = result.run.failure
    assert failure is not None and failure.error_type == "StepTimeout"
    assert "timeout of 1s" in failure.message


def test_killed_worker_is_retried_in_a_fresh_process(tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    pipe = Pipeline("kill", [StepDef("k", call=f"{LIB}:die_once", params={"marker": marker})])
    result = run_pipeline(pipe, executor="local:1")
    assert result.ok and result.output("k.result") == "survived"
    assert result.run.step("k").attempts == 2  # one attempt more than its (zero) retries
    always = Pipeline("kill2", [StepDef("k", call=f"{LIB}:die_always", retries=1)])
    failed = run_pipeline(always, executor="local:1")
    failure = failed.run.failure
    assert failure is not None and failure.error_type == "WorkerLost" and failure.attempts == 3


def test_resume_continues_from_the_failed_step(tmp_path: Path) -> None:
    marker = str(tmp_path / "count")
    pipe = Pipeline(
        "resumable",
        [
            steplib.make_numbers,
            StepDef("gate", call=f"{LIB}:flaky", params={"marker": marker, "fail_times": 1}),
            StepDef(
                "end", call=f"{LIB}:add", params={"a": 1}, inputs={"b": "numbers"}, after=("gate",)
            ),
        ],
    )
    failed = run_pipeline(pipe, no_cache=True)
    assert not failed.ok and failed.run.step("end").status == StepStatus.SKIPPED
    with pytest.raises(InvalidArgument, match="do not combine"):
        run_pipeline(pipe, resume=True, steps=["end"])
    resumed = run_pipeline(pipe, resume=True, no_cache=True)
    states = {s.step: s.status for s in resumed.run.steps}
    assert states["make_numbers"] == StepStatus.REUSED
    assert states["gate"] == StepStatus.SUCCEEDED and resumed.run.resumed_from == failed.run.id
    assert states["end"] == StepStatus.FAILED  # add(1, [0..4]) is a TypeError: shows reuse ran
    with pytest.raises(InvalidArgument, match="nothing to resume"):
        run_pipeline(_numbers_pipeline(), resume=True)


def test_step_and_from_selection() -> None:
    pipe = _numbers_pipeline()
    with pytest.raises(InvalidArgument, match="has never run"):
        run_pipeline(pipe, steps=["report"])
    assert list_pipeline_runs("nums") == []  # nothing recorded
    run_pipeline(pipe)
    only = run_pipeline(pipe, steps=["report"], no_cache=True)
    assert [(s.step, s.status) for s in only.run.steps] == [  # only what report reads
        ("total", StepStatus.REUSED),
        ("report", StepStatus.SUCCEEDED),
    ]
    below = run_pipeline(pipe, from_step="total", no_cache=True)
    assert below.run.executed == ["total", "report"]
    with pytest.raises(InvalidArgument, match="has no step 'nope'"):
        run_pipeline(pipe, steps=["nope"])


def test_bad_executor_url_before_anything_is_recorded() -> None:
    with pytest.raises(InvalidArgument, match="is not one of: local"):
        run_pipeline(_numbers_pipeline(), executor="spark://x")
    with pytest.raises(InvalidArgument, match="local:N"):
        run_pipeline(_numbers_pipeline(), executor="local:zero")
    assert list_pipeline_runs() == []


_LOST_DRIVER = """
from shipyard.pipelines import run_pipeline
from tests.pipelines.test_runner import _holding_pipeline
run_pipeline(_holding_pipeline(60.0), executor="local:1")
"""


def _holding_pipeline(hold_s: float) -> Pipeline:
    return Pipeline(
        "lost",
        [
            steplib.make_numbers,
            StepDef(
                "hold", call=f"{LIB}:sleepy", params={"seconds": hold_s}, after=("make_numbers",)
            ),
            StepDef("after", call=f"{LIB}:sleepy", params={"seconds": 0.0}, after=("hold",)),
        ],
    )


@pytest.mark.slow
def test_a_driver_killed_with_kill_9_leaves_a_failed_run_that_resumes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A live driver heartbeats its run (it stays RUNNING past the stale limit); once the
    driver is killed, reading the run marks it FAILED (DriverLost), and --resume continues."""
    import os
    import signal
    import subprocess
    import sys

    monkeypatch.setenv("SHIPYARD_HEARTBEAT_INTERVAL_S", "0.2")
    monkeypatch.setenv("SHIPYARD_STALE_AFTER_S", "1.5")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    driver = subprocess.Popen(
        [sys.executable, "-c", _LOST_DRIVER], cwd=root, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = list_pipeline_runs("lost")
            if runs and runs[0].step("hold").status == StepStatus.RUNNING:
                break
            assert driver.poll() is None, driver.communicate()[0].decode()
            time.sleep(0.1)
        else:
            raise AssertionError("the driver never started the hold step")
        run_id = runs[0].id
        time.sleep(2.5)  # past the stale limit: only the driver's heartbeats keep it alive
        assert get_pipeline_run(run_id).status == "RUNNING"
    finally:
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and its pool's workers
        driver.communicate(timeout=30)
    time.sleep(2.0)
    lost = get_pipeline_run(run_id)
    assert lost.status == "FAILED" and lost.failure is not None
    assert lost.failure.error_type == "DriverLost" and "--resume" in lost.failure.message
    statuses = {s.step: s.status for s in lost.steps}
    assert statuses == {"make_numbers": "SUCCEEDED", "hold": "FAILED", "after": "SKIPPED"}
    assert lost.run_id is not None
    assert shipyard.get_run(lost.run_id).status == "KILLED"
    resumed = run_pipeline(_holding_pipeline(0.0), resume=True, executor="local:1")
    assert resumed.ok and resumed.run.resumed_from == run_id
    assert resumed.run.step("make_numbers").status == StepStatus.REUSED
