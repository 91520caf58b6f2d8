"""Online feature stores: the latest feature values per entity, for serving-time lookups.

One small protocol (:class:`OnlineStore`) and one backend per URL scheme:
``sqlite:///path/online.db`` (embedded default) and ``redis://host:6379/0[?prefix=shipyard:]``.

>>> store = online_store_from_url("sqlite:////tmp/shipyard-doctest/online.db")
>>> type(store).__name__
'SqliteOnlineStore'
"""

from __future__ import annotations

from shipyard.errors import ConfigError
from shipyard.features.online.base import EVENT_TIMESTAMP, OnlineStore, statuses


def online_store_from_url(url: str) -> OnlineStore:
    """The online store for ``url`` (``sqlite:///…`` or ``redis://``/``rediss://``/``unix://``).

    Cheap: nothing connects until the first read or write. Backends are imported on demand.
    Raises ConfigError for any other scheme.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        from shipyard.features.online.sqlite import SqliteOnlineStore

        return SqliteOnlineStore(url)
    if scheme in ("redis", "rediss", "unix"):
        from shipyard.features.online.redis import RedisOnlineStore

        return RedisOnlineStore(url)
    raise ConfigError(
        f"online store URL {url!r} is not supported; use sqlite:///path/online.db or "
        "redis://host:6379/0 (SHIPYARD_ONLINE_STORE_URI)"
    )


__all__ = ["EVENT_TIMESTAMP", "OnlineStore", "online_store_from_url", "statuses"]
