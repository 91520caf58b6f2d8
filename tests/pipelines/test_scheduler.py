"""The scheduler: slots claimed once in the database, catch-up runs the newest missed slot once,
new-data triggers, every trigger recorded; and a real scheduler process killed with kill -9 in
the middle of a run, then restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.client import Services
from shipyard.errors import ConfigError, InvalidArgument, NotFound
from shipyard.pipelines.scheduler.entities import Job, check_cron
from shipyard.pipelines.scheduler.fluent import list_triggers, make_scheduler
from shipyard.pipelines.scheduler.runner import Scheduler, due_slot
from shipyard.pipelines.scheduler.sql import SqlTriggers
from shipyard.store import Database

runner = CliRunner()

JOBS = """
import os, time
from pathlib import Path

def record(slot):
    with open(os.environ["JOB_LOG"], "a") as f:
        f.write(f"run {slot}\\n")
    return "run-" + slot

def hold(slot):
    log = os.environ["JOB_LOG"]
    with open(log, "a") as f:
        f.write(f"start {slot}\\n")
    hold = Path(os.environ["JOB_HOLD"])
    deadline = time.monotonic() + 120
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(log, "a") as f:
        f.write(f"end {slot}\\n")

def boom():
    raise RuntimeError("the job broke")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with jobmod.py (job functions) and a log file they append to."""
    (tmp_path / "jobmod.py").write_text(JOBS)
    monkeypatch.setenv("JOB_LOG", str(tmp_path / "jobs.log"))
    monkeypatch.setenv("JOB_HOLD", str(tmp_path / "hold"))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("jobmod", None)
    return tmp_path


def configure(folder: Path, yaml: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "shipyard.yaml").write_text(yaml)
    monkeypatch.setenv("SHIPYARD_CONFIG", str(folder / "shipyard.yaml"))
    shipyard.configure()


def log_lines(folder: Path) -> list[str]:
    path = folder / "jobs.log"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def store(db_url: str) -> Iterator[SqlTriggers]:
    db = Database(db_url)
    yield SqlTriggers(db)
    db.dispose()


def test_claims_are_unique_and_finish_and_sweep(store: SqlTriggers) -> None:
    first = store.register_jobs({"a": {"kind": "python"}})
    assert store.register_jobs({"a": {"kind": "python", "x": 1}, "b": {}})["a"] == first["a"]
    claimed = store.claim("a", "2026-01-01T00:00:00Z", reason="cron", owner="h:1")
    assert claimed is not None and claimed.state == "running"
    assert store.claim("a", "2026-01-01T00:00:00Z", reason="cron", owner="h:2") is None
    assert store.claim("b", "2026-01-01T00:00:00Z", reason="cron", owner="h:2") is not None
    done = store.finish(claimed.id, state="succeeded", run_id="r1")
    assert (done.state, done.run_id) == ("succeeded", "r1") and done.finished_at is not None
    with pytest.raises(InvalidArgument):
        store.finish(claimed.id, state="running")
    with pytest.raises(NotFound):
        store.finish(999, state="failed")
    time.sleep(0.05)
    [dead] = store.sweep(stale_after_ms=10)
    assert dead.job == "b" and dead.state == "interrupted" and "not re-run" in str(dead.error)
    assert [t.job for t in store.list()] == ["b", "a"] and store.last_slot("a") is not None
    assert [t.job for t in store.list(state="succeeded")] == ["a"]


def test_due_slot_is_the_newest_at_or_before_now_not_before_registration() -> None:
    job = Job("j", "python", "m:f", cron="*/10 * * * * *")
    now = datetime(2026, 1, 1, 0, 0, 37, tzinfo=UTC)
    registered = int((now - timedelta(seconds=60)).timestamp() * 1000)
    assert due_slot(job, now, registered) == (
        "2026-01-01T00:00:30Z", "cron '*/10 * * * * *' slot 2026-01-01T00:00:30Z"
    )  # fmt: skip
    assert due_slot(job, now, int(now.timestamp() * 1000)) is None


def test_catch_up_runs_the_newest_missed_slot_once(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(project, "schedules:\n  rec: {python: 'jobmod:record', cron: '*/10 * * * * *'}\n",
              monkeypatch)  # fmt: skip
    scheduler = make_scheduler()
    scheduler.start()
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=65)
    later = ahead - timedelta(seconds=ahead.second % 10 - 3)  # 3 s into a slot, 5+ slots on
    claimed = scheduler.tick(later)
    scheduler.wait()
    assert len(claimed) == 1
    assert scheduler.tick(later + timedelta(seconds=1)) == []  # same slot: never twice
    other = make_scheduler()  # a second scheduler sees the slot taken
    other.start()
    assert other.tick(later) == []
    [trigger] = list_triggers()
    assert trigger.state == "succeeded" and trigger.run_id == f"run-{trigger.slot}"
    assert log_lines(project) == [f"run {trigger.slot}"]


def test_a_failing_job_is_recorded_failed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(project, "schedules:\n  b: {python: 'jobmod:boom', cron: '* * * * * *'}\n",
              monkeypatch)  # fmt: skip
    scheduler = make_scheduler()
    scheduler.start()
    scheduler.tick(datetime.now(UTC) + timedelta(seconds=2))
    scheduler.wait()
    [trigger] = list_triggers(job="b")
    assert trigger.state == "failed" and trigger.error == "RuntimeError: the job broke"


def test_new_data_triggers_once_per_version(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(project, "schedules:\n  fresh: {python: 'jobmod:record', on_new_data: raw}\n",
              monkeypatch)  # fmt: skip
    shipyard.ingest_dataset(pa.table({"x": [1]}), name="raw")  # before the job was seen
    scheduler = make_scheduler()
    scheduler.start()
    assert scheduler.tick() == []
    v2 = shipyard.ingest_dataset(pa.table({"x": [1, 2]}), name="raw").version
    [trigger] = scheduler.tick()
    scheduler.wait()
    assert trigger.slot == f"data:{v2.ref}" and "new version" in trigger.reason
    assert scheduler.tick() == []
    v3 = shipyard.ingest_dataset(pa.table({"x": [1, 2, 3]}), name="raw").version
    assert [t.slot for t in scheduler.tick()] == [f"data:{v3.ref}"]
    scheduler.wait()
    assert log_lines(project) == [f"run data:{v2.ref}", f"run data:{v3.ref}"]


def test_bad_schedules_are_clear_errors(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="not a cron expression"):
        check_cron("61 * * * *")
    cases = {
        "schedules:\n  x: {pipeline: churn, cron: '0 25 * * *'}\n": (ConfigError, "cron"),
        "schedules:\n  x: {pipeline: nope, cron: '0 2 * * *'}\n": (NotFound, "pipeline 'nope'"),
        "schedules:\n  x: {monitor: nope, cron: '0 2 * * *'}\n": (NotFound, "monitor 'nope'"),
        "schedules:\n  x: {python: 'jobmod:missing', cron: '0 2 * * *'}\n": (
            ConfigError,
            "missing",
        ),
        "schedules:\n  x: {pipeline: a}\n": (ConfigError, "never runs"),
        "schedules:\n  x: {pipeline: a, monitor: b, cron: '* * * * *'}\n": (ConfigError, "one of"),
        "schedules:\n  x: {pipeline: a, cron: '* * * * *', when: now}\n": (ConfigError, "when"),
    }
    for yaml, (error, text) in cases.items():
        configure(project, yaml, monkeypatch)
        with pytest.raises(error, match=text):
            make_scheduler()
    with pytest.raises(InvalidArgument, match="--only"):
        make_scheduler(only="everything")
    out = runner.invoke(app, ["scheduler", "--once"])
    assert out.exit_code == 1 and "--once" not in out.output and "when" in out.output


def test_jobs_from_pipelines_and_monitors_and_only(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.pipelines.scheduler.fluent import list_jobs

    configure(
        project,
        "pipelines:\n  churn:\n    schedule: '0 2 * * *'\n    triggers: [{on_new_data: raw}]\n"
        "    steps: []\nmonitors:\n  drift: {schedule: '*/15 * * * *'}\n  quiet: {}\n"
        "schedules:\n  rec: {python: 'jobmod:record', cron: '0 * * * *'}\n",
        monkeypatch,
    )
    jobs = list_jobs()
    assert sorted(jobs) == ["churn", "churn:new-data:raw", "monitor:drift", "rec"]
    assert (jobs["churn"].kind, jobs["churn"].cron) == ("pipeline", "0 2 * * *")
    assert jobs["churn:new-data:raw"].on_new_data == "raw"
    assert sorted(list_jobs(only="monitors")) == ["monitor:drift"]
    out = runner.invoke(app, ["scheduler", "jobs", "--only", "pipelines"], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "churn:new-data:raw" in out.output and "drift" not in out.output


def test_cli_once_and_triggers_listing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(project, "schedules:\n  rec: {python: 'jobmod:record', cron: '* * * * * *'}\n",
              monkeypatch)  # fmt: skip
    assert runner.invoke(app, ["scheduler", "--once"]).exit_code == 0  # first sight: registers
    time.sleep(1.1)
    out = runner.invoke(app, ["scheduler", "--once"])
    assert out.exit_code == 0, out.output
    listed = runner.invoke(app, ["scheduler", "triggers", "--json"])
    found = json.loads(listed.output)  # the second pass ran the newest slot (the first may too)
    assert 1 <= len(found) <= 2 and len({t["slot"] for t in found}) == len(found)
    assert {(t["job"], t["state"]) for t in found} == {("rec", "succeeded")}
    table = runner.invoke(app, ["scheduler", "triggers", "--job", "rec"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "succeeded" in table.output


def test_scheduler_over_a_team_server(tmp_path: Path, project: Path) -> None:
    from shipyard.client import connect_local
    from shipyard.client.http import connect_http
    from shipyard.server.app import create_app
    from shipyard.server.testing import serve_in_thread
    from tests.client.conftest import store_settings

    backing = connect_local(store_settings(tmp_path / "server"))
    with serve_in_thread(create_app(services=backing)) as url:
        remote: Services = connect_http(store_settings(tmp_path / "client", tracking_uri=url))
        job = Job("rec", "python", "jobmod:record", cron="*/5 * * * * *")
        scheduler = Scheduler({"rec": job}, triggers=remote.triggers, datasets=remote.datasets)
        scheduler.start()
        later = datetime.now(UTC) + timedelta(seconds=30)
        [claimed] = scheduler.tick(later)
        scheduler.wait()
        again = Scheduler({"rec": job}, triggers=remote.triggers, datasets=remote.datasets)
        again.start()
        assert again.tick(later) == []
        [seen] = backing.triggers.list()
        assert seen.id == claimed.id and seen.state == "succeeded"
        assert remote.triggers.get(seen.id) == seen
        with pytest.raises(NotFound):
            remote.triggers.get(12345)
        remote.close()
    backing.close()


def _start(project: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SHIPYARD_CONFIG": str(project / "shipyard.yaml")}
    return subprocess.Popen(
        [sys.executable, "-m", "shipyard.cli.main", "scheduler", "--interval", "0.2",
         "--stale-after", "2", *args],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait_for(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s")


@pytest.mark.slow
def test_kill_9_mid_run_then_restart(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(project, "schedules:\n  slow: {python: 'jobmod:hold', cron: '*/2 * * * * *'}\n",
              monkeypatch)  # fmt: skip
    store = shipyard.tracking.fluent.services().triggers
    (project / "hold").touch()
    first = _start(project)
    try:
        _wait_for(lambda: any(line.startswith("start") for line in log_lines(project)), 30)
        _wait_for(lambda: [t.state for t in store.list()] == ["running"], 10)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    [killed] = store.list()
    assert killed.state == "running"  # nobody is left to say otherwise
    time.sleep(5)  # two or more slots pass while no scheduler runs
    (project / "hold").unlink()
    restarted = _start(project, "--once")
    output = restarted.communicate(timeout=60)[0].decode()
    assert restarted.returncode == 0, output
    interrupted, caught_up = sorted(store.list(), key=lambda t: t.id)
    assert (interrupted.id, interrupted.state) == (killed.id, "interrupted")
    assert interrupted.finished_at is not None and "not re-run" in str(interrupted.error)
    assert caught_up.state == "succeeded" and caught_up.reason.startswith("cron")
    gap = datetime.fromisoformat(caught_up.slot) - datetime.fromisoformat(killed.slot)
    assert gap >= timedelta(seconds=4)  # the slots in between were missed, and not run
    assert log_lines(project) == [
        f"start {killed.slot}", f"start {caught_up.slot}", f"end {caught_up.slot}"
    ]  # fmt: skip
    # Two schedulers at once: each slot still runs once.
    time.sleep(2.1)
    pair = [_start(project, "--once"), _start(project, "--once")]
    for proc in pair:
        output = proc.communicate(timeout=60)[0].decode()
        assert proc.returncode == 0, output
    starts = [line.split()[1] for line in log_lines(project) if line.startswith("start")]
    # (3, or 4 when the two passes straddled a slot boundary: then each ran its own slot)
    assert len(starts) == len(set(starts)) == len(store.list()) >= 3
    assert store.get(killed.id).state == "interrupted"


def test_pipeline_jobs_run_the_pipeline_and_record_its_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(
        project,
        "pipelines:\n"
        "  ok:\n    schedule: '* * * * * *'\n"
        "    steps: [{name: a, call: 'tests.pipelines.steplib:add', with: {a: 1}}]\n"
        "  bad:\n    schedule: '* * * * * *'\n"
        "    steps: [{name: z, call: 'tests.pipelines.steplib:die_always'}]\n",
        monkeypatch,
    )
    scheduler = make_scheduler()
    scheduler.start()
    claimed = scheduler.tick(datetime.now(UTC) + timedelta(seconds=2))
    scheduler.wait()
    assert sorted(t.job for t in claimed) == ["bad", "ok"]
    by_job = {t.job: t for t in list_triggers()}
    runs = shipyard.tracking.fluent.services().pipelines
    assert runs is not None
    ok = runs.get_run(str(by_job["ok"].run_id))
    assert by_job["ok"].state == "succeeded" and ok.pipeline == "ok"
    assert ok.trigger == f"schedule:ok@{by_job['ok'].slot}"
    failed = by_job["bad"]
    assert failed.state == "failed" and failed.run_id and "JobFailed" in str(failed.error)
    assert runs.get_run(failed.run_id).pipeline == "bad"
