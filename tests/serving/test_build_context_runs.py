"""The build context runs: installed in a fresh virtual environment exactly as its Dockerfile
installs it, then started with the Dockerfile's CMD, with no access to the registry.

There is no Docker engine here, so the Dockerfile is interpreted: each ``RUN pip …`` line runs
with the fresh environment's pip in the context folder (``WORKDIR``), container paths copied
with ``COPY`` map to the context's folders, and ``--port`` is swapped for a free port. Slow:
it builds Shipyard's wheel and installs every pinned requirement from the package index.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

import shipyard
from shipyard.serving.build import BuildContext, build_context

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

FRAME = pd.DataFrame(
    {
        "tenure": [1, 5, 20, 40, 3, 60, 12, 30],
        "monthly_charges": [70.0, 50.5, 30.0, 20.0, 90.0, 25.0, 65.0, 40.0],
    }
)
LABELS = [1, 1, 0, 0, 1, 0, 1, 0]
READY_TIMEOUT_S = 120.0


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            steps.append((word.upper(), rest.strip()))
    return steps


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def context(tmp_path: Path) -> BuildContext:
    model = LogisticRegression().fit(FRAME, LABELS)
    shipyard.register_model("churn", model=model, input_example=FRAME, alias="champion")
    return build_context("churn@champion", tmp_path / "ctx")  # builds the real wheel


@pytest.fixture
def venv(tmp_path: Path, context: BuildContext) -> Path:
    """A fresh virtual environment with what the Dockerfile's RUN pip lines install."""
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    runs = [rest for word, rest in instructions(context.path / "Dockerfile") if word == "RUN"]
    pip_runs = [shlex.split(r) for r in runs if r.startswith("pip ")]
    assert [r[:2] for r in pip_runs] == [["pip", "install"], ["pip", "install"], ["pip", "check"]]
    for args in pip_runs:
        args = [a for a in args if a != "--no-cache-dir"]  # let reruns use the local pip cache
        done = subprocess.run(
            [str(python), "-m", *args], cwd=context.path, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return env_dir


def container_command(context: BuildContext, venv: Path, port: int) -> list[str]:
    """The Dockerfile's CMD, with container paths mapped to the context and a free port."""
    steps = instructions(context.path / "Dockerfile")
    (cmd,) = [json.loads(rest) for word, rest in steps if word == "CMD"]
    copies = dict(rest.split() for word, rest in steps if word == "COPY")
    mapping = {dst.rstrip("/"): str(context.path / src.rstrip("/")) for src, dst in copies.items()}
    cmd = [mapping.get(arg, arg) for arg in cmd]
    cmd[cmd.index("--port") + 1] = str(port)
    assert cmd[0] == "shipyard"
    return [str(venv / "bin" / "shipyard"), *cmd[1:]]


def container_env(context: BuildContext, venv: Path, home: Path) -> dict[str, str]:
    """The Dockerfile's ENV, and nothing of this test's store: no SHIPYARD_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    for word, rest in instructions(context.path / "Dockerfile"):
        if word == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))
    env["SHIPYARD_HOME"] = str(home)  # the container's HOME_DIR volume
    return env


@dataclass
class Server:
    url: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


@pytest.fixture
def server(context: BuildContext, venv: Path, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = container_env(context, venv, tmp_path / "container-home")
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        container_command(context, venv, port),
        cwd=context.path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield Server(f"http://127.0.0.1:{port}", env, proc, tmp_path / "server.log")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_context_installs_and_serves_from_its_own_files(
    context: BuildContext, server: Server, venv: Path
) -> None:
    url, env = server.url, server.env
    deploy = yaml.safe_load((context.path / "k8s" / "deployment.yaml").read_text())
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    ready = container["readinessProbe"]["httpGet"]["path"]
    live = container["livenessProbe"]["httpGet"]["path"]
    deadline = time.monotonic() + READY_TIMEOUT_S
    status = None
    while time.monotonic() < deadline and status != 200:
        code = server.proc.poll()
        assert code is None, f"the server exited with {code}:\n{server.output()}"
        try:
            status = httpx.get(url + ready, timeout=2).status_code
        except httpx.TransportError:
            status = None
        time.sleep(0.2)
    assert status == 200, f"the server did not become ready:\n{server.output()}"
    assert httpx.get(url + live).status_code == 200

    # the Dockerfile's HEALTHCHECK passes against this server
    (health,) = [r for w, r in instructions(context.path / "Dockerfile") if w == "HEALTHCHECK"]
    probe = json.loads(health.split(" CMD ", 1)[1])
    probe[-1] = probe[-1].replace(f":{context.port}/", f":{url.rsplit(':', 1)[1]}/")
    done = subprocess.run([str(venv / "bin" / probe[0]), *probe[1:]], env=env, timeout=30)
    assert done.returncode == 0

    rows = FRAME.head(4).to_dict(orient="records")
    response = httpx.post(f"{url}/v1/models/churn/predict", json={"records": rows}, timeout=30)
    assert response.status_code == 200, response.text
    expected = LogisticRegression().fit(FRAME, LABELS).predict(FRAME.head(4)).tolist()
    body = response.json()
    assert body["predictions"] == expected
    assert (body["model"], body["version"]) == ("churn", 1)
