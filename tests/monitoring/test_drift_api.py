"""``POST /api/v1/drift`` over real HTTP, and ``shipyard.compute_drift`` against a team server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import shipyard
from shipyard.client import Services, connect_local
from shipyard.config import load_settings
from shipyard.data.datasets import DatasetStore


def _tables() -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(0)
    n = 2_000
    ref = pd.DataFrame(
        {"monthly": rng.normal(65, 15, n), "plan": rng.choice(["a", "b"], n, p=[0.5, 0.5])}
    )
    cur = pd.DataFrame(
        {"monthly": rng.normal(85, 15, n), "plan": rng.choice(["a", "b"], n, p=[0.5, 0.5])}
    )
    return pa.Table.from_pandas(ref), pa.Table.from_pandas(cur)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Services, list[str]]]:
    """A real server on 127.0.0.1 with two versions of dataset ``customers``."""
    from shipyard.server.app import create_app
    from shipyard.server.testing import serve_in_thread

    home = tmp_path / "server"
    services = connect_local(load_settings({"SHIPYARD_HOME": str(home)}, cwd=home))
    store = DatasetStore(services.datasets, services.artifacts)
    refs = [store.ingest(t, name="customers").version.ref for t in _tables()]
    with serve_in_thread(create_app(services=services)) as url:
        yield url, services, refs
    services.close()


def test_drift_over_rest_as_json_and_html(server: tuple[str, Services, list[str]]) -> None:
    url, _, (old, new) = server
    with httpx.Client(base_url=url, timeout=30) as http:
        body = {"reference": old, "current": new, "thresholds": {"plan": 0.5}}
        response = http.post("/api/v1/drift", json=body)
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["drifted_columns"] == ["monthly"]
        assert data["reference"] == old and data["n_cur_rows"] == 2_000
        assert {c["column"]: c["threshold"] for c in data["columns"]}["plan"] == 0.5
        page = http.post("/api/v1/drift", params={"format": "html"}, json=body)
        assert page.headers["content-type"].startswith("text/html")
        assert "<svg" in page.text and "<script" not in page.text


def test_bad_requests_get_4xx(server: tuple[str, Services, list[str]]) -> None:
    url, _, (old, _new) = server
    with httpx.Client(base_url=url, timeout=30) as http:
        missing = http.post("/api/v1/drift", json={"reference": old, "current": "nope@1234"})
        assert missing.status_code == 404, missing.text
        bad = http.post(
            "/api/v1/drift", json={"reference": old, "current": old, "config": {"alpha": 3}}
        )
        assert bad.status_code == 400 and "alpha" in bad.json()["error"]["message"]
        cols = http.post(
            "/api/v1/drift", json={"reference": old, "current": old, "columns": ["zzz"]}
        )
        assert cols.status_code == 400 and "zzz" in cols.json()["error"]["message"]
        typo = http.post(
            "/api/v1/drift", json={"reference": old, "current": old, "thresholds": {"zzz": 0.2}}
        )
        assert typo.status_code == 400 and "zzz" in typo.json()["error"]["message"]
        extra = http.post("/api/v1/drift", json={"reference": old, "current": old, "x": 1})
        assert extra.status_code in (400, 422)


def test_sdk_against_a_server_url(
    server: tuple[str, Services, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, (old, new) = server
    monkeypatch.setenv("SHIPYARD_TRACKING_URI", url)
    report = shipyard.compute_drift(old, new, config={"drift_share": 0.4})
    assert report.drifted_columns == ("monthly",) and report.dataset_drift
