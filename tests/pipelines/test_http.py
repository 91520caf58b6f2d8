"""Pipelines against a team server: runs recorded over REST, read back by SDK, CLI and HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import shipyard
from shipyard.client import connect_local
from shipyard.pipelines import (
    Pipeline,
    StepDef,
    StepStatus,
    get_pipeline_run,
    list_pipeline_runs,
    run_pipeline,
)
from shipyard.server.app import create_app
from shipyard.server.testing import serve_in_thread
from tests.client.conftest import store_settings
from tests.pipelines import steplib

YAML = """
pipelines:
  served:
    steps:
      - {name: a, call: "tests.pipelines.steplib:add", with: {a: 2, b: 3}}
      - {name: b, call: "tests.pipelines.steplib:add", inputs: {a: a.result}}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    home = tmp_path / "server"
    home.mkdir()
    (home / "shipyard.yaml").write_text(YAML)
    services = connect_local(store_settings(home))
    with serve_in_thread(create_app(services=services)) as url:
        shipyard.configure(tracking_uri=url)
        yield url
    services.close()


def test_run_against_a_server(server: str) -> None:
    pipe = Pipeline("nums", [steplib.make_numbers, steplib.total, steplib.report])
    first = run_pipeline(pipe, executor="local:2")
    assert first.ok, first.run.failure
    again = run_pipeline(pipe, executor="local:2")
    assert again.run.cached == ["make_numbers", "total", "report"]
    [newest, oldest] = list_pipeline_runs("nums")
    assert newest.id == again.run.id and oldest.step("total").status == StepStatus.SUCCEEDED
    assert get_pipeline_run(first.run.id[:8]).step("report").outputs == {"report": "total=10.0"}
    step_run = shipyard.get_run(first.run.step("total").run_id or "")
    assert step_run.parent_run_id == first.run.run_id and step_run.metrics["total"] == 10.0


def test_rest_reads_pipelines_and_runs(server: str) -> None:
    failing = Pipeline(
        "bad", [StepDef("x", call="tests.pipelines.steplib:boom", params={"numbers": []})]
    )
    run = run_pipeline(failing, executor="local:1").run
    with httpx.Client(base_url=server) as http:
        pipes = http.get("/api/v1/pipelines").json()["pipelines"]
        assert [p["name"] for p in pipes] == ["served"] and pipes[0]["edges"] == [["a", "b"]]
        assert http.get("/api/v1/pipelines/nope").status_code == 404
        body = http.get(f"/api/v1/pipeline-runs/{run.id}").json()
        assert body["status"] == "FAILED" and body["failure"]["error_type"] == "ValueError"
        assert body["steps"][0]["status"] == "FAILED" and body["steps"][0]["attempts"] == 1
        listed = http.get("/api/v1/pipeline-runs", params={"pipeline": "bad"}).json()["runs"]
        assert [r["id"] for r in listed] == [run.id]
        assert http.get("/api/v1/pipeline-runs/0000000000").status_code == 404
        assert http.get("/api/v1/pipeline-runs", params={"limit": 0}).status_code in (400, 422)
        bad = http.post(f"/api/v1/pipeline-runs/{run.id}/finish", json={"status": "DONE"})
        assert bad.status_code == 400 and "SUCCEEDED or FAILED" in bad.text
