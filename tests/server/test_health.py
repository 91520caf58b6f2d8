"""``/health/ready`` follows the metadata database: 200 while it answers, 503 once it is gone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shipyard.client import connect_local
from shipyard.server.app import create_app
from shipyard.server.testing import serve_in_thread
from tests.conftest import create_pg_database, drop_pg_database
from tests.server.conftest import store_settings


@pytest.fixture
def doomed_pg_url() -> Iterator[str]:
    """A PostgreSQL database of its own, which the test may drop."""
    url = create_pg_database("shipyard_doomed")
    try:
        yield url
    finally:
        drop_pg_database(url)


def test_ready_turns_503_when_the_database_goes_away(tmp_path: Path, doomed_pg_url: str) -> None:
    services = connect_local(store_settings(tmp_path, tracking_uri=doomed_pg_url))
    with serve_in_thread(create_app(services=services)) as url:
        assert httpx.get(f"{url}/health/ready").json() == {"status": "ok", "detail": ""}
        name = doomed_pg_url.rsplit("/", 1)[1]
        drop_pg_database(doomed_pg_url)
        response = httpx.get(f"{url}/health/ready")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable" and name in response.json()["detail"]
        assert httpx.get(f"{url}/health/live").status_code == 200
    services.close()


def test_ready_is_503_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the database folder should be")
    bad = f"sqlite:///{tmp_path / 'taken' / 'meta.db'}"
    services = connect_local(store_settings(tmp_path, tracking_uri=bad))
    with serve_in_thread(create_app(services=services)) as url:
        response = httpx.get(f"{url}/health/ready")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
