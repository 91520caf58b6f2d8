"""The server's error shapes and statuses, size limits, docs and metrics, over real HTTP."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import httpx
import pytest

from shipyard.client import connect_local
from shipyard.errors import ConfigError
from shipyard.server.app import create_app
from shipyard.server.limits import MAX_JSON_BYTES
from shipyard.server.schemas import MAX_BATCH_METRICS
from shipyard.server.testing import serve_in_thread
from shipyard.tracking.entities import Experiment
from shipyard.tracking.sql import SqlTracking
from tests.server.conftest import store_settings


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    return message


def _run(http: httpx.Client) -> str:
    exp = http.post("/api/v1/experiments", json={"name": "e"}).json()
    run = http.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"]})
    assert run.status_code == 201
    return str(run.json()["run_id"])


def test_unknown_run_is_404(http: httpx.Client) -> None:
    message = _error(http.get("/api/v1/runs/" + "0" * 32), 404, "NOT_FOUND")
    assert "0" * 32 in message
    _error(http.post(f"/api/v1/runs/{'0' * 32}/heartbeat"), 404, "NOT_FOUND")


def test_duplicate_experiment_is_409(http: httpx.Client) -> None:
    assert http.post("/api/v1/experiments", json={"name": "dup"}).status_code == 201
    message = _error(http.post("/api/v1/experiments", json={"name": "dup"}), 409, "ALREADY_EXISTS")
    assert "dup" in message


def test_bad_filter_is_400_with_its_position(http: httpx.Client) -> None:
    exp = http.post("/api/v1/experiments", json={"name": "f"}).json()
    body = {"experiment_ids": [exp["experiment_id"]], "filter": "metrics.auc >> 1"}
    message = _error(http.post("/api/v1/runs/search", json=body), 400, "FILTER_SYNTAX_ERROR")
    assert "position" in message and "metrics.auc >> 1" in message


def test_malformed_json_is_400(http: httpx.Client) -> None:
    response = http.post(
        "/api/v1/experiments", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in _error(response, 400, "INVALID_ARGUMENT")


def test_validation_errors_name_the_field(http: httpx.Client) -> None:
    run_id = _run(http)
    body = {"metrics": [{"key": "auc", "value": 0.5}, {"key": "auc", "value": "high"}]}
    message = _error(
        http.post(f"/api/v1/runs/{run_id}/log-batch", json=body), 400, "INVALID_ARGUMENT"
    )
    assert message.startswith("body.metrics[1].value:") and "'high'" in message
    message = _error(http.post("/api/v1/runs", json={}), 400, "INVALID_ARGUMENT")
    assert "body.experiment_id" in message
    message = _error(http.get("/api/v1/experiments/abc"), 400, "INVALID_ARGUMENT")
    assert "path.experiment_id" in message


def test_non_finite_metrics_travel_as_strings(http: httpx.Client) -> None:
    run_id = _run(http)
    points = [
        {"key": "x", "value": v, "step": i}
        for i, v in enumerate(["NaN", "Infinity", "-Infinity", 1.5])
    ]
    assert (
        http.post(f"/api/v1/runs/{run_id}/log-batch", json={"metrics": points}).status_code == 204
    )
    got = http.get(f"/api/v1/runs/{run_id}/metric-history", params={"key": "x"}).json()
    assert [m["value"] for m in got["metrics"]] == ["NaN", "Infinity", "-Infinity", 1.5]
    assert http.get(f"/api/v1/runs/{run_id}").json()["metrics"] == {"x": 1.5}


def test_oversized_body_is_413(http: httpx.Client) -> None:
    big = b'{"name": "' + b"x" * MAX_JSON_BYTES + b'"}'
    response = http.post(
        "/api/v1/experiments", content=big, headers={"Content-Type": "application/json"}
    )
    assert "larger than 16 MB" in _error(response, 413, "PAYLOAD_TOO_LARGE")
    # Without a Content-Length (chunked), the body is counted as it arrives.
    chunks = iter([big[i : i + (1 << 20)] for i in range(0, len(big), 1 << 20)])
    response = http.post(
        "/api/v1/experiments", content=chunks, headers={"Content-Type": "application/json"}
    )
    _error(response, 413, "PAYLOAD_TOO_LARGE")
    assert http.get("/api/v1/experiments").json() == {"experiments": []}


def test_too_many_metric_points_must_be_split(http: httpx.Client) -> None:
    run_id = _run(http)
    points = [{"key": "m", "value": 1.0, "step": i} for i in range(MAX_BATCH_METRICS + 1)]
    message = _error(
        http.post(f"/api/v1/runs/{run_id}/log-batch", json={"metrics": points}),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert "split" in message
    history = http.get(f"/api/v1/runs/{run_id}/metric-history", params={"key": "m"}).json()
    assert history == {"metrics": []}


def test_unknown_route_and_method_keep_the_error_shape(http: httpx.Client) -> None:
    _error(http.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    _error(http.put("/api/v1/experiments"), 405, "METHOD_NOT_ALLOWED")


class _FailingTracking(SqlTracking):
    """Real tracking whose listing hits a bug: the server must answer 500, not crash."""

    def list_experiments(self, *, deleted: bool = False) -> list[Experiment]:
        raise RuntimeError("disk on fire")


def test_unexpected_errors_are_500_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    real = connect_local(store_settings(tmp_path / "s"))
    assert isinstance(real.tracking, SqlTracking)
    broken = dataclasses.replace(real, tracking=_FailingTracking(real.tracking.db))
    with (
        caplog.at_level(logging.ERROR, logger="shipyard.server"),
        serve_in_thread(create_app(services=broken)) as url,
    ):
        response = httpx.get(f"{url}/api/v1/experiments")
    message = _error(response, 500, "INTERNAL_ERROR")
    assert "RuntimeError" in message and "disk on fire" not in message
    assert any("disk on fire" in (r.exc_text or "") for r in caplog.records)


def test_health_live_and_ready(http: httpx.Client) -> None:
    assert http.get("/health/live").json() == {"status": "ok", "detail": ""}
    assert http.get("/health/ready").status_code == 200


def test_metrics_count_requests_by_route_template(http: httpx.Client) -> None:
    http.get("/api/v1/runs/" + "0" * 32)
    http.get("/api/v1/runs/" + "1" * 32)
    http.get("/health/live")
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    line = next(
        x
        for x in text.splitlines()
        if x.startswith("shipyard_http_requests_total{") and 'route="/api/v1/runs/{run_id}"' in x
    )
    assert 'status="404"' in line and 'method="GET"' in line and line.endswith(" 2.0")
    assert "shipyard_http_request_duration_seconds_bucket{" in text
    assert "0" * 32 not in text  # raw paths never become labels


def test_docs_and_openapi_are_served(http: httpx.Client) -> None:
    docs = http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = http.get("/openapi.json").json()
    assert "/api/v1/runs/search" in spec["paths"]
    assert "/api/v1/models/{name}/resolve" in spec["paths"]


def test_server_refuses_a_remote_tracking_uri(tmp_path: Path) -> None:
    settings = store_settings(tmp_path, tracking_uri="http://127.0.0.1:5000")
    with pytest.raises(ConfigError, match="SHIPYARD_TRACKING_URI"):
        create_app(settings=settings)


def test_runs_record_the_client_user(http: httpx.Client) -> None:
    exp = http.post("/api/v1/experiments", json={"name": "who"}).json()
    headers = {"X-Shipyard-User": "alice"}
    run = http.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"]}, headers=headers)
    assert run.status_code == 201, run.text
    assert http.get(f"/api/v1/runs/{run.json()['run_id']}").json()["user"] == "alice"
