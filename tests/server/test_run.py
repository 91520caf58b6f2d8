"""The server as a real process (``uvicorn shipyard.server.run:app_factory --factory``).

The slow test moves a 200 MB file up and down through it and samples the server's resident
memory meanwhile: streaming must keep the peak within 100 MB of the idle server.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shipyard.artifacts.owners import run_owner
from shipyard.client.http import connect_http
from shipyard.errors import ConfigError, InvalidArgument
from shipyard.server.run import serve
from tests.server.conftest import store_settings

MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(tmp_path / "store")
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "shipyard.server.run:app_factory",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url, tmp_path / "server.log")
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server not ready after 60 s:\n{log.read_text()}")


def _rss(pid: int) -> int:
    """Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS, in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class _PeakSampler:
    """Samples a process's RSS every few milliseconds on a thread; ``peak`` is the maximum."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = _rss(pid)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss(self.pid))
            self.samples += 1

    def __enter__(self) -> _PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _random_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for _ in range(size // MB):
            block = os.urandom(MB)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while block := src.read(MB):
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.slow
def test_200_mb_round_trip_keeps_server_memory_flat(
    server_process: tuple[subprocess.Popen[bytes], str], tmp_path: Path
) -> None:
    proc, url = server_process
    services = connect_http(store_settings(tmp_path / "client", tracking_uri=url))
    run = services.tracking.create_run(services.tracking.create_experiment("big").experiment_id)
    owner = run_owner(run.run_id)

    warm = tmp_path / "warm.bin"
    _random_file(warm, 4 * MB)
    services.artifacts.upload(owner, warm, "warm")
    services.artifacts.download(owner, "warm/warm.bin", tmp_path / "warm-out")
    idle = max(_rss(proc.pid) for _ in range(5))

    big = tmp_path / "big.bin"
    digest = _random_file(big, 200 * MB)
    with _PeakSampler(proc.pid) as sampler:
        [info] = services.artifacts.upload(owner, big, "data")
        got = services.artifacts.download(owner, "data/big.bin", tmp_path / "out")
    services.close()

    assert (info.size, info.sha256) == (200 * MB, digest)
    assert got.stat().st_size == 200 * MB and _sha256(got) == digest
    assert sampler.samples > 10
    grew = sampler.peak - idle
    assert grew < 100 * MB, f"server RSS grew by {grew / MB:.0f} MB (idle {idle / MB:.0f} MB)"


def test_serve_refuses_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="another server"):
        serve(store_settings(tmp_path, tracking_uri="https://ml.example:5000"))
    with pytest.raises(InvalidArgument, match="workers"):
        serve(store_settings(tmp_path), workers=0)
