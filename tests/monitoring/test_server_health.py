"""Service health from a real model server's /metrics: requests and 4xx/5xx since the previous
check; an unreachable server is `server_up = 0`, never a lost check."""

from __future__ import annotations

import pytest

import shipyard
from shipyard.errors import InvalidArgument
from shipyard.monitoring.monitors import Monitor
from shipyard.registry.entities import ModelVersion
from shipyard.serving.predictions import default_root, read_predictions
from shipyard.tracking.fluent import services
from tests.monitoring.conftest import FEATURES, churn_frame
from tests.serving.conftest import eventually, running


def test_requests_and_errors_since_the_previous_check(churn_model: ModelVersion) -> None:
    rows = churn_frame(10, seed=12)[FEATURES].to_dict("records")
    with running(["churn@champion"], log_predictions=True) as client:
        url = str(client.base_url)
        monitor = Monitor.from_dict(
            "health",
            {"model": "churn@champion", "window": "1h", "server": url, "drift": False,
             "alerts": {"rules": ["server_client_error_rate > 0.2", "server_up < 1"]}},
        )  # fmt: skip
        for i in range(8):
            assert client.post("/v1/models/churn/predict", json=rows[i : i + 1]).status_code == 200
        for _ in range(2):
            bad = client.post("/v1/models/churn/predict", json=[{**rows[0], "tenure": "x"}])
            assert bad.status_code == 422
        root = default_root(services().settings)
        assert eventually(lambda: read_predictions(root, "churn").num_rows == 8)  # flushed
        first = shipyard.run_monitor(monitor)
        m = first.metrics
        assert (m["server_up"], m["server_requests"], m["server_client_error_rate"]) == (
            1.0, 10.0, 0.2,
        )  # fmt: skip
        assert m["server_error_rate"] == 0.0 and first.check.status == "ok"
        for _ in range(3):
            client.post("/v1/models/churn/predict", json=[{**rows[0], "tenure": "x"}])
        client.post("/v1/models/churn/predict", json=rows[:1])
        second = shipyard.run_monitor(monitor)
    m = second.metrics
    assert (m["server_requests"], m["server_client_error_rate"]) == (4.0, 0.75)  # since the first
    assert second.check.status == "alert"
    assert [a.rule for a in second.alerts] == ["server_client_error_rate > 0.2"]
    down = shipyard.run_monitor(monitor)  # the server has stopped
    assert down.metrics["server_up"] == 0.0 and down.metrics["server_requests"] is None
    assert "ConnectError" in down.check.details["server"]["error"]
    assert [a.rule for a in down.alerts] == ["server_up < 1"]
    with pytest.raises(InvalidArgument, match="server must be"):
        Monitor.from_dict("m", {"model": "churn", "server": "localhost:8000"})
