"""A real server on 127.0.0.1 over a temporary SQLite store, and HTTP services talking to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shipyard.client import Services, connect_local
from shipyard.config import Settings, load_settings


def store_settings(home: Path, **overrides: str) -> Settings:
    """Settings of a store under ``home``, independent of the environment."""
    return load_settings({"SHIPYARD_HOME": str(home)}, cwd=home, **overrides)


@dataclass
class Remote:
    """HTTP services, the server's URL, and the local services behind the server."""

    services: Services
    url: str
    backing: Services


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    from shipyard.client.http import connect_http
    from shipyard.server.app import create_app
    from shipyard.server.testing import serve_in_thread

    backing = connect_local(store_settings(tmp_path / "server"))
    with serve_in_thread(create_app(services=backing)) as url:
        services = connect_http(store_settings(tmp_path / "client", tracking_uri=url))
        yield Remote(services, url, backing)
        services.close()
    backing.close()
