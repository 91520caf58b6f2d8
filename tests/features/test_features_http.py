"""The feature store through a real team server: the SDK over HTTP, and raw REST calls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

import shipyard
from shipyard.client import connect_local
from shipyard.features import fluent as features
from shipyard.server.app import create_app
from shipyard.server.testing import serve_in_thread
from tests.features.test_store import DEFINITIONS, T0, _events
from tests.server.conftest import store_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    services = connect_local(store_settings(tmp_path / "server"))
    with serve_in_thread(create_app(services=services)) as url:
        shipyard.configure(tracking_uri=url)
        yield url
    features.close_feature_store(services)
    services.close()


def test_sdk_over_http_applies_builds_materializes_and_serves(server: str, tmp_path: Path) -> None:
    shipyard.ingest_dataset(_events(), name="card_events")
    path = tmp_path / "features.yaml"
    path.write_text(DEFINITIONS)
    assert {a.status for a in features.apply_features(path)} == {"created"}
    assert {a.status for a in features.apply_features(path)} == {"unchanged"}
    entities = pa.table(
        {
            "card_id": [1, 2],
            "event_timestamp": pa.array([T0 + timedelta(hours=31)] * 2, pa.timestamp("us", "UTC")),
            "amount": [40.0, 5.0],
        }
    )
    training = features.get_historical_features(entities, "fraud").to_pylist()
    assert [r["avg_amount"] for r in training] == [20.0, 50.0]
    [result] = features.materialize_features(["card_stats"])
    assert result.rows == 3
    now = T0 + timedelta(hours=35)
    online = features.get_online_features(
        [{"card_id": 1, "amount": 40.0}, {"card_id": 7, "amount": 1.0}], "fraud", now=now
    ).to_pylist()
    assert [r["card_stats__status"] for r in online] == ["present", "missing"]
    assert online[0]["amount_ratio"] == 2.0
    assert online[0]["card_stats__event_timestamp"] == T0 + timedelta(hours=30)
    pushed = [{"card_id": 1, "ts": now, "spend_10m": 9.0}]
    assert features.push_features("card_spend_10m", pushed) == 1
    fresh = features.get_online_features([{"card_id": 1}], ["card_spend_10m:spend_10m"], now=now)
    assert fresh.column("spend_10m").to_pylist() == [9.0]
    assert features.feature_skew("card_stats").ok


def test_rest_errors_are_4xx_with_messages(server: str, tmp_path: Path) -> None:
    shipyard.ingest_dataset(_events(), name="card_events")
    path = tmp_path / "features.yaml"
    path.write_text(DEFINITIONS)
    features.apply_features(path)
    with httpx.Client(base_url=server) as http:
        bad = http.post(
            "/api/v1/features/online", json={"entities": [{"card_id": 1}], "features": ["nope:x"]}
        )
        assert bad.status_code == 404 and "unknown feature view 'nope'" in bad.text
        both = http.post(
            "/api/v1/features/online",
            json={"entities": [], "features": ["card_stats:avg_amount"], "service": "fraud"},
        )
        assert both.status_code == 400 and "exactly one" in both.text
        missing = http.post(
            "/api/v1/features/push", json={"view": "card_spend_10m", "rows": [{"card_id": 1}]}
        )
        assert missing.status_code == 400 and "spend_10m" in missing.text
        shape = http.post(
            "/api/v1/features/definitions",
            json={
                "definitions": [{"kind": "view", "name": "v", "spec": {}, "spec_hash": "0" * 64}]
            },
        )
        assert shape.status_code == 400 and "needs entities" in shape.text
        kind = http.get("/api/v1/features/definitions?kind=table")
        assert kind.status_code == 400 and "not one of" in kind.text
        ok = http.post(
            "/api/v1/features/online",
            json={"entities": [{"card_id": 1, "amount": 3.0}], "service": "fraud"},
        )
        assert ok.status_code == 200 and ok.json()["rows"][0]["card_stats__status"] in (
            "missing",
            "expired",
        )
        assert http.get("/api/v1/features/materializations/card_stats").json() is None
        listed = http.get("/api/v1/features/definitions").json()["definitions"]
        assert {d["name"] for d in listed} == {"card", "card_stats", "card_spend_10m", "fraud"}
