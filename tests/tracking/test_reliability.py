"""Many writers at once, and processes killed with SIGKILL: nothing lost, nothing half-written."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from shipyard.store import schema

pytestmark = pytest.mark.slow

LOGGER = """
import sys, shipyard
n = int(sys.argv[1])
with shipyard.start_run(experiment="concurrent", name=sys.argv[2]):
    for i in range(n):
        shipyard.log_metric("x", float(i), step=i)
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env.update(SHIPYARD_HOME=str(tmp_path / "home"), **extra)
    return env


def _count_points(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(schema.metrics)).scalar_one()
    engine.dispose()
    return int(n)


def _run_loggers(env: dict[str, str], processes: int, points: int) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LOGGER, str(points), f"p{i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        assert "locked" not in err.lower(), err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_16_processes_on_one_sqlite_store(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    env = _env(tmp_path, SHIPYARD_TRACKING_URI=db_url)
    subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    _run_loggers(env, 16, 1000)
    assert _count_points(db_url) == 16_000


def test_16_processes_through_the_server(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    port = _free_port()
    server_env = _env(tmp_path, SHIPYARD_TRACKING_URI=db_url)
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "shipyard.cli.main", "server", "--port", str(port)],
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        _run_loggers(_env(tmp_path, SHIPYARD_TRACKING_URI=f"http://127.0.0.1:{port}"), 16, 1000)
        assert _count_points(db_url) == 16_000
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


KILLED_LOGGER = """
import sys, time, shipyard
with shipyard.start_run(experiment="doomed") as run:
    print(run.run_id, flush=True)
    i = 0
    while True:
        shipyard.log_metric("x", float(i), step=i)
        i += 1
        if i % 100 == 0:
            time.sleep(0.01)
"""


def test_kill_9_while_logging_leaves_a_readable_store_and_a_killed_run(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'k.db'}"
    env = _env(
        tmp_path,
        SHIPYARD_TRACKING_URI=db_url,
        SHIPYARD_HEARTBEAT_INTERVAL_S="0.2",
        SHIPYARD_FLUSH_INTERVAL_MS="20",
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOGGER], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    deadline = time.monotonic() + 30
    while _count_points(db_url) < 500:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()

    from shipyard.client import connect_local
    from shipyard.config import load_settings
    from shipyard.tracking.entities import RunStatus

    services = connect_local(load_settings(env, tracking_uri=db_url, stale_after_s=1.0))
    run = services.tracking.get_run(run_id)  # readable right away
    stored = len(services.tracking.get_metric_history(run_id, "x"))
    assert stored >= 500
    assert [m.step for m in services.tracking.get_metric_history(run_id, "x")] == list(
        range(stored)
    )  # no gaps: batches are all-or-nothing
    time.sleep(1.5)
    run = services.tracking.get_run(run_id)
    assert run.status is RunStatus.KILLED
    services.close()


UPLOADER = """
import sys, shipyard
with shipyard.start_run(experiment="uploads") as run:
    print(run.run_id, flush=True)
    i = 0
    while True:
        shipyard.log_artifact(sys.argv[1], f"copy{i}")
        print(i, flush=True)
        i += 1
"""


def test_kill_9_during_artifact_upload_never_shows_a_half_written_file(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        for _ in range(40):
            f.write(os.urandom(1 << 20))
    env = _env(tmp_path, SHIPYARD_TRACKING_URI=f"sqlite:///{tmp_path / 'u.db'}")
    proc = subprocess.Popen(
        [sys.executable, "-c", UPLOADER, str(big)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    proc.stdout.readline()  # one upload finished
    time.sleep(0.15)  # somewhere inside the next one
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()

    from shipyard.client import connect_local
    from shipyard.config import load_settings

    services = connect_local(load_settings(env))
    files = services.artifacts.list(f"run:{run_id}", "", recursive=True)
    assert files, "the finished upload is visible"
    expected = big.read_bytes()
    for info in files:
        out = services.artifacts.download(f"run:{run_id}", info.path, tmp_path / "dl")
        assert out.read_bytes() == expected
    services.close()
