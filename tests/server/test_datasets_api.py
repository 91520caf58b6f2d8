"""``/api/v1/datasets`` over real HTTP: statuses and error bodies a raw client sees."""

from __future__ import annotations

import hashlib

import httpx
import pyarrow as pa

from shipyard.data.datasets import DatasetStore
from tests.server.conftest import Served


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    return str(response.json()["error"]["message"])


def _body(version: str) -> dict[str, object]:
    return {
        "version": version,
        "num_rows": 1,
        "num_bytes": 3,
        "schema": {"a": "int64"},
        "profile": {},
        "source": {"type": "table"},
    }


def test_versions_round_trip_over_rest(served: Served, http: httpx.Client) -> None:
    store = DatasetStore(served.services.datasets, served.services.artifacts)
    v = store.ingest(pa.table({"a": [1, 2, 3]}), name="nums").version
    listed = http.get("/api/v1/datasets").json()["datasets"]
    assert [(d["name"], d["num_versions"], d["latest"]["version"]) for d in listed] == [
        ("nums", 1, v.version)
    ]
    got = http.get(f"/api/v1/datasets/nums/versions/{v.version[:8]}").json()
    assert got["schema"] == {"a": "int64"} and got["profile"]["num_rows"] == 3
    assert http.get("/api/v1/datasets/nums/versions/%231").json()["version"] == v.version
    assert http.get("/api/v1/datasets/nums/versions/latest").json()["seq"] == 1
    data = http.get(f"/api/v1/datasets/nums/versions/{v.version}/artifacts/data.parquet")
    assert hashlib.sha256(data.content).hexdigest() == v.version
    again = http.post(
        "/api/v1/datasets/nums/versions",
        json=_body(v.version) | {"num_rows": 3, "num_bytes": v.num_bytes},
    )
    assert again.status_code == 200 and again.json()["created"] is False
    assert http.delete(f"/api/v1/datasets/nums/versions/{v.version}").status_code == 204
    assert http.get("/api/v1/datasets/nums/versions").json()["versions"] == []


def test_bad_requests_get_4xx_with_a_message(http: httpx.Client) -> None:
    assert "no dataset 'nope'" in _error(
        http.get("/api/v1/datasets/nope/versions"), 404, "NOT_FOUND"
    )
    missing = "b" * 64
    message = _error(
        http.post("/api/v1/datasets/d/versions", json=_body(missing)), 404, "NOT_FOUND"
    )
    assert "upload data.parquet" in message
    message = _error(
        http.post("/api/v1/datasets/d/versions", json=_body("xyz")), 400, "INVALID_ARGUMENT"
    )
    assert "SHA-256" in message
    body = _body(missing) | {"num_rows": -1}
    assert "num_rows" in _error(
        http.post("/api/v1/datasets/d/versions", json=body), 400, "INVALID_ARGUMENT"
    )
    bad_name = http.post("/api/v1/datasets/bad%20name/versions", json=_body(missing))
    assert "dataset name" in _error(bad_name, 400, "INVALID_ARGUMENT")
    extra = _body(missing) | {"surprise": 1}
    assert http.post("/api/v1/datasets/d/versions", json=extra).status_code in (400, 422)
    assert http.get("/api/v1/datasets").json() == {"datasets": []}
