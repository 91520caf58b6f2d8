"""Fixtures for the online stores: a SQLite file per test, a Redis key prefix per test.

Redis must be reachable on 127.0.0.1:6379 (``SHIPYARD_TEST_REDIS_URL`` overrides). When it is
not, tests that need it fail (never skip) and print the command that starts it. Each test gets
its own key prefix; every key under it is deleted afterwards, so the machine's server is shared
safely with other sessions and test runs.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shipyard.features.online import OnlineStore, online_store_from_url

REDIS_URL = os.environ.get("SHIPYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_START = "redis-server --daemonize yes"


def redis_keys(prefix: str) -> list[bytes]:
    """Every key under ``prefix`` on the test server."""
    import redis

    from shipyard.features.online.redis import glob_escape

    client = redis.Redis.from_url(REDIS_URL)
    try:
        return list(client.scan_iter(match=glob_escape(prefix) + "*", count=1000))
    finally:
        client.close()


def _delete_prefix(prefix: str) -> None:
    import redis

    keys = redis_keys(prefix)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for start in range(0, len(keys), 1000):
            client.unlink(*keys[start : start + 1000])
    finally:
        client.close()


def _require_redis() -> None:
    parts = urlsplit(REDIS_URL)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError:
        pytest.fail(f"Redis is not reachable on {host}:{port}. Start it with: {REDIS_START}")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh key prefix on the test Redis; its keys are deleted after the test."""
    _require_redis()
    prefix = f"shipyard-test-{uuid.uuid4().hex[:12]}:"
    try:
        yield prefix
    finally:
        _delete_prefix(prefix)


@pytest.fixture
def redis_online_url(redis_prefix: str) -> str:
    return f"{REDIS_URL}?prefix={redis_prefix}"


@pytest.fixture
def sqlite_online_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'online.db'}"


@pytest.fixture(params=["sqlite", "redis"])
def online_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on Redis."""
    return str(request.getfixturevalue(f"{request.param}_online_url"))


@pytest.fixture
def store(online_url: str) -> Iterator[OnlineStore]:
    online = online_store_from_url(online_url)
    try:
        yield online
    finally:
        online.close()
