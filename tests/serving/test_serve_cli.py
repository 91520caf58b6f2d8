"""``shipyard serve``: options, up-front errors, and a real server process started from the CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from shipyard.cli.serve import register
from shipyard.registry.entities import ModelVersion

# A stand-alone `shipyard` with only the serve command (cli/main.py registers it for real).
CLI = (
    "import typer\n"
    "from shipyard.cli.serve import register\n"
    "app = typer.Typer()\n"
    "app.callback()(lambda: None)\n"
    "register(app)\n"
    "app()\n"
)


def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_help_lists_every_option() -> None:
    result = CliRunner().invoke(cli_app(), ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--workers",
        "--max-batch-size",
        "--max-wait-ms",
        "--no-batching",
        "--reload-interval",
        "--canary",
        "--shadow",
        "--sticky-key",
        "--log-predictions",
        "--no-log-predictions",
        "--max-body-mb",
    ):
        assert option in result.output, option


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "nope@champion"], "nope"),
        (["serve", "bc@champion", "--canary", "bc@champion"], "needs a share"),
        (["serve", "bc@champion", "--canary", "fraud@x=0.1"], "no served model is named 'fraud'"),
        (["serve", "bc@champion", "--sticky-key", "cookie:x"], "header:NAME or field:NAME"),
        (["serve", "bc@champion", "bc/1"], "named twice"),
        (["serve", "bc@nope"], "nope"),
        (["serve", "bc@champion", "--name", "churn"], "exactly one folder"),
    ],
)
def test_mistakes_fail_before_the_server_starts(
    bc: ModelVersion, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli_app(), args, env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "error:" in result.output and message in result.output


def test_bad_option_values_are_usage_errors() -> None:
    result = CliRunner().invoke(cli_app(), ["serve", "bc@champion", "--workers", "0"])
    assert result.exit_code == 2


def start(port: int, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", CLI, "serve", "bc@champion", "--port", str(port), *extra]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ)
    )


def wait_until_ready(proc: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    ready = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            ready = httpx.get(f"{url}/health/ready", timeout=2)
            if ready.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server did not get ready: {None if ready is None else ready.text}")


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=30)
    return output.decode()


def test_serve_runs_a_real_server_until_interrupted(
    bc: ModelVersion, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, _ = cancer
    port = free_port()
    proc = start(port, "--reload-interval", "0.5", "--max-wait-ms", "1", "--no-log-predictions")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, url)
        response = httpx.post(
            f"{url}/v1/models/bc/predict", json=X.head(2).to_dict(orient="records"), timeout=10
        )
        assert response.status_code == 200 and response.json()["version"] == 1
    finally:
        text = stop(proc)
    assert proc.returncode == 0, text
    assert f"http://127.0.0.1:{port}" in text and "bc@champion (v1)" in text
    assert "serving bc@champion as version 1" in text  # the model log goes to stderr


@pytest.mark.slow
def test_several_workers_each_load_the_models(
    bc: ModelVersion, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, _ = cancer
    port = free_port()
    proc = start(port, "--workers", "2", "--no-log-predictions")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, url)  # one worker said ready; the other may still be loading
        deadline = time.monotonic() + 60
        answered = 0
        while answered < 8:  # a new connection each: spread over the workers
            ok = httpx.post(f"{url}/v1/models/bc/predict", json=X.head(1).to_dict("records"))
            if ok.status_code == 503 and time.monotonic() < deadline:
                assert ok.json()["error"]["code"] == "MODEL_NOT_READY", ok.text
                time.sleep(0.2)
                continue
            assert ok.status_code == 200, ok.text
            answered += 1
    finally:
        text = stop(proc)
    assert text.count("serving bc@champion as version 1") == 2, text
