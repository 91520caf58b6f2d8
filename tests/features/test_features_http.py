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


def _applied(tmp_path: Path) -> None:
    shipyard.ingest_dataset(_events(), name="card_events")
    path = tmp_path / "features.yaml"
    path.write_text(DEFINITIONS)
    features.apply_features(path)
    features.materialize_features(["card_stats"])


def test_online_lookup_takes_the_short_way_with_the_servers_errors_and_metrics(
    server: str, tmp_path: Path
) -> None:
    """POST /api/v1/features/online is answered outside FastAPI's stack: the same body, the
    same error shapes (400 naming the field, 413 past the limit), counted in /metrics."""
    _applied(tmp_path)
    now = (T0 + timedelta(hours=35)).isoformat()
    wanted = ["card_stats:avg_amount", "card_stats:country"]
    with httpx.Client(base_url=server) as http:
        ok = http.post(
            "/api/v1/features/online",
            json={"entities": [{"card_id": 1}, {"card_id": 9}], "features": wanted, "now": now},
        )
        assert ok.status_code == 200 and ok.headers["content-type"] == "application/json"
        rows = ok.json()["rows"]
        assert [r["card_stats__status"] for r in rows] == ["present", "missing"]
        assert rows[0]["card_id"] == 1 and rows[0]["avg_amount"] == 20.0
        assert rows[0]["card_stats__event_timestamp"].startswith("2026-01-02T06:00:00")
        assert rows[1]["avg_amount"] is None
        broken = http.post(
            "/api/v1/features/online",
            content=b'{"entities": [', headers={"content-type": "application/json"},
        )  # fmt: skip
        assert broken.status_code == 400
        assert broken.json()["error"]["code"] == "INVALID_ARGUMENT"
        assert "not valid JSON" in broken.json()["error"]["message"]
        typed = http.post("/api/v1/features/online", json={"entities": 3, "features": wanted})
        assert typed.status_code == 400
        assert typed.json()["error"]["message"].startswith("body.entities:")
        extra = http.post("/api/v1/features/online", json={"entities": [], "feature": wanted})
        assert extra.status_code == 400 and "body.feature:" in extra.text
        huge = http.post(
            "/api/v1/features/online",
            content=b" " * (16 * 1024 * 1024 + 1), headers={"content-type": "application/json"},
        )  # fmt: skip
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        unknown = http.post(
            "/api/v1/features/online", json={"entities": [{"card_id": 1}], "service": "nope"}
        )
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
        metrics = http.get("/metrics").text
    route = 'method="POST",route="/api/v1/features/online"'
    assert f'shipyard_http_requests_total{{{route},status="200"}} 1.0' in metrics
    assert f'shipyard_http_requests_total{{{route},status="400"}} 3.0' in metrics
    assert f'shipyard_http_requests_total{{{route},status="413"}} 1.0' in metrics
    assert f'shipyard_http_requests_total{{{route},status="404"}} 1.0' in metrics


def test_a_large_online_lookup_runs_off_the_event_loop_with_the_same_answer(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from shipyard.server import online

    _applied(tmp_path)
    threads: list[str] = []
    real = online.online_rows

    def spy(services: object, request: object) -> list[dict[str, object]]:
        threads.append(threading.current_thread().name)
        return real(services, request)  # type: ignore[arg-type]

    monkeypatch.setattr(online, "online_rows", spy)
    body = {"features": ["card_stats:txn_count"], "now": (T0 + timedelta(hours=35)).isoformat()}
    with httpx.Client(base_url=server) as http:
        small = http.post("/api/v1/features/online", json={**body, "entities": [{"card_id": 1}]})
        keys = [{"card_id": i % 3} for i in range(online.INLINE_ENTITIES + 1)]
        large = http.post("/api/v1/features/online", json={**body, "entities": keys})
    assert small.status_code == 200 and large.status_code == 200
    counts = [r["txn_count"] for r in large.json()["rows"]]
    assert counts[0] is None and counts[1] == small.json()["rows"][0]["txn_count"] == 3
    assert len(counts) == online.INLINE_ENTITIES + 1
    loop_thread, pool_thread = threads
    assert loop_thread != pool_thread


def test_the_fastapi_route_documents_the_lookup_and_answers_the_same(tmp_path: Path) -> None:
    """The short way answers on the team server; the route stays for OpenAPI and for an app
    that mounts the features router without it, and gives the same rows."""
    from fastapi import FastAPI

    from shipyard.server.errors import install_error_handlers
    from shipyard.server.routers import features as features_router

    services = connect_local(store_settings(tmp_path / "server"))
    full = create_app(services=services)
    assert "/api/v1/features/online" in full.openapi()["paths"]
    plain = FastAPI()
    plain.state.services = services
    plain.include_router(features_router.router)
    install_error_handlers(plain)
    body = {
        "entities": [{"card_id": 1}, {"card_id": 9}],
        "features": ["card_stats:avg_amount"],
        "now": (T0 + timedelta(hours=35)).isoformat(),
    }
    with serve_in_thread(full) as short_url, serve_in_thread(plain) as route_url:
        shipyard.configure(tracking_uri=short_url)  # set up through the server's stores
        _applied(tmp_path)
        short = httpx.post(f"{short_url}/api/v1/features/online", json=body).json()
        routed = httpx.post(f"{route_url}/api/v1/features/online", json=body).json()
        bad = httpx.post(f"{route_url}/api/v1/features/online", json={**body, "service": "x"})
    assert routed == short and [r["avg_amount"] for r in routed["rows"]] == [20.0, None]
    assert bad.status_code == 400 and "exactly one" in bad.text
    features.close_feature_store(services)
    services.close()
