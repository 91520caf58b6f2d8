"""Monitoring through a team server: the SDK over HTTP, and the REST routes directly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import shipyard
from shipyard.client import connect_local
from shipyard.monitoring.monitors import Monitor
from shipyard.server.app import create_app
from shipyard.server.testing import serve_in_thread
from tests.monitoring.conftest import churn_frame, churn_model_on, labels_for, serve_predictions
from tests.server.conftest import store_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    home = tmp_path / "server"
    services = connect_local(store_settings(home))
    with serve_in_thread(create_app(services=services)) as url:
        shipyard.configure(tracking_uri=url)
        yield url, home / "predictions"
    services.close()


def test_sdk_over_http(server: tuple[str, Path]) -> None:
    url, log_root = server
    churn_model_on()
    frame = churn_frame(300, seed=4)
    ids = serve_predictions(frame, prediction_log_root=str(log_root))
    receipt = shipyard.log_feedback("churn", labels_for(ids, frame))
    assert receipt.stored == 300
    monitor = Monitor.from_dict(
        "churn-live",
        {"model": "churn@champion", "window": {"rows": 300}, "predictions": str(log_root),
         "alerts": {"rules": ["accuracy < 0.99"], "cooldown": 0}},
    )  # fmt: skip
    outcome = shipyard.run_monitor(monitor)
    assert outcome.check.labelled == 300 and outcome.check.status == "alert"
    assert shipyard.monitor_history("churn-live")[0] == outcome.check
    assert shipyard.get_check(outcome.check.id).metrics["accuracy"] == pytest.approx(
        outcome.metrics["accuracy"]
    )
    (alert,) = shipyard.list_alerts("churn-live")
    assert alert == outcome.alerts[0] and alert.state == "sent"

    with httpx.Client(base_url=url, timeout=30) as http:
        listed = http.get("/api/v1/monitoring/checks", params={"monitor": "churn-live"}).json()
        assert listed["checks"][0]["metrics"]["rows"] == 300
        assert http.get("/api/v1/monitoring/alerts").json()["alerts"][0]["rule"] == (
            "accuracy < 0.99"
        )
        sent = {"state": "sent", "since": alert.created_at}
        assert len(http.get("/api/v1/monitoring/alerts", params=sent).json()["alerts"]) == 1
        none = {"state": "suppressed"}
        assert http.get("/api/v1/monitoring/alerts", params=none).json()["alerts"] == []
        odd = http.get("/api/v1/monitoring/alerts", params={"state": "paged"})
        assert odd.status_code == 400 and "not one of" in odd.json()["error"]["message"]
        labels = http.get("/api/v1/feedback", params={"model": "churn"}).json()
        assert len(labels["prediction_id"]) == 300
        unknown = http.post(
            "/api/v1/feedback",
            json={"model": "churn", "labels": {"prediction_id": ["x1", ids[0]], "label": [1, 0]}},
        )
        assert unknown.status_code == 400
        assert "1 of 2 label(s)" in unknown.json()["error"]["message"]
        missing = http.post("/api/v1/feedback", json={"model": "churn", "labels": {"label": [1]}})
        assert missing.status_code == 400 and "missing column" in missing.text
        records = http.post(
            "/api/v1/feedback",
            json={"model": "churn", "labels": [{"prediction_id": ids[0], "label": 1}]},
        )
        assert records.status_code == 201 and records.json()["replaced"] == 1
        assert http.get("/api/v1/monitoring/checks/999").status_code == 404
        bad = http.post(
            "/api/v1/monitoring/alerts",
            json={"monitor": "m", "rule": "r", "metric": "x", "threshold": 1, "state": "odd",
                  "message": ""},
        )  # fmt: skip
        assert bad.status_code == 400 and "not one of" in bad.text
