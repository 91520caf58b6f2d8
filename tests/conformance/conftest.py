"""The ``services`` fixture: every conformance test runs on SQLite, PostgreSQL and HTTP.

* ``sqlite`` — :func:`~shipyard.client.connect_local` on a temporary database file;
* ``postgresql`` — the same on this session's PostgreSQL database (emptied after each test);
* ``http`` — :func:`~shipyard.client.http.connect_http` to a real uvicorn server on
  127.0.0.1. One server runs per test module; each test swaps in a fresh SQLite store behind
  it, so every test starts as empty as on the other two backends.

Each backend also gets its own temporary artifact folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from shipyard.client import Services, connect_local
from shipyard.config import Settings, load_settings
from shipyard.store import Database


def local_settings(home: Path, **overrides: str) -> Settings:
    """Settings for a store under ``home``, untouched by the environment and shipyard.yaml."""
    return load_settings({"SHIPYARD_HOME": str(home)}, cwd=home, **overrides)


def close_local(services: Services) -> None:
    """Release the database connections of local services."""
    services.close()
    db = getattr(services.tracking, "db", None)
    if isinstance(db, Database):
        db.dispose()


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    """A real uvicorn server for this module: ``(app, base URL)``."""
    from shipyard.server.app import create_app
    from shipyard.server.testing import serve_in_thread

    backing = connect_local(local_settings(tmp_path_factory.mktemp("server")))
    app = create_app(services=backing)
    with serve_in_thread(app) as url:
        yield app, url
    close_local(app.state.services)


@pytest.fixture(params=["sqlite", "postgresql", "http"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """The services of one backend, empty at the start of the test."""
    home = tmp_path / "store"
    if request.param == "http":
        yield from _http_services(request, home, tmp_path / "client")
        return
    overrides = {}
    if request.param == "postgresql":
        overrides["tracking_uri"] = str(request.getfixturevalue("pg_url"))
    local = connect_local(local_settings(home, **overrides))
    yield local
    close_local(local)


def _http_services(
    request: pytest.FixtureRequest, home: Path, client_home: Path
) -> Iterator[Services]:
    from shipyard.client.http import connect_http

    app, url = request.getfixturevalue("http_server")
    previous: Services = app.state.services
    app.state.services = connect_local(local_settings(home))
    remote = connect_http(local_settings(client_home, tracking_uri=url))
    try:
        yield remote
    finally:
        remote.close()
        close_local(app.state.services)
        app.state.services = previous
