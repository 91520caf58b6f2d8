"""A real server on 127.0.0.1 over a temporary SQLite store, and a raw HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from shipyard.client import Services, connect_local
from shipyard.config import Settings, load_settings


@dataclass
class Served:
    """A running server: its app, base URL and the services behind it."""

    app: FastAPI
    url: str
    services: Services


def store_settings(home: Path, **overrides: str) -> Settings:
    """Settings of a store under ``home``, independent of the environment."""
    return load_settings({"SHIPYARD_HOME": str(home)}, cwd=home, **overrides)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    from shipyard.server.app import create_app
    from shipyard.server.testing import serve_in_thread

    services = connect_local(store_settings(tmp_path / "store"))
    app = create_app(services=services)
    with serve_in_thread(app) as url:
        yield Served(app, url, services)
    services.close()


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        yield client
